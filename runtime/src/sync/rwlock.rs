//! An async reader-writer lock: a FIFO [`Semaphore`] with `max_readers` permits (default
//! [`MAX_READS`]); a reader takes one, a writer takes them all.
//!
//! Writer-preferring without starving anyone: the semaphore serves acquirers strictly in
//! arrival order, so once a writer waits, readers arriving after it queue behind it instead
//! of joining the readers already inside; the writer gets the lock as soon as those leave.
//!
//! Guards hold a pointer to the value (or, once mapped, to a part of it) and the permits
//! they took; dropping one returns its permits. A write guard can be downgraded to a read
//! guard by returning all its permits but one, which lets the readers queued behind it in.

use super::mutex::TryLockError;
use super::semaphore::Semaphore;
use crate::runtime::context::block_outside_runtime;
use crate::util::trace::{resource_state, Resource};
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Readers that may hold the lock at once by default, and at most (`u32::MAX >> 3`, as
/// Tokio's).
const MAX_READS: u32 = u32::MAX >> 3;

/// A fair async reader-writer lock. See the module documentation.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// let lock = zokio::sync::RwLock::new(5);
/// {
///     let a = lock.read().await;
///     let b = lock.read().await;
///     assert_eq!(*a + *b, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    /// Permits a writer takes: the most readers inside at once.
    max_readers: u32,
    sem: RawRwLock,
    value: UnsafeCell<T>,
}

/// The lock itself: a semaphore of `max_readers` permits (a reader takes one, a writer
/// all), and (with the `tracing` feature) Tokio's `RwLock` resource span, whose
/// `write_locked` and `current_readers` every acquisition and release reports.
struct RawRwLock {
    sem: Semaphore,
    resource: Resource,
}

impl RawRwLock {
    #[track_caller]
    fn new(max_readers: u32) -> RawRwLock {
        let resource = Resource::rwlock();
        resource_state!(resource, max_readers = max_readers);
        resource_state!(resource, write_locked = false);
        resource_state!(resource, current_readers = 0);
        let sem = resource.in_scope(|| Semaphore::new(max_readers as usize));
        RawRwLock { sem, resource }
    }

    /// Waits for `n` permits: one for a reader (`write`: false), all for a writer.
    /// Without the `tracing` feature exactly the semaphore's wait (see `RawMutex`).
    async fn acquire(&self, n: u32, write: bool) {
        let source = if write {
            "RwLock::write"
        } else {
            "RwLock::read"
        };
        let wait = self.sem.wait_for(n as usize);
        self.resource
            .async_op(wait, source, "poll")
            .await
            .expect("an RwLock's semaphore is never closed");
        self.acquired(write);
    }

    /// Takes `n` permits if free now and nobody waits.
    fn try_acquire(&self, n: u32, write: bool) -> Result<(), TryLockError> {
        let permit = self
            .sem
            .try_acquire_many(n)
            .map_err(|_| TryLockError::new())?;
        permit.forget();
        self.acquired(write);
        Ok(())
    }

    fn acquired(&self, write: bool) {
        if write {
            resource_state!(
                self.resource,
                write_locked = true,
                write_locked.op = "override"
            );
        } else {
            resource_state!(
                self.resource,
                current_readers = 1,
                current_readers.op = "add"
            );
        }
    }

    /// A reader leaves.
    fn release_read(&self) {
        resource_state!(
            self.resource,
            current_readers = 1,
            current_readers.op = "sub"
        );
        self.sem.release(1);
    }

    /// A writer holding `permits` leaves.
    fn release_write(&self, permits: u32) {
        resource_state!(
            self.resource,
            write_locked = false,
            write_locked.op = "override"
        );
        self.sem.release(permits as usize);
    }

