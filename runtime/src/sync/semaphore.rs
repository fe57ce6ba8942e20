//! A fair (FIFO) counting semaphore; the base of [`Mutex`](super::Mutex) and
//! [`RwLock`](super::RwLock).
//!
//! The state is one atomic word (the free permit count, a *queued* bit and a *closed* bit)
//! and a queue of waiting acquirers behind a lock. An acquire takes permits at once only
//! when nobody is queued (so a newcomer never overtakes a waiter); otherwise it joins the
//! back of the queue. Only the head of the queue may take permits: whenever permits are
//! added, or the head leaves, the head is woken if enough permits are free for it, and it
//! takes them when it runs. A large request at the head therefore blocks smaller ones
//! behind it: fairness over throughput, so no acquirer starves.
//!
//! The queued bit is set and cleared only under the lock, and says whether the queue holds
//! anyone. While it is clear, acquiring and releasing are one compare-and-swap on the word
//! and never take the lock (an uncontended `Mutex` lock and unlock: two atomic operations);
//! while it is set, every change to the count except [`Semaphore::forget_permits`] is made
//! under the lock, so the queue and the count cannot drift apart. An acquirer about to queue
//! sets the bit by a compare-and-swap against the count it judged by, so a release racing
//! with it either lands first (and the acquirer sees the permits) or finds the bit set (and
//! wakes it under the lock). Tokio's batch semaphore has the same atomic count; its release
//! takes the waiters' lock every time.
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
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{lock, Mutex};
use crate::runtime::context::block_outside_runtime;
use crate::util::trace::{resource_state, Resource};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A counting semaphore with FIFO fairness. See the module documentation.
pub struct Semaphore {
    /// `permits << SHIFT | CLOSED | QUEUED`.
    state: AtomicUsize,
    /// Acquirers waiting, oldest first, with the permits each needs.
    waiters: Mutex<WaitQueue<usize>>,
    /// With the `tracing` feature, Tokio's `Semaphore` resource span: the permit count's
    /// changes are its state updates.
    resource: Resource,
}

/// `state` bit: the queue holds someone (set and cleared under the `waiters` lock only).
const QUEUED: usize = 0b01;
/// `state` bit: [`Semaphore::close`] was called.
const CLOSED: usize = 0b10;
/// `state`'s permit count starts at this bit.
const SHIFT: u32 = 2;

/// The free permits a `state` word counts.
fn permits_of(state: usize) -> usize {
    state >> SHIFT
}

