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
//!   `is_ready = true` is the timer firing. An [`Interval`](crate::time::Interval) is a
//!   timer resource too (`concrete_type = "Interval"`), its ticks async ops
//!   (`Interval::tick`, `op_name = "poll_tick"`), its sleep a `Sleep` of its own.
//!
//! - `sync::Mutex`, `sync::RwLock` and `sync::Semaphore` are Tokio's sync resources: a
//!   `runtime.resource` span (`concrete_type` `Mutex`, `RwLock` or `Semaphore`, `kind =
//!   "Sync"`, the creating call site; a lock's semaphore is its child),
//!   `runtime::resource::state_update` events (`locked = true/false`; `max_readers`,
//!   `write_locked` and `current_readers` with their `.op`; `permits = n` with
//!   `permits.op` `override`, `add` or `sub`), and an async op per wait (`source`
//!   `Mutex::lock`, `RwLock::read`, `RwLock::write` or `Semaphore::acquire`) whose polls
//!   are `runtime::resource::poll_op` events (`op_name = "poll"`, `is_ready`). A primitive
//!   made by `const_new` has no span, as in Tokio.
//! - A `sync::oneshot` channel (`concrete_type = "Sender|Receiver"`) and a `sync::Barrier`
//!   are sync resources too, with Tokio's state updates (`tx_dropped`, `rx_dropped`,
//!   `value_sent`, `value_received`; `size`, `arrived`) and async ops (`Receiver::await`
//!   polled as `poll_recv`, `Sender::closed` as `poll_closed`; `Barrier::wait`, whose
//!   `runtime::resource::async_op::state_update` events say `arrived` and `is_leader`).
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

    /// A primitive's or timer's `runtime.resource` span (Tokio's: `kind = "Sync"` or
    /// `"timer"`), for its state updates ([`resource_state!`]) and async ops
    /// ([`Resource::op`], [`Resource::async_op`]).
    #[derive(Debug, Clone)]
    pub(crate) struct Resource(tracing::Span);

    macro_rules! resource_span {
        ($target:literal, $concrete:literal, $kind:literal) => {{
            let location = std::panic::Location::caller();
            Resource(tracing::trace_span!(
                target: $target,
                parent: None,
                "runtime.resource",
                concrete_type = $concrete,
                kind = $kind,
                loc.file = location.file(),
                loc.line = location.line(),
                loc.col = location.column(),
            ))
        }};
    }

    impl Resource {
        /// No span (a primitive made in a `const` context, as Tokio's `const_new`).
        pub(crate) const fn none() -> Resource {
            Resource(tracing::Span::none())
        }

        /// A `Mutex`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn mutex() -> Resource {
            resource_span!("tokio::sync::mutex", "Mutex", "Sync")
        }

        /// A `Semaphore`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn semaphore() -> Resource {
            resource_span!("tokio::sync::semaphore", "Semaphore", "Sync")
        }

        /// An `RwLock`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn rwlock() -> Resource {
            resource_span!("tokio::sync::rwlock", "RwLock", "Sync")
        }

        /// A `time::Sleep`'s span (`kind = "timer"`), at the caller's location.
        #[track_caller]
        pub(crate) fn sleep() -> Resource {
            resource_span!("tokio::time::sleep", "Sleep", "timer")
        }

        /// A `time::Interval`'s span (`kind = "timer"`), at the caller's location.
        #[track_caller]
        pub(crate) fn interval() -> Resource {
            resource_span!("tokio::time::interval", "Interval", "timer")
        }

        /// A oneshot channel's span, shared by both halves, at the caller's location.
        #[track_caller]
        pub(crate) fn oneshot() -> Resource {
            resource_span!("tokio::sync::oneshot", "Sender|Receiver", "Sync")
        }

        /// A `Barrier`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn barrier() -> Resource {
            resource_span!("tokio::sync::barrier", "Barrier", "Sync")
        }

        /// Runs `f` inside the span (a primitive made inside another is its child).
        pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
            self.0.in_scope(f)
        }

        /// The spans of one async op of this resource: `runtime.resource.async_op` with
        /// `source` (`"Mutex::lock"`), and its `runtime.resource.async_op.poll` span.
        pub(crate) fn op(&self, source: &'static str) -> Op {
            // No subscriber wants the resource (or none is installed): no spans to make,
            // and every poll of the op then costs one check (`Op::enter`).
            if self.0.is_disabled() {
                return Op {
                    resource: tracing::Span::none(),
                    async_op: tracing::Span::none(),
                    async_op_poll: tracing::Span::none(),
                };
            }
            let (async_op, async_op_poll) = self.0.in_scope(|| {
                let op = tracing::trace_span!(
                    "runtime.resource.async_op",
                    source = source,
                    inherits_child_attrs = false,
                );
                let poll = op.in_scope(|| tracing::trace_span!("runtime.resource.async_op.poll"));
                (op, poll)
            });
            Op {
                resource: self.0.clone(),
                async_op,
                async_op_poll,
            }
        }

        /// Wraps `future` in an async op of this resource ([`op`](Self::op)); each poll
        /// enters its spans and reports itself as `poll_op` (see [`OpPoll::done`]), as
        /// Tokio's `trace::async_op` does.
        pub(crate) fn async_op<F: Future>(
            &self,
            future: F,
            source: &'static str,
            poll_op: &'static str,
        ) -> AsyncOp<F> {
            AsyncOp {
                inner: future,
                op: self.op(source),
                poll_op,
            }
        }

        /// The span, for [`resource_state!`].
        pub(crate) fn span(&self) -> &tracing::Span {
            &self.0
        }
    }

    /// The spans of one async op of a resource (see [`Resource::op`]).
    #[derive(Debug)]
    pub(crate) struct Op {
        resource: tracing::Span,
        async_op: tracing::Span,
        async_op_poll: tracing::Span,
    }

    impl Op {
        /// Enters the three spans for one poll, until [`OpPoll::done`]. The guards own
        /// their spans, so the caller may borrow the rest of itself mutably meanwhile.
        pub(crate) fn enter(&self) -> OpPoll {
            if self.resource.is_disabled() {
                return OpPoll(None);
            }
            OpPoll(Some((
                self.resource.clone().entered(),
                self.async_op.clone().entered(),
                self.async_op_poll.clone().entered(),
            )))
        }
    }

    /// One poll of an async op, inside its spans (innermost last, left in reverse);
    /// nothing if the resource's span is disabled.
    #[allow(clippy::type_complexity)]
    pub(crate) struct OpPoll(
        Option<(
            tracing::span::EnteredSpan,
            tracing::span::EnteredSpan,
            tracing::span::EnteredSpan,
        )>,
    );

    impl OpPoll {
        /// Reports the poll as a `runtime::resource::poll_op` event (`op_name`, say
        /// `"poll"` or `"poll_elapsed"`, and `is_ready`) and leaves the spans.
        pub(crate) fn done(self, op_name: &'static str, ready: bool) {
            let Some((resource, async_op, poll)) = self.0 else {
                return;
            };
            tracing::trace!(
                target: "runtime::resource::poll_op",
                op_name = op_name,
                is_ready = ready,
            );
            drop(poll);
            drop(async_op);
            drop(resource);
        }
    }

    pin_project_lite::pin_project! {
        /// A future inside its resource's async-op spans (see [`Resource::async_op`]).
        pub(crate) struct AsyncOp<F> {
            #[pin]
            inner: F,
            op: Op,
            poll_op: &'static str,
        }
    }

    impl<F: Future> Future for AsyncOp<F> {
        type Output = F::Output;

        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<F::Output> {
            let this = self.project();
            let entered = this.op.enter();
            let poll = this.inner.poll(cx);
            entered.done(this.poll_op, poll.is_ready());
            poll
        }
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

    /// Without the `tracing` feature: nothing, and every method does nothing.
    #[derive(Debug, Clone)]
    pub(crate) struct Resource;

    impl Resource {
        #[inline(always)]
        pub(crate) const fn none() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn mutex() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn semaphore() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn rwlock() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn sleep() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn interval() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn oneshot() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn barrier() -> Resource {
            Resource
        }

        #[inline(always)]
        pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
            f()
        }

        #[inline(always)]
        pub(crate) fn op(&self, _source: &'static str) -> Op {
            Op
        }

        /// Without the `tracing` feature: `future` itself, so that a wait wrapped in an
        /// async op has no future layer around it.
        #[inline(always)]
        pub(crate) fn async_op<F>(
            &self,
            future: F,
            _source: &'static str,
            _poll_op: &'static str,
        ) -> F {
            future
        }
    }

    /// Without the `tracing` feature: nothing.
    #[derive(Debug)]
    pub(crate) struct Op;

    impl Op {
        #[inline(always)]
        pub(crate) fn enter(&self) -> OpPoll {
            OpPoll
        }
    }

    /// Without the `tracing` feature: nothing.
    pub(crate) struct OpPoll;

    impl OpPoll {
        #[inline(always)]
        pub(crate) fn done(self, _op_name: &'static str, _ready: bool) {}
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;

/// A `runtime::resource::state_update` event with the given fields inside `resource`'s
/// span, as Tokio's primitives emit (`locked = true`, `permits = n, permits.op = "add"`);
/// nothing if the span is disabled (no subscriber wants it: the fields are not even
/// evaluated), and nothing at all without the `tracing` feature.
macro_rules! resource_state {
    ($resource:expr, $($fields:tt)*) => {
        #[cfg(feature = "tracing")]
        {
            let span = $resource.span();
            if !span.is_disabled() {
                span.in_scope(|| {
                    tracing::trace!(target: "runtime::resource::state_update", $($fields)*)
                });
            }
        }
    };
}
pub(crate) use resource_state;

/// A `runtime::resource::async_op::state_update` event with the given fields, inside the
/// async op being polled (`arrived = true` in `Barrier::wait`); nothing at all without the
/// `tracing` feature.
macro_rules! async_op_state {
    ($($fields:tt)*) => {
        #[cfg(feature = "tracing")]
        tracing::trace!(target: "runtime::resource::async_op::state_update", $($fields)*);
    };
}
pub(crate) use async_op_state;
