use crate::blocking::BlockingPool;
use crate::driver::RingConfig;
use crate::runtime::affinity::{self, WorkerAffinity};
use crate::runtime::config::{Config, ThreadHooks, ThreadNameFn};
use crate::runtime::histogram::HistogramConfiguration;
use crate::runtime::metrics::MetricsConfig;
use crate::runtime::runtime::{Flavor, Runtime};
use crate::runtime::IoDriver;
use crate::runtime::{Handle, LocalOptions, LocalRuntime, RuntimeFlavor};
use crate::scheduler::{self, current_thread::CurrentThread, multi_thread};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Configures and builds a [`Runtime`].
///
/// Setters take `&mut self` and return `&mut Self` so they chain; only
/// [`build`](Self::build) can fail.
///
/// # Examples
/// ```
/// let rt = zokio::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.metrics().num_workers(), 2);
/// ```
pub struct Builder {
    flavor: RuntimeFlavor,
    worker_threads: Option<usize>,
    thread_name: ThreadNameFn,
    thread_stack_size: Option<usize>,
    hooks: ThreadHooks,
    max_blocking_threads: usize,
    keep_alive: Duration,
    global_queue_interval: u32,
    event_interval: u32,
    lifo_slot: bool,
    io_driver: IoDriver,
    io_uring: RingConfig,
    start_paused: bool,
    name: Option<Arc<str>>,
    worker_affinity: WorkerAffinity,
    blocking_affinity: Option<Vec<usize>>,
    /// Whether each histogram is kept, and its layout (set with or without it).
    poll_time_histogram: (bool, HistogramConfiguration),
    schedule_latency_histogram: (bool, HistogramConfiguration),
}

impl Builder {
    /// A builder for the multi-thread, work-stealing flavor.
    pub fn new_multi_thread() -> Builder {
        Builder::new(RuntimeFlavor::MultiThread)
    }

