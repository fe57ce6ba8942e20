//! The raw waker of a task: the data pointer is the task's header; every `Waker` (clone)
//! owns one task reference, except the borrowed one handed to the future during a poll.

use crate::task::core::Header;
use crate::task::raw::RawTask;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// A waker borrowed for the duration of one poll; it owns no reference (the runner does).
pub(crate) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _header: PhantomData<&'a Header>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// Builds the borrowed waker for `header`.
pub(crate) fn waker_ref(header: &Header) -> WakerRef<'_> {
    let raw = RawWaker::new(header as *const Header as *const (), &WAKER_VTABLE);
    WakerRef {
        // SAFETY: the vtable functions uphold the RawWaker contract for task headers, and
        // ManuallyDrop keeps this borrowed waker from dropping a reference it does not own.
        waker: ManuallyDrop::new(unsafe { Waker::from_raw(raw) }),
        _header: PhantomData,
    }
}

fn header(ptr: *const ()) -> NonNull<Header> {
    // SAFETY: every waker built by this module carries a non-null header pointer.
    unsafe { NonNull::new_unchecked(ptr as *mut Header) }
}

/// Emits the `tracing` event of waker operation `op` (`util/trace.rs`); nothing without
/// the `tracing` feature.
#[inline(always)]
pub(crate) fn trace_op(ptr: *const (), op: &'static str) {
    #[cfg(feature = "tracing")]
    // SAFETY: called while the waker keeps the task alive; `tracing_id` is written once,
    // before the task is shared.
    crate::util::trace::waker_op(unsafe { header(ptr).as_ref() }.tracing_id, op);
    #[cfg(not(feature = "tracing"))]
    let _ = (ptr, op);
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    trace_op(ptr, "waker.clone");
    // SAFETY: the waker being cloned keeps the task alive.
    unsafe { header(ptr).as_ref() }.state.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    trace_op(ptr, "waker.wake");
    // SAFETY: this waker owns one reference, which `wake_by_val` consumes.
    unsafe { RawTask::from_raw(header(ptr)).wake_by_val() };
}

unsafe fn wake_by_ref(ptr: *const ()) {
    trace_op(ptr, "waker.wake_by_ref");
    // SAFETY: the waker keeps the task alive for the call.
    unsafe { RawTask::from_raw(header(ptr)).wake_by_ref() };
}

unsafe fn drop_waker(ptr: *const ()) {
    trace_op(ptr, "waker.drop");
    // SAFETY: this waker owns one reference, which is dropped here.
    unsafe { RawTask::from_raw(header(ptr)).shared_drop_reference() };
}
