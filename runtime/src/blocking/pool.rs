use crate::runtime::config::{ThreadHooks, ThreadNameFn};
use crate::runtime::context;
use crate::scheduler;
use crate::task::{self, JoinHandle, Notified, Schedule, Task};
use crate::util::thread_group::ThreadGroup;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

/// Owned by the runtime; shuts the pool down.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    spawner: Spawner,
}

/// Submits closures; held by the scheduler handles.
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Mutex<Shared>,
    condvar: Condvar,
    thread_name: ThreadNameFn,
    stack_size: Option<usize>,
    hooks: ThreadHooks,
    /// The CPUs every blocking thread is pinned to as it starts (`None`: unpinned).
    cpus: Option<Arc<[usize]>>,
    max_threads: usize,
    keep_alive: Duration,
    threads: Arc<ThreadGroup>,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<Notified<BlockingSchedule>>,
    num_threads: usize,
    num_idle: usize,
    /// Signals sent to idle threads and not yet consumed.
    num_notify: usize,
    shutdown: bool,
}

/// Blocking tasks are never re-scheduled: they complete on their one poll.
struct BlockingSchedule {
    /// The time driver of a current-thread runtime whose paused clock must not jump
    /// ahead by itself while this closure is in flight (it may be what the runtime waits
    /// for); released at completion, after the joiner was woken (`test-util` only).
    #[cfg(feature = "test-util")]
    holds_clock: Option<std::sync::Arc<crate::time::TimeDriver>>,
}

impl BlockingSchedule {
    #[cfg_attr(not(feature = "test-util"), allow(unused_variables))]
    fn new(handle: &scheduler::Handle) -> BlockingSchedule {
        #[cfg(feature = "test-util")]
        {
            let holds_clock = match handle {
                scheduler::Handle::CurrentThread(h) => {
                    h.driver.time.clock().inhibit_auto_advance();
                    Some(h.driver.time.clone())
                }
                scheduler::Handle::MultiThread(_) => None,
            };
            BlockingSchedule { holds_clock }
        }
        #[cfg(not(feature = "test-util"))]
        BlockingSchedule {}
    }
}

impl Schedule for BlockingSchedule {
    type TaskExtra = ();

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        #[cfg(feature = "test-util")]
        if let Some(time) = &self.holds_clock {
            time.clock().allow_auto_advance();
            // The runtime may be parked on real time only because of this closure.
            time.unpark_owners();
        }
        None
    }

    fn schedule(&self, task: Notified<Self>) {
        // Unreachable in practice (a blocking task is never idle-and-woken); dropping the
        // reference is the safe answer if it ever happens.
        debug_assert!(false, "blocking task re-scheduled");
        drop(task);
    }
}

/// Adapts a closure into a future that runs it on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl BlockingPool {
    pub(crate) fn new(
        thread_name: ThreadNameFn,
        stack_size: Option<usize>,
        hooks: ThreadHooks,
        cpus: Option<Arc<[usize]>>,
        max_threads: usize,
        keep_alive: Duration,
    ) -> BlockingPool {
        BlockingPool {
            spawner: Spawner {
                inner: Arc::new(Inner {
                    shared: Mutex::new(Shared::default()),
                    condvar: Condvar::new(),
                    thread_name,
                    stack_size,
                    hooks,
                    cpus,
                    max_threads,
                    keep_alive,
                    threads: Arc::new(ThreadGroup::default()),
                }),
            },
        }
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Refuses new closures, tells idle threads to exit, and waits up to `timeout` (None:
    /// forever) for every thread, which first runs what is queued (as Tokio's pool does: a
    /// closure handed to `spawn_blocking` before the shutdown runs). Returns `true` if every
    /// thread exited.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) -> bool {
        let inner = &self.spawner.inner;
        {
            let mut shared = lock(&inner.shared);
            shared.shutdown = true;
            inner.condvar.notify_all();
        }
        inner.threads.wait(timeout)
    }
}

impl Spawner {
    /// Queues `f`; `handle` becomes the current runtime on the thread that runs it.
    #[track_caller]
    pub(crate) fn spawn_blocking<F, R>(&self, handle: &scheduler::Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_blocking_named(handle, f, None)
    }

