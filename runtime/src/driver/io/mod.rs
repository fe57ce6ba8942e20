//! The I/O drivers: one [`Poller`] per worker, on epoll or io_uring (see `driver/mod.rs`
//! for the choice and the design of each).
//!
//! A socket is registered once, for read and write readiness, with the poller of the
//! worker that creates it (a thread outside the runtime spreads its sockets over the
//! pollers), so its events are dispatched on that worker's thread and the tasks they wake
//! go to that worker's local queue. epoll watches it edge-triggered; io_uring with a
//! multishot `POLL_ADD`, which reports each new readiness the same way. Readiness is cached
//! per socket in [`ScheduledIo`]: an event sets bits and wakes the task waiting in that
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
mod scheduled_io;
mod uring;

pub(crate) use poller::{IoPark, IoUnpark, Poller};
pub(crate) use scheduled_io::{Direction, ReadyEvent, ScheduledIo};
pub(crate) use uring::OnCancel;

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
    shutdown: AtomicBool,
    next: AtomicUsize,
}

impl IoHandle {
    pub(crate) fn new(pollers: Vec<Arc<Poller>>) -> IoHandle {
        IoHandle {
            pollers,
            shutdown: AtomicBool::new(false),
            next: AtomicUsize::new(0),
        }
    }

    /// Marks the runtime shut down: every registered socket's waiters wake and fail.
    pub(crate) fn shutdown(&self) {
        self.shutdown
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for p in &self.pollers {
            p.shutdown();
        }
    }

    fn poller_for(&self, own: Option<usize>) -> &Arc<Poller> {
        let i = own.unwrap_or_else(|| self.next.fetch_add(1, Relaxed));
        &self.pollers[i % self.pollers.len()]
    }

    /// The driver the pollers run (`Epoll` or `IoUring`, never `Auto`).
    pub(crate) fn driver(&self) -> IoDriver {
        self.pollers[0].driver()
    }

    /// `(io_uring_enter calls that submitted, SQEs they submitted)` over all rings.
    pub(crate) fn submit_stats(&self) -> (u64, u64) {
        self.pollers.iter().fold((0, 0), |(c, s), p| {
            let (c2, s2) = p.submit_stats();
            (c + c2, s + s2)
        })
    }
}

/// Builds `n` pollers on `kind`, resolving `Auto` (see [`IoDriver`]).
///
/// # Errors
/// As [`Poller::new`]; `InvalidInput` for an unknown `ZOKIO_DRIVER`.
pub(crate) fn build_pollers(n: usize, kind: IoDriver) -> io::Result<Vec<Arc<Poller>>> {
    let build = |kind| -> io::Result<Vec<Arc<Poller>>> {
        (0..n).map(|_| Poller::new(kind).map(Arc::new)).collect()
    };
    let kind = match kind {
        IoDriver::Auto => match std::env::var("ZOKIO_DRIVER") {
            Ok(v) => IoDriver::from_name(&v).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("ZOKIO_DRIVER={v:?}: expected `io_uring`, `epoll` or `auto`"),
                )
            })?,
            Err(_) => IoDriver::Auto,
        },
        k => k,
    };
    match kind {
        IoDriver::Auto => build(IoDriver::IoUring).or_else(|_| build(IoDriver::Epoll)),
        k => build(k),
    }
}

/// The poller a task on this thread submits io_uring operations to, and whether this
/// thread is the one that parks on it; `None` outside a runtime or on the epoll driver.
pub(crate) fn current_ring() -> Option<(Arc<Poller>, bool)> {
    let io = crate::runtime::context::with_handle(|h| h.driver().io.clone()).ok()?;
    if io.driver() != IoDriver::IoUring || io.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    let own = crate::runtime::context::with_scheduler(|s| s.and_then(|s| s.worker_index()));
    Some((io.poller_for(own).clone(), own.is_some()))
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
        (poller, owner): (Arc<Poller>, bool),
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

/// A socket registered with a poller; deregistered on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    io: Arc<ScheduledIo>,
    poller: Arc<Poller>,
    fd: RawFd,
    token: u64,
}

impl Registration {
    /// Registers `fd` (non-blocking) with the current runtime's I/O driver.
    ///
    /// # Errors
    /// Outside a runtime (`Other`), or what `epoll_ctl` returns.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let io_handle = crate::runtime::context::with_handle(|h| h.driver().io.clone())
            .map_err(|_| io::Error::other("zokio I/O must be created inside a zokio runtime"))?;
        if io_handle.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(io::Error::other("zokio runtime is shut down"));
        }
        let own = crate::runtime::context::with_scheduler(|s| s.and_then(|s| s.worker_index()));
        let poller = io_handle.poller_for(own).clone();
        let io = Arc::new(ScheduledIo::new());
        let token = poller.register(fd, io.clone(), own.is_some())?;
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
            return Poll::Ready(Err(io::Error::other("zokio runtime is shut down")));
        }
        self.io.poll_ready(cx, dir).map(Ok)
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
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear(ev),
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
