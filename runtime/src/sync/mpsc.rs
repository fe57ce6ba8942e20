//! Multi-producer, single-consumer channels: [`channel`] (bounded, with back-pressure) and
//! [`unbounded_channel`].
//!
//! ```
//! # let rt = zokio::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, mut rx) = zokio::sync::mpsc::channel(16);
//!     for i in 0..3 {
//!         let tx = tx.clone();
//!         zokio::spawn(async move { tx.send(i).await.unwrap() });
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(v) = rx.recv().await {
//!         got.push(v);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```
//!
//! ## Design
//!
//! One mutex-guarded state per channel: the message queue, the receiver's waker, the count
//! of live senders, and for bounded channels the slots in use and a FIFO of waiting
//! senders. Three choices keep that lock off the hot path:
//!
//! - **Receiver-side batching.** When its private buffer is empty, the receiver swaps the
//!   whole shared queue into it under one lock (an O(1) swap of two `VecDeque`s) and then
//!   serves messages without locking. Slots of served messages go back to the channel in
//!   batches: every `capacity / 4` messages (at most 64, at least 1) and whenever the buffer
//!   runs dry. Messages in the buffer still count against the capacity, so at most
//!   `capacity` messages are ever in flight; a sender may just see the channel full for up
//!   to one batch after the receiver took them. Channels of capacity 7 or less give each
//!   slot back as soon as its message is received.
//! - **One lock per send.** `send` queues its message in the same lock that finds it a slot
//!   when nobody waits and there is room; otherwise it waits for a slot (`reserve`).
//! - **Handoff at a low watermark.** A waiting sender takes no slot itself: freed slots are
//!   handed to the waiters in arrival order (each leaves the queue holding its slot and is
//!   woken), once the free room reaches half the capacity or the receiver has nothing left
//!   to take, so a stream of receives wakes senders in groups rather than one per message.
//!   Free room and waiting senders never coexist, so a newcomer cannot overtake a waiter
//!   and senders cannot starve each other. A waiter dropped after being handed a slot hands
//!   it on.
//!
//! The lock is `parking_lot`'s (see `loom.rs`): with std's, producers on two workers spent
//! most of their time in `futex_wait`/`futex_wake` on it.
//!
//! The loom model below checks the no-lost-message and no-lost-wake-up properties.
//! Measured on the 2-core development machine (zbench, 2 workers, 1,000,000 messages,
//! medians of 30 interleaved rounds, same run as Tokio): bounded(1024) 1→1 24.5M msg/s
//! (5.0x Tokio's; 15.4M, 3.1x, before the scheduler's yield wake-ups backed off, which split
//! the producer from the consumer), 4→1 11.8M (3.2x); unbounded 1→1 36.1M (3.0x), 4→1
//! 20.9M (5.5x). Bounded 4→1 on one worker runs at 19-25M: on two, producers on both
//! contend for the lock (a third of the samples in its slow path). What splits them is the
//! receiver handing slots to the waiting producers at once: their wake-ups displace one
//! another from the worker's LIFO slot, and each displacement wakes the idle sibling,
//! which steals producers. Without that wake-up a scratch build ran 4→1 at 16-18M, but it
//! is what spreads any task's fan-out over the workers, so it stays. Spinning on the lock
//! instead of parking: 5M. With std's mutex: bounded 1→1 10.6M, 4→1 4.8M, unbounded 4→1
//! 13.4M. Before the batching (one lock per message on each side, and a `Vec` allocated
//! per receive) bounded 1→1 ran at 0.43x Tokio's and 4→1 at 0.26x.
//!
//! Cancel safety: `recv` and `reserve`/`send` futures are cancel-safe in the sense that
//! dropping them loses no message and leaks no slot (`send` drops its value with it).

use super::notify::Notify;
use super::wait_queue::{Removed, WaitQueue};
use crate::coop;
use crate::loom::{lock, Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

struct Chan<T> {
    state: Mutex<State<T>>,
    /// Woken (all waiters) when the receiver closes or drops: [`Sender::closed`].
    closed: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    rx_waker: Option<Waker>,
    /// Live senders (weak senders not counted): the stream ends when this reaches 0.
    senders: usize,
    /// Live [`WeakSender`]s / [`WeakUnboundedSender`]s.
    weak_senders: usize,
    rx_closed: bool,
    /// `None` for unbounded channels.
    capacity: Option<usize>,
    /// Slots promised to permits not yet used.
    reserved: usize,
    /// Messages the receiver moved into its private buffer whose slots it has not given
    /// back yet: they still count against the capacity.
    in_rx: usize,
    /// Senders waiting for capacity, oldest first, with the slots each needs.
    waiters: WaitQueue<usize>,
}

// The channel's state changes only under its lock, in steps that cannot panic part-way
// (counters and queue moves; no user code runs under the lock: wakers are woken and
// dropped after unlocking), and messages are only moved, never reached by reference, so a
// panic caught around a use of the channel cannot leave it half-updated. As Tokio's.
impl<T> std::panic::RefUnwindSafe for Chan<T> {}
impl<T> std::panic::UnwindSafe for Chan<T> {}

/// Wakers collected under the channel's lock, to wake after unlocking. The first is kept
/// apart so the common case (one waker) does not allocate.
struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    fn none() -> Wakers {
        Wakers::one(None)
    }

    fn one(first: Option<Waker>) -> Wakers {
        Wakers {
            first,
            rest: Vec::new(),
        }
    }

    fn wake(self) {
        self.first
            .into_iter()
            .chain(self.rest)
            .for_each(Waker::wake);
    }
}

impl<T> State<T> {
    /// Whether `n` more slots fit.
    fn has_room(&self, n: usize) -> bool {
        self.capacity.is_none_or(|c| self.used() + n <= c)
    }

    /// Slots in use: queued, in the receiver's buffer, or reserved.
    fn used(&self) -> usize {
        self.queue.len() + self.in_rx + self.reserved
    }

    /// Whether a waiting sender needing `need` slots should be handed them now: when they
    /// are free and the free room reaches the low watermark (half the capacity), or the
    /// queue is empty (so a waiter never waits on a receiver with nothing left to take).
    /// Handing slots out one at a time woke a sender per received message.
    fn room_to_hand_out(&self, need: usize) -> bool {
        match self.capacity {
            None => true,
            Some(c) => {
                let free = c.saturating_sub(self.used());
                let nothing_left = self.queue.is_empty() && self.in_rx == 0;
                free >= need.max(1) && (nothing_left || free >= c.div_ceil(2))
            }
        }
    }

    fn wake_rx(&mut self) -> Option<Waker> {
        self.rx_waker.take()
    }

    /// Hands free slots, if any, to the first waiting sender; returns its waker. After
    /// close nobody is handed a slot (waiters fail instead).
    fn wake_first_sender(&mut self) -> Option<Waker> {
        if self.rx_closed {
            return None;
        }
        let need = self.waiters.head_need()?;
        if !self.room_to_hand_out(need) {
            return None;
        }
        self.reserved += need;
        self.waiters.grant_head()
    }

    /// Hands free slots to waiting senders, in order, while the head's need can be met.
    fn wake_senders(&mut self) -> Wakers {
        let first = self.wake_first_sender();
        let mut rest = Vec::new();
        if first.is_some() {
            while let Some(w) = self.wake_first_sender() {
                rest.push(w);
            }
        }
        Wakers { first, rest }
    }

    /// `n` slots held by a waiter (granted) or by permits go back: to the next waiters if
    /// any. After close, the last one back wakes the receiver, which waits for outstanding
    /// permits before it reports the end of the stream.
    fn return_slots(&mut self, n: usize) -> Wakers {
        self.reserved -= n;
        if self.rx_closed {
            return Wakers::one(if self.reserved == 0 {
                self.wake_rx()
            } else {
                None
            });
        }
        self.wake_senders()
    }
}

fn new_chan<T>(capacity: Option<usize>) -> Arc<Chan<T>> {
    Arc::new(Chan {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            rx_waker: None,
            senders: 1,
            weak_senders: 0,
            rx_closed: false,
            capacity,
            reserved: 0,
            in_rx: 0,
            waiters: WaitQueue::new(),
        }),
        closed: Notify::new(),
    })
}

