//! hyper 1.x on zokio: [`ZokioExecutor`] spawns hyper's background tasks, [`ZokioTimer`]
//! gives it timers, and [`HyperIo`] wraps a [`TcpStream`] (or an owned half) as hyper's
//! `rt::Read` + `rt::Write`.
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! use zokio::compat::hyper::{HyperIo, ZokioTimer};
//! let listener = zokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     zokio::spawn(async move {
//!         let service = hyper::service::service_fn(|_req| async {
//!             Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("hi")))
//!         });
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .timer(ZokioTimer)
//!             .serve_connection(HyperIo::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! ```
//!
//! Reads go straight from the socket into hyper's buffer (no intermediate copy): the
//! stream reads into the uninitialised memory hyper's cursor hands out, through a raw
//! pointer, and advances the cursor by what the kernel wrote.

use crate::net::TcpStream;
use crate::time::{Instant, Sleep};
use hyper::rt::{Executor, ReadBufCursor, Timer};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs hyper's background futures (e.g. HTTP/2 connection tasks) as zokio tasks.
/// Must be used inside a zokio runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZokioExecutor;

impl<F> Executor<F> for ZokioExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}

/// hyper's timers (header read timeouts, keep-alive) on zokio's timer wheel.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZokioTimer;

/// A zokio [`Sleep`] as hyper's `rt::Sleep`.
#[derive(Debug)]
pub struct HyperSleep(Sleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl Timer for ZokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(crate::time::sleep_until(Instant::from_std(
            deadline,
        ))))
    }
}

/// A zokio stream as hyper's `rt::Read` + `rt::Write`.
#[derive(Debug)]
pub struct HyperIo<T> {
    inner: T,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo { inner }
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl hyper::rt::Read for HyperIo<TcpStream> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: we only write initialised bytes into the slice (the kernel's `read`
        // writes them) and advance by exactly the count it reports.
        let spare = unsafe { buf.as_mut() };
        let n = std::task::ready!(self.inner.poll_read_raw(
            cx,
            spare.as_mut_ptr().cast(),
            spare.len()
        ))?;
        // SAFETY: `read` initialised the first `n` bytes of the cursor's spare room.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for HyperIo<TcpStream> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the socket.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_std(std::net::Shutdown::Write))
    }
}
