//! Runtime metrics: counters each worker keeps in plain integers on its own core and
//! publishes to shared atomics every `event_interval` ticks and before it parks, so the hot
//! path pays no atomic per poll. Readings therefore lag by at most one interval of a busy
//! worker (61 polls by default) and are exact once workers are idle.
//!
//! Busy time is measured at park, at unpark and at each publication (one clock read per
//! `event_interval` polls). The two histograms ([`MetricsConfig`]) cost clock reads per
//! poll and per schedule, so they are off unless the builder asks for them, and a
//! multi-thread worker without them runs a copy of its loop that has no timing code
//! (`worker.rs`, `run_loop::<false>`).

use crate::runtime::histogram::Layout;
use crate::runtime::Handle;
use crate::scheduler;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Which histograms the workers keep (`Builder::enable_metrics_*_histogram`), with their
/// bucket layouts; `None`: not kept, and nothing is timed for it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MetricsConfig {
    pub(crate) poll_time: Option<Layout>,
    pub(crate) schedule_latency: Option<Layout>,
}

/// Published per-worker counters.
#[derive(Debug, Default)]
pub(crate) struct WorkerMetrics {
    polls: AtomicU64,
    steals: AtomicU64,
    steal_operations: AtomicU64,
    parks: AtomicU64,
    unparks: AtomicU64,
    /// Parks plus unparks: odd while the worker is parked (Tokio's definition).
    park_unparks: AtomicU64,
    /// Nanoseconds spent running tasks and the driver, i.e. not parked.
    busy_ns: AtomicU64,
    overflows: AtomicU64,
    lifo_polls: AtomicU64,
    /// The CPU the worker pinned itself to, plus one; 0 while unpinned.
    cpu: AtomicUsize,
    /// Boxed, as in `Stats`: a worker without histograms (the default) keeps 8 bytes each.
    poll_times: Option<Box<Published>>,
    schedule_latencies: Option<Box<Published>>,
}

/// A histogram's published buckets.
#[derive(Debug)]
struct Published {
    layout: Layout,
    buckets: Box<[AtomicU64]>,
}

impl WorkerMetrics {
    pub(crate) fn new(config: &MetricsConfig) -> WorkerMetrics {
        let published = |layout: Layout| {
            Box::new(Published {
                layout,
                buckets: (0..layout.num_buckets())
                    .map(|_| AtomicU64::new(0))
                    .collect(),
            })
        };
        WorkerMetrics {
            poll_times: config.poll_time.map(published),
            schedule_latencies: config.schedule_latency.map(published),
            ..WorkerMetrics::default()
        }
    }

    /// Records the CPU the worker pinned itself to.
    pub(crate) fn set_cpu(&self, cpu: usize) {
        self.cpu.store(cpu + 1, Relaxed);
    }
}

/// A worker's own counters, published with [`Stats::submit`].
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) polls: u64,
    pub(crate) steals: u64,
    pub(crate) steal_operations: u64,
    pub(crate) parks: u64,
    pub(crate) unparks: u64,
    pub(crate) overflows: u64,
    pub(crate) lifo_polls: u64,
    park_unparks: u64,
    busy: Duration,
    /// When the current busy stretch (or its part not yet added to `busy`) began.
    busy_since: Instant,
    /// Boxed: a worker without histograms (the default) keeps 8 bytes each, not 48.
    poll_times: Option<Box<Counts>>,
    schedule_latencies: Option<Box<Counts>>,
}

/// A histogram's buckets as the worker counts them.
#[derive(Debug)]
struct Counts {
    layout: Layout,
    buckets: Box<[u64]>,
}

impl Counts {
    fn new(layout: Layout) -> Counts {
        Counts {
            layout,
            buckets: vec![0; layout.num_buckets()].into_boxed_slice(),
        }
    }

    #[inline]
    fn record(&mut self, nanos: u64) {
        self.buckets[self.layout.bucket(nanos)] += 1;
    }
}

impl Stats {
    pub(crate) fn new(config: &MetricsConfig) -> Stats {
        Stats {
            polls: 0,
            steals: 0,
            steal_operations: 0,
            parks: 0,
            unparks: 0,
            overflows: 0,
            lifo_polls: 0,
            park_unparks: 0,
            busy: Duration::ZERO,
            busy_since: Instant::now(),
            poll_times: config.poll_time.map(|l| Box::new(Counts::new(l))),
            schedule_latencies: config.schedule_latency.map(|l| Box::new(Counts::new(l))),
        }
    }

    /// Whether polls go through the measuring path (either histogram kept).
    #[inline]
    pub(crate) fn keeps_histograms(&self) -> bool {
        self.poll_times.is_some() || self.schedule_latencies.is_some()
    }

    /// Whether each poll is to be timed for the poll-time histogram.
    #[inline]
    pub(crate) fn times_polls(&self) -> bool {
        self.poll_times.is_some()
    }