/// A bounded channel holding at most `capacity` messages; senders wait when it is full.
/// Slots of received messages come back in batches of `capacity / 4` (at most 64), and
/// waiting senders are handed slots once half the capacity is free or the receiver has
/// nothing left: see the module documentation.
///
/// # Panics
/// If `capacity` is 0.
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires capacity > 0");
    let chan = new_chan(Some(capacity));
    (
        Sender { chan: chan.clone() },
        Receiver::new(chan, Some(capacity)),
    )
}

/// An unbounded channel: sending never waits (memory is the only limit).
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = new_chan(None);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver(Receiver::new(chan, None)),
    )
}

/// The sending half of a bounded channel; clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The sending half of an unbounded channel.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving half of a bounded channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// Messages moved out of the shared queue in one locked swap, served without locking.
    buf: VecDeque<T>,
    /// Messages served from `buf` whose slots are not given back yet.
    unreleased: usize,
    /// How many served messages to give back at once (a quarter of the capacity, at most
    /// 64, at least 1: senders see freed room soon enough to keep running alongside).
    release_batch: usize,
}

impl<T> Receiver<T> {
    fn new(chan: Arc<Chan<T>>, capacity: Option<usize>) -> Receiver<T> {
        Receiver {
            chan,
            buf: VecDeque::new(),
            unreleased: 0,
            release_batch: capacity.map_or(64, |c| (c / 4).clamp(1, 64)),
        }
    }
}

