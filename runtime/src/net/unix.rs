//! Unix domain sockets on the runtime's I/O driver: [`UnixListener`], [`UnixStream`],
//! [`UnixDatagram`], with Tokio's API. They register with the driver as TCP sockets do
//! (a multishot poll on io_uring, epoll otherwise), and a stream shares the TCP stream's
//! code for Tokio's `AsyncRead`/`AsyncWrite` and readiness API.

pub mod pipe;

use super::tcp::{
    async_read, async_write, fd_impls, readiness, readiness_read, readiness_write, Evented,
};
use super::udp::datagram_readiness;
use crate::driver::io::Direction;
use crate::io::{Interest, ReadBuf, Ready};
use bytes::BufMut;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net as std_unix;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The address of a Unix socket (std's type, as a path, unnamed or abstract).
pub use std::os::unix::net::SocketAddr;

/// A Unix stream listener.
pub struct UnixListener {
    inner: Evented<std_unix::UnixListener>,
}

/// A connected Unix stream socket.
pub struct UnixStream {
    inner: Arc<Evented<std_unix::UnixStream>>,
}

/// A Unix datagram socket.
pub struct UnixDatagram {
    inner: Evented<std_unix::UnixDatagram>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist) and listens. Synchronous, as Tokio's.
    ///
    /// # Errors
    /// The OS error of `bind(2)` or `listen(2)` (e.g. `AddrInUse` if `path` exists), or an
    /// error outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = match abstract_name(path.as_ref())? {
            Some(addr) => std_unix::UnixListener::bind_addr(&addr)?,
            None => std_unix::UnixListener::bind(path)?,
        };
        UnixListener::from_std(listener)
    }

    /// Binds to `addr` (a path, or an abstract name) and listens.
    ///
    /// # Errors
    /// As [`bind`](Self::bind).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_std(std_unix::UnixListener::bind_addr(addr)?)
    }

    /// Wraps a bound std listener (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            inner: Evented::new_listener(listener)?,
        })
    }

    /// The std listener, deregistered from the runtime's driver (still non-blocking).
    ///
    /// # Errors
    /// None today; `io::Result` as Tokio's signature.
    pub fn into_std(self) -> io::Result<std_unix::UnixListener> {
        Ok(self.inner.into_inner())
    }

    /// Waits for a connection. Cancel-safe: a connection stays in the kernel's queue.
    ///
    /// # Errors
    /// The OS error of `accept` (e.g. `EMFILE`).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`accept`](Self::accept) as a poll function.
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(self
            .inner
            .reg
            .poll_io(cx, Direction::Read, || self.inner.io.accept()))?;
        stream.set_nonblocking(true)?;
        Poll::Ready(Ok((
            UnixStream {
                inner: Arc::new(Evented::new_accepted(stream)?),
            },
            addr,
        )))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.io.take_error()
    }
}

