use super::driver::{TimeDriver, TimerRef};
use super::Instant;
use crate::coop;
use crate::runtime::context;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed. Equivalent to `sleep_until(Instant::now() + duration)`;
/// a duration too large to add is treated as "about 30 years".
///
/// The sleep never completes early. It completes as soon as the worker that registered it
/// notices the deadline: on an idle worker that parks until the deadline, typically tens of
/// microseconds late (zbench's `timers.sleep_precision` measures it); on a worker busy with
/// other tasks, at its next maintenance tick (every `event_interval` task polls).
///
/// # Panics
/// If called outside a zokio runtime context.
///
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let start = zokio::time::Instant::now();
///     zokio::time::sleep(std::time::Duration::from_millis(1)).await;
///     assert!(start.elapsed() >= std::time::Duration::from_millis(1));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().far_add(duration))
}

/// Waits until `deadline`. Completes at once (on first poll) if it has passed.
///
/// # Panics
/// If called outside a zokio runtime context.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// The timer is registered on first poll, in the timer wheel of the worker that polls it,
/// and unregistered in O(1) when the `Sleep` is dropped or completes. `Sleep` is `Unpin`;
/// [`reset`](Sleep::reset) takes `Pin<&mut Self>` so code written for Tokio compiles
/// unchanged.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    driver: Arc<TimeDriver>,
    deadline: Instant,
    timer: Option<TimerRef>,
    elapsed: bool,
    /// Its `tracing` resource spans (`util/trace.rs`); nothing without the feature.
    trace: super::sleep_trace::SleepTrace,
}

impl Sleep {
    #[track_caller]
    pub(crate) fn new(deadline: Instant) -> Sleep {
        let driver = match context::with_handle(|h| h.driver().time.clone()) {
            Ok(driver) => driver,
            Err(e) => panic!("{e}: timers need a zokio runtime"),
        };
        Sleep {
            driver,
            deadline,
            timer: None,
            elapsed: false,
            trace: super::sleep_trace::SleepTrace::new(deadline),
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed (been polled to `Ready`, or found due).
    pub fn is_elapsed(&self) -> bool {
        self.elapsed
    }

    /// Moves the deadline to `deadline`, whether or not the sleep had completed; the next
    /// poll waits for the new deadline.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.trace.reset(deadline);
        this.deadline = deadline;
        this.elapsed = false;
        if let Some(timer) = this.timer {
            let when = this.driver.deadline_tick(deadline.into_std());
            // If `when` is already due the timer is left fired and the next poll completes.
            this.driver.reset(timer, when);
        }
    }

    fn finish(&mut self) {
        if let Some(timer) = self.timer.take() {
            self.driver.cancel(timer);
        }
        self.elapsed = true;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let traced = this.trace.enter();
        let result = this.poll_elapsed(cx);
        traced.done("poll_elapsed", result.is_ready());
        result
    }
}

impl Sleep {
    #[inline(always)]
    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        if this.elapsed {
            return Poll::Ready(());
        }
        let coop = ready!(coop::poll_proceed(cx));
        assert!(
            !this.driver.is_shutdown(),
            "the zokio runtime of this timer has shut down"
        );
        let fired = match this.timer {
            Some(timer) => {
                let fired = this.driver.poll_release(timer, cx.waker());
                if fired {
                    this.timer = None;
                }
                fired
            }
            None if this.deadline <= Instant::now() => true,
            None => {
                let own = context::with_scheduler(|s| s.and_then(|s| s.timer_shard(&this.driver)));
                let shard = this.driver.shard_for_thread(own);
                let when = this.driver.deadline_tick(this.deadline.into_std());
                match this.driver.register(shard, when, cx.waker().clone()) {
                    Some(timer) => {
                        this.timer = Some(timer);
                        false
                    }
                    None => true,
                }
            }
        };
        if fired {
            this.finish();
            coop.made_progress();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            self.driver.cancel(timer);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.timer.is_some())
            .field("elapsed", &self.elapsed)
            .finish()
    }
}
