//! The io_uring backend of a [`Poller`](super::Poller): one ring per worker, carrying both
//! socket readiness (multishot `POLL_ADD`) and completion-based operations ([`Op`]: file
//! reads, writes, opens, fsync, no-ops).
//!
//! - **Submission.** Any thread may push SQEs (the push and the SQ tail update are under
//!   `sq`). The ring's own worker defers: its SQEs go to the kernel with its next
//!   `io_uring_enter`, which it makes when it runs out of local work, when it parks, or,
//!   while busy, at its maintenance tick (every `event_interval` polls, unless it polled
//!   the ring within that interval), so many operations share one syscall. Other threads
//!   (a `block_on` caller, a blocking-pool thread) submit at once. Two exceptions, since
//!   the kernel runs a poll's wake-ups as task work of the thread that submitted it: a
//!   socket that a sibling worker registers here (an acceptor placing it by its incoming
//!   CPU) is queued for the owner, which is woken to submit it, and the eventfd READ of a
//!   ring set up by another thread is queued for the owner's first enter. Submitted by the
//!   acceptor, each event of those sockets waited for the acceptor's next syscall (zbench's
//!   `net.tcp_echo`: 1.19x to 1.28x Tokio in four alternating quick runs; see
//!   `Poller::register` for why outside threads still submit their own). Every `io_uring_enter`
//!   that submits adds one to `submit_calls` and the SQEs it took to `submitted` (zbench's
//!   `zsync.batch` reads their ratio). A full SQ is flushed with an extra `io_uring_enter`.
//! - **Completion.** Only `wait` reaps, under `cq`: socket CQEs become readiness events for
//!   the poller (a multishot poll that ended, e.g. because the thread that armed it exited,
//!   is re-armed), operation CQEs complete their slot and wake its task. The CQ is sized
//!   four times the SQ and the ring must offer `IORING_FEAT_NODROP`, so a burst of
//!   completions larger than the CQ waits in the kernel's overflow list; the next enter
//!   (the crate adds `GETEVENTS` when the overflow flag is up) flushes it.
//! - **Waiting.** The worker sleeps in `io_uring_enter(GETEVENTS, min_complete = 1)` with an
//!   `EXT_ARG` timespec (nanosecond timeouts, Linux 5.11). Another thread wakes it by
//!   writing the poller's (blocking) eventfd, on which a `READ` is always outstanding (not
//!   `MSG_RING`: the waker is often not a worker and has no ring of its own).
//! - **Cancellation.** An operation's resources (buffer, path, the file it reads) move into
//!   its slot when it is submitted and come back with the result. Dropping the [`Op`]
//!   before its completion marks the slot cancelled and submits `ASYNC_CANCEL`; the slot
//!   keeps the resources until the kernel's CQE for the operation arrives, and an `OPENAT`
//!   that completed anyway has its new fd closed then. Dropping the ring with operations
//!   still in flight cancels them and waits for their CQEs (at most a second; what is still
//!   in flight after that is leaked, never freed under the kernel).

use super::scheduled_io::{ERROR, READABLE, WRITABLE};
use super::sys::{Event, GENERATION_MASK};
use crate::driver::RingConfig;
use crate::loom::{lock, Mutex};
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use std::any::Any;
use std::cell::UnsafeCell;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The top two bits of `user_data` say what a CQE is for; the rest is a slab token.
const TAG_MASK: u64 = 0b11 << 62;
const TAG_SOCKET: u64 = 0;
const TAG_OP: u64 = 1 << 62;
const TAG_WAKE: u64 = 2 << 62;
/// CQEs of cancels (nothing to do) and poll removals (`REMOVE_FLAG | token`: retried if
/// the poll was firing at that moment).
const TAG_IGNORE: u64 = 3 << 62;
const REMOVE_FLAG: u64 = 1 << 61;

/// What to do with an operation's result if its future was dropped before it completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnCancel {
    /// Drop the resources.
    Nothing,
    /// The result is a new fd (`OPENAT`): close it.
    CloseFd,
}

/// The eventfd read's 8-byte target, written by the kernel only.
struct WakeBuf(UnsafeCell<u64>);

