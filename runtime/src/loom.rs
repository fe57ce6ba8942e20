//! The `std` ↔ `loom` facade.
//!
//! Concurrency code (run queue, task state, parking, owned-task list, injector) imports its
//! atomics, locks, `Arc` and `UnsafeCell` from here, never from `std` directly, so that
//! `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked versions. `UnsafeCell` has loom's
//! closure-based API on both sides so that loom can track every access.
//!
//! Locks: `Mutex` is `parking_lot`'s outside loom. zokio's locks guard short critical
//! sections that several workers hit at once (a channel's queue, a semaphore's waiters, the
//! injector, a timer shard); std's mutex sends a waiter to `futex_wait` after a short spin,
//! so under contention most of the time went to futex syscalls (`sync.mpsc_bounded_4to1`
//! spent 40% of its samples in the lock's slow path and the kernel), while parking_lot
//! spins adaptively and yields before it sleeps: 4→1 bounded went from 5.2M to 13M msg/s.
//! The locks a `Condvar` waits on (`CondvarMutex`) stay std's, which the condvar needs.

#[cfg(all(loom, not(zokio_shuttle)))]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use loom::sync::{Mutex as CondvarMutex, MutexGuard as CondvarMutexGuard};

    pub(crate) use loom::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    /// Locks `mutex`, ignoring poisoning (see `lock_for_condvar`).
    pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        match mutex.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Read-locks `lock`, ignoring poisoning.
    pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
        lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write-locks `lock`, ignoring poisoning.
    pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
        lock.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `--cfg loom --cfg zokio_shuttle`: the same code as under loom (the same modules left
/// out, workers parking on a condvar), over [shuttle](https://docs.rs/shuttle)'s
/// primitives, whose randomised and PCT schedulers run whole scenarios too large for
/// loom's exhaustive search. Run: `RUSTFLAGS="--cfg loom --cfg zokio_shuttle"
/// CARGO_TARGET_DIR=target/shuttle cargo test -p zokio --release --lib shuttle_`.
#[cfg(all(loom, zokio_shuttle))]
mod imp {
    pub(crate) use super::std_cell::UnsafeCell;
    pub(crate) use shuttle::sync::atomic;
    pub(crate) use shuttle::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use shuttle::sync::{Mutex as CondvarMutex, MutexGuard as CondvarMutexGuard};

    pub(crate) use shuttle::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    /// Locks `mutex`, ignoring poisoning (see `lock_for_condvar`).
    pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Read-locks `lock`, ignoring poisoning.
    pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
        lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write-locks `lock`, ignoring poisoning.
    pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
        lock.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(not(loom))]
mod imp {
    pub(crate) use super::std_cell::UnsafeCell;
    pub(crate) use parking_lot::{Mutex, MutexGuard};
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Arc, Condvar};
    pub(crate) use std::sync::{Mutex as CondvarMutex, MutexGuard as CondvarMutexGuard};

    pub(crate) use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    /// Locks `mutex` (parking_lot's: no poisoning).
    #[inline]
    pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock()
    }

    /// Read-locks `lock` (parking_lot's: no poisoning).
    #[inline]
    pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
        lock.read()
    }

    /// Write-locks `lock` (parking_lot's: no poisoning).
    #[inline]
    pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
        lock.write()
    }
}

/// `std::cell::UnsafeCell` with loom's closure-based access API (outside loom, and under
/// shuttle, which does not track cell accesses).
#[cfg(any(not(loom), zokio_shuttle))]
mod std_cell {
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a unique raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

pub(crate) use imp::*;

/// Locks a mutex a `Condvar` waits on, ignoring poisoning: zokio never panics while
/// holding one of its own locks (task code runs outside them and inside `catch_unwind`), so
/// a poisoned lock still guards consistent data.
pub(crate) fn lock_for_condvar<T>(mutex: &CondvarMutex<T>) -> CondvarMutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