// Through `&Receiver` no message is reached (only counts are read); through `&mut`, its
// private buffer changes only by whole pops and swaps, with no user code in between, so a
// caught panic cannot leave it half-updated. Unwind-safe whatever `T` is, as Tokio's.
impl<T> std::panic::RefUnwindSafe for Receiver<T> {}
impl<T> std::panic::UnwindSafe for Receiver<T> {}

/// The receiving half of an unbounded channel.
pub struct UnboundedReceiver<T>(Receiver<T>);

/// A sender that does not keep a bounded channel open: once every [`Sender`] is gone the
/// receiver sees the end of the stream, and [`upgrade`](Self::upgrade) returns `None`.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// A [`WeakSender`] for an unbounded channel.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiver never pins its messages (they are moved out of `buf`, never polled in
/// place), so it is `Unpin` whatever `T` is, as Tokio's is: `Pin<&mut Receiver<T>>` may be
/// turned back into `&mut` (a `Stream` wrapper calling `poll_recv`).
impl<T> Unpin for Receiver<T> {}

/// A reserved slot in a bounded channel: [`send`](Permit::send) cannot fail or wait.
/// Dropping it unused gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// `n` slots reserved at once by [`Sender::reserve_many`]: yields one [`Permit`] per slot.
/// Slots not taken out of it go back to the channel when it is dropped.
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    /// Slots not yet yielded.
    n: usize,
}

/// A reserved slot that owns its [`Sender`] ([`Sender::reserve_owned`]), so it is
/// `'static`; sending through it gives the sender back. Dropping it unused gives the slot
/// back.
pub struct OwnedPermit<T> {
    /// `None` only once `send` or `release` has taken it.
    sender: Option<Sender<T>>,
}

/// Why [`Sender::send_timeout`] failed; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// No slot came free in time.
    Timeout(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

/// The receiver is gone; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`] failed; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full.
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No message now; senders remain.
    Empty,
    /// No message, and none can come: every sender is gone, or the receiver was closed
    /// and no permit is outstanding.
    Disconnected,
}

/// Where a pushed message's slot comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A permit reserved it: the push cannot be refused.
    Reserved,
    /// A bounded `try_send`: refused when full or closed.
    TryBounded,
    /// An unbounded send: refused only when closed.
    Unbounded,
}

/// Why a push was refused.
enum Refused {
    Closed,
    Full,
}

impl<T> Chan<T> {
    /// Queues `value` (the one path every send takes) and wakes the receiver; returns the
    /// value if the slot kind allows refusing it.
    fn push(&self, value: T, slot: Slot) -> Result<(), (T, Refused)> {
        let waker = {
            let mut st = lock(&self.state);
            match slot {
                Slot::Reserved => st.reserved -= 1,
                _ if st.rx_closed => return Err((value, Refused::Closed)),
                Slot::TryBounded if !st.waiters.is_empty() || !st.has_room(1) => {
                    return Err((value, Refused::Full))
                }
                _ => {}
            }
            st.queue.push_back(value);
            st.wake_rx()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    fn is_closed(&self) -> bool {
        lock(&self.state).rx_closed
    }

    /// Takes `n` slots at once (counted in `reserved`): at once if nobody waits and they
    /// are free, or when they were handed over while waiting.
    fn poll_reserve(
        &self,
        id: &mut Option<u64>,
        n: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let mut st = lock(&self.state);
        if st.rx_closed {
            let (removed, gone) = id
                .take()
                .map_or((Removed::Absent, None), |me| st.waiters.remove(me));
            let next = match removed {
                Removed::Granted => st.return_slots(n),
                Removed::Queued | Removed::Absent => Wakers::none(),
            };
            drop(st);
            drop(gone);
            next.wake();
            return Poll::Ready(Err(()));
        }
        match *id {
            Some(me) if st.waiters.take_grant(me) => {
                *id = None;
                return Poll::Ready(Ok(()));
            }
            None if st.waiters.is_empty() && st.has_room(n) => {
                st.reserved += n;
                return Poll::Ready(Ok(()));
            }
            _ => {}
        }
        st.waiters.wait(id, n, cx.waker());
        Poll::Pending
    }

    /// Waits in line for `n` slots. Cancel-safe: see [`Sender::reserve`].
    async fn reserve(&self, n: usize) -> Result<(), ()> {
        let mut guard = WaitGuard {
            chan: self,
            id: None,
            n,
        };
        let result =
            poll_fn(|cx| coop::poll_budgeted(cx, |cx| self.poll_reserve(&mut guard.id, n, cx)))
                .await;
        guard.id = None;
        result
    }

    /// Takes `n` slots if nobody waits and they are free now.
    fn try_reserve(&self, n: usize) -> Result<(), Refused> {
        let mut st = lock(&self.state);
        if st.rx_closed {
            return Err(Refused::Closed);
        }
        if !st.waiters.is_empty() || !st.has_room(n) {
            return Err(Refused::Full);
        }
        st.reserved += n;
        Ok(())
    }

    /// A waiting sender's future was dropped: leave the line, handing on the `n` slots it
    /// had been given.
    fn cancel_wait(&self, id: u64, n: usize) {
        let (next, _gone) = {
            let mut st = lock(&self.state);
            let (removed, gone) = st.waiters.remove(id);
            let next = match removed {
                Removed::Granted => st.return_slots(n),
                Removed::Queued | Removed::Absent => Wakers::none(),
            };
            (next, gone)
        };
        next.wake();
    }

    /// `n` reserved slots go back unused.
    fn release_slots(&self, n: usize) {
        if n > 0 {
            let next = lock(&self.state).return_slots(n);
            next.wake();
        }
    }

    /// Free slots now (`usize::MAX` for an unbounded channel).
    fn capacity(&self) -> usize {
        let st = lock(&self.state);
        st.capacity
            .map_or(usize::MAX, |c| c.saturating_sub(st.used()))
    }

    fn max_capacity(&self) -> usize {
        lock(&self.state).capacity.unwrap_or(usize::MAX)
    }

    /// (live senders, live weak senders).
    fn sender_counts(&self) -> (usize, usize) {
        let st = lock(&self.state);
        (st.senders, st.weak_senders)
    }

    /// Waits until the receiver is dropped or closed.
    async fn closed(&self) {
        loop {
            // Created before the check, so a close in between is not missed.
            let notified = self.closed.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    fn drop_weak(&self) {
        lock(&self.state).weak_senders -= 1;
    }
}

/// Removes a waiter when a `reserve` future is dropped mid-wait.
struct WaitGuard<'a, T> {
    chan: &'a Chan<T>,
    id: Option<u64>,
    /// Slots it waits for.
    n: usize,
}

impl<T> Drop for WaitGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.chan.cancel_wait(id, self.n);
        }
    }
}

