//! Local tasks: the tasks of a [`LocalSet`](crate::task::LocalSet), whose owner thread
//! updates their state without atomic read-modify-write operations.
//!
//! A local task is polled, completed and shut down only on its set's owner thread, but its
//! `Waker`s, `JoinHandle` and `AbortHandle`s may travel to any thread. So it has two state
//! words:
//!
//! ```text
//! owner word (Header::state)      written only by the owner thread, with plain loads and
//!   RUNNING COMPLETE NOTIFIED     release stores; read by anyone (is_finished)
//!   JOIN_INTEREST CANCELLED
//!   refs: owner part (wrapping)
//! foreign word (Trailer::extra)  read-modify-written by any thread
//!   WAKE     a wake request is queued in the set's remote queue (holds one reference)
//!   CANCEL   abort requested from another thread
//!   COMPLETE the output is published for the JoinHandle (set by the owner at completion
//!            while JOIN_INTEREST is set)
//!   JOIN_WAKER, JOIN_DROPPED   the JoinHandle's side, as Tokio's JOIN_WAKER protocol
//!   HANDED_OFF the owner folded its part of the count in: whoever drops the last
//!              reference frees the task
//!   refs: the other part (wrapping)
//! ```
//!
//! References: the count of live references is the owner part plus the foreign part (each
//! may be negative: a waker cloned on the owner thread and dropped on another adds to one
//! and subtracts from the other). On the owner thread, before completion, every reference
//! operation changes the owner part with a plain store; elsewhere, or after completion, it
//! is a read-modify-write of the foreign part. Nobody frees the task before completion:
//! the owned list holds a reference until then. At completion the owner folds its part
//! into the foreign word and sets `HANDED_OFF` in one step (or frees the task at once if
//! both parts are zero); after that, the thread that brings the foreign count to zero
//! frees it.
//!
//! Wakes: on the owner thread a wake sets `NOTIFIED` and queues the task as on any
//! scheduler. Another thread cannot touch the owner word: it sets `WAKE` (or `CANCEL`) in
//! the foreign word and, if `WAKE` was clear, queues a wake request (one reference) in the
//! set's remote queue; the owner clears the bits when it takes the request and wakes the
//! task itself. So a task is in the remote queue at most once.
//!
//! The `JoinHandle` follows Tokio's protocol on the foreign word (`COMPLETE`, `JOIN_WAKER`,
//! `JOIN_DROPPED` for Tokio's `COMPLETE`, `JOIN_WAKER` and cleared `JOIN_INTEREST`), from
//! any thread; only its drop on the owner thread before completion, the common case of a
//! detached task, is a plain store.
//!
//! A detached task spawned, polled to completion and freed on the owner thread thus makes
//! no atomic read-modify-write at all; a joined one makes one or two (publishing the
//! output, then handing off its count).

use crate::loom::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use crate::task::core::{Header, Vtable};
use crate::task::harness::Harness;
use crate::task::local::{LocalHandle, WakeRequest};
use crate::task::state::{TransitionToIdle, TransitionToNotified, TransitionToRunning};
use crate::task::{Notified, Schedule, Task};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

const WAKE: usize = 1 << 0;
const CANCEL: usize = 1 << 1;
const COMPLETE: usize = 1 << 2;
const JOIN_WAKER: usize = 1 << 3;
const JOIN_DROPPED: usize = 1 << 4;
const HANDED_OFF: usize = 1 << 5;
const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// The foreign part of the reference count in `word` (wrapping, so possibly negative).
fn refs(word: usize) -> isize {
    (word as isize) >> REF_SHIFT
}

type H<F> = Harness<F, LocalHandle>;

/// The vtable of local tasks of future `F`.
pub(crate) fn vtable<F: Future + 'static>() -> &'static Vtable {
    &Vtable {
        ref_inc: ref_inc::<F>,
        ref_dec: ref_dec::<F>,
        abort: abort::<F>,
        poll: poll::<F>,
        schedule: schedule_raw::<F>,
        dealloc: dealloc::<F>,
        try_read_output: try_read_output::<F>,
        drop_join_handle: drop_join_handle::<F>,
        shutdown: shutdown::<F>,
        extra_offset: crate::task::core::Cell::<F, LocalHandle>::EXTRA_OFFSET,
    }
}

