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
//! One heap allocation shared by both halves: a state word, the value slot and two waker
//! slots. State bits: `RX_TASK_SET` (the receiver's waker slot is filled and the sender may
//! read it), `COMPLETE` (the sender sent or was dropped; the receiver now owns the value
//! slot), `CLOSED` (the receiver closed or was dropped; a send after it fails and the
//! sender keeps the value), `TX_TASK_SET` (the sender's waker slot for `closed()` is
//! filled). Each waker slot is written only by its owner while its `*_SET` bit is clear,
//! and read by the other side only while it is set, so no lock is needed. The slot scheme
//! follows Tokio's `sync/oneshot.rs`; the code is our own.
//!
//! The allocation is not an `Arc`: its two references are two more bits of the same state
//! word, `TX_ALIVE` and `RX_ALIVE`, and whichever half clears the last one frees it. The
//! common case costs one atomic read-modify-write in all: a `send` with no receiver waiting
//! sets `COMPLETE` and clears `TX_ALIVE` in one compare-and-swap, and a receiver that then
//! finds `COMPLETE` with `TX_ALIVE` already clear owns the allocation outright and frees it
//! with no atomic write (an `Arc` needs a count increment and two decrements on top).
//! A half that must still read the other's waker slot after its state change (a sender
//! waking the receiver, a closing receiver waking the sender) keeps its bit until the wake
//! is done and clears it with a second operation.
//!
//! The allocation comes from a per-thread cache of 64-byte blocks (`util::block_cache`)
//! when it fits one (for a value of up to 8 bytes it does): a task that creates, sends and
//! receives channels in a loop reuses one block instead of a glibc malloc and free per
//! channel, about 15 ns of a 42 ns channel on this project's machine. The cache keeps at
//! most 32 blocks (2 KiB) per thread and frees them when the thread exits.
//!
//! Measured (zbench `sync.oneshot`, 2 workers, same run as Tokio): 38.6M channels/s, 3.35x
//! Tokio's, in a fast phase of the machine and 22-26M in slow ones (12.7-14.8M before the
//! block cache). Outside a runtime a channel takes 18-23 ns, of which the one CAS is 9-11.

use crate::coop;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::UnsafeCell;
use crate::util::block_cache;
use crate::util::trace::{resource_state, Op, Resource};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::{addr_of_mut, NonNull};
use std::task::{Context, Poll, Waker};

const RX_TASK_SET: usize = 0b00_0001;
const COMPLETE: usize = 0b00_0010;
const CLOSED: usize = 0b00_0100;
const TX_TASK_SET: usize = 0b00_1000;
const TX_ALIVE: usize = 0b01_0000;
const RX_ALIVE: usize = 0b10_0000;

/// The sending half; consumed by [`send`](Sender::send).
pub struct Sender<T> {
    inner: Option<NonNull<Inner<T>>>,
    _owns: PhantomData<Inner<T>>,
    /// The channel's `tracing` resource (`util/trace.rs`); nothing without the feature.
    resource: Resource,
}

/// The receiving half; a future that resolves to the value, or to [`RecvError`] if the
/// sender was dropped without sending.
pub struct Receiver<T> {
    inner: Option<NonNull<Inner<T>>>,
    _owns: PhantomData<Inner<T>>,
    /// The channel's `tracing` resource and the receiver's async op, `Receiver::await`;
    /// nothing without the feature.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    resource: Resource,
    op: Op,
}