    /// Whether polls are to be preceded by a read of the task's schedule time.
    #[inline]
    pub(crate) fn tracks_schedule_latency(&self) -> bool {
        self.schedule_latencies.is_some()
    }

    /// Counts one poll that ran for `elapsed`.
    pub(crate) fn record_poll_time(&mut self, elapsed: Duration) {
        if let Some(counts) = &mut self.poll_times {
            counts.record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        }
    }

    /// Counts one task polled `nanos` after it was scheduled.
    pub(crate) fn record_schedule_latency(&mut self, nanos: u64) {
        if let Some(counts) = &mut self.schedule_latencies {
            counts.record(nanos);
        }
    }

    /// The worker is about to park: ends its busy stretch and publishes the transition at
    /// once (so the park/unpark count is odd while it sleeps).
    pub(crate) fn about_to_park(&mut self, to: &WorkerMetrics) {
        self.parks += 1;
        self.park_unparks += 1;
        let now = Instant::now();
        self.busy += now.saturating_duration_since(self.busy_since);
        self.busy_since = now;
        self.submit(to);
    }

    /// The worker woke from park (and will look for work): starts a busy stretch.
    pub(crate) fn unparked(&mut self, to: &WorkerMetrics) {
        self.unparks += 1;
        self.park_unparks += 1;
        self.busy_since = Instant::now();
        to.park_unparks.store(self.park_unparks, Relaxed);
    }

    /// Publishes every counter. The busy time includes the current stretch so far, so a
    /// worker that never parks still shows its time.
    pub(crate) fn submit(&mut self, to: &WorkerMetrics) {
        to.polls.store(self.polls, Relaxed);
        to.steals.store(self.steals, Relaxed);
        to.steal_operations.store(self.steal_operations, Relaxed);
        to.parks.store(self.parks, Relaxed);
        to.unparks.store(self.unparks, Relaxed);
        to.park_unparks.store(self.park_unparks, Relaxed);
        to.overflows.store(self.overflows, Relaxed);
        to.lifo_polls.store(self.lifo_polls, Relaxed);
        if self.park_unparks.is_multiple_of(2) {
            let now = Instant::now();
            self.busy += now.saturating_duration_since(self.busy_since);
            self.busy_since = now;
        }
        to.busy_ns.store(
            u64::try_from(self.busy.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        for (counts, published) in [
            (&self.poll_times, &to.poll_times),
            (&self.schedule_latencies, &to.schedule_latencies),
        ] {
            if let (Some(counts), Some(published)) = (counts, published) {
                for (count, slot) in counts.buckets.iter().zip(published.buckets.iter()) {
                    slot.store(*count, Relaxed);
                }
            }
        }
    }
}

/// A view of a runtime's counters, from [`Runtime::metrics`](crate::runtime::Runtime::metrics)
/// or [`Handle::metrics`].
///
/// Counters are totals since the runtime started. Per-worker counters take a worker index in
/// `0..num_workers()`; the current-thread flavor has one worker, index 0.
///
/// # Panics
/// The `worker_*` methods panic if the index is out of range.
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    fn inner(&self) -> &scheduler::Handle {
        &self.handle.inner
    }

    /// Worker threads (1 for the current-thread flavor).
    pub fn num_workers(&self) -> usize {
        self.inner().num_workers()
    }

    /// Tasks spawned since the runtime started (blocking tasks excluded).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.inner().owned_spawned()
    }

    /// Tasks spawned and not yet completed (blocking tasks excluded).
    pub fn num_alive_tasks(&self) -> usize {
        self.inner().owned_alive()
    }

    /// Tasks waiting in the global queue (the injector: tasks spawned or woken from outside
    /// the workers, and local queues' overflow).
    pub fn global_queue_depth(&self) -> usize {
        self.inner().injector_depth()
    }

    /// Threads currently in the blocking pool, idle or busy.
    pub fn num_blocking_threads(&self) -> usize {
        self.inner().blocking_spawner().num_threads()
    }

