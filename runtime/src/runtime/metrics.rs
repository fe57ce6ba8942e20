//! Runtime metrics: counters each worker keeps in plain integers on its own core and
//! publishes to shared atomics every `event_interval` ticks and before it parks, so the hot
//! path pays no atomic per poll. Readings therefore lag by at most one interval of a busy
//! worker (61 polls by default) and are exact once workers are idle.

use crate::runtime::Handle;
use crate::scheduler;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Published per-worker counters.
#[derive(Debug, Default)]
pub(crate) struct WorkerMetrics {
    polls: AtomicU64,
    steals: AtomicU64,
    steal_operations: AtomicU64,
    parks: AtomicU64,
    unparks: AtomicU64,
    overflows: AtomicU64,
    lifo_polls: AtomicU64,
    /// The CPU the worker pinned itself to, plus one; 0 while unpinned.
    cpu: AtomicUsize,
}

impl WorkerMetrics {
    /// Records the CPU the worker pinned itself to.
    pub(crate) fn set_cpu(&self, cpu: usize) {
        self.cpu.store(cpu + 1, Relaxed);
    }
}

/// A worker's own counters, published with [`Stats::submit`].
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) polls: u64,
    pub(crate) steals: u64,
    pub(crate) steal_operations: u64,
    pub(crate) parks: u64,
    pub(crate) unparks: u64,
    pub(crate) overflows: u64,
    pub(crate) lifo_polls: u64,
}

impl Stats {
    pub(crate) fn submit(&self, to: &WorkerMetrics) {
        to.polls.store(self.polls, Relaxed);
        to.steals.store(self.steals, Relaxed);
        to.steal_operations.store(self.steal_operations, Relaxed);
        to.parks.store(self.parks, Relaxed);
        to.unparks.store(self.unparks, Relaxed);
        to.overflows.store(self.overflows, Relaxed);
        to.lifo_polls.store(self.lifo_polls, Relaxed);
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

    /// Tasks waiting in the injector (the global queue for remote spawns and overflow).
    pub fn injector_depth(&self) -> usize {
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
    /// mean batch: SQEs per submitting syscall.
    pub fn io_submit_calls(&self) -> u64 {
        self.io_submit_stats().0
    }

    /// SQEs submitted to the kernel over all workers' rings (0 on epoll).
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