    /// A writer holding `permits` becomes a reader: all but one go back.
    fn downgrade(&self, permits: u32) {
        resource_state!(
            self.resource,
            write_locked = false,
            write_locked.op = "override"
        );
        resource_state!(
            self.resource,
            current_readers = 1,
            current_readers.op = "add"
        );
        self.sem.release(permits as usize - 1);
    }
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`) and a writer may move the
// value's contents between threads (needs `T: Send`), as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

/// Shared access to the value (or a part of it, once [`map`](Self::map)ped); releases the
/// read lock on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    sem: &'a RawRwLock,
    /// Points into the locked value, which outlives `'a`.
    data: *const T,
    /// Send/Sync as `&T`.
    _marker: PhantomData<&'a T>,
}

/// Exclusive access to the value; releases the write lock on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    sem: &'a RawRwLock,
    /// Permits held: all of the lock's.
    permits: u32,
    data: *mut T,
    /// Send/Sync as `&mut T`.
    _marker: PhantomData<&'a mut T>,
}

/// Exclusive access to a part of the value, from [`RwLockWriteGuard::map`]; releases the
/// write lock on drop. Unlike a [`RwLockWriteGuard`] it cannot be downgraded: readers
/// would see the whole value while the guard only knows a part.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    sem: &'a RawRwLock,
    permits: u32,
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

/// As [`RwLockReadGuard`], holding the lock through an `Arc` so it is `'static`; `U` is
/// the part of the value it gives access to (the whole `T` until mapped).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    /// Points into the value of `lock`, which this guard keeps alive.
    data: *const U,
    lock: Arc<RwLock<T>>,
}

/// As [`RwLockWriteGuard`], holding the lock through an `Arc` so it is `'static`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    permits: u32,
    data: *mut T,
    lock: Arc<RwLock<T>>,
}

/// As [`RwLockMappedWriteGuard`], holding the lock through an `Arc`; `U` is the part of
/// the value `T` it gives access to.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    permits: u32,
    data: *mut U,
    lock: Arc<RwLock<T>>,
}

