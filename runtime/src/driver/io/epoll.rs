//! One epoll instance per worker: registration slab, event dispatch, and the worker's park
//! (`epoll_pwait2` with a nanosecond timeout, woken through an `eventfd`).

use super::scheduled_io::{
    ScheduledIo, ERROR, READABLE, READ_CLOSED, SHUTDOWN, WRITABLE, WRITE_CLOSED,
};
use crate::loom::{lock, Condvar, Mutex};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{
    AtomicBool, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};
use std::sync::Arc;
use std::time::Duration;

const EMPTY: usize = 0;
/// Parked in `epoll_wait`: an unpark writes the eventfd.
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
/// Parked on the condition variable (no socket registered): an unpark signals it.
const PARKED_CONDVAR: usize = 3;

/// epoll's user data for the wake-up eventfd; sockets use `generation << 32 | index`.
const WAKE_TOKEN: u64 = u64::MAX;

/// Events fetched per `epoll_wait`.
const EVENTS: usize = 1024;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A worker's epoll set, its registrations and its park state.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
    state: AtomicUsize,
    registry: Mutex<Slab>,
    /// Sockets registered now. A worker with none parks on `condvar` (a futex, quicker to
    /// wake than an eventfd into `epoll_wait`: measured, waking an epoll-parked worker
    /// raised zbench's `latency.task_wakeup` p99.9 from 49 µs to 100-190 µs).
    live: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
    shutdown: AtomicBool,
}

#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Entry>,
    free: Vec<u32>,
}

#[derive(Debug, Default)]
struct Entry {
    generation: u32,
    io: Option<Arc<ScheduledIo>>,
}

