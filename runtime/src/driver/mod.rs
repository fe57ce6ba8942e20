//! The driver: what a worker does when it has nothing to run.
//!
//! This is the seam between the schedulers and the outside world. A scheduler only ever
//! calls [`Driver::park`] / [`Driver::park_timeout`] on its own thread and
//! [`Unparker::unpark`] from any thread; it never knows what parking means underneath.
//!
//! Parking means: fire the due timers of this worker's timer-wheel shard (see
//! `time/driver.rs`); if none fired, wait until a socket event, an unpark from another
//! thread or the shard's earliest timer (nanosecond timeouts), then fire timers again. A
//! worker with sockets waits in its epoll set (`io/`, `epoll_pwait2`, woken by an
//! `eventfd` write); one without waits on a condition variable. Timers and I/O events are
//! dispatched on the worker's own thread while its core is parked, so the woken tasks go to
//! its local queue. Under loom (no syscalls) the worker parks on the futex-backed thread
//! parker of `park.rs` instead, which the loom models check. The io_uring driver will sit
//! beside epoll behind this same seam (see `io/mod.rs`).

#[cfg(not(loom))]
pub(crate) mod io;
mod park;

use crate::time::TimeDriver;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

pub(crate) use park::{ParkThread, UnparkThread};

#[cfg(loom)]
type WorkerPark = ParkThread;
#[cfg(loom)]
type WorkerUnpark = UnparkThread;
#[cfg(not(loom))]
type WorkerPark = io::IoPark;
#[cfg(not(loom))]
type WorkerUnpark = io::IoUnpark;

/// One per worker (and one for the current-thread scheduler); used only by its thread.
#[derive(Debug)]
pub(crate) struct Driver {
    park: WorkerPark,
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
    /// The runtime's epoll sets, one per worker.
    #[cfg(not(loom))]
    pub(crate) io: Arc<io::IoHandle>,
}

impl Handle {
    /// Stops the drivers: pending timers and I/O waiters are woken to see the shutdown.
    pub(crate) fn shutdown(&self) {
        self.time.shutdown();
        #[cfg(not(loom))]
        self.io.shutdown();
    }
}

/// Wakes the driver's thread from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Unparker {
    inner: WorkerUnpark,
}

/// Builds `n` drivers (one per worker, in worker order) sharing one time driver.
///
/// # Errors
/// If an epoll set or eventfd cannot be created (e.g. `EMFILE`).
pub(crate) fn build(n: usize) -> std::io::Result<(Vec<Driver>, Handle)> {
    #[cfg(not(loom))]
    let pollers: Vec<Arc<io::Poller>> = (0..n)
        .map(|_| io::Poller::new().map(Arc::new))
        .collect::<std::io::Result<_>>()?;
    #[cfg(not(loom))]
    let parks: Vec<WorkerPark> = pollers.iter().map(|p| io::IoPark::new(p.clone())).collect();
    #[cfg(loom)]
    let parks: Vec<WorkerPark> = (0..n).map(|_| ParkThread::new()).collect();
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
    Ok((
        drivers,
        Handle {
            time,
            #[cfg(not(loom))]
            io: Arc::new(io::IoHandle::new(pollers)),
        },
    ))
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
pub(crate) fn park_thread_for_tests() -> (WorkerPark, Unparker) {
    let park = io::IoPark::new(Arc::new(io::Poller::new().expect("epoll set")));
    let unpark = Unparker {
        inner: park.unparker(),
    };
    (park, unpark)
}
