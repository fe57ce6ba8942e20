//! Unix pipes and FIFOs on the runtime's I/O driver, Tokio's `net::unix::pipe`: an
//! anonymous [`pipe`], named FIFOs opened with [`OpenOptions`], and any pipe end this
//! process holds ([`Sender::from_owned_fd`], [`Receiver::from_file`]). Each end is made
//! non-blocking and registered as an `AsyncFd`; reads and writes are `read(2)` and
//! `write(2)` once the driver says the end is ready, with Tokio's readiness API and its
//! `AsyncRead` / `AsyncWrite`.

use crate::io::unix::AsyncFd;
use crate::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};
use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An anonymous pipe (`pipe2(2)`, non-blocking and close-on-exec): what the sender writes
/// the receiver reads.
///
/// # Errors
/// The OS error of `pipe2` (`EMFILE`); outside a zokio runtime.
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let mut fds = [0; 2];
    // SAFETY: `pipe2` writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((
        Sender {
            end: PipeEnd::new(w)?,
        },
        Receiver {
            end: PipeEnd::new(r)?,
        },
    ))
}

/// How to open a FIFO: Tokio's options.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    read_write: bool,
    unchecked: bool,
}

impl OpenOptions {
    /// Read-only receivers, write-only senders, the file checked to be a FIFO.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Open read-write (Linux): a receiver then never reads end of file when the last
    /// writer goes, and a sender opens even when no reader has the FIFO open.
    pub fn read_write(&mut self, value: bool) -> &mut OpenOptions {
        self.read_write = value;
        self
    }

    /// Skip the check that the file is a FIFO.
    pub fn unchecked(&mut self, value: bool) -> &mut OpenOptions {
        self.unchecked = value;
        self
    }

    /// Opens the FIFO at `path` for reading.
    ///
    /// # Errors
    /// `InvalidInput` if it is not a FIFO (unless unchecked); the OS error of `open`;
    /// outside a zokio runtime.
    pub fn open_receiver(&self, path: impl AsRef<Path>) -> io::Result<Receiver> {
        let file = self.open(path.as_ref(), libc::O_RDONLY)?;
        Ok(Receiver {
            end: PipeEnd::new(file.into())?,
        })
    }

    /// Opens the FIFO at `path` for writing.
    ///
    /// # Errors
    /// `ENXIO` (as `open(2)` gives it) when no process has the FIFO open for reading,
    /// unless `read_write`; otherwise as [`open_receiver`](Self::open_receiver).
    pub fn open_sender(&self, path: impl AsRef<Path>) -> io::Result<Sender> {
        let file = self.open(path.as_ref(), libc::O_WRONLY)?;
        Ok(Sender {
            end: PipeEnd::new(file.into())?,
        })
    }

    fn open(&self, path: &Path, access: libc::c_int) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        match (self.read_write, access) {
            (true, _) => options.read(true).write(true),
            (false, libc::O_RDONLY) => options.read(true),
            (false, _) => options.write(true),
        };
        let file = options.custom_flags(libc::O_NONBLOCK).open(path)?;
        if !self.unchecked && !file.metadata()?.file_type().is_fifo() {
            return Err(not_a_pipe());
        }
        Ok(file)
    }
}

fn not_a_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a pipe")
}

