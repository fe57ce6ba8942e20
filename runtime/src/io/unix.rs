//! Readiness of any file descriptor the runtime's I/O driver can wait on: [`AsyncFd`],
//! Tokio's `tokio::io::unix::AsyncFd` (same methods and guards).
//!
//! An `AsyncFd` registers the descriptor, for read and write readiness, with the poller of
//! the worker that creates it (its epoll set, or its ring through a multishot poll), as
//! zokio's sockets are. The descriptor must be non-blocking and of a kind `epoll` can
//! watch (sockets, pipes, FIFOs, terminals, eventfd, timerfd, signalfd, pidfd, inotify),
//! not a regular file. Readiness is edge-triggered and cached: a guard says what was
//! ready when it was taken; an operation that then finds `WouldBlock` clears it
//! ([`AsyncFdReadyGuard::clear_ready`], or [`try_io`](AsyncFdReadyGuard::try_io) does it),
//! and the next wait lasts until the next event.

use crate::driver::io::{ReadyEvent, Registration};
use crate::io::{Interest, Ready};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

/// A non-blocking file descriptor registered with the runtime's I/O driver; `T` owns it
/// (an `OwnedFd`, a socket, a pipe end) and is dropped after the registration is removed.
pub struct AsyncFd<T: AsRawFd> {
    // Declared first, dropped first: deregistered while the descriptor is still open.
    reg: Registration,
    interest: Interest,
    inner: T,
}

/// Readiness observed by [`AsyncFd::readable`] and the like, borrowing the `AsyncFd`.
/// Dropping the guard keeps the readiness (the next wait returns at once); clear it when
/// an operation finds `WouldBlock`.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// As [`AsyncFdReadyGuard`], from the `_mut` methods, with mutable access to the inner
/// value.
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// The operation given to a guard's `try_io` found `WouldBlock` (the readiness was
/// cleared); wait again.
#[derive(Debug)]
pub struct TryIoError(());

