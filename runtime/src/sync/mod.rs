//! Synchronisation between tasks.
//!
//! These types rely only on `std::task::Waker`, so they work on any executor:
//! [`oneshot`] for one value, [`mpsc`] for a stream of values from many producers,
//! [`Semaphore`] (fair, FIFO), and on top of it [`Mutex`] (fair, guard held across
//! `.await`) and [`RwLock`] (FIFO, so writers are never starved).
//!
//! Cancel safety: every waiting method says whether dropping its future mid-wait is safe;
//! for the semaphore and the locks it is: a dropped waiter leaves the queue holding
//! nothing, and passes a pending wake-up to the next waiter.

pub mod mpsc;
mod mutex;
pub mod oneshot;
mod rwlock;
mod semaphore;

pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
