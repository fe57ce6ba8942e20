//! Task-local storage: `task_local!`, [`LocalKey`], [`TaskLocalFuture`] (Tokio's API).
//!
//! A key is a `thread_local!` slot holding `Option<T>`. [`LocalKey::scope`] wraps a future
//! so that, for the length of each of its polls (and of its drop), its value is swapped
//! into the slot of the polling thread and swapped back out afterwards, also on unwind. So
//! the value follows the future from thread to thread, and a task sees only its own value:
//! two tasks polled on one thread never see each other's. No runtime support is needed.

use pin_project_lite::pin_project;
use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `static NAME: Type;`, each a [`LocalKey`].
///
/// # Examples
/// ```
/// zokio::task_local! {
///     pub static REQUEST_ID: u64;
/// }
/// # zokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// REQUEST_ID
///     .scope(7, async {
///         assert_eq!(REQUEST_ID.get(), 7);
///     })
///     .await;
/// assert!(REQUEST_ID.try_get().is_err());
/// # });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __ZOKIO_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: __ZOKIO_TASK_LOCAL }
        };
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local).
///
/// Its value is set for the length of a future ([`scope`](Self::scope)) or a closure
/// ([`sync_scope`](Self::sync_scope)) and read inside it.
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub inner: std::thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Wraps `f` so that the key holds `value` whenever `f` runs (each poll, and its
    /// drop). Scopes nest: an inner scope of the same key shadows the outer one.
    ///
    /// # Panics
    /// The returned future panics if polled while the key's value is borrowed on this
    /// thread (inside [`with`](Self::with)), or while the thread's locals are destroyed.
    pub fn scope<F: Future>(&'static self, value: T, f: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            local: self,
            slot: Some(value),
            future: Some(f),
            _pinned: PhantomPinned,
        }
    }

    /// Runs `f` with the key holding `value`.
    ///
    /// # Panics
    /// As [`scope`](Self::scope); and if `f` panics (the value is restored first).
    #[track_caller]
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(out) => out,
            Err(err) => err.panic(),
        }
    }

    /// Runs `f` with a reference to the key's value.
    ///
    /// # Panics
    /// If the key is not set (outside any scope of it): Tokio's message.
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(out) => out,
            Err(_) => panic!("cannot access a task-local storage value without setting it first"),
        }
    }

    /// As [`with`](Self::with), or an error if the key is not set.
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        self.inner
            .try_with(|slot| {
                let slot = slot.borrow();
                slot.as_ref().map(f)
            })
            .ok()
            .flatten()
            .ok_or(AccessError { _private: () })
    }

    /// Swaps `slot` into the key for the length of `f`, then back (also on unwind).
    fn scope_inner<F: FnOnce() -> R, R>(
        &'static self,
        slot: &mut Option<T>,
        f: F,
    ) -> Result<R, ScopeError> {
        /// Swaps the values back on the way out.
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the swap in succeeded and `f` has returned or unwound, so
                // nothing borrows the key's value any more.
                let _ = self.key.inner.try_with(|value| {
                    std::mem::swap(self.slot, &mut *value.borrow_mut());
                });
            }
        }
        self.inner
            .try_with(|value| {
                value
                    .try_borrow_mut()
                    .map(|mut value| std::mem::swap(slot, &mut *value))
            })
            .map_err(|_| ScopeError::Destroyed)?
            .map_err(|_| ScopeError::Borrowed)?;
        let _restore = Restore { key: self, slot };
        Ok(f())
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of the key's value.
    ///
    /// # Panics
    /// If the key is not set: Tokio's message.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A copy of the key's value, or an error if it is not set.
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// Why a scope could not be entered.
enum ScopeError {
    Borrowed,
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(&self) -> ! {
        match self {
            ScopeError::Borrowed => {
                panic!("cannot enter a task-local scope while the task-local storage is borrowed")
            }
            ScopeError::Destroyed => panic!(
                "cannot enter a task-local scope during or after destruction of the underlying thread-local"
            ),
        }
    }
}

pin_project! {
    /// A future run with a task-local value set; see [`LocalKey::scope`].
    pub struct TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        local: &'static LocalKey<T>,
        slot: Option<T>,
        // `None` once the future completed (or was dropped in scope).
        #[pin]
        future: Option<F>,
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if std::mem::needs_drop::<F>() && this.future.is_some() {
                // The future's `Drop` runs with the value set too, where it can be; else
                // the field drops it afterwards, without.
                let mut future = this.future;
                let _ = this.local.scope_inner(this.slot, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the scope (`None` if already taken): the wrapped future, if
    /// polled again, sees the key unset.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let polled = this
            .local
            .scope_inner(this.slot, || match future.as_mut().as_pin_mut() {
                Some(f) => {
                    let poll = f.poll(cx);
                    if poll.is_ready() {
                        future.set(None);
                    }
                    Some(poll)
                }
                None => None,
            });
        match polled {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!("`TaskLocalFuture` polled after completion"),
            Err(err) => err.panic(),
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .finish_non_exhaustive()
    }
}

/// The key is not set (returned by [`LocalKey::try_with`] and [`LocalKey::try_get`]).
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("task-local value not set")
    }
}

impl Error for AccessError {}
