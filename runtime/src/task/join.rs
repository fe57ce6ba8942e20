use crate::coop;
use crate::task::error::JoinError;
use crate::task::raw::RawTask;
use crate::task::Id;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or `Err(JoinError)` if the task panicked or was
/// cancelled. Dropping it detaches the task, which keeps running.
///
/// Awaiting a `JoinHandle` consumes one unit of the cooperative budget, so a loop over many
/// already-finished handles still lets other tasks run.
///
/// # Panics
/// Polling it again after it returned `Ready` panics.
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (T: Send) from the task to its owner.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort` and `is_finished`, which touch atomics.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

/// A handle that can abort a task without awaiting it; cheap to clone, usable from any
/// thread. Unlike a [`JoinHandle`], dropping it does nothing.
pub struct AbortHandle {
    raw: RawTask,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Cancels the task. A task that has not completed will have its future dropped (on a
    /// worker, the next time it would run) and the handle then yields
    /// `Err(JoinError::Cancelled)`. Aborting a finished task does nothing: its output is
    /// still returned.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has completed (output ready, panicked, or cancelled). Never blocks.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::of(self.raw.header_ptr())
    }

    /// A handle that can abort this task after the `JoinHandle` is gone.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        coop::poll_budgeted(cx, |cx| {
            let mut ret = Poll::Pending;
            // SAFETY: `ret` has type Poll<Result<T, JoinError>>, the task's output type, and
            // this is the task's only JoinHandle.
            unsafe {
                self.raw
                    .try_read_output(&mut ret as *mut Poll<Self::Output> as *mut (), cx.waker());
            }
            ret
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl AbortHandle {
    /// Cancels the task; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has completed.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::of(self.raw.header_ptr())
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        self.raw.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

// As Tokio's: a `JoinHandle` only reads the task's state through atomics and its own
// slot; a panic in code holding one leaves nothing half-updated that it could observe.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}
