//! The driver: what a worker does when it has nothing to run.
//!
//! This is the seam between the schedulers and the outside world. A scheduler only ever
//! calls [`Driver::park`] / [`Driver::park_timeout`] on its own thread and
//! [`Unparker::unpark`] from any thread; it never knows what parking means underneath.
//!
//! Today parking means: fire the due timers of this worker's timer-wheel shard (see
//! `time/driver.rs`); if none fired, sleep on a futex-backed thread parker (`park.rs`) until
//! another thread unparks it or the shard's earliest timer is due, then fire timers again.
//! Timers fire on the worker's own thread while its core is parked, so the woken tasks go
//! to its local queue. The I/O driver (io_uring, with an epoll fallback) will replace the
//! thread parker without touching the schedulers: parking becomes "wait for completions or
//! the earliest timer", and unparking becomes a write to the ring's eventfd.

mod park;

use crate::time::TimeDriver;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

pub(crate) use park::{ParkThread, UnparkThread};

/// One per worker (and one for the current-thread scheduler); used only by its thread.
#[derive(Debug)]
pub(crate) struct Driver {
    park: ParkThread,
    time: Arc<TimeDriver>,
    /// This driver's shard of `time`.
    shard: usize,
    /// Scratch space for fired timers' wakers.
    fired: Vec<Waker>,
}

/// What tasks and futures of a runtime reach the drivers through.
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub(crate) time: Arc<TimeDriver>,
}

/// Wakes the driver's thread from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Unparker {
    inner: UnparkThread,
}

/// Builds `n` drivers (one per worker, in worker order) sharing one time driver.
pub(crate) fn build(n: usize) -> (Vec<Driver>, Handle) {
    let parks: Vec<ParkThread> = (0..n).map(|_| ParkThread::new()).collect();
    let unparkers = parks
        .iter()
        .map(|p| Unparker {
            inner: p.unparker(),
        })
        .collect();
    let time = Arc::new(TimeDriver::new(unparkers));
    let drivers = parks
        .into_iter()
        .enumerate()
        .map(|(shard, park)| Driver {
            park,
            time: time.clone(),
            shard,
            fired: Vec::new(),
        })
        .collect();
    (drivers, Handle { time })
}

impl Driver {
    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.park.unparker(),
        }
    }

    /// Blocks until unparked or a timer of this driver's shard fires. Returns at once if an
    /// unpark arrived since the last park or a timer was already due.
    pub(crate) fn park(&mut self) {
        self.park_internal(None);
    }

    /// As [`park`](Self::park), returning after `timeout` at the latest. A zero timeout
    /// only fires due timers and consumes a pending unpark (and, with I/O, will poll for
    /// ready events).
    pub(crate) fn park_timeout(&mut self, timeout: Duration) {
        self.park_internal(Some(timeout));
    }

    fn park_internal(&mut self, limit: Option<Duration>) {
        if self.time.process(self.shard, &mut self.fired) > 0 || limit == Some(Duration::ZERO) {
            // Tasks were woken (or the caller only wanted a poll): do not sleep.
            self.park.park_timeout(Duration::ZERO);
            return;
        }
        match self.time.before_park(self.shard, limit) {
            None => self.park.park(),
            Some(timeout) => self.park.park_timeout(timeout),
        }
        self.time.after_park(self.shard);
        self.time.process(self.shard, &mut self.fired);
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }
}

/// A parker and an unparker for it, for tests of code that unparks a driver.
#[cfg(all(test, not(loom)))]
pub(crate) fn park_thread_for_tests() -> (ParkThread, Unparker) {
    let park = ParkThread::new();
    let unpark = Unparker {
        inner: park.unparker(),
    };
    (park, unpark)
}