impl UnixStream {
    /// Connects to the listener at `path`.
    ///
    /// # Errors
    /// The OS error of `connect(2)` (`NotFound`, `ConnectionRefused`), or an error
    /// outside a runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        use socket2::{Domain, SockAddr, Socket, Type};
        if let Some(addr) = abstract_name(path.as_ref())? {
            return UnixStream::connect_addr(&addr).await;
        }
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        UnixStream::connect_socket(socket, &SockAddr::unix(path)?).await
    }

    /// Connects the non-blocking stream `socket` to `addr` and waits until it is done.
    pub(super) async fn connect_socket(
        socket: socket2::Socket,
        addr: &socket2::SockAddr,
    ) -> io::Result<UnixStream> {
        match socket.connect(addr) {
            Ok(()) => {}
            Err(e)
                if e.raw_os_error() == Some(libc::EINPROGRESS)
                    || e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let stream = UnixStream {
            inner: Arc::new(Evented::new(std_unix::UnixStream::from(
                std::os::fd::OwnedFd::from(socket),
            ))?),
        };
        // Writable means the connection finished, one way or the other.
        poll_fn(|cx| stream.inner.reg.poll_ready(cx, Direction::Write)).await?;
        if let Some(e) = stream.inner.io.take_error()? {
            return Err(e);
        }
        Ok(stream)
    }

    /// Connects to the listener at `addr` (a path, or an abstract name). The `connect(2)`
    /// runs on the calling thread (a Unix stream connects at once unless the listener's
    /// backlog is full).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        UnixStream::from_std(std_unix::UnixStream::connect_addr(addr)?)
    }

    /// Borrowed read and write halves, usable at once from two futures of one task.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            ReadHalf { inner: &self.inner },
            WriteHalf { inner: &self.inner },
        )
    }

    /// A connected pair of unnamed sockets (`socketpair(2)`).
    ///
    /// # Errors
    /// The OS error of `socketpair`, or an error outside a runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        let end = |s: std_unix::UnixStream| -> io::Result<UnixStream> {
            s.set_nonblocking(true)?;
            Ok(UnixStream {
                inner: Arc::new(Evented::new_pair(s)?),
            })
        };
        Ok((end(a)?, end(b)?))
    }

    /// Wraps a connected std stream (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            inner: Arc::new(Evented::new(stream)?),
        })
    }

    /// The std stream, deregistered from the runtime's driver (still non-blocking).
    ///
    /// # Errors
    /// `Other` if an io_uring operation cancelled earlier still holds the socket (it
    /// lets go when the kernel completes it).
    pub fn into_std(self) -> io::Result<std_unix::UnixStream> {
        Arc::try_unwrap(self.inner)
            .map(Evented::into_inner)
            .map_err(|_| io::Error::other("a cancelled I/O operation still holds the socket"))
    }

    /// Splits into a read half and a write half that can move to different tasks, as
    /// Tokio's. Dropping the write half shuts down the write direction (the peer reads end
    /// of stream), unless it is [`forget`](OwnedWriteHalf::forget)-ten.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf {
                inner: self.inner.clone(),
            },
            OwnedWriteHalf {
                inner: self.inner,
                shutdown_on_drop: true,
            },
        )
    }

    /// The credentials of the peer process, as the kernel recorded them when the
    /// connection (or pair) was made (`SO_PEERCRED`).
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn peer_cred(&self) -> io::Result<UCred> {
        peer_cred(&self.inner.io)
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.io.take_error()
    }
}

/// The read half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub struct ReadHalf<'a> {
    inner: &'a Evented<std_unix::UnixStream>,
}

/// The write half of a [`UnixStream`] borrowed by [`UnixStream::split`]; `shutdown`
/// shuts down the stream's write direction.
pub struct WriteHalf<'a> {
    inner: &'a Evented<std_unix::UnixStream>,
}

impl fmt::Debug for ReadHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("unix::ReadHalf").finish_non_exhaustive()
    }
}

impl fmt::Debug for WriteHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("unix::WriteHalf").finish_non_exhaustive()
    }
}

/// The read half of a [`UnixStream`], from [`UnixStream::into_split`].
pub struct OwnedReadHalf {
    inner: Arc<Evented<std_unix::UnixStream>>,
}

/// The write half of a [`UnixStream`], from [`UnixStream::into_split`]; shuts down the
/// write direction when dropped.
pub struct OwnedWriteHalf {
    inner: Arc<Evented<std_unix::UnixStream>>,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Puts the halves of one stream back together (the write half then no longer shuts
    /// down the write direction, as it would when dropped).
    ///
    /// # Errors
    /// [`ReuniteError`], with both halves, if they come from different streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<UnixStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.forget();
        Ok(UnixStream { inner: self.inner })
    }

    /// See [`UnixStream::peer_addr`].
    ///
    /// # Errors
    /// As there.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// See [`UnixStream::local_addr`].
    ///
    /// # Errors
    /// As there.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Drops the half without shutting down the write direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// See [`UnixStream::peer_addr`].
    ///
    /// # Errors
    /// As there.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// See [`UnixStream::local_addr`].
    ///
    /// # Errors
    /// As there.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.io.shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("unix::OwnedReadHalf")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("unix::OwnedWriteHalf")
            .finish_non_exhaustive()
    }
}

/// The error of [`OwnedReadHalf::reunite`]: the two halves came from different streams;
/// they are given back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl std::error::Error for ReuniteError {}

/// The credentials of a Unix socket's peer process ([`UnixStream::peer_cred`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: Option<libc::pid_t>,
    uid: libc::uid_t,
    gid: libc::gid_t,
}

