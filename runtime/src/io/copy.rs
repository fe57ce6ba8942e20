//! [`copy`], [`copy_buf`], [`copy_bidirectional`] and
//! [`copy_bidirectional_with_sizes`]: Tokio's signatures and behaviour, spending zokio's
//! cooperative budget (one unit per read or write that makes progress, see `crate::coop`),
//! so that a copy between streams that are always ready (in-memory readers, a fast peer)
//! still yields to the scheduler. Tokio's own versions spend Tokio's budget, which zokio's
//! tasks never set.
//!
//! Behaviour, as Tokio's: a read or write interrupted (`Interrupted`) is retried; a write
//! of 0 bytes is a `WriteZero` error; when the reader has nothing for now, what was
//! written so far is flushed before waiting (so a `BufWriter` on the writing side does
//! not sit on bytes while the reader is idle); at the end of the reader, the writer is
//! flushed and the bytes copied are returned.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

/// Bytes of the buffer [`copy`] and [`copy_bidirectional`] read into (Tokio's size).
const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// One direction of a copy: its buffer and how far it got.
struct Copier {
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read but not yet written.
    pos: usize,
    cap: usize,
    read_done: bool,
    /// Bytes written since the last flush.
    need_flush: bool,
    copied: u64,
}

impl Copier {
    fn new(size: usize) -> Copier {
        Copier {
            buf: vec![0; size].into_boxed_slice(),
            pos: 0,
            cap: 0,
            read_done: false,
            need_flush: false,
            copied: 0,
        }
    }

    /// Copies until `reader` ends and `writer` is flushed; returns the bytes copied.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            let coop = ready!(crate::coop::poll_proceed(cx));
            if self.pos == self.cap && !self.read_done {
                self.pos = 0;
                self.cap = 0;
                let mut read = ReadBuf::new(&mut self.buf);
                match reader.as_mut().poll_read(cx, &mut read) {
                    Poll::Ready(Ok(())) => {
                        let n = read.filled().len();
                        if n == 0 {
                            self.read_done = true;
                        } else {
                            self.cap = n;
                            coop.made_progress();
                        }
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }
            if self.pos < self.cap {
                match writer
                    .as_mut()
                    .poll_write(cx, &self.buf[self.pos..self.cap])
                {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(write_zero())),
                    Poll::Ready(Ok(n)) => {
                        self.pos += n;
                        self.copied += n as u64;
                        self.need_flush = true;
                        coop.made_progress();
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if self.pos == self.cap && self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.copied));
            }
        }
    }
}

fn write_zero() -> io::Error {
    io::Error::new(io::ErrorKind::WriteZero, "write zero byte into writer")
}

/// Copies everything `reader` gives into `writer`, then flushes `writer`; returns the
/// bytes copied. Reads into an 8 KiB buffer. Cancel-safe only in that nothing is lost
/// that was already written: bytes read but not yet written are dropped with the future.
///
/// # Errors
/// The first error of a read, write or flush (`Interrupted` is retried); `WriteZero` if
/// the writer accepts 0 bytes.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut copier = Copier::new(DEFAULT_BUF_SIZE);
    poll_fn(|cx| copier.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// As [`copy`], from a buffered reader's own buffer (no second buffer).
///
/// # Errors
/// As [`copy`].
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut copied = 0u64;
    let mut need_flush = false;
    poll_fn(|cx| loop {
        let coop = ready!(crate::coop::poll_proceed(cx));
        let mut reader = Pin::new(&mut *reader);
        let mut writer = Pin::new(&mut *writer);
        let chunk = match reader.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(chunk)) => chunk,
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {
                // Flush what was written before waiting for the reader.
                if need_flush {
                    ready!(writer.as_mut().poll_flush(cx))?;
                    need_flush = false;
                }
                return Poll::Pending;
            }
        };
        if chunk.is_empty() {
            ready!(writer.as_mut().poll_flush(cx))?;
            return Poll::Ready(Ok(copied));
        }
        match writer.as_mut().poll_write(cx, chunk) {
            Poll::Ready(Ok(0)) => return Poll::Ready(Err(write_zero())),
            Poll::Ready(Ok(n)) => {
                reader.as_mut().consume(n);
                copied += n as u64;
                need_flush = true;
                coop.made_progress();
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}

/// Where one direction of [`copy_bidirectional`] is.
enum OneWay {
    Copying(Copier),
    /// The reader ended: shutting down the writer; the bytes copied.
    ShuttingDown(u64),
    Done(u64),
}

impl OneWay {
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        match self {
            OneWay::Copying(copier) => {
                let copied = ready!(copier.poll_copy(cx, reader, writer.as_mut()))?;
                *self = OneWay::ShuttingDown(copied);
                self.poll_shutdown(cx, writer)
            }
            OneWay::ShuttingDown(_) => self.poll_shutdown(cx, writer),
            OneWay::Done(copied) => Poll::Ready(Ok(*copied)),
        }
    }

    fn poll_shutdown<W: AsyncWrite + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>> {
        let OneWay::ShuttingDown(copied) = *self else {
            unreachable!("shutting down only after the copy ended");
        };
        ready!(writer.poll_shutdown(cx))?;
        *self = OneWay::Done(copied);
        Poll::Ready(Ok(copied))
    }
}

/// Copies `a` to `b` and `b` to `a` at once, each through an 8 KiB buffer; when one side's
/// reads end, shuts down the other side's writing (so the end passes through), and
/// returns `(bytes a→b, bytes b→a)` once both directions have ended.
///
/// # Errors
/// The first error in either direction (the other is abandoned).
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    copy_bidirectional_with_sizes(a, b, DEFAULT_BUF_SIZE, DEFAULT_BUF_SIZE).await
}

/// As [`copy_bidirectional`], with buffers of `a_to_b_size` and `b_to_a_size` bytes.
///
/// # Errors
/// As [`copy_bidirectional`].
///
/// # Panics
/// If either size is 0 (at the first poll), as Tokio's.
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_size: usize,
    b_to_a_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    assert!(a_to_b_size > 0, "`a_to_b_buf_size` must be greater than 0");
    assert!(b_to_a_size > 0, "`b_to_a_buf_size` must be greater than 0");
    let mut a_to_b = OneWay::Copying(Copier::new(a_to_b_size));
    let mut b_to_a = OneWay::Copying(Copier::new(b_to_a_size));
    poll_fn(|cx| {
        let ab = a_to_b.poll(cx, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let ba = b_to_a.poll(cx, Pin::new(&mut *b), Pin::new(&mut *a))?;
        match (ab, ba) {
            (Poll::Ready(ab), Poll::Ready(ba)) => Poll::Ready(Ok((ab, ba))),
            _ => Poll::Pending,
        }
    })
    .await
}