    /// A builder for the current-thread flavor: tasks run on the thread in `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(RuntimeFlavor::CurrentThread)
    }

    fn new(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: Arc::new(|| "zokio-worker".to_string()),
            thread_stack_size: None,
            hooks: ThreadHooks::default(),
            max_blocking_threads: 512,
            keep_alive: Duration::from_secs(10),
            global_queue_interval: 31,
            event_interval: 61,
            lifo_slot: true,
            io_driver: IoDriver::Auto,
            io_uring: RingConfig::default(),
            start_paused: false,
            name: None,
            worker_affinity: WorkerAffinity::Unpinned,
            blocking_affinity: None,
            poll_time_histogram: (false, HistogramConfiguration::default()),
            schedule_latency_histogram: (false, HistogramConfiguration::default()),
        }
    }

    /// Worker threads of the multi-thread flavor. Default: the machine's available
    /// parallelism (`std::thread::available_parallelism`), or 1 if unknown. Ignored by the
    /// current-thread flavor.
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "worker_threads must be greater than 0");
        self.worker_threads = Some(n);
        self
    }

    /// The runtime's name, returned by [`Handle::name`]. Default: none. (Thread names are
    /// [`thread_name`](Self::thread_name)'s.)
    ///
    /// # Panics
    /// If `name` is empty or only whitespace, as in Tokio.
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        assert!(!name.trim().is_empty(), "runtime name shouldn't be empty");
        self.name = Some(name.into());
        self
    }

    /// Name of every thread the runtime starts. Default: `"zokio-worker"`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function naming each thread the runtime starts (called once per thread).
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.thread_name = Arc::new(f);
        self
    }

    /// Pins each worker thread of the multi-thread flavor to one CPU (see
    /// [`WorkerAffinity`]); each worker pins itself as it starts, before its start hook.
    /// Checked by [`build`](Self::build) against the CPUs the building thread may run on.
    /// [`RuntimeMetrics::worker_cpu`](crate::runtime::RuntimeMetrics::worker_cpu) gives
    /// each worker's CPU. Default: [`WorkerAffinity::Unpinned`]. zokio's own: Tokio has no
    /// such option (pin from `on_thread_start` there).
    ///
    /// A current-thread runtime runs its tasks on the thread calling `block_on`, which
    /// zokio does not start: `build` refuses any affinity but `Unpinned` for it.
    pub fn worker_affinity(&mut self, affinity: WorkerAffinity) -> &mut Self {
        self.worker_affinity = affinity;
        self
    }

    /// Restricts every blocking-pool thread (either flavor) to the CPUs `cpus`, set by each
    /// thread as it starts, before its start hook. Checked by [`build`](Self::build) as
    /// [`worker_affinity`](Self::worker_affinity) is. Default: the CPUs of the thread that
    /// starts it, except with a `worker_affinity`, when the CPUs the building thread may
    /// run on (not the one CPU of the pinned worker that started it).
    pub fn blocking_affinity(&mut self, cpus: impl IntoIterator<Item = usize>) -> &mut Self {
        self.blocking_affinity = Some(cpus.into_iter().collect());
        self
    }

    /// Stack size of runtime threads, in bytes. Default: Rust's (2 MiB unless
    /// `RUST_MIN_STACK` says otherwise).
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// A function every thread the runtime starts (each worker of the multi-thread flavor
    /// and each blocking-pool thread) calls on itself before it runs any task: to pin it
    /// to a CPU, say, or to set up thread-local state. The current-thread flavor runs its
    /// tasks on the thread calling `block_on`, which zokio does not start, so there only
    /// blocking-pool threads call it. Same meaning as Tokio's.
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.start = Some(Arc::new(f));
        self
    }

    /// A function every thread the runtime started calls on itself last, as it stops (also
    /// when it unwinds). Same meaning as Tokio's.
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.stop = Some(Arc::new(f));
        self
    }

    /// A function a thread driving the runtime's tasks (a worker, or the thread in a
    /// current-thread `block_on`) calls when it has nothing to run, just before it sleeps.
    /// It runs inside the runtime's context, so it may spawn; a task it spawns or wakes is
    /// run before the thread sleeps. Same meaning as Tokio's.
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.park = Some(Arc::new(f));
        self
    }

    /// A function a thread driving the runtime's tasks calls when it wakes from sleep,
    /// before it runs tasks again. Same meaning as Tokio's.
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.unpark = Some(Arc::new(f));
        self
    }

    /// Most threads the blocking pool starts; further `spawn_blocking` calls queue.
    /// Default: 512.
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be greater than 0");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before exiting. Default: 10 s.
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Self {
        self.keep_alive = duration;
        self
    }

    /// Scheduler ticks between checks of the injector (global queue) ahead of the local
    /// queue. Lower is fairer to remote spawns, higher is cheaper. Default: 31.
    ///
    /// # Panics
    /// If `ticks` is 0.
    #[track_caller]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "global_queue_interval must be greater than 0");
        self.global_queue_interval = ticks;
        self
    }

    /// Scheduler ticks between maintenance passes (publishing metrics, polling the driver
    /// without blocking). Default: 61.
    ///
    /// # Panics
    /// If `ticks` is 0.
    #[track_caller]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "event_interval must be greater than 0");
        self.event_interval = ticks;
        self
    }

    /// Disables the LIFO slot: tasks woken by a running task go to the back of the local
    /// queue instead of running next. Default: enabled.
    pub fn disable_lifo_slot(&mut self) -> &mut Self {
        self.lifo_slot = false;
        self
    }

    /// The I/O driver: [`IoDriver::Auto`] (the default) reads `ZOKIO_DRIVER` and otherwise
    /// prefers io_uring, falling back to epoll if the kernel refuses a ring;
    /// [`IoDriver::IoUring`] makes [`build`](Self::build) fail instead of falling back;
    /// [`IoDriver::Epoll`] never tries io_uring. See `Runtime::io_driver` for the one in
    /// use.
    pub fn io_driver(&mut self, driver: IoDriver) -> &mut Self {
        self.io_driver = driver;
        self
    }

    /// Sizes of each worker's io_uring submission and completion queues, in entries (the
    /// kernel rounds each up to a power of two). Default: 128 and 512. A larger SQ lets
    /// more operations share one `io_uring_enter`; a larger CQ holds more completions
    /// before they wait in the kernel's overflow list; each ring's memory grows with them
    /// (64 bytes per SQE, 16 per CQE). Needs the io_uring driver: with it set, `Auto`
    /// does not fall back to epoll, and `Epoll` makes [`build`](Self::build) fail.
    ///
    /// [`build`](Self::build) fails with `InvalidInput` unless `1 <= sq <= 32,768` and
    /// `sq <= cq <= 65,536`.
    pub fn io_uring_entries(&mut self, sq: u32, cq: u32) -> &mut Self {
        self.io_uring.sq_entries = sq;
        self.io_uring.cq_entries = cq;
        self
    }

    /// Sets up each io_uring ring with `IORING_SETUP_SQPOLL`: a kernel thread takes
    /// submissions from the rings as they are queued, so workers submit without
    /// `io_uring_enter`; after `idle` (whole milliseconds) without submissions it sleeps,
    /// and the next submission wakes it with one `io_uring_enter`. The runtime's rings
    /// share one such thread (`IORING_SETUP_ATTACH_WQ`). It spins on a CPU while there is
    /// work, which on a machine with few cores takes time from the workers. Default: off.
    ///
    /// Needs the io_uring driver, as [`io_uring_entries`](Self::io_uring_entries). If the
    /// kernel refuses SQPOLL (before Linux 5.11 it needs `CAP_SYS_NICE`),
    /// [`build`](Self::build) fails with the kernel's error rather than run without it;
    /// `InvalidInput` for an `idle` under 1 ms or over `u32::MAX` ms.
    pub fn io_uring_sqpoll(&mut self, idle: Duration) -> &mut Self {
        self.io_uring.sqpoll_idle = Some(idle);
        self
    }

    /// Accepted for source compatibility with Tokio; zokio's drivers are always enabled.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted for source compatibility with Tokio; zokio's timer is always enabled.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Accepted for source compatibility with Tokio; zokio's I/O driver is always enabled
    /// (which one: [`io_driver`](Self::io_driver)).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Starts the runtime's clock paused, as [`time::pause`](crate::time::pause) would
    /// right after the build. Current-thread runtimes only. Default: `false`. With the
    /// `test-util` feature only, as in Tokio.
    #[cfg(feature = "test-util")]
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Self {
        self.start_paused = start_paused;
        self
    }

    /// Makes every worker keep a histogram of how long each task poll took, read with
    /// [`RuntimeMetrics::poll_time_histogram_bucket_count`]. Costs two clock reads per
    /// poll (`Instant::now`, tens of ns each). Buckets: Tokio's default of 10 linear
    /// buckets of 100 µs, or those of
    /// [`metrics_poll_time_histogram_configuration`](Self::metrics_poll_time_histogram_configuration).
    /// Default: off.
    ///
    /// [`RuntimeMetrics::poll_time_histogram_bucket_count`]: crate::runtime::RuntimeMetrics::poll_time_histogram_bucket_count
    pub fn enable_metrics_poll_time_histogram(&mut self) -> &mut Self {
        self.poll_time_histogram.0 = true;
        self
    }

    /// The buckets of the poll-time histogram, if enabled (this does not enable it).
    /// A layout with a zero width, zero buckets or more than 4,096 buckets makes
    /// [`build`](Self::build) fail.
    pub fn metrics_poll_time_histogram_configuration(
        &mut self,
        configuration: HistogramConfiguration,
    ) -> &mut Self {
        self.poll_time_histogram.1 = configuration;
        self
    }

    /// Makes every worker keep a histogram of schedule latencies: the time from a task's
    /// wake-up (or spawn) until a worker starts polling it, read with
    /// [`RuntimeMetrics::schedule_latency_histogram_bucket_count`]. Costs a clock read
    /// per schedule and one per poll. On the multi-thread flavor the time is kept in 8
    /// bytes every task there has anyway; a current-thread task has no such word, so that
    /// flavor keeps the times in a queue beside its run queue and one beside its injector
    /// (8 bytes per queued task while queued). Buckets as for the poll-time histogram.
    /// Default: off.
    ///
    /// [`RuntimeMetrics::schedule_latency_histogram_bucket_count`]: crate::runtime::RuntimeMetrics::schedule_latency_histogram_bucket_count
    pub fn enable_metrics_schedule_latency_histogram(&mut self) -> &mut Self {
        self.schedule_latency_histogram.0 = true;
        self
    }

    /// The buckets of the schedule-latency histogram, if enabled (this does not enable
    /// it); refused by [`build`](Self::build) as for the poll-time histogram.
    pub fn metrics_schedule_latency_histogram_configuration(
        &mut self,
        configuration: HistogramConfiguration,
    ) -> &mut Self {
        self.schedule_latency_histogram.1 = configuration;
        self
    }

    /// The histograms to keep, or why the configuration is refused.
    fn metrics_config(&self) -> io::Result<MetricsConfig> {
        let invalid = |option: &str, why: String| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{option}: {why}"))
        };
        let kept = |(on, configuration): (bool, HistogramConfiguration)| {
            on.then_some(configuration.layout)
        };
        let poll_time = kept(self.poll_time_histogram);
        if let Some(layout) = poll_time {
            layout
                .check()
                .map_err(|why| invalid("metrics_poll_time_histogram_configuration", why))?;
        }
        let schedule_latency = kept(self.schedule_latency_histogram);
        if let Some(layout) = schedule_latency {
            layout
                .check()
                .map_err(|why| invalid("metrics_schedule_latency_histogram_configuration", why))?;
        }
        Ok(MetricsConfig {
            poll_time,
            schedule_latency,
        })
    }

    /// Builds the runtime and starts its worker threads.
    ///
    /// # Errors
    /// If the OS refuses to start a worker thread or to create a poller (an epoll set or
    /// ring, e.g. `EMFILE`); with [`IoDriver::IoUring`], if the kernel refuses io_uring;
    /// `InvalidInput` if `ZOKIO_DRIVER` holds an unknown name, for `start_paused` on the
    /// multi-thread flavor, for a worker or blocking affinity that is empty or names a CPU
    /// the building thread may not run on, or for a worker affinity on the current-thread
    /// flavor, for ring sizes or an SQPOLL idle time out of range or set with the epoll
    /// driver, or for a histogram configuration `metrics_*_histogram_configuration`
    /// refuses.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = self.worker_threads.unwrap_or_else(default_workers);
        let metrics = self.metrics_config()?;
        self.io_uring
            .check()
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        if self.flavor == RuntimeFlavor::CurrentThread
            && self.worker_affinity != WorkerAffinity::Unpinned
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "worker_affinity: a current-thread runtime has no worker threads (its tasks run on the thread calling block_on; pin that thread yourself)",
            ));
        }
        let worker_cpus = self.worker_affinity.resolve(workers)?;
        let mut blocking_cpus = affinity::resolve_blocking(self.blocking_affinity.as_deref())?;
        if blocking_cpus.is_none() && worker_cpus.is_some() {
            // A blocking thread started by a pinned worker would inherit its one CPU: give
            // blocking threads the CPUs the building thread may run on instead.
            blocking_cpus = Some(affinity::allowed_cpus()?.into());
        }
        let config = Config {
            global_queue_interval: self.global_queue_interval,
            event_interval: self.event_interval,
            lifo_slot: self.lifo_slot,
            thread_name: self.thread_name.clone(),
            thread_stack_size: self.thread_stack_size,
            hooks: self.hooks.clone(),
            io_driver: self.io_driver.resolve_env()?,
            io_uring: self.io_uring,
            start_paused: self.start_paused,
            name: self.name.clone(),
            worker_cpus,
            metrics,
        };
        let blocking_pool = BlockingPool::new(
            self.blocking_thread_name(),
            self.thread_stack_size,
            self.hooks.clone(),
            blocking_cpus,
            self.max_blocking_threads,
            self.keep_alive,
        );
        let spawner = blocking_pool.spawner().clone();
        let (flavor, handle) = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                let (scheduler, handle) = CurrentThread::new(config, spawner)?;
                (
                    Flavor::CurrentThread(scheduler),
                    scheduler::Handle::CurrentThread(handle),
                )
            }
            RuntimeFlavor::MultiThread => {
                let handle = multi_thread::launch(workers, config, spawner)?;
                (Flavor::MultiThread, scheduler::Handle::MultiThread(handle))
            }
        };
        Ok(Runtime::from_parts(
            flavor,
            Handle { inner: handle },
            blocking_pool,
        ))
    }

    /// Builds a [`LocalRuntime`]: a current-thread runtime whose tasks may be `!Send`
    /// ([`spawn_local`](crate::task::spawn_local) works in every one of its tasks).
    ///
    /// # Errors
    /// `InvalidInput` if this builder is for the multi-thread flavor (a local runtime has one
    /// thread); otherwise as [`build`](Self::build).
    pub fn build_local(&mut self, options: LocalOptions) -> io::Result<LocalRuntime> {
        let LocalOptions { .. } = options;
        if self.flavor != RuntimeFlavor::CurrentThread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "build_local needs Builder::new_current_thread(): a local runtime runs on one thread",
            ));
        }
        self.build().map(LocalRuntime::from_runtime)
    }

    /// Blocking threads get the worker name with a counter appended, so they can be told
    /// apart in a profiler.
    fn blocking_thread_name(&self) -> ThreadNameFn {
        let base = self.thread_name.clone();
        let counter = AtomicUsize::new(0);
        Arc::new(move || format!("{}-blocking-{}", base(), counter.fetch_add(1, Relaxed)))
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.keep_alive)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("event_interval", &self.event_interval)
            .field("lifo_slot", &self.lifo_slot)
            .field("io_driver", &self.io_driver)
            .field("io_uring", &self.io_uring)
            .field("name", &self.name)
            .field("worker_affinity", &self.worker_affinity)
            .field("blocking_affinity", &self.blocking_affinity)
            .field("poll_time_histogram", &self.poll_time_histogram)
            .field(
                "schedule_latency_histogram",
                &self.schedule_latency_histogram,
            )
            .finish()
    }
}
