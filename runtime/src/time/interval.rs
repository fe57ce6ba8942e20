use super::{sleep_until, Instant, Sleep};
use crate::util::trace::Resource;
use std::future::{poll_fn, Future as _};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Ticks every `period`, the first tick completing at once.
///
/// # Panics
/// If `period` is zero, or outside a zokio runtime context.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// With the `tracing` feature the interval is a `tracing` resource as Tokio's is (a
/// `runtime.resource` span, `concrete_type = "Interval"`, `kind = "timer"`, the caller's
/// location) whose [`tick`](Interval::tick)s are async ops (`Interval::tick`, polls
/// `poll_tick`); its inner sleep is a `Sleep` resource of its own, as in Tokio.
///
/// # Panics
/// If `period` is zero, or outside a zokio runtime context.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero");
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
        resource: Resource::interval(),
    }
}

/// What an [`Interval`] does after a tick was handed out late.
///
/// A tick counts as missed when it is handed out at or after the deadline of the tick that
/// follows it (for example the task was busy, or the worker stalled, for a whole period).
/// Lateness of less than a period is absorbed: the next deadline stays on schedule.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Hand out the missed ticks at once, one per call, until back on the original schedule
    /// (`start + k * period`). The default, as in Tokio.
    #[default]
    Burst,
    /// Restart the schedule from the late tick: the next one is `period` after it was handed
    /// out.
    Delay,
    /// Drop the missed ticks: the next one is the first tick of the original schedule that
    /// is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick due at `deadline` was handed out at `now`.
    fn next(self, deadline: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => deadline.far_add(period),
            MissedTickBehavior::Delay => now.far_add(period),
            MissedTickBehavior::Skip => {
                let late = now.duration_since(deadline).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, which fits in a u64 of nanoseconds for any
                // period under 584 years.
                let back = Duration::from_nanos(u64::try_from(into_period).unwrap_or(u64::MAX));
                now.far_add(period.saturating_sub(back))
            }
        }
    }
}

/// A stream of ticks `period` apart, created by [`interval`] or [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
    /// Its `tracing` resource (`util/trace.rs`); nothing without the feature.
    resource: Resource,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant (not the time it was
    /// handed out). Cancel-safe: dropping the future loses no tick.
    pub async fn tick(&mut self) -> Instant {
        // A clone: the wait borrows the whole interval.
        let resource = self.resource.clone();
        let tick = poll_fn(|cx| self.poll_tick(cx));
        resource.async_op(tick, "Interval::tick", "poll_tick").await
    }

    /// Polls for the next tick; on `Pending`, the waker of `cx` is woken when it is due.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.delay).poll(cx));
        let deadline = self.delay.deadline();
        let now = Instant::now();
        let on_schedule = deadline.far_add(self.period);
        let next = if now >= on_schedule {
            self.missed_tick_behavior.next(deadline, now, self.period)
        } else {
            on_schedule
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(deadline)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        Pin::new(&mut self.delay).reset(Instant::now().far_add(self.period));
    }

    /// Restarts the schedule: the next tick completes at once.
    pub fn reset_immediately(&mut self) {
        Pin::new(&mut self.delay).reset(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        Pin::new(&mut self.delay).reset(Instant::now().far_add(after));
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The missed-tick behaviour (default [`MissedTickBehavior::Burst`]).
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the missed-tick behaviour.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
