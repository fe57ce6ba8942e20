//! Randomised-schedule tests of the multi-thread scheduler's park, steal and shutdown
//! protocol, under [shuttle](https://docs.rs/shuttle)'s PCT and random schedulers: whole
//! scenarios (three workers, sixteen tasks that spawn, a run queue that overflows) that
//! loom's exhaustive search cannot finish. Run:
//! `RUSTFLAGS="--cfg loom --cfg zokio_shuttle" CARGO_TARGET_DIR=target/shuttle
//! cargo test -p zokio --release --lib shuttle_`.
//!
//! The worker loop is `worker.rs`'s reduced to its synchronisation, over the real run
//! queue (`queue.rs`, 4 slots under this cfg, so pushes overflow), the real idle
//! accounting (`idle.rs`) and the real parker (`driver/park.rs`); what a task does is
//! record that it ran and, for the first ones, spawn three more onto its worker's queue.

use super::idle::Idle;
use super::queue::{self, Overflow};
use crate::driver::{ParkThread, UnparkThread};
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Arc, Mutex};
use shuttle::thread;
use std::collections::VecDeque;

const WORKERS: usize = 3;
/// Tasks spawned from outside (through the injector); each spawns `CHILDREN` when it runs.
const PARENTS: usize = 4;
const CHILDREN: usize = 3;
const TOTAL: usize = PARENTS * (1 + CHILDREN);

/// The injector: tasks spawned from outside, and the local queues' overflow.
#[derive(Default)]
struct Injector(Mutex<VecDeque<usize>>);

impl Overflow<usize> for Injector {
    fn push(&self, task: usize) {
        lock(&self.0).push_back(task);
    }

    fn push_batch(&self, tasks: impl Iterator<Item = usize>) {
        lock(&self.0).extend(tasks);
    }
}

struct Sched {
    idle: Idle,
    injector: Injector,
    steal: Vec<queue::Steal<usize>>,
    unparkers: Vec<UnparkThread>,
    /// How many times each task ran.
    ran: Vec<AtomicUsize>,
    /// Tasks spawned so far (parents and children).
    spawned: AtomicUsize,
    done: AtomicUsize,
    shutdown: AtomicBool,
    /// Wakes the test's main thread when the last task has run.
    all_done: UnparkThread,
}

impl Sched {
    fn notify(&self) {
        if let Some(w) = self.idle.worker_to_notify() {
            self.unparkers[w].unpark();
        }
    }

    fn has_work(&self) -> bool {
        !lock(&self.injector.0).is_empty() || self.steal.iter().any(|s| !s.is_empty())
    }

    /// Runs `task` on worker `local`'s thread.
    fn run(&self, task: usize, local: &mut queue::Local<usize>) {
        let before = self.ran[task].fetch_add(1, SeqCst);
        assert_eq!(before, 0, "task {task} ran twice");
        if task < PARENTS {
            for c in 0..CHILDREN {
                self.spawned.fetch_add(1, SeqCst);
                local.push_back_or_overflow(PARENTS + task * CHILDREN + c, &self.injector);
                // As a worker that queues work while others sleep.
                self.notify();
            }
        }
        if self.done.fetch_add(1, SeqCst) + 1 == TOTAL {
            self.all_done.unpark();
        }
    }

