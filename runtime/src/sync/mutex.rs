//! An async mutex: a [`Semaphore`] with one permit guarding an `UnsafeCell`. Fair: waiters
//! get the lock in the order they asked for it (the semaphore's queue), so none starves.
//! The guard may be held across `.await` points.

use super::semaphore::{Semaphore, TryAcquireError};
use crate::runtime::context::block_outside_runtime;
use crate::util::trace::{resource_state, Resource};
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A fair (FIFO) async mutex whose guard may be held across `.await`.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// let m = std::sync::Arc::new(zokio::sync::Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let m = m.clone();
///         zokio::spawn(async move { *m.lock().await += 1 })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*m.lock().await, 4);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawMutex,
    value: UnsafeCell<T>,
}

/// The lock itself: a one-permit semaphore, and (with the `tracing` feature) Tokio's
/// `Mutex` resource span, whose `locked` state every acquisition and release reports.
struct RawMutex {
    sem: Semaphore,
    resource: Resource,
}

impl RawMutex {
    #[track_caller]
    fn new() -> RawMutex {
        let resource = Resource::mutex();
        resource_state!(resource, locked = false);
        // Inside the mutex's span: the semaphore's resource is its child, as in Tokio.
        let sem = resource.in_scope(|| Semaphore::new(1));
        RawMutex { sem, resource }
    }

    /// Waits for the permit; a guard gives it back with [`release`](Self::release).
    /// Without the `tracing` feature exactly the semaphore's wait (the async op is then the
    /// identity).
    async fn acquire(&self) {
        let wait = self.sem.wait_for(1);
        self.resource
            .async_op(wait, "Mutex::lock", "poll")
            .await
            .expect("a mutex's semaphore is never closed");
        resource_state!(self.resource, locked = true);
    }

    /// Takes the permit if it is free and nobody waits.
    fn try_acquire(&self) -> bool {
        match self.sem.try_acquire() {
            Ok(permit) => {
                permit.forget();
                resource_state!(self.resource, locked = true);
                true
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => false,
        }
    }

    fn release(&self) {
        resource_state!(self.resource, locked = false);
        self.sem.release(1);
    }
}

// SAFETY: the value is only reached through a guard, and at most one guard exists at a time
// (it holds the semaphore's only permit), so sharing the mutex between threads only ever
// moves `T` between threads: `T: Send` suffices, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: owning the mutex is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

/// Access to the value of a locked [`Mutex`]; unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// Send/Sync as `&mut T`.
    _marker: PhantomData<&'a mut T>,
}

/// As [`MutexGuard`], holding the mutex through an `Arc` so it is `'static`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

// SAFETY: the guard is the only access to the `T` while it lives, like `&mut T`.
unsafe impl<T: ?Sized + Send> Send for OwnedMutexGuard<T> {}
// SAFETY: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

/// A [`MutexGuard`] narrowed to a part of the value by [`MutexGuard::map`]; unlocks on
/// drop. It cannot be mapped back, so it has no [`mutex`](MutexGuard::mutex).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    raw: &'a RawMutex,
    /// Points into the locked value, which outlives `'a`.
    data: *mut T,
    /// Send/Sync as `&mut T`.
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is exclusive access to the part it points at, like `&'a mut T`.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

/// An [`OwnedMutexGuard`] narrowed to a part `U` of the value `T` by
/// [`OwnedMutexGuard::map`]; unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    /// Points into the value of `lock`, which this guard keeps alive.
    data: *mut U,
    lock: Arc<Mutex<T>>,
}

// SAFETY: the guard owns the `T` (through the lock) and exclusive access to the `U` in it.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: sharing the guard shares `&U`, and the lock's `Arc`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

/// Returned by [`Mutex::try_lock`], [`RwLock::try_read`](super::RwLock::try_read) and
/// [`RwLock::try_write`](super::RwLock::try_write) when the lock is taken (or others are
/// waiting for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    #[track_caller]
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// As [`new`](Self::new), in a `const` context (a `static`), as Tokio's. Not under
    /// loom.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex {
                sem: Semaphore::const_new(1),
                resource: Resource::none(),
            },
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock, in FIFO order with other waiters.
    ///
    /// Cancel-safe: dropping the future while it waits leaves the queue without the lock,
    /// and the next waiter is woken if the lock is free.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.acquire().await;
        MutexGuard {
            lock: self,
            _marker: PhantomData,
        }
    }

    /// [`lock`](Self::lock) through an `Arc`, returning a `'static` guard. Cancel-safe.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.raw.acquire().await;
        OwnedMutexGuard { lock: self }
    }

    /// The lock if it is free and nobody waits for it.
    ///
    /// # Errors
    /// [`TryLockError`] otherwise.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if !self.raw.try_acquire() {
            return Err(TryLockError(()));
        }
        Ok(MutexGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// [`try_lock`](Self::try_lock) through an `Arc`, returning a `'static` guard.
    ///
    /// # Errors
    /// [`TryLockError`] if the lock is taken or others wait for it.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        if !self.raw.try_acquire() {
            return Err(TryLockError(()));
        }
        Ok(OwnedMutexGuard { lock: self })
    }

    /// [`lock`](Self::lock), blocking this thread: for code outside any runtime.
    ///
    /// # Panics
    /// On a thread that drives a runtime (blocking there would stall its tasks).
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        block_outside_runtime(self.lock())
    }

    /// [`lock_owned`](Self::lock_owned), blocking this thread. Panics as
    /// [`blocking_lock`](Self::blocking_lock).
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        block_outside_runtime(self.lock_owned())
    }

    /// The value, through exclusive access to the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }

    /// Narrows the guard to the part of the value `f` returns; the mutex stays locked
    /// until the new guard drops. An associated function (`MutexGuard::map(guard, f)`),
    /// so it cannot shadow a method of `T`.
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let raw = &this.lock.raw;
        // The permit moves to the new guard.
        std::mem::forget(this);
        MappedMutexGuard {
            raw,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        let raw = &this.lock.raw;
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            raw,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further, as [`MutexGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let raw = this.raw;
        std::mem::forget(this);
        MappedMutexGuard {
            raw,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        let raw = this.raw;
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            raw,
            data,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }

    /// Narrows the guard to the part of the value `f` returns, as [`MutexGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// The `Arc` of the locked mutex, without unlocking it (the permit passes to the
    /// caller's new guard).
    fn into_lock(self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out once.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }

    /// Narrows the guard further, as [`OwnedMutexGuard::map`].
    pub fn map<S: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let data: *mut S = f(&mut *this);
        OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<S: ?Sized, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let data: *mut S = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// The `Arc` of the locked mutex, without unlocking it.
    fn into_lock(self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out once.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no other reference to the
        // value exists while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.release();
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (see `MutexGuard::deref`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, with `&mut self`.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.raw.release();
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `data` points into the value of a mutex whose only permit this guard
        // holds, and the mutex outlives `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, with `&mut self`.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.raw.release();
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: `data` points into the value of `lock`, kept alive by this guard, whose
        // only permit this guard holds.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, with `&mut self`.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    fn drop(&mut self) {
        self.lock.raw.release();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}
