use crate::blocking::BlockingPool;
use crate::runtime::{park, Builder, EnterGuard, Handle, RuntimeMetrics};
use crate::scheduler::{self, current_thread::CurrentThread};
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

/// Which scheduler a runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task runs on the thread in `block_on`.
    CurrentThread,
    /// Work-stealing worker threads.
    MultiThread,
}

pub(crate) enum Flavor {
    CurrentThread(CurrentThread),
    MultiThread,
}

/// A zokio runtime: a scheduler, its worker threads and its blocking pool.
///
/// Dropping it shuts it down: every task still alive is cancelled (its future is dropped,
/// its `JoinHandle` yields a cancelled `JoinError`), worker threads exit, blocking closures
/// spawned after it are refused, and the drop waits for the blocking closures spawned
/// before it (running or queued) to return, as Tokio's does. Use
/// [`shutdown_timeout`](Self::shutdown_timeout) to bound that wait.
pub struct Runtime {
    flavor: Flavor,
    handle: Handle,
    blocking_pool: BlockingPool,
    is_shut_down: bool,
}

// A panic that unwinds out of `block_on` (or out of code holding a `&Runtime`) leaves the
// runtime usable: the scheduler's state changes under locks or in the owning thread's
// core, which `block_on` hands back (its guards run during the unwind), and a task's
// panic is caught at the task. As Tokio's runtime.
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Runtime {
    pub(crate) fn from_parts(
        flavor: Flavor,
        handle: Handle,
        blocking_pool: BlockingPool,
    ) -> Runtime {
        Runtime {
            flavor,
            handle,
            blocking_pool,
            is_shut_down: false,
        }
    }

    /// A multi-thread runtime with default settings (one worker per available core).
    ///
    /// # Errors
    /// If the OS refuses to start a worker thread.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on the current thread and returns its output; tasks it
    /// spawns run on the runtime. On the current-thread flavor this thread also runs them.
    ///
    /// # Panics
    /// If called from inside a runtime (a task, or another `block_on`): blocking a thread
    /// that drives tasks would deadlock them. If `future` panics, the panic propagates.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let future = crate::util::trace::block_on(future);
        match (&self.flavor, &self.handle.inner) {
            (Flavor::CurrentThread(scheduler), scheduler::Handle::CurrentThread(handle)) => {
                scheduler.block_on(handle, future)
            }
            _ => {
                let _enter = crate::runtime::context::enter_runtime(&self.handle.inner, true);
                park::block_on(future)
            }
        }
    }

    /// Spawns a task on this runtime from any thread; see [`Handle::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on this runtime's blocking pool; see
    /// [`task::spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A cloneable handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one (for [`crate::spawn`]) until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down like dropping the runtime, but waits at most `timeout` for worker threads
    /// to finish their current poll and for running blocking closures to return; threads
    /// still busy after that are left to finish on their own (detached).
    ///
    /// # Panics
    /// As dropping the runtime: with a non-zero `timeout`, inside a task or `block_on`.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for any thread; equivalent to `shutdown_timeout(0)`.
    /// Allowed anywhere, including inside a task.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// # Panics
    /// If the shutdown may wait (`timeout` is not zero) and this thread drives a runtime
    /// (inside a task or `block_on`), as Tokio does: the runtime is first shut down without
    /// waiting, then the panic says where the mistake is, instead of a silent stall of the
    /// tasks this thread runs.
    fn shutdown(&mut self, timeout: Option<Duration>) {
        if self.is_shut_down {
            return;
        }
        let may_block = timeout != Some(Duration::ZERO);
        if may_block && crate::runtime::context::is_entered() && !std::thread::panicking() {
            self.shutdown(Some(Duration::ZERO));
            panic!(
                "Cannot drop a runtime in a context where blocking is not allowed. This happens \
                 when a runtime is dropped from within an asynchronous context."
            );
        }
        self.is_shut_down = true;
        let _current = crate::runtime::context::set_current(&self.handle.inner);
        match (&self.flavor, &self.handle.inner) {
            (Flavor::CurrentThread(scheduler), scheduler::Handle::CurrentThread(handle)) => {
                scheduler.shutdown(handle);
            }
            (_, scheduler::Handle::MultiThread(handle)) => {
                handle.shutdown();
                handle.shared.threads.wait(timeout);
                // Backstop: cancel whatever the workers did not reach (a worker stuck in a
                // poll past the timeout). Idempotent with the workers' own pass.
                handle.shared.owned.close_and_shutdown_all(0);
                while let Some(task) = handle.shared.inject.pop() {
                    drop(task);
                }
            }
            _ => unreachable!("flavor and handle always match"),
        }
        self.blocking_pool.shutdown(timeout);
        self.handle.inner.driver().shutdown();
    }
}

impl Drop for Runtime {
    /// Shuts the runtime down (see the type's docs).
    ///
    /// # Panics
    /// Inside a task or `block_on` (of any runtime), after shutting down without waiting:
    /// use [`Runtime::shutdown_background`] there.
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.runtime_flavor())
            .finish_non_exhaustive()
    }
}
