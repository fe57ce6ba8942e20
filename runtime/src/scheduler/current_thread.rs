//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! One `Core` (a `VecDeque` run queue, the driver, counters) is taken by the thread in
//! `block_on` and put back when it returns; a second thread calling `block_on` meanwhile
//! polls only its own future and takes the core over when it is released. Wakes on the
//! driving thread push to the local queue without any atomic; wakes and spawns from other
//! threads go to the injector and unpark the driver.
//!
//! The loop: poll the `block_on` future when its waker fired; then run up to
//! `event_interval` tasks, taking from the injector first every `global_queue_interval`
//! ticks so remote work is never starved; with nothing to run, park on the driver until
//! something is scheduled. A task that woke itself goes to the back of the queue, like
//! every other task here (there is no LIFO slot on one thread).
//!
//! Two owned lists: a task spawned by the thread holding the core is bound to the core's
//! own list (`UnsyncOwnedTasks`, no lock: only the core's holder touches it, and a task of
//! the core completes only under the core), any other to the shared, locked list; the
//! task's `UNSYNC_OWNED` state bit says which one to release it from.
//!
//! With a schedule-latency histogram, the run queue and the injector each keep a second
//! queue, of when each task was queued (this flavor's task cells have no spare word for
//! it, unlike the multi-thread flavor's); the run loop takes a task's time with the task.
//! Without one, neither queue exists.
//!
//! Shutdown (the runtime dropped): close the injector and both owned lists, cancel every
//! task (dropping its future on this thread, in the runtime context), and drop what is
//! queued. Only `Runtime::block_on`, which borrows the runtime, takes the core, so the core
//! is always back when the runtime shuts down.

use crate::blocking;
use crate::coop;
use crate::driver::{self, Driver, Unparker};
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::{lock, Mutex};
use crate::runtime::config::Config;
use crate::runtime::context;
use crate::runtime::metrics::{Stats, WorkerMetrics};
use crate::scheduler::stamps::ScheduleStamps;
use crate::scheduler::{self, inject::Inject};
use crate::task::list::{Bind, OwnedTasks, UnsyncOwnedTasks};
use crate::task::{JoinHandle, Notified, Schedule, Task};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Arc, OnceLock};
use std::task::{Poll, Wake, Waker};
use std::time::{Duration, Instant};

type TaskRef = Notified<Arc<Handle>>;

/// The runtime-owned part: the core, while nobody is in `block_on`.
pub(crate) struct CurrentThread {
    core: Mutex<Option<Box<Core>>>,
    /// Threads waiting in `block_on` for the core to be released.
    waiters: Mutex<Vec<Waker>>,
}

/// Shared with every task.
pub(crate) struct Handle {
    pub(crate) shared: Shared,
    pub(crate) driver: driver::Handle,
    pub(crate) blocking: blocking::Spawner,
    pub(crate) config: Config,
    /// The local-task set of a `LocalRuntime` built on this scheduler, for `spawn_local`
    /// wherever this runtime is current.
    pub(crate) local: OnceLock<Arc<crate::task::local::Shared>>,
}

pub(crate) struct Shared {
    pub(crate) inject: Inject<Arc<Handle>>,
    pub(crate) owned: OwnedTasks<Arc<Handle>>,
    pub(crate) metrics: WorkerMetrics,
    /// The `block_on` future's waker fired.
    woken: AtomicBool,
    unpark: Unparker,
    /// Length of the local queue, published for metrics.
    local_depth: AtomicUsize,
    /// The core's owned list's `alive()` and `spawned()`, published for metrics by the
    /// core's holder (one writer at a time).
    core_alive: AtomicUsize,
    core_spawned: AtomicUsize,
}

struct Core {
    tasks: VecDeque<TaskRef>,
    /// Tasks spawned by the core's holder (see the module docs).
    owned: UnsyncOwnedTasks<Arc<Handle>>,
    tick: u32,
    driver: Option<Driver>,
    stats: Stats,
    /// When each task of `tasks` was queued, in step with `tasks`, if the runtime keeps a
    /// schedule-latency histogram.
    stamps: Option<Box<ScheduleStamps>>,
}