/// The errors of the channels, under Tokio's path (`mpsc::error`).
pub mod error {
    pub use super::{SendError, SendTimeoutError, TryRecvError, TrySendError};
}

impl<T> Sender<T> {
    /// [`send`](Self::send) from a thread outside any runtime (a plain thread, or a
    /// `spawn_blocking` closure), blocking it while the channel is full.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    ///
    /// # Panics
    /// On a thread that drives a runtime (inside a task or `block_on`).
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::runtime::context::block_outside_runtime(self.send(value))
    }

    /// Waits for a free slot, then sends `value`.
    ///
    /// Cancel safety: the message is queued only in the poll that completes, so a future
    /// dropped before completing has sent nothing and holds no slot; but `value` is dropped
    /// with it, and the sender loses its place in the line of waiting senders. To keep the
    /// value across a cancellation (e.g. in a `select!` loop), [`reserve`](Self::reserve)
    /// first and send through the permit.
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver was dropped or closed.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        // Fast path: one lock for slot and message when nobody waits and there is room
        // (reserve-then-push took the channel's lock twice per message, and with four
        // producers on two workers that lock was the bottleneck). Still a coop yield point.
        let mut value = Some(value);
        let fast = poll_fn(|cx| {
            let coop = std::task::ready!(coop::poll_proceed(cx));
            let v = value.take().expect("polled after completion");
            Poll::Ready(match self.chan.push(v, Slot::TryBounded) {
                Ok(()) => {
                    coop.made_progress();
                    Ok(true)
                }
                Err((v, Refused::Closed)) => Err(SendError(v)),
                Err((v, Refused::Full)) => {
                    value = Some(v);
                    Ok(false)
                }
            })
        })
        .await?;
        let Some(value) = value.filter(|_| !fast) else {
            return Ok(());
        };
        match self.reserve().await {
            Ok(permit) => {
                permit.send(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Waits for a free slot and reserves it. Senders are served in arrival order.
    ///
    /// Cancel-safe: a future dropped while waiting leaves the line holding nothing; a slot
    /// handed to it just before goes to the next waiting sender (or back to the channel).
    /// It does lose its place in the line.
    ///
    /// # Errors
    /// [`SendError`] (holding `()`) if the receiver was dropped or closed.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.chan.reserve(1).await.map_err(|()| SendError(()))?;
        Ok(Permit { chan: &self.chan })
    }

    /// Waits for `n` free slots and reserves them all at once (in line with the other
    /// senders, so two callers never each hold part of what they need). Cancel-safe, as
    /// [`reserve`](Self::reserve).
    ///
    /// # Errors
    /// [`SendError`] if the receiver was dropped or closed, or `n` exceeds the channel's
    /// capacity (it could never be met).
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        self.chan.reserve(n).await.map_err(|()| SendError(()))?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// [`reserve`](Self::reserve), consuming the sender: the permit owns it (and gives it
    /// back from [`OwnedPermit::send`]), so it is `'static`. Cancel-safe, as
    /// [`reserve`](Self::reserve) (the sender is dropped with the future).
    ///
    /// # Errors
    /// [`SendError`] if the receiver was dropped or closed.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.chan.reserve(1).await.map_err(|()| SendError(()))?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// A slot if one is free now and nobody waits.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], holding `()`.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(1).map_err(|why| why.into_error(()))?;
        Ok(Permit { chan: &self.chan })
    }

    /// `n` slots if they are free now and nobody waits.
    ///
    /// # Errors
    /// [`TrySendError::Full`] (also when `n` exceeds the capacity) or
    /// [`TrySendError::Closed`], holding `()`.
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(n).map_err(|why| why.into_error(()))?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// [`try_reserve`](Self::try_reserve), consuming the sender.
    ///
    /// # Errors
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], holding the sender.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(why) => Err(why.into_error(self)),
        }
    }

    /// [`send`](Self::send), giving up after `timeout`.
    ///
    /// Cancel safety as [`send`](Self::send).
    ///
    /// # Errors
    /// [`SendTimeoutError::Timeout`] if no slot came free in time,
    /// [`SendTimeoutError::Closed`] if the receiver is gone; both return the value.
    ///
    /// # Panics
    /// Outside a runtime (it needs the runtime's timer).
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Waits until the receiver is dropped or closed (for a producer to stop early).
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// Free slots now: the capacity minus queued messages and reserved slots. Slots of
    /// received messages come back in batches (see the module documentation), so right
    /// after a receive this may read lower than Tokio's.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// A [`WeakSender`]: it does not keep the channel open, and can be upgraded back while
    /// some `Sender` lives.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            chan: add_weak(&self.chan),
        }
    }

    /// Whether `other` sends into the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Live `Sender`s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Live [`WeakSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// Sends without waiting.
    ///
    /// # Errors
    /// [`TrySendError::Full`] if no slot is free (or earlier senders are waiting),
    /// [`TrySendError::Closed`] if the receiver is gone; both return the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan
            .push(value, Slot::TryBounded)
            .map_err(|(v, why)| match why {
                Refused::Full => TrySendError::Full(v),
                Refused::Closed => TrySendError::Closed(v),
            })
    }

    /// Whether the receiver has been dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// The channel's capacity.
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }
}

