//! A channel for sending a single value between tasks.
//!
//! ```
//! # let rt = zokio::runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let (tx, rx) = zokio::sync::oneshot::channel();
//!     zokio::spawn(async move { tx.send(7).unwrap() });
//!     assert_eq!(rx.await, Ok(7));
//! });
//! ```
//!
//! ## Design
//!
//! One allocation shared by both halves: a state word, the value slot and two waker slots.
//! State bits: `RX_TASK_SET` (the receiver's waker slot is filled and the sender may read
//! it), `COMPLETE` (the sender sent or was dropped; the receiver now owns the value slot),
//! `CLOSED` (the receiver closed or was dropped), `TX_TASK_SET` (the sender's waker slot for
//! `closed()` is filled). Each waker slot is written only by its owner while its `*_SET` bit
//! is clear, and read by the other side only while it is set, so no lock is needed. The
//! scheme follows Tokio's `sync/oneshot.rs`; the code is our own.

use crate::coop;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{Arc, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

const RX_TASK_SET: usize = 0b0001;
const COMPLETE: usize = 0b0010;
const CLOSED: usize = 0b0100;
const TX_TASK_SET: usize = 0b1000;

/// The sending half; consumed by [`send`](Sender::send).
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half; a future that resolves to the value, or to [`RecvError`] if the
/// sender was dropped without sending.
pub struct Receiver<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// The sender was dropped without sending a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender is still alive.
    Empty,
    /// The sender was dropped without sending, or the value was already received.
    Closed,
}

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the value moves from sender to receiver (T: Send); slots are accessed per the
// state protocol in the module docs.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Creates a connected sender and receiver.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner: Some(inner) },
    )
}

/// Wakes the waker in `slot`, if any.
///
/// # Safety
/// The caller may read the slot: its `*_SET` bit is set, so its owner does not write it.
unsafe fn wake_slot(slot: &UnsafeCell<Option<Waker>>) {
    slot.with(|w| {
        // SAFETY: shared read, per the caller's contract.
        if let Some(w) = unsafe { &*w } {
            w.wake_by_ref();
        }
    });
}

/// Whether the waker in `slot` would wake the same task as `waker`.
///
/// # Safety
/// The caller owns the slot or may read it (see `wake_slot`).
unsafe fn slot_will_wake(slot: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
    slot.with(|w| {
        // SAFETY: shared read, per the caller's contract.
        unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker))
    })
}

impl<T> Inner<T> {
    /// Marks the sender's side complete and wakes the receiver. Returns the previous state.
    fn complete(&self) -> usize {
        let prev = self.state.fetch_or(COMPLETE, AcqRel);
        if prev & (RX_TASK_SET | CLOSED) == RX_TASK_SET {
            // SAFETY: RX_TASK_SET is set, so the receiver will not touch its slot until it
            // clears the bit, which it only does before COMPLETE is observed.
            unsafe { wake_slot(&self.rx_waker) };
        }
        prev
    }

    /// # Safety
    /// The caller owns the value slot: the receiver, after observing COMPLETE.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: forwarded.
        self.value.with_mut(|v| unsafe { (*v).take() })
    }
}

impl<T> Sender<T> {
    /// Sends `value`, completing the channel. Never blocks.
    ///
    /// # Errors
    /// Returns `Err(value)` if the receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used after send");
        // SAFETY: before COMPLETE only the sender touches the value slot.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        let prev = inner.complete();
        if prev & CLOSED != 0 {
            // The receiver is gone and will never read the slot: take the value back.
            // SAFETY: the receiver closed before COMPLETE, so it never owns the slot.
            return Err(unsafe { inner.take_value() }.expect("value just stored"));
        }
        Ok(())
    }

    /// Whether the receiver has been dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.state.load(Acquire) & CLOSED != 0)
    }

    /// Resolves when the receiver is dropped or closed.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver being dropped or closed, registering the task to be woken.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("sender used after send");
        let state = inner.state.load(Acquire);
        if state & CLOSED != 0 {
            return Poll::Ready(());
        }
        if state & TX_TASK_SET != 0 {
            // SAFETY: the sender owns this slot; the receiver only reads it.
            if unsafe { slot_will_wake(&inner.tx_waker, cx.waker()) } {
                return Poll::Pending;
            }
            let prev = inner.state.fetch_and(!TX_TASK_SET, AcqRel);
            if prev & CLOSED != 0 {
                inner.state.fetch_or(TX_TASK_SET, AcqRel);
                return Poll::Ready(());
            }
        }
        // SAFETY: TX_TASK_SET is clear: the slot is ours.
        inner
            .tx_waker
            .with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
        let prev = inner.state.fetch_or(TX_TASK_SET, AcqRel);
        if prev & CLOSED != 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.complete();
        }
    }
}