/// The driving thread's scheduler context.
pub(crate) struct Context {
    handle: Arc<Handle>,
    core: RefCell<Option<Box<Core>>>,
}

impl fmt::Debug for CurrentThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread").finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Handle")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Context")
            .finish_non_exhaustive()
    }
}

impl CurrentThread {
    pub(crate) fn new(
        config: Config,
        blocking: blocking::Spawner,
    ) -> std::io::Result<(CurrentThread, Arc<Handle>)> {
        let clock = crate::time::Clock::new(true, config.start_paused)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let (mut drivers, driver_handle) =
            driver::build(1, config.io_driver, config.io_uring, clock)?;
        let driver = drivers.pop().expect("one driver");
        let schedule_epoch = config.metrics.schedule_latency.map(|_| Instant::now());
        let handle = Arc::new(Handle {
            shared: Shared {
                inject: Inject::stamped(schedule_epoch),
                owned: OwnedTasks::new(1),
                metrics: WorkerMetrics::new(&config.metrics),
                woken: AtomicBool::new(false),
                unpark: driver.unparker(),
                local_depth: AtomicUsize::new(0),
                core_alive: AtomicUsize::new(0),
                core_spawned: AtomicUsize::new(0),
            },
            driver: driver_handle,
            blocking,
            config,
            local: OnceLock::new(),
        });
        let core = Box::new(Core {
            tasks: VecDeque::with_capacity(64),
            owned: UnsyncOwnedTasks::new(),
            tick: 0,
            driver: Some(driver),
            stats: Stats::new(&handle.config.metrics),
            stamps: schedule_epoch.map(ScheduleStamps::new),
        });
        let scheduler = CurrentThread {
            core: Mutex::new(Some(core)),
            waiters: Mutex::new(Vec::new()),
        };
        Ok((scheduler, handle))
    }

    fn take_core(&self) -> Option<Box<Core>> {
        lock(&self.core).take()
    }

    fn release_core(&self, core: Box<Core>) {
        *lock(&self.core) = Some(core);
        for waker in lock(&self.waiters).drain(..) {
            waker.wake();
        }
    }

    /// Runs `future` to completion, driving the scheduler meanwhile.
    ///
    /// # Panics
    /// Inside a runtime; the panic names the caller of the public `block_on`.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, handle: &Arc<Handle>, future: F) -> F::Output {
        let sched = scheduler::Handle::CurrentThread(handle.clone());
        let _enter = context::enter_runtime(&sched, false);
        let mut future = pin!(future);
        loop {
            if let Some(core) = self.take_core() {
                return self.drive(handle, core, future.as_mut());
            }
            // Another thread drives the scheduler: poll our own future, and retry taking
            // the core whenever it is released.
            let (park, waker) = crate::runtime::park::current_thread_parker();
            {
                let mut waiters = lock(&self.waiters);
                if !waiters.iter().any(|w| w.will_wake(&waker)) {
                    waiters.push(waker.clone());
                }
            }
            let mut cx = std::task::Context::from_waker(&waker);
            if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                return out;
            }
            if lock(&self.core).is_none() {
                park.park();
            }
        }
    }

    fn drive<F: Future>(
        &self,
        handle: &Arc<Handle>,
        core: Box<Core>,
        future: Pin<&mut F>,
    ) -> F::Output {
        /// Puts the core back even if the future panics.
        struct Release<'a> {
            scheduler: &'a CurrentThread,
            cx: &'a scheduler::Context,
        }
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                let scheduler::Context::CurrentThread(cx) = self.cx else {
                    unreachable!()
                };
                if let Some(core) = cx.core.borrow_mut().take() {
                    self.scheduler.release_core(core);
                }
            }
        }
        let cx = scheduler::Context::CurrentThread(Context {
            handle: handle.clone(),
            core: RefCell::new(Some(core)),
        });
        let _release = Release {
            scheduler: self,
            cx: &cx,
        };
        let scheduler::Context::CurrentThread(ct) = &cx else {
            unreachable!()
        };
        context::set_scheduler(&cx, || ct.run_until(future))
    }

    /// Cancels every task and drops what is queued. Called once, when the runtime drops.
    pub(crate) fn shutdown(&self, handle: &Arc<Handle>) {
        handle.shared.inject.close();
        let sched = scheduler::Handle::CurrentThread(handle.clone());
        let _current = context::set_current(&sched);
        // `block_on` borrows the runtime, so nobody holds the core now.
        let core = self.take_core();
        debug_assert!(core.is_some(), "the core is back at shutdown");
        let cx = scheduler::Context::CurrentThread(Context {
            handle: handle.clone(),
            core: RefCell::new(core),
        });
        context::set_scheduler(&cx, || {
            handle.shared.owned.close_and_shutdown_all(0);
            let scheduler::Context::CurrentThread(ct) = &cx else {
                unreachable!()
            };
            ct.shutdown_core_list();
            let queued: Vec<TaskRef> = match ct.core.borrow_mut().as_mut() {
                Some(core) => {
                    if let Some(stamps) = &mut core.stamps {
                        stamps.clear(0);
                    }
                    core.tasks.drain(..).collect()
                }
                None => Vec::new(),
            };
            drop(queued);
            while let Some(task) = handle.shared.inject.pop() {
                drop(task);
            }
        });
        let scheduler::Context::CurrentThread(ct) = cx else {
            unreachable!()
        };
        if let Some(core) = ct.core.into_inner() {
            self.release_core(core);
        }
    }
}

