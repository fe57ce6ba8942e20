use super::idle::Idle;
use super::queue;
use crate::blocking;
use crate::driver::{self, Unparker};
use crate::loom::atomic::{AtomicBool, AtomicU32, Ordering::*};
use crate::runtime::config::Config;
use crate::runtime::context;
use crate::runtime::metrics::WorkerMetrics;
use crate::scheduler::{self, inject::Inject};
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, Schedule, Task};
use crate::util::thread_group::ThreadGroup;
use std::future::Future;
use std::sync::Arc;

/// The shared side of a multi-thread runtime; every task holds an `Arc` of it.
#[derive(Debug)]
pub(crate) struct Handle {
    pub(crate) shared: Shared,
    pub(crate) driver: driver::Handle,
    pub(crate) blocking: blocking::Spawner,
    pub(crate) config: Config,
}

/// State shared by all workers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) inject: Inject<Arc<Handle>>,
    pub(crate) idle: Idle,
    pub(crate) owned: OwnedTasks<Arc<Handle>>,
    pub(crate) worker_metrics: Box<[WorkerMetrics]>,
    pub(crate) threads: Arc<ThreadGroup>,
    pub(crate) is_shutdown: AtomicBool,
    /// Wake-ups for yields, thinned out while they keep being wasted: a worker skips
    /// `2^yield_wake_backoff - 1` of them for each one it sends (see
    /// `Context::schedule_local`). Raised by one (up to [`MAX_YIELD_WAKE_BACKOFF`]) each
    /// time a worker woken for a yield parks again after fewer than [`SHORT_WAKE_POLLS`]
    /// polls; back to 0 when one runs longer.
    pub(crate) yield_wake_backoff: AtomicU32,
    /// The origin of the schedule times kept in tasks' margins, if the runtime keeps the
    /// schedule-latency histogram (`Builder::enable_metrics_schedule_latency_histogram`).
    pub(crate) schedule_epoch: Option<std::time::Instant>,
}

/// See [`Shared::yield_wake_backoff`]: at most 255 of 256 yield wake-ups are skipped, so
/// two tasks yielding to each other on one worker still reach an idle sibling within 256
/// yields.
pub(crate) const MAX_YIELD_WAKE_BACKOFF: u32 = 8;

/// A worker woken for a yield that parks again within this many polls was woken for
/// nothing it could keep: it took a task that went back to where its partner runs (a
/// channel's producer and consumer, each yielding on a spent coop budget).
pub(crate) const SHORT_WAKE_POLLS: u64 = 64;

/// What other threads may touch of one worker.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) steal: queue::Steal<Notified<Arc<Handle>>>,
    pub(crate) unpark: Unparker,
    /// Set by a worker that wakes this one for a yield, read when this one wakes.
    pub(crate) woken_for_yield: AtomicBool,
}

impl Handle {
    pub(crate) fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    pub(crate) fn local_queue_depth(&self, worker: usize) -> usize {
        self.shared.remotes[worker].steal.len()
    }

    pub(crate) fn spawn<F>(me: &Arc<Handle>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        me.shared.owned.spawn(future, me)
    }

    /// Routes a task to the current worker's queues if this thread is one of our workers,
    /// else to the injector.
    pub(crate) fn schedule_task(&self, task: Notified<Arc<Handle>>, is_yield: bool) {
        if let Some(epoch) = self.shared.schedule_epoch {
            stamp(epoch, &task);
        }
        context::with_scheduler(|cx| {
            if let Some(scheduler::Context::MultiThread(cx)) = cx {
                if std::ptr::eq(&*cx.handle, self) {
                    if let Err(task) = cx.schedule_local(task, is_yield) {
                        self.push_remote_task(task);
                    }
                    return;
                }
            }
            self.push_remote_task(task);
        });
    }

    pub(crate) fn push_remote_task(&self, task: Notified<Arc<Handle>>) {
        self.shared.inject.push(task);
        self.notify_parked();
    }

    /// Wakes a parked worker if none is searching.
    pub(crate) fn notify_parked(&self) {
        if let Some(worker) = self.shared.idle.worker_to_notify() {
            self.shared.remotes[worker].unpark.unpark();
        }
    }

    /// As [`notify_parked`](Self::notify_parked), for a task that yielded: the woken
    /// worker is told why, so that it can report whether the wake-up paid off.
    pub(crate) fn notify_parked_for_yield(&self) {
        if let Some(worker) = self.shared.idle.worker_to_notify() {
            self.shared.remotes[worker]
                .woken_for_yield
                .store(true, Relaxed);
            self.shared.remotes[worker].unpark.unpark();
        }
    }

    /// Called by the last searcher before it parks: wakes a worker if any queue has work.
    pub(crate) fn notify_if_work_pending(&self) {
        let pending = self.shared.remotes.iter().any(|r| !r.steal.is_empty())
            || !self.shared.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }

    /// Starts shutdown: closes the injector and wakes every worker. Idempotent.
    pub(crate) fn shutdown(&self) {
        if self.shared.inject.close() {
            self.shared.is_shutdown.store(true, SeqCst);
            for remote in self.shared.remotes.iter() {
                remote.unpark.unpark();
            }
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown.load(Acquire)
    }
}

/// Records in `task`'s margin when it was scheduled (the schedule-latency histogram).
#[cold]
fn stamp(epoch: std::time::Instant, task: &Notified<Arc<Handle>>) {
    task.0
        .extra()
        .set_scheduled_at(crate::scheduler::stamps::nanos_since(epoch));
}

impl Schedule for Arc<Handle> {
    /// Keeps the hot bytes of tasks polled on different workers off each other's cache
    /// lines (see `task::core::Header`).
    type TaskExtra = crate::task::core::Margin;

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.shared.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }
}