impl Refused {
    fn into_error<V>(self, value: V) -> TrySendError<V> {
        match self {
            Refused::Full => TrySendError::Full(value),
            Refused::Closed => TrySendError::Closed(value),
        }
    }
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot (never waits, never fails: if the receiver is
    /// gone the value is dropped with the channel).
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        // A reserved slot is never refused; if the receiver is gone the value is dropped
        // with the channel.
        let _ = chan.push(value, Slot::Reserved);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_slots(1);
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Self::Item> {
        self.n = self.n.checked_sub(1)?;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release_slots(self.n);
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot (never waits, never fails), returning the
    /// sender.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender");
        // A reserved slot is never refused; if the receiver is gone the value is dropped
        // with the channel.
        let _ = sender.chan.push(value, Slot::Reserved);
        sender
    }

    /// Gives the slot back unused, returning the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("an OwnedPermit holds its sender");
        sender.chan.release_slots(1);
        sender
    }

    /// Whether `other` sends into this permit's channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.sender.as_ref().is_some_and(|s| s.same_channel(other))
    }

    /// The channel's capacity.
    pub fn max_capacity(&self) -> usize {
        self.sender.as_ref().map_or(0, Sender::max_capacity)
    }

    /// Free slots of the channel now, as [`Sender::capacity`].
    pub fn capacity(&self) -> usize {
        self.sender.as_ref().map_or(0, Sender::capacity)
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.release_slots(1);
        }
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting.
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver was dropped or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan
            .push(value, Slot::Unbounded)
            .map_err(|(v, _)| SendError(v))
    }

    /// Whether the receiver has been dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Waits until the receiver is dropped or closed.
    pub async fn closed(&self) {
        self.chan.closed().await;
    }

    /// A [`WeakUnboundedSender`]: it does not keep the channel open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            chan: add_weak(&self.chan),
        }
    }

    /// Whether `other` sends into the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Live `UnboundedSender`s of this channel.
    pub fn strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Live [`WeakUnboundedSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }
}

/// `WeakSender` and `WeakUnboundedSender` alike.
macro_rules! weak_sender {
    ($weak:ident, $strong:ident) => {
        impl<T> $weak<T> {
            /// A strong sender again, unless every strong sender is gone (the channel is
            /// then closed for good).
            pub fn upgrade(&self) -> Option<$strong<T>> {
                upgrade(&self.chan).map(|chan| $strong { chan })
            }

            /// Live strong senders of this channel.
            pub fn strong_count(&self) -> usize {
                self.chan.sender_counts().0
            }

            /// Live weak senders of this channel.
            pub fn weak_count(&self) -> usize {
                self.chan.sender_counts().1
            }
        }

        impl<T> Clone for $weak<T> {
            fn clone(&self) -> $weak<T> {
                $weak {
                    chan: add_weak(&self.chan),
                }
            }
        }

        impl<T> Drop for $weak<T> {
            fn drop(&mut self) {
                self.chan.drop_weak();
            }
        }
    };
}

weak_sender!(WeakSender, Sender);
weak_sender!(WeakUnboundedSender, UnboundedSender);

/// A new strong sender from a weak one, unless every strong sender is gone.
fn upgrade<T>(chan: &Arc<Chan<T>>) -> Option<Arc<Chan<T>>> {
    let mut st = lock(&chan.state);
    if st.senders == 0 {
        return None;
    }
    st.senders += 1;
    drop(st);
    Some(chan.clone())
}

fn add_weak<T>(chan: &Arc<Chan<T>>) -> Arc<Chan<T>> {
    lock(&chan.state).weak_senders += 1;
    chan.clone()
}

fn add_sender<T>(chan: &Arc<Chan<T>>) -> Arc<Chan<T>> {
    lock(&chan.state).senders += 1;
    chan.clone()
}

fn drop_sender<T>(chan: &Chan<T>) {
    let waker = {
        let mut st = lock(&chan.state);
        st.senders -= 1;
        if st.senders == 0 {
            st.wake_rx()
        } else {
            None
        }
    };
    if let Some(w) = waker {
        w.wake();
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            chan: add_sender(&self.chan),
        }
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        UnboundedSender {
            chan: add_sender(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        drop_sender(&self.chan);
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        drop_sender(&self.chan);
    }
}

impl<T> Receiver<T> {
    /// [`recv`](Self::recv) from a thread outside any runtime (a plain thread, or a
    /// `spawn_blocking` closure), blocking it until a message or the end of the channel.
    ///
    /// # Panics
    /// On a thread that drives a runtime (inside a task or `block_on`).
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::runtime::context::block_outside_runtime(self.recv())
    }

    /// [`recv_many`](Self::recv_many) from a thread outside any runtime, blocking it
    /// until at least one message or the end of the channel.
    ///
    /// # Panics
    /// As [`blocking_recv`](Self::blocking_recv).
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        crate::runtime::context::block_outside_runtime(self.recv_many(buf, limit))
    }

    /// Receives the next message; `None` once every sender is gone and the queue is empty.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` messages into `buf` (waiting for at least one); returns how
    /// many were added, 0 only when the channel is closed and empty, or `limit` is 0.
    /// Cancel-safe: messages are moved into `buf` only in the poll that completes.
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        poll_fn(|cx| self.poll_recv_many(cx, buf, limit)).await
    }

    /// Polls for the next message, registering the task to be woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut one = None;
        self.poll_take(cx, 1, |v| one = Some(v)).map(|_| one)
    }

    /// Polls for up to `limit` messages, appending them to `buf`, as
    /// [`recv_many`](Self::recv_many); registers the task to be woken when none is queued.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        self.poll_take(cx, limit, |v| buf.push(v))
    }

    /// Messages waiting to be received.
    pub fn len(&self) -> usize {
        self.buf.len() + lock(&self.chan.state).queue.len()
    }

    /// Whether no message waits to be received.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the channel is closed for sending: [`close`](Self::close) was called or
    /// every sender is gone. Messages may still wait to be received.
    pub fn is_closed(&self) -> bool {
        let st = lock(&self.chan.state);
        st.rx_closed || st.senders == 0
    }

    /// Free slots now, as [`Sender::capacity`].
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The channel's capacity.
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// Live senders (weak ones not counted).
    pub fn sender_strong_count(&self) -> usize {
        self.chan.sender_counts().0
    }

    /// Live weak senders.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.sender_counts().1
    }

    /// The one receive path: takes up to `limit` messages through `take`, or registers the
    /// waker when none is queued; `Ready(0)` when closed and empty.
    fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
        take: impl FnMut(T),
    ) -> Poll<usize> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        if self.buf.is_empty() {
            let mut st = lock(&self.chan.state);
            let wakers = Self::refill(&mut self.buf, &mut self.unreleased, &mut st);
            if self.buf.is_empty() {
                let done = st.senders == 0 || (st.rx_closed && st.reserved == 0);
                if !done {
                    match &st.rx_waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => st.rx_waker = Some(cx.waker().clone()),
                    }
                }
                drop(st);
                wakers.for_each(Waker::wake);
                if done {
                    coop.made_progress();
                    return Poll::Ready(0);
                }
                return Poll::Pending;
            }
            drop(st);
            wakers.for_each(Waker::wake);
        }
        let n = self.serve(limit, take);
        coop.made_progress();
        Poll::Ready(n)
    }

    /// Under the lock: gives back the slots of messages already served, and moves every
    /// queued message into the private buffer (an O(1) swap of the two queues). Returns
    /// the wakers of senders handed slots, to wake after unlocking.
    fn refill(
        buf: &mut VecDeque<T>,
        unreleased: &mut usize,
        st: &mut State<T>,
    ) -> impl Iterator<Item = Waker> {
        st.in_rx -= std::mem::take(unreleased);
        std::mem::swap(&mut st.queue, buf);
        st.in_rx += buf.len();
        let first = st.wake_first_sender();
        let mut rest = Vec::new();
        if first.is_some() {
            while let Some(w) = st.wake_first_sender() {
                rest.push(w);
            }
        }
        first.into_iter().chain(rest)
    }

    /// Serves up to `limit` messages from the private buffer. Their slots go back to the
    /// channel in batches (every `release_batch` messages, and when the buffer runs dry),
    /// so the receiver takes the lock about once per batch rather than once per message.
    fn serve(&mut self, limit: usize, mut take: impl FnMut(T)) -> usize {
        let n = limit.min(self.buf.len());
        for _ in 0..n {
            if let Some(v) = self.buf.pop_front() {
                take(v);
            }
        }
        self.unreleased += n;
        if self.unreleased >= self.release_batch || self.buf.is_empty() {
            self.release();
        }
        n
    }

    /// Gives back the slots of served messages, handing them to waiting senders.
    fn release(&mut self) {
        if self.unreleased == 0 {
            return;
        }
        let wakers: Vec<Waker> = {
            let mut st = lock(&self.chan.state);
            st.in_rx -= std::mem::take(&mut self.unreleased);
            std::iter::from_fn(|| st.wake_first_sender()).collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Takes a message without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if none is queued, [`TryRecvError::Disconnected`] if none
    /// is queued and none can come (no sender remains, or the channel was closed and no
    /// permit is outstanding).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.buf.is_empty() {
            let mut st = lock(&self.chan.state);
            let wakers = Self::refill(&mut self.buf, &mut self.unreleased, &mut st);
            // As `poll_take`'s end of stream: no sender left, or closed with no permit
            // outstanding (a permit may still send).
            let disconnected = st.senders == 0 || (st.rx_closed && st.reserved == 0);
            drop(st);
            wakers.for_each(Waker::wake);
            if self.buf.is_empty() {
                return Err(if disconnected {
                    TryRecvError::Disconnected
                } else {
                    TryRecvError::Empty
                });
            }
        }
        let mut one = None;
        self.serve(1, |v| one = Some(v));
        one.ok_or(TryRecvError::Empty)
    }

    /// Closes the channel for sending; queued messages can still be received. Waiting
    /// senders are woken and fail.
    pub fn close(&mut self) {
        let wakers: Vec<Waker> = {
            let mut st = lock(&self.chan.state);
            st.rx_closed = true;
            st.waiters.take_all_wakers()
        };
        for w in wakers {
            w.wake();
        }
        self.chan.closed.notify_waiters();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop queued messages and the receiver's waker now, not when the last sender
        // goes: the waker keeps its task's allocation alive. Dropped after unlocking, since
        // a message's or waker's `Drop` may use the channel.
        let (queued, waker) = {
            let mut st = lock(&self.chan.state);
            (std::mem::take(&mut st.queue), st.rx_waker.take())
        };
        drop(queued);
        drop(waker);
    }
}

