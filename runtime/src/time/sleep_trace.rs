//! The `tracing` instrumentation of [`Sleep`](super::Sleep) (Cargo feature `tracing`):
//! Tokio's timer resource, described in `util/trace.rs`, made of that module's resource and
//! async-op spans. Without the feature, [`SleepTrace`] is zero-sized and its methods do
//! nothing.

use super::Instant;
use crate::util::trace::{resource_state, Op, OpPoll, Resource};

/// The `tracing` spans of one [`Sleep`](crate::time::Sleep): its resource (`concrete_type =
/// "Sleep"`, `kind = "timer"`) and one async op, `Sleep::new_timeout`.
#[derive(Debug)]
pub(crate) struct SleepTrace {
    resource: Resource,
    op: Op,
}

impl SleepTrace {
    /// The spans of a sleep created here, armed until `deadline`.
    #[track_caller]
    #[inline(always)]
    pub(crate) fn new(deadline: Instant) -> SleepTrace {
        let resource = Resource::sleep();
        SleepTrace::reset_in(&resource, deadline);
        let op = resource.op("Sleep::new_timeout");
        SleepTrace { resource, op }
    }

    /// Enters the sleep's spans for one poll; [`OpPoll::done`] with `"poll_elapsed"`
    /// reports its result (`is_ready = true` is the timer firing).
    #[inline(always)]
    pub(crate) fn enter(&self) -> OpPoll {
        self.op.enter()
    }

    /// The sleep was reset to end at `deadline`.
    #[inline(always)]
    pub(crate) fn reset(&self, deadline: Instant) {
        SleepTrace::reset_in(&self.resource, deadline);
    }

    /// The `state_update` of a sleep armed until `deadline`: its duration from now, in
    /// whole milliseconds (Tokio's fields). Not computed at all without the feature.
    #[inline(always)]
    fn reset_in(resource: &Resource, deadline: Instant) {
        let _ = (resource, deadline);
        resource_state!(
            resource,
            duration = u64::try_from(
                deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis()
            )
            .unwrap_or(u64::MAX),
            duration.unit = "ms",
            duration.op = "override",
        );
    }
}