// Why the guards are `Send`/`Sync` (the impls below): a read guard is `&T` (`Send`/`Sync` need `T: Sync`); a
// write guard is `&mut T`, and because it can be downgraded to shared access that other
// threads' readers also have, it needs `T: Send + Sync` as Tokio's does; owned guards also
// own a share of the lock (`Arc<RwLock<T>>`: `T: Send + Sync`).
// SAFETY: see above.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockReadGuard<T, U> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync
    for OwnedRwLockMappedWriteGuard<T, U>
{
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`, admitting up to `u32::MAX >> 3` readers at once.
    #[track_caller]
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READS)
    }

    /// An unlocked lock admitting at most `max_reads` readers at once; further readers
    /// wait for one to leave.
    ///
    /// # Panics
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than {MAX_READS} readers"
        );
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        RwLock {
            max_readers: max_reads,
            sem: RawRwLock::new(max_reads),
            value: UnsafeCell::new(value),
        }
    }

    /// As [`new`](Self::new), in a `const` context (a `static`), as Tokio's. Not under
    /// loom.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock::const_with_max_readers(value, MAX_READS)
    }

    /// As [`with_max_readers`](Self::with_max_readers), in a `const` context. Not under
    /// loom.
    ///
    /// # Panics
    /// As [`with_max_readers`](Self::with_max_readers) (at compile time in a `static`).
    #[cfg(not(loom))]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        RwLock {
            max_readers: max_reads,
            sem: RawRwLock {
                sem: Semaphore::const_new(max_reads as usize),
                resource: Resource::none(),
            },
            value: UnsafeCell::new(value),
        }
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            sem: &self.sem,
            data: self.value.get(),
            _marker: PhantomData,
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            sem: &self.sem,
            permits: self.max_readers,
            data: self.value.get(),
            _marker: PhantomData,
        }
    }

    fn owned_read_guard(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        OwnedRwLockReadGuard {
            data: self.value.get(),
            lock: self,
        }
    }

    fn owned_write_guard(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        OwnedRwLockWriteGuard {
            permits: self.max_readers,
            data: self.value.get(),
            lock: self,
        }
    }

    /// Waits for shared access, in FIFO order with writers. Cancel-safe.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.sem.acquire(1, false).await;
        self.read_guard()
    }

    /// [`read`](Self::read) through an `Arc`, returning a `'static` guard. Cancel-safe.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.sem.acquire(1, false).await;
        self.owned_read_guard()
    }

    /// Waits for exclusive access, in FIFO order with readers. Cancel-safe: a writer
    /// dropped while waiting leaves the queue, and the readers queued behind it proceed.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.sem.acquire(self.max_readers, true).await;
        self.write_guard()
    }

    /// [`write`](Self::write) through an `Arc`, returning a `'static` guard. Cancel-safe.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.sem.acquire(self.max_readers, true).await;
        self.owned_write_guard()
    }

    /// Shared access if available now and nobody waits.
    ///
    /// # Errors
    /// [`TryLockError`] otherwise.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_acquire(1, false)?;
        Ok(self.read_guard())
    }

    /// [`try_read`](Self::try_read) through an `Arc`.
    ///
    /// # Errors
    /// [`TryLockError`] if shared access is not available now.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.sem.try_acquire(1, false)?;
        Ok(self.owned_read_guard())
    }

    /// Exclusive access if available now and nobody waits.
    ///
    /// # Errors
    /// [`TryLockError`] otherwise.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem.try_acquire(self.max_readers, true)?;
        Ok(self.write_guard())
    }

    /// [`try_write`](Self::try_write) through an `Arc`.
    ///
    /// # Errors
    /// [`TryLockError`] if exclusive access is not available now.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.sem.try_acquire(self.max_readers, true)?;
        Ok(self.owned_write_guard())
    }

    /// [`read`](Self::read), blocking this thread: for code outside any runtime.
    ///
    /// # Panics
    /// On a thread that drives a runtime (blocking there would stall its tasks).
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        block_outside_runtime(self.read())
    }

    /// [`write`](Self::write), blocking this thread. Panics as
    /// [`blocking_read`](Self::blocking_read).
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        block_outside_runtime(self.write())
    }

    /// The value, through exclusive access to the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to the part of the value `f` returns. An associated function
    /// (`RwLockReadGuard::map(guard, f)`), so it cannot shadow a method of `T`.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        let this = ManuallyDrop::new(this);
        RwLockReadGuard {
            sem: this.sem,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(|d| d as *const U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockReadGuard {
            sem: this.sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Narrows the guard to the part of the value `f` returns, keeping exclusive access.
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            sem: this.sem,
            permits: this.permits,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockMappedWriteGuard {
            sem: this.sem,
            permits: this.permits,
            data,
            _marker: PhantomData,
        })
    }

    /// The guard as a mapped guard of the whole value.
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |v| v)
    }

    /// Turns exclusive access into shared access without letting a writer in between:
    /// the readers queued first (up to the first writer in the queue) get in too.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        RwLockWriteGuard::downgrade_map(self, |v| v)
    }

    /// [`downgrade`](Self::downgrade) to the part of the value `f` returns. `f` runs while
    /// the lock is still held exclusively.
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        let this = ManuallyDrop::new(this);
        // All permits but the read guard's one go back, waking the queue's head.
        this.sem.downgrade(this.permits);
        RwLockReadGuard {
            sem: this.sem,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`downgrade_map`](Self::downgrade_map), where `f` may decline (`None`): the guard
    /// is then given back, still exclusive.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_downgrade_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(|d| d as *const U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        this.sem.downgrade(this.permits);
        Ok(RwLockReadGuard {
            sem: this.sem,
            data,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further, as [`RwLockWriteGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            sem: this.sem,
            permits: this.permits,
            data,
            _marker: PhantomData,
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockMappedWriteGuard {
            sem: this.sem,
            permits: this.permits,
            data,
            _marker: PhantomData,
        })
    }
}

/// Moves the `Arc` out of a guard that is being turned into another one, without running
/// the old guard's `Drop` (its permits pass to the new guard).
///
/// # Safety
/// `lock` must point into a `ManuallyDrop` guard that is never used or dropped again.
unsafe fn take_lock<T: ?Sized>(lock: &Arc<RwLock<T>>) -> Arc<RwLock<T>> {
    // SAFETY: by the caller's contract the `Arc` is moved out exactly once.
    unsafe { std::ptr::read(lock) }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// The lock this guard reads.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard to the part of the value `f` returns, as
    /// [`RwLockReadGuard::map`].
    pub fn map<V: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data: *const V = f(&*this);
        let this = ManuallyDrop::new(this);
        OwnedRwLockReadGuard {
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<V: ?Sized, F>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let Some(data) = f(&*this).map(|d| d as *const V) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockReadGuard {
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        })
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard to the part of the value `f` returns, as
    /// [`RwLockWriteGuard::map`].
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data: *mut U = f(&mut *this);
        let this = ManuallyDrop::new(this);
        OwnedRwLockMappedWriteGuard {
            permits: this.permits,
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockMappedWriteGuard {
            permits: this.permits,
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        })
    }

    /// The guard as a mapped guard of the whole value.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockWriteGuard::map(this, |v| v)
    }

    /// Turns exclusive access into shared access, as [`RwLockWriteGuard::downgrade`].
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        OwnedRwLockWriteGuard::downgrade_map(self, |v| v)
    }

    /// [`downgrade`](Self::downgrade) to the part of the value `f` returns, as
    /// [`RwLockWriteGuard::downgrade_map`].
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        let this = ManuallyDrop::new(this);
        this.lock.sem.downgrade(this.permits);
        OwnedRwLockReadGuard {
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        }
    }

    /// As [`downgrade_map`](Self::downgrade_map), where `f` may decline (`None`): the guard
    /// is then given back, still exclusive.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_downgrade_map<U: ?Sized, F>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(|d| d as *const U) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        this.lock.sem.downgrade(this.permits);
        Ok(OwnedRwLockReadGuard {
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        })
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard further, as [`RwLockWriteGuard::map`].
    pub fn map<V: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data: *mut V = f(&mut *this);
        let this = ManuallyDrop::new(this);
        OwnedRwLockMappedWriteGuard {
            permits: this.permits,
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        }
    }

    /// As [`map`](Self::map), where `f` may decline (`None`), giving the guard back.
    ///
    /// # Errors
    /// The original guard, if `f` returned `None`.
    pub fn try_map<V: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let Some(data) = f(&mut *this).map(|d| d as *mut V) else {
            return Err(this);
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockMappedWriteGuard {
            permits: this.permits,
            data,
            // SAFETY: `this` is not used or dropped again.
            lock: unsafe { take_lock(&this.lock) },
        })
    }
}

// SAFETY (every `Deref`/`DerefMut` below): `data` points into the value of a lock that
// outlives the guard (borrowed for `'a`, or kept alive by the guard's `Arc`). A read guard
// holds one permit, so no write guard (which needs all of them) exists while it lives, and
// other readers only hold shared references too; a write guard holds every permit, so no
// other guard exists, and `deref_mut` takes `&mut self`.

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: see above.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: see above.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: see above.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: see above.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: see above.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release_read();
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release_write(self.permits);
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release_write(self.permits);
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release_read();
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release_write(self.permits);
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockMappedWriteGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release_write(self.permits);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// `Debug` for a guard shows the value it gives access to.
macro_rules! debug_as_target {
    ($($guard:ty => [$($gen:tt)*];)*) => {$(
        impl<$($gen)*> fmt::Debug for $guard
        where
            <$guard as Deref>::Target: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

debug_as_target! {
    RwLockReadGuard<'a, T> => ['a, T: ?Sized];
    RwLockWriteGuard<'a, T> => ['a, T: ?Sized];
    RwLockMappedWriteGuard<'a, T> => ['a, T: ?Sized];
    OwnedRwLockReadGuard<T, U> => [T: ?Sized, U: ?Sized];
    OwnedRwLockWriteGuard<T> => [T: ?Sized];
    OwnedRwLockMappedWriteGuard<T, U> => [T: ?Sized, U: ?Sized];
}
