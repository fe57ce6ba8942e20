//! The per-thread runtime context.
//!
//! Three things per thread, in one `thread_local!`:
//! - the current runtime handle, for [`crate::spawn`] and `Handle::current()`; set by
//!   `block_on`, on worker and blocking threads, and by `Runtime::enter`;
//! - a pointer to the running scheduler's per-thread context (a worker's core), through
//!   which a spawn or wake on a worker goes to that worker's own queue;
//! - whether the thread is driving a runtime, so that a nested `block_on` panics instead of
//!   deadlocking, and whether `task::block_in_place` may block it.

use crate::scheduler;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::ptr::NonNull;

struct Context {
    handle: RefCell<Option<scheduler::Handle>>,
    /// How many `SetCurrentGuard`s are alive on this thread: each must drop at the depth
    /// it was made at.
    depth: Cell<usize>,
    scheduler: Cell<Option<NonNull<scheduler::Context>>>,
    entered: Cell<EnterRuntime>,
}

/// Whether a thread drives a runtime (Tokio's name and states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EnterRuntime {
    /// Inside a task or `block_on` of a runtime.
    Entered {
        /// `task::block_in_place` may block this thread: a multi-thread worker (it hands
        /// its core to another thread first), or a `block_on` that runs no other task
        /// (a multi-thread runtime's, or `Handle::block_on`). Not the current-thread
        /// scheduler's `block_on`, which runs every task of its runtime.
        allow_block_in_place: bool,
    },
    NotEntered,
}
thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            depth: Cell::new(0),
            scheduler: Cell::new(None),
            entered: Cell::new(EnterRuntime::NotEntered),
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

/// Whether the current runtime (see [`with_handle`]) is a current-thread one.
pub(crate) fn in_current_thread_runtime() -> bool {
    with_handle(|h| matches!(h, scheduler::Handle::CurrentThread(_))).unwrap_or(false)
}

/// Restores the previous current handle on drop.
#[must_use]
pub(crate) struct SetCurrentGuard {
    prev: Option<scheduler::Handle>,
    /// Guards alive on the thread, this one included; 0 if there was no context to set.
    depth: usize,
}

/// Makes `handle` the current runtime handle until the guard drops. While the thread's
/// locals are being destroyed (a runtime kept in a `thread_local!` and dropped at thread
/// exit) there is no context to set: the guard then does nothing, and code run meanwhile
/// sees no current runtime.
pub(crate) fn set_current(handle: &scheduler::Handle) -> SetCurrentGuard {
    CONTEXT
        .try_with(|cx| {
            let depth = cx.depth.get() + 1;
            cx.depth.set(depth);
            SetCurrentGuard {
                prev: cx.handle.replace(Some(handle.clone())),
                depth,
            }
        })
        .unwrap_or(SetCurrentGuard {
            prev: None,
            depth: 0,
        })
}

impl Drop for SetCurrentGuard {
    /// # Panics
    /// If a guard made after this one is still alive (guards from `Handle::enter` dropped
    /// out of order, which would leave the wrong runtime current), as Tokio's; not while
    /// the thread is already panicking.
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        let prev = self.prev.take();
        let in_order = CONTEXT
            .try_with(|cx| {
                if cx.depth.get() < self.depth {
                    // An outer guard dropped first has already reset the context past
                    // this one (and panicked for it): nothing is left to undo.
                    return true;
                }
                let in_order = cx.depth.get() == self.depth;
                cx.depth.set(self.depth - 1);
                *cx.handle.borrow_mut() = prev;
                in_order
            })
            .unwrap_or(true);
        if !in_order && !std::thread::panicking() {
            panic!(
                "`EnterGuard` values dropped out of order. Guards returned by \
                 `zokio::runtime::Handle::enter()` must be dropped in the reverse order as \
                 they were acquired."
            );
        }
    }
}

/// Marks the thread as driving a runtime, and sets the current handle.
#[must_use]
pub(crate) struct EnterRuntimeGuard {
    _current: SetCurrentGuard,
}

/// `allow_block_in_place`: see [`EnterRuntime::Entered`].
///
/// # Panics
/// If the thread already drives a runtime (a `block_on` inside a task or `block_on`).
#[track_caller]
pub(crate) fn enter_runtime(
    handle: &scheduler::Handle,
    allow_block_in_place: bool,
) -> EnterRuntimeGuard {
    let already = CONTEXT.with(|cx| {
        cx.entered.replace(EnterRuntime::Entered {
            allow_block_in_place,
        }) != EnterRuntime::NotEntered
    });
    if already {
        panic!(
            "Cannot start a runtime from within a runtime. This happens because a function \
             (like `block_on`) attempted to block the current thread while the thread is \
             being used to drive asynchronous tasks. If you are in an async function, use \
             `.await` on the future instead of blocking on it."
        );
    }
    EnterRuntimeGuard {
        _current: set_current(handle),
    }
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|cx| cx.entered.set(EnterRuntime::NotEntered));
    }
}

/// Whether this thread is driving a runtime (inside `block_on`, or a worker), where
/// blocking would stall the tasks it runs.
pub(crate) fn is_entered() -> bool {
    current_enter_context() != EnterRuntime::NotEntered
}

/// This thread's [`EnterRuntime`] state (`NotEntered` while its thread-locals are
/// destroyed).
pub(crate) fn current_enter_context() -> EnterRuntime {
    CONTEXT
        .try_with(|cx| cx.entered.get())
        .unwrap_or(EnterRuntime::NotEntered)
}

/// Refuses `task::block_in_place` on this thread until the guard drops (a `LocalSet` runs
/// its tasks, all of which would stall); no effect where it is refused already or the
/// thread drives no runtime.
#[must_use]
pub(crate) struct DisallowBlockInPlaceGuard(bool);

pub(crate) fn disallow_block_in_place() -> DisallowBlockInPlaceGuard {
    let allowed = EnterRuntime::Entered {
        allow_block_in_place: true,
    };
    let changed = CONTEXT.try_with(|cx| {
        let was = cx.entered.get() == allowed;
        if was {
            cx.entered.set(EnterRuntime::Entered {
                allow_block_in_place: false,
            });
        }
        was
    });
    DisallowBlockInPlaceGuard(changed.unwrap_or(false))
}

impl Drop for DisallowBlockInPlaceGuard {
    fn drop(&mut self) {
        if self.0 {
            let _ = CONTEXT.try_with(|cx| {
                cx.entered.set(EnterRuntime::Entered {
                    allow_block_in_place: true,
                })
            });
        }
    }
}

/// Runs `f` as if this thread drove no runtime (`task::block_in_place`'s closure, which may
/// block, and start or drop runtimes), restoring the state afterwards, also on unwind. The
/// current handle stays set: `spawn` and `Handle::current()` keep working in `f`.
pub(crate) fn exit_runtime<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(EnterRuntime);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|cx| cx.entered.set(self.0));
        }
    }
    let prev = CONTEXT.with(|cx| cx.entered.replace(EnterRuntime::NotEntered));
    let _reset = Reset(prev);
    f()
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