// SAFETY: the value moves from sender to receiver (T: Send); the shared allocation is
// accessed per the state protocol in the module docs, and freed by exactly one half.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` only reads the state word.
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` gives no access to the allocation (every method takes `&mut self`).
unsafe impl<T: Send> Sync for Receiver<T> {}

// The halves hold a pointer, never pinned data.
impl<T> Unpin for Sender<T> {}
impl<T> Unpin for Receiver<T> {}

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

/// Creates a connected sender and receiver. One allocation (for `T = u64`, 56 bytes, in a
/// 64-byte block from this thread's cache when it has one).
///
/// With the `tracing` feature the channel is a `tracing` resource as Tokio's is (a
/// `runtime.resource` span, `concrete_type = "Sender|Receiver"`, the caller's location),
/// with `state_update`s `tx_dropped`, `rx_dropped`, `value_sent` and `value_received`,
/// and async ops `Receiver::await` (polls `poll_recv`) and `Sender::closed`
/// (`poll_closed`).
#[cfg_attr(feature = "tracing", track_caller)]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = block_cache::alloc_uninit::<Inner<T>>();
    let raw = inner.as_ptr();
    // SAFETY: `raw` is unused memory for an `Inner<T>`; every field is written here, in
    // place, before either half exists.
    unsafe {
        addr_of_mut!((*raw).state).write(AtomicUsize::new(TX_ALIVE | RX_ALIVE));
        addr_of_mut!((*raw).value).write(UnsafeCell::new(None));
        addr_of_mut!((*raw).rx_waker).write(UnsafeCell::new(None));
        addr_of_mut!((*raw).tx_waker).write(UnsafeCell::new(None));
    }
    let resource = Resource::oneshot();
    resource_state!(resource, tx_dropped = false, tx_dropped.op = "override");
    resource_state!(resource, rx_dropped = false, rx_dropped.op = "override");
    resource_state!(resource, value_sent = false, value_sent.op = "override");
    resource_state!(
        resource,
        value_received = false,
        value_received.op = "override"
    );
    let op = resource.op("Receiver::await");
    (
        Sender {
            inner: Some(inner),
            _owns: PhantomData,
            resource: resource.clone(),
        },
        Receiver {
            inner: Some(inner),
            _owns: PhantomData,
            resource,
            op,
        },
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

/// Clears the caller's `alive` bit and frees the allocation if the other half's bit was
/// already clear.
///
/// # Safety
/// `ptr` is live and the caller holds `alive` (set in the state, and the caller's to
/// clear); the caller does not touch the allocation afterwards.
#[inline]
unsafe fn release<T>(ptr: NonNull<Inner<T>>, alive: usize) {
    // SAFETY: the caller still holds its bit, so the allocation is live.
    let prev = unsafe { ptr.as_ref() }.state.fetch_and(!alive, AcqRel);
    if prev & (TX_ALIVE | RX_ALIVE) == alive {
        // SAFETY: both bits are now clear and we cleared the last one: nobody else holds
        // the allocation; AcqRel ordered the other half's accesses before this.
        unsafe { block_cache::free(ptr) };
    }
}

/// Frees the allocation with no atomic write.
///
/// # Safety
/// The caller holds its alive bit and observed (with Acquire) the other half's bit clear:
/// it is the sole owner.
#[inline]
unsafe fn free<T>(ptr: NonNull<Inner<T>>) {
    // SAFETY: forwarded; the allocation came from `block_cache::alloc_uninit` in `channel`
    // and holds an initialised `Inner<T>`.
    unsafe { block_cache::free(ptr) };
}

impl<T> Inner<T> {
    /// # Safety
    /// The caller owns the value slot: the receiver after observing COMPLETE, or the
    /// sender before setting it.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: forwarded.
        self.value.with_mut(|v| unsafe { (*v).take() })
    }
}

/// One half's last state change: sets `flag` (COMPLETE or CLOSED) and clears `alive`
/// (the caller's bit). When the other half has no waker to be woken (`waits(state)` is
/// false) both happen in one CAS; otherwise the flag is set first, the other half's waker
/// in `slot` is woken while `alive` still keeps the allocation live, and `alive` is
/// released after. Whichever half clears the last alive bit frees the allocation.
///
/// Returns `Err(state)` without changing anything when `stop(state)` holds (re-checked
/// after every failed CAS): the caller then decides with that state (Acquire-loaded).
///
/// # Safety
/// `ptr` is live and the caller holds `alive`; on `Ok` it touches nothing after.
#[inline]
unsafe fn set_and_let_go<T>(
    ptr: NonNull<Inner<T>>,
    flag: usize,
    alive: usize,
    stop: impl Fn(usize) -> bool,
    waits: impl Fn(usize) -> bool,
    slot: impl Fn(&Inner<T>) -> &UnsafeCell<Option<Waker>>,
) -> Result<(), usize> {
    // SAFETY: the caller holds `alive`.
    let inner = unsafe { ptr.as_ref() };
    let mut state = inner.state.load(Acquire);
    loop {
        if stop(state) {
            return Err(state);
        }
        let waiting = waits(state);
        let next = if waiting {
            state | flag
        } else {
            (state | flag) & !alive
        };
        match inner
            .state
            .compare_exchange_weak(state, next, AcqRel, Acquire)
        {
            Ok(_) if waiting => {
                // SAFETY: the other half's `*_TASK_SET` bit is set, so it does not write
                // its slot, and our `alive` bit keeps the allocation live.
                unsafe { wake_slot(slot(inner)) };
                // SAFETY: we hold `alive` and touch nothing after.
                unsafe { release(ptr, alive) };
                return Ok(());
            }
            Ok(_) => {
                if state & (TX_ALIVE | RX_ALIVE) == alive {
                    // SAFETY: we cleared the last alive bit: sole owner (AcqRel).
                    unsafe { free(ptr) };
                }
                return Ok(());
            }
            Err(actual) => state = actual,
        }
    }
}

/// The sender's last step, after it has stored its value (or not, when dropped unsent):
/// sets `COMPLETE`, wakes the receiver if it waits, and lets go of the allocation. Returns
/// `false` without completing or letting go if the receiver has closed: the caller then
/// owns the value slot (the receiver never takes it without COMPLETE), takes its value
/// back and calls `release(ptr, TX_ALIVE)`.
///
/// # Safety
/// `ptr` is the sender's live allocation and the sender holds `TX_ALIVE`.
#[inline]
unsafe fn complete<T>(ptr: NonNull<Inner<T>>) -> bool {
    // SAFETY: forwarded.
    unsafe {
        set_and_let_go(
            ptr,
            COMPLETE,
            TX_ALIVE,
            |state| state & CLOSED != 0,
            |state| state & RX_TASK_SET != 0,
            |inner| &inner.rx_waker,
        )
    }
    .is_ok()
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        let ptr = self.inner.expect("sender used after send");
        // SAFETY: the sender holds TX_ALIVE while `inner` is `Some`.
        unsafe { ptr.as_ref() }
    }

    /// Sends `value`, completing the channel. Never blocks.
    ///
    /// # Errors
    /// Returns `Err(value)` if the receiver was dropped or closed.
    #[inline]
    pub fn send(mut self, value: T) -> Result<(), T> {
        let ptr = self.inner.take().expect("sender used after send");
        // SAFETY: the sender holds TX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: before COMPLETE only the sender touches the value slot.
        inner.value.with_mut(|v| unsafe { *v = Some(value) });
        // SAFETY: the sender holds TX_ALIVE.
        if unsafe { complete(ptr) } {
            resource_state!(self.resource, value_sent = true, value_sent.op = "override");
            return Ok(());
        }
        // SAFETY: the receiver closed before COMPLETE, so it never owns the slot.
        let value = unsafe { inner.take_value() }.expect("value just stored");
        // SAFETY: we hold TX_ALIVE and touch nothing after.
        unsafe { release(ptr, TX_ALIVE) };
        Err(value)
    }

    /// Whether the receiver has been dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_some() && self.inner().state.load(Acquire) & CLOSED != 0
    }

    /// Resolves when the receiver is dropped or closed. Cancel-safe: it only observes, and
    /// can be awaited again.
    pub async fn closed(&mut self) {
        // A clone: the wait borrows the whole sender.
        let resource = self.resource.clone();
        let closed = std::future::poll_fn(|cx| self.poll_closed(cx));
        resource
            .async_op(closed, "Sender::closed", "poll_closed")
            .await
    }

    /// Polls for the receiver being dropped or closed, registering the task to be woken.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner();
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
    #[inline]
    fn drop(&mut self) {
        if let Some(ptr) = self.inner.take() {
            // SAFETY: we hold TX_ALIVE; the value slot is empty, so a closed receiver
            // leaves nothing to take back.
            if !unsafe { complete(ptr) } {
                // SAFETY: as above; nothing touched after.
                unsafe { release(ptr, TX_ALIVE) };
            }
            resource_state!(self.resource, tx_dropped = true, tx_dropped.op = "override");
        }
    }
}

/// The errors of [`Receiver`], under Tokio's path (`oneshot::error`).
pub mod error {
    pub use super::{RecvError, TryRecvError};
}

impl<T> Receiver<T> {
    /// Waits for the value on a thread outside any runtime (a plain thread, or a
    /// `spawn_blocking` closure).
    ///
    /// # Errors
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    /// On a thread that drives a runtime (inside a task or `block_on`).
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::runtime::context::block_outside_runtime(self)
    }

    /// Whether this receiver has already returned its result (`Ready` from a poll, or a
    /// value or `Closed` from [`try_recv`](Self::try_recv)); it must not be polled again.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether no value is waiting to be received: none sent yet, none coming (closed),
    /// or already received. A `false` means the next poll or `try_recv` returns the value.
    pub fn is_empty(&self) -> bool {
        let Some(ptr) = self.inner else {
            return true;
        };
        // SAFETY: the receiver holds RX_ALIVE while `inner` is `Some`.
        let inner = unsafe { ptr.as_ref() };
        if inner.state.load(Acquire) & COMPLETE == 0 {
            return true;
        }
        // A dropped sender completes the channel too, with the slot empty.
        // SAFETY: COMPLETE observed (Acquire): the receiver owns the value slot.
        inner.value.with(|v| unsafe { (*v).is_none() })
    }

    /// Lets go of the allocation after a final `Closed` result, as dropping the receiver
    /// would, so that [`is_terminated`](Self::is_terminated) reports it.
    fn terminate(&mut self) {
        self.let_go();
    }

    /// Closes the channel and lets go of the allocation, if the receiver still holds it
    /// (see [`Drop`]).
    #[inline]
    fn let_go(&mut self) {
        let Some(ptr) = self.inner.take() else {
            return;
        };
        // Close and let go, waking a sender that waits in `closed()`. If the sender has
        // let go already we are the sole owner: an unread value is dropped with the
        // allocation.
        // SAFETY: the receiver holds RX_ALIVE.
        let closed = unsafe {
            set_and_let_go(
                ptr,
                CLOSED,
                RX_ALIVE,
                |state| state & TX_ALIVE == 0,
                |state| state & (TX_TASK_SET | COMPLETE | CLOSED) == TX_TASK_SET,
                |inner| &inner.tx_waker,
            )
        };
        if closed.is_err() {
            // SAFETY: TX_ALIVE clear observed with Acquire: sole owner.
            unsafe { free(ptr) };
        }
    }

    /// Closes the channel without dropping the receiver: a later `send` fails, and a value
    /// sent before is still received.
    pub fn close(&mut self) {
        if let Some(ptr) = self.inner {
            // SAFETY: the receiver holds RX_ALIVE while `inner` is `Some`.
            let inner = unsafe { ptr.as_ref() };
            let prev = inner.state.fetch_or(CLOSED, AcqRel);
            if prev & (TX_TASK_SET | COMPLETE | CLOSED) == TX_TASK_SET {
                // SAFETY: TX_TASK_SET is set: the sender does not write the slot (it
                // checks CLOSED after clearing the bit); our RX_ALIVE keeps it live.
                unsafe { wake_slot(&inner.tx_waker) };
            }
        }
    }

    /// Takes the value out after COMPLETE was observed in `state`, and lets go of the
    /// allocation.
    #[inline]
    fn finish(&mut self, state: usize) -> Option<T> {
        let ptr = self.inner.take().expect("receiver holds the allocation");
        // SAFETY: COMPLETE observed (Acquire): the receiver owns the value slot.
        let value = unsafe { ptr.as_ref().take_value() };
        if value.is_some() {
            resource_state!(
                self.resource,
                value_received = true,
                value_received.op = "override"
            );
        }
        if state & TX_ALIVE == 0 {
            // SAFETY: the sender let go (observed with Acquire): we are the sole owner.
            unsafe { free(ptr) };
        } else {
            // SAFETY: we hold RX_ALIVE and touch nothing after.
            unsafe { release(ptr, RX_ALIVE) };
        }
        value
    }

    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] if nothing was sent yet; [`TryRecvError::Closed`] if the
    /// sender was dropped without sending or the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(ptr) = self.inner else {
            return Err(TryRecvError::Closed);
        };
        // SAFETY: the receiver holds RX_ALIVE.
        let state = unsafe { ptr.as_ref() }.state.load(Acquire);
        if state & COMPLETE != 0 {
            return self.finish(state).ok_or(TryRecvError::Closed);
        }
        if state & CLOSED != 0 {
            self.terminate();
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// Polls for the value; on `Ready` the receiver has let go of the allocation.
    #[inline]
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let ptr = self
            .inner
            .expect("oneshot::Receiver polled after completion");
        // SAFETY: the receiver holds RX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        let state = inner.state.load(Acquire);
        if state & COMPLETE != 0 {
            return Poll::Ready(self.finish(state).ok_or(RecvError(())));
        }
        if state & CLOSED != 0 {
            // Closed by `close()` and the sender has let go or will fail: no value comes.
            self.terminate();
            return Poll::Ready(Err(RecvError(())));
        }
        if state & RX_TASK_SET != 0 {
            // SAFETY: the receiver owns this slot; the sender only reads it.
            if unsafe { slot_will_wake(&inner.rx_waker, cx.waker()) } {
                return Poll::Pending;
            }
            let prev = inner.state.fetch_and(!RX_TASK_SET, AcqRel);
            if prev & COMPLETE != 0 {
                // The sender may be reading the slot: leave it alone, put the bit back.
                let state = inner.state.fetch_or(RX_TASK_SET, AcqRel);
                return Poll::Ready(self.finish(state).ok_or(RecvError(())));
            }
        }
        // SAFETY: RX_TASK_SET is clear: the slot is ours.
        inner
            .rx_waker
            .with_mut(|w| unsafe { *w = Some(cx.waker().clone()) });
        let prev = inner.state.fetch_or(RX_TASK_SET, AcqRel);
        if prev & COMPLETE != 0 {
            return Poll::Ready(self.finish(prev).ok_or(RecvError(())));
        }
        Poll::Pending
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let traced = self.op.enter();
        let poll = coop::poll_budgeted(cx, |cx| self.poll_inner(cx));
        traced.done("poll_recv", poll.is_ready());
        poll
    }
}

impl<T> Drop for Receiver<T> {
    #[inline]
    fn drop(&mut self) {
        if self.inner.is_some() {
            resource_state!(self.resource, rx_dropped = true, rx_dropped.op = "override");
        }
        self.let_go();
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
    /// dropped with the channel, exactly once, and whichever half lets go last frees the
    /// allocation (a leaked channel would keep its clone of the `Arc` alive).
    #[test]
    fn loom_oneshot_receiver_drop_races_send() {
        loom::model(|| {
            let (tx, rx) = channel::<loom::sync::Arc<u32>>();
            let value = loom::sync::Arc::new(1);
            let t = thread::spawn(move || drop(rx));
            if let Err(back) = tx.send(value.clone()) {
                assert_eq!(*back, 1);
            }
            t.join().unwrap();
            // Every clone sent was dropped exactly once: only ours is left.
            assert_eq!(loom::sync::Arc::strong_count(&value), 1);
        });
    }

    /// A receiver waiting (its waker registered) while the sender sends and the receiver
    /// is then dropped from the waiting state: the sender's wake may overlap the drop; the
    /// allocation is freed once, after both.
    #[test]
    fn loom_oneshot_send_wakes_while_receiver_drops() {
        loom::model(|| {
            let (tx, mut rx) = channel::<u32>();
            let waker = futures::task::noop_waker();
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
            let t = thread::spawn(move || tx.send(3));
            drop(rx);
            // The send fails, handing the value back, exactly when the drop came first.
            match t.join().unwrap() {
                Ok(()) | Err(3) => {}
                Err(other) => panic!("wrong value handed back: {other}"),
            }
        });
    }

    /// `close()` wakes a sender waiting in `closed()`, and the value sent concurrently is
    /// either received or handed back, never both.
    #[test]
    fn loom_oneshot_close_races_closed_and_send() {
        loom::model(|| {
            let (mut tx, mut rx) = channel::<u32>();
            let t = thread::spawn(move || {
                block_on(tx.closed());
                tx.send(5)
            });
            rx.close();
            let sent = t.join().unwrap();
            assert_eq!(sent, Err(5), "a send after close must fail");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        });
    }
}
