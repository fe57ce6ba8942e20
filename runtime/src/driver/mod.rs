//! The driver: what a worker does when it has nothing to run.
//!
//! This is the seam between the schedulers and the outside world. A scheduler only ever
//! calls [`Driver::park`] / [`Driver::park_timeout`] on its own thread and
//! [`Unparker::unpark`] from any thread; it never knows what parking means underneath.
//!
//! Parking means: fire the due timers of this worker's timer-wheel shard (see
//! `time/driver.rs`); if none fired, wait until a socket event, an I/O completion, an
//! unpark from another thread or the shard's earliest timer (nanosecond timeouts), then
//! fire timers again. Timers and I/O events are dispatched on the worker's own thread while
//! its core is parked, so the woken tasks go to its local queue. A busy worker still reaps
//! I/O between tasks: it calls `park_timeout(0)` when it runs out of local work (before it
//! steals) and at its maintenance tick (every `event_interval` polls) unless it did so
//! within that interval already.
//!
//! # I/O drivers (`io/`)
//!
//! Each worker owns a *poller* with one of two backends, chosen per runtime by
//! [`IoDriver`] (`Builder::io_driver`, or the `ZOKIO_DRIVER` environment variable when the
//! builder says `Auto`):
//!
//! - **io_uring** (the default where it works). One ring per worker, not one shared ring:
//!   no lock is contended on submission, completions land on the worker that submitted
//!   (its local queue), and a worker sleeps in its own ring. A worker's ring (20 KiB of
//!   locked memory) is set up when it first does I/O, so workers that never do any cost no
//!   ring; whether rings work at all is probed once per process when the first runtime is
//!   built. Files are real io_uring operations (`OPENAT`, `READ`, `WRITE`, `FSYNC`,
//!   `UNLINKAT`, `NOP`); sockets stay readiness-based through multishot `POLL_ADD`, so the
//!   same non-blocking socket code runs on both drivers. How SQEs are batched into one
//!   `io_uring_enter`, how a parked worker sleeps and is woken, CQ overflow and
//!   cancellation: `io/uring.rs`. Rings are set up as [`RingConfig`] says
//!   (`Builder::io_uring_entries`, `Builder::io_uring_sqpoll`): with SQPOLL, one ring
//!   with no operations is set up at build time and every worker's ring attaches to its
//!   kernel polling thread (`IORING_SETUP_ATTACH_WQ`), so a runtime has one such thread
//!   however many workers it has; the task-run flags are left off, which the kernel
//!   refuses with SQPOLL. A ring configuration other than the default needs io_uring:
//!   `Auto` then fails instead of falling back to epoll.
//! - **epoll** (`io/epoll.rs`): readiness-based with non-blocking sockets, an eventfd for
//!   unparks, `epoll_pwait2` for nanosecond timeouts (`epoll_wait` before Linux 5.11);
//!   files go to the blocking pool, as Tokio's do. Used when io_uring setup fails
//!   (`ENOSYS`, `EPERM` from seccomp or `kernel.io_uring_disabled`, a kernel before 5.11)
//!   or when asked for.
//!
//! Registered (fixed) files and buffers are not used. A fixed buffer makes a buffered read
//! slower, not faster: the kernel copies from the page cache through the buffer's page
//! vector instead of a plain copy to user memory, and pinning pages only pays for
//! `O_DIRECT`. A fixed file saves the reference count the kernel takes on the file per
//! operation (an atomic once the process has a second thread), which pays only for a file
//! used many times on one ring; with a ring per worker, a task that moves between workers
//! would need its file registered on each ring it submits to (an
//! `IORING_REGISTER_FILES_UPDATE` system call per ring, and another per ring at close), more
//! than the operations of a short-lived file save, and a fixed-file index per ring in every
//! `File`.
//!
//! Socket placement (both drivers): a socket lives on the poller of the worker that created
//! it, or for an accepted one, of the worker on the CPU its packets arrive on, and a worker
//! out of tasks polls its own poller before it steals, so tasks keep running where their
//! sockets are (`io/mod.rs`, with the measured effect).
//!
//! Stalled siblings: a worker that the kernel deschedules for a time slice (another
//! thread wants its CPU) leaves its sockets and its queue unserved, where Tokio's one
//! shared driver is reaped by whichever worker runs. So a busy worker, on its driver polls
//! (at most every 100 µs, however often it polls) and before it parks, looks at its
//! siblings' pollers: one with sockets whose owner is not parked and has not entered or
//! left a wait on it for 1 ms is stalled, and the looking worker takes half its queue and
//! its ready sockets. On epoll it reaps the sibling's set (`epoll_pwait2` on another
//! thread's set is safe; the set's unpark eventfd is left for the owner). On io_uring a
//! socket's poll completions are task work of the thread that armed them, which no other
//! thread can run, so it asks `poll(2)` about the descriptors the sibling's tasks wait on
//! and wakes those that are ready; the owner's polls stay armed, and what they report
//! when it runs again is at worst stale readiness, which a read that finds nothing
//! clears. The case this is for is zbench's `latency.tcp_echo_contended` (a spinning
//! thread beside 2 workers on 2 cores): the kernel can leave a worker that another thread
//! preempted queued behind that thread for a whole time slice even while the other CPU
//! is idle, and the round trips of the connections on that worker then wait for it. The
//! look is timed rather than taken every Nth poll because a worker that runs out of work
//! between round trips polls rarely; and its record of what it saw is its own, not
//! written to the sibling's poller, so a look only reads the sibling's cache line.
//!
//! On both, a worker with nothing registered and nothing in flight parks on a condition
//! variable instead (quicker to wake: measured in zbench's `latency.task_wakeup`), and
//! registering a socket or submitting an operation moves it to the backend. Under loom (no
//! syscalls) the worker parks on the futex-backed thread parker of `park.rs` instead,
//! which the loom models check.

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

