//! The I/O drivers: one [`Poller`] per worker, on epoll or io_uring (see `driver/mod.rs`
//! for the choice and the design of each).
//!
//! A socket is registered once, for read and write readiness, with the poller of the
//! worker that creates it (a thread outside the runtime spreads its sockets over the
//! pollers), so its events are dispatched on that worker's thread and the tasks they wake
//! go to that worker's local queue. A socket returned by `accept` goes instead to the
//! worker last seen on the CPU where the kernel receives its packets (`SO_INCOMING_CPU`),
//! unless that worker holds far more sockets than the others ([`pick_by_incoming_cpu`]):
//! the kernel wakes the poller from that CPU, with the data in its cache, and for a client
//! and server in one process both ends of a connection then share a worker. Each poller
//! records `sched_getcpu` when its worker parks or polls it. A worker that runs out of tasks
//! polls its own poller before it steals, so the woken tasks stay with their sockets.
//! Together, on zbench's loopback echo (client and server in one runtime, 2 workers), these
//! took zokio from 0.97x to 1.23x Tokio's round trips/s on io_uring (full runs; 1.40x on
//! epoll), and `sched.io_ops` from 14.8x to 21.4x. `RuntimeMetrics::worker_io_live_count`
//! shows the placement.
//!
//! epoll watches a socket edge-triggered; io_uring with a multishot `POLL_ADD`, which
//! reports each new readiness the same way. Readiness is cached per socket in
//! [`ScheduledIo`]: an event sets bits and wakes the task waiting in that
//! direction; an operation that fails with `WouldBlock` clears the bits it saw, unless an
//! event arrived meanwhile (a tick counter in the same word tells), so no edge is lost.
//!
//! Registrations live in a slab per poller; the kernel carries the slot index and a
//! generation, so an event for a socket deregistered from another thread in the meantime
//! finds a newer generation (or an empty slot) and is dropped: no pointer to a
//! registration is ever handed to the kernel.
//!
//! On io_uring, completion-based operations ([`Op`]) carry their resources in a slot of the
//! ring until the kernel is done with them (`uring.rs`).

mod epoll;
mod poller;
pub(crate) mod scheduled_io;
mod sys;
mod uring;

pub(crate) use poller::{IoPark, IoUnpark, Poller, Registrant, RingSetup};
pub(crate) use scheduled_io::{Direction, ReadyEvent, ReadyMask, ScheduledIo};
pub(crate) use uring::OnCancel;

/// How many of `len` bytes a read or write offers its system call or SQE: all of them, or
/// under fault injection sometimes fewer (see [`crate::fault`]).
#[cfg(all(feature = "fault-injection", not(loom)))]
pub(crate) use crate::fault::transfer_len;

/// How many of `len` bytes a read or write offers its system call or SQE: all of them.
#[cfg(not(all(feature = "fault-injection", not(loom))))]
#[inline(always)]
pub(crate) fn transfer_len(len: usize) -> usize {
    len
}

use crate::driver::IoDriver;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The pollers of one runtime, in worker order.
#[derive(Debug)]
pub(crate) struct IoHandle {
    pollers: Vec<Arc<Poller>>,
    /// The pollers' backend (they all have the same), kept here so that looking it up
    /// reads no worker's poller.
    driver: IoDriver,
    shutdown: AtomicBool,
    next: AtomicUsize,
    /// The origin of the pollers' `seen_at` times.
    epoch: std::time::Instant,
}

impl IoHandle {
    /// # Panics
    /// If `pollers` is empty.
    pub(crate) fn new(pollers: Vec<Arc<Poller>>) -> IoHandle {
        IoHandle {
            driver: pollers[0].driver(),
            pollers,
            shutdown: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            epoch: std::time::Instant::now(),
        }
    }

    /// Nanoseconds since this handle was made (saturating after 584 years).
    pub(crate) fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Marks the runtime shut down: every registered socket's waiters wake and fail.
    pub(crate) fn shutdown(&self) {
        self.shutdown
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for p in &self.pollers {
            p.shutdown();
        }
    }

    /// The pollers, in worker order.
    pub(crate) fn pollers(&self) -> &[Arc<Poller>] {
        &self.pollers
    }

