//! A multi-producer, multi-consumer channel where every receiver sees every value:
//! [`channel`], Tokio's `broadcast`.
//!
//! ```
//! # zokio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx1) = zokio::sync::broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send(10).unwrap();
//! assert_eq!(rx1.recv().await.unwrap(), 10);
//! assert_eq!(rx2.recv().await.unwrap(), 10);
//! # });
//! ```
//!
//! ## Design
//!
//! One lock guards a ring of the last `capacity` values (capacity rounded up to a power
//! of two, as Tokio's), each with its sequence number and the count of receivers that
//! have yet to read it. A receiver is a cursor (the sequence number it reads next): a
//! value is cloned out for it and the count drops; the last reader lets the value go. A
//! send into a full ring evicts the oldest value, and a receiver whose cursor fell behind
//! the oldest value left gets `Lagged(missed)` once and resumes from the oldest value
//! still there. Waiting receivers sit in a waker list that each send empties; wakers are
//! woken and dropped after unlocking (a waker may use the channel).
//!
//! Values are cloned under the lock: a `Clone` that panics leaves the channel consistent
//! (the receiver has moved past that value, as with Tokio's).

use super::notify::Notify;
use crate::coop;
use crate::loom::{lock, Arc, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

/// The errors of the channel, under Tokio's path (`broadcast::error`).
pub mod error {
    use std::fmt;

    /// No receiver is alive; the value is returned.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

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

    /// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and this receiver has read everything.
        Closed,
        /// The receiver fell behind: this many values were evicted before it read them.
        /// It resumes from the oldest value still held.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// Nothing new for this receiver now; senders remain.
        Empty,
        /// Every sender is gone and this receiver has read everything.
        Closed,
        /// As [`RecvError::Lagged`].
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Woken when the last receiver goes: [`Sender::closed`].
    no_receivers: Notify,
}

struct State<T> {
    /// The values held, oldest first; at most `capacity`.
    ring: VecDeque<Slot<T>>,
    capacity: usize,
    /// Sequence number of the next value sent.
    tail: u64,
    receivers: usize,
    senders: usize,
    weak_senders: usize,
    /// Receivers waiting for a value, by receiver id.
    waiters: Vec<(u64, Waker)>,
    next_receiver_id: u64,
}

struct Slot<T> {
    /// Receivers that have yet to read it; the value is dropped when none is left.
    unread: usize,
    value: Option<T>,
}

impl<T> State<T> {
    /// Sequence number of the oldest value held.
    fn head(&self) -> u64 {
        self.tail - self.ring.len() as u64
    }

    fn new_receiver(&mut self) -> (u64, u64) {
        self.receivers += 1;
        let id = self.next_receiver_id;
        self.next_receiver_id += 1;
        (id, self.tail)
    }
}

/// The sending half; clone it for more producers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open: [`upgrade`](Self::upgrade) gives a
/// [`Sender`] back while one lives.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: sees every value sent after it was made.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Sequence number of the next value to read.
    next: u64,
    id: u64,
}

/// A channel holding up to `capacity` values (rounded up to a power of two) for its
/// receivers to read.
///
/// # Panics
/// If `capacity` is 0 or more than `usize::MAX / 2`.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

impl<T> Sender<T> {
    /// A sender of a new channel with no receiver yet ([`subscribe`](Self::subscribe)
    /// makes them).
    ///
    /// # Panics
    /// As [`channel`].
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let capacity = capacity.next_power_of_two();
        Sender {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ring: VecDeque::with_capacity(capacity.min(1024)),
                    capacity,
                    tail: 0,
                    receivers: 0,
                    senders: 1,
                    weak_senders: 0,
                    waiters: Vec::new(),
                    next_receiver_id: 0,
                }),
                no_receivers: Notify::new(),
            }),
        }
    }

    /// Sends `value` to every receiver alive now; returns how many there are. Never
    /// waits: a full ring evicts its oldest value.
    ///
    /// # Errors
    /// [`SendError`] with the value if no receiver is alive.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (receivers, evicted, waiters) = {
            let mut st = lock(&self.shared.state);
            if st.receivers == 0 {
                return Err(SendError(value));
            }
            let evicted = if st.ring.len() == st.capacity {
                st.ring.pop_front()
            } else {
                None
            };
            let unread = st.receivers;
            st.ring.push_back(Slot {
                unread,
                value: Some(value),
            });
            st.tail += 1;
            (unread, evicted, std::mem::take(&mut st.waiters))
        };
        drop(evicted);
        for (_, w) in waiters {
            w.wake();
        }
        Ok(receivers)
    }

    /// A new receiver, which sees the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let (id, next) = lock(&self.shared.state).new_receiver();
        Receiver {
            shared: self.shared.clone(),
            next,
            id,
        }
    }

    /// Values held that some receiver alive when they were sent has yet to read.
    pub fn len(&self) -> usize {
        let st = lock(&self.shared.state);
        st.ring.iter().filter(|s| s.unread > 0).count()
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Receivers alive.
    pub fn receiver_count(&self) -> usize {
        lock(&self.shared.state).receivers
    }

    /// Whether no receiver is alive (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until no receiver is alive.
    pub async fn closed(&self) {
        loop {
            // Created before the check, so a drop in between is not missed.
            let notified = self.shared.no_receivers.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Whether `other` sends into the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] of this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        lock(&self.shared.state).weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// Live senders.
    pub fn strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// Live weak senders.
    pub fn weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared.state).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiters = {
            let mut st = lock(&self.shared.state);
            st.senders -= 1;
            if st.senders == 0 {
                std::mem::take(&mut st.waiters)
            } else {
                Vec::new()
            }
        };
        // The last sender is gone: waiting receivers wake to read what is left, then
        // see the end.
        for (_, w) in waiters {
            w.wake();
        }
    }
}