/// Checks that `fd` is a pipe or FIFO open for `access` (`O_RDONLY` or `O_WRONLY`;
/// read-write ends pass both).
fn check(fd: &OwnedFd, access: libc::c_int) -> io::Result<()> {
    let file = File::from(fd.try_clone()?);
    if !file.metadata()?.file_type().is_fifo() {
        return Err(not_a_pipe());
    }
    // SAFETY: `F_GETFL` takes no pointers.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let mode = flags & libc::O_ACCMODE;
    if mode != access && mode != libc::O_RDWR {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not in the pipe's direction (its access mode)",
        ));
    }
    Ok(())
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: `F_GETFL` / `F_SETFL` take no pointers.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn cvt(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// One pipe end of this process, non-blocking, on the I/O driver: the I/O of [`Sender`],
/// [`Receiver`] and a child process's stdio.
#[derive(Debug)]
pub(crate) struct PipeEnd(AsyncFd<OwnedFd>);

impl PipeEnd {
    /// Makes `fd` non-blocking and registers it.
    pub(crate) fn new(fd: OwnedFd) -> io::Result<PipeEnd> {
        set_nonblocking(fd.as_raw_fd(), true)?;
        Ok(PipeEnd(AsyncFd::owned(
            fd,
            Interest::READABLE | Interest::WRITABLE,
        )?))
    }

    /// Deregisters the end, blocking again or not.
    pub(crate) fn into_owned_fd(self, blocking: bool) -> io::Result<OwnedFd> {
        let fd = self.0.into_inner();
        if blocking {
            set_nonblocking(fd.as_raw_fd(), false)?;
        }
        Ok(fd)
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }

    fn read(&self, dst: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `dst` is valid for `dst.len()` bytes of writes; the descriptor is open.
        cvt(unsafe { libc::read(self.0.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len()) })
    }

    fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: `IoSliceMut` is ABI-compatible with `iovec`; each is valid for writes.
        cvt(unsafe { libc::readv(self.0.as_raw_fd(), bufs.as_mut_ptr().cast(), n) })
    }

    fn write(&self, src: &[u8]) -> io::Result<usize> {
        // SAFETY: `src` is valid for `src.len()` bytes of reads; the descriptor is open.
        cvt(unsafe { libc::write(self.0.as_raw_fd(), src.as_ptr().cast(), src.len()) })
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = bufs.len().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: `IoSlice` is ABI-compatible with `iovec`; each is valid for reads.
        cvt(unsafe { libc::writev(self.0.as_raw_fd(), bufs.as_ptr().cast(), n) })
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            let mut ready = ready!(self.0.poll_read_ready(cx))?;
            match ready.try_io(|_| self.read(buf.initialize_unfilled())) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let mut ready = ready!(self.0.poll_write_ready(cx))?;
            if let Ok(r) = ready.try_io(|_| self.write(src)) {
                return Poll::Ready(r);
            }
        }
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut ready = ready!(self.0.poll_write_ready(cx))?;
            if let Ok(r) = ready.try_io(|_| self.write_vectored(bufs)) {
                return Poll::Ready(r);
            }
        }
    }

    async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let guard = self.0.ready(interest).await?;
        Ok(guard.ready())
    }
}

/// The writing end of a pipe or FIFO.
#[derive(Debug)]
pub struct Sender {
    end: PipeEnd,
}

/// The reading end of a pipe or FIFO.
#[derive(Debug)]
pub struct Receiver {
    end: PipeEnd,
}

macro_rules! from_fd {
    ($ty:ident, $access:expr, $what:literal) => {
        impl $ty {
            #[doc = concat!("The ", $what, " end of a pipe this process holds, checked to be a pipe open for ", $what, ", made non-blocking and registered.")]
            ///
            /// # Errors
            /// `InvalidInput` if it is not a pipe or FIFO, or not open in this direction;
            /// outside a zokio runtime.
            pub fn from_owned_fd(fd: OwnedFd) -> io::Result<$ty> {
                check(&fd, $access)?;
                $ty::from_owned_fd_unchecked(fd)
            }

            /// As [`from_owned_fd`](Self::from_owned_fd), from a `File`.
            ///
            /// # Errors
            /// As [`from_owned_fd`](Self::from_owned_fd).
            pub fn from_file(file: File) -> io::Result<$ty> {
                $ty::from_owned_fd(file.into())
            }

            /// As [`from_owned_fd`](Self::from_owned_fd), without the checks.
            ///
            /// # Errors
            /// Outside a zokio runtime; what `fcntl` returns.
            pub fn from_owned_fd_unchecked(fd: OwnedFd) -> io::Result<$ty> {
                Ok($ty {
                    end: PipeEnd::new(fd)?,
                })
            }

            /// As [`from_owned_fd_unchecked`](Self::from_owned_fd_unchecked), from a `File`.
            ///
            /// # Errors
            /// As there.
            pub fn from_file_unchecked(file: File) -> io::Result<$ty> {
                $ty::from_owned_fd_unchecked(file.into())
            }

            /// Waits until the end is ready for `interest` (a hang-up or error counts).
            ///
            /// # Errors
            /// `Other` once the runtime has shut down.
            pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
                self.end.ready(interest).await
            }

            /// Runs `f` (a non-blocking operation on this end's descriptor) if the cached
            /// readiness allows this end's direction, else fails with `WouldBlock`.
            ///
            /// # Errors
            /// `WouldBlock`, or what `f` returns.
            pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
                self.end.0.try_io($ty::INTEREST, |_| f())
            }

            /// The descriptor, deregistered and blocking again.
            ///
            /// # Errors
            /// What `fcntl` returns.
            pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
                self.end.into_owned_fd(true)
            }

            /// The descriptor, deregistered and still non-blocking.
            ///
            /// # Errors
            /// None today; `io::Result` as Tokio's signature.
            pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
                self.end.into_owned_fd(false)
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.end.0.as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.end.fd()
            }
        }
    };
}