/// # Safety
/// `ptr` is the header of a live local task of future `F`.
unsafe fn harness<F: Future + 'static>(ptr: NonNull<Header>) -> H<F> {
    // SAFETY: forwarded.
    unsafe { Harness::from_raw(ptr) }
}

/// Whether this thread may use the owner word's reference part: the owner thread, before
/// completion.
fn counts_here<F: Future + 'static>(h: &H<F>) -> bool {
    h.scheduler().shared().is_owner_thread() && !h.header().state.owner_load().is_complete()
}

fn foreign<F: Future + 'static>(h: &H<F>) -> &crate::loom::atomic::AtomicUsize {
    &h.cell().trailer.extra
}

unsafe fn ref_inc<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference to this local task.
    let h = unsafe { harness::<F>(ptr) };
    if counts_here(&h) {
        h.header().state.owner_ref_inc();
    } else {
        foreign(&h).fetch_add(REF_ONE, Relaxed);
    }
}

unsafe fn ref_dec<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller gives up a reference to this local task.
    let h = unsafe { harness::<F>(ptr) };
    drop_ref(h);
}

/// Drops one reference (the caller's).
fn drop_ref<F: Future + 'static>(h: H<F>) {
    if counts_here(&h) {
        // Before completion the owned list holds a reference: never the last.
        return h.header().state.owner_ref_dec();
    }
    foreign_drop_ref(h);
}

/// Drops one reference through the foreign word, freeing the task if it was the last.
fn foreign_drop_ref<F: Future + 'static>(h: H<F>) {
    let prev = foreign(&h).fetch_sub(REF_ONE, AcqRel);
    if prev & HANDED_OFF != 0 && refs(prev) == 1 {
        h.dealloc();
    }
}

unsafe fn dealloc<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: no reference remains.
    unsafe { harness::<F>(ptr) }.dealloc();
}

/// Queues the task on its set: the caller hands over one reference, counted in the owner
/// word, that backs the task's `NOTIFIED` bit.
fn schedule<F: Future + 'static>(h: &H<F>) {
    // SAFETY: the reference handed over backs this Notified.
    let notified = Notified(unsafe { Task::from_raw(h.header_ptr()) });
    h.scheduler().shared().schedule(notified);
}

unsafe fn schedule_raw<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller hands over a reference for the Notified, on the owner thread.
    schedule(&unsafe { harness::<F>(ptr) });
}

unsafe fn poll<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller (the set's tick, on the owner thread) hands over the Notified's
    // reference.
    let h = unsafe { harness::<F>(ptr) };
    let state = &h.header().state;
    if !state.owner_load().is_idle() {
        // Shut down while it was queued: drop the Notified's reference.
        return drop_ref(h);
    }
    match state.owner_transition_to_running() {
        TransitionToRunning::Success => {}
        TransitionToRunning::Cancelled => return cancel_and_complete(h),
        TransitionToRunning::Failed | TransitionToRunning::Dealloc => unreachable!(),
    }
    if h.poll_and_store(&waker_ref(&h)) {
        return complete(h);
    }
    match state.owner_transition_to_idle() {
        TransitionToIdle::Ok => {}
        TransitionToIdle::OkNotified => {
            // SAFETY: the runner's reference now backs this Notified.
            let notified = Notified(unsafe { Task::from_raw(h.header_ptr()) });
            h.scheduler().yield_now(notified);
        }
        TransitionToIdle::Cancelled => cancel_and_complete(h),
        TransitionToIdle::OkDealloc => unreachable!("the owner word frees nothing"),
    }
}

fn cancel_and_complete<F: Future + 'static>(h: H<F>) {
    h.store_cancellation();
    complete(h);
}

