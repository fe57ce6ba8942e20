//! A value set once and waited for: [`SetOnce`], Tokio's.
//!
//! An [`OnceCell`] holds the value (its `set` elects the one setter and publishes the
//! value), and a [`Notify`] wakes the waiters: a waiter enables its `Notified` before
//! looking at the cell, and a setter calls `notify_waiters` after storing, so a waiter
//! either sees the value or is woken by that call.

use super::{Notify, OnceCell, SetError};
use std::fmt;

/// A value set at most once, which tasks can [`wait`](Self::wait) for. Unlike
/// [`OnceCell`], nobody initialises it on demand: one caller `set`s it, the others read or
/// wait.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// let ready = Arc::new(zokio::sync::SetOnce::new());
/// let waiter = zokio::spawn({
///     let ready = ready.clone();
///     async move { *ready.wait().await }
/// });
/// ready.set(7).unwrap();
/// assert_eq!(waiter.await.unwrap(), 7);
/// assert!(ready.set(8).is_err());
/// # });
/// ```
pub struct SetOnce<T> {
    cell: OnceCell<T>,
    notify: Notify,
}

/// [`SetOnce::set`] found a value already there (or being stored); the value given is
/// returned.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> SetOnce<T> {
    /// An empty `SetOnce`.
    pub fn new() -> SetOnce<T> {
        SetOnce {
            cell: OnceCell::new(),
            notify: Notify::new(),
        }
    }

    /// As [`new`](Self::new), in a `const` context (a `static`). Not under loom.
    #[cfg(not(loom))]
    pub const fn const_new() -> SetOnce<T> {
        SetOnce {
            cell: OnceCell::const_new(),
            notify: Notify::const_new(),
        }
    }

    /// Holding `value` if it is `Some`, else empty.
    pub fn new_with(value: Option<T>) -> SetOnce<T> {
        SetOnce {
            cell: OnceCell::new_with(value),
            notify: Notify::new(),
        }
    }

    /// Holding `value`, in a `const` context. Not under loom.
    #[cfg(not(loom))]
    pub const fn const_new_with(value: T) -> SetOnce<T> {
        SetOnce {
            cell: OnceCell::const_new_with(value),
            notify: Notify::const_new(),
        }
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.cell.initialized()
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.cell.get()
    }

    /// Sets the value and wakes every waiter.
    ///
    /// # Errors
    /// `SetOnceError(value)` if a value is already set, or another caller is storing one
    /// at this moment.
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        match self.cell.set(value) {
            Ok(()) => {
                self.notify.notify_waiters();
                Ok(())
            }
            Err(SetError::AlreadyInitializedError(v) | SetError::InitializingError(v)) => {
                Err(SetOnceError(v))
            }
        }
    }

    /// The value, if set, taking ownership.
    pub fn into_inner(self) -> Option<T> {
        self.cell.into_inner()
    }

    /// Waits until the value is set and returns it. Cancel-safe.
    pub async fn wait(&self) -> &T {
        loop {
            let notified = self.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = self.cell.get() {
                return value;
            }
            notified.await;
        }
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> SetOnce<T> {
        SetOnce::new()
    }
}

impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> SetOnce<T> {
        SetOnce::new_with(Some(value))
    }
}

impl<T: Clone> Clone for SetOnce<T> {
    fn clone(&self) -> SetOnce<T> {
        SetOnce::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for SetOnce<T> {
    fn eq(&self, other: &SetOnce<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for SetOnce<T> {}

impl<T: fmt::Debug> fmt::Debug for SetOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}

impl<T> fmt::Display for SetOnceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetOnceError")
    }
}

impl<T: fmt::Debug> std::error::Error for SetOnceError<T> {}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;
    use loom::future::block_on;
    use loom::thread;

    /// A waiter racing the setter on another thread always ends with the value: it sees
    /// it, or is woken by the setter's `notify_waiters`.
    #[test]
    fn loom_set_once_waiter_sees_the_value() {
        loom::model(|| {
            let once = Arc::new(SetOnce::<u32>::new());
            let setter = {
                let once = once.clone();
                thread::spawn(move || once.set(9).is_ok())
            };
            assert_eq!(*block_on(once.wait()), 9);
            assert!(setter.join().unwrap());
        });
    }
}
