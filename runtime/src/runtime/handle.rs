use crate::runtime::context::{self, TryCurrentError};
use crate::runtime::{park, RuntimeFlavor, RuntimeMetrics};
use crate::scheduler;
use crate::task::JoinHandle;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// A cloneable reference to a runtime: spawn onto it from any thread, read its metrics.
///
/// A handle does not keep the runtime running: once the [`Runtime`](crate::runtime::Runtime)
/// is dropped, tasks spawned through a handle are cancelled at once.
#[derive(Clone, Debug)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

// As for `Runtime` (see there): a caught panic leaves the runtime a handle reaches usable.
impl std::panic::UnwindSafe for Handle {}
impl std::panic::RefUnwindSafe for Handle {}

/// A runtime's identifier ([`Handle::id`]); printed as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(std::num::NonZeroU64);

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Returned by [`Handle::enter`]; restores the previous current runtime when dropped.
#[derive(Debug)]
#[must_use = "the runtime stays current only while the guard is alive"]
pub struct EnterGuard<'a> {
    _guard: context::SetCurrentGuard,
    _handle: PhantomData<&'a Handle>,
}

impl std::fmt::Debug for context::SetCurrentGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetCurrentGuard")
    }
}

impl Handle {
    /// The handle of the runtime this code runs in.
    ///
    /// # Panics
    /// Outside a runtime context; see [`try_current`](Self::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("{err}"),
        }
    }

    /// The handle of the runtime this code runs in, if any.
    ///
    /// # Errors
    /// [`TryCurrentError`] outside a runtime context.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_handle(|inner| Handle {
            inner: inner.clone(),
        })
    }

    /// Spawns a task on this runtime. From a worker thread of this runtime the task goes to
    /// that worker's queue; from anywhere else, to the injector.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner
            .spawn(crate::util::trace::task(future, "task", None))
    }

    /// Runs a blocking closure on the runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.blocking_spawner().spawn_blocking(&self.inner, f)
    }

    /// Blocks this thread on `future` with this runtime current. Unlike
    /// [`Runtime::block_on`](crate::runtime::Runtime::block_on) on the current-thread
    /// flavor, this does not drive the runtime's tasks or timers: spawned tasks make
    /// progress, and timers fire, only while some thread is inside `Runtime::block_on`.
    ///
    /// # Panics
    /// If called from inside a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let future = crate::util::trace::block_on(future);
        let _enter = context::enter_runtime(&self.inner, true);
        park::block_on(future)
    }

    /// Makes this runtime the current one until the guard drops.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _guard: context::set_current(&self.inner),
            _handle: PhantomData,
        }
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.clone())
    }

    /// The runtime's name ([`Builder::name`](crate::runtime::Builder::name)), if it was
    /// given one.
    pub fn name(&self) -> Option<&str> {
        let config = match &self.inner {
            scheduler::Handle::CurrentThread(h) => &h.config,
            scheduler::Handle::MultiThread(h) => &h.config,
        };
        config.name.as_deref()
    }

    /// The runtime's identifier: equal for every handle of one runtime, different between
    /// runtimes that are alive at the same time (it is the address of the runtime's shared
    /// state, as Tokio's is, so a runtime built after another was dropped may get the same
    /// one).
    pub fn id(&self) -> Id {
        let addr = match &self.inner {
            scheduler::Handle::CurrentThread(h) => Arc::as_ptr(h) as usize,
            scheduler::Handle::MultiThread(h) => Arc::as_ptr(h) as usize,
        };
        Id(std::num::NonZeroU64::new(addr as u64).expect("an Arc's address is not null"))
    }

    /// Which scheduler this runtime uses.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.inner {
            scheduler::Handle::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            scheduler::Handle::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }
}
