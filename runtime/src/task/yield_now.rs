use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields execution back to the scheduler: the task is re-queued behind the tasks that are
/// already runnable on its worker (never into the LIFO slot), then resumed.
///
/// It works by waking the task while it runs: the scheduler notices the wake when the poll
/// returns and re-schedules it exactly once, at the back of the queue.
pub async fn yield_now() {
    struct YieldNow {
        yielded: bool,
    }

    impl Future for YieldNow {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.yielded {
                return Poll::Ready(());
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    YieldNow { yielded: false }.await
}

/// Spends one unit of the task's cooperative budget, yielding to the scheduler (as
/// [`yield_now`] does) only when the budget is spent: a long computation that awaits
/// nothing else calls it in its loop to stay preemptible, as with Tokio's function of the
/// same name. The budget (128 units, renewed at every poll of the task) is what zokio's
/// channels, sockets, timers and `JoinHandle`s spend too.
pub async fn consume_budget() {
    std::future::poll_fn(|cx| {
        let unit = std::task::ready!(crate::coop::poll_proceed(cx));
        unit.made_progress();
        Poll::Ready(())
    })
    .await
}

pin_project_lite::pin_project! {
    /// The future returned by [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

/// Runs `inner` outside the cooperative budget: zokio's channels, sockets, timers and
/// `JoinHandle`s polled inside it never return `Pending` to make the task yield, as with
/// Tokio's function of the same name. A task that loops on always-ready resources inside
/// it can then hold its worker, and the tasks behind it, indefinitely; use it only around
/// work that is bounded.
pub fn unconstrained<F: Future>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

pin_project_lite::pin_project! {
    /// The future returned by [`cooperative`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Coop<F> {
        #[pin]
        inner: F,
    }
}

/// Makes `inner` spend the task's cooperative budget as zokio's own leaf futures do: each
/// poll costs one unit, given back if `inner` is not ready; with the budget spent, `inner`
/// is not polled and the task yields (it is woken to run again after the others). As
/// Tokio's function of the same name: for a future of another library that may be ready
/// on every poll (a channel that is never empty, say).
pub fn cooperative<F: Future>(inner: F) -> Coop<F> {
    Coop { inner }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        crate::coop::poll_budgeted(cx, |cx| inner.poll(cx))
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        crate::coop::unconstrained(|| inner.poll(cx))
    }
}
