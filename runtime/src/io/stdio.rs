//! Standard input as Tokio's `AsyncRead` ([`stdin`]), standard output and error as its
//! `AsyncWrite` ([`stdout`], [`stderr`]).
//!
//! A read of [`Stdin`] runs std's blocking read on the blocking pool (as Tokio's does),
//! into a buffer of up to 2 MiB whose bytes later reads return first. A read in flight
//! cannot be interrupted: if nothing arrives on an interactive terminal, the pool thread
//! stays blocked, and a runtime shutdown waits for it (as with Tokio, whose docs
//! recommend a dedicated thread for interactive input).
//!
//! The standard streams may be terminals, pipes or files, none of which the I/O drivers
//! can wait on in general, so each write runs on the runtime's blocking pool, as Tokio's
//! do: a write copies its bytes (up to 2 MiB) into the stream's buffer and returns at
//! once; the blocking write runs behind, and its error, if any, is returned by the next
//! write or by `flush`. `flush` waits for it and flushes std's own buffer (std's stdout
//! is line-buffered). Writes from one handle are in order; two handles (or `println!`
//! beside one) may interleave, as with std.

use crate::task::JoinHandle;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most bytes one write hands to the blocking pool (as Tokio's: 2 MiB).
const MAX_BUF: usize = 2 * 1024 * 1024;

/// The process's standard output, from [`stdout`].
#[derive(Debug)]
pub struct Stdout {
    inner: Blocking<io::Stdout>,
}

/// The process's standard error, from [`stderr`].
#[derive(Debug)]
pub struct Stderr {
    inner: Blocking<io::Stderr>,
}

/// The process's standard input, from [`stdin`].
#[derive(Debug)]
pub struct Stdin {
    state: Reader,
}

/// A blocking reader driven from the blocking pool.
#[derive(Debug)]
enum Reader {
    /// Idle with the stream, its buffer and how much of the buffer was returned.
    Idle(Option<(io::Stdin, Vec<u8>, usize)>),
    Busy(JoinHandle<(io::Result<usize>, io::Stdin, Vec<u8>)>),
}

/// A handle to standard input. Must be used inside a zokio runtime (its reads run on the
/// blocking pool).
pub fn stdin() -> Stdin {
    Stdin {
        state: Reader::Idle(Some((io::stdin(), Vec::new(), 0))),
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let state = &mut self.get_mut().state;
        if dst.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            match state {
                Reader::Idle(idle) => {
                    let (inner, mut buf, pos) = idle.take().expect("an idle reader holds stdin");
                    if pos < buf.len() {
                        let n = (buf.len() - pos).min(dst.remaining());
                        dst.put_slice(&buf[pos..pos + n]);
                        *idle = Some((inner, buf, pos + n));
                        return Poll::Ready(Ok(()));
                    }
                    let want = dst.remaining().min(MAX_BUF);
                    buf.clear();
                    buf.resize(want, 0);
                    let mut inner = inner;
                    *state = Reader::Busy(crate::task::spawn_blocking(move || {
                        let result = inner.read(&mut buf);
                        (result, inner, buf)
                    }));
                }
                Reader::Busy(handle) => {
                    let joined = ready!(Pin::new(handle).poll(cx));
                    let (result, inner, mut buf) = match joined {
                        Ok(done) => done,
                        Err(e) => {
                            // The read never ran (the pool shut down): std's handle is a
                            // shared one, so a new handle is the same stream.
                            *state = Reader::Idle(Some((io::stdin(), Vec::new(), 0)));
                            return Poll::Ready(Err(join_error(e)));
                        }
                    };
                    let n = *result.as_ref().unwrap_or(&0);
                    buf.truncate(n);
                    *state = Reader::Idle(Some((inner, buf, 0)));
                    match result {
                        // End of input: nothing put into `dst`.
                        Ok(0) => return Poll::Ready(Ok(())),
                        Ok(_) => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
            }
        }
    }
}

/// A handle to standard output. Must be used inside a zokio runtime (its writes run on the
/// blocking pool).
pub fn stdout() -> Stdout {
    Stdout {
        inner: Blocking::new(io::stdout()),
    }
}

/// A handle to standard error, as [`stdout`].
pub fn stderr() -> Stderr {
    Stderr {
        inner: Blocking::new(io::stderr()),
    }
}

/// A blocking writer driven from the blocking pool: idle with its buffer, or busy with
/// one write or flush in flight.
#[derive(Debug)]
enum Blocking<T> {
    Idle(Option<(T, Vec<u8>)>),
    Busy(JoinHandle<(io::Result<()>, T, Vec<u8>)>, Op),
}

/// What a busy writer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Write,
    Flush,
}

impl<T: Write + Send + 'static> Blocking<T> {
    fn new(inner: T) -> Blocking<T> {
        Blocking::Idle(Some((inner, Vec::new())))
    }

    /// Waits for the operation in flight, if any; returns its result.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Blocking::Busy(handle, _) = self else {
            return Poll::Ready(Ok(()));
        };
        let joined = ready!(Pin::new(handle).poll(cx));
        match joined {
            Ok((result, inner, buf)) => {
                *self = Blocking::Idle(Some((inner, buf)));
                Poll::Ready(result)
            }
            Err(e) => {
                // The operation never ran (the pool shut down) and the stream went with
                // it: this writer is done.
                *self = Blocking::Idle(None);
                Poll::Ready(Err(join_error(e)))
            }
        }
    }

    /// Takes the writer and its (cleared) buffer out of an idle state; fails once an
    /// operation was lost to the pool's shutdown.
    fn take(&mut self) -> io::Result<(T, Vec<u8>)> {
        let Blocking::Idle(idle) = self else {
            unreachable!("taken only when idle");
        };
        let (inner, mut buf) = idle.take().ok_or_else(crate::runtime::shutdown_error)?;
        buf.clear();
        Ok((inner, buf))
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_idle(cx))?;
        let (mut inner, mut buf) = self.take()?;
        let n = src.len().min(MAX_BUF);
        buf.extend_from_slice(&src[..n]);
        *self = Blocking::Busy(
            crate::task::spawn_blocking(move || {
                let result = inner.write_all(&buf);
                (result, inner, buf)
            }),
            Op::Write,
        );
        // A pool that has shut down refuses the operation at once (the handle is already
        // finished, cancelled): say so now rather than at the next write or flush.
        if matches!(self, Blocking::Busy(h, _) if h.is_finished()) {
            ready!(self.poll_idle(cx))?;
        }
        Poll::Ready(Ok(n))
    }

    /// Waits for a write in flight, then flushes std's buffer on the pool (one flush per
    /// call: a flush already in flight is waited for, not started again).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Blocking::Busy(_, Op::Write) = self {
            ready!(self.poll_idle(cx))?;
        }
        if let Blocking::Idle(_) = self {
            let (mut inner, buf) = self.take()?;
            *self = Blocking::Busy(
                crate::task::spawn_blocking(move || {
                    let result = inner.flush();
                    (result, inner, buf)
                }),
                Op::Flush,
            );
        }
        self.poll_idle(cx)
    }
}

/// Tokio's `AsyncWrite` for a standard stream, through its [`Blocking`] writer.
macro_rules! async_write_via_blocking {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().inner.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().inner.poll_flush(cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().inner.poll_flush(cx)
            }
        }
    };
}

async_write_via_blocking!(Stdout);
async_write_via_blocking!(Stderr);

/// The error of a blocking-pool operation that did not complete: the runtime's shutdown
/// error (`runtime::is_rt_shutdown_err`) if the pool cancelled it, else the join error.
fn join_error(e: crate::task::JoinError) -> io::Error {
    if e.is_cancelled() {
        crate::runtime::shutdown_error()
    } else {
        io::Error::other(e.to_string())
    }
}
