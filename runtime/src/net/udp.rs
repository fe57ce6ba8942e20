//! `UdpSocket`.

use super::addr::resolve;
use super::tcp::Evented;
use crate::driver::io::Direction;
use crate::io::{Interest, ReadBuf, Ready};
use crate::net::ToSocketAddrs;
use bytes::BufMut;
use socket2::SockRef;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A UDP socket. Datagrams are sent and received whole; a receive buffer shorter than the
/// datagram truncates it, as with `recv(2)`.
pub struct UdpSocket {
    inner: Evented<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first resolved address that binds; port 0 picks a free port).
    ///
    /// # Errors
    /// The OS error of the last address tried, or an error outside a runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for a in resolve(addr).await? {
            match std::net::UdpSocket::bind(a) {
                Ok(s) => return UdpSocket::from_std(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    /// Wraps a bound std socket (made non-blocking here).
    ///
    /// # Errors
    /// If it cannot be made non-blocking or registered.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            inner: Evented::new(socket)?,
        })
    }

    /// Sets the default peer for [`send`](Self::send) and [`recv`](Self::recv), and filters
    /// received datagrams to it.
    ///
    /// # Errors
    /// The OS error of `connect(2)` for every resolved address.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for a in resolve(addr).await? {
            match self.inner.io.connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    /// Sends `buf` to `target` as one datagram; returns the bytes sent. `target` is
    /// resolved first (a host name on the blocking pool) and its first address used, as
    /// Tokio does.
    ///
    /// # Errors
    /// `InvalidInput` if `target` resolves to nothing; the OS error (e.g.
    /// `ConnectionRefused` reported for an earlier datagram).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(target).await?[0];
        poll_fn(|cx| self.poll_op(cx, Direction::Write, || self.inner.io.send_to(buf, target)))
            .await
    }

    /// Receives one datagram into `buf`; returns its length and sender. Cancel-safe.
    ///
    /// # Errors
    /// The OS error of `recvfrom(2)`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.recv_from(buf))).await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` without [`connect`](Self::connect), or the OS error.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Write, || self.inner.io.send(buf))).await
    }

    /// Receives one datagram from the connected peer into `buf`. Cancel-safe.
    ///
    /// # Errors
    /// The OS error (e.g. `ConnectionRefused` when the peer's port is closed).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.recv(buf))).await
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
}

/// The unfilled part of `buf` as uninitialised bytes (never de-initialises any).
fn unfilled<'a>(buf: &'a mut ReadBuf<'_>) -> &'a mut [MaybeUninit<u8>] {
    // SAFETY: the slice is only written into (by the kernel), never de-initialised.
    unsafe { buf.unfilled_mut() }
}

/// Marks `n` bytes after the filled part of `buf` as received.
fn filled(buf: &mut ReadBuf<'_>, n: usize) {
    // SAFETY: the kernel initialised the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
}

/// The chunk of `buf` to receive into, as uninitialised bytes.
fn chunk<B: BufMut>(buf: &mut B) -> &mut [MaybeUninit<u8>] {
    // SAFETY: the slice is only written into (by the kernel), never de-initialised.
    unsafe { buf.chunk_mut().as_uninit_slice_mut() }
}

/// A `SockAddr` from the kernel as a `SocketAddr` (UDP peers are always IP).
fn ip_addr(addr: socket2::SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP address"))
}

