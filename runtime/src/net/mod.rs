//! Networking on the runtime's I/O driver: [`TcpListener`], [`TcpStream`] and its owned
//! halves, [`UdpSocket`], and the Unix domain sockets.
//!
//! Two ways to do I/O on a stream:
//!
//! - **Owned buffers**, the shape a completion driver (io_uring) needs, where the kernel
//!   owns the buffer while an operation is in flight: [`TcpStream::read_owned`] takes a
//!   `Vec<u8>` and gives it back with the result, filled up to its spare capacity;
//!   [`TcpStream::write_owned`] and [`TcpStream::write_all_owned`] likewise.
//! - **Poll-based** Tokio `AsyncRead` / `AsyncWrite` and `futures_io`'s (and `poll_read`
//!   / `poll_write`), so Tokio's and the `futures` combinators work; with Tokio's
//!   readiness API beside them (`ready`, `readable`, `try_read`, ...).
//!
//! Errors are `io::Error` with the OS error intact: a refused connection is
//! `ConnectionRefused`, a reset peer `ConnectionReset`, a write after the peer closed
//! `BrokenPipe`, and end of stream is a read of 0 bytes, as with std and Tokio.
//!
//! Every stream and listener must be created inside a zokio runtime; it is registered, for
//! readiness, with the poller of the worker that creates it: its epoll set, or its ring
//! through a multishot poll (see `driver/io/mod.rs`); the socket calls themselves are the
//! same non-blocking syscalls on both drivers. [`TcpStream::send_file`] sends a file with
//! `sendfile(2)`. Several tasks may wait on one socket (accepting on a shared listener,
//! say): every task waiting in a direction is woken by its next event.
//!
//! Unix domain sockets ([`UnixListener`], [`UnixStream`], [`UnixDatagram`]) work the same
//! way, and a Unix stream shares the TCP stream's code. [`TcpSocket`] and [`UnixSocket`]
//! set a socket's options before it connects or listens.

mod addr;
mod socket;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::ToSocketAddrs;
pub use socket::{TcpSocket, UnixSocket};
pub use tcp::{lookup_host, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// `UnwindSafe` and `RefUnwindSafe` for socket types, as Tokio's: their state is the
/// kernel's socket and the driver's registration, each updated in one step, so a panic
/// in code holding one leaves nothing half-updated.
macro_rules! unwind_safe {
    ($($ty:ty),*) => {
        $(
            impl std::panic::UnwindSafe for $ty {}
            impl std::panic::RefUnwindSafe for $ty {}
        )*
    };
}

unwind_safe!(
    TcpListener,
    TcpStream,
    TcpSocket,
    UdpSocket,
    UnixDatagram,
    UnixListener,
    UnixStream
);
