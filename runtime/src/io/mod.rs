//! I/O traits and helpers, Tokio's names: [`AsyncRead`] / [`AsyncWrite`] (with
//! [`ReadBuf`]) and their `…Ext` traits, buffered readers and writers, [`split`] and the
//! rest of Tokio's `io-util`, re-exported from Tokio, whose I/O traits
//! and utilities need no runtime (zokio builds Tokio without its `rt` feature).
//! [`copy`], [`copy_buf`], [`copy_bidirectional`], [`duplex`], [`simplex`], [`empty`],
//! [`repeat`] and [`sink`] are zokio's own: they spend zokio's cooperative budget, so that
//! a loop over streams that are always ready yields (Tokio's spend Tokio's budget, which
//! zokio's tasks never touch). zokio's [`TcpStream`](crate::net::TcpStream) and its
//! halves (owned and borrowed) implement the traits, so Tokio code that reads and writes through them
//! (`stream.read(&mut buf)`, `write_all(b"...")`, `BufReader::new(stream)`) runs unchanged.
//! zokio's sockets and files also offer owned-buffer operations (`read_owned`,
//! `write_all_owned`), which hand the buffer to the kernel as it is.
//!
//! [`stdin`] reads and [`stdout`] and [`stderr`] write through the blocking pool, as
//! Tokio's do.
//!
//! [`unix::AsyncFd`] waits for the readiness of any descriptor the I/O driver can watch
//! (pipes, eventfd, pidfd, ...), as Tokio's.
//!
//! [`nop`] measures the submission and completion path of the runtime's I/O driver with no
//! I/O in it (zbench's `sched.io_ops`, `latency.io_submission` and `zsync.batch`).

use std::io;

mod copy;
mod duplex;
mod ready;
mod stdio;
pub mod unix;
mod util;

pub use ready::{Interest, Ready};
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};

pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
pub use duplex::{duplex, simplex, DuplexStream, SimplexStream};
pub use tokio::io::{
    join, split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt,
    AsyncWrite, AsyncWriteExt, BufReader, BufStream, BufWriter, Error, ErrorKind, Join, Lines,
    ReadBuf, ReadHalf, Result, SeekFrom, Split, Take, WriteHalf,
};
pub use util::{empty, repeat, sink, Empty, Repeat, Sink};

/// One no-op through the I/O driver's submission and completion path.
///
/// On io_uring: an `IORING_OP_NOP` submitted on the calling worker's ring (batched with
/// its other SQEs), completed through the CQ. On epoll, which has no submission queue,
/// the equivalent path of a file operation: an empty closure round trip through the
/// blocking pool, as `fs` takes there (and as Tokio's `fs` always does).
///
/// # Errors
/// Outside a zokio runtime, or after it shut down (`Other`); a failed submission.
pub async fn nop() -> io::Result<()> {
    if let Some(ring) = crate::driver::io::current_ring() {
        // SAFETY: a NOP carries no pointers and no fd.
        let op = unsafe {
            crate::driver::io::Op::submit(ring, (), crate::driver::io::OnCancel::Nothing, |_| {
                io_uring::opcode::Nop::new().build()
            })
        };
        let (res, ()) = op.map_err(|(e, ())| e)?.await;
        return if res < 0 {
            Err(io::Error::from_raw_os_error(-res))
        } else {
            Ok(())
        };
    }
    crate::runtime::context::with_handle(|_| ())
        .map_err(|_| io::Error::other("zokio I/O must be used inside a zokio runtime"))?;
    crate::task::spawn_blocking(|| ())
        .await
        .map_err(|e| io::Error::other(format!("no-op did not run: {e}")))
}

/// The error of an owned-buffer read into a buffer with no spare capacity (an `Ok(0)`
/// would read as end of stream).
pub(crate) fn no_spare_capacity() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the buffer has no spare capacity to read into (Vec::with_capacity(n), not vec![0; n])",
    )
}