    fn poller_for(&self, own: Option<usize>) -> &Arc<Poller> {
        &self.pollers[self.poller_index(own)]
    }

    /// `own` (the calling worker), or for a thread outside the runtime the next poller in
    /// turn.
    fn poller_index(&self, own: Option<usize>) -> usize {
        own.unwrap_or_else(|| self.next.fetch_add(1, Relaxed)) % self.pollers.len()
    }

    /// The poller for the socket `fd` just accepted: that of the worker last seen on the
    /// CPU the kernel received its packets on (`SO_INCOMING_CPU`), unless it already holds
    /// far more than its share (see [`pick_by_incoming_cpu`]); else
    /// [`poller_index`](Self::poller_index)'s. Also returns the poller's index.
    fn poller_for_accepted(&self, own: Option<usize>, fd: RawFd) -> (usize, &Arc<Poller>) {
        let pollers = &self.pollers;
        // With one poller there is nothing to choose: no getsockopt per connection.
        let incoming = if pollers.len() > 1 {
            incoming_cpu(fd)
        } else {
            None
        };
        let i = incoming
            .and_then(|cpu| {
                pick_by_incoming_cpu(
                    pollers.len(),
                    |i| pollers[i].cpu(),
                    |i| pollers[i].live(),
                    cpu,
                )
            })
            .unwrap_or_else(|| self.poller_index(own));
        (i, &pollers[i])
    }

    /// The driver the pollers run (`Epoll` or `IoUring`, never `Auto`).
    pub(crate) fn driver(&self) -> IoDriver {
        self.driver
    }

    /// Sockets registered with worker `worker`'s poller plus operations in flight on it.
    pub(crate) fn live(&self, worker: usize) -> usize {
        self.pollers[worker].live()
    }

    /// `(io_uring_enter calls that submitted, SQEs they submitted)` over all rings.
    pub(crate) fn submit_stats(&self) -> (u64, u64) {
        self.pollers.iter().fold((0, 0), |(c, s), p| {
            let (c2, s2) = p.submit_stats();
            (c + c2, s + s2)
        })
    }
}

/// Builds `n` pollers on `kind`: `Auto` (already resolved against `ZOKIO_DRIVER` by the
/// builder) tries io_uring and falls back to epoll.
///
/// # Errors
/// As [`Poller::new`].
///
/// A ring configuration other than the default (`Builder::io_uring_entries`,
/// `io_uring_sqpoll`) needs io_uring: with it, `Auto` does not fall back to epoll but
/// fails with io_uring's error, and `Epoll` is refused (`InvalidInput`).
pub(crate) fn build_pollers(
    n: usize,
    kind: IoDriver,
    ring: crate::driver::RingConfig,
) -> io::Result<Vec<Arc<Poller>>> {
    let build = |kind| -> io::Result<Vec<Arc<Poller>>> {
        let setup = match kind {
            IoDriver::IoUring => RingSetup {
                config: ring,
                sqpoll_anchor: uring::Uring::probe_with(&ring)?,
            },
            _ => RingSetup::default(),
        };
        (0..n)
            .map(|_| Poller::new(kind, setup.clone()).map(Arc::new))
            .collect()
    };
    let configured = ring != crate::driver::RingConfig::default();
    match kind {
        IoDriver::Epoll if configured => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "io_uring_entries / io_uring_sqpoll set on a runtime with the epoll driver (Builder::io_driver or ZOKIO_DRIVER)",
        )),
        IoDriver::Auto if configured => build(IoDriver::IoUring),
        IoDriver::Auto => build(IoDriver::IoUring).or_else(|_| build(IoDriver::Epoll)),
        k => build(k),
    }
}

/// Where a task on this thread submits io_uring operations ([`current_ring`]).
#[derive(Debug, Clone)]
pub(crate) struct RingHandle {
    /// The poller whose ring takes the operations.
    pub(crate) poller: Arc<Poller>,
    /// Whether this thread parks on that poller (it then submits with its next
    /// `io_uring_enter`; another thread's submission wakes the owner).
    pub(crate) is_owner: bool,
}

