//! Sockets configured before they connect or listen, Tokio's builders: [`TcpSocket`] and
//! [`UnixSocket`]. Each wraps a `socket2::Socket` (non-blocking, close-on-exec from the
//! start) and becomes a zokio stream, listener or datagram socket, registered with the
//! current runtime's I/O driver, when it connects or listens.

use super::{TcpListener, TcpStream, UnixDatagram, UnixListener, UnixStream};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::Duration;

/// A TCP socket not yet connected or listening: set its options, [`bind`](Self::bind) it,
/// then [`connect`](Self::connect) or [`listen`](Self::listen). As Tokio's.
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    /// The OS error of `socket(2)` (`EMFILE`, ...).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    /// As [`new_v4`](Self::new_v4).
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = Socket::new(
            domain,
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        Ok(TcpSocket { inner })
    }

    /// `SO_KEEPALIVE`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// `SO_REUSEADDR`: bind a port whose earlier connections are in `TIME_WAIT`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// `SO_REUSEPORT`: several sockets bind one port, the kernel spreading connections.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// `SO_SNDBUF`, in bytes (Linux doubles the value given, and reports the doubled one).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// `SO_SNDBUF`, in bytes.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| n as u32)
    }

    /// `SO_RCVBUF`, in bytes (doubled by Linux, as `SO_SNDBUF`).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// `SO_RCVBUF`, in bytes.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| n as u32)
    }

    /// `SO_LINGER`: `Some(d)` makes `close` wait up to `d` for unsent data (`Some(0)`
    /// resets the connection); `None` turns it off.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// `SO_LINGER`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// `set_linger(Some(Duration::ZERO))`: closing resets the connection at once.
    ///
    /// # Errors
    /// As [`set_linger`](Self::set_linger).
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// `IP_TOS` of an IPv4 socket: the type-of-service byte of the packets sent.
    ///
    /// # Errors
    /// The OS error of `setsockopt` (on an IPv6 socket, say).
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos(tos)
    }

    /// `IP_TOS`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos()
    }

    /// `IPV6_TCLASS` of an IPv6 socket: the traffic class of the packets sent.
    ///
    /// # Errors
    /// The OS error of `setsockopt` (on an IPv4 socket, say).
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// `IPV6_TCLASS`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// `TCP_NODELAY`: send small segments at once instead of coalescing them (Nagle).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// `SO_BINDTODEVICE`: only packets of interface `interface` (`None` clears it). Needs
    /// `CAP_NET_RAW`.
    ///
    /// # Errors
    /// The OS error of `setsockopt` (`EPERM` without the capability).
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// The interface of `SO_BINDTODEVICE`, if set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// The local address (after [`bind`](Self::bind), or the one `connect` picked).
    ///
    /// # Errors
    /// The OS error of `getsockname`; `InvalidInput` for a socket of another family.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds to `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// The OS error of `bind(2)` (`AddrInUse`, `AddrNotAvailable`, ...).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// Connects to `addr` and waits for the handshake; the stream is registered with the
    /// current runtime's I/O driver.
    ///
    /// # Errors
    /// As [`TcpStream::connect`].
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }

    /// Listens with a queue of up to `backlog` connections not yet accepted.
    ///
    /// # Errors
    /// The OS error of `listen(2)`; an error outside a runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        TcpListener::from_std(self.inner.into())
    }

    /// The socket of a connected std stream, to read or change its options.
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            inner: Socket::from(stream),
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    /// `fd` is an open TCP socket this value may own (and close).
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        // SAFETY: forwarded to the caller.
        let inner = unsafe { Socket::from_raw_fd(fd) };
        TcpSocket { inner }
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}

impl From<OwnedFd> for TcpSocket {
    fn from(fd: OwnedFd) -> TcpSocket {
        TcpSocket {
            inner: Socket::from(fd),
        }
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("fd", &self.inner.as_raw_fd())
            .finish()
    }
}

/// A Unix socket not yet connected or listening: a stream one (to [`listen`](Self::listen)
/// or [`connect`](Self::connect)) or a datagram one (to make a
/// [`datagram`](Self::datagram) socket), optionally [`bind`](Self::bind)-ed first. As
/// Tokio's.
pub struct UnixSocket {
    inner: Socket,
    stream: bool,
}

impl UnixSocket {
    /// A new Unix stream socket.
    ///
    /// # Errors
    /// The OS error of `socket(2)`.
    pub fn new_stream() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::STREAM, true)
    }

    /// A new Unix datagram socket.
    ///
    /// # Errors
    /// The OS error of `socket(2)`.
    pub fn new_datagram() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::DGRAM, false)
    }

    fn new(ty: Type, stream: bool) -> io::Result<UnixSocket> {
        let inner = Socket::new(Domain::UNIX, ty.nonblocking().cloexec(), None)?;
        Ok(UnixSocket { inner, stream })
    }

    /// The local address (after [`bind`](Self::bind)).
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        let std = std::os::unix::net::UnixDatagram::from(self.inner.try_clone()?);
        std.local_addr()
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds to `path` (which must not exist).
    ///
    /// # Errors
    /// The OS error of `bind(2)` (`AddrInUse` if `path` exists).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&SockAddr::unix(path)?)
    }

    /// Listens with a queue of up to `backlog` connections not yet accepted.
    ///
    /// # Errors
    /// `InvalidInput` for a datagram socket; the OS error of `listen(2)`; an error
    /// outside a runtime.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        self.expect(true, "listen")?;
        self.inner.listen(backlog.min(i32::MAX as u32) as i32)?;
        UnixListener::from_std(OwnedFd::from(self.inner).into())
    }

    /// Connects to the listener at `path`.
    ///
    /// # Errors
    /// `InvalidInput` for a datagram socket; as [`UnixStream::connect`].
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        self.expect(true, "connect")?;
        let addr = SockAddr::unix(path)?;
        UnixStream::connect_socket(self.inner, &addr).await
    }

    /// The datagram socket, registered with the current runtime's I/O driver.
    ///
    /// # Errors
    /// `InvalidInput` for a stream socket; an error outside a runtime.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        self.expect(false, "datagram")?;
        UnixDatagram::from_std(OwnedFd::from(self.inner).into())
    }

    fn expect(&self, stream: bool, what: &str) -> io::Result<()> {
        if self.stream == stream {
            return Ok(());
        }
        let kind = if self.stream { "stream" } else { "datagram" };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} cannot be called on a {kind} socket"),
        ))
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket")
            .field("fd", &self.inner.as_raw_fd())
            .field("stream", &self.stream)
            .finish()
    }
}
