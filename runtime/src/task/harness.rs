//! The typed operations behind a task's vtable: poll, complete, cancel, join, drop.
//!
//! Reference ownership is stated per function ("consumes one reference"). Panics from user
//! code (polling the future, dropping the future or the output, a join waker) are caught
//! here: a panicking task ends in `JoinError::Panic` and never unwinds into a worker.

use crate::coop;
use crate::task::core::{Cell, Core, Header, Stage, Vtable};
use crate::task::error::{JoinError, Repr as Failure};
use crate::task::raw::RawTask;
use crate::task::state::{TransitionToIdle, TransitionToRunning};
use crate::task::waker::waker_ref;
use crate::task::{Id, Notified, Schedule, Task};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// Typed access to one task cell.
pub(crate) struct Harness<F: Future, S: Schedule> {
    cell: NonNull<Cell<F, S>>,
}

/// The vtable for tasks of future `F` on scheduler `S`.
///
/// Nothing here needs `F: Send`: a `!Send` future is sound as long as every poll, cancel and
/// drop of it happens on one thread, which `task::new_task_unchecked`'s callers guarantee.
pub(crate) fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &Vtable {
        ref_inc,
        ref_dec,
        abort,
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
        extra_offset: Cell::<F, S>::EXTRA_OFFSET,
    }
}

unsafe fn ref_inc(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference, so the header is alive.
    unsafe { ptr.as_ref() }.state.ref_inc();
}

unsafe fn ref_dec(ptr: NonNull<Header>) {
    // SAFETY: the caller gives up its reference to a live task.
    unsafe { RawTask::from_raw(ptr) }.shared_drop_reference();
}

unsafe fn abort(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference to a live task.
    unsafe { RawTask::from_raw(ptr) }.shared_abort();
}

unsafe fn poll<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable is only installed on cells of this exact type.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; the caller hands over one reference for the Notified.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: that reference is what the Notified owns.
    let notified = Notified(unsafe { Task::from_raw(ptr) });
    harness.scheduler().schedule(notified);
}

unsafe fn dealloc<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; no references remain, so nobody else can reach the cell.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

unsafe fn try_read_output<F: Future + 'static, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: as in `poll`; `dst` points to the JoinHandle's `Poll<Result<F::Output, _>>`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.can_read_output(waker) {
        // SAFETY: complete with join interest: the JoinHandle owns the stage, and `dst` is
        // its output slot.
        unsafe { harness.read_output(dst) };
    }
}

unsafe fn drop_join_handle<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.drop_join_handle();
}

unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown();
}