/// The ring a task on this thread submits io_uring operations to; `None` outside a
/// runtime, after its shutdown, or on the epoll driver.
pub(crate) fn current_ring() -> Option<RingHandle> {
    with_current_io(|io, own| {
        if io.driver() != IoDriver::IoUring || io.shutdown.load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        // A current-thread runtime is driven only inside its `Runtime::block_on`: a thread
        // that is not its driver (in `Handle::block_on`, or on the blocking pool) could
        // submit to its ring, but nothing says anyone is reaping it, and the completion
        // would wait for the next `block_on`, maybe forever. Those callers take the
        // blocking-pool path, as every caller does on epoll (and as Tokio's `fs` always
        // does).
        if own.is_none() && crate::runtime::context::in_current_thread_runtime() {
            return None;
        }
        Some(RingHandle {
            poller: io.poller_for(own).clone(),
            is_owner: own.is_some(),
        })
    })
    .ok()
    .flatten()
}

/// Runs `f` with the current runtime's I/O handle and this thread's worker index in *that*
/// runtime: `None` for a thread outside it, including a worker of another runtime (taken
/// for this runtime's worker of the same index, its SQEs were queued for a ring whose owner
/// nobody woke).
///
/// Borrowed, not cloned: every worker calls this for every file operation, and a reference
/// count shared by all workers would move its cache line between their CPUs each time.
///
/// # Errors
/// Outside any runtime.
fn with_current_io<R>(f: impl FnOnce(&IoHandle, Option<usize>) -> R) -> io::Result<R> {
    crate::runtime::context::with_handle(|h| {
        let driver = h.driver();
        // The timer shard a thread owns is its worker index, and it owns one only in its
        // own runtime.
        let own = crate::runtime::context::with_scheduler(|s| {
            s.and_then(|s| s.timer_shard(&driver.time))
        });
        f(&driver.io, own)
    })
    .map_err(|_| io::Error::other("zokio I/O must be created inside a zokio runtime"))
}

/// Which of `n` pollers an accepted socket goes to, given each poller's last CPU (`cpu(i)`),
/// its registrations (`live(i)`) and the CPU the connection's packets arrive on: the first poller
/// on that CPU, unless it holds more than twice the mean registrations plus 16, in which
/// case the least loaded one (a NIC that delivers every connection on one CPU must not pile
/// all sockets on one worker). `None` if no poller was last seen on that CPU.
///
/// Why: the kernel processes a connection's incoming packets, and wakes its poller, on
/// that CPU (for loopback, the sending thread's CPU; for a NIC, the CPU of its receive
/// queue), so a worker there finds the data in its cache and needs no cross-CPU wake-up.
/// For a client and server in one process, both ends of each connection then share a
/// worker. Servers that route connections with `SO_INCOMING_CPU` do the same.
pub(crate) fn pick_by_incoming_cpu(
    n: usize,
    cpu: impl Fn(usize) -> Option<usize>,
    live: impl Fn(usize) -> usize,
    incoming_cpu: usize,
) -> Option<usize> {
    let i = (0..n).find(|&i| cpu(i) == Some(incoming_cpu))?;
    let mean = (0..n).map(&live).sum::<usize>() / n;
    if live(i) <= 2 * mean + 16 {
        return Some(i);
    }
    (0..n).min_by_key(|&j| live(j))
}

/// An io_uring operation in flight: resolves to the CQE's result (`res`: a count, an fd,
/// or `-errno`) and the resources `T` it was submitted with. Dropping it before then
/// cancels the operation (the ring keeps `T` until the kernel is done with it).
#[derive(Debug)]
pub(crate) struct Op<T: Send + 'static> {
    poller: Arc<Poller>,
    token: u64,
    owner: bool,
    done: bool,
    _resources: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Op<T> {
    /// Submits on the current thread's ring (see [`current_ring`]).
    ///
    /// # Errors
    /// The submission failed; the resources come back with the error.
    ///
    /// # Safety
    /// `build` may put into the SQE only pointers into its argument (or to memory that
    /// outlives the ring), and file descriptors that `T` keeps open.
    pub(crate) unsafe fn submit(
        RingHandle {
            poller,
            is_owner: owner,
        }: RingHandle,
        data: T,
        on_cancel: OnCancel,
        build: impl FnOnce(&mut T) -> io_uring::squeue::Entry,
    ) -> Result<Op<T>, (io::Error, T)> {
        // SAFETY: the caller's contract.
        let token = unsafe { poller.submit_op(data, build, on_cancel, owner)? };
        Ok(Op {
            poller,
            token,
            owner,
            done: false,
            _resources: PhantomData,
        })
    }
}