impl Context {
    fn run_until<F: Future>(&self, mut future: Pin<&mut F>) -> F::Output {
        let handle = &self.handle;
        let waker = Waker::from(Arc::new(BlockOnWaker(handle.clone())));
        let mut cx = std::task::Context::from_waker(&waker);
        handle.shared.woken.store(true, Release);
        // Fixed for the core's life: the loop without histograms has no code for them.
        let measured = self
            .core
            .borrow()
            .as_ref()
            .is_some_and(|core| core.stats.keeps_histograms());
        loop {
            if handle.shared.woken.swap(false, AcqRel) {
                if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return out;
                }
            }
            if measured {
                self.run_tasks::<true>();
            } else {
                self.run_tasks::<false>();
            }
        }
    }

    /// Runs up to `event_interval` tasks (even if the `block_on` future was woken
    /// meanwhile, so a future that keeps yielding cannot starve the tasks); parks if there
    /// are none and the `block_on` future was not woken.
    /// `MEASURED`: the runtime keeps a poll-time or schedule-latency histogram (or both).
    fn run_tasks<const MEASURED: bool>(&self) {
        let handle = &self.handle;
        for _ in 0..handle.config.event_interval {
            let task = {
                let mut core = self.core.borrow_mut();
                let core = core.as_mut().expect("core present while driving");
                core.tick = core.tick.wrapping_add(1);
                let task = if MEASURED {
                    core.next_task_measured(handle)
                } else {
                    core.next_task(handle)
                };
                if task.is_some() {
                    core.stats.polls += 1;
                }
                task.map(|task| (task, MEASURED && core.stats.times_polls()))
            };
            match task {
                Some((task, timed)) => {
                    let start = timed.then(Instant::now);
                    task.run();
                    if let Some(start) = start {
                        if let Some(core) = self.core.borrow_mut().as_mut() {
                            core.stats.record_poll_time(start.elapsed());
                        }
                    }
                }
                None => return self.park(None),
            }
        }
        // A full interval of tasks: publish counters and poll the driver without blocking.
        self.park(Some(Duration::ZERO));
    }

    fn park(&self, timeout: Option<Duration>) {
        let hooks = &self.handle.config.hooks;
        if timeout.is_none() {
            // Outside the core's borrow: the hook may spawn or wake tasks.
            hooks.before_park();
        }
        let (mut driver, idle) = {
            let mut core = self.core.borrow_mut();
            let core = core.as_mut().expect("core present while driving");
            if timeout.is_none() {
                core.stats.about_to_park(&self.handle.shared.metrics);
            } else {
                core.stats.submit(&self.handle.shared.metrics);
            }
            self.handle
                .shared
                .local_depth
                .store(core.tasks.len(), Relaxed);
            // Tasks queued by the park hook (or remotely) run before any sleep.
            let idle = core.tasks.is_empty() && self.handle.shared.inject.is_empty();
            (
                core.driver.take().expect("driver present while awake"),
                idle,
            )
        };
        match timeout {
            None if idle && !self.handle.shared.woken.load(Acquire) => driver.park(),
            // The `block_on` future was woken: do not sleep, but still fire due timers and
            // reap I/O, or a future that keeps waking itself (polling a sleep, or a socket,
            // in a loop) would wait forever for what only the driver delivers.
            None => driver.park_timeout(Duration::ZERO),
            Some(timeout) => driver.park_timeout(timeout),
        }
        {
            let mut core = self.core.borrow_mut();
            let core = core.as_mut().expect("core present while driving");
            core.driver = Some(driver);
            if timeout.is_none() {
                core.stats.unparked(&self.handle.shared.metrics);
            }
        }
        if timeout.is_none() {
            hooks.after_unpark();
        }
    }

    /// Shard 0 if `time` is this runtime's time driver.
    pub(crate) fn timer_shard(&self, time: &Arc<crate::time::TimeDriver>) -> Option<usize> {
        Arc::ptr_eq(&self.handle.driver.time, time).then_some(0)
    }

    /// Spawns `future` onto the core's own list and queue, if this thread holds the core
    /// (not borrowed elsewhere up the stack); otherwise hands the future back.
    fn spawn_in_core<F>(&self, future: F) -> Result<JoinHandle<F::Output>, F>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Ok(mut guard) = self.core.try_borrow_mut() else {
            return Err(future);
        };
        let Some(core) = guard.as_mut() else {
            return Err(future);
        };
        // SAFETY: the future and its output are `Send`.
        let bound = unsafe { core.owned.bind_unchecked(future, self.handle.clone()) };
        let shared = &self.handle.shared;
        shared.core_alive.store(core.owned.alive(), Relaxed);
        shared.core_spawned.store(core.owned.spawned(), Relaxed);
        match bound {
            Bind::Bound(join, notified) => {
                core.push(notified);
                Ok(join)
            }
            Bind::Closed(join, rejected) => {
                drop(guard);
                rejected.cancel();
                Ok(join)
            }
        }
    }

    /// Unlinks a task of the core's own list (see [`Schedule::release`]); `None` if the
    /// core is not here, which leaves the task linked (and its list reference held) until
    /// the list is shut down.
    fn release_from_core(&self, task: &Task<Arc<Handle>>) -> Option<Task<Arc<Handle>>> {
        let mut core = self.core.try_borrow_mut().ok()?;
        let core = core.as_mut()?;
        // SAFETY: the task has `UNSYNC_OWNED` and this runtime's handle: it was bound to
        // this core's list and no other.
        let released = unsafe { core.owned.remove(task) };
        self.handle
            .shared
            .core_alive
            .store(core.owned.alive(), Relaxed);
        released
    }

    /// Closes the core's own list and shuts its tasks down, one at a time with the core
    /// not borrowed (their destructors may spawn: refused, cancelled at once).
    fn shutdown_core_list(&self) {
        loop {
            let task = match self.core.borrow_mut().as_mut() {
                Some(core) => {
                    core.owned.close();
                    core.owned.pop()
                }
                None => None,
            };
            match task {
                Some(task) => task.shutdown(),
                None => break,
            }
        }
        if let Some(core) = self.core.borrow().as_ref() {
            self.handle
                .shared
                .core_alive
                .store(core.owned.alive(), Relaxed);
        }
    }

    fn schedule_local(&self, task: TaskRef) -> Result<(), TaskRef> {
        match self.core.try_borrow_mut() {
            Ok(mut core) => match core.as_mut() {
                Some(core) => {
                    core.push(task);
                    Ok(())
                }
                None => Err(task),
            },
            Err(_) => Err(task),
        }
    }
}

