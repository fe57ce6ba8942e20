//! The `tracing` instrumentation of [`Sleep`](super::Sleep) (Cargo feature `tracing`):
//! Tokio's timer resource, described in `util/trace.rs`. Without the feature,
//! [`SleepTrace`] is zero-sized and its methods do nothing.

#[cfg(feature = "tracing")]
mod on {
    use super::super::Instant;

    /// The `tracing` spans of one [`Sleep`](crate::time::Sleep) (see the module docs).
    #[derive(Debug)]
    pub(crate) struct SleepTrace {
        resource: tracing::Span,
        async_op: tracing::Span,
        async_op_poll: tracing::Span,
    }

    impl SleepTrace {
        /// The spans of a sleep created here, armed until `deadline`.
        #[track_caller]
        pub(crate) fn new(deadline: Instant) -> SleepTrace {
            let duration = deadline.saturating_duration_since(Instant::now());
            let location = std::panic::Location::caller();
            let resource = tracing::trace_span!(
                target: "tokio::time::sleep",
                parent: None,
                "runtime.resource",
                concrete_type = "Sleep",
                kind = "timer",
                loc.file = location.file(),
                loc.line = location.line(),
                loc.col = location.column(),
            );
            let async_op = resource.in_scope(|| {
                state_update(duration);
                tracing::trace_span!(
                    target: "tokio::time::sleep",
                    "runtime.resource.async_op",
                    source = "Sleep::new_timeout",
                )
            });
            let async_op_poll = async_op.in_scope(|| {
                tracing::trace_span!(
                    target: "tokio::time::sleep",
                    "runtime.resource.async_op.poll",
                )
            });
            SleepTrace {
                resource,
                async_op,
                async_op_poll,
            }
        }

        /// Enters the sleep's spans for one poll; [`SleepPoll::done`] reports its result.
        pub(crate) fn enter(&self) -> SleepPoll {
            SleepPoll(
                self.resource.clone().entered(),
                self.async_op.clone().entered(),
                self.async_op_poll.clone().entered(),
            )
        }

        /// The sleep was reset to end at `deadline`.
        pub(crate) fn reset(&self, deadline: Instant) {
            let duration = deadline.saturating_duration_since(Instant::now());
            self.resource.in_scope(|| state_update(duration));
        }
    }

    /// One poll of a sleep, inside its spans (innermost last, exited in reverse).
    pub(crate) struct SleepPoll(
        tracing::span::EnteredSpan,
        tracing::span::EnteredSpan,
        tracing::span::EnteredSpan,
    );

    impl SleepPoll {
        /// Reports the poll's result (`ready`: the timer fired) and leaves the spans.
        pub(crate) fn done(self, ready: bool) {
            tracing::trace!(
                target: "runtime::resource::poll_op",
                op_name = "poll_elapsed",
                is_ready = ready,
            );
            let SleepPoll(resource, async_op, poll) = self;
            drop(poll);
            drop(async_op);
            drop(resource);
        }
    }

    fn state_update(duration: std::time::Duration) {
        tracing::trace!(
            target: "runtime::resource::state_update",
            duration = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            duration.unit = "ms",
            duration.op = "override",
        );
    }
}

#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
mod off {
    use super::super::Instant;

    /// Without the `tracing` feature: nothing, and every method does nothing.
    #[derive(Debug)]
    pub(crate) struct SleepTrace;

    impl SleepTrace {
        #[inline(always)]
        pub(crate) fn new(_deadline: Instant) -> SleepTrace {
            SleepTrace
        }

        #[inline(always)]
        pub(crate) fn enter(&self) -> SleepPoll {
            SleepPoll
        }

        #[inline(always)]
        pub(crate) fn reset(&self, _deadline: Instant) {}
    }

    /// Without the `tracing` feature: nothing.
    pub(crate) struct SleepPoll;

    impl SleepPoll {
        #[inline(always)]
        pub(crate) fn done(self, _ready: bool) {}
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