impl<T> UnboundedReceiver<T> {
    /// See [`Receiver::blocking_recv`].
    ///
    /// # Panics
    /// As [`Receiver::blocking_recv`].
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        self.0.blocking_recv()
    }

    /// See [`Receiver::blocking_recv_many`].
    ///
    /// # Panics
    /// As [`Receiver::blocking_recv`].
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        self.0.blocking_recv_many(buf, limit)
    }

    /// See [`Receiver::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        self.0.recv().await
    }

    /// See [`Receiver::recv_many`]. Cancel-safe.
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        self.0.recv_many(buf, limit).await
    }

    /// See [`Receiver::poll_recv`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }

    /// See [`Receiver::try_recv`].
    ///
    /// # Errors
    /// As [`Receiver::try_recv`].
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }

    /// See [`Receiver::close`].
    pub fn close(&mut self) {
        self.0.close();
    }

    /// See [`Receiver::poll_recv_many`].
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.0.poll_recv_many(cx, buf, limit)
    }

    /// See [`Receiver::len`].
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// See [`Receiver::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// See [`Receiver::is_closed`].
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// See [`Receiver::sender_strong_count`].
    pub fn sender_strong_count(&self) -> usize {
        self.0.sender_strong_count()
    }

    /// See [`Receiver::sender_weak_count`].
    pub fn sender_weak_count(&self) -> usize {
        self.0.sender_weak_count()
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("channel full"),
            TrySendError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> TrySendError<T> {
        TrySendError::Closed(e.0)
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out waiting on send operation"),
            SendTimeoutError::Closed(_) => f.write_str("channel closed"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Disconnected => f.write_str("channel disconnected"),
        }
    }
}