    /// One worker: its own queue first, then the injector, then (searching) the others'
    /// queues; park when nothing is found; leave on shutdown. Returns its queue for the
    /// final count.
    fn worker(
        &self,
        index: usize,
        mut local: queue::Local<usize>,
        mut park: ParkThread,
    ) -> queue::Local<usize> {
        let mut is_searching = false;
        'work: loop {
            if self.shutdown.load(SeqCst) {
                if is_searching {
                    self.idle.transition_worker_from_searching();
                }
                return local;
            }
            let found = local.pop().or_else(|| lock(&self.injector.0).pop_front());
            if let Some(task) = found {
                if is_searching {
                    is_searching = false;
                    if self.idle.transition_worker_from_searching() {
                        self.notify();
                    }
                }
                self.run(task, &mut local);
                continue;
            }
            if !is_searching {
                is_searching = self.idle.transition_worker_to_searching();
            }
            if is_searching {
                for k in 1..WORKERS {
                    let victim = (index + k) % WORKERS;
                    if let Some((task, _)) = self.steal[victim].steal_into(&mut local) {
                        is_searching = false;
                        if self.idle.transition_worker_from_searching() {
                            self.notify();
                        }
                        self.run(task, &mut local);
                        continue 'work;
                    }
                }
            }
            // Park; the last searcher to park looks once more and wakes a worker for
            // what it sees.
            if self.idle.transition_worker_to_parked(index, is_searching) && self.has_work() {
                self.notify();
            }
            loop {
                park.park();
                if self.shutdown.load(SeqCst) {
                    // Leave the sleepers list; if a notify took us out, it counted us as
                    // searching.
                    if !self.idle.unpark_worker_by_id(index) {
                        self.idle.transition_worker_from_searching();
                    }
                    return local;
                }
                if !self.idle.is_parked(index) {
                    is_searching = true;
                    continue 'work;
                }
            }
        }
    }
}

/// Spawns the parents from outside, then shuts down: after every task ran (`early`:
/// false) or at once (`early`: true). Every worker must exit; every task runs at most once;
/// with a late shutdown every task ran, with an early one every task spawned either ran or
/// is still queued; the idle accounting ends balanced.
fn scenario(early: bool) {
    let mut main_park = ParkThread::new();
    let parks: Vec<ParkThread> = (0..WORKERS).map(|_| ParkThread::new()).collect();
    let (steal, locals): (Vec<_>, Vec<_>) = (0..WORKERS).map(|_| queue::local::<usize>()).unzip();
    let sched = Arc::new(Sched {
        idle: Idle::new(WORKERS),
        injector: Injector::default(),
        steal,
        unparkers: parks.iter().map(ParkThread::unparker).collect(),
        ran: (0..TOTAL).map(|_| AtomicUsize::new(0)).collect(),
        spawned: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        shutdown: AtomicBool::new(false),
        all_done: main_park.unparker(),
    });
    let workers: Vec<_> = locals
        .into_iter()
        .zip(parks)
        .enumerate()
        .map(|(i, (local, park))| {
            let sched = sched.clone();
            thread::spawn(move || sched.worker(i, local, park))
        })
        .collect();
    for task in 0..PARENTS {
        sched.spawned.fetch_add(1, SeqCst);
        sched.injector.push(task);
        sched.notify();
    }
    if !early {
        // A lost wake-up leaves this wait, and every worker, asleep: shuttle reports the
        // deadlock.
        while sched.done.load(SeqCst) < TOTAL {
            main_park.park();
        }
    }
    sched.shutdown.store(true, SeqCst);
    for u in &sched.unparkers {
        u.unpark();
    }
    let mut queued = 0;
    for w in workers {
        let mut local = w.join().unwrap();
        queued += std::iter::from_fn(|| local.pop()).count();
    }
    // After the joins: a worker may take from the injector until it sees the shutdown.
    queued += lock(&sched.injector.0).len();
    let ran = sched.ran.iter().filter(|r| r.load(SeqCst) == 1).count();
    let spawned = sched.spawned.load(SeqCst);
    assert_eq!(ran + queued, spawned, "ran {ran}, queued {queued}");
    if !early {
        assert_eq!(ran, TOTAL);
    }
    assert_eq!(sched.idle.counts(), (0, WORKERS), "idle accounting leaked");
}

/// PCT (depth 3) finds the bugs that need a few ordered preemptions; random schedules
/// cover the rest broadly. 20,000 of each: a few seconds here.
fn check(f: fn()) {
    shuttle::check_pct(f, 20_000, 3);
    shuttle::check_random(f, 20_000);
}

#[test]
fn shuttle_scheduler_runs_every_task_once_and_parks_without_losing_a_wakeup() {
    check(|| scenario(false));
}

#[test]
fn shuttle_scheduler_shutdown_with_work_queued_stops_every_worker() {
    check(|| scenario(true));
}
