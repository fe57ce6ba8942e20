//! Task notification without data: [`Notify`].
//!
//! One lock guards a stored permit and the queue of waiting [`Notified`] futures.
//! `notify_one` marks the oldest unmarked waiter and wakes it, or, with nobody waiting,
//! stores a permit that the next `notified().await` consumes at once: a notification sent
//! before the wait is never lost. `notify_waiters` marks every waiter queued *or created*
//! before the call (a generation counter read when the `Notified` is created) and stores no
//! permit.
//!
//! Cancellation: a `Notified` dropped after `notify_one` chose it hands the notification to
//! the next waiter, or back to the permit, so dropping a future never swallows a wake-up.

use crate::loom::{lock, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Notifies one task or all waiting tasks. See the module documentation.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// let notify = Arc::new(zokio::sync::Notify::new());
/// let n = notify.clone();
/// let waiter = zokio::spawn(async move { n.notified().await });
/// notify.notify_one(); // even if the waiter has not started waiting yet
/// waiter.await.unwrap();
/// # });
/// ```
pub struct Notify {
    state: Mutex<State>,
}

impl Default for Notify {
    fn default() -> Notify {
        Notify {
            state: Mutex::new(State::default()),
        }
    }
}

#[derive(Default)]
struct State {
    /// A `notify_one` with nobody waiting.
    permit: bool,
    /// Bumped by every `notify_waiters`.
    generation: u64,
    waiters: VecDeque<Waiter>,
    next_id: u64,
}

struct Waiter {
    id: u64,
    waker: Option<Waker>,
    marked: Option<Mark>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Chosen by `notify_one`: must be passed on if the waiter is dropped.
    One,
    /// Released by `notify_waiters`.
    All,
}

impl State {
    /// Marks the oldest unmarked waiter for `notify_one`, returning its waker; stores the
    /// permit if there is none.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiters.iter_mut().find(|w| w.marked.is_none()) {
            Some(w) => {
                w.marked = Some(Mark::One);
                w.waker.take()
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

/// The future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: u64,
    stage: Stage,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Init,
    Waiting(u64),
    Done,
}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify::default()
    }

    /// As [`new`](Self::new), in a `const` context (a `static`), as Tokio's. Not under
    /// loom, whose locks cannot be made in one.
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                generation: 0,
                waiters: VecDeque::new(),
                next_id: 0,
            }),
        }
    }

    /// Wakes the oldest waiting task; with none waiting, the next call to
    /// [`notified`](Self::notified) completes at once (at most one permit is stored).
    pub fn notify_one(&self) {
        let waker = lock(&self.state).notify_one();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now, including `Notified` futures created but not yet
    /// polled; stores no permit.
    pub fn notify_waiters(&self) {
        let wakers: Vec<Waker> = {
            let mut st = lock(&self.state);
            st.generation += 1;
            st.waiters
                .iter_mut()
                .filter(|w| w.marked.is_none())
                .filter_map(|w| {
                    w.marked = Some(Mark::All);
                    w.waker.take()
                })
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Waits for a notification. The returned future counts as waiting for
    /// [`notify_waiters`](Self::notify_waiters) from its creation, and for
    /// [`notify_one`](Self::notify_one) from its first poll.
    ///
    /// Cancel-safe: dropping it after `notify_one` picked it passes the notification on.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: lock(&self.state).generation,
            stage: Stage::Init,
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut st = lock(&this.notify.state);
        match this.stage {
            Stage::Done => Poll::Ready(()),
            Stage::Init => {
                if st.generation != this.generation {
                    this.stage = Stage::Done;
                    return Poll::Ready(());
                }
                if std::mem::take(&mut st.permit) {
                    this.stage = Stage::Done;
                    return Poll::Ready(());
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push_back(Waiter {
                    id,
                    waker: Some(cx.waker().clone()),
                    marked: None,
                });
                this.stage = Stage::Waiting(id);
                Poll::Pending
            }
            Stage::Waiting(id) => {
                let Some(pos) = st.waiters.iter().position(|w| w.id == id) else {
                    unreachable!("a waiting Notified is always queued")
                };
                if st.waiters[pos].marked.is_some() {
                    st.waiters.remove(pos);
                    this.stage = Stage::Done;
                    return Poll::Ready(());
                }
                let w = &mut st.waiters[pos];
                match &mut w.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Stage::Waiting(id) = self.stage else {
            return;
        };
        let waker = {
            let mut st = lock(&self.notify.state);
            let Some(pos) = st.waiters.iter().position(|w| w.id == id) else {
                return;
            };
            let gone = st.waiters.remove(pos).expect("position is in range");
            if gone.marked == Some(Mark::One) {
                // Chosen but never observed: pass the notification on.
                st.notify_one()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &st.permit)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::Arc;
    use loom::future::block_on;
    use loom::thread;

    /// `notify_one` racing with the start of a wait is never lost, whichever comes first.
    #[test]
    fn loom_notify_one_before_or_during_wait() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let n = notify.clone();
            let t = thread::spawn(move || n.notify_one());
            block_on(notify.notified());
            t.join().unwrap();
        });
    }
}