/// Publishes the stored output, wakes the joiner, leaves the owned list and hands the
/// reference count off. The caller holds `RUNNING` and the runner's reference.
#[inline]
fn complete<F: Future + 'static>(h: H<F>) {
    let state = &h.header().state;
    let joined = state.owner_load().is_join_interested();
    if !joined {
        // Nobody will read the output.
        // SAFETY: we hold RUNNING, and no JoinHandle will read the stage.
        let _ = unsafe { h.drop_stage() };
    }
    // SAFETY: borrowed for `release`; owns no reference.
    let me = ManuallyDrop::new(unsafe { Task::<LocalHandle>::from_raw(h.header_ptr()) });
    let released = match h.scheduler().release(&me) {
        Some(task) => {
            std::mem::forget(task);
            2
        }
        None => 1,
    };
    state.owner_transition_to_complete(released);
    let mut slot_cleared = false;
    let mut clear_join_waker = false;
    if joined {
        let prev = foreign(&h).fetch_or(COMPLETE, AcqRel);
        if prev & JOIN_DROPPED != 0 {
            // The handle is gone (dropped on another thread): the output and the waker
            // slot are ours.
            // SAFETY: COMPLETE with the handle gone: nobody else reads the stage or slot.
            let _ = unsafe { h.drop_stage() };
            // SAFETY: as above.
            unsafe { h.cell().trailer.set_waker(None) };
            slot_cleared = true;
        } else if prev & JOIN_WAKER != 0 {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: COMPLETE and JOIN_WAKER: the runtime side may read the slot.
                unsafe { h.cell().trailer.wake_join() }
            }));
        }
        clear_join_waker = prev & JOIN_WAKER != 0;
    }
    hand_off(h, clear_join_waker, slot_cleared);
}

/// Folds the owner's part of the reference count into the foreign word and sets
/// `HANDED_OFF` (clearing `JOIN_WAKER` when the runtime side held the slot), freeing the
/// task if no reference remains. Until this step nobody else frees the task.
#[inline]
fn hand_off<F: Future + 'static>(h: H<F>, clear_join_waker: bool, mut slot_cleared: bool) {
    let owner = h.header().state.owner_load().owner_ref_count();
    let word = foreign(&h);
    let mut cur = word.load(Acquire);
    if owner == 0 && refs(cur) == 0 && !clear_join_waker {
        // No reference left anywhere, so nobody can change the word any more.
        return h.dealloc();
    }
    let fold = (owner as usize).wrapping_shl(REF_SHIFT as u32) | HANDED_OFF;
    let next = loop {
        if clear_join_waker && cur & JOIN_DROPPED != 0 && !slot_cleared {
            // The handle was dropped while we held the slot: dropping its waker is ours.
            // SAFETY: not handed off yet, so the task is alive; the handle is gone.
            unsafe { h.cell().trailer.set_waker(None) };
            slot_cleared = true;
        }
        let mut next = cur.wrapping_add(fold);
        if clear_join_waker {
            next &= !JOIN_WAKER;
        }
        match word.compare_exchange_weak(cur, next, AcqRel, Acquire) {
            Ok(_) => break next,
            Err(actual) => cur = actual,
        }
    };
    if refs(next) == 0 {
        h.dealloc();
    }
}

unsafe fn shutdown<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller (the set's drop, on the owner thread) hands over the owned list's
    // reference.
    let h = unsafe { harness::<F>(ptr) };
    if h.header().state.owner_transition_to_shutdown() {
        // Claimed: our reference serves as the runner's.
        h.store_cancellation();
        complete(h);
    } else {
        drop_ref(h);
    }
}

unsafe fn abort<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference to this local task.
    let h = unsafe { harness::<F>(ptr) };
    if counts_here(&h) {
        if h.header().state.owner_transition_to_notified_and_cancel() {
            // A reference was added for this Notified.
            schedule(&h);
        }
        return;
    }
    request_wake(&h, CANCEL);
}

