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
//! of live senders, and for bounded channels the number of reserved slots and a FIFO of
//! waiting senders. A sender waits for *capacity* (`queue + reserved < capacity`) in arrival
//! order: a waiter may take a slot only when every waiter ahead of it has taken one or left,
//! so senders cannot starve each other. A slot freed by `recv` (or an unused permit) wakes
//! the first waiter; a waiter that leaves (its future dropped) while first in line passes the
//! wake-up on, so no capacity is lost to cancellation. This is a first, lock-based version:
//! simple to prove (see the loom model), not yet the fastest possible.
//!
//! Cancel safety: `recv` and `reserve`/`send` futures are cancel-safe in the sense that
//! dropping them loses no message and leaks no slot (`send` drops its value with it).

use super::wait_queue::WaitQueue;
use crate::coop;
use crate::loom::{lock, Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

struct Chan<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    queue: VecDeque<T>,
    rx_waker: Option<Waker>,
    senders: usize,
    rx_closed: bool,
    /// `None` for unbounded channels.
    capacity: Option<usize>,
    /// Slots promised to permits not yet used.
    reserved: usize,
    /// Senders waiting for capacity, oldest first.
    waiters: WaitQueue<()>,
}

impl<T> State<T> {
    fn has_room(&self) -> bool {
        self.capacity
            .is_none_or(|c| self.queue.len() + self.reserved < c)
    }

    fn wake_rx(&mut self) -> Option<Waker> {
        self.rx_waker.take()
    }

    /// The first waiting sender's waker, if a slot is free for it.
    fn wake_first_sender(&mut self) -> Option<Waker> {
        let room = self.has_room();
        self.waiters.head_if(|()| room)
    }
}

fn new_chan<T>(capacity: Option<usize>) -> Arc<Chan<T>> {
    Arc::new(Chan {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            rx_waker: None,
            senders: 1,
            rx_closed: false,
            capacity,
            reserved: 0,
            waiters: WaitQueue::new(),
        }),
    })
}

/// A bounded channel holding at most `capacity` messages; senders wait when it is full.
///
/// # Panics
/// If `capacity` is 0.
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires capacity > 0");
    let chan = new_chan(Some(capacity));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// An unbounded channel: sending never waits (memory is the only limit).
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = new_chan(None);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver(Receiver { chan }),
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
}

/// The receiving half of an unbounded channel.
pub struct UnboundedReceiver<T>(Receiver<T>);

/// A reserved slot in a bounded channel: [`send`](Permit::send) cannot fail or wait.
/// Dropping it unused gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
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
    /// No message, and every sender is gone.
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
                Slot::TryBounded if !st.waiters.is_empty() || !st.has_room() => {
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

    fn poll_reserve(&self, id: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let mut st = lock(&self.state);
        if st.rx_closed {
            if let Some(me) = id.take() {
                st.waiters.remove(me);
            }
            return Poll::Ready(Err(()));
        }
        if st.waiters.may_take(*id) && st.has_room() {
            st.waiters.took(id);
            st.reserved += 1;
            // Room may remain for the next waiter too.
            let next = st.wake_first_sender();
            drop(st);
            if let Some(w) = next {
                w.wake();
            }
            return Poll::Ready(Ok(()));
        }
        st.waiters.wait(id, (), cx.waker());
        Poll::Pending
    }

    /// A waiting sender's future was dropped: leave the line, passing a wake-up on.
    fn cancel_wait(&self, id: u64) {
        let next = {
            let mut st = lock(&self.state);
            st.waiters.remove(id);
            st.wake_first_sender()
        };
        if let Some(w) = next {
            w.wake();
        }
    }

    fn release_permit(&self) {
        let next = {
            let mut st = lock(&self.state);
            st.reserved -= 1;
            st.wake_first_sender()
        };
        if let Some(w) = next {
            w.wake();
        }
    }
}