/// [`AsyncFd::register`] failed: the error and the value, given back.
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor for read and write readiness; on failure gives
    /// `inner` back with the error.
    ///
    /// # Safety
    /// `inner.as_raw_fd()` is an open descriptor that stays open, refers to the same open
    /// file and is what `as_raw_fd` returns, until this `AsyncFd` is dropped, turned back
    /// with [`into_inner`](Self::into_inner) or forgotten (Tokio's contract: the driver
    /// deregisters by descriptor number, so a number closed and reused meanwhile would
    /// name another file). An `OwnedFd`, a socket or a pipe end owned by `inner` keeps it.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub unsafe fn register(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: the caller's contract.
        unsafe { AsyncFd::register_with_interest(inner, Interest::READABLE | Interest::WRITABLE) }
    }

    /// As [`register`](Self::register); `interest` is what this value's methods wait for
    /// by default (the drivers watch both directions regardless).
    ///
    /// # Safety
    /// As [`register`](Self::register).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        if let Err(cause) = watchable(inner.as_raw_fd()) {
            return Err(AsyncFdRegisterError { inner, cause });
        }
        match Registration::new(inner.as_raw_fd()) {
            Ok(reg) => Ok(AsyncFd {
                reg,
                interest,
                inner,
            }),
            Err(cause) => Err(AsyncFdRegisterError { inner, cause }),
        }
    }

    /// Registers `inner`'s descriptor for read and write readiness. Deprecated as in Tokio:
    /// it cannot check [`register`](Self::register)'s contract, which it needs.
    ///
    /// # Errors
    /// What `epoll_ctl` returns for a descriptor it cannot watch, on both drivers (`EPERM`
    /// for a regular file or directory, `EBADF` for a closed descriptor); outside a zokio
    /// runtime or after its shutdown (`Other`).
    #[deprecated(
        note = "cannot check the descriptor stays open and the same; use `AsyncFd::register`"
    )]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked (the reason for the deprecation, as in Tokio).
        unsafe { AsyncFd::register(inner) }.map_err(|e| e.cause)
    }

    /// As [`register_with_interest`](Self::register_with_interest), deprecated as
    /// [`new`](Self::new) is.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    #[deprecated(
        note = "cannot check the descriptor stays open and the same; use `AsyncFd::register_with_interest`"
    )]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked (the reason for the deprecation).
        unsafe { AsyncFd::register_with_interest(inner, interest) }.map_err(|e| e.cause)
    }

    /// As [`register`](Self::register), deprecated as [`new`](Self::new) is.
    ///
    /// # Errors
    /// As [`new`](Self::new), with `inner`.
    #[deprecated(
        note = "cannot check the descriptor stays open and the same; use `AsyncFd::register`"
    )]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked (the reason for the deprecation).
        unsafe { AsyncFd::register(inner) }
    }

    /// As [`register_with_interest`](Self::register_with_interest), deprecated as
    /// [`new`](Self::new) is.
    ///
    /// # Errors
    /// As [`new`](Self::new), with `inner`.
    #[deprecated(
        note = "cannot check the descriptor stays open and the same; use `AsyncFd::register_with_interest`"
    )]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked (the reason for the deprecation).
        unsafe { AsyncFd::register_with_interest(inner, interest) }
    }

    /// Runs `f` if the cached readiness allows `interest`, else fails with `WouldBlock`
    /// without calling it; an `f` that finds `WouldBlock` clears that readiness until the
    /// next event.
    ///
    /// # Errors
    /// `WouldBlock`, or what `f` returns.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.try_io(interest, || f(&self.inner))
    }

    /// As [`try_io`](Self::try_io), with mutable access to the inner value.
    ///
    /// # Errors
    /// As [`try_io`](Self::try_io).
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let inner = &mut self.inner;
        self.reg.try_io(interest, || f(inner))
    }

    /// The inner value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The inner value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Deregisters the descriptor and returns the inner value (still open).
    pub fn into_inner(self) -> T {
        let AsyncFd { reg, inner, .. } = self;
        drop(reg);
        inner
    }

    /// The interest given at construction.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    fn poll_event(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<ReadyEvent>> {
        self.reg.poll_interest(cx, interest)
    }

    /// Polls for read readiness (or a hang-up or error), registering the task to be woken.
    ///
    /// # Errors
    /// `Other` once the runtime has shut down.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            fd: self,
            event: Some(event),
        }))
    }

    /// As [`poll_read_ready`](Self::poll_read_ready), with a mutable guard.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, Interest::READABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness (or a hang-up or error), registering the task to be woken.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            fd: self,
            event: Some(event),
        }))
    }

    /// As [`poll_write_ready`](Self::poll_write_ready), with a mutable guard.
    ///
    /// # Errors
    /// As [`poll_read_ready`](Self::poll_read_ready).
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.poll_event(cx, Interest::WRITABLE))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            fd: self,
            event: Some(event),
        }))
    }

    /// Waits until the descriptor is ready for `interest` (an error or hang-up counts).
    ///
    /// # Errors
    /// `Other` once the runtime has shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
        Ok(AsyncFdReadyGuard {
            fd: self,
            event: Some(event),
        })
    }

    /// As [`ready`](Self::ready), with a mutable guard.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
        Ok(AsyncFdReadyMutGuard {
            fd: self,
            event: Some(event),
        })
    }

    /// `ready(Interest::READABLE)`.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// `ready_mut(Interest::READABLE)`.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// `ready(Interest::WRITABLE)`.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// `ready_mut(Interest::WRITABLE)`.
    ///
    /// # Errors
    /// As [`ready`](Self::ready).
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for `interest` and runs `f` until it does not fail with `WouldBlock`
    /// (clearing the readiness each time it does).
    ///
    /// # Errors
    /// What `f` returns; `Other` once the runtime has shut down.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
            match f(&self.inner) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.clear(event),
                r => return r,
            }
        }
    }

    /// As [`async_io`](Self::async_io), with mutable access to the inner value.
    ///
    /// # Errors
    /// As [`async_io`](Self::async_io).
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let event = poll_fn(|cx| self.poll_event(cx, interest)).await?;
            match f(&mut self.inner) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.clear(event),
                r => return r,
            }
        }
    }
}

impl<T: AsRawFd + Into<std::os::fd::OwnedFd>> AsyncFd<T> {
    /// [`register_with_interest`](Self::register_with_interest) for a value that owns its
    /// descriptor (an `OwnedFd`, a std socket: what converts into an `OwnedFd`), which
    /// meets the contract by itself.
    pub(crate) fn owned(inner: T, interest: Interest) -> io::Result<Self> {
        // SAFETY: such a value keeps its descriptor open and unchanged until dropped.
        unsafe { AsyncFd::register_with_interest(inner, interest) }.map_err(|e| e.cause)
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .finish()
    }
}

