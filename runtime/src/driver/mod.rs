//! The driver: what a worker does when it has nothing to run.
//!
//! This is the seam between the schedulers and the outside world. A scheduler only ever
//! calls [`Driver::park`] / [`Driver::park_timeout`] on its own thread and
//! [`Unparker::unpark`] from any thread; it never knows what parking means underneath.
//!
//! Today the driver is a thread parker (`park.rs`): a worker with no tasks sleeps on a
//! futex-backed condition variable until another thread unparks it. The I/O driver
//! (io_uring, with an epoll fallback) and the timer wheel replace the inside of `Driver`
//! without touching the schedulers: parking becomes "wait for completions or the earliest
//! timer", and unparking becomes a write to the ring's eventfd.

mod park;

use std::time::Duration;

pub(crate) use park::{ParkThread, UnparkThread};

/// One per worker (and one for the current-thread scheduler); used only by its thread.
#[derive(Debug)]
pub(crate) struct Driver {
    park: ParkThread,
}

/// Wakes the driver's thread from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Unparker {
    inner: UnparkThread,
}

impl Driver {
    pub(crate) fn new() -> Driver {
        Driver {
            park: ParkThread::new(),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.park.unparker(),
        }
    }

    /// Blocks until unparked. Returns at once if an unpark arrived since the last park.
    pub(crate) fn park(&mut self) {
        self.park.park();
    }

    /// As [`park`](Self::park), returning after `timeout` at the latest. A zero timeout
    /// only consumes a pending unpark (and, with I/O, polls for ready events).
    pub(crate) fn park_timeout(&mut self, timeout: Duration) {
        self.park.park_timeout(timeout);
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }
}