/// From a thread other than the owner (or after completion): sets `bits` (`CANCEL` or
/// none) and, unless one is queued already, queues a wake request with a new reference.
fn request_wake<F: Future + 'static>(h: &H<F>, bits: usize) {
    if h.header().state.load().is_complete() {
        return;
    }
    let word = foreign(h);
    let mut cur = word.load(Acquire);
    loop {
        if cur & (COMPLETE | HANDED_OFF) != 0 || (cur & WAKE != 0 && cur & bits == bits) {
            return;
        }
        let mut next = cur | bits;
        if cur & WAKE == 0 {
            next = (next | WAKE).wrapping_add(REF_ONE);
        }
        match word.compare_exchange_weak(cur, next, AcqRel, Acquire) {
            Ok(_) => break,
            Err(actual) => cur = actual,
        }
    }
    if cur & WAKE == 0 {
        // SAFETY: the reference just added (with WAKE) is the request's; `take_request`
        // matches the task's future type.
        let request = unsafe { WakeRequest::new(h.header_ptr(), take_request::<F>) };
        h.scheduler().shared().push_wake_request(request);
    }
}

unsafe fn take_request<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller hands over the request's reference, on the owner thread.
    let h = unsafe { harness::<F>(ptr) };
    debug_assert!(h.scheduler().shared().is_owner_thread());
    let prev = foreign(&h).fetch_and(!(WAKE | CANCEL), AcqRel);
    let state = &h.header().state;
    if state.owner_load().is_complete() {
        return drop_ref(h);
    }
    if prev & CANCEL != 0 && state.owner_transition_to_notified_and_cancel() {
        schedule(&h);
    }
    owner_wake_by_val(h);
}

/// A wake on the owner thread before completion, consuming the caller's reference.
fn owner_wake_by_val<F: Future + 'static>(h: H<F>) {
    match h.header().state.owner_transition_to_notified_by_val() {
        TransitionToNotified::Submit => schedule(&h),
        TransitionToNotified::DoNothing => {}
        TransitionToNotified::Dealloc => unreachable!("the owner word frees nothing"),
    }
}

unsafe fn try_read_output<F: Future + 'static>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the caller is this task's JoinHandle, which holds a reference.
    let h = unsafe { harness::<F>(ptr) };
    if can_read_output(&h, waker) {
        // SAFETY: COMPLETE with join interest: the JoinHandle owns the stage; `dst` is its
        // output slot.
        unsafe { h.read_output(dst) };
    }
}

/// Tokio's JoinHandle protocol, on the foreign word: true when the output can be taken
/// now; otherwise the waker is stored so that completion wakes the joiner.
fn can_read_output<F: Future + 'static>(h: &H<F>, waker: &Waker) -> bool {
    let word = foreign(h);
    let trailer = &h.cell().trailer;
    let cur = word.load(Acquire);
    if cur & COMPLETE != 0 {
        return true;
    }
    if cur & JOIN_WAKER != 0 {
        // SAFETY: shared read of a slot the runtime side only reads meanwhile.
        if unsafe { trailer.will_wake(waker) } {
            return false;
        }
        if update(word, |f| (f & COMPLETE == 0).then_some(f & !JOIN_WAKER)).is_err() {
            return true;
        }
    }
    // JOIN_WAKER is clear: the slot is ours until it is set.
    // SAFETY: as just said.
    unsafe { trailer.set_waker(Some(waker.clone())) };
    if update(word, |f| (f & COMPLETE == 0).then_some(f | JOIN_WAKER)).is_err() {
        // SAFETY: JOIN_WAKER is still clear: the slot is still ours.
        unsafe { trailer.set_waker(None) };
        return true;
    }
    false
}

/// A compare-and-swap loop: `f` gives the new word, or `None` to refuse (returning the
/// current word as the error).
fn update(
    word: &crate::loom::atomic::AtomicUsize,
    f: impl Fn(usize) -> Option<usize>,
) -> Result<usize, usize> {
    let mut cur = word.load(Acquire);
    loop {
        let next = f(cur).ok_or(cur)?;
        match word.compare_exchange_weak(cur, next, AcqRel, Acquire) {
            Ok(_) => return Ok(next),
            Err(actual) => cur = actual,
        }
    }
}

