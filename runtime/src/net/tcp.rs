//! TCP: [`TcpListener`], [`TcpStream`] and the halves a stream splits into, under
//! `tokio::net::tcp`'s names ([`OwnedReadHalf`], [`OwnedWriteHalf`], [`ReadHalf`],
//! [`WriteHalf`], [`ReuniteError`]).

use crate::driver::io::{transfer_len, Direction, Registration};
use crate::io::{Interest, Ready};
use crate::net::addr::resolve;
use crate::net::ToSocketAddrs;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// A non-blocking socket and its registration. The registration is declared first so it
/// is dropped (deregistered) before the socket closes.
pub(crate) struct Evented<S> {
    pub(super) reg: Registration,
    pub(super) io: S,
}

impl<S: AsRawFd> Evented<S> {
    pub(super) fn new(io: S) -> io::Result<Evented<S>> {
        Ok(Evented {
            reg: Registration::new(io.as_raw_fd())?,
            io,
        })
    }

    /// As [`new`](Self::new) for one end of a fresh socket pair
    /// (`Registration::new_pair`).
    pub(super) fn new_pair(io: S) -> io::Result<Evented<S>> {
        Ok(Evented {
            reg: Registration::new_pair(io.as_raw_fd())?,
            io,
        })
    }

    /// The socket, deregistered from the driver (still non-blocking).
    pub(super) fn into_inner(self) -> S {
        let Evented { reg, io } = self;
        drop(reg);
        io
    }

    /// As [`new`](Self::new) for a socket from `accept`, registered with the worker on the
    /// CPU its packets arrive on (`Registration::new_accepted`).
    pub(super) fn new_accepted(io: S) -> io::Result<Evented<S>> {
        Ok(Evented {
            reg: Registration::new_accepted(io.as_raw_fd())?,
            io,
        })
    }

    /// As [`new`](Self::new) for a listening socket (`Registration::new_listener`).
    pub(super) fn new_listener(io: S) -> io::Result<Evented<S>> {
        Ok(Evented {
            reg: Registration::new_listener(io.as_raw_fd())?,
            io,
        })
    }
}

