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
//! - `sync::Mutex`, `sync::RwLock` and `sync::Semaphore` are Tokio's sync resources: a
//!   `runtime.resource` span (`concrete_type` `Mutex`, `RwLock` or `Semaphore`, `kind =
//!   "Sync"`, the creating call site; a lock's semaphore is its child),
//!   `runtime::resource::state_update` events (`locked = true/false`; `max_readers`,
//!   `write_locked` and `current_readers` with their `.op`; `permits = n` with
//!   `permits.op` `override`, `add` or `sub`), and an async op per wait (`source`
//!   `Mutex::lock`, `RwLock::read`, `RwLock::write` or `Semaphore::acquire`) whose polls
//!   are `runtime::resource::poll_op` events (`op_name = "poll"`, `is_ready`). A primitive
//!   made by `const_new` has no span, as in Tokio.
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

    /// A synchronisation primitive's `runtime.resource` span (Tokio's: `kind = "Sync"`),
    /// for its state updates ([`resource_state!`]) and async ops ([`Resource::async_op`]).
    #[derive(Debug, Clone)]
    pub(crate) struct Resource(tracing::Span);

    macro_rules! resource_span {
        ($target:literal, $concrete:literal) => {{
            let location = std::panic::Location::caller();
            Resource(tracing::trace_span!(
                target: $target,
                parent: None,
                "runtime.resource",
                concrete_type = $concrete,
                kind = "Sync",
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
            resource_span!("tokio::sync::mutex", "Mutex")
        }

        /// A `Semaphore`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn semaphore() -> Resource {
            resource_span!("tokio::sync::semaphore", "Semaphore")
        }

        /// An `RwLock`'s span, at the caller's location.
        #[track_caller]
        pub(crate) fn rwlock() -> Resource {
            resource_span!("tokio::sync::rwlock", "RwLock")
        }

        /// Runs `f` inside the span (a primitive made inside another is its child).
        pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
            self.0.in_scope(f)
        }

        /// Wraps `future` in an async op of this resource (`runtime.resource.async_op`
        /// with `source`, and its `runtime.resource.async_op.poll` span); each poll enters
        /// the three spans and emits a `runtime::resource::poll_op` event (`op_name =
        /// "poll"`, `is_ready`), as Tokio's `trace::async_op` does.
        pub(crate) fn async_op<F: Future>(&self, future: F, source: &'static str) -> AsyncOp<F> {
            let (async_op, async_op_poll) = self.0.in_scope(|| {
                let op = tracing::trace_span!(
                    "runtime.resource.async_op",
                    source = source,
                    inherits_child_attrs = false,
                );
                let poll = op.in_scope(|| tracing::trace_span!("runtime.resource.async_op.poll"));
                (op, poll)
            });
            AsyncOp {
                inner: future,
                resource: self.0.clone(),
                async_op,
                async_op_poll,
            }
        }

        /// The span, for [`resource_state!`].
        pub(crate) fn span(&self) -> &tracing::Span {
            &self.0
        }
    }

    pin_project_lite::pin_project! {
        /// A future inside its resource's async-op spans (see [`Resource::async_op`]).
        pub(crate) struct AsyncOp<F> {
            #[pin]
            inner: F,
            resource: tracing::Span,
            async_op: tracing::Span,
            async_op_poll: tracing::Span,
        }
    }

    impl<F: Future> Future for AsyncOp<F> {
        type Output = F::Output;

        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<F::Output> {
            let this = self.project();
            let _resource = this.resource.enter();
            let _op = this.async_op.enter();
            let _poll = this.async_op_poll.enter();
            let poll = this.inner.poll(cx);
            tracing::trace!(
                target: "runtime::resource::poll_op",
                op_name = "poll",
                is_ready = poll.is_ready(),
            );
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
    #[derive(Debug, Clone, Copy)]
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
        pub(crate) fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
            f()
        }
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;

/// A `runtime::resource::state_update` event with the given fields inside `resource`'s
/// span, as Tokio's primitives emit (`locked = true`, `permits = n, permits.op = "add"`);
/// nothing at all without the `tracing` feature.
macro_rules! resource_state {
    ($resource:expr, $($fields:tt)*) => {
        #[cfg(feature = "tracing")]
        $resource.span().in_scope(|| {
            tracing::trace!(target: "runtime::resource::state_update", $($fields)*)
        });
    };
}
pub(crate) use resource_state;
