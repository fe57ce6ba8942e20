//! `tracing` instrumentation of tasks (Cargo feature `tracing`), under the span, event,
//! target and field names Tokio uses, so that subscribers written for Tokio's
//! instrumentation (tokio-console's `console-subscriber` among them) read zokio's:
//!
//! - Each spawned task's future (and each `block_on` future) runs inside a span
//!   `runtime.spawn`, target `tokio::task`, with fields `kind` (`task`, `local`,
//!   `blocking` or `block_on`), `task.name` (from
//!   [`task::Builder::name`](crate::task::Builder::name), empty otherwise), `task.id`,
//!   `size.bytes` (the future's size) and `loc.file`, `loc.line`, `loc.col` (the spawning
//!   call site). Every poll enters it; it closes when the future is dropped (completion or
//!   cancellation).
//! - Waker operations are `TRACE` events of target `tokio::task::waker` with field `op`
//!   (`waker.clone`, `waker.drop`, `waker.wake`, `waker.wake_by_ref`) and `task.id`, the
//!   task span's id (as Tokio's are).
//!
//! - Each [`Sleep`](crate::time::Sleep) is a resource as Tokio's is (`time/sleep_trace.rs`): a span
//!   `runtime.resource` (`concrete_type = "Sleep"`, `kind = "timer"`, the creating call
//!   site), inside it a `runtime::resource::state_update` event with the duration (`ms`,
//!   `override`) when the sleep is armed or reset, and an async-op span
//!   `runtime.resource.async_op` (`source = "Sleep::new_timeout"`) with its
//!   `runtime.resource.async_op.poll` span; every poll enters the three and emits a
//!   `runtime::resource::poll_op` event (`op_name = "poll_elapsed"`, `is_ready`), whose
//!   `is_ready = true` is the timer firing.
//!
//! - The I/O driver reports what it does as `TRACE` events of target `zokio::io::driver`
//!   (Tokio's driver has no instrumentation whose names could be matched): `op =
//!   "submit"` for each io_uring SQE pushed (`opcode`, `user_data`, `now`: submitted at
//!   once rather than with the next enter), `op = "complete"` for each CQE reaped
//!   (`user_data`, `result`: the kernel's `res`, `more`: a multishot poll goes on), and `op
//!   = "readiness"` for each readiness change handed to a socket's waiters on either
//!   driver (`readiness`: the driver's bits, `READABLE` 1, `WRITABLE` 2, `READ_CLOSED` 4,
//!   `WRITE_CLOSED` 8, `ERROR` 16).
//!
//! zokio's task id is its allocation's address, known only once the task's cell exists,
//! after the span that wraps its future was created: `task.id` is therefore declared empty
//! and recorded right after the task is allocated, before it can first run.
//!
//! Without the feature every function here is the identity or does nothing, inlined away:
//! no field, branch or call is left on a hot path.

#[cfg(feature = "tracing")]
mod on {
    use std::any::TypeId;
    use std::cell::RefCell;
    use std::future::Future;
    use std::num::NonZeroU64;
    use tracing::instrument::{Instrument, Instrumented};

    thread_local! {
        /// The span of the task this thread is spawning: set by [`task`], taken by the
        /// task's cell when it is allocated ([`allocated`]), on the same thread with no
        /// other spawn in between.
        static SPAWNING: RefCell<Option<(tracing::Span, TypeId)>> = const { RefCell::new(None) };
    }

    /// Wraps `future` in its task span (see the module docs).
    #[track_caller]
    pub(crate) fn task<F: Future + 'static>(
        future: F,
        kind: &'static str,
        name: Option<&str>,
    ) -> Instrumented<F> {
        let location = std::panic::Location::caller();
        let span = tracing::trace_span!(
            target: "tokio::task",
            parent: None,
            "runtime.spawn",
            kind = %kind,
            task.name = %name.unwrap_or_default(),
            task.id = tracing::field::Empty,
            size.bytes = std::mem::size_of::<F>(),
            loc.file = location.file(),
            loc.line = location.line(),
            loc.col = location.column(),
        );
        if !span.is_disabled() {
            let future_type = TypeId::of::<Instrumented<F>>();
            SPAWNING.with_borrow_mut(|spawning| *spawning = Some((span.clone(), future_type)));
        }
        future.instrument(span)
    }

    /// Wraps the future of a `block_on` call in its span: `runtime.spawn` as a task's, with
    /// `kind = "block_on"` and no `task.id` (it has no task cell), as Tokio's.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(future: F) -> Instrumented<F> {
        let location = std::panic::Location::caller();
        let span = tracing::trace_span!(
            target: "tokio::task",
            parent: None,
            "runtime.spawn",
            kind = "block_on",
            task.name = "",
            task.id = tracing::field::Empty,
            size.bytes = std::mem::size_of::<F>(),
            loc.file = location.file(),
            loc.line = location.line(),
            loc.col = location.column(),
        );
        future.instrument(span)
    }

    /// Called by a task cell of future `F` just allocated, whose id (`task::Id`) is `id`: records the id
    /// on the span [`task`] created for it, if any, and returns the span's id for the cell
    /// to keep. A span left by a spawn that never allocated (it panicked outside a runtime)
    /// is for a future of another type, or replaced by the next spawn's: the type check
    /// keeps it off an unrelated task.
    pub(crate) fn allocated<F: 'static>(id: u64) -> Option<NonZeroU64> {
        let (span, future_type) = SPAWNING.with_borrow_mut(Option::take)?;
        if future_type != TypeId::of::<F>() {
            return None;
        }
        span.record("task.id", id);
        span.id().map(|id| id.into_non_zero_u64())
    }

    /// Emits the waker event `op` for the task whose span id is `span`.
    pub(crate) fn waker_op(span: Option<NonZeroU64>, op: &'static str) {
        if let Some(span) = span {
            tracing::trace!(target: "tokio::task::waker", op = op, task.id = span.get());
        }
    }
}

#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
mod off {
    /// Without the `tracing` feature: `future` itself.
    #[inline(always)]
    pub(crate) fn task<F: 'static>(future: F, _kind: &'static str, _name: Option<&str>) -> F {
        future
    }

    /// Without the `tracing` feature: `future` itself.
    #[inline(always)]
    pub(crate) fn block_on<F>(future: F) -> F {
        future
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