unsafe fn drop_join_handle<F: Future + 'static>(ptr: NonNull<Header>) {
    // SAFETY: the caller is this task's JoinHandle, giving up its reference.
    let h = unsafe { harness::<F>(ptr) };
    if counts_here(&h) {
        // Completion runs on this thread, so it cannot run meanwhile.
        if foreign(&h).load(Relaxed) & JOIN_WAKER != 0 {
            foreign(&h).fetch_and(!JOIN_WAKER, AcqRel);
            // SAFETY: JOIN_WAKER is now clear and the task not complete: the slot is ours.
            unsafe { h.cell().trailer.set_waker(None) };
        }
        return h.header().state.owner_drop_join_interest();
    }
    let prev = foreign(&h).fetch_or(JOIN_DROPPED, AcqRel);
    if prev & COMPLETE != 0 {
        // SAFETY: COMPLETE with join interest: the stage is the handle's.
        let _ = unsafe { h.drop_stage() };
        if prev & JOIN_WAKER == 0 {
            // SAFETY: the runtime side is done with the slot: it is the handle's.
            unsafe { h.cell().trailer.set_waker(None) };
        }
    }
    foreign_drop_ref(h);
}

/// The waker of a local task (each one owns a reference, except the borrowed one of a poll).
struct LocalWaker<F>(PhantomData<F>);

impl<F: Future + 'static> LocalWaker<F> {
    const VTABLE: RawWakerVTable =
        RawWakerVTable::new(Self::clone, Self::wake, Self::wake_by_ref, Self::drop);

    unsafe fn clone(ptr: *const ()) -> RawWaker {
        crate::task::waker::trace_op(ptr, "waker.clone");
        // SAFETY: the waker being cloned holds a reference to this local task.
        unsafe { ref_inc::<F>(header(ptr)) };
        RawWaker::new(ptr, &Self::VTABLE)
    }

    unsafe fn wake(ptr: *const ()) {
        crate::task::waker::trace_op(ptr, "waker.wake");
        // SAFETY: this waker owns a reference, which the wake consumes.
        let h = unsafe { harness::<F>(header(ptr)) };
        if counts_here(&h) {
            return owner_wake_by_val(h);
        }
        request_wake(&h, 0);
        foreign_drop_ref(h);
    }

    unsafe fn wake_by_ref(ptr: *const ()) {
        crate::task::waker::trace_op(ptr, "waker.wake_by_ref");
        // SAFETY: the waker keeps the task alive for the call.
        let h = unsafe { harness::<F>(header(ptr)) };
        if !counts_here(&h) {
            return request_wake(&h, 0);
        }
        if h.header().state.owner_transition_to_notified_by_ref() == TransitionToNotified::Submit {
            schedule(&h);
        }
    }

    unsafe fn drop(ptr: *const ()) {
        crate::task::waker::trace_op(ptr, "waker.drop");
        // SAFETY: this waker owns a reference, dropped here.
        unsafe { ref_dec::<F>(header(ptr)) };
    }
}

fn header(ptr: *const ()) -> NonNull<Header> {
    // SAFETY: every waker of this module carries a non-null header pointer.
    unsafe { NonNull::new_unchecked(ptr as *mut Header) }
}

/// The borrowed waker of a poll: owns no reference (the runner does).
fn waker_ref<F: Future + 'static>(h: &H<F>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(
        h.header_ptr().as_ptr() as *const (),
        &LocalWaker::<F>::VTABLE,
    );
    // SAFETY: the vtable upholds the RawWaker contract for this task, and ManuallyDrop
    // keeps the borrowed waker from dropping a reference it does not own.
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

impl Schedule for LocalHandle {
    type TaskExtra = crate::loom::atomic::AtomicUsize;

    #[inline]
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.shared().release(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.shared().schedule(task);
    }

    fn vtable<F: Future + 'static>() -> &'static Vtable {
        vtable::<F>()
    }
}
