//! A worker thread: its `Core` and its run loop. See `mod.rs` for the scheduling rules.

use super::handle::{Handle, Remote, Shared, MAX_YIELD_WAKE_BACKOFF, SHORT_WAKE_POLLS};
use super::idle::Idle;
use super::queue::{self, Overflow};
use super::MAX_LIFO_POLLS_PER_TICK;
use crate::blocking;
use crate::driver::{self, SiblingLook};
use crate::loom::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
use crate::loom::{lock, Mutex};
use crate::runtime::config::Config;
use crate::runtime::context;
use crate::runtime::metrics::{Stats, WorkerMetrics};
use crate::scheduler::{self, inject::Inject};
use crate::task::list::OwnedTasks;
use crate::task::Notified;
use crate::util::thread_group::ThreadGroup;
use crate::util::FastRand;
use std::cell::{RefCell, RefMut};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Task = Notified<Arc<Handle>>;

/// What one worker owns; only its thread touches it.
pub(crate) struct Core {
    tick: u32,
    lifo_slot: Option<Task>,
    run_queue: queue::Local<Task>,
    /// Taken while the worker parks, so that wakes during the park see it is parked.
    driver: Option<driver::Driver>,
    is_searching: bool,
    is_shutdown: bool,
    rand: FastRand,
    stats: Stats,
    yield_wakes: YieldWakes,
    /// `tick` when this worker last polled its driver.
    driver_polled_at: u32,
}

/// A worker's side of the yield wake-up backoff (see `Shared::yield_wake_backoff`).
#[derive(Debug, Default)]
struct YieldWakes {
    /// Yield wake-ups still to skip before the next one is sent.
    to_skip: u32,
    /// The worker's poll count when a yield last woke it, until it parks again.
    woken_at: Option<u64>,
}

impl YieldWakes {
    /// Whether a yield may wake a sibling now: one in `2^backoff` may.
    fn due(&mut self, backoff: &AtomicU32) -> bool {
        if self.to_skip > 0 {
            self.to_skip -= 1;
            return false;
        }
        self.to_skip = (1u32 << backoff.load(Relaxed).min(MAX_YIELD_WAKE_BACKOFF)) - 1;
        true
    }

    /// A yield woke this worker; `polls` is its poll count now.
    fn woken(&mut self, polls: u64) {
        self.woken_at = Some(polls);
    }

    /// The worker parks after `polls` polls in all: if a yield woke it, the wake-up paid
    /// off if it ran [`SHORT_WAKE_POLLS`] or more since (the backoff drops to 0), else it
    /// was wasted (the backoff rises by one, up to [`MAX_YIELD_WAKE_BACKOFF`]).
    fn parking(&mut self, polls: u64, backoff: &AtomicU32) {
        let Some(at) = self.woken_at.take() else {
            return;
        };
        let b = backoff.load(Relaxed);
        if polls - at < SHORT_WAKE_POLLS {
            if b < MAX_YIELD_WAKE_BACKOFF {
                backoff.store(b + 1, Relaxed);
            }
        } else if b != 0 {
            backoff.store(0, Relaxed);
        }
    }
}

/// A worker thread's scheduler context, reachable from tasks it runs.
pub(crate) struct Context {
    pub(crate) handle: Arc<Handle>,
    pub(crate) index: usize,
    /// `None` once `block_in_place` has handed the core to another thread: this thread
    /// finishes the poll it is in, then exits.
    core: RefCell<Option<Box<Core>>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("index", &self.index)
            .finish()
    }
}

impl Overflow<Task> for Inject<Arc<Handle>> {
    fn push(&self, task: Task) {
        Inject::push(self, task);
    }

    fn push_batch(&self, tasks: impl Iterator<Item = Task>) {
        Inject::push_batch(self, tasks);
    }
}

