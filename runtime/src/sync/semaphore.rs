//! A fair (FIFO) counting semaphore; the base of [`Mutex`](super::Mutex) and
//! [`RwLock`](super::RwLock).
//!
//! The state is a permit count and a queue of waiting acquirers behind one lock. An acquire
//! takes permits at once only when nobody is queued (so a newcomer never overtakes a waiter);
//! otherwise it joins the back of the queue. Only the head of the queue may take permits:
//! whenever permits are added, or the head leaves, the head is woken if enough permits are
//! free for it, and it takes them when it runs. A large request at the head therefore blocks
//! smaller ones behind it: fairness over throughput, so no acquirer starves.
//!
//! Cancellation: an acquire future dropped while queued leaves the queue and, if it was the
//! head, passes the wake-up to the new head; permits are only ever taken by a future that
//! returns them in a permit guard, so a cancelled acquirer never holds any.
//!
//! Every acquire future (and so every [`Mutex`](super::Mutex) and
//! [`RwLock`](super::RwLock) lock) spends a unit of the task's coop budget when it
//! completes, as Tokio's do: a free lock is ready at once, and a task taking one in a loop
//! would otherwise keep its worker from every other task.

use super::wait_queue::WaitQueue;
use crate::coop;
use crate::loom::{lock, Mutex};
use crate::runtime::context::block_outside_runtime;
use crate::util::trace::{resource_state, Resource};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A counting semaphore with FIFO fairness. See the module documentation.
pub struct Semaphore {
    state: Mutex<State>,
    /// With the `tracing` feature, Tokio's `Semaphore` resource span: the permit count's
    /// changes are its state updates.
    resource: Resource,
}

struct State {
    permits: usize,
    closed: bool,
    /// Acquirers waiting, oldest first, with the permits each needs.
    waiters: WaitQueue<usize>,
}

impl State {
    /// The head's waker, if enough permits are free for it.
    fn head_if_ready(&mut self) -> Option<Waker> {
        let permits = self.permits;
        self.waiters.head_if(|needed| needed <= permits)
    }
}

/// Returned by [`Semaphore::acquire`] and friends when the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Returned by [`Semaphore::try_acquire`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits free, or other acquirers are queued first.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// Permits borrowed from a [`Semaphore`]; returned to it on drop.
#[must_use = "permits are returned as soon as the guard is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