impl Sender {
    const INTEREST: Interest = Interest::WRITABLE;

    /// Waits until the pipe has room (or the reader is gone).
    ///
    /// # Errors
    /// `Other` once the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for room, registering the task to be woken.
    ///
    /// # Errors
    /// As [`writable`](Self::writable).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end
            .0
            .poll_write_ready(cx)
            .map_ok(|mut g| g.retain_ready())
    }

    /// Writes what fits without waiting.
    ///
    /// # Errors
    /// `WouldBlock` when the pipe is full; `BrokenPipe` when no reader is left.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.end
            .0
            .try_io(Interest::WRITABLE, |_| self.end.write(buf))
    }

    /// As [`try_write`](Self::try_write), gathering from `bufs`.
    ///
    /// # Errors
    /// As [`try_write`](Self::try_write).
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.end
            .0
            .try_io(Interest::WRITABLE, |_| self.end.write_vectored(bufs))
    }
}

impl Receiver {
    const INTEREST: Interest = Interest::READABLE;

    /// Waits until there is data to read (or the writers are gone).
    ///
    /// # Errors
    /// `Other` once the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Polls for data, registering the task to be woken.
    ///
    /// # Errors
    /// As [`readable`](Self::readable).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.end
            .0
            .poll_read_ready(cx)
            .map_ok(|mut g| g.retain_ready())
    }

    /// Reads what is there without waiting; `Ok(0)`: every writer is gone (or `buf` is
    /// empty).
    ///
    /// # Errors
    /// `WouldBlock` when there is nothing to read yet.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.end
            .0
            .try_io(Interest::READABLE, |_| self.end.read(buf))
    }

    /// As [`try_read`](Self::try_read), scattering into `bufs`.
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.end
            .0
            .try_io(Interest::READABLE, |_| self.end.read_vectored(bufs))
    }

    /// As [`try_read`](Self::try_read), into `buf`'s spare capacity (advancing it).
    ///
    /// # Errors
    /// As [`try_read`](Self::try_read).
    pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.end.0.try_io(Interest::READABLE, |_| {
            let dst = buf.chunk_mut();
            // SAFETY: `read` writes at most `dst.len()` bytes into `dst` and reads none;
            // the descriptor is open.
            let n =
                cvt(unsafe { libc::read(self.as_raw_fd(), dst.as_mut_ptr().cast(), dst.len()) })?;
            // SAFETY: the kernel initialised the first `n` bytes of the chunk.
            unsafe { buf.advance_mut(n) };
            Ok(n)
        })
    }
}

from_fd!(Sender, libc::O_WRONLY, "writing");
from_fd!(Receiver, libc::O_RDONLY, "reading");

impl AsyncWrite for Sender {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.end.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.end.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // As Tokio's: the pipe closes when the sender is dropped.
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Receiver {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.end.poll_read(cx, buf)
    }
}