impl Core {
    /// Queues `task` at the back of the run queue (with its time, if the runtime keeps a
    /// schedule-latency histogram).
    #[inline]
    fn push(&mut self, task: TaskRef) {
        if self.stamps.is_some() {
            self.stamp_one();
        }
        self.tasks.push_back(task);
    }

    /// Out of line, so that a runtime without the histogram pays a test of a pointer per
    /// push and nothing more.
    #[cold]
    #[inline(never)]
    fn stamp_one(&mut self) {
        if let Some(stamps) = &mut self.stamps {
            stamps.push_now(1);
        }
    }

    /// [`next_task`](Self::next_task), counting in the schedule-latency histogram, if the
    /// runtime keeps one, how long the task waited since it was queued.
    #[inline(never)]
    fn next_task_measured(&mut self, handle: &Handle) -> Option<TaskRef> {
        let local = |core: &mut Core| {
            let task = core.tasks.pop_front()?;
            Some((task, core.stamps.as_mut().and_then(|s| s.pop())))
        };
        let (task, at) = if self
            .tick
            .is_multiple_of(handle.config.global_queue_interval)
        {
            handle.shared.inject.pop_stamped().or_else(|| local(self))
        } else {
            local(self).or_else(|| handle.shared.inject.pop_stamped())
        }?;
        if let (Some(at), Some(stamps)) = (at, &self.stamps) {
            self.stats.record_schedule_latency(stamps.waited(at));
        }
        Some(task)
    }

