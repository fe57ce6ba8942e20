//! Counts live OS threads of one kind (workers, blocking threads) so that shutdown can wait
//! for them with a deadline; `std::thread::JoinHandle` has no timed join.
//!
//! A member thread that waits on its own group (a task, or a blocking closure, dropping the
//! last reference to its runtime) waits for the *other* members only: waiting for itself
//! would never end.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

thread_local! {
    /// The group this thread is a member of, if any (compared by address only).
    static MEMBER_OF: Cell<*const ThreadGroup> = const { Cell::new(std::ptr::null()) };
}

/// A count of running threads plus a condition variable signalled when one exits.
#[derive(Debug, Default)]
pub(crate) struct ThreadGroup {
    live: Mutex<usize>,
    exited: Condvar,
}

/// Held by a running thread; dropping it (also on unwind) marks the thread as exited.
#[derive(Debug)]
pub(crate) struct Member {
    group: Arc<ThreadGroup>,
}

impl ThreadGroup {
    /// Counts one more thread; call before spawning it so a concurrent `wait` sees it.
    pub(crate) fn add(&self) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    /// Returns the guard that a thread counted by [`add`](Self::add) holds while it runs.
    pub(crate) fn member(self: &Arc<Self>) -> Member {
        MEMBER_OF.with(|m| m.set(Arc::as_ptr(self)));
        Member {
            group: Arc::clone(self),
        }
    }

    /// Waits until every counted thread other than the caller has exited, or until
    /// `timeout` (None: forever). Returns `true` if they all exited.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> bool {
        // A timeout too long to add to now (`Duration::MAX`) is no deadline at all.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let own = usize::from(std::ptr::eq(MEMBER_OF.with(Cell::get), self));
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        while *live > own {
            live = match deadline {
                None => self.exited.wait(live).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.exited
                        .wait_timeout(live, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        true
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = MEMBER_OF.try_with(|m| m.set(std::ptr::null()));
        let mut live = self.group.live.lock().unwrap_or_else(|e| e.into_inner());
        *live -= 1;
        self.group.exited.notify_all();
    }
}
