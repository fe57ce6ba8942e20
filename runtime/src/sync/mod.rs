//! Synchronisation between tasks.
//!
//! These types rely only on `std::task::Waker`, so they work on any executor:
//! [`oneshot`] for one value, [`mpsc`] for a stream of values from many producers,
//! [`broadcast`] for every value to every receiver,
//! [`watch`] for the latest of a changing value,
//! [`Semaphore`] (fair, FIFO), and on top of it [`Mutex`] (fair, guard held across
//! `.await`) and [`RwLock`] (FIFO, so writers are never starved); [`Notify`] (no lost
//! notification when `notify_one` comes first), [`Barrier`] (one leader per generation) and
//! [`WaitGroup`] (Go-style add/done/wait), [`OnceCell`] (set once, asynchronously), [`SetOnce`] (set once, waited for).
//!
//! Cancel safety: every waiting method says whether dropping its future mid-wait is safe;
//! for the semaphore, the locks, `Notify` and `WaitGroup` it is: a dropped waiter leaves
//! the queue holding nothing, and passes a pending wake-up or notification to the next
//! waiter. `Barrier::wait` is not: an arrival counts from its first poll.

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod set_once;
mod wait_queue;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult, WaitGroup};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use set_once::{SetOnce, SetOnceError};