/// Refuses what `epoll_ctl` refuses (`EPERM` for a regular file or directory, whose
/// readiness cannot be waited for), on both drivers: an io_uring poll would accept them
/// and report them always ready. Asks a probe epoll set of the process's own (`ADD`, then
/// `DEL`), since the file type alone does not say (a pidfd is a regular file on kernels
/// with pidfs, yet pollable).
fn watchable(fd: RawFd) -> io::Result<()> {
    static PROBE: std::sync::OnceLock<Option<std::os::fd::OwnedFd>> = std::sync::OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        // SAFETY: no pointers; a new descriptor or -1.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        // SAFETY: a new descriptor nobody else owns.
        (epfd >= 0)
            .then(|| unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(epfd) })
    });
    // Without epoll there is nothing to ask; the driver decides.
    let Some(probe) = probe else { return Ok(()) };
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    // SAFETY: `ev` is a valid event for the call; `fd` is the caller's open descriptor.
    if unsafe { libc::epoll_ctl(probe.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
        let e = io::Error::last_os_error();
        // Another thread is probing the same descriptor: it is watchable.
        return if e.raw_os_error() == Some(libc::EEXIST) {
            Ok(())
        } else {
            Err(e)
        };
    }
    // SAFETY: as above; `DEL` ignores the event.
    unsafe { libc::epoll_ctl(probe.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) };
    Ok(())
}

/// Clears what `event` saw, restricted to `ready`'s bits (closed and error bits stay, as
/// the driver keeps them).
fn clear_matching(reg: &Registration, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(ev) = *event {
        let bits = ready.to_driver_bits();
        reg.clear(ev.only(bits));
        let left = ev.only(!bits);
        *event = (left.bits() != 0).then_some(left);
    }
}

fn ready_of(event: Option<ReadyEvent>) -> Ready {
    event.map_or(Ready::EMPTY, |ev| Ready::from_driver_bits(ev.bits()))
}

macro_rules! guard_methods {
    () => {
        /// Clears the readiness this guard saw: the next wait lasts until the next event.
        /// Call it after an operation found `WouldBlock`.
        pub fn clear_ready(&mut self) {
            clear_matching(&self.fd.reg, &mut self.event, Ready::ALL);
        }

        /// Clears the part of the readiness this guard saw that is in `ready` (read-
        /// and write-closed and error readiness stay set).
        pub fn clear_ready_matching(&mut self, ready: Ready) {
            clear_matching(&self.fd.reg, &mut self.event, ready);
        }

        /// Keeps the readiness (what dropping the guard does anyway).
        pub fn retain_ready(&mut self) {}

        /// What the descriptor was ready for when the guard was taken.
        pub fn ready(&self) -> Ready {
            ready_of(self.event)
        }
    };
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    guard_methods!();

    /// Runs `f`; if it fails with `WouldBlock`, clears the readiness and returns
    /// `Err(TryIoError)`, else `Ok` of its result.
    ///
    /// # Errors
    /// `TryIoError` when `f` found `WouldBlock`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            r => Ok(r),
        }
    }

    /// The `AsyncFd` this guard borrows.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The inner value.
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
    }
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    guard_methods!();

    /// As [`AsyncFdReadyGuard::try_io`], with mutable access.
    ///
    /// # Errors
    /// `TryIoError` when `f` found `WouldBlock`.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            r => Ok(r),
        }
    }

    /// The `AsyncFd` this guard borrows.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd` this guard borrows, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.fd
    }

    /// The inner value.
    pub fn get_inner(&self) -> &T {
        self.fd.get_ref()
    }

    /// The inner value, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("ready", &self.ready())
            .field("fd", self.fd)
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("ready", &self.ready())
            .field("fd", &*self.fd)
            .finish()
    }
}

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block")
    }
}

impl std::error::Error for TryIoError {}

/// The former name of [`AsyncFdRegisterError`], as Tokio keeps it.
#[doc(hidden)]
#[deprecated(note = "use `AsyncFdRegisterError`")]
pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;

impl<T> AsyncFdRegisterError<T> {
    /// The error and the value that could not be registered.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdRegisterError")
            .field("cause", &self.cause)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> std::error::Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(e: AsyncFdRegisterError<T>) -> io::Error {
        e.cause
    }
}
