//! The vocabulary both backends (epoll, io_uring) and the poller over them share, so
//! neither backend imports from the poller nor from the other (mio's `sys` layer): the
//! event a backend reports, the slab token's generation width, and the `-1`-errno
//! syscall convention.

use std::io;

/// A socket event from a backend: readiness bits for the socket with slab `token`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub(crate) token: u64,
    pub(crate) readiness: usize,
    /// io_uring: the multishot poll ended without being removed; arm it again.
    pub(crate) rearm: bool,
}

/// A slab token's generation stays below 2^29, so a token (index and generation) never
/// reaches the flag and tag bits io_uring's `user_data` keeps above it.
pub(crate) const GENERATION_MASK: u32 = (1 << 29) - 1;

/// A libc call's return value as `io::Result`: negative means `errno` is set.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