/// Which I/O driver a runtime uses (`runtime/src/driver/mod.rs` describes each).
///
/// `Auto` (the default) takes `ZOKIO_DRIVER` from the environment (`io_uring` or
/// `epoll`; anything else is an error at build time), else io_uring if a ring can be set
/// up, else epoll. `IoUring` fails the build if a ring cannot be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IoDriver {
    /// `ZOKIO_DRIVER`, else io_uring with an epoll fallback.
    #[default]
    Auto,
    /// io_uring; building the runtime fails if the kernel refuses it.
    IoUring,
    /// epoll (readiness) with files on the blocking pool.
    Epoll,
}

impl IoDriver {
    /// The name used by `ZOKIO_DRIVER` and in zbench results: `auto`, `io_uring`, `epoll`.
    pub fn name(self) -> &'static str {
        match self {
            IoDriver::Auto => "auto",
            IoDriver::IoUring => "io_uring",
            IoDriver::Epoll => "epoll",
        }
    }

    /// Resolves `Auto` against `ZOKIO_DRIVER`, once per runtime (in `Builder::build`):
    /// the variable's driver if it is set, else `Auto` itself (io_uring with an epoll
    /// fallback). Other choices are returned as they are.
    ///
    /// # Errors
    /// `InvalidInput` if `ZOKIO_DRIVER` holds an unknown name.
    pub(crate) fn resolve_env(self) -> std::io::Result<IoDriver> {
        match (self, std::env::var("ZOKIO_DRIVER")) {
            (IoDriver::Auto, Ok(v)) => IoDriver::from_name(&v).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("ZOKIO_DRIVER={v:?}: expected `io_uring`, `epoll` or `auto`"),
                )
            }),
            (kind, _) => Ok(kind),
        }
    }

    /// Parses a `ZOKIO_DRIVER` value (`io_uring`/`uring`, `epoll`, `auto`).
    pub fn from_name(name: &str) -> Option<IoDriver> {
        match name.trim().to_ascii_lowercase().as_str() {
            "io_uring" | "io-uring" | "uring" => Some(IoDriver::IoUring),
            "epoll" => Some(IoDriver::Epoll),
            "auto" | "" => Some(IoDriver::Auto),
            _ => None,
        }
    }
}

/// SQ entries per ring by default; the CQ has four times as many. A ring costs 20 KiB of
/// kernel memory mapped into the process (SQEs 8 KiB, SQ and CQ rings 12 KiB; counted in
/// RSS), set up when its worker first does I/O (zbench's `memory.io_driver` and
/// `memory.scheduler_per_worker`). Larger batches than this take one extra
/// `io_uring_enter` each. `Builder::io_uring_entries` changes both sizes.
const SQ_ENTRIES: u32 = 128;

/// Most SQ entries the kernel accepts (`IORING_MAX_ENTRIES`); CQ entries may be twice that.
pub(crate) const MAX_SQ_ENTRIES: u32 = 32_768;

/// How each of a runtime's rings is set up (`Builder::io_uring_entries`,
/// `Builder::io_uring_sqpoll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingConfig {
    /// Submission queue entries (the kernel rounds up to a power of two).
    pub(crate) sq_entries: u32,
    /// Completion queue entries, at least `sq_entries` (rounded up likewise).
    pub(crate) cq_entries: u32,
    /// `IORING_SETUP_SQPOLL`: a kernel thread takes SQEs from the ring without
    /// `io_uring_enter`, and sleeps after this long without any (ms resolution). All of a
    /// runtime's rings share one such thread (`IORING_SETUP_ATTACH_WQ`).
    pub(crate) sqpoll_idle: Option<Duration>,
}

