//! The two scheduler flavors behind one enum (not a trait object, so every call is a
//! direct, inlinable match).

pub(crate) mod current_thread;
pub(crate) mod inject;
pub(crate) mod multi_thread;
pub(crate) mod stamps;

use crate::blocking;
use crate::runtime::metrics::WorkerMetrics;
use crate::task::JoinHandle;
use std::future::Future;
use std::sync::Arc;

/// A reference to a running scheduler; what `runtime::Handle` wraps.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
    MultiThread(Arc<multi_thread::Handle>),
}

/// The per-thread state of the scheduler a thread is running, reachable through
/// `runtime::context::with_scheduler`.
#[derive(Debug)]
pub(crate) enum Context {
    CurrentThread(current_thread::Context),
    MultiThread(multi_thread::Context),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(h) => current_thread::Handle::spawn(h, future),
            Handle::MultiThread(h) => multi_thread::Handle::spawn(h, future),
        }
    }

    /// The local-task set of the `LocalRuntime` this is the scheduler of, if it is one.
    pub(crate) fn local_set(&self) -> Option<&Arc<crate::task::local::Shared>> {
        match self {
            Handle::CurrentThread(h) => h.local.get(),
            Handle::MultiThread(_) => None,
        }
    }

    pub(crate) fn driver(&self) -> &crate::driver::Handle {
        match self {
            Handle::CurrentThread(h) => &h.driver,
            Handle::MultiThread(h) => &h.driver,
        }
    }

    pub(crate) fn config(&self) -> &crate::runtime::config::Config {
        match self {
            Handle::CurrentThread(h) => &h.config,
            Handle::MultiThread(h) => &h.config,
        }
    }

    pub(crate) fn blocking_spawner(&self) -> &blocking::Spawner {
        match self {
            Handle::CurrentThread(h) => &h.blocking,
            Handle::MultiThread(h) => &h.blocking,
        }
    }

    pub(crate) fn num_workers(&self) -> usize {
        match self {
            Handle::CurrentThread(_) => 1,
            Handle::MultiThread(h) => h.num_workers(),
        }
    }

    pub(crate) fn owned_spawned(&self) -> u64 {
        match self {
            Handle::CurrentThread(h) => h.shared.spawned_tasks(),
            Handle::MultiThread(h) => h.shared.owned.spawned(),
        }
    }

    pub(crate) fn owned_alive(&self) -> usize {
        match self {
            Handle::CurrentThread(h) => h.shared.alive_tasks(),
            Handle::MultiThread(h) => h.shared.owned.alive(),
        }
    }

    pub(crate) fn injector_depth(&self) -> usize {
        match self {
            Handle::CurrentThread(h) => h.shared.inject.len(),
            Handle::MultiThread(h) => h.shared.inject.len(),
        }
    }

    pub(crate) fn local_queue_depth(&self, worker: usize) -> usize {
        match self {
            Handle::CurrentThread(h) => {
                assert_eq!(worker, 0, "worker index out of range");
                h.shared.local_queue_depth()
            }
            Handle::MultiThread(h) => h.local_queue_depth(worker),
        }
    }

    pub(crate) fn worker_metrics(&self) -> &[WorkerMetrics] {
        match self {
            Handle::CurrentThread(h) => std::slice::from_ref(&h.shared.metrics),
            Handle::MultiThread(h) => &h.shared.worker_metrics,
        }
    }
}

impl Context {
    /// The timer shard this thread owns in `time`, if it is a worker of that runtime.
    pub(crate) fn timer_shard(&self, time: &Arc<crate::time::TimeDriver>) -> Option<usize> {
        match self {
            Context::CurrentThread(cx) => cx.timer_shard(time),
            Context::MultiThread(cx) => cx.timer_shard(time),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::task::core::test_support::Waiter;
    use crate::task::core::Cell;
    use std::mem::size_of;
    use std::sync::Arc;

    /// Each scheduler's task cell for a small future: glibc serves 72 bytes from an
    /// 80-byte chunk, 80 bytes from a 96-byte one (see `task::core::Header` for why the
    /// multi-thread scheduler's cells carry 8 bytes more). The `tracing` feature adds the
    /// span id to every header.
    #[test]
    fn an_idle_waiter_fits_a_small_heap_chunk() {
        type MultiThread = Arc<super::multi_thread::Handle>;
        type CurrentThread = Arc<super::current_thread::Handle>;
        type Local = crate::task::local::LocalHandle;
        let span_id = if cfg!(feature = "tracing") { 8 } else { 0 };
        assert_eq!(size_of::<Cell<Waiter, CurrentThread>>(), 72 + span_id);
        assert_eq!(size_of::<Cell<Waiter, MultiThread>>(), 80 + span_id);
        assert_eq!(size_of::<Cell<Waiter, Local>>(), 80 + span_id);
    }
}