impl<T: Send + 'static> Future for Op<T> {
    type Output = (i32, T);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        let uring = self
            .poller
            .uring()
            .expect("an Op lives on an io_uring poller");
        let out = std::task::ready!(uring.poll_op(self.token, cx));
        self.done = true;
        Poll::Ready(out)
    }
}

impl<T: Send + 'static> Drop for Op<T> {
    fn drop(&mut self) {
        if !self.done {
            if let Some(uring) = self.poller.uring() {
                uring.cancel_op(self.token, !self.owner);
            }
        }
    }
}

/// The CPU on which the kernel last received a packet for socket `fd`
/// (`SO_INCOMING_CPU`, Linux 3.19), if it says.
fn incoming_cpu(fd: RawFd) -> Option<usize> {
    let mut cpu: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `cpu` and `len` are live and sized for the option's `int`; a bad `fd` is an
    // error return, not undefined behaviour.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_INCOMING_CPU,
            (&mut cpu as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (r == 0)
        .then_some(cpu)
        .and_then(|c| usize::try_from(c).ok())
}

/// The driver bits a task waiting for `interest` wakes on: the interest's own, plus
/// error and shutdown (a waiter must not sleep through either).
fn interest_bits(interest: impl Into<ReadyMask>) -> usize {
    interest.into().0 | scheduled_io::ERROR | scheduled_io::SHUTDOWN
}

/// A socket registered with a poller; deregistered on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    io: Arc<ScheduledIo>,
    poller: Arc<Poller>,
    fd: RawFd,
    token: u64,
}

/// What a registered socket is, for where its registration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accepted,
    Listener,
    /// One end of a fresh `socketpair(2)`.
    Pair,
    Other,
}