/// Tokio's readiness-based and option API of `UdpSocket`.
impl UdpSocket {
    fn sock(&self) -> SockRef<'_> {
        SockRef::from(&self.inner.io)
    }

    /// One budgeted operation in `dir`, retried while it finds `WouldBlock`.
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        crate::coop::poll_budgeted(cx, |cx| self.inner.reg.poll_io(cx, dir, &mut op))
    }

    /// Runs `f` if the cached readiness allows `interest`, else fails with
    /// `WouldBlock`; see `TcpStream::try_io`.
    ///
    /// # Errors
    /// `WouldBlock`, or what `f` returns.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.inner.reg.try_io(interest, f)
    }

    /// Waits for `interest` and runs `f` until it does not fail with `WouldBlock`.
    ///
    /// # Errors
    /// What `f` returns; `Other` once the runtime has shut down.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let ev = poll_fn(|cx| self.inner.reg.poll_interest(cx, interest)).await?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.inner.reg.clear(ev),
                r => return r,
            }
        }
    }

    /// Sends `buf` to the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full; else as [`send`](Self::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, || self.inner.io.send(buf))
    }

    /// Sends `buf` to `target` without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if the send buffer is full; else as [`send_to`](Self::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.try_io(Interest::WRITABLE, || self.inner.io.send_to(buf, target))
    }

    /// Receives a datagram from the connected peer without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued; else as [`recv`](Self::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Interest::READABLE, || self.inner.io.recv(buf))
    }

    /// Receives a datagram and its sender without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued; else as [`recv_from`](Self::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.try_io(Interest::READABLE, || self.inner.io.recv_from(buf))
    }

    /// Receives a datagram into the unfilled part of `buf` (not zeroed first) without
    /// waiting, advancing it.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued; else the OS error.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.try_io(Interest::READABLE, || self.recv_into(buf))
    }

    /// As [`try_recv_buf`](Self::try_recv_buf), with the sender.
    ///
    /// # Errors
    /// As [`try_recv_buf`](Self::try_recv_buf).
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.try_io(Interest::READABLE, || self.recv_from_into(buf))
    }

    /// Receives a datagram from the connected peer into the unfilled part of `buf`.
    /// Cancel-safe.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.recv_into(buf))).await
    }

    /// Receives a datagram into the unfilled part of `buf`, with its sender.
    /// Cancel-safe.
    ///
    /// # Errors
    /// As [`recv_from`](Self::recv_from).
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.recv_from_into(buf))).await
    }

    fn recv_into<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        let n = self.sock().recv(chunk(buf))?;
        // SAFETY: `recv` initialised `n` bytes of the chunk.
        unsafe { buf.advance_mut(n) };
        Ok(n)
    }

    fn recv_from_into<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let (n, addr) = self.sock().recv_from(chunk(buf))?;
        // SAFETY: `recvfrom` initialised `n` bytes of the chunk.
        unsafe { buf.advance_mut(n) };
        Ok((n, ip_addr(addr)?))
    }

    /// Polls to receive a datagram from the connected peer into `buf`.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = std::task::ready!(
            self.poll_op(cx, Direction::Read, || { self.sock().recv(unfilled(buf)) })
        )?;
        filled(buf, n);
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
        let (n, addr) = std::task::ready!(self.poll_op(cx, Direction::Read, || {
            self.sock().recv_from(unfilled(buf))
        }))?;
        filled(buf, n);
        Poll::Ready(ip_addr(addr))
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
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.poll_op(cx, Direction::Write, || self.inner.io.send_to(buf, target))
    }

    /// Receives the next datagram into `buf` without taking it from the queue, with its
    /// sender.
    ///
    /// # Errors
    /// The OS error of `recvfrom(MSG_PEEK)`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.peek_from(buf))).await
    }

    /// As [`peek_from`](Self::peek_from), from the connected peer.
    ///
    /// # Errors
    /// The OS error of `recv(MSG_PEEK)`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_op(cx, Direction::Read, || self.inner.io.peek(buf))).await
    }

    /// Polls to peek at the next datagram, returning its sender.
    ///
    /// # Errors
    /// As [`peek_from`](Self::peek_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (n, addr) = std::task::ready!(self.poll_op(cx, Direction::Read, || {
            self.sock().peek_from(unfilled(buf))
        }))?;
        filled(buf, n);
        Poll::Ready(ip_addr(addr))
    }

    /// Peeks at the next datagram without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued; else as [`peek_from`](Self::peek_from).
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.try_io(Interest::READABLE, || self.inner.io.peek_from(buf))
    }

    /// The sender of the next datagram, which stays queued.
    ///
    /// # Errors
    /// The OS error of `recvfrom(MSG_PEEK)`.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        poll_fn(|cx| self.poll_peek_sender(cx)).await
    }

    /// Polls for the sender of the next datagram.
    ///
    /// # Errors
    /// As [`peek_sender`](Self::peek_sender).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.poll_op(cx, Direction::Read, || self.sock().peek_sender())
            .map(|r| r.and_then(ip_addr))
    }

    /// The sender of the next datagram, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` if none is queued.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.try_io(Interest::READABLE, || self.sock().peek_sender())
            .and_then(ip_addr)
    }

    /// The std socket, deregistered from the runtime's driver (still non-blocking).
    ///
    /// # Errors
    /// None today; `io::Result` as Tokio's signature.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.inner.into_inner())
    }

    /// The pending socket error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.io.take_error()
    }

    /// `IP_TTL`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.io.ttl()
    }

    /// Sets `IP_TTL`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.io.set_ttl(ttl)
    }

    /// `SO_BROADCAST`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.io.broadcast()
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.io.set_broadcast(on)
    }

    /// `IP_MULTICAST_LOOP`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.io.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.io.set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_TTL`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.io.multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.io.set_multicast_ttl_v4(ttl)
    }

    /// `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.io.multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.io.set_multicast_loop_v6(on)
    }

    /// Joins an IPv4 multicast group on `interface`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.io.join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins an IPv6 multicast group on interface index `interface`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.io.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.inner.io.leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.io.leave_multicast_v6(multiaddr, interface)
    }

    /// `IP_TOS`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.sock().tos()
    }

    /// Sets `IP_TOS`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.sock().set_tos(tos)
    }

    /// `IPV6_TCLASS`.
    ///
    /// # Errors
    /// The OS error of `getsockopt`.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.sock().tclass_v6()
    }

    /// Sets `IPV6_TCLASS`.
    ///
    /// # Errors
    /// The OS error of `setsockopt`.
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.sock().set_tclass_v6(tclass)
    }
}

/// The readiness methods of a datagram socket (`UdpSocket`, `UnixDatagram`), Tokio's:
/// `ready`, `readable`, `writable`, `poll_recv_ready`, `poll_send_ready`.
macro_rules! datagram_readiness {
    ($ty:ty) => {
        impl $ty {
            /// Waits until the socket is ready for `interest`, and says for what.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                let ev = poll_fn(|cx| self.inner.reg.poll_interest(cx, interest)).await?;
                Ok(Ready::from_driver_bits(ev.bits()))
            }

            /// Waits until a datagram may be received.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn readable(&self) -> io::Result<()> {
                self.ready(Interest::READABLE).await.map(drop)
            }

            /// Waits until a datagram may be sent.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn writable(&self) -> io::Result<()> {
                self.ready(Interest::WRITABLE).await.map(drop)
            }

            /// Polls for receive readiness, registering the task to be woken.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner
                    .reg
                    .poll_interest(cx, Interest::READABLE)
                    .map_ok(drop)
            }

            /// Polls for send readiness, registering the task to be woken.
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner
                    .reg
                    .poll_interest(cx, Interest::WRITABLE)
                    .map_ok(drop)
            }
        }
    };
}

pub(super) use datagram_readiness;

datagram_readiness!(UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.io.as_fd()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}