impl Poller {
    /// A new epoll set with its wake-up eventfd registered.
    ///
    /// # Errors
    /// What `epoll_create1`, `eventfd` or `epoll_ctl` return (e.g. `EMFILE`).
    pub(crate) fn new() -> io::Result<Poller> {
        // SAFETY: plain syscalls; each returned fd is owned exactly once below.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above.
        let wake = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::eventfd(
                0,
                libc::EFD_CLOEXEC | libc::EFD_NONBLOCK,
            ))?)
        };
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: WAKE_TOKEN,
        };
        // SAFETY: both fds are open; `ev` outlives the call.
        cvt(unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                wake.as_raw_fd(),
                &mut ev,
            )
        })?;
        Ok(Poller {
            epoll,
            wake,
            state: AtomicUsize::new(EMPTY),
            registry: Mutex::new(Slab::default()),
            live: AtomicUsize::new(0),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
            shutdown: AtomicBool::new(false),
        })
    }

    /// Adds `fd` (edge-triggered, read and write) and returns its token.
    pub(crate) fn register(&self, fd: RawFd, io: Arc<ScheduledIo>) -> io::Result<u64> {
        let token = {
            let mut slab = lock(&self.registry);
            let index = match slab.free.pop() {
                Some(i) => i,
                None => {
                    slab.entries.push(Entry::default());
                    (slab.entries.len() - 1) as u32
                }
            };
            let entry = &mut slab.entries[index as usize];
            entry.io = Some(io);
            (u64::from(entry.generation) << 32) | u64::from(index)
        };
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: `ev` outlives the call; a bad fd is reported as an error.
        let added = cvt(unsafe {
            libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev)
        });
        if let Err(e) = added {
            self.release(token);
            return Err(e);
        }
        // A worker parked on the condvar does not see socket events: move it to epoll.
        // SeqCst pairs with the parker's store of PARKED_CONDVAR and its load of `live`:
        // one of the two sides sees the other.
        self.live.fetch_add(1, SeqCst);
        if self.state.load(SeqCst) == PARKED_CONDVAR {
            self.unpark();
        }
        Ok(token)
    }

    /// Removes `fd`; an event for it still in flight finds the slot's generation changed.
    pub(crate) fn deregister(&self, fd: RawFd, token: u64) {
        // SAFETY: removing an fd that is open (the caller still owns it); errors (already
        // closed) are harmless.
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        if self.release(token) {
            self.live.fetch_sub(1, SeqCst);
        }
    }

    /// Frees the token's slot; returns whether it was live.
    fn release(&self, token: u64) -> bool {
        let (generation, index) = ((token >> 32) as u32, token as u32);
        let mut slab = lock(&self.registry);
        if let Some(entry) = slab.entries.get_mut(index as usize) {
            if entry.generation == generation && entry.io.is_some() {
                entry.io = None;
                entry.generation = entry.generation.wrapping_add(1);
                slab.free.push(index);
                return true;
            }
        }
        false
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Every registered socket's waiters wake and see the shutdown.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        let all: Vec<Arc<ScheduledIo>> = lock(&self.registry)
            .entries
            .iter()
            .filter_map(|e| e.io.clone())
            .collect();
        for io in all {
            io.set_readiness(SHUTDOWN);
        }
        self.unpark();
    }

    /// Wakes the poller's thread if it is parked (in `epoll_wait` or on the condvar);
    /// otherwise one swap.
    pub(crate) fn unpark(&self) {
        let prev = self.state.swap(NOTIFIED, SeqCst);
        if prev == PARKED_CONDVAR {
            // Taking the lock orders this notify after the parker's wait began (it set
            // PARKED_CONDVAR under the lock), so the signal cannot be missed.
            drop(lock(&self.lock));
            self.condvar.notify_one();
        } else if prev == PARKED {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd; a full counter
            // (EAGAIN) still leaves it readable, which is all we need.
            unsafe {
                libc::write(
                    self.wake.as_raw_fd(),
                    (&one as *const u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
    }

    /// Waits for events for at most `timeout` (`None`: until an event or an unpark) and
    /// dispatches them. Returns the number of socket events.
    fn wait(&self, scratch: &mut Scratch, timeout: Option<Duration>) -> usize {
        let events = &mut scratch.events;
        events.clear();
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
            return 0;
        }
        // SAFETY: the kernel initialised the first `n` entries.
        unsafe { events.set_len(n as usize) };
        self.dispatch(scratch)
    }

    fn dispatch(&self, scratch: &mut Scratch) -> usize {
        let Scratch { events, ready } = scratch;
        ready.clear();
        {
            let slab = lock(&self.registry);
            for ev in events.iter() {
                let token = ev.u64;
                if token == WAKE_TOKEN {
                    continue;
                }
                let (generation, index) = ((token >> 32) as u32, token as u32);
                if let Some(Entry {
                    generation: g,
                    io: Some(io),
                }) = slab.entries.get(index as usize)
                {
                    if *g == generation {
                        ready.push((io.clone(), readiness(ev.events)));
                    }
                }
            }
        }
        if events.iter().any(|e| e.u64 == WAKE_TOKEN) {
            let mut buf = 0u64;
            // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
            unsafe {
                libc::read(
                    self.wake.as_raw_fd(),
                    (&mut buf as *mut u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
        let n = ready.len();
        for (io, bits) in ready.drain(..) {
            io.set_readiness(bits);
        }
        n
    }
}

/// epoll's event bits as readiness bits.
fn readiness(events: u32) -> usize {
    let e = events as libc::c_int;
    let mut r = 0;
    if e & libc::EPOLLIN != 0 {
        r |= READABLE;
    }
    if e & libc::EPOLLOUT != 0 {
        r |= WRITABLE;
    }
    if e & (libc::EPOLLRDHUP | libc::EPOLLHUP) != 0 {
        r |= READ_CLOSED;
    }
    if e & libc::EPOLLHUP != 0 {
        r |= WRITE_CLOSED;
    }
    if e & libc::EPOLLERR != 0 {
        r |= ERROR;
    }
    r
}

/// A worker's parker: waits in its poller.
#[derive(Debug)]
pub(crate) struct IoPark {
    poller: Arc<Poller>,
    scratch: Scratch,
}

/// Buffers reused by every wait, so reaping events allocates nothing.
#[derive(Debug)]
struct Scratch {
    events: Vec<libc::epoll_event>,
    /// Sockets found ready, woken after the slab lock is released.
    ready: Vec<(Arc<ScheduledIo>, usize)>,
}

/// Wakes an [`IoPark`] from any thread.
#[derive(Debug, Clone)]
pub(crate) struct IoUnpark {
    poller: Arc<Poller>,
}

impl IoPark {
    pub(crate) fn new(poller: Arc<Poller>) -> IoPark {
        IoPark {
            poller,
            scratch: Scratch {
                events: Vec::with_capacity(EVENTS),
                ready: Vec::new(),
            },
        }
    }

    pub(crate) fn unparker(&self) -> IoUnpark {
        IoUnpark {
            poller: self.poller.clone(),
        }
    }

    /// Blocks until unparked or a socket event arrives.
    pub(crate) fn park(&mut self) {
        self.park_inner(None);
    }

    /// As [`park`](Self::park), for at most `timeout`; zero only reaps ready events and
    /// consumes a pending unpark.
    pub(crate) fn park_timeout(&mut self, timeout: Duration) {
        self.park_inner(Some(timeout));
    }

    fn park_inner(&mut self, timeout: Option<Duration>) {
        let p = &self.poller;
        let notified = p
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok();
        if notified || timeout == Some(Duration::ZERO) {
            p.wait(&mut self.scratch, Some(Duration::ZERO));
            return;
        }
        loop {
            if p.live.load(SeqCst) == 0 {
                match p.park_condvar(timeout) {
                    CondvarPark::Returned => return,
                    CondvarPark::SocketRegistered => {}
                }
            }
            match p.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
                Ok(_) => {}
                Err(NOTIFIED) => {
                    p.state.swap(EMPTY, SeqCst);
                    p.wait(&mut self.scratch, Some(Duration::ZERO));
                    return;
                }
                Err(actual) => panic!("inconsistent park state: {actual}"),
            }
            let io_events = p.wait(&mut self.scratch, timeout);
            let prev = p.state.swap(EMPTY, SeqCst);
            // Return on an unpark, a socket event, or the timeout; a stale wake-up (an
            // eventfd write that lost the race with an earlier return) parks again.
            if prev == NOTIFIED || io_events > 0 || timeout.is_some() {
                return;
            }
        }
    }
}

/// How a condvar park ended.
enum CondvarPark {
    /// Unparked, timed out, or woken spuriously: the caller returns.
    Returned,
    /// A socket was registered meanwhile (or just before): park in epoll instead.
    SocketRegistered,
}

impl Poller {
    /// Parks on the condvar while no socket is registered (the three-state protocol of
    /// `driver/park.rs`, with PARKED_CONDVAR set under the lock).
    fn park_condvar(&self, timeout: Option<Duration>) -> CondvarPark {
        let mut guard = lock(&self.lock);
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return CondvarPark::Returned;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        if self.live.load(SeqCst) > 0 {
            // Registered between the caller's check and our store: epoll, unless already
            // unparked.
            return match self.state.swap(EMPTY, SeqCst) {
                NOTIFIED => CondvarPark::Returned,
                _ => CondvarPark::SocketRegistered,
            };
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(t) => {
                    let _woken = self
                        .condvar
                        .wait_timeout(guard, t)
                        .unwrap_or_else(|e| e.into_inner());
                    // Timed out or notified: done either way.
                    self.state.swap(EMPTY, SeqCst);
                    return CondvarPark::Returned;
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                // Unparked (a registration's unpark too: the next park goes to epoll).
                return CondvarPark::Returned;
            }
            // Spurious wake-up: wait again.
        }
    }
}

impl IoUnpark {
    pub(crate) fn unpark(&self) {
        self.poller.unpark();
    }
}
