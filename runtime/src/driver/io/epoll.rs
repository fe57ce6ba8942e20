//! The epoll backend of a [`Poller`](super::Poller): an epoll set with the poller's wake-up
//! eventfd in it, sockets added edge-triggered, `epoll_pwait2` with nanosecond timeouts.

use super::sys::{cvt, Event};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// epoll's user data for the wake-up eventfd; sockets use their slab token.
const WAKE_TOKEN: u64 = u64::MAX;

/// Events fetched per `epoll_wait`.
const EVENTS: usize = 1024;

/// One epoll set.
#[derive(Debug)]
pub(crate) struct Epoll {
    epoll: OwnedFd,
    /// The poller's eventfd (owned by the poller), drained when it fires.
    wake: RawFd,
}

/// Reused by every wait, so reaping events allocates nothing after the first (allocated
/// then, so a poller on io_uring never pays for it).
#[derive(Debug, Default)]
pub(crate) struct EpollScratch {
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    /// A new epoll set watching `wake` (an eventfd the caller keeps open as long as this).
    ///
    /// # Errors
    /// What `epoll_create1` or `epoll_ctl` return (e.g. `EMFILE`).
    pub(crate) fn new(wake: RawFd) -> io::Result<Epoll> {
        // SAFETY: a plain syscall; the returned fd is owned exactly once here.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: WAKE_TOKEN,
        };
        // SAFETY: both fds are open; `ev` outlives the call.
        cvt(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, wake, &mut ev) })?;
        Ok(Epoll { epoll, wake })
    }

    /// Adds `fd` edge-triggered for read and write, reporting events with `token`.
    pub(crate) fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN
                | libc::EPOLLOUT
                | libc::EPOLLRDHUP
                | libc::EPOLLPRI
                | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: `ev` outlives the call; a bad fd is reported as an error.
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) })
            .map(drop)
    }

    /// Removes `fd` (still open: the caller owns it).
    pub(crate) fn delete(&self, fd: RawFd) {
        // SAFETY: removing an open fd; errors (already removed) are harmless.
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    /// Waits for at most `timeout` (`None`: until an event) and appends the socket events
    /// to `out`. Returns whether the wake-up eventfd fired; it is drained if `drain_wake`
    /// (the owner's wait). A sibling worker reaping this set leaves it readable: the
    /// eventfd is watched level-triggered, so the owner's next wait still sees the unpark.
    pub(crate) fn wait(
        &self,
        scratch: &mut EpollScratch,
        timeout: Option<Duration>,
        out: &mut Vec<Event>,
        drain_wake: bool,
    ) -> bool {
        let events = &mut scratch.events;
        events.clear();
        events.reserve_exact(EVENTS);
        let ts = timeout.map(|d| libc::timespec {
            tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // Whether epoll_pwait2 (Linux 5.11) is missing; checked once.
        static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
        let mut n = -1;
        if !NO_PWAIT2.load(Relaxed) {
            // SAFETY: `events` has capacity EVENTS and the kernel writes at most that
            // many; the length is set from the return value below.
            n = unsafe {
                libc::syscall(
                    libc::SYS_epoll_pwait2,
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    EVENTS as libc::c_int,
                    ts_ptr,
                    std::ptr::null::<libc::sigset_t>(),
                    0usize,
                )
            };
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
                NO_PWAIT2.store(true, Relaxed);
            }
        }
        let n = if NO_PWAIT2.load(Relaxed) {
            // Kernels before 5.11: millisecond timeouts, rounded up so a timer is never
            // woken early.
            let ms = timeout.map_or(-1, |d| {
                d.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as libc::c_int
            });
            // SAFETY: as above.
            unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    EVENTS as libc::c_int,
                    ms,
                ) as libc::c_long
            }
        } else {
            n
        };
        if n <= 0 {
            // Timed out, or EINTR: nothing to dispatch.
            return false;
        }
        // SAFETY: the kernel initialised the first `n` entries.
        unsafe { events.set_len(n as usize) };
        let mut woken = false;
        for ev in events.iter() {
            if ev.u64 == WAKE_TOKEN {
                woken = true;
            } else {
                out.push(Event {
                    token: ev.u64,
                    readiness: super::scheduled_io::from_poll_bits(ev.events),
                    rearm: false,
                });
            }
        }
        if woken && drain_wake {
            let mut buf = 0u64;
            // SAFETY: reads 8 bytes into a live u64 from the non-blocking eventfd.
            unsafe {
                libc::read(
                    self.wake,
                    (&mut buf as *mut u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
        woken
    }
}