impl std::error::Error for TryRecvError {}

macro_rules! opaque_debug {
    ($($ty:ident),*) => {$(
        impl<T> fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(concat!("mpsc::", stringify!($ty))).finish_non_exhaustive()
            }
        }
    )*};
}
opaque_debug!(
    Sender,
    UnboundedSender,
    WeakSender,
    WeakUnboundedSender,
    Receiver,
    UnboundedReceiver,
    OwnedPermit
);

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::PermitIterator")
            .field("permits", &self.n)
            .finish()
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

/// Randomised schedules (shuttle's PCT and random schedulers; see `src/loom.rs`) of a
/// channel large enough for its batching: capacity 8 returns slots every 2 messages and
/// hands them to waiting senders once 4 are free, which loom's capacity-1 model never runs.
#[cfg(all(test, loom, zokio_shuttle))]
mod shuttle_tests {
    use super::*;
    use futures::FutureExt;
    use shuttle::future::block_on;
    use shuttle::thread;

    const SENDERS: u32 = 4;
    const EACH: u32 = 12;

    /// Sender `id`'s messages, through the API it is given: `send`; `reserve` and the
    /// permit; `reserve_many(3)`; or a `reserve` polled once and dropped when it has to
    /// wait (a waiter that leaves, perhaps after a slot was handed to it), then `send`.
    fn sender(tx: Sender<(u32, u32)>, id: u32) {
        block_on(async move {
            let mut seq = 0;
            while seq < EACH {
                match id {
                    0 => tx.send((id, seq)).await.unwrap(),
                    1 => tx.reserve().await.unwrap().send((id, seq)),
                    2 => {
                        let n = (EACH - seq).min(3);
                        let permits = tx.reserve_many(n as usize).await.unwrap();
                        for permit in permits {
                            permit.send((id, seq));
                            seq += 1;
                        }
                        continue;
                    }
                    _ => match tx.reserve().now_or_never() {
                        Some(permit) => permit.unwrap().send((id, seq)),
                        None => tx.send((id, seq)).await.unwrap(),
                    },
                }
                seq += 1;
            }
        });
    }