/// Builds the shared state and starts `num_workers` worker threads.
///
/// # Errors
/// If the OS refuses to start a thread; the workers already started are shut down first.
pub(crate) fn launch(
    num_workers: usize,
    config: Config,
    blocking: blocking::Spawner,
) -> io::Result<Arc<Handle>> {
    let mut remotes = Vec::with_capacity(num_workers);
    let mut cores = Vec::with_capacity(num_workers);
    let clock = crate::time::Clock::new(false, config.start_paused)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let (drivers, driver_handle) =
        driver::build(num_workers, config.io_driver, config.io_uring, clock)?;
    for (i, driver) in drivers.into_iter().enumerate() {
        let (steal, run_queue) = queue::local();
        remotes.push(Remote {
            steal,
            unpark: driver.unparker(),
            woken_for_yield: AtomicBool::new(false),
        });
        cores.push(Box::new(Core {
            tick: 0,
            lifo_slot: None,
            run_queue,
            driver: Some(driver),
            is_searching: false,
            is_shutdown: false,
            rand: FastRand::new(seed(i)),
            stats: Stats::new(&config.metrics),
            yield_wakes: YieldWakes::default(),
            driver_polled_at: 0,
        }));
    }
    let handle = Arc::new(Handle {
        shared: Shared {
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            owned: OwnedTasks::new(num_workers * 4),
            worker_metrics: (0..num_workers)
                .map(|_| WorkerMetrics::new(&config.metrics))
                .collect(),
            schedule_epoch: config.metrics.schedule_latency.map(|_| Instant::now()),
            threads: Arc::new(ThreadGroup::default()),
            is_shutdown: AtomicBool::new(false),
            yield_wake_backoff: AtomicU32::new(0),
        },
        driver: driver_handle,
        blocking,
        config,
    });
    for (index, core) in cores.into_iter().enumerate() {
        if let Err(err) = spawn_worker(&handle, index, move || Some(core)) {
            handle.shutdown();
            handle.shared.threads.wait(None);
            handle.shared.owned.close_and_shutdown_all(0);
            return Err(err);
        }
    }
    Ok(handle)
}

/// Starts a worker thread that runs the core `take_core` gives it (none: the thread
/// exits at once), counted in the runtime's thread group.
///
/// # Errors
/// If the OS refuses to start the thread (it is then counted out again).
fn spawn_worker(
    handle: &Arc<Handle>,
    index: usize,
    take_core: impl FnOnce() -> Option<Box<Core>> + Send + 'static,
) -> io::Result<()> {
    let threads = handle.shared.threads.clone();
    threads.add();
    let worker_handle = handle.clone();
    let spawned = handle.config.thread_builder().spawn(move || {
        let _member = worker_handle.shared.threads.member();
        if let Some(cpus) = &worker_handle.config.worker_cpus {
            // Checked when the runtime was built; a CPU taken away since leaves the worker
            // where the kernel put it, and its metrics say unpinned.
            if crate::runtime::affinity::pin_current_thread(&[cpus[index]]).is_ok() {
                worker_handle.shared.worker_metrics[index].set_cpu(cpus[index]);
            }
        }
        let _hooks = worker_handle.config.hooks.enter();
        if let Some(core) = take_core() {
            run(worker_handle, index, core);
        }
    });
    match spawned {
        Ok(_) => Ok(()),
        Err(err) => {
            // The thread never ran, so count it out by hand.
            drop(threads.member());
            Err(err)
        }
    }
}

