//! [`empty`], [`repeat`] and [`sink`]: readers and writers that are always ready, so each
//! operation spends one unit of zokio's cooperative budget (see `crate::coop`). A loop
//! over them therefore still yields to the scheduler, as Tokio's versions do on Tokio's
//! budget, which zokio's tasks never spend.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// Spends one unit of the task's budget (`Pending`, the task woken, when it is spent).
fn spend(cx: &mut Context<'_>) -> Poll<()> {
    ready!(crate::coop::poll_proceed(cx)).made_progress();
    Poll::Ready(())
}

/// `AsyncWrite` for a writer that accepts and discards every byte, one unit of budget per
/// operation.
macro_rules! discarding_write {
    ($ty:ty) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                ready!(spend(cx));
                Poll::Ready(Ok(buf.len()))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                ready!(spend(cx));
                Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                ready!(spend(cx));
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                ready!(spend(cx));
                Poll::Ready(Ok(()))
            }
        }
    };
}

/// A reader at end of stream and a writer that discards everything; seeks stay at 0.
/// Made by [`empty`].
#[derive(Default)]
pub struct Empty(());

/// A reader that is at end of stream at once, and a writer that accepts and discards
/// every byte (Tokio's `io::empty`).
pub fn empty() -> Empty {
    Empty(())
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(spend(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(spend(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

discarding_write!(Empty);

impl AsyncSeek for Empty {
    fn start_seek(self: Pin<&mut Self>, _position: SeekFrom) -> io::Result<()> {
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(spend(cx));
        Poll::Ready(Ok(0))
    }
}

impl fmt::Debug for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Empty { .. }")
    }
}

/// A reader that yields one byte over and over. Made by [`repeat`].
#[derive(Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte`, forever (Tokio's `io::repeat`).
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(spend(cx));
        let chunk = [self.byte; 256];
        while buf.remaining() > 0 {
            let n = buf.remaining().min(chunk.len());
            buf.put_slice(&chunk[..n]);
        }
        Poll::Ready(Ok(()))
    }
}

/// A writer that accepts and discards every byte. Made by [`sink`].
#[derive(Default)]
pub struct Sink(());

/// A writer that accepts and discards every byte (Tokio's `io::sink`).
pub fn sink() -> Sink {
    Sink(())
}

discarding_write!(Sink);

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sink { .. }")
    }
}
