//! In-memory pipes, Tokio's [`duplex`] and [`simplex`]: a bounded byte buffer between a
//! writer and a reader, each operation spending zokio's cooperative budget (Tokio's spend
//! Tokio's budget, which zokio's tasks never set: a loop over them would never yield).
//!
//! One pipe is a buffer of at most `max_buf_size` bytes behind a mutex, with the waker of
//! a reader waiting for bytes and of a writer waiting for room. A write copies what fits
//! and wakes the reader; a read copies what is there and wakes the writer. Closing the
//! write side (shutdown, or dropping a [`DuplexStream`]) lets the reader drain the
//! buffer, then read end of stream; closing the read side (dropping the reading
//! `DuplexStream`) makes writes fail with `BrokenPipe`. Wakers are woken, and replaced
//! wakers dropped, after the mutex is released, since either may run arbitrary code (drop
//! the peer, poll the other side).

use crate::loom::{lock, Mutex};
use bytes::{Buf, BytesMut};
use std::io::{self, IoSlice};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};

/// One direction: the bytes written and not yet read, and who waits on them.
#[derive(Debug)]
struct Pipe {
    buf: BytesMut,
    max_buf_size: usize,
    /// Either side closed: reads drain then end, writes fail.
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// Wakers to wake and to drop once the pipe's lock is released.
#[derive(Default)]
#[must_use]
struct After {
    wake: Option<Waker>,
    dropped: Option<Waker>,
}

impl After {
    fn run(self) {
        if let Some(w) = self.wake {
            w.wake();
        }
        drop(self.dropped);
    }
}

/// Stores `cx`'s waker in `slot`, returning the one it replaces (to drop after unlocking).
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) -> Option<Waker> {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => None,
        _ => slot.replace(cx.waker().clone()),
    }
}

impl Pipe {
    fn new(max_buf_size: usize) -> Pipe {
        Pipe {
            buf: BytesMut::new(),
            max_buf_size,
            closed: false,
            read_waker: None,
            write_waker: None,
        }
    }

    fn poll_read(
        &mut self,
        cx: &Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> (Poll<io::Result<()>>, After) {
        if dst.remaining() == 0 {
            return (Poll::Ready(Ok(())), After::default());
        }
        if !self.buf.is_empty() {
            let n = self.buf.len().min(dst.remaining());
            dst.put_slice(&self.buf[..n]);
            self.buf.advance(n);
            let wake = self.write_waker.take();
            return (
                Poll::Ready(Ok(())),
                After {
                    wake,
                    dropped: None,
                },
            );
        }
        if self.closed {
            return (Poll::Ready(Ok(())), After::default());
        }
        let dropped = register(&mut self.read_waker, cx);
        (
            Poll::Pending,
            After {
                wake: None,
                dropped,
            },
        )
    }

    fn poll_write<S: Deref<Target = [u8]>>(
        &mut self,
        cx: &Context<'_>,
        bufs: &[S],
    ) -> (Poll<io::Result<usize>>, After) {
        if self.closed {
            let e = io::Error::new(io::ErrorKind::BrokenPipe, "the reading side was dropped");
            return (Poll::Ready(Err(e)), After::default());
        }
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return (Poll::Ready(Ok(0)), After::default());
        }
        let mut room = self.max_buf_size - self.buf.len();
        if room == 0 {
            let dropped = register(&mut self.write_waker, cx);
            return (
                Poll::Pending,
                After {
                    wake: None,
                    dropped,
                },
            );
        }
        let mut written = 0;
        for b in bufs {
            let n = b.len().min(room);
            self.buf.extend_from_slice(&b[..n]);
            written += n;
            room -= n;
            if room == 0 {
                break;
            }
        }
        let wake = self.read_waker.take();
        (
            Poll::Ready(Ok(written)),
            After {
                wake,
                dropped: None,
            },
        )
    }

    /// The writing side is done: the reader drains the buffer, then reads end of stream.
    fn close_write(&mut self) -> After {
        self.closed = true;
        After {
            wake: self.read_waker.take(),
            dropped: None,
        }
    }

    /// The reading side is gone: writes fail.
    fn close_read(&mut self) -> After {
        self.closed = true;
        After {
            wake: self.write_waker.take(),
            dropped: None,
        }
    }
}

/// Runs `op` on the locked pipe as one budgeted operation, then the wake-ups it asks for.
fn budgeted<T>(
    cx: &mut Context<'_>,
    pipe: &Mutex<Pipe>,
    op: impl FnOnce(&mut Pipe, &Context<'_>) -> (Poll<T>, After),
) -> Poll<T> {
    let coop = ready!(crate::coop::poll_proceed(cx));
    let (result, after) = {
        let mut p = lock(pipe);
        op(&mut p, cx)
    };
    after.run();
    if result.is_ready() {
        coop.made_progress();
    }
    result
}

/// Tokio's `AsyncRead` and `AsyncWrite` for `$ty`, reading from its pipe `$read` and
/// writing to its pipe `$write` (the same pipe for a [`SimplexStream`]).
macro_rules! pipe_io {
    ($ty:ty, $read:ident, $write:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                budgeted(cx, &self.$read, |p, cx| p.poll_read(cx, buf))
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                budgeted(cx, &self.$write, |p, cx| p.poll_write(cx, &[buf]))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                budgeted(cx, &self.$write, |p, cx| p.poll_write(cx, bufs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let after = lock(&self.$write).close_write();
                after.run();
                Poll::Ready(Ok(()))
            }
        }
    };
}

/// One end of a bidirectional in-memory stream, from [`duplex`]: what one end writes the
/// other reads. Dropping an end closes both directions for the other (its reads end after
/// the buffered bytes; its writes fail with `BrokenPipe`).
#[derive(Debug)]
pub struct DuplexStream {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

/// Two connected [`DuplexStream`]s, each direction buffering up to `max_buf_size` bytes
/// (a writer waits when the buffer is full).
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (
        DuplexStream {
            read: one.clone(),
            write: two.clone(),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

pipe_io!(DuplexStream, read, write);

impl Drop for DuplexStream {
    fn drop(&mut self) {
        let after = lock(&self.write).close_write();
        after.run();
        let after = lock(&self.read).close_read();
        after.run();
    }
}

/// A one-way in-memory pipe, readable and writable through one value (Tokio's
/// `SimplexStream`): [`simplex`] splits it into a reading and a writing half. The reader
/// sees end of stream after the writer's `shutdown`.
#[derive(Debug)]
pub struct SimplexStream {
    pipe: Mutex<Pipe>,
}

impl SimplexStream {
    /// A pipe buffering up to `max_buf_size` bytes, not split.
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream {
            pipe: Mutex::new(Pipe::new(max_buf_size)),
        }
    }
}

/// A one-way pipe of up to `max_buf_size` buffered bytes, as its reading and writing
/// halves (Tokio's `io::split` of a [`SimplexStream`]).
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    tokio::io::split(SimplexStream::new_unsplit(max_buf_size))
}

pipe_io!(SimplexStream, pipe, pipe);
