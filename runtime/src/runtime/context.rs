//! The per-thread runtime context.
//!
//! Three things per thread, in one `thread_local!`:
//! - the current runtime handle, for [`crate::spawn`] and `Handle::current()`; set by
//!   `block_on`, on worker and blocking threads, and by `Runtime::enter`;
//! - a pointer to the running scheduler's per-thread context (a worker's core), through
//!   which a spawn or wake on a worker goes to that worker's own queue;
//! - whether the thread is driving a runtime, so that a nested `block_on` panics instead of
//!   deadlocking.

use crate::scheduler;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::ptr::NonNull;

struct Context {
    handle: RefCell<Option<scheduler::Handle>>,
    scheduler: Cell<Option<NonNull<scheduler::Context>>>,
    entered: Cell<bool>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            scheduler: Cell::new(None),
            entered: Cell::new(false),
        }
    };
}

/// Returned by [`Handle::try_current`](crate::runtime::Handle::try_current) outside a
/// runtime context.
pub struct TryCurrentError {
    destroyed: bool,
}

impl fmt::Debug for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.destroyed {
            f.write_str("the zokio context thread-local was destroyed (thread is exiting)")
        } else {
            f.write_str("there is no zokio runtime in this context; call from a runtime thread, block_on, or Runtime::enter")
        }
    }
}

impl std::error::Error for TryCurrentError {}

/// Runs `f` with the current runtime handle.
pub(crate) fn with_handle<R>(
    f: impl FnOnce(&scheduler::Handle) -> R,
) -> Result<R, TryCurrentError> {
    CONTEXT
        .try_with(|cx| cx.handle.borrow().as_ref().map(f))
        .map_err(|_| TryCurrentError { destroyed: true })?
        .ok_or(TryCurrentError { destroyed: false })
}

/// Restores the previous current handle on drop.
#[must_use]
pub(crate) struct SetCurrentGuard {
    prev: Option<scheduler::Handle>,
}

/// Makes `handle` the current runtime handle until the guard drops. While the thread's
/// locals are being destroyed (a runtime kept in a `thread_local!` and dropped at thread
/// exit) there is no context to set: the guard then does nothing, and code run meanwhile
/// sees no current runtime.
pub(crate) fn set_current(handle: &scheduler::Handle) -> SetCurrentGuard {
    let prev = CONTEXT
        .try_with(|cx| cx.handle.replace(Some(handle.clone())))
        .ok()
        .flatten();
    SetCurrentGuard { prev }
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|cx| *cx.handle.borrow_mut() = prev);
    }
}

/// Marks the thread as driving a runtime, and sets the current handle.
#[must_use]
pub(crate) struct EnterRuntimeGuard {
    _current: SetCurrentGuard,
}

/// # Panics
/// If the thread already drives a runtime (a `block_on` inside a task or `block_on`).
#[track_caller]
pub(crate) fn enter_runtime(handle: &scheduler::Handle) -> EnterRuntimeGuard {
    let already = CONTEXT.with(|cx| cx.entered.replace(true));
    if already {
        panic!(
            "Cannot start a runtime from within a runtime. This happens because a function \
             (like `block_on`) attempted to block the current thread while the thread is \
             being used to drive asynchronous tasks."
        );
    }
    EnterRuntimeGuard {
        _current: set_current(handle),
    }
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|cx| cx.entered.set(false));
    }
}

/// Whether this thread is driving a runtime (inside `block_on`, or a worker), where
/// blocking would stall the tasks it runs.
pub(crate) fn is_entered() -> bool {
    CONTEXT.try_with(|cx| cx.entered.get()).unwrap_or(false)
}

/// Blocks this thread on `future` for a `blocking_*` method (`oneshot::Receiver::
/// blocking_recv`, mpsc's `blocking_send` / `blocking_recv`): they are for threads outside
/// any runtime.
///
/// # Panics
/// On a thread that drives a runtime, with Tokio's message: blocking there would stall the
/// tasks it runs.
#[track_caller]
pub(crate) fn block_outside_runtime<F: std::future::Future>(future: F) -> F::Output {
    if is_entered() {
        panic!(
            "Cannot block the current thread from within a runtime. This happens because a \
             function attempted to block the current thread while the thread is being used to \
             drive asynchronous tasks."
        );
    }
    crate::runtime::park::block_on(future)
}

/// Runs `f` with the scheduler context of this thread, if it runs a scheduler.
#[inline]
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&scheduler::Context>) -> R) -> R {
    let ptr = CONTEXT.try_with(|cx| cx.scheduler.get()).ok().flatten();
    // SAFETY: the pointer is only set by `set_scheduler`, for the duration of its closure,
    // to a context that outlives that closure; this thread is inside it.
    f(ptr.map(|p| unsafe { p.as_ref() }))
}

/// Makes `cx` this thread's scheduler context while `f` runs.
pub(crate) fn set_scheduler<R>(cx: &scheduler::Context, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<NonNull<scheduler::Context>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|cx| cx.scheduler.set(self.0));
        }
    }
    // As in `set_current`: during thread-local destruction nothing is set or reset.
    let prev = CONTEXT.try_with(|c| c.scheduler.replace(Some(NonNull::from(cx))));
    let _reset = Reset(prev.ok().flatten());
    f()
}