/// Permits held through an `Arc<Semaphore>`; returned to it on drop. `'static`, so it can
/// move into a spawned task.
#[must_use = "permits are returned as soon as the guard is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold (`usize::MAX >> 3`, as Tokio's).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS, "too many permits: {permits}");
        let resource = Resource::semaphore();
        resource_state!(resource, permits = permits, permits.op = "override");
        Semaphore {
            state: Mutex::new(State {
                permits,
                closed: false,
                waiters: WaitQueue::new(),
            }),
            resource,
        }
    }

    /// As [`new`](Self::new), in a `const` context (a `static`), as Tokio's. Not under
    /// loom, whose locks cannot be made in one.
    ///
    /// # Panics
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS) (at compile time in a
    /// `static`).
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS, "too many permits");
        Semaphore {
            state: Mutex::new(State {
                permits,
                closed: false,
                waiters: WaitQueue::new(),
            }),
            resource: Resource::none(),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits, waking the head of the queue if it can now proceed.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        let wake = {
            let mut st = lock(&self.state);
            st.permits = st
                .permits
                .checked_add(n)
                .filter(|&p| p <= Self::MAX_PERMITS)
                .expect("semaphore permits overflow");
            st.head_if_ready()
        };
        resource_state!(self.resource, permits = n, permits.op = "add");
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Removes up to `n` free permits for good, returning how many it removed (fewer than
    /// `n` when fewer are free). Permits held by guards are not touched. Works on a closed
    /// semaphore too.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut st = lock(&self.state);
        let removed = st.permits.min(n);
        st.permits -= removed;
        drop(st);
        resource_state!(self.resource, permits = removed, permits.op = "sub");
        removed
    }

    /// Closes the semaphore: every queued and future acquire fails with [`AcquireError`].
    /// Permits already held stay valid and are still returned on drop.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut st = lock(&self.state);
            st.closed = true;
            st.waiters.take_all_wakers()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Waits for one permit.
    ///
    /// Cancel-safe: dropping the future before it completes takes no permit and keeps the
    /// queue's order for the others.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once (FIFO with the other acquirers). Cancel-safe, as
    /// [`acquire`](Self::acquire).
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let n = n as usize;
        self.wait_for(n).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire) through an `Arc`, returning a `'static` permit.
    /// Cancel-safe, as [`acquire`](Self::acquire).
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Self::acquire_many) through an `Arc`. Cancel-safe, as
    /// [`acquire`](Self::acquire).
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let n = n as usize;
        self.wait_for(n).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// One permit if free now and nobody is queued.
    ///
    /// # Errors
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// `n` permits if free now and nobody is queued.
    ///
    /// # Errors
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let n = n as usize;
        self.try_take(n)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`try_acquire`](Self::try_acquire) through an `Arc`.
    ///
    /// # Errors
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(1)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// [`try_acquire_many`](Self::try_acquire_many) through an `Arc`.
    ///
    /// # Errors
    /// [`TryAcquireError::Closed`] or [`TryAcquireError::NoPermits`].
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let n = n as usize;
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire), blocking this thread: for code outside any runtime.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    /// On a thread that drives a runtime (blocking there would stall its tasks).
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        block_outside_runtime(self.acquire())
    }

    /// [`acquire_many`](Self::acquire_many), blocking this thread. Errors and panics as
    /// [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        block_outside_runtime(self.acquire_many(n))
    }

    /// [`acquire_owned`](Self::acquire_owned), blocking this thread. Errors and panics as
    /// [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        block_outside_runtime(self.acquire_owned())
    }

    /// [`acquire_many_owned`](Self::acquire_many_owned), blocking this thread. Errors and
    /// panics as [`blocking_acquire`](Self::blocking_acquire).
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        block_outside_runtime(self.acquire_many_owned(n))
    }

    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(TryAcquireError::Closed);
        }
        if !st.waiters.is_empty() || st.permits < n {
            return Err(TryAcquireError::NoPermits);
        }
        st.permits -= n;
        drop(st);
        resource_state!(self.resource, permits = n, permits.op = "sub");
        Ok(())
    }

    /// Takes `n` permits, waiting in line for them (with the `tracing` feature, inside the
    /// `Semaphore::acquire` async op). The permits are the caller's to give back.
    pub(crate) fn wait_for(
        &self,
        n: usize,
    ) -> impl Future<Output = Result<(), AcquireError>> + Send + '_ {
        let wait = Acquire {
            sem: self,
            n,
            id: None,
        };
        self.resource.async_op(wait, "Semaphore::acquire", "poll")
    }

    /// An acquirer out of coop budget yields; if it would have to wait anyway, it joins
    /// the line now (or stays in it), so a later acquirer cannot overtake it while it
    /// yields. When the permits are free it takes nothing: holding them across the yield
    /// would make every other acquirer wait for it.
    fn keep_place(&self, n: usize, id: &mut Option<u64>, cx: &mut Context<'_>) {
        let mut st = lock(&self.state);
        let could_take = st.waiters.may_take(*id) && st.permits >= n;
        if !st.closed && (id.is_some() || !could_take) {
            st.waiters.wait(id, n, cx.waker());
        }
    }

    fn poll_take(
        &self,
        n: usize,
        id: &mut Option<u64>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let mut st = lock(&self.state);
        if st.closed {
            let gone = id.take().and_then(|me| st.waiters.remove(me).1);
            drop(st);
            drop(gone);
            return Poll::Ready(Err(AcquireError(())));
        }
        if st.waiters.may_take(*id) && st.permits >= n {
            st.permits -= n;
            st.waiters.took(id);
            // Permits may remain for the next in line.
            let next = st.head_if_ready();
            drop(st);
            resource_state!(self.resource, permits = n, permits.op = "sub");
            if let Some(w) = next {
                w.wake();
            }
            return Poll::Ready(Ok(()));
        }
        st.waiters.wait(id, n, cx.waker());
        Poll::Pending
    }

    /// A queued acquirer left without permits: pass a wake-up to the new head.
    fn cancel_wait(&self, id: u64) {
        let (next, _gone) = {
            let mut st = lock(&self.state);
            let (_, gone) = st.waiters.remove(id);
            (st.head_if_ready(), gone)
        };
        if let Some(w) = next {
            w.wake();
        }
    }

    /// Returns `n` permits taken earlier (by a guard that forgot its permit object).
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.add_permits(n);
        }
    }
}