/// `task::block_in_place` (the public function documents the behaviour).
///
/// On a worker, the worker's core (its queues, driver and timer shard) goes to a new
/// worker thread, which goes on running the other tasks while `f` blocks this one. When
/// `f` returns, this thread takes the core back if the new thread has not started on it
/// yet; otherwise it finishes the current poll without a core and then exits. The same
/// hand-off as Tokio's, with one difference: Tokio's workers are blocking-pool threads
/// and the new one may be a pooled thread; here it is a new worker thread.
#[track_caller]
pub(crate) fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    let handoff = match hand_off_core() {
        Ok(Some(handoff)) => handoff,
        Ok(None) => return f(),
        Err(message) => panic!("{message}"),
    };
    /// Takes the core back on the way out (also on unwind), if it is still there.
    struct Reclaim(Option<Arc<Mutex<Option<Box<Core>>>>>);
    impl Drop for Reclaim {
        fn drop(&mut self) {
            let Some(slot) = &self.0 else { return };
            let core = lock(slot).take();
            if let Some(core) = core {
                context::with_scheduler(|cx| {
                    if let Some(scheduler::Context::MultiThread(cx)) = cx {
                        *cx.core.borrow_mut() = Some(core);
                    }
                });
            }
        }
    }
    let _reclaim = Reclaim(handoff);
    // The blocking section is not a poll: no budget applies to it.
    crate::coop::unconstrained(|| context::exit_runtime(f))
}

/// The non-generic part of [`block_in_place`]: `Ok(None)` to run `f` as it is (outside a
/// runtime, or already blocking in place), `Ok(Some(_))` to run it outside the runtime
/// context, with the core handed off if it holds one.
///
/// # Errors
/// Tokio's message, where blocking would stall the tasks this thread runs: the
/// current-thread scheduler's `block_on`, its tasks, a `LocalRuntime`.
#[allow(clippy::type_complexity)]
fn hand_off_core() -> Result<Option<Option<Arc<Mutex<Option<Box<Core>>>>>>, &'static str> {
    let allowed = match context::current_enter_context() {
        context::EnterRuntime::NotEntered => return Ok(None),
        context::EnterRuntime::Entered {
            allow_block_in_place,
        } => allow_block_in_place,
    };
    context::with_scheduler(|cx| {
        let Some(scheduler::Context::MultiThread(cx)) = cx else {
            // A `block_on` that runs no tasks may block; the current-thread scheduler may
            // not.
            return if allowed {
                Ok(Some(None))
            } else {
                Err("can call blocking only when running on the multi-threaded runtime")
            };
        };
        // Borrowed: dropped by the loop itself (a future's `Drop` at shutdown); blocking
        // there holds up only the shutdown.
        let Ok(mut slot) = cx.core.try_borrow_mut() else {
            return Ok(Some(None));
        };
        let Some(mut core) = slot.take() else {
            return Ok(Some(None));
        };
        if core.is_shutdown {
            *slot = Some(core);
            return Ok(Some(None));
        }
        // The LIFO slot cannot be stolen: queue its task where another worker can take it
        // while the new thread starts.
        if let Some(task) = core.lifo_slot.take() {
            let overflowed = core
                .run_queue
                .push_back_or_overflow(task, &cx.handle.shared.inject);
            core.stats.overflows += u64::from(overflowed);
        }
        let notify = core.should_notify_others();
        let handoff = Arc::new(Mutex::new(Some(core)));
        let theirs = handoff.clone();
        let spawned = spawn_worker(&cx.handle, cx.index, move || lock(&theirs).take());
        if spawned.is_err() {
            // No thread to take the core: keep it and block in place with it.
            *slot = lock(&handoff).take();
            return Ok(Some(None));
        }
        drop(slot);
        if notify {
            cx.handle.notify_parked();
        }
        Ok(Some(Some(handoff)))
    })
}

fn seed(index: usize) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(index)
}

/// The worker thread's body.
fn run(handle: Arc<Handle>, index: usize, core: Box<Core>) {
    crate::util::set_fine_timer_slack();
    let sched = scheduler::Handle::MultiThread(handle.clone());
    let _enter = context::enter_runtime(&sched, true);
    let cx = scheduler::Context::MultiThread(Context {
        handle,
        index,
        core: RefCell::new(Some(core)),
    });
    context::set_scheduler(&cx, || {
        let scheduler::Context::MultiThread(cx) = &cx else {
            unreachable!()
        };
        cx.run();
    });
}

