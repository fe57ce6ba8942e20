//! [`LocalRuntime`]: a current-thread runtime whose tasks may be `!Send`, as Tokio's.

use crate::runtime::{Builder, EnterGuard, Handle, Runtime, RuntimeMetrics};
use crate::task::{JoinHandle, LocalSet};
use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

/// Options for [`Builder::build_local`]; none yet, kept for Tokio's signature.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct LocalOptions {
    _not_send: PhantomData<*const ()>,
}

/// A current-thread runtime on which [`spawn_local`](crate::task::spawn_local) works
/// wherever the runtime is current on its thread: `!Send` futures run on the thread that
/// calls [`block_on`](Self::block_on), beside the runtime's `Send` tasks. It is itself
/// `!Send`.
///
/// Built by [`LocalRuntime::new`] or `Builder::new_current_thread().build_local(..)`; what
/// `#[zokio::main(flavor = "local")]` runs on. It is a current-thread [`Runtime`] with a
/// [`LocalSet`] entered for the whole of every `block_on`, so every task of the runtime
/// (and the `block_on` future) can spawn local tasks.
///
/// Dropping it cancels the local tasks first (their futures are dropped on this thread),
/// then shuts the runtime down as [`Runtime`]'s drop does.
///
/// # Examples
/// ```
/// use std::rc::Rc;
///
/// let rt = zokio::runtime::LocalRuntime::new().unwrap();
/// let n = Rc::new(41);
/// let out = rt.block_on(async move {
///     zokio::task::spawn_local(async move { *n + 1 }).await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct LocalRuntime {
    // Field order is drop order: the local tasks go before the runtime they may use.
    local: LocalSet,
    rt: Runtime,
}

impl LocalRuntime {
    /// A local runtime with default settings.
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<LocalRuntime> {
        Builder::new_current_thread().build_local(LocalOptions::default())
    }

    pub(crate) fn from_runtime(rt: Runtime) -> LocalRuntime {
        let local = LocalSet::new();
        if let crate::scheduler::Handle::CurrentThread(handle) = &rt.handle().inner {
            // The runtime's handle finds the set wherever the runtime is current.
            let _ = handle.local.set(local.shared().clone());
        }
        LocalRuntime { local, rt }
    }

    /// Runs `future` to completion on this thread, running the runtime's tasks and its
    /// local tasks meanwhile.
    ///
    /// # Panics
    /// As [`Runtime::block_on`]: inside a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _local = self.local.enter();
        self.rt.block_on(self.local.run_until(future))
    }

    /// Spawns a `!Send` future; it runs during [`block_on`](Self::block_on). Callable
    /// outside `block_on` too.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.local.spawn_local(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool; see
    /// [`task::spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.rt.spawn_blocking(f)
    }

    /// A handle to the runtime, for spawning `Send` tasks onto it from any thread.
    pub fn handle(&self) -> &Handle {
        self.rt.handle()
    }

    /// Makes this runtime the current one until the guard drops: [`crate::spawn`] and, on
    /// this thread, [`spawn_local`](crate::task::spawn_local) spawn onto it (its `Handle`'s
    /// `enter` does the same; on another thread `spawn_local` panics).
    pub fn enter(&self) -> EnterGuard<'_> {
        self.rt.enter()
    }

    /// The runtime's counters (its `Send` and local tasks alike run on its one worker).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.rt.metrics()
    }

    /// Cancels the local tasks, then shuts down as [`Runtime::shutdown_timeout`].
    pub fn shutdown_timeout(self, timeout: Duration) {
        let LocalRuntime { local, rt } = self;
        drop(local);
        rt.shutdown_timeout(timeout);
    }

    /// Cancels the local tasks, then shuts down as [`Runtime::shutdown_background`].
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

impl fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRuntime")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}