    #[inline(always)]
    fn next_task(&mut self, handle: &Handle) -> Option<TaskRef> {
        if self
            .tick
            .is_multiple_of(handle.config.global_queue_interval)
        {
            handle
                .shared
                .inject
                .pop()
                .or_else(|| self.tasks.pop_front())
        } else {
            self.tasks
                .pop_front()
                .or_else(|| handle.shared.inject.pop())
        }
    }
}

impl Shared {
    pub(crate) fn local_queue_depth(&self) -> usize {
        self.local_depth.load(Relaxed)
    }

    /// Tasks spawned and not yet completed, over both owned lists; a relaxed snapshot.
    pub(crate) fn alive_tasks(&self) -> usize {
        self.owned.alive() + self.core_alive.load(Relaxed)
    }

    /// Tasks ever spawned, over both owned lists; a relaxed snapshot.
    pub(crate) fn spawned_tasks(&self) -> u64 {
        self.owned.spawned() + self.core_spawned.load(Relaxed) as u64
    }
}

impl Handle {
    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // On the thread holding this runtime's core: its own list, no lock.
        let future = context::with_scheduler(|cx| match cx {
            Some(scheduler::Context::CurrentThread(cx)) if Arc::ptr_eq(&cx.handle, me) => {
                cx.spawn_in_core(future)
            }
            _ => Err(future),
        });
        match future {
            Ok(join) => join,
            Err(future) => me.shared.owned.spawn(future, me),
        }
    }

    fn schedule(&self, task: TaskRef) {
        let task = context::with_scheduler(|cx| match cx {
            Some(scheduler::Context::CurrentThread(cx)) if std::ptr::eq(&*cx.handle, self) => {
                cx.schedule_local(task).err()
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            self.shared.inject.push(task);
            self.shared.unpark.unpark();
        }
    }
}

impl Schedule for Arc<Handle> {
    type TaskExtra = ();

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        if !task.state().load().is_unsync_owned() {
            return self.shared.owned.remove(task);
        }
        // A task of the core's own list completes only under the core, on this thread.
        context::with_scheduler(|cx| match cx {
            Some(scheduler::Context::CurrentThread(cx)) if Arc::ptr_eq(&cx.handle, self) => {
                cx.release_from_core(task)
            }
            _ => None,
        })
    }

    fn schedule(&self, task: Notified<Self>) {
        Handle::schedule(self, task);
    }
}

/// The `block_on` future's waker: flags the future as woken and unparks the driver.
struct BlockOnWaker(Arc<Handle>);

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.shared.woken.store(true, Release);
        self.0.shared.unpark.unpark();
    }
}
