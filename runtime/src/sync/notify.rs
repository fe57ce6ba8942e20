//! Task notification without data: [`Notify`].
//!
//! One lock guards a stored permit and the queue of waiting [`Notified`] futures.
//! `notify_one` marks the oldest unmarked waiter (`notify_last` the newest) and wakes it,
//! or, with nobody waiting, stores a permit that the next `notified().await` consumes at
//! once: a notification sent before the wait is never lost. `notify_waiters` marks every waiter queued *or created*
//! before the call (a generation counter read when the `Notified` is created) and stores no
//! permit.
//!
//! Cancellation: a `Notified` dropped after `notify_one` chose it hands the notification to
//! the next waiter, or back to the permit, so dropping a future never swallows a wake-up.

use crate::loom::{lock, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
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

// The state changes only under its lock, in steps that cannot panic part-way, and no
// user code runs under it (wakers are woken and dropped after unlocking): a caught panic
// cannot leave a `Notify` half-updated. As Tokio's.
impl std::panic::RefUnwindSafe for Notify {}
impl std::panic::UnwindSafe for Notify {}

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
    /// Chosen by `notify_one` (oldest first) or `notify_last` (newest first): must be
    /// passed on, in the same order, if the waiter is dropped.
    One(Order),
    /// Released by `notify_waiters`.
    All,
}

/// Which waiter a single notification picks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The oldest (`notify_one`).
    Fifo,
    /// The newest (`notify_last`).
    Lifo,
}

impl State {
    /// Marks the oldest (`Fifo`) or newest (`Lifo`) unmarked waiter, returning its waker;
    /// stores the permit if there is none.
    fn notify(&mut self, order: Order) -> Option<Waker> {
        let chosen = match order {
            Order::Fifo => self.waiters.iter_mut().find(|w| w.marked.is_none()),
            Order::Lifo => self.waiters.iter_mut().rev().find(|w| w.marked.is_none()),
        };
        match chosen {
            Some(w) => {
                w.marked = Some(Mark::One(order));
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
pub struct Notified<'a>(Waiting<&'a Notify>);

/// The future returned by [`Notify::notified_owned`]: as [`Notified`], holding an `Arc`
/// of the `Notify` instead of a borrow, so it can be stored or moved into a task.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct OwnedNotified(Waiting<Arc<Notify>>);

/// The state of one wait, on a borrowed or an owned `Notify`.
struct Waiting<N: Deref<Target = Notify>> {
    notify: N,
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
        self.notify(Order::Fifo);
    }

    /// As [`notify_one`](Self::notify_one), but wakes the task that started waiting last.
    pub fn notify_last(&self) {
        self.notify(Order::Lifo);
    }

    fn notify(&self, order: Order) {
        let waker = lock(&self.state).notify(order);
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
        Notified(Waiting::new(self))
    }

    /// As [`notified`](Self::notified), owning an `Arc` of this `Notify` (Tokio's
    /// `notified_owned`).
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        OwnedNotified(Waiting::new(self))
    }
}

impl Notified<'_> {
    /// Starts waiting without polling: from now on this future counts as waiting for
    /// [`notify_one`](Notify::notify_one) (a stored permit is consumed at once). Returns
    /// whether it has been notified already; a later poll then completes at once. No
    /// waker is registered until the future is polled.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        // `Notified` is `Unpin`: its fields are plain data.
        self.get_mut().0.poll_notified(None).is_ready()
    }
}

impl OwnedNotified {
    /// As [`Notified::enable`].
    pub fn enable(self: Pin<&mut Self>) -> bool {
        // `OwnedNotified` is `Unpin`: its fields are plain data and an `Arc`.
        self.get_mut().0.poll_notified(None).is_ready()
    }
}

impl<N: Deref<Target = Notify>> Waiting<N> {
    fn new(notify: N) -> Waiting<N> {
        let generation = lock(&notify.state).generation;
        Waiting {
            notify,
            generation,
            stage: Stage::Init,
        }
    }

    /// Polls the notification, registering `waker` if given.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let mut st = lock(&self.notify.state);
        match self.stage {
            Stage::Done => Poll::Ready(()),
            Stage::Init => {
                if st.generation != self.generation {
                    self.stage = Stage::Done;
                    return Poll::Ready(());
                }
                if std::mem::take(&mut st.permit) {
                    self.stage = Stage::Done;
                    return Poll::Ready(());
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push_back(Waiter {
                    id,
                    waker: waker.cloned(),
                    marked: None,
                });
                self.stage = Stage::Waiting(id);
                Poll::Pending
            }
            Stage::Waiting(id) => {
                let Some(pos) = st.waiters.iter().position(|w| w.id == id) else {
                    unreachable!("a waiting Notified is always queued")
                };
                if st.waiters[pos].marked.is_some() {
                    st.waiters.remove(pos);
                    self.stage = Stage::Done;
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    match &mut st.waiters[pos].waker {
                        Some(old) if old.will_wake(waker) => {}
                        slot => *slot = Some(waker.clone()),
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_notified(Some(cx.waker()))
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_notified(Some(cx.waker()))
    }
}

impl<N: Deref<Target = Notify>> Drop for Waiting<N> {
    fn drop(&mut self) {
        let Stage::Waiting(id) = self.stage else {
            return;
        };
        // The waiter (and its waker) is dropped after unlocking: dropping the last
        // reference to a waker may run code that uses this `Notify`.
        let (waker, _gone) = {
            let mut st = lock(&self.notify.state);
            let Some(pos) = st.waiters.iter().position(|w| w.id == id) else {
                return;
            };
            let gone = st.waiters.remove(pos).expect("position is in range");
            let next = match gone.marked {
                // Chosen but never observed: pass the notification on, in the same order.
                Some(Mark::One(order)) => st.notify(order),
                _ => None,
            };
            (next, gone)
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

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified").finish_non_exhaustive()
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