    fn scenario() {
        let (tx, mut rx) = channel::<(u32, u32)>(8);
        let senders: Vec<_> = (0..SENDERS)
            .map(|id| {
                let tx = tx.clone();
                thread::spawn(move || sender(tx, id))
            })
            .collect();
        drop(tx);
        // Every message once, each sender's in its order; `None` only after all senders
        // left. A lost wake-up is a deadlock shuttle reports.
        let mut next = [0u32; SENDERS as usize];
        while let Some((id, seq)) = block_on(rx.recv()) {
            assert_eq!(seq, next[id as usize], "sender {id} out of order");
            next[id as usize] += 1;
        }
        assert_eq!(next, [EACH; SENDERS as usize]);
        for s in senders {
            s.join().unwrap();
        }
    }

    #[test]
    fn shuttle_mpsc_batched_release_and_handoff_lose_nothing() {
        shuttle::check_pct(scenario, 20_000, 3);
        shuttle::check_random(scenario, 20_000);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Two senders into a channel of capacity 1 while the receiver drains: every message
    /// arrives, nobody waits forever (a lost wake-up is a loom deadlock).
    #[test]
    fn loom_mpsc_bounded_no_lost_message_or_wakeup() {
        // Three threads looping in block_on explode the state space (unbounded, it ran for
        // over ten minutes); a preemption bound of 3 takes seconds and still lets every
        // wake-up race interleave.
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let (tx, mut rx) = channel::<u32>(1);
            let tx2 = tx.clone();
            let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
            let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
            let mut got = Vec::new();
            while let Some(v) = block_on(rx.recv()) {
                got.push(v);
            }
            a.join().unwrap();
            b.join().unwrap();
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
        });
    }

    /// Two senders each reserve the whole channel (2 slots) at once while the receiver
    /// drains: slots are handed over whole, so neither holds part of its need while the
    /// other holds the rest (a deadlock loom would report), and all four messages arrive.
    #[test]
    fn loom_mpsc_reserve_many_whole_or_nothing() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let (tx, mut rx) = channel::<u32>(2);
            let tx2 = tx.clone();
            let send_pair = |tx: Sender<u32>, base: u32| {
                move || {
                    block_on(async {
                        let permits = tx.reserve_many(2).await.unwrap();
                        for (i, permit) in permits.enumerate() {
                            permit.send(base + i as u32);
                        }
                    })
                }
            };
            let a = thread::spawn(send_pair(tx, 0));
            let b = thread::spawn(send_pair(tx2, 10));
            let mut got = Vec::new();
            while let Some(v) = block_on(rx.recv()) {
                got.push(v);
            }
            a.join().unwrap();
            b.join().unwrap();
            got.sort_unstable();
            assert_eq!(got, [0, 1, 10, 11]);
        });
    }
}
