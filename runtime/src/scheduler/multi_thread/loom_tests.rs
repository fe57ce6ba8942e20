//! Loom models of the run queue and the idle/park protocol.
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p zokio --release --lib loom_`

use super::idle::Idle;
use super::queue::{self, Overflow};
use crate::driver::{ParkThread, UnparkThread};
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Arc, Mutex};
use loom::thread;

#[derive(Default)]
struct VecOverflow(Mutex<Vec<usize>>);

impl Overflow<usize> for VecOverflow {
    fn push(&self, item: usize) {
        lock(&self.0).push(item);
    }

    fn push_batch(&self, items: impl Iterator<Item = usize>) {
        lock(&self.0).extend(items);
    }
}

fn drain(q: &mut queue::Local<usize>) -> usize {
    std::iter::from_fn(|| q.pop()).count()
}

/// The owner pushes (through overflow: capacity is 4 under loom) and pops while one thief
/// steals: every item is seen exactly once, nowhere twice.
#[test]
fn loom_queue_push_pop_steal_conserves_items() {
    loom::model(|| {
        let overflow = Arc::new(VecOverflow::default());
        let (steal, mut owner) = queue::local::<usize>();
        let thief = thread::spawn(move || {
            let (_s, mut mine) = queue::local::<usize>();
            match steal.steal_into(&mut mine) {
                Some((_, _)) => 1 + drain(&mut mine),
                None => 0,
            }
        });
        let mut seen = 0;
        for i in 0..3 {
            owner.push_back_or_overflow(i, &*overflow);
        }
        seen += usize::from(owner.pop().is_some());
        for i in 3..6 {
            owner.push_back_or_overflow(i, &*overflow);
        }
        seen += drain(&mut owner);
        seen += thief.join().unwrap();
        seen += lock(&overflow.0).len();
        assert_eq!(seen, 6);
    });
}

/// Two thieves race on one victim while the owner pops.
#[test]
fn loom_queue_two_thieves() {
    loom::model(|| {
        let overflow = VecOverflow::default();
        let (steal, mut owner) = queue::local::<usize>();
        for i in 0..4 {
            owner.push_back_or_overflow(i, &overflow);
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                thread::spawn(move || {
                    let (_s, mut mine) = queue::local::<usize>();
                    match steal.steal_into(&mut mine) {
                        Some(_) => 1 + drain(&mut mine),
                        None => 0,
                    }
                })
            })
            .collect();
        let mut seen = usize::from(owner.pop().is_some());
        for t in thieves {
            seen += t.join().unwrap();
        }
        seen += drain(&mut owner);
        assert_eq!(seen + lock(&overflow.0).len(), 4);
    });
}

fn take(queue: &AtomicUsize) -> bool {
    let mut n = queue.load(SeqCst);
    while n > 0 {
        match queue.compare_exchange(n, n - 1, SeqCst, SeqCst) {
            Ok(_) => return true,
            Err(actual) => n = actual,
        }
    }
    false
}

/// The worker loop of `worker.rs`, reduced to its synchronisation: take work (the real
/// worker's local queue, steal and injector, here one counter); stop searching on success
/// and, as the last searcher, wake another worker; otherwise try to become a searcher and
/// look again, else park as in `transition_to_parked` (the last searcher re-checks), and
/// treat a wake-up while still listed as parked as spurious. The worker that runs the last
/// of `total` tasks, and the producer when done, unpark everyone so that the model ends; a
/// lost wake-up leaves a worker parked with work pending, which loom reports as a deadlock.
struct Model {
    idle: Idle,
    queue: AtomicUsize,
    done: AtomicUsize,
    total: usize,
    /// Set by the producer after its last push and notify; workers exit only after it, so
    /// every notification lands on a live worker, as in a runtime that keeps running.
    producer_done: AtomicBool,
    unparkers: Vec<UnparkThread>,
}

impl Model {
    fn notify(&self) {
        if let Some(w) = self.idle.worker_to_notify() {
            self.unparkers[w].unpark();
        }
    }

    fn push(&self) {
        self.queue.fetch_add(1, SeqCst);
        self.notify();
    }

    fn finished(&self) -> bool {
        self.producer_done.load(SeqCst) && self.done.load(SeqCst) == self.total
    }

    fn unpark_all(&self) {
        for u in &self.unparkers {
            u.unpark();
        }
    }

    fn worker(&self, index: usize, park: &mut ParkThread) {
        let mut is_searching = false;
        loop {
            if take(&self.queue) {
                if is_searching {
                    is_searching = false;
                    if self.idle.transition_worker_from_searching() {
                        self.notify();
                    }
                }
                if self.done.fetch_add(1, SeqCst) + 1 == self.total {
                    self.unpark_all();
                }
                continue;
            }
            if self.finished() {
                // A real worker would keep searching, then park, releasing the count.
                if is_searching {
                    self.idle.transition_worker_from_searching();
                }
                return;
            }
            if !is_searching {
                is_searching = self.idle.transition_worker_to_searching();
                if is_searching {
                    continue; // Look once more as a searcher.
                }
            }
            if self.idle.transition_worker_to_parked(index, is_searching)
                && self.queue.load(SeqCst) > 0
            {
                self.notify();
            }
            loop {
                park.park();
                if self.finished() {
                    // Leave the sleepers list so no later notify targets a departed worker;
                    // if a notify already took us out, it counted us as searching.
                    if !self.idle.unpark_worker_by_id(index) {
                        self.idle.transition_worker_from_searching();
                    }
                    return;
                }
                if !self.idle.is_parked(index) {
                    is_searching = true;
                    break;
                }
            }
        }
    }
}

fn run_model(workers: usize, tasks: usize) {
    let parks: Vec<ParkThread> = (0..workers).map(|_| ParkThread::new()).collect();
    let model = Arc::new(Model {
        idle: Idle::new(workers),
        queue: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        total: tasks,
        producer_done: AtomicBool::new(false),
        unparkers: parks.iter().map(ParkThread::unparker).collect(),
    });
    let threads: Vec<_> = parks
        .into_iter()
        .enumerate()
        .map(|(i, mut park)| {
            let model = model.clone();
            thread::spawn(move || model.worker(i, &mut park))
        })
        .collect();
    for _ in 0..tasks {
        model.push();
    }
    model.producer_done.store(true, SeqCst);
    model.unpark_all();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(model.queue.load(SeqCst), 0);
    assert_eq!(model.done.load(SeqCst), tasks);
    assert_eq!(model.idle.counts(), (0, workers), "idle accounting leaked");
}

/// A task pushed from another thread while the only worker is going to sleep always runs.
#[test]
fn loom_park_no_lost_wakeup() {
    loom::model(|| run_model(1, 1));
}

/// Two workers, two remote tasks: both run, whatever the interleaving of search and park.
#[test]
fn loom_park_two_workers_two_tasks() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| run_model(2, 2));
}

/// Shutdown against a worker's maintenance pass (`worker.rs`: `maintenance`, `poll_driver`,
/// `park`): the worker reads the shutdown flag, then polls its driver without blocking,
/// which consumes a pending unpark, then runs out of work and parks. Shutdown sets the
/// flag, then unparks. If the unpark lands between the read and the poll, the poll spends
/// it, so the worker must read the flag again before parking; without that second read
/// (the bug the `rt_common` test `shutdown_racing_a_maintenance_driver_poll_does_not_hang`
/// found) loom reports the worker parked forever.
#[test]
fn loom_shutdown_unpark_spent_by_a_maintenance_poll() {
    loom::model(|| {
        let mut park = ParkThread::new();
        let unpark = park.unparker();
        let shutdown = Arc::new(AtomicBool::new(false));
        let flag = shutdown.clone();
        let handle = thread::spawn(move || {
            flag.store(true, SeqCst);
            unpark.unpark();
        });
        let mut is_shutdown = shutdown.load(SeqCst); // maintenance
        park.park_timeout(std::time::Duration::ZERO); // poll_driver
        is_shutdown |= shutdown.load(SeqCst);
        // park(): return at once on a shutdown seen, else sleep until unparked.
        while !is_shutdown {
            park.park();
            is_shutdown = shutdown.load(SeqCst);
        }
        handle.join().unwrap();
    });
}
