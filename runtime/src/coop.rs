//! The cooperative budget.
//!
//! Each task poll starts with a budget of [`BUDGET`] units. zokio's own leaf futures (join
//! handles, channel sends and receives, semaphore acquires and so mutex and rwlock locks,
//! and the I/O and timer futures) spend one unit each time they are ready; when the budget
//! is spent they return `Pending` and wake the task at once, so a task that always finds
//! its resources ready still yields back to the scheduler, which then puts it behind the
//! other runnable tasks. Outside a task (for example in `block_on` on a plain thread) the
//! budget is unconstrained.
//!
//! The value 128 is Tokio's: high enough that the check costs nothing measurable, low enough
//! to bound how long one task holds a worker (see tokio's `coop.rs` and the blog post
//! "Reducing tail latencies with automatic cooperative task yielding", 2020).

use std::cell::Cell;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::task::{Context, Poll};

/// Units of budget per task poll.
pub(crate) const BUDGET: u8 = 128;

/// A task's id as this module keeps it (`task::Id`'s value), so that the budget does not
/// depend on the task module above it.
pub(crate) type TaskId = NonZeroU64;

/// What this thread's current poll runs under: its budget, and the task it polls (read by
/// `task::id()`). One thread-local for both, so a task poll sets them in one access.
struct Current {
    /// `None`: unconstrained.
    units: Cell<Option<u8>>,
    task: Cell<Option<TaskId>>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            units: Cell::new(None),
            task: Cell::new(None),
        }
    };
}

/// Restores the previous budget (and task, if it was set) when dropped, also during an
/// unwind.
struct Reset {
    units: Option<u8>,
    task: Option<Option<TaskId>>,
}

impl Drop for Reset {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| {
            c.units.set(self.units);
            if let Some(task) = self.task {
                c.task.set(task);
            }
        });
    }
}

/// Runs `f` (the poll of a future that is not a task: `block_on`'s) with a fresh budget,
/// restoring the previous budget afterwards.
#[inline]
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    let _reset = CURRENT.with(|c| Reset {
        units: c.units.replace(Some(BUDGET)),
        task: None,
    });
    f()
}

/// Runs `f` (one poll of `task`) with a fresh budget and `task` as the current task,
/// restoring both afterwards.
#[inline]
pub(crate) fn task_budget<R>(task: TaskId, f: impl FnOnce() -> R) -> R {
    let _reset = CURRENT.with(|c| Reset {
        units: c.units.replace(Some(BUDGET)),
        task: Some(c.task.replace(Some(task))),
    });
    f()
}

/// Runs `f` with no budget limit (for [`crate::task::unconstrained`]), restoring the
/// budget afterwards.
#[inline]
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    let _reset = CURRENT.with(|c| Reset {
        units: c.units.replace(None),
        task: None,
    });
    f()
}

/// Runs `f` with `task` as the current task (its future being dropped), budget unchanged.
pub(crate) fn with_task<R>(task: TaskId, f: impl FnOnce() -> R) -> R {
    let _reset = CURRENT.try_with(|c| Reset {
        units: c.units.get(),
        task: Some(c.task.replace(Some(task))),
    });
    f()
}

/// The task whose future this thread is polling or dropping, if any.
pub(crate) fn current_task() -> Option<TaskId> {
    CURRENT.try_with(|c| c.task.get()).ok().flatten()
}

/// Whether the current budget is spent.
pub(crate) fn has_budget_remaining() -> bool {
    CURRENT.with(|c| c.units.get() != Some(0))
}

/// Spends one unit if available. On `Pending` the task has been woken so it runs again
/// after the others. The returned guard gives the unit back unless
/// [`made_progress`](RestoreOnPending::made_progress) is called.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|c| match c.units.get() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            c.units.set(Some(n - 1));
            Poll::Ready(RestoreOnPending::new(true))
        }
        None => Poll::Ready(RestoreOnPending::new(false)),
    })
}

/// Polls `op` as one budgeted operation: returns `Pending` without calling it when the
/// budget is spent (the task is woken to run again later), and keeps the unit spent only
/// if `op` is ready. The shape of every leaf future whose progress is "ready".
#[inline]
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = std::task::ready!(poll_proceed(cx));
    let ret = op(cx);
    if ret.is_ready() {
        coop.made_progress();
    }
    ret
}

/// A unit of the task's cooperative budget, spent by
/// [`poll_proceed`](crate::task::coop::poll_proceed): given back when dropped, unless
/// [`made_progress`](Self::made_progress) was called. Not `Send`: the budget is the polling
/// thread's.
#[derive(Debug)]
pub struct RestoreOnPending(Cell<bool>, PhantomData<*const ()>);

impl RestoreOnPending {
    fn new(restore: bool) -> RestoreOnPending {
        RestoreOnPending(Cell::new(restore), PhantomData)
    }

    /// The operation made progress: the unit stays spent.
    #[inline]
    pub fn made_progress(&self) {
        self.0.set(false);
    }
}

impl Drop for RestoreOnPending {
    #[inline]
    fn drop(&mut self) {
        if self.0.get() {
            let _ = CURRENT.try_with(|c| {
                if let Some(n) = c.units.get() {
                    c.units.set(Some(n.saturating_add(1)));
                }
            });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_and_is_restored() {
        let mut cx = Context::from_waker(Waker::noop());
        budget(|| {
            for _ in 0..BUDGET {
                let guard = poll_proceed(&mut cx);
                assert!(guard.is_ready());
                if let Poll::Ready(g) = guard {
                    g.made_progress();
                }
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert!(!has_budget_remaining());
        });
        // Outside a task: unconstrained.
        assert!(poll_proceed(&mut cx).is_ready());
    }
}