// SAFETY: Rust code never reads or writes the cell; only the kernel writes it, through the
// pointer of the one outstanding READ.
unsafe impl Sync for WakeBuf {}

/// A ring and its in-flight operations.
pub(crate) struct Uring {
    ring: IoUring,
    /// Serialises every producer of the submission queue.
    sq: Mutex<()>,
    /// Serialises reaping; holds the operation completions found by one reap (reused, so
    /// reaping allocates nothing). Lock order: `cq`, then `ops` or `sq`, never the reverse.
    cq: Mutex<Vec<(u64, i32)>>,
    ops: Mutex<OpSlab>,
    wake: RawFd,
    wake_buf: Box<WakeBuf>,
    /// Set when the ring is dropped: the eventfd READ is not re-armed.
    closing: AtomicBool,
    submit_calls: AtomicU64,
    submitted: AtomicU64,
    /// Set up with `IORING_SETUP_SQPOLL`: the kernel's polling thread takes SQEs, so
    /// entries are counted as they are queued and calls only when one wakes that thread.
    sqpoll: bool,
}

impl std::fmt::Debug for Uring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uring")
            .field("sq_entries", &self.ring.params().sq_entries())
            .field("submit_calls", &self.submit_calls)
            .field("submitted", &self.submitted)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct OpSlab {
    entries: Vec<OpSlot>,
    free: Vec<u32>,
}

#[derive(Default)]
struct OpSlot {
    generation: u32,
    state: OpState,
    data: Option<Box<dyn Any + Send>>,
    on_cancel: Option<OnCancel>,
}

#[derive(Default)]
enum OpState {
    #[default]
    Free,
    Waiting(Option<Waker>),
    Done(i32),
    /// The future was dropped; the slot waits for the CQE.
    Cancelled,
}

impl OpSlab {
    fn slot(&mut self, token: u64) -> Option<&mut OpSlot> {
        let (generation, index) = ((token >> 32) as u32, token as u32);
        self.entries
            .get_mut(index as usize)
            .filter(|s| s.generation == generation && !matches!(s.state, OpState::Free))
    }

    fn free(&mut self, token: u64) {
        let index = token as u32;
        let slot = &mut self.entries[index as usize];
        slot.state = OpState::Free;
        slot.data = None;
        slot.on_cancel = None;
        slot.generation = slot.generation.wrapping_add(1) & GENERATION_MASK;
        self.free.push(index);
    }
}

fn timespec(d: Duration) -> types::Timespec {
    types::Timespec::new()
        .sec(d.as_secs())
        .nsec(d.subsec_nanos())
}

/// `io_uring_setup(2)`'s error, with the cause its errno usually has, so that a runtime
/// that cannot be built says why (same kind, and the OS error in the message).
fn setup_error(e: io::Error) -> io::Error {
    let cause = match e.raw_os_error() {
        Some(libc::EPERM) => {
            "io_uring is disabled for this process (sysctl kernel.io_uring_disabled, or a \
             seccomp filter such as a container runtime's); the epoll driver works without it"
        }
        Some(libc::ENOSYS) => "this kernel has no io_uring (built without it, or older than 5.1)",
        Some(libc::ENOMEM) => "not enough locked memory for the ring (RLIMIT_MEMLOCK)",
        _ => "",
    };
    let msg = match cause {
        "" => format!("io_uring_setup failed: {e}"),
        cause => format!("io_uring_setup failed: {e}: {cause}"),
    };
    io::Error::new(e.kind(), msg)
}