/// The head's waker, if `permits` are enough for it.
fn head_if_ready(waiters: &mut WaitQueue<usize>, permits: usize) -> Option<Waker> {
    waiters.head_if(|needed| needed <= permits)
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
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitQueue::new()),
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
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitQueue::new()),
            resource: Resource::none(),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        permits_of(self.state.load(Ordering::Acquire))
    }

    /// Adds `n` permits, waking the head of the queue if it can now proceed.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        // Lock-free while nobody is queued; otherwise under the lock, where the head is
        // woken if the permits are now enough for it.
        let mut waiters = None;
        let mut cur = self.state.load(Ordering::Relaxed);
        let total = loop {
            let total = permits_of(cur)
                .checked_add(n)
                .filter(|&p| p <= Self::MAX_PERMITS)
                .expect("semaphore permits overflow");
            if cur & QUEUED != 0 && waiters.is_none() {
                waiters = Some(lock(&self.waiters));
                cur = self.state.load(Ordering::Relaxed);
                continue;
            }
            // Release: the permits carry the returning holder's writes to the next taker.
            match self.state.compare_exchange_weak(
                cur,
                cur + (n << SHIFT),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break total,
                Err(actual) => cur = actual,
            }
        };
        let wake = match waiters {
            Some(mut q) => head_if_ready(&mut q, total),
            None => None,
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
        // Without the lock even when someone is queued: a head woken for permits that are
        // gone when it runs finds too few and waits again.
        let mut cur = self.state.load(Ordering::Relaxed);
        let removed = loop {
            let removed = permits_of(cur).min(n);
            match self.state.compare_exchange_weak(
                cur,
                cur - (removed << SHIFT),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break removed,
                Err(actual) => cur = actual,
            }
        };
        resource_state!(self.resource, permits = removed, permits.op = "sub");
        removed
    }

    /// Closes the semaphore: every queued and future acquire fails with [`AcquireError`].
    /// Permits already held stay valid and are still returned on drop.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut q = lock(&self.waiters);
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            let wakers = q.take_all_wakers();
            self.state.fetch_and(!QUEUED, Ordering::AcqRel);
            wakers
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
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

    /// Takes `n` permits if nobody is queued and enough are free: lock-free.
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        // Acquire even when nothing is taken: a caller that finds the semaphore closed
        // must see what the closer wrote before closing (`OnceCell` publishes its value
        // so).
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if cur & QUEUED != 0 || permits_of(cur) < n {
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire: pairs with the release that returned these permits.
            match self.state.compare_exchange_weak(
                cur,
                cur - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
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
    ///
    /// The task has already woken itself (the coop yield does), so a release racing with
    /// this needs no wake-up of its own: the task runs again and takes what is free.
    fn keep_place(&self, n: usize, id: &mut Option<u64>, cx: &mut Context<'_>) {
        let mut q = lock(&self.waiters);
        let cur = self.state.load(Ordering::Acquire);
        let could_take = q.may_take(*id) && permits_of(cur) >= n;
        if cur & CLOSED == 0 && (id.is_some() || !could_take) {
            self.state.fetch_or(QUEUED, Ordering::AcqRel);
            q.wait(id, n, cx.waker());
        }
    }

    /// Takes `n` permits, or queues (or stays queued). A newcomer first tries without the
    /// lock.
    fn poll_take(
        &self,
        n: usize,
        id: &mut Option<u64>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        if id.is_none() {
            match self.try_take(n) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        let mut q = lock(&self.waiters);
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & CLOSED != 0 {
                // `close` emptied the queue under this lock; `id` is not in it any more.
                let gone = id.take().and_then(|me| q.remove(me).1);
                drop(q);
                drop(gone);
                return Poll::Ready(Err(AcquireError(())));
            }
            if q.may_take(*id) && permits_of(cur) >= n {
                // The queue as it will be once this acquirer has left it.
                let left = q.len() - usize::from(id.is_some());
                let mut next = cur - (n << SHIFT);
                if left == 0 {
                    next &= !QUEUED;
                }
                if let Err(actual) =
                    self.state
                        .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
                {
                    // A lock-free release or take got in first (possible only while the
                    // queued bit is clear), or a `forget_permits`: judge again.
                    cur = actual;
                    continue;
                }
                q.took(id);
                // Permits may remain for the next in line.
                let wake = head_if_ready(&mut q, permits_of(next));
                drop(q);
                resource_state!(self.resource, permits = n, permits.op = "sub");
                if let Some(w) = wake {
                    w.wake();
                }
                return Poll::Ready(Ok(()));
            }
            if cur & QUEUED == 0 {
                // Against the count judged by: a release that lands first is seen on the
                // next turn; one that lands after finds the bit and wakes under the lock.
                if let Err(actual) = self.state.compare_exchange(
                    cur,
                    cur | QUEUED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    cur = actual;
                    continue;
                }
            }
            q.wait(id, n, cx.waker());
            return Poll::Pending;
        }
    }

    /// A queued acquirer left without permits: pass a wake-up to the new head.
    fn cancel_wait(&self, id: u64) {
        let (next, _gone) = {
            let mut q = lock(&self.waiters);
            let (_, gone) = q.remove(id);
            let cur = if q.is_empty() {
                self.state.fetch_and(!QUEUED, Ordering::AcqRel) & !QUEUED
            } else {
                self.state.load(Ordering::Acquire)
            };
            (head_if_ready(&mut q, permits_of(cur)), gone)
        };
        if let Some(w) = next {
            w.wake();
        }
    }

    /// Returns `n` permits taken earlier (by a guard that forgot its permit object).
    #[inline]
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
    #[inline]
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
        let waiters = lock(&self.waiters).len();
        let cur = self.state.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &permits_of(cur))
            .field("waiters", &waiters)
            .field("closed", &(cur & CLOSED != 0))
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

    /// An acquirer that queues and is dropped while the only permit is returned: whichever
    /// order the release, the queueing and the leaving take, the permit ends up free and
    /// the queued bit clear, so a newcomer takes it without waiting.
    #[test]
    fn loom_semaphore_cancelled_waiter_clears_the_queue() {
        use std::task::Waker;
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.clone().try_acquire_owned().unwrap();
            let a = {
                let sem = sem.clone();
                thread::spawn(move || {
                    let mut acquire = std::pin::pin!(sem.acquire());
                    let mut cx = Context::from_waker(Waker::noop());
                    if let Poll::Ready(permit) = acquire.as_mut().poll(&mut cx) {
                        drop(permit.unwrap());
                    }
                })
            };
            drop(held);
            a.join().unwrap();
            assert_eq!(sem.available_permits(), 1);
            assert!(sem.try_acquire().is_ok(), "nobody is queued");
        });
    }

    /// A head waiting for two permits while a one-permit acquirer queues behind it; the
    /// holder returns its two permits one at a time. Both complete (the head first, by the
    /// queue's order), and both permits are free at the end.
    #[test]
    fn loom_semaphore_many_permit_head_and_split_release() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let sem = Arc::new(Semaphore::new(2));
            let mut held = sem.clone().try_acquire_many_owned(2).unwrap();
            let a = {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { drop(sem.acquire_many(2).await.unwrap()) }))
            };
            let b = {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { drop(sem.acquire().await.unwrap()) }))
            };
            let half = held.split(1).unwrap();
            drop(half);
            drop(held);
            a.join().unwrap();
            b.join().unwrap();
            assert_eq!(sem.available_permits(), 2);
        });
    }

    /// `close` races an acquirer and the holder's release: the acquirer finishes (with the
    /// permit or the closed error, never waiting for good) and the returned permit counts.
    #[test]
    fn loom_semaphore_close_races_acquire_and_release() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.clone().try_acquire_owned().unwrap();
            let a = {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { sem.acquire().await.map(drop) }))
            };
            let closer = {
                let sem = sem.clone();
                thread::spawn(move || sem.close())
            };
            drop(held);
            let _ = a.join().unwrap();
            closer.join().unwrap();
            assert!(sem.is_closed());
            assert_eq!(sem.available_permits(), 1);
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
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