impl<T> Receiver<T> {
    /// Closes the channel without dropping the receiver: a later `send` fails, and a value
    /// sent before is still received.
    pub fn close(&mut self) {
        if let Some(inner) = self.inner.as_ref() {
            let prev = inner.state.fetch_or(CLOSED, AcqRel);
            if prev & (TX_TASK_SET | COMPLETE) == TX_TASK_SET {
                // SAFETY: TX_TASK_SET is set: the sender does not write the slot.
                unsafe { wake_slot(&inner.tx_waker) };
            }
        }
    }

    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing was sent yet; [`TryRecvError::Closed`] if the
    /// sender was dropped without sending or the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = self.inner.as_ref() else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Acquire);
        if state & COMPLETE != 0 {
            // SAFETY: COMPLETE observed: the receiver owns the slot.
            let value = unsafe { inner.take_value() };
            self.inner = None;
            return value.ok_or(TryRecvError::Closed);
        }
        if state & CLOSED != 0 {
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    fn poll_inner(inner: &Inner<T>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let state = inner.state.load(Acquire);
        if state & COMPLETE != 0 {
            // SAFETY: COMPLETE observed: the receiver owns the slot.
            return Poll::Ready(unsafe { inner.take_value() }.ok_or(RecvError(())));
        }
        if state & CLOSED != 0 {
            return Poll::Ready(Err(RecvError(())));
        }
        if state & RX_TASK_SET != 0 {
            // SAFETY: the receiver owns this slot; the sender only reads it.
            let same = unsafe { slot_will_wake(&inner.rx_waker, cx.waker()) };
            if same {
                return Poll::Pending;
            }
            let prev = inner.state.fetch_and(!RX_TASK_SET, AcqRel);
            if prev & COMPLETE != 0 {
                // The sender may be reading the slot: leave it alone, put the bit back.
                inner.state.fetch_or(RX_TASK_SET, AcqRel);
                // SAFETY: COMPLETE observed.
                return Poll::Ready(unsafe { inner.take_value() }.ok_or(RecvError(())));
            }
        }
        // SAFETY: RX_TASK_SET is clear: the slot is ours.
        inner
            .rx_waker
            .with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
        let prev = inner.state.fetch_or(RX_TASK_SET, AcqRel);
        if prev & COMPLETE != 0 {
            // SAFETY: COMPLETE observed.
            return Poll::Ready(unsafe { inner.take_value() }.ok_or(RecvError(())));
        }
        Poll::Pending
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(coop::poll_proceed(cx));
        let inner = self
            .inner
            .as_ref()
            .expect("oneshot::Receiver polled after completion");
        let ret = Self::poll_inner(inner, cx);
        if ret.is_ready() {
            coop.made_progress();
            self.inner = None;
        }
        ret
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(CLOSED, AcqRel);
            if prev & COMPLETE != 0 {
                // SAFETY: COMPLETE observed: we own the slot; drop the unread value here.
                drop(unsafe { inner.take_value() });
            } else if prev & TX_TASK_SET != 0 {
                // SAFETY: TX_TASK_SET is set: the sender does not write the slot.
                unsafe { wake_slot(&inner.tx_waker) };
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// The value sent on one thread arrives at a receiver awaiting on another, whatever the
    /// interleaving of `send`, the receiver's waker registration and its re-poll; the value
    /// is dropped exactly once (loom checks the `UnsafeCell` accesses).
    #[test]
    fn loom_oneshot_send_races_recv() {
        loom::model(|| {
            let (tx, rx) = channel::<Box<u32>>();
            let t = thread::spawn(move || {
                assert!(tx.send(Box::new(7)).is_ok());
            });
            assert_eq!(*block_on(rx).unwrap(), 7);
            t.join().unwrap();
        });
    }

    /// A sender dropped without sending wakes the receiver with an error, never a hang.
    #[test]
    fn loom_oneshot_sender_drop_races_recv() {
        loom::model(|| {
            let (tx, rx) = channel::<u32>();
            let t = thread::spawn(move || drop(tx));
            assert!(block_on(rx).is_err());
            t.join().unwrap();
        });
    }

    /// A receiver dropped while the value is being sent: the sender gets it back or it is
    /// dropped with the channel, exactly once.
    #[test]
    fn loom_oneshot_receiver_drop_races_send() {
        loom::model(|| {
            let (tx, rx) = channel::<Box<u32>>();
            let t = thread::spawn(move || drop(rx));
            let _ = tx.send(Box::new(1));
            t.join().unwrap();
        });
    }
}