    /// [`spawn_blocking`](Self::spawn_blocking) with the task's name (its `tracing` span's
    /// `task.name`; `task::Builder::name`).
    #[track_caller]
    pub(crate) fn spawn_blocking_named<F, R>(
        &self,
        handle: &scheduler::Handle,
        f: F,
        name: Option<&str>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let future = crate::util::trace::task(BlockingTask(Some(f)), "blocking", name);
        let (task, join) = task::unowned(future, BlockingSchedule::new(handle));
        let mut shared = lock(&self.inner.shared);
        if shared.shutdown {
            drop(shared);
            task.0.shutdown();
            return join;
        }
        shared.queue.push_back(task);
        if shared.num_idle > 0 {
            shared.num_idle -= 1;
            shared.num_notify += 1;
            self.inner.condvar.notify_one();
        } else if shared.num_threads < self.inner.max_threads {
            shared.num_threads += 1;
            drop(shared);
            if let Err(err) = self.start_thread(handle.clone()) {
                let mut shared = lock(&self.inner.shared);
                shared.num_threads -= 1;
                if shared.num_threads == 0 {
                    // No thread will ever run the queue: fail loudly rather than hang.
                    let queued: Vec<_> = shared.queue.drain(..).collect();
                    drop(shared);
                    for task in queued {
                        task.0.shutdown();
                    }
                    panic!("zokio: the OS refused to start a blocking-pool thread: {err}");
                }
            }
        }
        join
    }

    fn start_thread(&self, handle: scheduler::Handle) -> std::io::Result<()> {
        let mut builder = std::thread::Builder::new().name((self.inner.thread_name)());
        if let Some(size) = self.inner.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = self.inner.clone();
        inner.threads.add();
        let threads = inner.threads.clone();
        let result = builder.spawn(move || {
            let _member = inner.threads.member();
            let _current = context::set_current(&handle);
            if let Some(cpus) = &inner.cpus {
                // Checked when the runtime was built; a CPU taken away since leaves the
                // thread where the kernel put it (`blocking_affinity` in the metrics
                // says what was asked).
                let _ = crate::runtime::affinity::pin_current_thread(cpus);
            }
            let _hooks = inner.hooks.enter();
            inner.run();
        });
        if result.is_err() {
            drop(threads.member());
        }
        result.map(drop)
    }

    /// The CPUs blocking threads are pinned to, if any.
    pub(crate) fn cpus(&self) -> Option<&[usize]> {
        self.inner.cpus.as_deref()
    }

    pub(crate) fn num_threads(&self) -> usize {
        lock(&self.inner.shared).num_threads
    }

    pub(crate) fn num_idle_threads(&self) -> usize {
        lock(&self.inner.shared).num_idle
    }

    pub(crate) fn queue_depth(&self) -> usize {
        lock(&self.inner.shared).queue.len()
    }
}

impl Inner {
    /// A pool thread: run queued closures; wait up to `keep_alive` for more; exit.
    fn run(&self) {
        let mut shared = lock(&self.shared);
        'work: loop {
            while let Some(task) = shared.queue.pop_front() {
                drop(shared);
                task.run();
                shared = lock(&self.shared);
            }
            if shared.shutdown {
                break;
            }
            shared.num_idle += 1;
            loop {
                let (guard, result) = self
                    .condvar
                    .wait_timeout(shared, self.keep_alive)
                    .unwrap_or_else(|e| e.into_inner());
                shared = guard;
                if shared.num_notify > 0 {
                    // A spawner counted us out of the idle threads and queued work.
                    shared.num_notify -= 1;
                    continue 'work;
                }
                if shared.shutdown {
                    shared.num_idle -= 1;
                    break 'work;
                }
                if result.timed_out() {
                    shared.num_idle -= 1;
                    break 'work;
                }
                // Spurious wake-up: keep waiting.
            }
        }
        shared.num_threads -= 1;
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("max_threads", &self.inner.max_threads)
            .finish_non_exhaustive()
    }
}
