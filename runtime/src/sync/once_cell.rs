//! A value set once, asynchronously: [`OnceCell`], Tokio's.
//!
//! A flag says whether the value is there; a [`Semaphore`] with one permit elects the one
//! initializer. `get_or_init` takes the permit (queueing FIFO behind a running
//! initializer), runs its future and stores the value, sets the flag, then closes the
//! semaphore: every queued caller wakes with `AcquireError` and reads the value. An
//! initializer that fails or is cancelled drops its permit, and the next caller in line
//! tries. `set` takes the permit only if it is free now.

use super::semaphore::{Semaphore, SemaphorePermit, TryAcquireError};
use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

/// A cell initialised at most once, by the first of its callers to get there; the others
/// wait for that value. See the module documentation.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// static CONFIG: zokio::sync::OnceCell<String> = zokio::sync::OnceCell::const_new();
/// let value = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(value, "loaded");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded"));
/// # });
/// ```
pub struct OnceCell<T> {
    value_set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    semaphore: Semaphore,
}

// SAFETY: the value is written once, by the permit holder, before `value_set` is
// published (Release) and read only after it is seen (Acquire); sharing the cell shares
// `&T` (needs `T: Sync`) and lets any thread be the one that stores or takes the `T`
// (needs `T: Send`).
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: owning the cell is owning the `T`.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Why [`OnceCell::set`] failed; the value is returned.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another caller is initialising the cell right now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell already held a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another caller was initialising the cell.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError"),
            SetError::InitializingError(_) => f.write_str("InitializingError"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: Semaphore::new(1),
        }
    }

    /// As [`new`](Self::new), in a `const` context (a `static`). Not under loom.
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: Semaphore::const_new(1),
        }
    }

    /// A cell holding `value` if it is `Some`, else empty.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        match value {
            Some(v) => OnceCell::from(v),
            None => OnceCell::new(),
        }
    }

    /// A cell holding `value`, in a `const` context. Not under loom.
    #[cfg(not(loom))]
    pub const fn const_new_with(value: T) -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            semaphore: Semaphore::const_new(0),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.value_set.load(Ordering::Acquire)
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        if !self.initialized() {
            return None;
        }
        // SAFETY: the flag (Acquire) says the value was written and published; it is
        // never written again while `&self` lives, and the pointer is into `self`.
        Some(unsafe { &*self.value.with(|p| (*p).as_ptr()) })
    }

    /// The value, mutably, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if !self.initialized() {
            return None;
        }
        // SAFETY: `&mut self` is exclusive, and the flag says the value is there.
        Some(unsafe { &mut *self.value.with_mut(|p| (*p).as_mut_ptr()) })
    }

    /// Stores `value` if the cell is empty and nobody is initialising it.
    ///
    /// # Errors
    /// [`SetError`] with the value otherwise.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                self.store(value, permit);
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
        }
    }

    /// The value, initialising it with `f`'s future if the cell is empty. Callers that
    /// find an initializer running wait for it (in arrival order); if it is cancelled,
    /// the next one runs its own `f`.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](Self::get_or_init) with a fallible initializer: on `Err` the
    /// cell stays empty and the next caller in line tries.
    ///
    /// # Errors
    /// The error of this caller's `f`.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        match self.semaphore.acquire().await {
            Ok(permit) => {
                // A `set` may have won between the check above and the permit.
                if let Some(v) = self.get() {
                    return Ok(v);
                }
                let value = f().await?;
                Ok(self.store(value, permit))
            }
            // Closed: initialised while this caller waited.
            Err(_) => Ok(self.get().expect("a closed OnceCell holds its value")),
        }
    }

    /// Writes the value (the caller holds the only permit), publishes it and wakes every
    /// waiter by closing the semaphore.
    fn store(&self, value: T, permit: SemaphorePermit<'_>) -> &T {
        // SAFETY: the permit is the semaphore's only one and `value_set` is false: nobody
        // else writes or reads the slot now.
        unsafe { self.value.with_mut(|p| (*p).write(value)) };
        self.value_set.store(true, Ordering::Release);
        self.semaphore.close();
        permit.forget();
        self.get().expect("just stored")
    }

    /// The value, consuming the cell.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty (and settable again).
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.value_set.store(false, Ordering::Relaxed);
        self.semaphore = Semaphore::new(1);
        // SAFETY: the flag said the value was there; it is now marked absent, so it is
        // read out exactly once.
        Some(unsafe { self.value.with_mut(|p| (*p).assume_init_read()) })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        let cell = OnceCell {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            semaphore: Semaphore::new(1),
        };
        cell.semaphore.close();
        cell
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;
    use loom::future::block_on;
    use loom::thread;

    /// Two callers race to initialise: exactly one initializer runs, both see its value
    /// (loom reports a data race if the value is read before it is published).
    #[test]
    fn loom_once_cell_one_initializer() {
        loom::model(|| {
            let cell = Arc::new(OnceCell::<u32>::new());
            let runs = Arc::new(crate::loom::atomic::AtomicUsize::new(0));
            let other = {
                let (cell, runs) = (cell.clone(), runs.clone());
                thread::spawn(move || {
                    block_on(cell.get_or_init(|| async {
                        runs.fetch_add(1, Ordering::Relaxed);
                        1
                    }))
                    .to_owned()
                })
            };
            let mine = *block_on(cell.get_or_init(|| async {
                runs.fetch_add(1, Ordering::Relaxed);
                2
            }));
            let theirs = other.join().unwrap();
            assert_eq!(mine, theirs);
            assert_eq!(runs.load(Ordering::Relaxed), 1);
        });
    }
}
