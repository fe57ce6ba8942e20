use std::fmt;
use std::sync::Arc;

/// Names threads; called once per thread started.
pub(crate) type ThreadNameFn = Arc<dyn Fn() -> String + Send + Sync + 'static>;

/// A function a runtime calls on each of its threads (see [`ThreadHooks`]).
pub(crate) type ThreadCallback = Arc<dyn Fn() + Send + Sync + 'static>;

/// What every thread a runtime starts (workers and blocking-pool threads) runs first and
/// last: `Builder::on_thread_start` / `on_thread_stop`; and what a thread driving tasks
/// runs before it parks and after it wakes: `on_thread_park` / `on_thread_unpark`. As
/// Tokio has them.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    pub(crate) start: Option<ThreadCallback>,
    pub(crate) stop: Option<ThreadCallback>,
    pub(crate) park: Option<ThreadCallback>,
    pub(crate) unpark: Option<ThreadCallback>,
}

impl ThreadHooks {
    /// Runs the start hook on the calling thread; the returned guard runs the stop hook
    /// when it drops, at the end of the thread's body (also when the body unwinds).
    pub(crate) fn enter(&self) -> StopGuard {
        if let Some(start) = &self.start {
            start();
        }
        StopGuard(self.stop.clone())
    }

    /// Runs the park hook, if any (a scheduler thread is about to sleep).
    pub(crate) fn before_park(&self) {
        if let Some(park) = &self.park {
            park();
        }
    }

    /// Runs the unpark hook, if any (a scheduler thread woke from sleep).
    pub(crate) fn after_unpark(&self) {
        if let Some(unpark) = &self.unpark {
            unpark();
        }
    }
}

/// Runs a thread's stop hook when dropped.
pub(crate) struct StopGuard(Option<ThreadCallback>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        if let Some(stop) = &self.0 {
            stop();
        }
    }
}

/// Settings shared by both scheduler flavors, fixed at build time.
#[derive(Clone)]
pub(crate) struct Config {
    /// Ticks between checks of the injector before the local queue (fairness).
    pub(crate) global_queue_interval: u32,
    /// Ticks between maintenance passes (publish metrics, check shutdown, poll the driver).
    pub(crate) event_interval: u32,
    /// Whether a task woken by a running task goes to the waker's LIFO slot.
    pub(crate) lifo_slot: bool,
    pub(crate) thread_name: ThreadNameFn,
    pub(crate) thread_stack_size: Option<usize>,
    /// Run first and last on every worker thread.
    pub(crate) hooks: ThreadHooks,
    /// Which I/O driver the workers' pollers use.
    pub(crate) io_driver: crate::driver::IoDriver,
    /// How each io_uring ring is set up (`Builder::io_uring_entries`, `io_uring_sqpoll`).
    pub(crate) io_uring: crate::driver::RingConfig,
    /// Whether the clock starts paused (`Builder::start_paused`, `test-util` only).
    pub(crate) start_paused: bool,
    /// The runtime's name (`Builder::name`), if given.
    pub(crate) name: Option<Arc<str>>,
    /// Each worker's CPU (`Builder::worker_affinity`), indexed by worker; `None`: unpinned.
    pub(crate) worker_cpus: Option<Arc<[usize]>>,
    /// The histograms the workers keep (`Builder::enable_metrics_*_histogram`).
    pub(crate) metrics: crate::runtime::metrics::MetricsConfig,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("lifo_slot", &self.lifo_slot)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("io_driver", &self.io_driver)
            .field("io_uring", &self.io_uring)
            .field("name", &self.name)
            .field("worker_cpus", &self.worker_cpus)
            .field("metrics", &self.metrics)
            .field("on_thread_start", &self.hooks.start.is_some())
            .field("on_thread_stop", &self.hooks.stop.is_some())
            .field("on_thread_park", &self.hooks.park.is_some())
            .field("on_thread_unpark", &self.hooks.unpark.is_some())
            .finish()
    }
}

impl Config {
    /// A `std::thread::Builder` carrying the configured name and stack size.
    pub(crate) fn thread_builder(&self) -> std::thread::Builder {
        let mut builder = std::thread::Builder::new().name((self.thread_name)());
        if let Some(size) = self.thread_stack_size {
            builder = builder.stack_size(size);
        }
        builder
    }
}