impl UCred {
    /// The peer's user id.
    pub fn uid(&self) -> libc::uid_t {
        self.uid
    }

    /// The peer's group id.
    pub fn gid(&self) -> libc::gid_t {
        self.gid
    }

    /// The peer's process id (always known on Linux).
    pub fn pid(&self) -> Option<libc::pid_t> {
        self.pid
    }
}

fn peer_cred(socket: &impl AsRawFd) -> io::Result<UCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for the call and `len` is `cred`'s size; the
    // kernel writes at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UCred {
        pid: Some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

async_read!(UnixStream);
async_read!(OwnedReadHalf);
async_read!(ReadHalf<'_>);
async_write!(UnixStream);
async_write!(OwnedWriteHalf);
async_write!(WriteHalf<'_>);
readiness!(UnixStream);
readiness!(OwnedReadHalf);
readiness!(OwnedWriteHalf);
readiness!(ReadHalf<'_>);
readiness!(WriteHalf<'_>);
readiness_read!(UnixStream);
readiness_read!(OwnedReadHalf);
readiness_read!(ReadHalf<'_>);
readiness_write!(UnixStream);
readiness_write!(OwnedWriteHalf);
readiness_write!(WriteHalf<'_>);
fd_impls!(UnixListener);
fd_impls!(UnixStream);
fd_impls!(UnixDatagram);

impl UnixDatagram {
    /// A datagram socket bound to `path`.
    ///
    /// # Errors
    /// The OS error of `bind(2)`, or an error outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let socket = match abstract_name(path.as_ref())? {
            Some(addr) => std_unix::UnixDatagram::bind_addr(&addr)?,
            None => std_unix::UnixDatagram::bind(path)?,
        };
        UnixDatagram::from_std(socket)
    }

    /// A datagram socket bound to no address.
    ///
    /// # Errors
    /// The OS error of `socket(2)`, or an error outside a runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(std_unix::UnixDatagram::unbound()?)
    }

    /// A connected pair of unnamed datagram sockets.
    ///
    /// # Errors
    /// The OS error of `socketpair`, or an error outside a runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        let end = |s: std_unix::UnixDatagram| -> io::Result<UnixDatagram> {
            s.set_nonblocking(true)?;
            Ok(UnixDatagram {
                inner: Evented::new_pair(s)?,
            })
        };
        Ok((end(a)?, end(b)?))
    }

    /// Wraps a std datagram socket (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            inner: Evented::new(socket)?,
        })
    }

    /// The std socket, deregistered from the runtime's driver (still non-blocking).
    ///
    /// # Errors
    /// None today; `io::Result` as Tokio's signature.
    pub fn into_std(self) -> io::Result<std_unix::UnixDatagram> {
        Ok(self.inner.into_inner())
    }

    /// Sets the default peer for `send` and `recv`.
    ///
    /// # Errors
    /// The OS error of `connect(2)`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.io.connect(path)
    }

    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        crate::coop::poll_budgeted(cx, |cx| self.inner.reg.poll_io(cx, dir, &mut op))
    }

    /// Sends `buf` to the connected peer as one datagram.
    ///
    /// # Errors
    /// The OS error of `send(2)`.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Write, || self.inner.io.send(buf))).await
    }

    /// Receives one datagram from the connected peer. Cancel-safe.
    ///
    /// # Errors
    /// The OS error of `recv(2)`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.recv(buf))).await
    }

    /// Sends `buf` to the socket at `target`.
    ///
    /// # Errors
    /// The OS error of `sendto(2)`.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
        poll_fn(|cx| self.poll_op(cx, Direction::Write, || self.inner.io.send_to(buf, target)))
            .await
    }

    /// Receives one datagram and its sender's address. Cancel-safe.
    ///
    /// # Errors
    /// The OS error of `recvfrom(2)`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.recv_from(buf))).await
    }

    /// Polls to send `buf` to the connected peer.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_op(cx, Direction::Write, || self.inner.io.send(buf))
    }

    /// Polls to send `buf` to `target`.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let target = target.as_ref();
        self.poll_op(cx, Direction::Write, || self.inner.io.send_to(buf, target))
    }

    /// Polls to receive a datagram from the connected peer into `buf`.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = ready!(self.poll_op(cx, Direction::Read, || {
            self.inner.io.recv(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Polls to receive a datagram into `buf`, returning its sender.
    ///
    /// # Errors
    /// As [`recv_from`](Self::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (n, addr) = ready!(self.poll_op(cx, Direction::Read, || {
            self.inner.io.recv_from(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(addr))
    }

    /// Receives a datagram from the connected peer into the unfilled part of `buf`.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.recv_into(buf))).await
    }

    /// Receives a datagram into the unfilled part of `buf`, with its sender.
    ///
    /// # Errors
    /// As [`recv_from`](Self::recv_from).
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.recv_from_into(buf))).await
    }

    /// As [`recv_buf`](Self::recv_buf), without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if nothing is queued; else as [`recv`](Self::recv).
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.inner
            .reg
            .try_io(Interest::READABLE, || self.recv_into(buf))
    }

    /// As [`recv_buf_from`](Self::recv_buf_from), without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if nothing is queued; else as [`recv_from`](Self::recv_from).
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.inner
            .reg
            .try_io(Interest::READABLE, || self.recv_from_into(buf))
    }

    /// One `recv` into `buf`'s next chunk (zeroed first: std's datagram calls take
    /// initialised memory), advancing it.
    fn recv_into<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        let chunk = init_chunk(buf);
        let n = self.inner.io.recv(chunk)?;
        // SAFETY: the chunk's first `n` bytes are initialised (zeroed, then received).
        unsafe { buf.advance_mut(n) };
        Ok(n)
    }

    fn recv_from_into<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let chunk = init_chunk(buf);
        let (n, addr) = self.inner.io.recv_from(chunk)?;
        // SAFETY: as in `recv_into`.
        unsafe { buf.advance_mut(n) };
        Ok((n, addr))
    }

    /// Sends to the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the socket cannot take it now; else as [`send`](Self::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .reg
            .try_io(Interest::WRITABLE, || self.inner.io.send(buf))
    }

    /// Sends to `target` without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the socket cannot take it now; else as [`send_to`](Self::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        self.inner
            .reg
            .try_io(Interest::WRITABLE, || self.inner.io.send_to(buf, target))
    }

    /// Receives from the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if nothing is queued; else as [`recv`](Self::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .reg
            .try_io(Interest::READABLE, || self.inner.io.recv(buf))
    }

    /// Receives a datagram and its sender without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if nothing is queued; else as [`recv_from`](Self::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner
            .reg
            .try_io(Interest::READABLE, || self.inner.io.recv_from(buf))
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` without [`connect`](Self::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// Shuts down reading, writing or both.
    ///
    /// # Errors
    /// The OS error of `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.io.shutdown(how)
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.io.take_error()
    }
}

