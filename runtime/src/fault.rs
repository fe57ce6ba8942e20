//! Fault injection for tests (feature `fault-injection`, off by default; not for
//! production). With a [`Plan`] set, the I/O driver's readiness path and the stream
//! sockets' reads and writes meet, at the given rates, the faults a kernel may deliver:
//!
//! - **Spurious readiness** (and storms of it): a task that found its socket not ready is
//!   woken at once as if an event had arrived; its next attempt meets the kernel's real
//!   `EAGAIN`, and it must clear the stale readiness and wait again, without spinning or
//!   losing a wake-up. A storm repeats this for up to 64 waits in a row on one thread.
//! - **`EINTR`**: a socket operation fails with `Interrupted` before the system call, as
//!   when a signal arrives first; nothing was transferred, and the runtime must retry.
//! - **Short transfers**: a stream read or write is offered fewer bytes than asked (at
//!   least one), as the kernel does when its buffers are nearly full or nearly empty;
//!   callers such as `write_all`, `read_exact` and `io::copy` must loop. So is a file's
//!   io_uring `READ` or `WRITE` (its SQE asks for fewer bytes), as a signal or a full
//!   device shortens them; `fs::read`, `fs::write` and `write_all_at` must loop. (On the
//!   epoll driver files go through std's calls on the blocking pool, not injected.)
//!
//! What is not injected, and why: `EAGAIN` on a socket that is in fact ready. Readiness
//! is edge-triggered (epoll's `EPOLLET`, io_uring's multishot poll): after `EAGAIN` the
//! runtime waits for the next edge, which a socket that was ready all along never raises,
//! so any edge-triggered runtime (Tokio's too) would wait forever; no kernel does it.
//! Spurious readiness above is the fault that yields a real `EAGAIN`. Connection resets
//! need no injection: a peer closing with `SO_LINGER` 0 raises a real one.
//!
//! Decisions use a per-thread generator ([`fastrand`]), so the faults a thread meets do
//! not serialise the runtime's threads; counts of what was injected are process-wide.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// How often each fault is injected, in parts per million of the chances to inject it
/// (0: never, 1,000,000: every time, which only [`Plan::spurious_readiness`] tolerates:
/// the others would never let an operation finish). Default: no faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Per wait that found its socket not ready: wake the task as if an event came.
    pub spurious_readiness: u32,
    /// Per spurious readiness: turn it into a storm of 2 to 64 spurious wakes in a row.
    pub storm: u32,
    /// Per socket operation: fail it with `Interrupted` before the system call.
    pub interrupted: u32,
    /// Per stream read or write (and file read or write on io_uring): offer it between 1
    /// byte and all but one of its bytes.
    pub short_transfer: u32,
}

/// How many faults of each kind were injected since the process started (or the last
/// [`reset_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tasks woken by a spurious readiness.
    pub spurious_readiness: u64,
    /// Operations failed with `Interrupted`.
    pub interrupted: u64,
    /// Reads and writes offered fewer bytes than asked.
    pub short_transfer: u64,
}

static SPURIOUS: AtomicU32 = AtomicU32::new(0);
static STORM: AtomicU32 = AtomicU32::new(0);
static INTERRUPTED: AtomicU32 = AtomicU32::new(0);
static SHORT: AtomicU32 = AtomicU32::new(0);
static N_SPURIOUS: AtomicU64 = AtomicU64::new(0);
static N_INTERRUPTED: AtomicU64 = AtomicU64::new(0);
static N_SHORT: AtomicU64 = AtomicU64::new(0);

std::thread_local! {
    /// Spurious wakes left in this thread's current storm.
    static STORM_LEFT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Sets the rates of every fault, process-wide, from now on.
///
/// # Panics
/// If a rate other than `spurious_readiness` is 1,000,000 or more (no operation would
/// ever finish), or any rate is above 1,000,000.
pub fn set_plan(plan: Plan) {
    const MILLION: u32 = 1_000_000;
    assert!(
        plan.spurious_readiness <= MILLION && plan.storm <= MILLION,
        "rates are parts per million: {plan:?}"
    );
    assert!(
        plan.interrupted < MILLION && plan.short_transfer < MILLION,
        "an interrupted or short rate of 100% never lets an operation finish: {plan:?}"
    );
    SPURIOUS.store(plan.spurious_readiness, Relaxed);
    STORM.store(plan.storm, Relaxed);
    INTERRUPTED.store(plan.interrupted, Relaxed);
    SHORT.store(plan.short_transfer, Relaxed);
}

/// The plan in force.
pub fn plan() -> Plan {
    Plan {
        spurious_readiness: SPURIOUS.load(Relaxed),
        storm: STORM.load(Relaxed),
        interrupted: INTERRUPTED.load(Relaxed),
        short_transfer: SHORT.load(Relaxed),
    }
}

/// What was injected so far.
pub fn counts() -> Counts {
    Counts {
        spurious_readiness: N_SPURIOUS.load(Relaxed),
        interrupted: N_INTERRUPTED.load(Relaxed),
        short_transfer: N_SHORT.load(Relaxed),
    }
}

/// Sets every count back to 0.
pub fn reset_counts() {
    N_SPURIOUS.store(0, Relaxed);
    N_INTERRUPTED.store(0, Relaxed);
    N_SHORT.store(0, Relaxed);
}

/// True with probability `rate` parts per million.
fn chance(rate: &AtomicU32) -> bool {
    let r = rate.load(Relaxed);
    r != 0 && fastrand::u32(0..1_000_000) < r
}

/// A wait found its socket not ready: whether to wake the task as if an event came.
pub(crate) fn spurious_readiness() -> bool {
    let storm = STORM_LEFT.with(|left| {
        let n = left.get();
        if n > 0 {
            left.set(n - 1);
        }
        n > 0
    });
    let hit = storm || chance(&SPURIOUS);
    if hit {
        if !storm && chance(&STORM) {
            STORM_LEFT.with(|left| left.set(fastrand::u32(1..64)));
        }
        N_SPURIOUS.fetch_add(1, Relaxed);
    }
    hit
}

/// Whether this socket operation fails with `Interrupted` before its system call.
pub(crate) fn interrupted() -> Option<std::io::Error> {
    chance(&INTERRUPTED).then(|| {
        N_INTERRUPTED.fetch_add(1, Relaxed);
        std::io::ErrorKind::Interrupted.into()
    })
}

/// How many of `len` bytes a stream read or write is offered: `len`, or at the plan's rate
/// fewer (1 to `len - 1`).
pub(crate) fn transfer_len(len: usize) -> usize {
    if len > 1 && chance(&SHORT) {
        N_SHORT.fetch_add(1, Relaxed);
        fastrand::usize(1..len)
    } else {
        len
    }
}