    /// Blocking-pool threads waiting for work.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.inner().blocking_spawner().num_idle_threads()
    }

    /// Tasks queued for the blocking pool and not yet started.
    pub fn blocking_queue_depth(&self) -> usize {
        self.inner().blocking_spawner().queue_depth()
    }

    /// Tasks waiting in worker `worker`'s local run queue (LIFO slot excluded).
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.inner().local_queue_depth(worker)
    }

    /// Task polls by worker `worker`.
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.worker(worker).polls.load(Relaxed)
    }

    /// Polls of tasks taken from worker `worker`'s LIFO slot.
    pub fn worker_lifo_poll_count(&self, worker: usize) -> u64 {
        self.worker(worker).lifo_polls.load(Relaxed)
    }

    /// Tasks worker `worker` stole from other workers.
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.worker(worker).steals.load(Relaxed)
    }

    /// Successful steal operations by worker `worker` (each moves up to half a queue).
    pub fn worker_steal_operations(&self, worker: usize) -> u64 {
        self.worker(worker).steal_operations.load(Relaxed)
    }

    /// Times worker `worker` parked (went to sleep with nothing to run).
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.worker(worker).parks.load(Relaxed)
    }

    /// Times worker `worker` was woken from park to look for work.
    pub fn worker_unpark_count(&self, worker: usize) -> u64 {
        self.worker(worker).unparks.load(Relaxed)
    }

    /// Times worker `worker` parked plus times it woke: odd while it is parked, even while
    /// it runs (Tokio's definition).
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        self.worker(worker).park_unparks.load(Relaxed)
    }

    /// Time worker `worker` has spent not parked (running tasks, polling the driver,
    /// looking for work) since the runtime started. Published with the other counters, so
    /// a busy worker's figure lags by at most `event_interval` polls.
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(self.worker(worker).busy_ns.load(Relaxed))
    }

    /// Whether the workers keep a histogram of task poll times
    /// ([`Builder::enable_metrics_poll_time_histogram`]).
    ///
    /// [`Builder::enable_metrics_poll_time_histogram`]: crate::runtime::Builder::enable_metrics_poll_time_histogram
    pub fn poll_time_histogram_enabled(&self) -> bool {
        self.worker(0).poll_times.is_some()
    }

    /// Buckets of the poll-time histogram; 0 if it is not kept.
    pub fn poll_time_histogram_num_buckets(&self) -> usize {
        self.worker(0)
            .poll_times
            .as_ref()
            .map_or(0, |h| h.layout.num_buckets())
    }

    /// The poll durations bucket `bucket` of the poll-time histogram counts: the first
    /// starts at zero, the last ends at `u64::MAX` ns. An empty range if it is not kept.
    ///
    /// # Panics
    /// If the histogram is kept and `bucket >= poll_time_histogram_num_buckets()`.
    #[track_caller]
    pub fn poll_time_histogram_bucket_range(&self, bucket: usize) -> Range<Duration> {
        bucket_range(self.worker(0).poll_times.as_deref(), bucket)
    }

    /// Polls by worker `worker` whose duration fell in bucket `bucket`; 0 if the histogram
    /// is not kept.
    ///
    /// # Panics
    /// If `worker >= num_workers()`, or the histogram is kept and `bucket` is out of range.
    #[track_caller]
    pub fn poll_time_histogram_bucket_count(&self, worker: usize, bucket: usize) -> u64 {
        bucket_count(self.worker(worker).poll_times.as_deref(), bucket)
    }

    /// Whether the workers keep a histogram of schedule latencies, the time from a task's
    /// wake-up (or spawn) to the start of its poll
    /// ([`Builder::enable_metrics_schedule_latency_histogram`]).
    ///
    /// [`Builder::enable_metrics_schedule_latency_histogram`]: crate::runtime::Builder::enable_metrics_schedule_latency_histogram
    pub fn schedule_latency_histogram_enabled(&self) -> bool {
        self.worker(0).schedule_latencies.is_some()
    }

    /// Buckets of the schedule-latency histogram; 0 if it is not kept.
    pub fn schedule_latency_histogram_num_buckets(&self) -> usize {
        self.worker(0)
            .schedule_latencies
            .as_ref()
            .map_or(0, |h| h.layout.num_buckets())
    }

    /// The latencies bucket `bucket` of the schedule-latency histogram counts; an empty
    /// range if it is not kept.
    ///
    /// # Panics
    /// If the histogram is kept and `bucket` is out of range.
    #[track_caller]
    pub fn schedule_latency_histogram_bucket_range(&self, bucket: usize) -> Range<Duration> {
        bucket_range(self.worker(0).schedule_latencies.as_deref(), bucket)
    }

    /// Polls by worker `worker` whose task had waited a schedule latency in bucket
    /// `bucket`; 0 if the histogram is not kept.
    ///
    /// # Panics
    /// If `worker >= num_workers()`, or the histogram is kept and `bucket` is out of range.
    #[track_caller]
    pub fn schedule_latency_histogram_bucket_count(&self, worker: usize, bucket: usize) -> u64 {
        bucket_count(self.worker(worker).schedule_latencies.as_deref(), bucket)
    }

    /// Times worker `worker`'s local queue was full and half of it moved to the injector.
    pub fn worker_overflow_count(&self, worker: usize) -> u64 {
        self.worker(worker).overflows.load(Relaxed)
    }

    /// The CPU worker `worker` is pinned to
    /// ([`Builder::worker_affinity`](crate::runtime::Builder::worker_affinity)), once it
    /// has pinned itself; `None` for an unpinned worker (and on the current-thread flavor).
    pub fn worker_cpu(&self, worker: usize) -> Option<usize> {
        self.worker(worker).cpu.load(Relaxed).checked_sub(1)
    }

    /// The CPUs blocking-pool threads are restricted to
    /// ([`Builder::blocking_affinity`](crate::runtime::Builder::blocking_affinity)),
    /// ascending (with a worker affinity and no blocking affinity, the building thread's
    /// CPUs); `None` if neither was set.
    pub fn blocking_affinity(&self) -> Option<Vec<usize>> {
        self.inner()
            .blocking_spawner()
            .cpus()
            .map(<[usize]>::to_vec)
    }

    /// The I/O driver the runtime runs (`IoUring` or `Epoll`, never `Auto`).
    pub fn io_driver(&self) -> crate::runtime::IoDriver {
        #[cfg(not(loom))]
        return self.inner().driver().io.driver();
        #[cfg(loom)]
        crate::runtime::IoDriver::Epoll
    }

    /// Each io_uring ring's submission and completion queue sizes, in entries, as the
    /// kernel sets them up (powers of two; [`Builder::io_uring_entries`]); `None` on
    /// epoll.
    ///
    /// [`Builder::io_uring_entries`]: crate::runtime::Builder::io_uring_entries
    pub fn io_uring_entries(&self) -> Option<(u32, u32)> {
        let ring = &self.inner().config().io_uring;
        (self.io_driver() == crate::runtime::IoDriver::IoUring).then(|| {
            (
                ring.sq_entries.next_power_of_two(),
                ring.cq_entries.next_power_of_two(),
            )
        })
    }

    /// The idle time after which the rings' shared SQPOLL thread sleeps
    /// ([`Builder::io_uring_sqpoll`]); `None` without SQPOLL (and on epoll).
    ///
    /// [`Builder::io_uring_sqpoll`]: crate::runtime::Builder::io_uring_sqpoll
    pub fn io_uring_sqpoll(&self) -> Option<Duration> {
        let idle = self.inner().config().io_uring.sqpoll_idle?;
        (self.io_driver() == crate::runtime::IoDriver::IoUring)
            .then(|| Duration::from_millis(idle.as_millis() as u64))
    }

    /// Sockets registered with worker `worker`'s I/O poller plus io_uring operations in
    /// flight on it, now: where the runtime's I/O is placed. A socket is registered with the
    /// worker that creates it; one from `accept`, with the worker last seen on the CPU its
    /// packets arrive on (see `driver/mod.rs`).
    ///
    /// # Panics
    /// If `worker >= num_workers()`.
    pub fn worker_io_live_count(&self, worker: usize) -> usize {
        #[cfg(not(loom))]
        return self.inner().driver().io.live(worker);
        #[cfg(loom)]
        {
            let _ = worker;
            0
        }
    }

    /// `io_uring_enter` calls that submitted at least one SQE, over all workers' rings
    /// (0 on epoll). With [`io_submitted_entries`](Self::io_submitted_entries), gives the
    /// mean batch: SQEs per submitting syscall. With SQPOLL
    /// ([`Builder::io_uring_sqpoll`](crate::runtime::Builder::io_uring_sqpoll)), the
    /// calls that woke the kernel's polling thread (0 while it keeps up).
    pub fn io_submit_calls(&self) -> u64 {
        self.io_submit_stats().0
    }

    /// SQEs submitted to the kernel over all workers' rings (0 on epoll); with SQPOLL,
    /// SQEs queued for the polling thread.
    pub fn io_submitted_entries(&self) -> u64 {
        self.io_submit_stats().1
    }

    fn io_submit_stats(&self) -> (u64, u64) {
        #[cfg(not(loom))]
        return self.inner().driver().io.submit_stats();
        #[cfg(loom)]
        (0, 0)
    }

    #[track_caller]
    fn worker(&self, worker: usize) -> &WorkerMetrics {
        let all = self.inner().worker_metrics();
        assert!(
            worker < all.len(),
            "worker index {worker} out of range (0..{})",
            all.len()
        );
        &all[worker]
    }
}

#[track_caller]
fn bucket_range(histogram: Option<&Published>, bucket: usize) -> Range<Duration> {
    histogram.map_or(Duration::ZERO..Duration::ZERO, |h| {
        let Range { start, end } = h.layout.range(bucket);
        Duration::from_nanos(start)..Duration::from_nanos(end)
    })
}

#[track_caller]
fn bucket_count(histogram: Option<&Published>, bucket: usize) -> u64 {
    histogram.map_or(0, |h| {
        let buckets = h.buckets.len();
        assert!(
            bucket < buckets,
            "histogram bucket {bucket} out of range (0..{buckets})"
        );
        h.buckets[bucket].load(Relaxed)
    })
}
