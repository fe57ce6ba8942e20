use crate::task::Id;
use std::any::Any;
use std::fmt;

/// Why a task ended without producing its output: it was cancelled (aborted, or the runtime
/// shut down), or its future panicked.
///
/// Returned by awaiting a [`JoinHandle`](crate::task::JoinHandle).
pub struct JoinError {
    repr: Repr,
    id: Id,
}

/// A [`JoinError`] without its task id, as a task cell stores it: the id is the cell's
/// address, added when the `JoinHandle` reads the output. One word: the panic payload's
/// fat box is boxed once more (an allocation only when a task panics), so a failure fits
/// beside the niche of a typical future and the cell's stage is no wider than the future
/// (see `task::core::Stage`).
pub(crate) enum Repr {
    Cancelled,
    Panic(Box<Box<dyn Any + Send + 'static>>),
}

impl Repr {
    /// The failure of a task whose poll (or drop) panicked with `payload`.
    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> Repr {
        Repr::Panic(Box::new(payload))
    }

    pub(crate) fn into_join_error(self, id: Id) -> JoinError {
        JoinError { repr: self, id }
    }
}

impl JoinError {
    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The task was cancelled, by [`abort`](crate::task::JoinHandle::abort) or runtime
    /// shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Returns the panic payload, to be re-raised with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the error is not a panic; see [`try_into_panic`](Self::try_into_panic).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// Returns the panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(*payload),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => (**p)
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "task {} panicked with message {msg:?}", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({:?})", self.id),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "JoinError::Panic({:?}, {msg:?}, ...)", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({:?}, ...)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

// SAFETY: the payload is `Send` but maybe not `Sync`. Through `&JoinError` the payload is
// only ever downcast to `&'static str` or `String` (in `panic_message`), both `Sync`; every
// other access (`into_panic`, `try_into_panic`) takes the error by value. So sharing a
// `&JoinError` between threads never shares a `!Sync` value.
unsafe impl Sync for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
