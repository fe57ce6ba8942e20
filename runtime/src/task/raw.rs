//! `RawTask`: a copyable, type-erased pointer to a task cell that owns nothing by itself;
//! the typed owners (`Task`, `Notified`, `JoinHandle`, wakers) say which reference they hold.

use crate::task::core::{Cell, Header};
use crate::task::state::TransitionToNotified;
use crate::task::Schedule;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the cell's shared parts are atomics or guarded by the task state protocol; the
// future and output are `Send`, or only touched on their owner thread (`RawTask::new`).
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task in the initial state (three references).
    ///
    /// # Safety
    /// Unless `F` and `F::Output` are `Send`, the caller makes sure the future is only
    /// polled and dropped on the thread calling this, and the output only read or dropped
    /// there or through a `JoinHandle` (which is `Send` only for a `Send` output).
    pub(crate) unsafe fn new<F, S>(future: F, scheduler: S) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        #[allow(unused_mut)] // written only with the `tracing` feature
        let mut cell = Cell::new(future, scheduler, S::vtable::<F>());
        #[cfg(feature = "tracing")]
        {
            let id = crate::task::Id::of(NonNull::from(&cell.header));
            cell.header.tracing_id = crate::util::trace::allocated::<F>(id.as_u64());
        }
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    /// `ptr` is the header of a live task.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only used while some owner keeps the task alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Polls or cancels the task. Consumes one reference (the `Notified`'s).
    pub(crate) fn poll(self) {
        // SAFETY: the vtable matches the cell, and the caller gives up its reference.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Submits a `Notified` backed by one reference the caller gives up.
    pub(crate) fn schedule(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Frees the cell when the caller dropped the last reference.
    fn dealloc(self) {
        // SAFETY: as in `poll`; no reference remains.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    /// `dst` is a valid `*mut Poll<Result<T, JoinError>>` for the task's output type `T`,
    /// and the caller is the task's `JoinHandle`.
    pub(crate) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Consumes the `JoinHandle`'s reference and interest.
    pub(crate) fn drop_join_handle(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    /// Runtime shutdown: cancels the task unless it is running elsewhere. Consumes one ref.
    pub(crate) fn shutdown(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// `Waker::wake`: consumes the waker's reference.
    pub(crate) fn wake_by_val(self) {
        match self.header().state.transition_to_notified_by_val() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::DoNothing => {}
            TransitionToNotified::Dealloc => self.dealloc(),
        }
    }

    /// `Waker::wake_by_ref`: borrows the waker's reference.
    pub(crate) fn wake_by_ref(self) {
        match self.header().state.transition_to_notified_by_ref() {
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::DoNothing => {}
            TransitionToNotified::Dealloc => unreachable!("wake_by_ref drops no reference"),
        }
    }

    /// `JoinHandle::abort` from any thread.
    pub(crate) fn remote_abort(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.abort)(self.ptr) }
    }

    /// Adds one reference (for an `AbortHandle`).
    pub(crate) fn ref_inc(self) {
        // SAFETY: as in `poll`; the caller holds a reference.
        unsafe { (self.header().vtable.ref_inc)(self.ptr) }
    }

    /// Drops one reference, freeing the cell if it was the last.
    pub(crate) fn drop_reference(self) {
        // SAFETY: as in `poll`; the caller gives up its reference.
        unsafe { (self.header().vtable.ref_dec)(self.ptr) }
    }

    /// [`remote_abort`](Self::remote_abort) of a task whose state word every thread
    /// updates atomically.
    pub(crate) fn shared_abort(self) {
        if self.header().state.transition_to_notified_and_cancel() {
            // A reference was added for this Notified.
            self.schedule();
        }
    }

    /// [`drop_reference`](Self::drop_reference) of a task whose state word every thread
    /// updates atomically.
    pub(crate) fn shared_drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }
}