impl<T> WeakSender<T> {
    /// A sender again, unless every sender is gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut st = lock(&self.shared.state);
        if st.senders == 0 {
            return None;
        }
        st.senders += 1;
        drop(st);
        Some(Sender {
            shared: self.shared.clone(),
        })
    }

    /// Live senders.
    pub fn strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// Live weak senders.
    pub fn weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        lock(&self.shared.state).weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        lock(&self.shared.state).weak_senders -= 1;
    }
}

/// What one read attempt found.
enum Read<T> {
    Value(T),
    Lagged(u64),
    Empty,
    Closed,
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value; waits when there is none yet.
    ///
    /// Cancel-safe: dropping the future loses no value.
    ///
    /// # Errors
    /// [`RecvError::Lagged`] if values were evicted before this receiver read them (it
    /// then resumes from the oldest value held); [`RecvError::Closed`] once every sender
    /// is gone and everything was read.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        poll_fn(|cx| coop::poll_budgeted(cx, |cx| self.poll_read(Some(cx)))).await
    }

    /// [`recv`](Self::recv) from a thread outside any runtime, blocking it.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    ///
    /// # Panics
    /// On a thread that drives a runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::runtime::context::block_outside_runtime(self.recv())
    }

    /// The next value, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when nothing new is there; otherwise as
    /// [`recv`](Self::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.poll_read(None) {
            Poll::Ready(Ok(v)) => Ok(v),
            Poll::Ready(Err(RecvError::Lagged(n))) => Err(TryRecvError::Lagged(n)),
            Poll::Ready(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            Poll::Pending => Err(TryRecvError::Empty),
        }
    }

    /// One read; with a context, registers to be woken when there is nothing to read.
    fn poll_read(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Result<T, RecvError>> {
        let mut dropped = None;
        let mut replaced = None;
        let read = {
            let mut st = lock(&self.shared.state);
            let head = st.head();
            if self.next < head {
                let missed = head - self.next;
                self.next = head;
                Read::Lagged(missed)
            } else if self.next < st.tail {
                let slot = &mut st.ring[(self.next - head) as usize];
                // Moved past first: a `Clone` that panics does not stall this receiver.
                self.next += 1;
                slot.unread -= 1;
                let value = slot
                    .value
                    .as_ref()
                    .expect("an unread value is held")
                    .clone();
                if slot.unread == 0 {
                    dropped = slot.value.take();
                }
                Read::Value(value)
            } else if st.senders == 0 {
                Read::Closed
            } else {
                if let Some(cx) = cx {
                    let waker = cx.waker();
                    match st.waiters.iter_mut().find(|(id, _)| *id == self.id) {
                        Some((_, w)) if w.will_wake(waker) => {}
                        Some((_, w)) => replaced = Some(std::mem::replace(w, waker.clone())),
                        None => st.waiters.push((self.id, waker.clone())),
                    }
                }
                Read::Empty
            }
        };
        // After unlocking: a value's or waker's drop may use the channel.
        drop(dropped);
        drop(replaced);
        match read {
            Read::Value(v) => Poll::Ready(Ok(v)),
            Read::Lagged(n) => Poll::Ready(Err(RecvError::Lagged(n))),
            Read::Closed => Poll::Ready(Err(RecvError::Closed)),
            Read::Empty => Poll::Pending,
        }
    }
}

impl<T> Receiver<T> {
    /// A new receiver of the same channel, which sees the values sent from now on.
    pub fn resubscribe(&self) -> Receiver<T> {
        let (id, next) = lock(&self.shared.state).new_receiver();
        Receiver {
            shared: self.shared.clone(),
            next,
            id,
        }
    }

    /// Values sent that this receiver has not read (counting from its cursor, also when
    /// some were evicted and its next read reports `Lagged`).
    pub fn len(&self) -> usize {
        (lock(&self.shared.state).tail - self.next) as usize
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).senders == 0
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Live senders.
    pub fn sender_strong_count(&self) -> usize {
        lock(&self.shared.state).senders
    }

    /// Live weak senders.
    pub fn sender_weak_count(&self) -> usize {
        lock(&self.shared.state).weak_senders
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut dropped = Vec::new();
        let (last, waker) = {
            let mut st = lock(&self.shared.state);
            st.receivers -= 1;
            // The values this receiver never read no longer wait for it.
            let head = st.head();
            let from = self.next.max(head);
            for seq in from..st.tail {
                let slot = &mut st.ring[(seq - head) as usize];
                slot.unread -= 1;
                if slot.unread == 0 {
                    dropped.extend(slot.value.take());
                }
            }
            let waker = st
                .waiters
                .iter()
                .position(|(id, _)| *id == self.id)
                .map(|i| st.waiters.swap_remove(i).1);
            (st.receivers == 0, waker)
        };
        drop(dropped);
        drop(waker);
        if last {
            self.shared.no_receivers.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::WeakSender")
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// Two receivers on two threads each read both values sent from a third, in order,
    /// and end when the sender drops: no lost wake-up (a loom deadlock) and no lost or
    /// repeated value.
    #[test]
    fn loom_broadcast_every_receiver_sees_every_value() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            let (tx, mut rx1) = channel::<u32>(2);
            let mut rx2 = tx.subscribe();
            let reader = thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    while let Ok(v) = rx2.recv().await {
                        got.push(v);
                    }
                    got
                })
            });
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                tx.send(2).unwrap();
            });
            let mine = block_on(async {
                let mut got = Vec::new();
                while let Ok(v) = rx1.recv().await {
                    got.push(v);
                }
                got
            });
            sender.join().unwrap();
            assert_eq!(mine, [1, 2]);
            assert_eq!(reader.join().unwrap(), [1, 2]);
        });
    }
}