impl Context {
    /// # Panics
    /// If `block_in_place` handed the core off: the run loop checks [`Self::has_core`]
    /// after every poll and never gets here without one.
    fn core(&self) -> RefMut<'_, Box<Core>> {
        RefMut::map(self.core.borrow_mut(), |core| {
            core.as_mut()
                .expect("worker core handed off by block_in_place")
        })
    }

    /// Whether this thread still runs the worker (see [`Context::core`](Self)); a core
    /// borrowed right now is in use by this thread, so it counts.
    fn has_core(&self) -> bool {
        self.core.try_borrow().map_or(true, |core| core.is_some())
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// The worker loop, in one of two copies: with the metrics histograms' measuring code
    /// or without any (the runtime's histogram configuration never changes).
    fn run(&self) {
        if self.core().stats.keeps_histograms() {
            self.run_loop::<true>();
        } else {
            self.run_loop::<false>();
        }
    }

    fn run_loop<const HISTOGRAMS: bool>(&self) {
        loop {
            let next = {
                let mut core = self.core();
                if core.is_shutdown {
                    break;
                }
                core.tick = core.tick.wrapping_add(1);
                let interval = self.handle.config.event_interval;
                if core.tick.is_multiple_of(interval) {
                    self.maintenance(&mut core);
                    if core.is_shutdown {
                        break;
                    }
                    // Unless the driver was polled within the interval anyway (this worker
                    // ran out of work meanwhile): a poll then would only split the
                    // submissions the queued tasks are about to make into two
                    // `io_uring_enter`s.
                    if core.tick.wrapping_sub(core.driver_polled_at) >= interval {
                        drop(core);
                        self.poll_driver();
                        core = self.core();
                    }
                }
                core.next_task(&self.handle)
            };
            if let Some(task) = next {
                if !self.run_task::<HISTOGRAMS>(task) {
                    return;
                }
                continue;
            }
            // Out of local work: before taking another worker's tasks, run the ones this
            // worker's own sockets and timers are ready to wake. They are registered here,
            // their data is in this CPU's cache, and their next wake-up comes here again;
            // a stolen task runs once on a CPU that has none of its state. (On io_uring
            // this poll reads the completion queue without a syscall unless submissions are
            // queued.) Figures in `driver/mod.rs` (socket placement).
            //
            // Submitting the queued operations here, not only in the park's enter, is
            // deliberate: one that completes inline (a read from the page cache) is reaped
            // by this same enter and its task runs at once, without the park's bookkeeping;
            // one the kernel hands to its io-wq threads (creating a file, writing to tmpfs)
            // then costs a second enter, the park's. Deferring every submission to the park
            // saves that enter but puts each inline completion through a park.
            let has_io = self
                .core()
                .driver
                .as_ref()
                .is_some_and(driver::Driver::has_live_io);
            if has_io {
                self.poll_driver();
                let next = self.core().next_task(&self.handle);
                if let Some(task) = next {
                    if !self.run_task::<HISTOGRAMS>(task) {
                        return;
                    }
                    continue;
                }
            }
            let stolen = self.core().steal_work(&self.handle, self.index);
            if let Some(task) = stolen {
                if !self.run_task::<HISTOGRAMS>(task) {
                    return;
                }
                continue;
            }
            // Nothing anywhere: serve the sockets of a sibling that has stopped polling them
            // (descheduled by the kernel, say) before sleeping.
            if self.reap_stalled_siblings() {
                continue;
            }
            self.park();
        }
        self.shutdown_core();
    }

    /// Runs `task`, then up to `MAX_LIFO_POLLS_PER_TICK` tasks from the LIFO slot.
    /// Returns `false` if a task handed the core off (`block_in_place`): the thread must
    /// then stop running the worker, which goes on on another thread.
    #[must_use]
    fn run_task<const HISTOGRAMS: bool>(&self, task: Task) -> bool {
        {
            let mut core = self.core();
            if core.is_searching {
                core.is_searching = false;
                if self.shared().idle.transition_worker_from_searching() {
                    // We were the last searcher and found work: there may be more.
                    self.handle.notify_parked();
                }
            }
            core.stats.polls += 1;
        }
        self.poll::<HISTOGRAMS>(task);
        let mut lifo_polls = 0;
        loop {
            let next = {
                let Ok(mut core) = RefMut::filter_map(self.core.borrow_mut(), Option::as_mut)
                else {
                    return false;
                };
                let Some(task) = core.lifo_slot.take() else {
                    return true;
                };
                if lifo_polls >= MAX_LIFO_POLLS_PER_TICK {
                    // Let the queue make progress; the task stays local.
                    let overflowed = core
                        .run_queue
                        .push_back_or_overflow(task, &self.shared().inject);
                    core.stats.overflows += u64::from(overflowed);
                    return true;
                }
                core.stats.polls += 1;
                core.stats.lifo_polls += 1;
                task
            };
            self.poll::<HISTOGRAMS>(next);
            lifo_polls += 1;
        }
    }

    /// Polls `task`; through [`poll_measured`](Self::poll_measured) in the loop that keeps
    /// histograms, so that a runtime without one runs no timing code.
    #[inline(always)]
    fn poll<const HISTOGRAMS: bool>(&self, task: Task) {
        if HISTOGRAMS {
            self.poll_measured(task);
        } else {
            task.run();
        }
    }

    /// Polls `task`, counting its schedule latency and poll time in the histograms the
    /// runtime keeps. A poll that handed the core off (`block_in_place`) goes without its
    /// poll time: its worker's counters went with the core.
    #[inline(never)]
    fn poll_measured(&self, task: Task) {
        let timed = {
            let mut core = self.core();
            if core.stats.tracks_schedule_latency() {
                if let (Some(epoch), Some(at)) =
                    (self.shared().schedule_epoch, task.0.extra().scheduled_at())
                {
                    let waited = crate::scheduler::stamps::waited_since(epoch, at);
                    core.stats.record_schedule_latency(waited);
                }
            }
            core.stats.times_polls()
        };
        let start = timed.then(Instant::now);
        task.run();
        if let Some(start) = start {
            if let Ok(mut core) = RefMut::filter_map(self.core.borrow_mut(), Option::as_mut) {
                core.stats.record_poll_time(start.elapsed());
            }
        }
    }

    /// This worker's timer shard, if `time` is its runtime's time driver and this thread
    /// still runs the worker (the shard and the ring go with the core).
    pub(crate) fn timer_shard(&self, time: &Arc<crate::time::TimeDriver>) -> Option<usize> {
        (Arc::ptr_eq(&self.handle.driver.time, time) && self.has_core()).then_some(self.index)
    }

    /// Called from `Handle::schedule_task` on this worker's thread. Returns the task back
    /// if the core is unavailable (borrowed by the loop itself, which only happens if a
    /// task is dropped while the loop holds the core, or handed off by `block_in_place`).
    pub(crate) fn schedule_local(&self, task: Task, is_yield: bool) -> Result<(), Task> {
        let Ok(core) = self.core.try_borrow_mut() else {
            return Err(task);
        };
        let Ok(mut core) = RefMut::filter_map(core, Option::as_mut) else {
            return Err(task);
        };
        let config = &self.handle.config;
        let inject = &self.shared().inject;
        let mut yield_wake = false;
        let should_notify = if is_yield {
            // The task was woken while it ran (a yield, a spent coop budget, a wake from
            // elsewhere during its poll): it adds no parallelism, since this worker would
            // have kept running it. Wake a sibling only if the queue holds something else
            // besides it; waking one for the task alone (as Tokio does) costs a futex wake
            // and a park per yield for a sibling that finds nothing to steal. A task in the
            // LIFO slot does not count: it was woken by the yielding task (a message
            // handed over), and a sibling woken now steals the yielding task from the queue
            // and splits a producer from its consumer across workers, where they contend on
            // their channel (bounded 1→1 mpsc: 15.1M msg/s with it counted, 17.9M without).
            // Those pairs also split when both yield on spent budgets, which is why these
            // wake-ups back off while wasted (`YieldWakes`; see `mod.rs`).
            let overflowed = core.run_queue.push_back_or_overflow(task, inject);
            core.stats.overflows += u64::from(overflowed);
            yield_wake = !core.is_searching
                && core.run_queue.len() > 1
                && core.yield_wakes.due(&self.shared().yield_wake_backoff);
            yield_wake
        } else if !config.lifo_slot {
            let overflowed = core.run_queue.push_back_or_overflow(task, inject);
            core.stats.overflows += u64::from(overflowed);
            true
        } else {
            match core.lifo_slot.replace(task) {
                Some(prev) => {
                    let overflowed = core.run_queue.push_back_or_overflow(prev, inject);
                    core.stats.overflows += u64::from(overflowed);
                    true
                }
                // Only the LIFO slot holds new work, and nobody can steal it: no point
                // waking anyone.
                None => false,
            }
        };
        // While parked (driver taken) the worker will find the task itself on wake-up.
        let parked = core.driver.is_none();
        drop(core);
        if should_notify && !parked {
            if yield_wake {
                self.handle.notify_parked_for_yield();
            } else {
                self.handle.notify_parked();
            }
        }
        Ok(())
    }

    fn maintenance(&self, core: &mut Core) {
        core.stats.submit(&self.shared().worker_metrics[self.index]);
        core.is_shutdown = self.handle.is_shutdown();
    }

    /// Fires due timers (and consumes a pending unpark) without sleeping, and serves
    /// stalled siblings if it is time to look for them (`Driver::reap_stalled_siblings`).
    /// The driver is taken out of the core meanwhile, so the woken tasks go to the local
    /// queue.
    fn poll_driver(&self) {
        let mut driver = {
            let mut core = self.core();
            let Some(driver) = core.driver.take() else {
                return;
            };
            core.driver_polled_at = core.tick;
            driver
        };
        driver.park_timeout(Duration::ZERO);
        // A sibling that has not polled its I/O for a while is not running: take its
        // ready sockets and half its queue, so a busy worker serves them too.
        // (The core is not borrowed meanwhile: only the driver is out of it.)
        driver.reap_stalled_siblings(&self.handle.driver, SiblingLook::IfDue, |victim| {
            self.core().steal_from_stalled(&self.handle, victim);
        });
        let mut core = self.core();
        core.driver = Some(driver);
        // The unpark just consumed may have been shutdown's (sent after the flag was set):
        // read the flag again, or this worker could run out of work and park with nobody
        // left to wake it.
        core.is_shutdown |= self.handle.is_shutdown();
        let notify = core.should_notify_others();
        drop(core);
        if notify {
            self.handle.notify_parked();
        }
    }

    /// Reaps the epoll sets of siblings that have not polled them for a while (see
    /// `IoPark::reap_stalled_siblings`), with the driver taken out of the core so the
    /// woken tasks come to this worker's queue. True if it found socket events.
    fn reap_stalled_siblings(&self) -> bool {
        let Some(mut driver) = self.core().driver.take() else {
            return false;
        };
        let events = driver.reap_stalled_siblings(&self.handle.driver, SiblingLook::Now, |_| {});
        self.core().driver = Some(driver);
        events > 0
    }

    /// Parks until woken, between the park and unpark hooks (both run even when the worker
    /// finds work and does not sleep, as Tokio's). The hooks run outside the core's
    /// borrow: they may spawn or wake tasks, which then keep this worker from parking
    /// (`transition_to_parked` finds them).
    fn park(&self) {
        let hooks = &self.handle.config.hooks;
        hooks.before_park();
        self.park_until_woken();
        hooks.after_unpark();
    }

    fn park_until_woken(&self) {
        {
            let mut core = self.core();
            // A shutdown seen by the last driver poll: its unpark is spent, so parking now
            // would never end.
            if core.is_shutdown || !core.transition_to_parked(&self.handle, self.index) {
                return;
            }
            let polls = core.stats.polls;
            core.yield_wakes
                .parking(polls, &self.shared().yield_wake_backoff);
        }
        let metrics = &self.shared().worker_metrics[self.index];
        let mut first = true;
        loop {
            let mut driver = {
                let mut core = self.core();
                if first {
                    core.stats.about_to_park(metrics);
                    first = false;
                } else {
                    // Woken with no work for it (another worker took it): parks again,
                    // counted as a park but still one park/unpark pair.
                    core.stats.parks += 1;
                    core.stats.submit(metrics);
                }
                core.driver.take().expect("driver present while awake")
            };
            driver.park();
            let mut core = self.core();
            core.driver = Some(driver);
            core.driver_polled_at = core.tick;
            if self.handle.is_shutdown() {
                core.is_shutdown = true;
                core.stats.unparked(metrics);
                return;
            }
            if core.transition_from_parked(&self.shared().idle, self.index) {
                core.stats.unparked(metrics);
                if self.shared().remotes[self.index]
                    .woken_for_yield
                    .swap(false, Relaxed)
                {
                    let polls = core.stats.polls;
                    core.yield_wakes.woken(polls);
                }
                // Timers fired during the park may have queued more than this worker
                // should run alone.
                let notify = core.should_notify_others();
                drop(core);
                if notify {
                    self.handle.notify_parked();
                }
                return;
            }
        }
    }

    /// Cancels every task of the runtime (shared with the other workers) and drops what is
    /// left in this worker's queues.
    fn shutdown_core(&self) {
        self.shared().owned.close_and_shutdown_all(self.index);
        let leftovers: Vec<Task> = {
            let mut core = self.core();
            let mut v: Vec<Task> = core.lifo_slot.take().into_iter().collect();
            v.extend(std::iter::from_fn(|| core.run_queue.pop()));
            core.stats.submit(&self.shared().worker_metrics[self.index]);
            v
        };
        drop(leftovers);
    }
}