impl Registration {
    /// Registers `fd` (non-blocking) with the current runtime's I/O driver.
    ///
    /// # Errors
    /// Outside a runtime (`Other`), or what `epoll_ctl` returns.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        Self::register(fd, Kind::Other)
    }

    /// As [`new`](Self::new), for a socket returned by `accept`: placed with the worker on
    /// the CPU its packets arrive on (see [`pick_by_incoming_cpu`]), when there is one,
    /// and assumed readable and writable until an operation finds otherwise
    /// ([`ScheduledIo::assume_ready`]).
    pub(crate) fn new_accepted(fd: RawFd) -> io::Result<Registration> {
        Self::register(fd, Kind::Accepted)
    }

    /// As [`new`](Self::new), for one end of a fresh socket pair: assumed writable until an
    /// operation finds otherwise ([`ScheduledIo::assume_writable`]), as Tokio's.
    pub(crate) fn new_pair(fd: RawFd) -> io::Result<Registration> {
        Self::register(fd, Kind::Pair)
    }

    /// As [`new`](Self::new), for a listening socket. Registered by a thread outside the
    /// runtime (a `block_on` caller binding a listener whose accept loop it then spawns),
    /// its poll is still submitted by the poller's worker, as a sibling worker's is: the
    /// kernel runs a poll's wake-ups as task work of the thread that submitted it, so
    /// every connection would otherwise wake the binding thread just to post the event.
    pub(crate) fn new_listener(fd: RawFd) -> io::Result<Registration> {
        Self::register(fd, Kind::Listener)
    }

    fn register(fd: RawFd, kind: Kind) -> io::Result<Registration> {
        let (i, poller, own) = with_current_io(|io_handle, own| {
            if io_handle.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(crate::runtime::shutdown_error());
            }
            let (i, poller) = if kind == Kind::Accepted {
                io_handle.poller_for_accepted(own, fd)
            } else {
                let i = io_handle.poller_index(own);
                (i, &io_handle.pollers[i])
            };
            Ok((i, poller.clone(), own))
        })??;
        let by = match own {
            Some(o) if o == i => Registrant::Owner,
            Some(_) => Registrant::Sibling,
            // A listener's events are all "a connection is waiting": none is raised by the
            // registering thread's own syscalls, which is what kept other sockets of
            // outside threads on their own submission (see `Poller::register`).
            None if kind == Kind::Listener => Registrant::Sibling,
            None => Registrant::Outside,
        };
        let io = Arc::new(ScheduledIo::new());
        match kind {
            Kind::Accepted => io.assume_ready(),
            Kind::Pair => io.assume_writable(),
            Kind::Listener | Kind::Other => {}
        }
        let token = poller.register(fd, io.clone(), by)?;
        Ok(Registration {
            io,
            poller,
            fd,
            token,
        })
    }

    /// Waits until `dir` is ready (or the socket hung up or errored).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if self.poller.is_shutdown() {
            return Poll::Ready(Err(crate::runtime::shutdown_error()));
        }
        match self.io.poll_ready(cx, dir) {
            Poll::Ready(ev) => Poll::Ready(Ok(ev)),
            Poll::Pending => self.pending(dir.mask()),
        }
    }

    /// A wait found the socket not ready for `mask`: `Pending`, the task's waker stored.
    /// Under fault injection, sometimes a spurious event for `mask` at once (see
    /// [`crate::fault`]).
    #[inline(always)]
    fn pending<T>(&self, mask: usize) -> Poll<T> {
        #[cfg(all(feature = "fault-injection", not(loom)))]
        {
            let bits = mask & (scheduled_io::READABLE | scheduled_io::WRITABLE);
            if bits != 0 && crate::fault::spurious_readiness() {
                self.io.set_readiness(bits);
            }
        }
        let _ = mask;
        Poll::Pending
    }

    /// Waits until the socket is ready for `interest` (or hung up, errored, or the runtime
    /// shut down: an error wakes every interest).
    ///
    /// # Errors
    /// `Other` once the runtime has shut down.
    pub(crate) fn poll_interest(
        &self,
        cx: &mut Context<'_>,
        interest: impl Into<ReadyMask>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if self.poller.is_shutdown() {
            return Poll::Ready(Err(crate::runtime::shutdown_error()));
        }
        let mask = interest_bits(interest);
        let Poll::Ready(ev) = self.io.poll_ready_mask(cx, mask) else {
            return self.pending(mask);
        };
        if ev.bits() & scheduled_io::SHUTDOWN != 0 {
            return Poll::Ready(Err(crate::runtime::shutdown_error()));
        }
        Poll::Ready(Ok(ev))
    }

    /// Runs `op` if the socket's cached readiness says `interest` may succeed, else fails
    /// with `WouldBlock` without a syscall; an `op` that fails with `WouldBlock` clears
    /// the readiness it ran on (until the next event). Tokio's `try_io`.
    pub(crate) fn try_io<R>(
        &self,
        interest: impl Into<ReadyMask>,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(ev) = self.io.ready_now(interest_bits(interest)) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let r = op();
        if matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear(ev);
        }
        r
    }

    /// The readiness `ev` saw proved stale (an operation found `WouldBlock`).
    pub(crate) fn clear(&self, ev: ReadyEvent) {
        self.io.clear(ev);
    }

    /// Runs `op` once `dir` is ready, until it does not fail with `WouldBlock` (clearing the
    /// stale readiness each time it does).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, dir, op, |_| false)
    }

    /// As [`poll_io`](Self::poll_io), also clearing the readiness it used when `drained`
    /// says the result proves the socket has nothing more right now (a read shorter than
    /// its buffer, a write shorter than its data), so the next operation waits for the
    /// next edge instead of spending a syscall on `WouldBlock`. Tokio does the same; here
    /// it halved the failed `recvfrom` calls of zbench's `net.tcp_echo`.
    pub(crate) fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = std::task::ready!(self.poll_ready(cx, dir))?;
            #[cfg(all(feature = "fault-injection", not(loom)))]
            let r = match crate::fault::interrupted() {
                Some(e) => Err(e),
                None => op(),
            };
            #[cfg(not(all(feature = "fault-injection", not(loom))))]
            let r = op();
            match r {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear(ev),
                // A signal came before anything was transferred: the readiness still
                // holds, so try again (as std's `read_exact` and `write_all` do), rather
                // than fail a caller such as `io::copy` that has no reason to expect it.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(r) => {
                    if drained(&r) {
                        self.io.clear(ev);
                    }
                    return Poll::Ready(Ok(r));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.poller.deregister(self.fd, self.token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_socket_goes_to_the_worker_on_its_incoming_cpu() {
        // Workers last seen on CPUs 3 and 1; one not yet seen.
        let cpus = [Some(3), Some(1), None];
        let pick = |live: [usize; 3], incoming| {
            pick_by_incoming_cpu(3, |i| cpus[i], |i| live[i], incoming)
        };
        assert_eq!(pick([10, 10, 10], 1), Some(1));
        assert_eq!(pick([10, 10, 10], 3), Some(0));
        // No worker on that CPU: the caller keeps its own choice.
        assert_eq!(pick([10, 10, 10], 2), None);
        // Up to twice the mean plus 16 is tolerated (mean 20: up to 56)...
        assert_eq!(pick([2, 56, 2], 1), Some(1));
        // ...beyond it, the least loaded worker takes the socket.
        assert_eq!(pick([5, 90, 1], 1), Some(2));
    }

    #[test]
    fn incoming_cpu_of_an_accepted_loopback_socket_is_a_cpu() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        std::io::Write::write_all(&mut client, b"x").unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut &server, &mut byte).unwrap();
        // CPU numbers may be sparse (offline CPUs), so bound it loosely.
        let cpu = incoming_cpu(server.as_raw_fd()).expect("SO_INCOMING_CPU (Linux 3.19+)");
        assert!(cpu < 4096, "implausible CPU {cpu}");
        assert_eq!(incoming_cpu(-1), None, "a bad fd is an error, not a CPU");
    }

    /// On io_uring a sibling worker's registration is queued for the poller's owner, which
    /// must be woken to submit it: here the owner sleeps in its ring (a socket of its own
    /// keeps it there, no timers), and the sibling's socket, readable from the start, must
    /// still report its readiness. Without the unpark the owner sleeps on and this fails.
    #[test]
    fn a_siblings_registration_wakes_the_owner_to_submit_it() {
        use std::os::fd::AsRawFd;
        use std::os::unix::net::UnixStream;
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        use std::time::{Duration, Instant};
        let Ok(poller) = Poller::new(IoDriver::IoUring, RingSetup::default()) else {
            // No io_uring here; the epoll backend registers at once.
            return;
        };
        let poller = Arc::new(poller);
        let (own, _own_peer) = UnixStream::pair().unwrap();
        let own_token = poller
            .register(
                own.as_raw_fd(),
                Arc::new(ScheduledIo::new()),
                Registrant::Owner,
            )
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let owner = {
            let (poller, stop) = (poller.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut park = IoPark::new(poller);
                while !stop.load(SeqCst) {
                    park.park();
                }
            })
        };
        // Let the owner submit its own poll and fall asleep (if it has not yet, the test
        // passes without covering the case).
        std::thread::sleep(Duration::from_millis(50));
        let (sibling, mut peer) = UnixStream::pair().unwrap();
        std::io::Write::write_all(&mut peer, b"x").unwrap();
        let io = Arc::new(ScheduledIo::new());
        let token = poller
            .register(sibling.as_raw_fd(), io.clone(), Registrant::Sibling)
            .unwrap();
        let test_thread = std::thread::current();
        let waker = std::task::Waker::from(Arc::new(ThreadWaker(test_thread)));
        let mut cx = Context::from_waker(&waker);
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = loop {
            if io.poll_ready(&mut cx, Direction::Read).is_ready() {
                break true;
            }
            if Instant::now() > deadline {
                break false;
            }
            std::thread::park_timeout(Duration::from_millis(100));
        };
        stop.store(true, SeqCst);
        poller.unpark();
        owner.join().unwrap();
        poller.deregister(sibling.as_raw_fd(), token);
        poller.deregister(own.as_raw_fd(), own_token);
        assert!(ready, "the owner never submitted the sibling's poll");
    }

    struct ThreadWaker(std::thread::Thread);

    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    #[test]
    fn a_poller_records_the_cpu_of_the_thread_that_polls_it() {
        let poller = Arc::new(Poller::new(IoDriver::Epoll, RingSetup::default()).unwrap());
        assert_eq!(poller.cpu(), None, "before its first poll");
        let mut park = IoPark::new(poller.clone());
        park.park_timeout(std::time::Duration::ZERO);
        assert!(poller.cpu().is_some());
    }
}
