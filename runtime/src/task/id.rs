//! [`Id`]: which task is which, as Tokio's `task::Id`.

use crate::task::core::Header;
use std::fmt;
use std::num::NonZeroU64;
use std::ptr::NonNull;

/// An opaque identifier of a task, unique among the tasks that exist at the same time (the
/// guarantee Tokio documents for its `task::Id`): a task's id is its allocation's address,
/// so it costs no counter and no memory, and it may be reused once the task has completed
/// and every handle to it is gone.
///
/// Returned by [`id`], [`try_id`], [`JoinHandle::id`](crate::task::JoinHandle::id),
/// [`AbortHandle::id`](crate::task::AbortHandle::id) and
/// [`JoinError::id`](crate::task::JoinError::id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The value the coop budget's thread-local keeps for the current task.
    pub(crate) fn get(self) -> crate::coop::TaskId {
        self.0
    }

    /// The id as a number, as recorded in the task's `tracing` span.
    #[cfg(feature = "tracing")]
    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }

    pub(crate) fn of(header: NonNull<Header>) -> Id {
        // A pointer to a live allocation is never null.
        Id(NonZeroU64::new(header.as_ptr() as u64).expect("a task header is never null"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// The id of the task whose future is running (being polled, or dropped when it is
/// cancelled) on this thread.
///
/// # Panics
/// Outside a task (in `block_on`'s own future, or on a plain thread); see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    try_id().expect("can't get a task id when not inside a task")
}

/// The id of the task whose future is running on this thread, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    crate::coop::current_task().map(Id)
}