impl<F: Future + 'static, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<F, S> {
        Harness { cell: ptr.cast() }
    }

    pub(crate) fn cell(&self) -> &Cell<F, S> {
        // SAFETY: the caller of `from_raw` promised a live cell; we hold a reference to it.
        unsafe { self.cell.as_ref() }
    }

    pub(crate) fn header(&self) -> &Header {
        &self.cell().header
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    pub(crate) fn scheduler(&self) -> &S {
        &self.cell().core.scheduler
    }

    /// Runs the task once. Consumes one reference (the `Notified`'s).
    fn poll(self) {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {}
            TransitionToRunning::Cancelled => return self.cancel_and_complete(),
            TransitionToRunning::Failed => return,
            TransitionToRunning::Dealloc => return self.dealloc(),
        }
        if self.poll_and_store(&waker_ref(self.header())) {
            return self.complete();
        }
        match self.header().state.transition_to_idle() {
            TransitionToIdle::Ok => {}
            TransitionToIdle::OkNotified => {
                // SAFETY: the runner's reference now backs this Notified (see state.rs).
                let notified = Notified(unsafe { Task::from_raw(self.header_ptr()) });
                self.scheduler().yield_now(notified);
            }
            TransitionToIdle::OkDealloc => self.dealloc(),
            TransitionToIdle::Cancelled => self.cancel_and_complete(),
        }
    }

    /// Polls the future with `waker`; if it completed (or panicked), drops it and stores
    /// the output (unless nobody can read it: then it is dropped too), returning `true`.
    /// The caller holds `RUNNING`.
    pub(crate) fn poll_and_store(&self, waker: &Waker) -> bool {
        let Poll::Ready(output) = self.poll_future(waker) else {
            return false;
        };
        if let Some(output) = output {
            // SAFETY: we hold RUNNING, so the stage is ours; `poll_future` left it
            // `Consumed`.
            unsafe {
                self.cell()
                    .core
                    .store_into_consumed(Stage::finished(output))
            };
        }
        true
    }

    /// Polls the future under a fresh cooperative budget, catching panics. On a panic the
    /// future is dropped while the panic unwinds, as Tokio does: its `Drop` impls see
    /// `thread::panicking()`, and a `std::sync::Mutex` guard it holds poisons the mutex. (A
    /// destructor that panics then aborts the process, as any panic during unwinding does.)
    ///
    /// On `Ready` the stage is left `Consumed`: the future is dropped at once, in the
    /// poll's task scope, on its own (a panic in its `Drop` is ignored and the output kept,
    /// as in Tokio; the panic hook has reported it). The output comes back for the caller
    /// to store, or `None` when the `JoinHandle` was already gone and the output has been
    /// dropped here too, in the same scope (join interest, once dropped, never comes back).
    fn poll_future(&self, waker: &Waker) -> Poll<Option<Result<F::Output, Failure>>> {
        /// Drops the future if the poll unwinds; forgotten when the poll returns.
        struct DropOnUnwind<'a, F: Future, S>(&'a Core<F, S>);
        impl<F: Future, S> Drop for DropOnUnwind<'_, F, S> {
            fn drop(&mut self) {
                // SAFETY: still RUNNING (the poll is unwinding): the stage is ours.
                unsafe { self.0.set_stage(Stage::Consumed) }
            }
        }
        let core = &self.cell().core;
        let state = &self.header().state;
        let mut cx = Context::from_waker(waker);
        let id = Id::of(self.header_ptr());
        let result = catch_unwind(AssertUnwindSafe(|| {
            // The guard inside the task's context: a future dropped by the unwind still
            // sees its task id.
            coop::task_budget(id.get(), || {
                let guard = DropOnUnwind(core);
                // SAFETY: we hold RUNNING, so we have exclusive access to the stage, and the
                // future never moves: it lives in the heap cell until it is dropped in place.
                let poll = core.stage.with_mut(|ptr| match unsafe { &mut *ptr } {
                    // SAFETY: pinned in place, as said above.
                    Stage::Running(future) => unsafe { Pin::new_unchecked(future) }.poll(&mut cx),
                    _ => unreachable!("task polled after completion"),
                });
                std::mem::forget(guard);
                let Poll::Ready(output) = poll else {
                    return Poll::Pending;
                };
                // SAFETY: still RUNNING: the stage is ours.
                let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
                    core.set_stage(Stage::Consumed)
                }));
                if state.load().is_join_interested() {
                    return Poll::Ready(Some(output));
                }
                let _ = catch_unwind(AssertUnwindSafe(|| drop(output)));
                Poll::Ready(None)
            })
        }));
        match result {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(output.map(Ok)),
            Err(payload) => Poll::Ready(Some(Err(Failure::panic(payload)))),
        }
    }

    /// Drops what the stage holds (the future or the output) with the task's id current
    /// (`task::id()` works in its `Drop`, as in Tokio), catching a panic of that `Drop`.
    ///
    /// # Safety
    /// The caller owns the stage: it holds RUNNING, or the task is complete and the output
    /// is no one else's.
    #[inline]
    pub(crate) unsafe fn drop_stage(&self) -> std::thread::Result<()> {
        // SAFETY: the caller's contract.
        if unsafe { self.cell().core.is_consumed() } {
            return Ok(());
        }
        // SAFETY: the caller's contract.
        unsafe { self.drop_stage_in_scope() }
    }

    /// [`drop_stage`](Self::drop_stage) of a stage that holds something.
    ///
    /// # Safety
    /// As `drop_stage`.
    unsafe fn drop_stage_in_scope(&self) -> std::thread::Result<()> {
        let core = &self.cell().core;
        let id = Id::of(self.header_ptr());
        catch_unwind(AssertUnwindSafe(|| {
            coop::with_task(id.get(), || {
                // SAFETY: the caller's contract.
                unsafe { core.set_stage(Stage::Consumed) }
            })
        }))
    }

    /// Drops the future (the task holds RUNNING) and stores the cancellation as output.
    fn cancel_and_complete(self) {
        self.store_cancellation();
        self.complete();
    }

    /// Drops the future and stores `JoinError::Cancelled` (or the panic of the future's
    /// destructor) as the output. The caller holds `RUNNING`.
    pub(crate) fn store_cancellation(&self) {
        let core = &self.cell().core;
        // SAFETY: the caller holds RUNNING.
        let dropped = unsafe { self.drop_stage() };
        let output = match dropped {
            Ok(()) => Err(Failure::Cancelled),
            Err(payload) => Err(Failure::panic(payload)),
        };
        // SAFETY: still RUNNING.
        unsafe { core.set_stage(Stage::finished(output)) };
    }

    /// Publishes the stored output, wakes the joiner, leaves the owned list and drops the
    /// runner's reference (and the list's). The caller holds RUNNING and the runner ref.
    fn complete(self) {
        if !self.header().state.load().is_join_interested() {
            return self.complete_detached();
        }
        let snapshot = self.header().state.transition_to_complete();
        if !snapshot.is_join_interested() {
            // Nobody will read the output: drop it here.
            // SAFETY: without join interest the completing thread owns the stage.
            let _ = unsafe { self.drop_stage() };
        }
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if snapshot.is_join_interested() && snapshot.is_join_waker_set() {
                let trailer = &self.cell().trailer;
                // SAFETY: COMPLETE and JOIN_WAKER set: the runtime side may read the slot.
                unsafe { trailer.wake_join() };
                let prev = self.header().state.unset_waker_after_complete();
                if !prev.is_join_interested() {
                    // SAFETY: the handle is gone and JOIN_WAKER is now clear: the slot is ours.
                    unsafe { trailer.set_waker(None) };
                }
            }
        }));
        // SAFETY: `Task::from_raw` here borrows the pointer for `release`, it owns no ref.
        let me = std::mem::ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.header_ptr()) });
        let released = match self.scheduler().release(&me) {
            Some(task) => {
                // The owned list's reference, dropped below together with the runner's.
                std::mem::forget(task);
                2
            }
            None => 1,
        };
        if self.header().state.transition_to_terminal(released) {
            self.dealloc();
        }
    }

    /// [`complete`](Self::complete) for a task whose `JoinHandle` is gone (so it never
    /// returns): the output is dropped and the task leaves the owned list while still
    /// `RUNNING`, then one state change publishes `COMPLETE` and drops the runner's and
    /// the list's references together.
    fn complete_detached(self) {
        // SAFETY: RUNNING, and no JoinHandle to hand the output to: the stage is ours.
        let _ = unsafe { self.drop_stage() };
        // SAFETY: as in `complete`: borrowed for `release`, owns no reference.
        let me = std::mem::ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.header_ptr()) });
        let released = match self.scheduler().release(&me) {
            Some(task) => {
                std::mem::forget(task);
                2
            }
            None => 1,
        };
        if self
            .header()
            .state
            .transition_to_complete_and_terminal(released)
        {
            self.dealloc();
        }
    }

    /// Runtime shutdown; consumes one reference (the owned list's).
    fn shutdown(self) {
        if self.header().state.transition_to_shutdown() {
            // Claimed: our reference serves as the runner's.
            self.cancel_and_complete();
        } else if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// The `JoinHandle` side of reading the output: true when the output can be taken now;
    /// otherwise the waker is stored so that completion wakes the joiner.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let state = &self.header().state;
        let trailer = &self.cell().trailer;
        let snapshot = state.load();
        if snapshot.is_complete() {
            return true;
        }
        if snapshot.is_join_waker_set() {
            // SAFETY: shared read of a slot the runtime only reads after COMPLETE.
            if unsafe { trailer.will_wake(waker) } {
                return false;
            }
            if state.unset_join_waker().is_err() {
                return true; // Completed meanwhile.
            }
        }
        // JOIN_WAKER is clear: the slot is ours until `set_join_waker` succeeds.
        // SAFETY: as just said.
        unsafe { trailer.set_waker(Some(waker.clone())) };
        if state.set_join_waker().is_err() {
            // Completed before we could hand the slot over: it is still ours, clear it.
            // SAFETY: JOIN_WAKER is still clear.
            unsafe { trailer.set_waker(None) };
            return true;
        }
        false
    }

    /// Drops join interest and the `JoinHandle`'s reference, dropping the output or the waker
    /// when this side owns them.
    fn drop_join_handle(self) {
        if self.header().state.drop_join_handle_fast() {
            return;
        }
        let (drop_output, drop_waker) = self.header().state.transition_to_join_handle_dropped();
        if drop_output {
            // SAFETY: complete with join interest at completion: the stage is ours.
            let _ = unsafe { self.drop_stage() };
        }
        if drop_waker {
            // SAFETY: JOIN_WAKER is clear: the slot is ours.
            unsafe { self.cell().trailer.set_waker(None) };
        }
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// Reads the output into `dst` (a `*mut Poll<Result<F::Output, JoinError>>`).
    ///
    /// # Safety
    /// The caller is the `JoinHandle`, the task is complete with join interest, and `dst`
    /// is valid for writes of that type.
    pub(crate) unsafe fn read_output(&self, dst: *mut ()) {
        let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
        // SAFETY: the caller's contract: the JoinHandle owns the stage.
        let output = unsafe { self.cell().core.take_output() };
        let output = output.map_err(|failure| failure.into_join_error(Id::of(self.header_ptr())));
        // SAFETY: the caller's contract.
        unsafe { *dst = Poll::Ready(output) };
    }

    pub(crate) fn dealloc(self) {
        let cell = self.cell.as_ptr();
        // (Under loom the stage's cell is loom's, whose drop the model tracks: drop it.)
        // SAFETY: no references remain, so the stage is ours.
        if cfg!(not(loom)) && unsafe { self.cell().core.is_consumed() } {
            // The usual end: the stage holds nothing. Its fields are dropped one by one
            // (in declaration order, as the whole cell's drop would) skipping the stage,
            // whose drop glue is an out-of-line call and a match on the future's states.
            // SAFETY: the cell came from `Box::new` in `Cell::new`; no references remain,
            // each field is dropped once, and a `Box<MaybeUninit<_>>` of the same layout
            // frees the memory without dropping anything.
            unsafe {
                std::ptr::drop_in_place(&raw mut (*cell).header);
                std::ptr::drop_in_place(&raw mut (*cell).core.scheduler);
                std::ptr::drop_in_place(&raw mut (*cell).trailer);
                drop(Box::from_raw(
                    cell.cast::<std::mem::MaybeUninit<Cell<F, S>>>(),
                ));
            }
            return;
        }
        // SAFETY: no references remain; the cell came from `Box::new` in `Cell::new`.
        drop(unsafe { Box::from_raw(cell) });
    }
}