fn bind_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.cloexec(),
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// A TCP socket server, listening for connections.
pub struct TcpListener {
    inner: Evented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first resolved address that binds; port 0 picks a free port).
    ///
    /// # Errors
    /// The OS error of the last address tried (e.g. `AddrInUse`), or an error outside a
    /// runtime.
    ///
    /// The socket gets `SO_REUSEADDR` and a listen backlog of 1024 (as Tokio's; std's is
    /// 128, which drops or resets connections under a connection storm).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for a in resolve(addr).await? {
            match bind_listener(a) {
                Ok(l) => return TcpListener::from_std(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    /// Wraps a bound std listener (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            inner: Evented::new_listener(listener)?,
        })
    }

    /// The std listener, deregistered from the runtime's driver; it stays in
    /// non-blocking mode, as Tokio's.
    ///
    /// # Errors
    /// None today; `io::Result` as Tokio's signature.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.inner.into_inner())
    }

    /// Waits for a connection. Cancel-safe: a connection is never lost by dropping the
    /// future (it stays in the kernel's accept queue).
    ///
    /// # Errors
    /// The OS error of `accept` (e.g. `EMFILE` when out of file descriptors).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`accept`](Self::accept) as a poll function (Tokio's `poll_accept`): `Pending` (the
    /// waker registered) until a connection is waiting, then accepts it.
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        // accept4 with SOCK_NONBLOCK: the socket comes back non-blocking, one syscall per
        // connection fewer than accept and then FIONBIO (Tokio, through mio, does the same).
        let (socket, peer) = ready!(self.inner.reg.poll_io(cx, Direction::Read, || {
            socket2::SockRef::from(&self.inner.io).accept4(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
        }))?;
        let peer = peer
            .as_socket()
            .ok_or_else(|| io::Error::other("accepted a TCP connection from a non-IP address"))?;
        let stream = std::net::TcpStream::from(socket);
        let stream = TcpStream {
            inner: Arc::new(Evented::new_accepted(stream)?),
        };
        Poll::Ready(Ok((stream, peer)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
pub struct TcpStream {
    inner: Arc<Evented<std::net::TcpStream>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    /// The last address's error: `ConnectionRefused` when nothing listens, `TimedOut`,
    /// `NetworkUnreachable`, ...; or an error outside a runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for a in resolve(addr).await? {
            match TcpStream::connect_addr(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        TcpStream::connect_socket(socket, addr).await
    }

    /// Connects the non-blocking `socket` to `addr` and waits for the handshake.
    pub(super) async fn connect_socket(
        socket: socket2::Socket,
        addr: SocketAddr,
    ) -> io::Result<TcpStream> {
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream {
            inner: Arc::new(Evented::new(std::net::TcpStream::from(socket))?),
        };
        // Writable means the handshake finished, one way or the other; or the readiness
        // was spurious (the kernel may report it, and tests/faults.rs injects it): then
        // the socket has no error, no peer and no hang-up yet, and the wait goes on.
        loop {
            let ev = poll_fn(|cx| stream.inner.reg.poll_ready(cx, Direction::Write)).await?;
            if let Some(e) = stream.inner.io.take_error()? {
                return Err(e);
            }
            match stream.inner.io.peer_addr() {
                Ok(_) => return Ok(stream),
                Err(e) if e.kind() == io::ErrorKind::NotConnected && !ev.is_closed_or_error() => {
                    stream.inner.reg.clear(ev)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Wraps a connected std stream (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            inner: Arc::new(Evented::new(stream)?),
        })
    }

    /// The std stream, deregistered from the runtime's driver; it stays in non-blocking
    /// mode (`set_nonblocking(false)` to use it with blocking calls), as Tokio's.
    ///
    /// # Errors
    /// `Other` if an io_uring operation cancelled earlier still holds the socket (it
    /// lets go when the kernel completes it).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Arc::try_unwrap(self.inner)
            .map(Evented::into_inner)
            .map_err(|_| io::Error::other("a cancelled I/O operation still holds the socket"))
    }

    /// Reads into `buf`'s spare capacity (`capacity - len` bytes at most, not zeroed
    /// first), appending what arrives, and gives the buffer back: the owned-buffer read
    /// that completion-based I/O wants. `Ok(0)` is end of stream. Cancel-safe: no data is
    /// lost when the future is dropped. Tokio's `read(&mut [u8])` is
    /// [`AsyncReadExt::read`](crate::io::AsyncReadExt::read).
    ///
    /// # Errors
    /// `InvalidInput` if `buf` has no spare capacity (a `vec![0; n]` has none: use
    /// `Vec::with_capacity(n)`), so that it is never mistaken for end of stream; else the
    /// OS error of `recv`.
    pub async fn read_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        read_owned(&self.inner, buf).await
    }

    /// Writes some of `buf` (one `write`), returning how much, and gives the buffer back.
    ///
    /// # Errors
    /// The OS error of `send`.
    pub async fn write_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let r = poll_fn(|cx| poll_write(&self.inner, cx, &buf)).await;
        (r, buf)
    }

    /// Writes all of `buf`, and gives the buffer back. Tokio's `write_all(&[u8])` is
    /// [`AsyncWriteExt::write_all`](crate::io::AsyncWriteExt::write_all).
    ///
    /// # Errors
    /// The OS error of `send`; an unknown prefix was written.
    pub async fn write_all_owned(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        write_all_owned(&self.inner, buf).await
    }

    /// Sends up to `len` bytes of `file` (a [`crate::fs::File`], a `std::fs::File`, any
    /// fd `sendfile` reads from) from `offset` without copying them through user space (`sendfile(2)`, once the socket is writable, on both drivers); returns how
    /// many were sent (fewer than `len` when the socket buffer filled or the file ended;
    /// 0 at the end of the file). Cancel-safe: nothing is sent unless the result is
    /// returned.
    ///
    /// # Errors
    /// The OS error of `sendfile` (e.g. `BrokenPipe`, `ConnectionReset`).
    pub async fn send_file<F: AsFd + Sync>(
        &self,
        file: &F,
        offset: u64,
        len: usize,
    ) -> io::Result<usize> {
        let in_fd = file.as_fd().as_raw_fd();
        let out_fd = self.inner.io.as_raw_fd();
        if len == 0 {
            return Ok(0);
        }
        // Not `poll_rw`: a short sendfile does not mean the socket is full (the kernel
        // moves at most its internal pipe, 64 KiB, per call), so readiness is cleared only
        // on `WouldBlock` (clearing it on a short count lost the next edge on io_uring).
        poll_fn(|cx| {
            crate::coop::poll_budgeted(cx, |cx| {
                self.inner.reg.poll_io(cx, Direction::Write, || {
                    let mut off = offset as libc::off_t;
                    // SAFETY: both fds are open (borrowed for the call); `off` is a live
                    // local the kernel updates.
                    let n = unsafe { libc::sendfile(out_fd, in_fd, &mut off, len) };
                    if n < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(n as usize)
                    }
                })
            })
        })
        .await
    }

    /// Sends `len` bytes of `file` from `offset` with as many [`send_file`](Self::send_file)
    /// calls as it takes.
    ///
    /// # Errors
    /// As `send_file`; `UnexpectedEof` if the file ends before `len` bytes.
    pub async fn send_file_all<F: AsFd + Sync>(
        &self,
        file: &F,
        offset: u64,
        len: usize,
    ) -> io::Result<()> {
        let mut sent = 0;
        while sent < len {
            match self
                .send_file(file, offset + sent as u64, len - sent)
                .await?
            {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => sent += n,
            }
        }
        Ok(())
    }

    /// Reads into `buf`, or registers the task to be woken when data arrives.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read(&self.inner, cx, buf)
    }

    /// Reads into `len` bytes at `ptr`, which may be uninitialised (for hyper's cursor).
    #[cfg(feature = "hyper")]
    pub(crate) fn poll_read_raw(
        &self,
        cx: &mut Context<'_>,
        ptr: *mut u8,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        let fd = self.inner.io.as_raw_fd();
        poll_rw(&self.inner, cx, Direction::Read, len, |offer| {
            // SAFETY: the caller hands us `len` writable bytes at `ptr` for this call; the
            // kernel writes at most `offer <= len` of them.
            let n = unsafe { libc::read(fd, ptr.cast(), offer) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
    }

    /// Writes from `buf`, or registers the task to be woken when there is room.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_write(&self.inner, cx, buf)
    }

    /// Shuts down the read, write or both halves at once (`shutdown(2)`, as std's
    /// `TcpStream::shutdown`); shutting down the write half sends FIN, so the peer reads
    /// end of stream. Tokio's `stream.shutdown().await` (the write half) is
    /// [`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown).
    ///
    /// # Errors
    /// The OS error (e.g. `NotConnected`).
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.inner.io.shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.io.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.io.nodelay()
    }

    /// The remote address.
    ///
    /// # Errors
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// Receives into `buf` without removing the data from the socket's queue (`MSG_PEEK`),
    /// once data is there; the next read returns the same bytes. `Ok(0)`: end of stream.
    ///
    /// # Errors
    /// The OS error of `recv`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| poll_peek(&self.inner, cx, buf)).await
    }

    /// Sets `SO_LINGER`: with `Some(t)`, closing waits up to `t` for unsent data; with
    /// `Some(0)`, closing resets the connection (RST) at once; `None` (the default) closes
    /// in the background.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        socket2::SockRef::from(&self.inner.io).set_linger(linger)
    }

    /// `SO_LINGER` as [`set_linger`](Self::set_linger) takes it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        socket2::SockRef::from(&self.inner.io).linger()
    }

    /// Sets `TCP_QUICKACK`: acknowledge at once rather than delaying ACKs (the kernel
    /// may turn it off again by itself; Linux only).
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        socket2::SockRef::from(&self.inner.io).set_quickack(quickack)
    }

    /// Whether `TCP_QUICKACK` is set.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn quickack(&self) -> io::Result<bool> {
        socket2::SockRef::from(&self.inner.io).quickack()
    }

    /// Sets `IP_TTL`, the time-to-live of the packets sent.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.io.set_ttl(ttl)
    }

    /// `IP_TTL`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.io.ttl()
    }

    /// `set_linger(Some(Duration::ZERO))`: closing resets the connection at once.
    ///
    /// # Errors
    /// As [`set_linger`](Self::set_linger).
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(std::time::Duration::ZERO))
    }

    /// Splits into a read half and a write half borrowed from the stream, for use in one
    /// task (for example both in a `join!`); Tokio's `TcpStream::split`. Shutting down the
    /// write half ([`AsyncWriteExt::shutdown`](crate::io::AsyncWriteExt::shutdown)) sends
    /// FIN; dropping it does nothing.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            ReadHalf { inner: &self.inner },
            WriteHalf { inner: &self.inner },
        )
    }

    /// Splits into a read half and a write half that can move to different tasks. Dropping
    /// the write half shuts down the write direction (the peer reads end of stream).
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
}