/// Removes a waiter when a `reserve` future is dropped mid-wait.
struct WaitGuard<'a, T> {
    chan: &'a Chan<T>,
    id: Option<u64>,
}

impl<T> Drop for WaitGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.chan.cancel_wait(id);
        }
    }
}

impl<T> Sender<T> {
    /// Waits for a free slot, then sends `value`.
    ///
    /// # Errors
    /// [`SendError`] with the value if the receiver was dropped or closed.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
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
    /// # Errors
    /// [`SendError`] (holding `()`) if the receiver was dropped or closed.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        let mut guard = WaitGuard {
            chan: &self.chan,
            id: None,
        };
        let result = poll_fn(|cx| {
            let coop = std::task::ready!(coop::poll_proceed(cx));
            let r = self.chan.poll_reserve(&mut guard.id, cx);
            if r.is_ready() {
                coop.made_progress();
            }
            r
        })
        .await;
        guard.id = None;
        result
            .map(|()| Permit { chan: &self.chan })
            .map_err(|()| SendError(()))
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
        lock(&self.chan.state).capacity.unwrap_or(usize::MAX)
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
        self.chan.release_permit();
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
    /// Receives the next message; `None` once every sender is gone and the queue is empty.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` messages into `buf` (waiting for at least one); returns how
    /// many were added, 0 only when the channel is closed and empty, or `limit` is 0.
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        if limit == 0 {
            return 0;
        }
        poll_fn(|cx| self.poll_recv_many(cx, buf, limit)).await
    }

    /// Polls for the next message, registering the task to be woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut one = None;
        self.poll_take(cx, 1, |st, _| one = st.queue.pop_front())
            .map(|_| one)
    }

    fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.poll_take(cx, limit, |st, n| buf.extend(st.queue.drain(..n)))
    }

    /// The one receive path: takes `min(limit, queued)` messages through `take`, or
    /// registers the waker when none is queued; `Ready(0)` when closed and empty.
    fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
        take: impl FnOnce(&mut State<T>, usize),
    ) -> Poll<usize> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let (n, next) = {
            let mut st = lock(&self.chan.state);
            let n = limit.min(st.queue.len());
            if n == 0 {
                if st.senders == 0 || (st.rx_closed && st.reserved == 0) {
                    coop.made_progress();
                    return Poll::Ready(0);
                }
                match &st.rx_waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => st.rx_waker = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            take(&mut st, n);
            (n, st.wake_first_sender())
        };
        coop.made_progress();
        if let Some(w) = next {
            w.wake();
        }
        Poll::Ready(n)
    }

    /// Takes a message without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if none is queued, [`TryRecvError::Disconnected`] if none
    /// is queued and no sender remains.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let (value, next) = {
            let mut st = lock(&self.chan.state);
            match st.queue.pop_front() {
                Some(v) => (v, st.wake_first_sender()),
                None if st.senders == 0 => return Err(TryRecvError::Disconnected),
                None => return Err(TryRecvError::Empty),
            }
        };
        if let Some(w) = next {
            w.wake();
        }
        Ok(value)
    }

    /// Closes the channel for sending; queued messages can still be received. Waiting
    /// senders are woken and fail.
    pub fn close(&mut self) {
        let wakers: Vec<Waker> = {
            let mut st = lock(&self.chan.state);
            st.rx_closed = true;
            st.waiters.all_wakers()
        };
        for w in wakers {
            w.wake();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // Drop queued messages now, not when the last sender goes.
        let queued = std::mem::take(&mut lock(&self.chan.state).queue);
        drop(queued);
    }
}

impl<T> UnboundedReceiver<T> {
    /// See [`Receiver::recv`].
    pub async fn recv(&mut self) -> Option<T> {
        self.0.recv().await
    }

    /// See [`Receiver::recv_many`].
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
opaque_debug!(Sender, UnboundedSender, Receiver, UnboundedReceiver);

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
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
}
