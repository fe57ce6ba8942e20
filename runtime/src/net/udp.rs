//! `UdpSocket`.

use super::tcp::{resolve, Evented};
use crate::driver::io::Direction;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

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
        for a in resolve(addr)? {
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
        for a in resolve(addr)? {
            match self.inner.io.connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one address"))
    }

    /// Sends `buf` to `target` as one datagram; returns the bytes sent. `target` is
    /// resolved first (blocking only for a host name) and its first address used, as
    /// Tokio does.
    ///
    /// # Errors
    /// `InvalidInput` if `target` resolves to nothing; the OS error (e.g.
    /// `ConnectionRefused` reported for an earlier datagram).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(target)?[0];
        poll_fn(|cx| {
            self.inner
                .reg
                .poll_io(cx, Direction::Write, || self.inner.io.send_to(buf, target))
        })
        .await
    }

    /// Receives one datagram into `buf`; returns its length and sender. Cancel-safe.
    ///
    /// # Errors
    /// The OS error of `recvfrom(2)`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.inner
                .reg
                .poll_io(cx, Direction::Read, || self.inner.io.recv_from(buf))
        })
        .await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` without [`connect`](Self::connect), or the OS error.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.inner
                .reg
                .poll_io(cx, Direction::Write, || self.inner.io.send(buf))
        })
        .await
    }

    /// Receives one datagram from the connected peer into `buf`. Cancel-safe.
    ///
    /// # Errors
    /// The OS error (e.g. `ConnectionRefused` when the peer's port is closed).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.inner
                .reg
                .poll_io(cx, Direction::Read, || self.inner.io.recv(buf))
        })
        .await
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
