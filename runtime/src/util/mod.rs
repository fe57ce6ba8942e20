//! Small helpers shared by the scheduler flavors.

pub(crate) mod block_cache;
mod cache_padded;
mod rand;
pub(crate) mod thread_group;
pub(crate) mod trace;

pub(crate) use cache_padded::{CacheLine, CachePadded};
pub(crate) use rand::FastRand;

/// Asks the kernel to wake this thread's timed sleeps within 1 µs of their deadline instead
/// of Linux's default 50 µs "timer slack", at the cost of fewer coalesced wake-ups. Called
/// on worker threads only, so that timers fire close to their deadline; a failure (other
/// OS, seccomp) only costs precision and is ignored.
pub(crate) fn set_fine_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only changes a property of
    // the calling thread; no memory is passed to the kernel.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
}