impl Uring {
    /// Sets up a ring as `config` says and checks the features zokio relies on; with
    /// SQPOLL and `attach`, sharing the polling thread of ring `attach`.
    fn setup(config: &RingConfig, attach: Option<RawFd>) -> io::Result<IoUring> {
        let mut builder = IoUring::builder();
        builder.setup_cqsize(config.cq_entries).setup_clamp();
        match config.sqpoll_idle {
            // The kernel refuses the task-run flags with SQPOLL: completions are posted by
            // its polling thread, not as task work of the submitter.
            Some(idle) => {
                builder.setup_sqpoll(idle.as_millis() as u32);
                if let Some(fd) = attach {
                    builder.setup_attach_wq(fd);
                }
            }
            None => {
                builder.setup_coop_taskrun().setup_taskrun_flag();
            }
        }
        let ring = builder.build(config.sq_entries).map_err(|e| {
            let e = setup_error(e);
            match config.sqpoll_idle {
                Some(_) => io::Error::new(
                    e.kind(),
                    format!(
                        "io_uring_sqpoll: {e} (SQPOLL needs Linux 5.11, or CAP_SYS_NICE before it)"
                    ),
                ),
                None => e,
            }
        })?;
        let params = ring.params();
        if !params.is_feature_nodrop() || !params.is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring lacks IORING_FEAT_NODROP or IORING_FEAT_EXT_ARG (Linux 5.11+)",
            ));
        }
        Ok(ring)
    }

    /// Whether this process can set up zokio's rings: one ring is set up and closed on the
    /// first call, and the answer is kept (seccomp, `kernel.io_uring_disabled` and the
    /// kernel version do not change under a running process). Workers set up their own
    /// ring only when they first do I/O.
    ///
    /// # Errors
    /// What `io_uring_setup` returned, or `Unsupported` for a kernel without NODROP or
    /// EXT_ARG (the same kind and message on every call).
    pub(crate) fn probe() -> io::Result<()> {
        static PROBE: std::sync::OnceLock<Result<(), (io::ErrorKind, String)>> =
            std::sync::OnceLock::new();
        PROBE
            .get_or_init(|| {
                Uring::setup(&RingConfig::default(), None)
                    .map(drop)
                    .map_err(|e| (e.kind(), e.to_string()))
            })
            .clone()
            .map_err(|(kind, msg)| io::Error::new(kind, msg))
    }

    /// Checks that rings set up as `config` says work here: the default through
    /// [`probe`](Self::probe); any other by setting one up now. With SQPOLL that ring is
    /// returned, to stay open as the one whose polling thread the runtime's rings share.
    ///
    /// # Errors
    /// As [`probe`](Self::probe), the message naming the builder option for SQPOLL.
    pub(crate) fn probe_with(config: &RingConfig) -> io::Result<Option<Arc<IoUring>>> {
        if *config == RingConfig::default() {
            return Uring::probe().map(|()| None);
        }
        let ring = Uring::setup(config, None)?;
        Ok(config.sqpoll_idle.map(|_| Arc::new(ring)))
    }

    /// A ring whose wake-up is a READ on `wake` (a blocking eventfd the caller keeps open as
    /// long as this).
    ///
    /// # Errors
    /// If `io_uring_setup` fails (ENOSYS, EPERM under seccomp or
    /// `kernel.io_uring_disabled`, ENOMEM over the locked-memory limit), or the kernel lacks
    /// `IORING_FEAT_NODROP` or `IORING_FEAT_EXT_ARG` (Linux 5.11): `Unsupported`.
    pub(crate) fn new(
        wake: RawFd,
        config: &RingConfig,
        sqpoll_anchor: Option<&IoUring>,
    ) -> io::Result<Uring> {
        let ring = Uring::setup(config, sqpoll_anchor.map(AsRawFd::as_raw_fd))?;
        let uring = Uring {
            ring,
            sq: Mutex::new(()),
            cq: Mutex::new(Vec::new()),
            ops: Mutex::new(OpSlab::default()),
            wake,
            wake_buf: Box::new(WakeBuf(UnsafeCell::new(0))),
            closing: AtomicBool::new(false),
            submit_calls: AtomicU64::new(0),
            submitted: AtomicU64::new(0),
            sqpoll: config.sqpoll_idle.is_some(),
        };
        // Queued, not submitted: whichever thread sets the ring up (possibly another
        // worker registering a socket here), the READ must be the owner's, since the
        // kernel completes it as task work of the thread that submitted it. The owner
        // submits it with its first enter, before it first waits in the ring.
        uring.arm_wake(false)?;
        Ok(uring)
    }

    /// `(io_uring_enter calls that submitted, SQEs they submitted)` since the ring started.
    pub(crate) fn submit_stats(&self) -> (u64, u64) {
        (
            self.submit_calls.load(Relaxed),
            self.submitted.load(Relaxed),
        )
    }

    fn arm_wake(&self, now: bool) -> io::Result<()> {
        let sqe = opcode::Read::new(types::Fd(self.wake), self.wake_buf.0.get().cast(), 8)
            .build()
            .user_data(TAG_WAKE);
        // SAFETY: the target is the ring's own 8-byte buffer, alive as long as the ring
        // (the ring is dropped, which cancels the read, before `wake_buf`: field order).
        unsafe { self.push(&sqe, now) }
    }

    /// Pushes `sqe` and, if `now`, submits it (and anything queued before it).
    ///
    /// # Safety
    /// Every pointer in `sqe` must stay valid until its CQE is reaped.
    unsafe fn push(&self, sqe: &squeue::Entry, now: bool) -> io::Result<()> {
        #[cfg(feature = "tracing")]
        tracing::trace!(
            target: "zokio::io::driver",
            op = "submit",
            opcode = sqe.get_opcode(),
            user_data = sqe.get_user_data(),
            now,
        );
        let _g = lock(&self.sq);
        loop {
            // SAFETY: the caller's contract.
            let pushed = self.with_sq_locked(|queue| unsafe { queue.push(sqe) });
            if pushed.is_ok() {
                if self.sqpoll {
                    self.submitted.fetch_add(1, Relaxed);
                }
                break;
            }
            // Full: hand what is queued to the kernel, then retry.
            self.submit_queued()?;
        }
        if now {
            self.submit_queued()?;
        }
        Ok(())
    }

    /// Runs `f` on the submission queue; the caller holds `sq`.
    ///
    /// The only way this module touches the queue: a handle on it writes its tail back to
    /// the kernel when dropped, even if nothing was pushed, so it must be dropped while
    /// `sq` is still held. A handle that outlived the lock (say, a temporary in a block's
    /// tail expression, dropped after the block's guard in edition 2021) would write a
    /// stale tail over a concurrent push: that SQE would be lost, or, with the tail moved
    /// below the kernel's head, old SQEs would run again.
    fn with_sq_locked<R>(&self, f: impl FnOnce(&mut squeue::SubmissionQueue<'_>) -> R) -> R {
        // SAFETY: the caller holds `sq`, so this is the only live handle on the queue, and
        // it is dropped here, before the caller can release `sq`.
        let mut queue = unsafe { self.ring.submission_shared() };
        let r = f(&mut queue);
        drop(queue);
        r
    }

    /// Whether SQEs are queued that the kernel has not taken yet.
    #[cfg(test)]
    fn has_queued(&self) -> bool {
        let _g = lock(&self.sq);
        self.with_sq_locked(|queue| !queue.is_empty())
    }

    /// Submits what is queued (no waiting), counting it. The caller holds `sq`.
    fn submit_queued(&self) -> io::Result<()> {
        let wakes = self.wakes_sqpoll_thread();
        loop {
            match self.ring.submitter().submit() {
                Ok(n) => {
                    self.count_submit(n, wakes);
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Counts an `io_uring_enter` that took `n` SQEs; with SQPOLL, whose entries were
    /// counted as queued, one that `wakes` the polling thread.
    fn count_submit(&self, n: usize, wakes: bool) {
        if self.sqpoll {
            if wakes {
                self.submit_calls.fetch_add(1, Relaxed);
            }
        } else if n > 0 {
            self.submit_calls.fetch_add(1, Relaxed);
            self.submitted.fetch_add(n as u64, Relaxed);
        }
    }

    /// With SQPOLL, whether the polling thread sleeps (the next enter wakes it); the caller
    /// holds `sq`.
    fn wakes_sqpoll_thread(&self) -> bool {
        self.sqpoll && self.with_sq_locked(|queue| queue.need_wakeup())
    }

    /// Arms a multishot poll for `fd`'s read and write readiness, reported with `token`.
    pub(crate) fn add(&self, fd: RawFd, token: u64, now: bool) -> io::Result<()> {
        // POLLERR and POLLHUP are asked for explicitly: the kernel wakes the poll for them
        // anyway, but reports in the CQE only the bits requested (a UDP socket's ICMP
        // error then came back as a bare POLLOUT and its reader slept on).
        let mask = (libc::POLLIN
            | libc::POLLOUT
            | libc::POLLRDHUP
            | libc::POLLPRI
            | libc::POLLERR
            | libc::POLLHUP) as u32;
        let sqe = opcode::PollAdd::new(types::Fd(fd), mask)
            .multi(true)
            .build()
            .user_data(TAG_SOCKET | token);
        // SAFETY: a poll carries no pointers.
        unsafe { self.push(&sqe, now) }
    }

    /// Removes `token`'s poll before the caller closes the socket: the poll holds a
    /// reference to the socket, which would otherwise stay open (a TCP peer would see no
    /// FIN, a UDP port would stay bound) after its fd is closed.
    ///
    /// Queued SQEs, if any, are submitted first (a deferred `POLL_ADD` must reach the
    /// kernel to be found; from another thread this makes it the submitter of whatever the
    /// owner had queued, so an empty queue is not entered), then
    /// `IORING_REGISTER_SYNC_CANCEL` (Linux 6.0) removes the poll and waits if it is firing
    /// at that moment; an asynchronous `POLL_REMOVE` was tried first and lost
    /// that race (`EALREADY`) whenever the poll had just been armed. Kernels without sync
    /// cancel get the `POLL_REMOVE`, retried from `reap` on `EALREADY`.
    pub(crate) fn delete(&self, token: u64) {
        {
            let _g = lock(&self.sq);
            if self.with_sq_locked(|queue| !queue.is_empty()) {
                let _ = self.submit_queued();
            }
        }
        let cancel = types::CancelBuilder::user_data(TAG_SOCKET | token);
        match self.ring.submitter().register_sync_cancel(None, cancel) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(_) => self.remove_poll(token, true),
        }
    }

    /// Submits a `POLL_REMOVE` for `token`'s poll. It fails with `EALREADY` if the poll is
    /// firing at that moment; `reap` then tries again, until it is gone (`ENOENT` or 0).
    fn remove_poll(&self, token: u64, now: bool) {
        let sqe = opcode::PollRemove::new(TAG_SOCKET | token)
            .build()
            .user_data(TAG_IGNORE | REMOVE_FLAG | token);
        // SAFETY: no pointers. A failure leaves the poll armed until the ring closes; the
        // slab generation already makes its events stale.
        let _ = unsafe { self.push(&sqe, now) };
    }

    /// Submits an operation: `build` makes its SQE from the resources in `data` (boxed
    /// first, so pointers into it stay put). Returns the slot token.
    ///
    /// # Errors
    /// The push failed (the resources come back with the error).
    ///
    /// # Safety
    /// The SQE built may point only into `data` (or at memory that outlives the ring).
    pub(crate) unsafe fn submit_op<T: Send + 'static>(
        &self,
        data: T,
        build: impl FnOnce(&mut T) -> squeue::Entry,
        on_cancel: OnCancel,
        now: bool,
    ) -> Result<u64, (io::Error, T)> {
        let mut boxed = Box::new(data);
        let sqe = build(&mut boxed);
        let token = {
            let mut ops = lock(&self.ops);
            let index = ops.free.pop().unwrap_or_else(|| {
                ops.entries.push(OpSlot::default());
                (ops.entries.len() - 1) as u32
            });
            let slot = &mut ops.entries[index as usize];
            slot.state = OpState::Waiting(None);
            slot.data = Some(boxed);
            slot.on_cancel = Some(on_cancel);
            (u64::from(slot.generation) << 32) | u64::from(index)
        };
        // SAFETY: the SQE points into `data`, now owned by the slot until the CQE.
        match unsafe { self.push(&sqe.user_data(TAG_OP | token), now) } {
            Ok(()) => Ok(token),
            Err(e) => {
                let mut ops = lock(&self.ops);
                let data = ops.slot(token).and_then(|s| s.data.take());
                ops.free(token);
                drop(ops);
                let data = data
                    .and_then(|d| d.downcast::<T>().ok())
                    .expect("the slot holds the operation's resources");
                Err((e, *data))
            }
        }
    }

    /// The operation's result (`cqe.res`) and resources once it completed.
    pub(crate) fn poll_op<T: 'static>(&self, token: u64, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        let mut ops = lock(&self.ops);
        let slot = ops.slot(token).expect("polled a freed io_uring operation");
        match &mut slot.state {
            OpState::Done(res) => {
                let res = *res;
                let data = slot.data.take();
                ops.free(token);
                drop(ops);
                let data = data
                    .and_then(|d| d.downcast::<T>().ok())
                    .expect("the slot holds the operation's resources");
                Poll::Ready((res, *data))
            }
            OpState::Waiting(waker) => {
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            OpState::Free | OpState::Cancelled => unreachable!("slot state checked by `slot`"),
        }
    }

    /// The operation's future was dropped: free its slot if it completed, else cancel it
    /// and keep its resources until its CQE.
    pub(crate) fn cancel_op(&self, token: u64, now: bool) {
        let mut ops = lock(&self.ops);
        let Some(slot) = ops.slot(token) else { return };
        match slot.state {
            OpState::Done(res) => {
                let close = slot.on_cancel == Some(OnCancel::CloseFd) && res >= 0;
                let data = slot.data.take();
                ops.free(token);
                drop(ops);
                drop(data);
                if close {
                    close_fd(res);
                }
            }
            OpState::Waiting(_) => {
                slot.state = OpState::Cancelled;
                drop(ops);
                let sqe = opcode::AsyncCancel::new(TAG_OP | token)
                    .build()
                    .user_data(TAG_IGNORE);
                // SAFETY: no pointers. If the cancel cannot be pushed the operation simply
                // runs to completion; its slot still frees the resources then.
                let _ = unsafe { self.push(&sqe, now) };
            }
            OpState::Free | OpState::Cancelled => {}
        }
    }

    /// Submits what is queued and waits (unless `timeout` is zero) for a completion, at most
    /// `timeout`; then reaps: socket events go to `out`, woken operations' wakers to `wake`.
    /// Returns `(whether the eventfd fired, operations completed)`.
    pub(crate) fn wait(
        &self,
        timeout: Option<Duration>,
        out: &mut Vec<Event>,
        wake: &mut Vec<Waker>,
    ) -> (bool, usize) {
        let submitter = self.ring.submitter();
        let wakes = {
            let _g = lock(&self.sq);
            self.wakes_sqpoll_thread()
        };
        let entered = match timeout {
            Some(Duration::ZERO) => {
                let (queued, overflow, taskrun) = {
                    let _g = lock(&self.sq);
                    self.with_sq_locked(|queue| {
                        (!queue.is_empty(), queue.cq_overflow(), queue.taskrun())
                    })
                };
                if queued || overflow || taskrun {
                    submitter.submit()
                } else {
                    // Nothing to submit: reaping is a read of shared memory, no syscall.
                    Ok(0)
                }
            }
            Some(d) => {
                let ts = timespec(d);
                let args = types::SubmitArgs::new().timespec(&ts);
                submitter.submit_with_args(1, &args)
            }
            None => submitter.submit_and_wait(1),
        };
        // An error is a timeout, an interruption or completions to reap first: reaping
        // follows anyway.
        if let Ok(n) = entered {
            self.count_submit(n, wakes);
        }
        self.reap(out, wake)
    }

    fn reap(&self, out: &mut Vec<Event>, wake: &mut Vec<Waker>) -> (bool, usize) {
        let mut woken = false;
        let mut retry_removes = Vec::new();
        let mut completed = lock(&self.cq);
        {
            // SAFETY: `cq` is held, so this is the only live handle on the queue.
            let queue = unsafe { self.ring.completion_shared() };
            for cqe in queue {
                let user_data = cqe.user_data();
                #[cfg(feature = "tracing")]
                tracing::trace!(
                    target: "zokio::io::driver",
                    op = "complete",
                    user_data,
                    result = cqe.result(),
                    more = cqueue::more(cqe.flags()),
                );
                let token = user_data & !TAG_MASK;
                match user_data & TAG_MASK {
                    TAG_SOCKET => out.push(Event {
                        token,
                        readiness: poll_readiness(cqe.result()),
                        // Ended without being removed (CQ overflow, the arming thread
                        // exited): the poller re-arms it if the socket is still registered.
                        // A poll that failed (EBADF...) is not re-armed: its waiters see
                        // the error instead.
                        rearm: !cqueue::more(cqe.flags())
                            && (cqe.result() >= 0 || cqe.result() == -libc::ECANCELED),
                    }),
                    TAG_OP => completed.push((token, cqe.result())),
                    TAG_WAKE => woken = true,
                    // The poll was being triggered as the removal came: try again.
                    _ if token & REMOVE_FLAG != 0 && cqe.result() == -libc::EALREADY => {
                        retry_removes.push(token & !REMOVE_FLAG);
                    }
                    _ => {}
                }
            }
        }
        for token in retry_removes {
            self.remove_poll(token, false);
        }
        if woken && !self.closing.load(Relaxed) {
            // Re-armed now, submitted with the next enter (before this worker sleeps).
            let _ = self.arm_wake(false);
        }
        let n = completed.len();
        if n == 0 {
            // The common maintenance tick: no operation lock taken.
            return (woken, 0);
        }
        let mut ops = lock(&self.ops);
        let mut garbage: Vec<(Box<dyn Any + Send>, Option<RawFd>)> = Vec::new();
        for &(token, res) in completed.iter() {
            let Some(slot) = ops.slot(token) else {
                continue;
            };
            match std::mem::take(&mut slot.state) {
                OpState::Waiting(waker) => {
                    slot.state = OpState::Done(res);
                    wake.extend(waker);
                }
                OpState::Cancelled => {
                    let fd = (slot.on_cancel == Some(OnCancel::CloseFd) && res >= 0).then_some(res);
                    if let Some(data) = slot.data.take() {
                        garbage.push((data, fd));
                    } else if let Some(fd) = fd {
                        close_fd(fd);
                    }
                    ops.free(token);
                }
                other => slot.state = other,
            }
        }
        completed.clear();
        drop(ops);
        drop(completed);
        for (data, fd) in garbage {
            drop(data);
            if let Some(fd) = fd {
                close_fd(fd);
            }
        }
        (woken, n)
    }
}

fn close_fd(fd: RawFd) {
    // SAFETY: `fd` was opened by an operation whose future is gone, so nothing else owns it.
    unsafe { libc::close(fd) };
}

/// A poll CQE's result (revents, or -errno) as readiness bits.
fn poll_readiness(res: i32) -> usize {
    if res == -libc::ECANCELED {
        return 0;
    }
    if res < 0 {
        // The poll itself failed: let the waiting tasks try and see the error.
        return READABLE | WRITABLE | ERROR;
    }
    super::scheduled_io::from_poll_bits(res as u32)
}

impl Drop for Uring {
    fn drop(&mut self) {
        // Operations still in flight point into their slots' resources: cancel them and
        // wait for their CQEs before the resources are freed.
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut out = Vec::new();
        let mut wake = Vec::new();
        // The eventfd READ targets `wake_buf`: cancel it and see its CQE first.
        self.closing.store(true, Relaxed);
        let sqe = opcode::AsyncCancel::new(TAG_WAKE)
            .build()
            .user_data(TAG_IGNORE);
        // SAFETY: no pointers.
        if unsafe { self.push(&sqe, false) }.is_ok() {
            while Instant::now() < deadline {
                if self
                    .wait(Some(Duration::from_millis(10)), &mut out, &mut wake)
                    .0
                {
                    break;
                }
            }
        }
        if Instant::now() >= deadline {
            // The READ may still complete into `wake_buf`: leak it rather than free it.
            std::mem::forget(std::mem::replace(
                &mut self.wake_buf,
                Box::new(WakeBuf(UnsafeCell::new(0))),
            ));
        }
        loop {
            let pending: Vec<u64> = {
                let ops = lock(&self.ops);
                ops.entries
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(s.state, OpState::Waiting(_) | OpState::Cancelled))
                    .map(|(i, s)| (u64::from(s.generation) << 32) | i as u64)
                    .collect()
            };
            if pending.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                // Never free memory the kernel may still write: leak it.
                let mut ops = lock(&self.ops);
                for slot in &mut ops.entries {
                    if let Some(data) = slot.data.take() {
                        std::mem::forget(data);
                    }
                }
                return;
            }
            for token in pending {
                let sqe = opcode::AsyncCancel::new(TAG_OP | token)
                    .build()
                    .user_data(TAG_IGNORE);
                // SAFETY: no pointers.
                let _ = unsafe { self.push(&sqe, false) };
            }
            // (Every `Op` future holds the ring, so no slot is waiting for one: all are
            // cancelled, and reaping frees them.)
            self.wait(Some(Duration::from_millis(10)), &mut out, &mut wake);
            out.clear();
            wake.clear();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Arc;

    /// Every SQE pushed reaches the kernel exactly once while other threads look at the
    /// queue (as `delete` does on every socket close): a look that wrote the tail back
    /// after releasing the lock would undo concurrent pushes (a socket whose poll is lost
    /// is never heard of again) or move the tail below the kernel's head (old SQEs run
    /// again).
    #[test]
    fn no_push_is_lost_while_other_threads_look_at_the_queue() {
        const MARK: u64 = TAG_IGNORE | 0x5eed;
        const PUSHES: usize = 50_000;
        // SAFETY: a plain syscall.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
        // SAFETY: a new, valid fd, owned only here.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        let Ok(uring) = Uring::new(wake.as_raw_fd(), &RingConfig::default(), None) else {
            return; // no io_uring here
        };
        let uring = Arc::new(uring);
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let lookers: Vec<_> = (0..2)
            .map(|_| {
                let (uring, stop, started) = (uring.clone(), stop.clone(), started.clone());
                std::thread::spawn(move || {
                    started.fetch_add(1, SeqCst);
                    while !stop.load(SeqCst) {
                        std::hint::black_box(uring.has_queued());
                    }
                })
            })
            .collect();
        // Pushing starts once both look: 50,000 pushes take milliseconds.
        while started.load(SeqCst) < 2 {
            std::thread::yield_now();
        }
        let mut completed = 0;
        let reap = |uring: &Uring| {
            let _cq = lock(&uring.cq);
            // SAFETY: `cq` is held, so this is the only handle on the queue.
            let queue = unsafe { uring.ring.completion_shared() };
            queue.filter(|c| c.user_data() == MARK).count()
        };
        for i in 0..PUSHES {
            let nop = opcode::Nop::new().build().user_data(MARK);
            // SAFETY: a no-op carries no pointers.
            unsafe { uring.push(&nop, i % 16 == 15) }.unwrap();
            if i % 16 == 15 {
                completed += reap(&uring);
            }
        }
        stop.store(true, SeqCst);
        lookers.into_iter().for_each(|t| t.join().unwrap());
        {
            let _g = lock(&uring.sq);
            uring.submit_queued().unwrap();
        }
        // No-ops complete inline; a few rounds catch any posted late.
        for _ in 0..100 {
            completed += reap(&uring);
            if completed == PUSHES {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(completed, PUSHES, "SQEs lost");
    }

    #[test]
    fn setup_errors_name_io_uring_and_the_usual_cause() {
        let denied = setup_error(io::Error::from_raw_os_error(libc::EPERM));
        assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
        let msg = denied.to_string();
        assert!(msg.starts_with("io_uring_setup failed: "), "{msg}");
        assert!(msg.contains("kernel.io_uring_disabled"), "{msg}");
        assert!(msg.contains("seccomp"), "{msg}");
        let missing = setup_error(io::Error::from_raw_os_error(libc::ENOSYS)).to_string();
        assert!(missing.contains("no io_uring"), "{missing}");
        let memlock = setup_error(io::Error::from_raw_os_error(libc::ENOMEM)).to_string();
        assert!(memlock.contains("RLIMIT_MEMLOCK"), "{memlock}");
        let other = setup_error(io::Error::from_raw_os_error(libc::EINVAL)).to_string();
        assert!(other.starts_with("io_uring_setup failed: "), "{other}");
    }
}