/// The wait for `n` permits of [`Semaphore::wait_for`]: one future with no layer around
/// it, since every lock of a `Mutex` or `RwLock` polls it. Dropped mid-wait, it leaves
/// the queue.
struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    /// Its place in the queue, once it has one.
    id: Option<u64>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // A coop yield point, as Tokio's: a free lock is ready at once, so a task taking
        // one in a loop would otherwise never give its worker up.
        let Poll::Ready(coop) = coop::poll_proceed(cx) else {
            this.sem.keep_place(this.n, &mut this.id, cx);
            return Poll::Pending;
        };
        let ret = this.sem.poll_take(this.n, &mut this.id, cx);
        if ret.is_ready() {
            coop.made_progress();
        }
        ret
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.sem.cancel_wait(id);
        }
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits out of the semaphore for good (they are not returned on drop).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &'a Semaphore {
        self.sem
    }

    /// Moves `other`'s permits into this guard; they are returned together on drop.
    ///
    /// # Panics
    /// If `other` came from a different semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this guard's permits into a new guard; `None` (and nothing moved) if
    /// it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits came from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `other`'s permits into this guard; they are returned together on drop.
    ///
    /// # Panics
    /// If `other` came from a different semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Moves `n` of this guard's permits into a new guard; `None` (and nothing moved) if
    /// it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &st.permits)
            .field("waiters", &st.waiters.len())
            .field("closed", &st.closed)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Two tasks contend for one permit while a third returns it: each gets it exactly
    /// once, the count is restored, and nobody sleeps through a release (loom reports a
    /// lost wake-up as a deadlock).
    #[test]
    fn loom_semaphore_no_lost_wakeup() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.clone().try_acquire_owned().unwrap();
            let a = {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { drop(sem.acquire().await.unwrap()) }))
            };
            let b = {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { drop(sem.acquire().await.unwrap()) }))
            };
            drop(held);
            a.join().unwrap();
            b.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    }

    /// A permit passed from its holder to a waiting acquirer carries what the holder
    /// wrote: loom reports a data race on the cell if taking the permit does not
    /// synchronise with giving it back.
    #[test]
    fn loom_semaphore_permit_publishes_the_holders_writes() {
        use loom::cell::UnsafeCell;
        loom::model(|| {
            let sem = Arc::new(Semaphore::new(1));
            let cell = Arc::new(UnsafeCell::new(0u32));
            let held = sem.clone().try_acquire_owned().unwrap();
            let waiter = {
                let (sem, cell) = (sem.clone(), cell.clone());
                thread::spawn(move || {
                    block_on(async {
                        let _permit = sem.acquire().await.unwrap();
                        // SAFETY: the permit (the semaphore's only one) gives exclusive
                        // access to the cell.
                        cell.with_mut(|v| unsafe { *v += 1 });
                    })
                })
            };
            // SAFETY: `held` is the only permit.
            cell.with_mut(|v| unsafe { *v += 1 });
            drop(held);
            waiter.join().unwrap();
            // SAFETY: the waiter has exited; nobody else reaches the cell.
            assert_eq!(cell.with(|v| unsafe { *v }), 2);
        });
    }
}