/// A path that starts with a NUL byte names an abstract socket (Linux), as with Tokio:
/// its address, or `None` for a filesystem path.
fn abstract_name(path: &Path) -> io::Result<Option<SocketAddr>> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    match path.as_os_str().as_bytes() {
        [0, name @ ..] => SocketAddr::from_abstract_name(name).map(Some),
        _ => Ok(None),
    }
}

/// `buf`'s next chunk, zeroed, as an initialised slice (std's calls take `&mut [u8]`).
fn init_chunk<B: BufMut>(buf: &mut B) -> &mut [u8] {
    let chunk = buf.chunk_mut();
    let len = chunk.len();
    // SAFETY: `write_bytes` initialises all `len` bytes of the chunk, after which it is a
    // valid `[u8]` of that length for as long as `buf` is borrowed.
    unsafe {
        std::ptr::write_bytes(chunk.as_mut_ptr(), 0, len);
        std::slice::from_raw_parts_mut(chunk.as_mut_ptr(), len)
    }
}

datagram_readiness!(UnixDatagram);

macro_rules! debug_addr {
    ($($ty:ident),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("local_addr", &self.inner.io.local_addr().ok())
                    .finish()
            }
        }
    )*};
}

debug_addr!(UnixListener, UnixStream, UnixDatagram);

impl TryFrom<std_unix::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl TryFrom<std_unix::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl TryFrom<std_unix::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}