impl Core {
    fn next_task(&mut self, handle: &Handle) -> Option<Task> {
        let inject = &handle.shared.inject;
        if self
            .tick
            .is_multiple_of(handle.config.global_queue_interval)
        {
            if let Some(task) = inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo_slot.take() {
            return Some(task);
        }
        if let Some(task) = self.run_queue.pop() {
            return Some(task);
        }
        if inject.is_empty() {
            return None;
        }
        // Take a fair share of the injector: len / workers + 1, at most half a local queue.
        let room = self.run_queue.remaining_slots().min(queue::CAPACITY / 2);
        let n = (inject.len() / handle.num_workers() + 1).min(room).max(1);
        let mut first = None;
        // Stays empty (no allocation): we take at most `room` tasks, and thieves only ever
        // make more room.
        let mut spilled = Vec::new();
        let run_queue = &mut self.run_queue;
        inject.pop_n(n, |task| {
            if first.is_none() {
                first = Some(task);
            } else if let Err(task) = run_queue.push_back_if_room(task) {
                spilled.push(task);
            }
        });
        if !spilled.is_empty() {
            inject.push_batch(spilled.into_iter());
        }
        first
    }

    /// Takes half the queued tasks of worker `victim`, which has not polled its I/O for a
    /// while (see `Driver::reap_stalled_siblings`): they would wait for it otherwise,
    /// however busy this worker is.
    fn steal_from_stalled(&mut self, handle: &Handle, victim: usize) {
        let shared = &handle.shared;
        if let Some((task, stolen)) = shared.remotes[victim].steal.steal_into(&mut self.run_queue) {
            self.stats.steals += stolen as u64;
            self.stats.steal_operations += 1;
            if let Err(task) = self.run_queue.push_back_if_room(task) {
                shared.inject.push(task);
            }
        }
    }

    fn steal_work(&mut self, handle: &Handle, index: usize) -> Option<Task> {
        let shared = &handle.shared;
        if !self.is_searching {
            self.is_searching = shared.idle.transition_worker_to_searching();
        }
        if !self.is_searching {
            return None;
        }
        let n = shared.remotes.len();
        let start = self.rand.below(n as u32) as usize;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == index {
                continue;
            }
            if let Some((task, stolen)) =
                shared.remotes[victim].steal.steal_into(&mut self.run_queue)
            {
                self.stats.steals += stolen as u64;
                self.stats.steal_operations += 1;
                return Some(task);
            }
        }
        shared.inject.pop()
    }

