//! A thread parker: the classic three-state protocol (EMPTY, PARKED, NOTIFIED) over a mutex
//! and condition variable, as in `std::thread::park` and Tokio's `runtime/park.rs`.
//!
//! `unpark` swaps the state to NOTIFIED; only if the parker was PARKED does it take the lock
//! and signal, so unparking an awake thread costs one atomic swap. `park` consumes a pending
//! NOTIFIED without sleeping, so an unpark that races ahead of the park is never lost.

use crate::loom::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock_for_condvar, Arc, Condvar, CondvarMutex};
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

#[derive(Debug)]
pub(crate) struct ParkThread {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
pub(crate) struct UnparkThread {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: AtomicUsize,
    mutex: CondvarMutex<()>,
    condvar: Condvar,
}

impl ParkThread {
    pub(crate) fn new() -> ParkThread {
        ParkThread {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                mutex: CondvarMutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }

    pub(crate) fn unparker(&self) -> UnparkThread {
        UnparkThread {
            inner: self.inner.clone(),
        }
    }

    pub(crate) fn park(&mut self) {
        self.inner.park(None);
    }

    /// Used by the workers' driver under loom (outside loom they park in epoll).
    #[cfg_attr(not(loom), allow(dead_code))]
    pub(crate) fn park_timeout(&mut self, timeout: Duration) {
        self.inner.park(Some(timeout));
    }
}

impl ParkThread {
    /// Consumes a pending unpark without sleeping; true if there was one.
    #[cfg(all(loom, feature = "test-util"))]
    pub(crate) fn poll_woke(&mut self) -> bool {
        self.inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
    }
}

impl UnparkThread {
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }
}

impl Inner {
    fn park(&self, timeout: Option<Duration>) {
        // Fast path: consume a pending notification. SeqCst orders this with the unparker's
        // swap and with the scheduler's own SeqCst checks before parking.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = lock_for_condvar(&self.mutex);
        match self.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // Notified between the fast path and taking the lock.
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(timeout) => {
                    let (_guard, _timed_out) = wait_timeout(&self.condvar, guard, timeout);
                    // Timed out or notified: either way we are done; reset the state.
                    self.state.swap(EMPTY, SeqCst);
                    return;
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wake-up: wait again.
        }
    }

    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Take the lock so the notification cannot fall between the parker's state
                // change to PARKED and its wait on the condvar.
                drop(lock_for_condvar(&self.mutex));
                self.condvar.notify_one();
            }
            actual => panic!("inconsistent park state: {actual}"),
        }
    }
}

#[cfg(not(loom))]
fn wait_timeout<'a>(
    condvar: &Condvar,
    guard: crate::loom::CondvarMutexGuard<'a, ()>,
    timeout: Duration,
) -> (crate::loom::CondvarMutexGuard<'a, ()>, bool) {
    let (guard, result) = condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(|e| e.into_inner());
    (guard, result.timed_out())
}

#[cfg(loom)]
fn wait_timeout<'a>(
    _condvar: &Condvar,
    guard: crate::loom::CondvarMutexGuard<'a, ()>,
    _timeout: Duration,
) -> (crate::loom::CondvarMutexGuard<'a, ()>, bool) {
    // Loom has no time: a timed park returns as if it timed out at once.
    (guard, true)
}
