//! Networking on the runtime's I/O driver: [`TcpListener`], [`TcpStream`] and its owned
//! halves, [`UdpSocket`].
//!
//! Two ways to do I/O on a stream:
//!
//! - **Owned buffers**, the shape a completion driver (io_uring) needs, where the kernel
//!   owns the buffer while an operation is in flight: [`TcpStream::read`] takes a
//!   `Vec<u8>` and gives it back with the result, filled up to its spare capacity;
//!   [`TcpStream::write`] and [`TcpStream::write_all`] likewise.
//! - **Poll-based** `futures_io::AsyncRead` / `AsyncWrite` (and `poll_read` /
//!   `poll_write`), so the `futures` combinators work.
//!
//! Errors are `io::Error` with the OS error intact: a refused connection is
//! `ConnectionRefused`, a reset peer `ConnectionReset`, a write after the peer closed
//! `BrokenPipe`, and end of stream is a read of 0 bytes, as with std and Tokio.
//!
//! Every stream and listener must be created inside a zokio runtime; it is registered, for
//! readiness, with the poller of the worker that creates it: its epoll set, or its ring
//! through a multishot poll (see `driver/io/mod.rs`); the socket calls themselves are the
//! same non-blocking syscalls on both drivers. [`TcpStream::send_file`] sends a file with
//! `sendfile(2)`. One task may read and one may write a stream at a time (a second reader
//! replaces the first one's waker).

pub mod tcp;
mod udp;

pub use tcp::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;