    /// Whether this worker has queued work another worker could steal (more than the one
    /// task it runs next) and is not searching, so waking an idle worker pays off.
    fn should_notify_others(&self) -> bool {
        !self.is_searching && self.run_queue.len() > usize::from(self.lifo_slot.is_none())
    }

    /// Returns `false` if there is local work after all.
    fn transition_to_parked(&mut self, handle: &Handle, index: usize) -> bool {
        if self.lifo_slot.is_some() || !self.run_queue.is_empty() {
            return false;
        }
        let is_last_searcher = handle
            .shared
            .idle
            .transition_worker_to_parked(index, self.is_searching);
        self.is_searching = false;
        if is_last_searcher {
            handle.notify_if_work_pending();
        }
        true
    }

    /// Returns `true` when the worker should run again, `false` on a spurious wake-up.
    fn transition_from_parked(&mut self, idle: &Idle, index: usize) -> bool {
        if self.lifo_slot.is_some() || !self.run_queue.is_empty() {
            // Local work, queued by timers that fired during the park. If we were still
            // listed as parked, we unlist ourselves and run it, not as a searcher. If a
            // notifier got there first, it counted us as searching: we must act as one
            // (and stop searching when we run the task), or the searching count leaks and
            // no parked worker is ever notified again.
            if !idle.unpark_worker_by_id(index) {
                self.is_searching = true;
            }
            return true;
        }
        if idle.is_parked(index) {
            return false;
        }
        // Notified by another thread, which counted us as searching.
        self.is_searching = true;
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn yield_wakes_thin_out_while_wasted_and_recover_when_one_pays_off() {
        let backoff = AtomicU32::new(0);
        let mut w = YieldWakes::default();
        // Backoff 0: every yield may wake.
        assert!((0..5).all(|_| w.due(&backoff)));
        // Woken for a yield, parked again after a few polls: wasted, the backoff rises.
        for expected in 1..=MAX_YIELD_WAKE_BACKOFF {
            w.woken(1_000);
            w.parking(1_000 + SHORT_WAKE_POLLS - 1, &backoff);
            assert_eq!(backoff.load(Relaxed), expected);
        }
        w.woken(0);
        w.parking(0, &backoff);
        assert_eq!(backoff.load(Relaxed), MAX_YIELD_WAKE_BACKOFF, "saturates");
        // At the cap, one yield in 2^cap wakes: never zero, so a pair of CPU-bound tasks
        // yielding to each other on one worker still reaches an idle sibling.
        let mut fresh = YieldWakes::default();
        let sent = (0..4 << MAX_YIELD_WAKE_BACKOFF)
            .filter(|_| fresh.due(&backoff))
            .count();
        assert_eq!(sent, 4);
        // A park with no yield wake-up before it changes nothing.
        w.parking(5, &backoff);
        assert_eq!(backoff.load(Relaxed), MAX_YIELD_WAKE_BACKOFF);
        // A wake-up that ran long paid off: back to waking on every yield (after the
        // skips already counted down).
        w.woken(10);
        w.parking(10 + SHORT_WAKE_POLLS, &backoff);
        assert_eq!(backoff.load(Relaxed), 0);
        let mut after = YieldWakes::default();
        assert!((0..5).all(|_| after.due(&backoff)));
    }
}
