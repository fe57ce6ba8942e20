use super::{sleep_until, Elapsed, Instant, Sleep};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `future` for at most `duration`: `Ok(output)` if it completes first, `Err(Elapsed)`
/// otherwise, in which case the future is dropped (cancelled) when the `Timeout` is.
///
/// The future is polled before the deadline is checked, so a future that is ready on its
/// first poll completes even with a zero duration.
///
/// # Panics
/// If called outside a zokio runtime context.
///
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     use std::time::Duration;
///     let never = std::future::pending::<()>();
///     let r = zokio::time::timeout(Duration::from_millis(1), never).await;
///     assert!(r.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout_at(Instant::now().far_add(duration), future)
}

/// As [`timeout`], with an absolute deadline.
///
/// # Panics
/// If called outside a zokio runtime context.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Unwraps the future, dropping the timer.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let had_budget = crate::coop::has_budget_remaining();
        if let Poll::Ready(v) = this.value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        let delay = Pin::new(this.delay);
        let poll_delay = |cx: &mut Context<'_>| match delay.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        };
        if had_budget && !crate::coop::has_budget_remaining() {
            // The wrapped future spent the budget (it is always ready, say): the deadline
            // is checked regardless, or it could never elapse (as Tokio does).
            crate::coop::unconstrained(|| poll_delay(cx))
        } else {
            poll_delay(cx)
        }
    }
}