/// Reads into `buf`'s spare capacity without initialising it first: the kernel writes the
/// bytes that arrive and the length grows by that many, so a 64 KiB buffer receiving a
/// 4 KiB message costs a 4 KiB copy, not a 64 KiB memset as well.
async fn read_owned<S: StreamSocket>(
    inner: &Evented<S>,
    mut buf: Vec<u8>,
) -> (io::Result<usize>, Vec<u8>) {
    let start = buf.len();
    let spare = buf.capacity() - start;
    if spare == 0 {
        return (Err(crate::io::no_spare_capacity()), buf);
    }
    let r = poll_fn(|cx| {
        let dst = buf.spare_capacity_mut();
        poll_rw(inner, cx, Direction::Read, spare, |offer| {
            recv_uninit(&inner.io, &mut dst[..offer])
        })
    })
    .await;
    if let Ok(n) = r {
        // SAFETY: `recv_uninit` returned `n`: the kernel wrote the first `n` bytes of the
        // spare capacity, so `start + n` bytes are initialised, and `n <= spare`.
        unsafe { buf.set_len(start + n) };
    }
    (r, buf)
}

/// One `recv(2)` into possibly uninitialised memory; how many bytes it wrote.
fn recv_uninit(socket: &impl AsRawFd, dst: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `dst` is valid for writes of `dst.len()` bytes, the kernel writes at most
    // that many and reads none of them, and the socket's fd is open for the call.
    let n = unsafe { libc::recv(socket.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

async fn write_all_owned<S: StreamSocket>(
    inner: &Evented<S>,
    buf: Vec<u8>,
) -> (io::Result<()>, Vec<u8>) {
    let mut done = 0;
    while done < buf.len() {
        match poll_fn(|cx| poll_write(inner, cx, &buf[done..])).await {
            Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
            Ok(n) => done += n,
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

pub(crate) fn poll_read<S: StreamSocket>(
    inner: &Evented<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    poll_rw(inner, cx, Direction::Read, len, |offer| {
        inner.io.read_std(&mut buf[..offer])
    })
}

/// One `writev(2)` of `bufs` once the socket is writable (see [`poll_write`]).
pub(crate) fn poll_write_vectored<S: StreamSocket>(
    inner: &Evented<S>,
    cx: &mut Context<'_>,
    bufs: &[io::IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let len = bufs.iter().map(|b| b.len()).sum();
    poll_rw(inner, cx, Direction::Write, len, |offer| {
        if offer == len {
            inner.io.write_vectored_std(bufs)
        } else {
            // Offered fewer bytes (fault injection): the slices' first `offer` bytes, all
            // of them, or a transfer short of the offer would read as a full socket.
            let mut left = offer;
            let prefix: Vec<io::IoSlice<'_>> = bufs
                .iter()
                .filter(|b| !b.is_empty())
                .map_while(|b| {
                    let take = b.len().min(left);
                    left -= take;
                    (take > 0).then(|| io::IoSlice::new(&b[..take]))
                })
                .collect();
            inner.io.write_vectored_std(&prefix)
        }
    })
}

pub(crate) fn poll_write<S: StreamSocket>(
    inner: &Evented<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    poll_rw(inner, cx, Direction::Write, buf.len(), |offer| {
        inner.io.write_std(&buf[..offer])
    })
}

/// One read or write of up to `len` bytes through `op` once `dir` is ready: a coop yield
/// point, and a short transfer clears the readiness it used (see
/// `Registration::poll_io_until_drained`). `op` gets how many bytes to offer the system
/// call: `len`, or fewer under fault injection (see [`crate::fault`]).
fn poll_rw<S>(
    inner: &Evented<S>,
    cx: &mut Context<'_>,
    dir: Direction,
    len: usize,
    mut op: impl FnMut(usize) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    if len == 0 {
        return Poll::Ready(Ok(0));
    }
    let offer = transfer_len(len);
    crate::coop::poll_budgeted(cx, |cx| {
        inner
            .reg
            .poll_io_until_drained(cx, dir, || op(offer), |&n| n > 0 && n < offer)
    })
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
pub struct OwnedReadHalf {
    inner: Arc<Evented<std::net::TcpStream>>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`]; shuts down the write
/// direction when dropped.
pub struct OwnedWriteHalf {
    inner: Arc<Evented<std::net::TcpStream>>,
    shutdown_on_drop: bool,
}

impl OwnedReadHalf {
    /// Puts the halves of one stream back together (the write half then no longer shuts
    /// down the write direction, as it would when dropped).
    ///
    /// # Errors
    /// [`ReuniteError`], with both halves, if they come from different streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        other.forget();
        Ok(TcpStream { inner: self.inner })
    }

    /// See [`TcpStream::peek`].
    ///
    /// # Errors
    /// As there.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| poll_peek(&self.inner, cx, buf)).await
    }

    /// See [`TcpStream::read_owned`].
    ///
    /// # Errors
    /// As there.
    pub async fn read_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        read_owned(&self.inner, buf).await
    }

    /// See [`TcpStream::peer_addr`].
    ///
    /// # Errors
    /// As there.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }
}

impl OwnedWriteHalf {
    /// See [`TcpStream::write_all_owned`].
    ///
    /// # Errors
    /// As there.
    pub async fn write_all_owned(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        write_all_owned(&self.inner, buf).await
    }

    /// See [`TcpStream::write_owned`].
    ///
    /// # Errors
    /// As there.
    pub async fn write_owned(&self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let r = poll_fn(|cx| poll_write(&self.inner, cx, &buf)).await;
        (r, buf)
    }

    /// Drops the half without shutting down the write direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
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
        f.debug_struct("OwnedReadHalf").finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf").finish_non_exhaustive()
    }
}

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub struct ReadHalf<'a> {
    inner: &'a Evented<std::net::TcpStream>,
}

/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub struct WriteHalf<'a> {
    inner: &'a Evented<std::net::TcpStream>,
}

impl ReadHalf<'_> {
    /// See [`TcpStream::peek`].
    ///
    /// # Errors
    /// As there.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| poll_peek(self.inner, cx, buf)).await
    }
}

impl fmt::Debug for ReadHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl fmt::Debug for WriteHalf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
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

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

/// Resolves `host` (a `"name:port"` string, a `(name, port)` pair, a socket address) to
/// its socket addresses, as Tokio's `lookup_host`. A host name is looked up on the blocking
/// pool with std's resolver (`getaddrinfo`); an IP literal needs no lookup.
///
/// # Errors
/// The resolver's error (`Other` with its message for an unknown host); `InvalidInput`
/// for a malformed address or one that resolves to nothing.
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(host).await?.into_iter())
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

/// A connected stream socket, TCP or Unix: what the stream helpers here (owned-buffer
/// I/O, the async traits, the readiness API) need of it.
pub(crate) trait StreamSocket: AsRawFd + Send + Sync + 'static {
    /// `shutdown(2)` in `how`.
    fn shutdown_std(&self, how: Shutdown) -> io::Result<()>;
    /// One non-blocking `read`.
    fn read_std(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// One non-blocking `readv`.
    fn read_vectored_std(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize>;
    /// One non-blocking `write`.
    fn write_std(&self, buf: &[u8]) -> io::Result<usize>;
    /// One non-blocking `writev`.
    fn write_vectored_std(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize>;
}

/// `StreamSocket` for a std stream whose `&` implements `Read` and `Write`.
macro_rules! stream_socket {
    ($ty:ty) => {
        impl StreamSocket for $ty {
            fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
                self.shutdown(how)
            }

            fn read_std(&self, buf: &mut [u8]) -> io::Result<usize> {
                (&*self).read(buf)
            }

            fn read_vectored_std(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
                (&*self).read_vectored(bufs)
            }

            fn write_std(&self, buf: &[u8]) -> io::Result<usize> {
                (&*self).write(buf)
            }

            fn write_vectored_std(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                (&*self).write_vectored(bufs)
            }
        }
    };
}

stream_socket!(std::net::TcpStream);
stream_socket!(std::os::unix::net::UnixStream);

/// Shuts down the write direction (FIN); a connection already gone (`NotConnected`, say
/// after the peer's reset) counts as shut down, as in Tokio.
pub(crate) fn shutdown_write(socket: &impl StreamSocket) -> io::Result<()> {
    match socket.shutdown_std(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        r => r,
    }
}

/// One `recv(MSG_PEEK)` into `buf` once the socket is readable. Never clears readiness:
/// what it saw is still queued.
fn poll_peek(
    inner: &Evented<std::net::TcpStream>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    crate::coop::poll_budgeted(cx, |cx| {
        inner
            .reg
            .poll_io(cx, Direction::Read, || inner.io.peek(buf))
    })
}

/// The read traits of a stream or read half: Tokio's `AsyncRead` (re-exported as
/// [`crate::io::AsyncRead`]; a `recv` into the unfilled part of the `ReadBuf`, without
/// initialising it first) and `futures_io`'s.
macro_rules! async_read {
    ($ty:ty) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                $crate::net::tcp::poll_read_buf(&self.inner, cx, buf)
            }
        }

        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                $crate::net::tcp::poll_read(&self.inner, cx, buf)
            }
        }
    };
}

/// The write traits of a stream or write half, Tokio's `AsyncWrite` and `futures_io`'s:
/// writes go straight to the socket (nothing to flush); shutting down (Tokio's
/// `poll_shutdown`, `futures_io`'s `poll_close`) shuts down the write direction, `Ok` if
/// the connection is already gone, as in Tokio.
macro_rules! async_write {
    ($ty:ty) => {
        async_write!(@ $ty, tokio::io::AsyncWrite, poll_shutdown,
            fn is_write_vectored(&self) -> bool {
                true
            }
        );
        async_write!(@ $ty, futures_io::AsyncWrite, poll_close,);
    };
    (@ $ty:ty, $trait:path, $shutdown:ident, $($extra:item)?) => {
        impl $trait for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                $crate::net::tcp::poll_write(&self.inner, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                $crate::net::tcp::poll_write_vectored(&self.inner, cx, bufs)
            }

            $($extra)?

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn $shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready($crate::net::tcp::shutdown_write(&self.inner.io))
            }
        }
    };
}

async_read!(TcpStream);
async_read!(OwnedReadHalf);
async_read!(ReadHalf<'_>);
async_write!(TcpStream);
async_write!(OwnedWriteHalf);
async_write!(WriteHalf<'_>);

/// Tokio's `poll_read`: one `recv` into `buf`'s unfilled part once the socket is readable.
pub(crate) fn poll_read_buf<S: StreamSocket>(
    inner: &Evented<S>,
    cx: &mut Context<'_>,
    buf: &mut tokio::io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: only `recv` writes into the unfilled part, and it writes initialised bytes:
    // nothing initialised is de-initialised.
    let dst = unsafe { buf.unfilled_mut() };
    let want = dst.len();
    let n = ready!(poll_rw(inner, cx, Direction::Read, want, |offer| {
        recv_uninit(&inner.io, &mut dst[..offer])
    }))?;
    // SAFETY: `recv_uninit` returned `n`: the kernel wrote the first `n` bytes of the
    // unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

macro_rules! fd_impls {
    ($ty:ty) => {
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.io.as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.io.as_fd()
            }
        }
    };
}

fd_impls!(TcpListener);
fd_impls!(TcpStream);

/// Tokio's readiness API over a connected socket: wait for readiness, then try the
/// operation without waiting. Readiness is the driver's cached view (a multishot poll on
/// io_uring, edge-triggered epoll): `try_*` fails with `WouldBlock`, without a syscall,
/// until an event says the socket may be ready, and an attempt that finds `WouldBlock`
/// clears the readiness until the next event.
impl<S: StreamSocket> Evented<S> {
    pub(super) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let ev = poll_fn(|cx| self.reg.poll_interest(cx, interest)).await?;
        Ok(Ready::from_driver_bits(ev.bits()))
    }

    pub(super) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<()>> {
        self.reg.poll_interest(cx, interest).map_ok(drop)
    }

    pub(super) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg
            .try_io(Interest::READABLE, || self.io.read_std(buf))
    }

    pub(super) fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.reg
            .try_io(Interest::READABLE, || self.io.read_vectored_std(bufs))
    }

    pub(super) fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.reg.try_io(Interest::READABLE, || {
            let dst = buf.chunk_mut();
            // SAFETY: `recv` writes at most `dst.len()` bytes into `dst` and reads none;
            // the socket's fd is open for the call.
            let n =
                unsafe { libc::recv(self.io.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len(), 0) };
            let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
            // SAFETY: `recv` initialised the first `n` bytes of the chunk.
            unsafe { buf.advance_mut(n) };
            Ok(n)
        })
    }

    pub(super) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg
            .try_io(Interest::WRITABLE, || self.io.write_std(buf))
    }

    pub(super) fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.reg
            .try_io(Interest::WRITABLE, || self.io.write_vectored_std(bufs))
    }

    pub(super) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.try_io(interest, f)
    }

    pub(super) async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let ev = poll_fn(|cx| self.reg.poll_interest(cx, interest)).await?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.clear(ev),
                r => return r,
            }
        }
    }
}

/// `ready`, `try_io` and `async_io` of a stream or half, as Tokio's.
macro_rules! readiness {
    ($ty:ty) => {
        impl $ty {
            /// Waits until the socket is ready for `interest` (an error or hang-up counts),
            /// and says for what. The readiness may be stale by the time an operation runs
            /// (it then fails with `WouldBlock`: wait again).
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                self.inner.ready(interest).await
            }

            /// Runs `f` (a non-blocking operation on this socket's fd) if the cached
            /// readiness allows `interest`, else fails with `WouldBlock`; an `f` that
            /// finds `WouldBlock` clears that readiness until the next event.
            ///
            /// # Errors
            /// `WouldBlock`, or what `f` returns.
            pub fn try_io<R>(
                &self,
                interest: Interest,
                f: impl FnOnce() -> io::Result<R>,
            ) -> io::Result<R> {
                self.inner.try_io(interest, f)
            }

            /// Waits for `interest` and runs `f` until it does not fail with
            /// `WouldBlock`.
            ///
            /// # Errors
            /// What `f` returns; `Other` once the runtime has shut down.
            pub async fn async_io<R>(
                &self,
                interest: Interest,
                f: impl FnMut() -> io::Result<R>,
            ) -> io::Result<R> {
                self.inner.async_io(interest, f).await
            }
        }
    };
}

/// The read side of Tokio's readiness API, for a stream or read half.
macro_rules! readiness_read {
    ($ty:ty) => {
        impl $ty {
            /// Waits until the socket may be read (data, end of stream or an error). A
            /// shorthand for `ready(Interest::READABLE)`.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn readable(&self) -> io::Result<()> {
                self.inner.ready(Interest::READABLE).await.map(drop)
            }

            /// Polls for read readiness, registering the task to be woken.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner.poll_ready(cx, Interest::READABLE)
            }

            /// Reads what has arrived into `buf` without waiting. `Ok(0)`: end of stream
            /// (or an empty `buf`).
            ///
            /// # Errors
            /// `WouldBlock` when nothing can be read now; else the OS error of `recv`.
            pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                self.inner.try_read(buf)
            }

            /// As [`try_read`](Self::try_read), scattering into `bufs`.
            ///
            /// # Errors
            /// As [`try_read`](Self::try_read).
            pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
                self.inner.try_read_vectored(bufs)
            }

            /// As [`try_read`](Self::try_read), into the unfilled part of `buf` (not
            /// zeroed first), advancing it.
            ///
            /// # Errors
            /// As [`try_read`](Self::try_read).
            pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
                self.inner.try_read_buf(buf)
            }
        }
    };
}

/// The write side of Tokio's readiness API, for a stream or write half.
macro_rules! readiness_write {
    ($ty:ty) => {
        impl $ty {
            /// Waits until the socket may be written (room, a closed connection or an
            /// error). A shorthand for `ready(Interest::WRITABLE)`.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn writable(&self) -> io::Result<()> {
                self.inner.ready(Interest::WRITABLE).await.map(drop)
            }

            /// Polls for write readiness, registering the task to be woken.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner.poll_ready(cx, Interest::WRITABLE)
            }

            /// Writes what fits now from `buf`, without waiting.
            ///
            /// # Errors
            /// `WouldBlock` when the send buffer is full; else the OS error of `send`.
            pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                self.inner.try_write(buf)
            }

            /// As [`try_write`](Self::try_write), gathering from `bufs`.
            ///
            /// # Errors
            /// As [`try_write`](Self::try_write).
            pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                self.inner.try_write_vectored(bufs)
            }
        }
    };
}

readiness!(TcpStream);
readiness!(OwnedReadHalf);
readiness!(OwnedWriteHalf);
readiness!(ReadHalf<'_>);
readiness!(WriteHalf<'_>);
readiness_read!(TcpStream);
readiness_read!(OwnedReadHalf);
readiness_read!(ReadHalf<'_>);
readiness_write!(TcpStream);
readiness_write!(OwnedWriteHalf);
readiness_write!(WriteHalf<'_>);

pub(super) use {async_read, async_write, fd_impls, readiness, readiness_read, readiness_write};