impl Default for RingConfig {
    fn default() -> RingConfig {
        RingConfig {
            sq_entries: SQ_ENTRIES,
            cq_entries: SQ_ENTRIES * 4,
            sqpoll_idle: None,
        }
    }
}

impl RingConfig {
    /// Why the kernel would refuse these sizes or this idle time, if it would.
    pub(crate) fn check(&self) -> Result<(), String> {
        let RingConfig {
            sq_entries: sq,
            cq_entries: cq,
            sqpoll_idle,
        } = *self;
        if sq == 0 || sq > MAX_SQ_ENTRIES {
            return Err(format!(
                "io_uring_entries: {sq} submission entries (1 to {MAX_SQ_ENTRIES})"
            ));
        }
        if cq < sq || cq > 2 * MAX_SQ_ENTRIES {
            return Err(format!(
                "io_uring_entries: {cq} completion entries ({sq} to {}, at least as many as submission entries)",
                2 * MAX_SQ_ENTRIES
            ));
        }
        if let Some(idle) = sqpoll_idle {
            let ms = idle.as_millis();
            if ms == 0 || ms > u128::from(u32::MAX) {
                return Err(format!(
                    "io_uring_sqpoll: idle time {idle:?} (1 ms to {} ms, whole milliseconds)",
                    u32::MAX
                ));
            }
        }
        Ok(())
    }
}

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
/// If an epoll set, ring or eventfd cannot be created (e.g. `EMFILE`), `kind` is
/// `IoUring` and the kernel refuses a ring.
pub(crate) fn build(
    n: usize,
    kind: IoDriver,
    ring: RingConfig,
    clock: crate::time::Clock,
) -> std::io::Result<(Vec<Driver>, Handle)> {
    #[cfg(not(loom))]
    let pollers = io::build_pollers(n, kind, ring)?;
    #[cfg(loom)]
    let _ = (kind, ring);
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
    let time = Arc::new(TimeDriver::new(unparkers, clock));
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

/// When a worker looks at its siblings' pollers for a stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiblingLook {
    /// Only if 100 µs have passed since this worker's last look: on a busy worker's driver
    /// polls, which may come every microsecond.
    IfDue,
    /// Now: before the worker parks, when it will not look again until woken.
    Now,
}

impl Driver {
    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.park.unparker(),
        }
    }

    /// Whether this worker's I/O poller has sockets registered or operations in flight.
    pub(crate) fn has_live_io(&self) -> bool {
        #[cfg(not(loom))]
        return self.park.has_live_io();
        #[cfg(loom)]
        false
    }

    /// Blocks until unparked or a timer of this driver's shard fires. Returns at once if an
    /// unpark arrived since the last park or a timer was already due.
    pub(crate) fn park(&mut self) {
        self.park_internal(None);
    }

    /// Finds the sibling workers that have stopped polling their I/O (see
    /// `IoPark::reap_stalled_siblings`), calls `stalled(index)` for each, and takes their
    /// ready sockets; called on every driver poll a busy worker makes (looking at most
    /// every 100 µs) and before parking. Returns the socket events dispatched (their tasks
    /// are woken onto the caller's queue).
    pub(crate) fn reap_stalled_siblings(
        &mut self,
        handle: &Handle,
        when: SiblingLook,
        stalled: impl FnMut(usize),
    ) -> usize {
        #[cfg(not(loom))]
        return self.park.reap_stalled_siblings(&handle.io, when, stalled);
        #[cfg(loom)]
        {
            let _ = (handle, when, stalled);
            0
        }
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
            #[cfg(feature = "test-util")]
            Some(timeout)
                if self.time.clock().can_auto_advance() && self.time.has_timers(self.shard) =>
            {
                // The clock is paused and nothing runs: poll I/O without sleeping, and if
                // nothing came in (no unpark, no event), jump the clock to the next timer
                // instead of waiting for it (Tokio's auto-advance).
                if !self.park.poll_woke() {
                    // Cannot fail: the clock is paused, and `timeout` reaches a timer.
                    let _ = self.time.clock().advance(timeout);
                }
            }
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
    let park = io::IoPark::new(Arc::new(
        io::Poller::new(IoDriver::Epoll, io::RingSetup::default()).expect("epoll set"),
    ));
    let unpark = Unparker {
        inner: park.unparker(),
    };
    (park, unpark)
}
