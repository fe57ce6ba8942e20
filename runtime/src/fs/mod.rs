//! Files: [`File`] with owned-buffer positional and cursor I/O and Tokio's `AsyncRead`,
//! `AsyncWrite` and `AsyncSeek`, opened by [`OpenOptions`]; the whole-file helpers
//! [`read()`], [`read_to_string()`], [`write()`], [`remove_file()`]; and Tokio's path and
//! directory functions ([`create_dir`], [`read_dir`], [`rename`], [`metadata`], ...), which
//! run std's on the blocking pool (as Tokio's do) on both drivers.
//!
//! On the **io_uring** driver every operation is an io_uring operation on the calling
//! worker's ring: `OPENAT` (open, create), `READ`/`WRITE` at an offset, `FSYNC`,
//! `UNLINKAT`; the buffer (and the path, and a reference to the file) moves into the ring's
//! operation slot and comes back with the result. A page-cache hit completes within the
//! submitting `io_uring_enter`; a miss goes to the kernel's own I/O workers. Dropping a
//! future mid-operation cancels it; the ring keeps the buffer until the kernel's
//! completion, and a file opened by an `OPENAT` that completed after the cancel is closed.
//! `metadata` is an `fstat` on the calling thread (it reads the in-memory inode of an open
//! file), and a [`File`] is closed by `close(2)` when dropped.
//!
//! Regular files are always "ready" to epoll, so on the **epoll** driver each operation
//! runs on the runtime's blocking thread pool (as Tokio's `fs` does); the buffer moves into
//! the pool thread and comes back with the result, so dropping a future mid-operation is
//! safe (the operation finishes on the pool and its buffer is freed there).
//!
//! Every function must be called inside a zokio runtime. Errors are the OS errors of the
//! underlying calls (`NotFound`, `PermissionDenied`, ...), or `Other` if the runtime shut
//! down before the operation ran.

mod dir;
mod open_options;

pub use dir::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read_dir, read_link,
    remove_dir, remove_dir_all, rename, set_permissions, symlink, symlink_metadata, try_exists,
    DirBuilder, DirEntry, ReadDir,
};
pub use open_options::OpenOptions;

use crate::driver::io::{current_ring, transfer_len, OnCancel, Op, RingHandle};
use io_uring::{opcode, types};
use std::ffi::CString;
use std::fmt;
/// Access and modification times for [`File::set_times`] (std's type, as Tokio re-exports
/// it).
pub use std::fs::FileTimes;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use sync_wrapper::SyncWrapper;
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// A CQE result as `io::Result`: `-errno` is the OS error.
fn cqe(res: i32) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as usize)
    }
}

/// `path` as a C string for `OPENAT`/`UNLINKAT`.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "file name contained an unexpected NUL byte",
        )
    })
}

/// Submits `data` with the SQE `build` makes and awaits its CQE.
///
/// # Safety
/// As [`Op::submit`]: the SQE may point only into `data`, and at fds `data` keeps open.
async unsafe fn ring_op<T: Send + 'static>(
    ring: RingHandle,
    data: T,
    on_cancel: OnCancel,
    build: impl FnOnce(&mut T) -> io_uring::squeue::Entry,
) -> (io::Result<usize>, T) {
    // SAFETY: the caller's contract.
    match unsafe { Op::submit(ring, data, on_cancel, build) } {
        Ok(op) => {
            let (res, data) = op.await;
            (cqe(res), data)
        }
        Err((e, data)) => (Err(e), data),
    }
}

/// `OPENAT` relative to the working directory.
async fn ring_open(ring: RingHandle, path: &Path, flags: i32) -> io::Result<File> {
    ring_open_mode(ring, path, flags, 0o666).await
}

/// As [`ring_open`], creating with permission bits `mode` (before the umask).
async fn ring_open_mode(ring: RingHandle, path: &Path, flags: i32, mode: u32) -> io::Result<File> {
    let path = c_path(path)?;
    // SAFETY: the SQE points at the path's bytes, owned by the operation.
    let (res, _path) = unsafe {
        ring_op(ring, path, OnCancel::CloseFd, |p| {
            opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), p.as_ptr())
                .flags(flags | libc::O_CLOEXEC)
                .mode(mode)
                .build()
        })
        .await
    };
    let fd = res? as i32;
    // SAFETY: the kernel just opened `fd` for us; nothing else owns it.
    let file = unsafe { std::fs::File::from(OwnedFd::from_raw_fd(fd)) };
    Ok(File::from_std(file))
}

/// `READ` at `offset` into `buf`'s spare capacity, `max` bytes at most.
async fn ring_read_at(
    ring: RingHandle,
    file: Arc<std::fs::File>,
    buf: Vec<u8>,
    offset: u64,
    max: usize,
) -> (io::Result<usize>, Vec<u8>) {
    let fd = file.as_raw_fd();
    // SAFETY: the SQE points at the spare capacity of the operation's own buffer, and at
    // the fd its `Arc` keeps open.
    let (res, (_file, mut buf)) = unsafe {
        ring_op(ring, (file, buf), OnCancel::Nothing, |(_, buf)| {
            let spare = buf.spare_capacity_mut();
            let len = transfer_len(spare.len().min(max).min(u32::MAX as usize)) as u32;
            opcode::Read::new(types::Fd(fd), spare.as_mut_ptr().cast(), len)
                .offset(offset)
                .build()
        })
        .await
    };
    if let Ok(n) = res {
        // SAFETY: the kernel initialised `n` bytes of the spare capacity.
        unsafe { buf.set_len(buf.len() + n) };
    }
    (res, buf)
}

/// `WRITE` of `buf[from..]` at `offset`.
async fn ring_write_at(
    ring: RingHandle,
    file: Arc<std::fs::File>,
    buf: Vec<u8>,
    from: usize,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    let fd = file.as_raw_fd();
    // SAFETY: the SQE points into the operation's own buffer and at the fd its `Arc`
    // keeps open.
    let (res, (_file, buf)) = unsafe {
        ring_op(ring, (file, buf), OnCancel::Nothing, |(_, buf)| {
            let data = &buf[from..];
            let len = transfer_len(data.len().min(u32::MAX as usize)) as u32;
            opcode::Write::new(types::Fd(fd), data.as_ptr(), len)
                .offset(offset)
                .build()
        })
        .await
    };
    (res, buf)
}

/// Writes all of `buf` at `offset` with as many `WRITE`s as it takes.
async fn ring_write_all_at(
    file: Arc<std::fs::File>,
    mut buf: Vec<u8>,
    offset: u64,
) -> (io::Result<()>, Vec<u8>) {
    let mut done = 0;
    while done < buf.len() {
        let Some(ring) = current_ring() else {
            return (Err(crate::runtime::shutdown_error()), buf);
        };
        let (r, b) = ring_write_at(ring, file.clone(), buf, done, offset + done as u64).await;
        buf = b;
        match r {
            Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// Runs `f` on the blocking pool, mapping a cancelled or panicked pool task to `io::Error`.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> io::Result<R> {
    crate::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(format!("file operation did not run: {e}")))
}

/// Runs `f` (which owns the buffer and gives it back with its result) on the blocking
/// pool. If the pool never ran it (runtime shut down), the buffer went with the closure and
/// an empty one comes back with the error.
async fn with_buf<R: Send + 'static>(
    f: impl FnOnce() -> (io::Result<R>, Vec<u8>) + Send + 'static,
) -> (io::Result<R>, Vec<u8>) {
    match blocking(f).await {
        Ok(pair) => pair,
        Err(e) => (Err(e), Vec::new()),
    }
}

/// One `pread(2)` at `offset` into `buf`'s spare capacity (`max` bytes at most), not
/// zeroed first; the length grows by what was read.
fn pread_spare(
    file: &std::fs::File,
    buf: &mut Vec<u8>,
    offset: u64,
    max: usize,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    let dst = &mut spare[..len];
    // SAFETY: `dst` is valid for writes of `dst.len()` bytes, the kernel writes at most that
    // many and reads none of them, and the file's fd is open for the call.
    let n = unsafe {
        libc::pread(
            file.as_raw_fd(),
            dst.as_mut_ptr().cast(),
            dst.len(),
            offset as libc::off_t,
        )
    };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    // SAFETY: `pread` returned `n`: it wrote the first `n` bytes of the spare capacity, so
    // `len + n` bytes are initialised, and `n` is at most the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// An open file. Positional operations (`read_at`, `write_at`) take `&self`; the cursor
/// operations (`read_owned`, `write_owned`, `write_all_owned`) take `&mut self` and advance
/// the file's own position, starting at 0. All take and give back an owned buffer.
///
/// It also implements Tokio's [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`] at the same
/// position, as Tokio's `File` does: a read fills an internal buffer (up to
/// [`set_max_buf_size`](Self::set_max_buf_size) bytes, default 2 MiB) with one operation
/// and serves from it; a write copies into the internal buffer and returns at once, the
/// operation running in the background: its error, if any, is returned by the next
/// operation or by `flush`, so call `flush` (or `shutdown`) before dropping the file to
/// learn whether the last write succeeded. Only one such operation is in flight at a time.
pub struct File {
    std: Arc<std::fs::File>,
    pos: u64,
    /// The `AsyncRead`/`AsyncWrite`/`AsyncSeek` state. Only reached through `&mut self`,
    /// so the `File` stays `Sync` whatever the operation's future is.
    io: SyncWrapper<IoState>,
    max_buf_size: usize,
}

/// Default and ceiling of the internal buffer of `File`'s `AsyncRead`/`AsyncWrite` (as
/// Tokio's: 2 MiB).
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// An operation of the `AsyncRead`/`AsyncWrite` path: its result and the buffer back.
type BusyOp = Pin<Box<dyn Future<Output = (Done, Vec<u8>)> + Send>>;

enum IoState {
    /// No operation in flight. `buf[read_pos..]` is read-ahead not yet returned: the
    /// file's bytes at the position and on.
    Idle {
        buf: Vec<u8>,
        read_pos: usize,
    },
    Busy(BusyOp),
}

/// What a finished [`BusyOp`] did.
enum Done {
    /// Read this many bytes at the position into the buffer.
    Read(io::Result<usize>),
    /// Wrote the whole buffer (the position was advanced when it started).
    Write(io::Result<()>),
}

impl File {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// As `std::fs::File::open` (e.g. `NotFound`).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        if let Some(ring) = current_ring() {
            return ring_open(ring, path.as_ref(), libc::O_RDONLY).await;
        }
        let path = path.as_ref().to_owned();
        let f = blocking(move || std::fs::File::open(path)).await??;
        Ok(File::from_std(f))
    }

    /// Creates `path` write-only, truncating it if it exists.
    ///
    /// # Errors
    /// As `std::fs::File::create`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        if let Some(ring) = current_ring() {
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
            return ring_open(ring, path.as_ref(), flags).await;
        }
        let path = path.as_ref().to_owned();
        let f = blocking(move || std::fs::File::create(path)).await??;
        Ok(File::from_std(f))
    }

    /// The file descriptor (still owned by the `File`).
    pub fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }

    /// Wraps an open std file (position 0).
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            pos: 0,
            io: SyncWrapper::new(IoState::Idle {
                buf: Vec::new(),
                read_pos: 0,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// The most bytes one `AsyncRead`/`AsyncWrite` operation moves (the internal buffer's
    /// size). Default: 2 MiB.
    ///
    /// # Panics
    /// If `max_buf_size` is 0.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The most bytes one `AsyncRead`/`AsyncWrite` operation moves (see
    /// [`set_max_buf_size`](Self::set_max_buf_size)).
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }

    /// A new [`OpenOptions`], as `OpenOptions::new()`.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// The std file, after any `AsyncWrite` still in flight has finished (its error, if
    /// any, is lost, as with Tokio's), with its own position set to this file's position
    /// (read-ahead is given back).
    ///
    /// # Panics
    /// If an io_uring operation cancelled earlier still holds the descriptor and `dup(2)`
    /// of it fails (out of descriptors).
    pub async fn into_std(mut self) -> std::fs::File {
        let _ = self.settle().await;
        self.std_at_pos()
    }

    /// The std file if no `AsyncRead`/`AsyncWrite` operation is in flight, else `self`
    /// back.
    ///
    /// # Errors
    /// `self`, while an operation runs.
    ///
    /// # Panics
    /// As [`into_std`](Self::into_std).
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if matches!(self.io.get_mut(), IoState::Busy(_)) {
            return Err(self);
        }
        self.drop_read_ahead();
        Ok(self.std_at_pos())
    }

    /// A second `File` on a duplicate of the descriptor (`dup(2)`), starting at this
    /// file's position. Each `File` keeps its own position afterwards (unlike two std
    /// files on one descriptor, which share the kernel's). An `AsyncWrite` of this file
    /// still in flight is not waited for: `flush` first to see it in the clone.
    ///
    /// # Errors
    /// The error of `dup(2)`.
    pub async fn try_clone(&self) -> io::Result<File> {
        let file = self.std.clone();
        let mut clone = File::from_std(blocking(move || file.try_clone()).await??);
        clone.pos = self.pos;
        clone.max_buf_size = self.max_buf_size;
        Ok(clone)
    }

    /// Flushes data (not all metadata) to the device (`fdatasync`).
    ///
    /// # Errors
    /// The OS error of `fdatasync`.
    pub async fn sync_data(&self) -> io::Result<()> {
        let file = self.std.clone();
        blocking(move || file.sync_data()).await?
    }

    /// Sets the file's access and modification times (`futimens`, on the blocking pool).
    ///
    /// # Errors
    /// The OS error of `futimens`.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        let file = self.std.clone();
        blocking(move || file.set_times(times)).await?
    }

    /// Sets the file's modification time (`futimens`, on the blocking pool), as
    /// [`set_times`](Self::set_times) with only that time.
    ///
    /// # Errors
    /// The OS error of `futimens`.
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Sets the file's permissions (`fchmod`, on the blocking pool).
    ///
    /// # Errors
    /// The OS error of `fchmod`.
    pub async fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        let file = self.std.clone();
        blocking(move || file.set_permissions(perm)).await?
    }

    /// Truncates or extends the file to `size` bytes (`ftruncate`), after any
    /// `AsyncWrite` in flight; the position is unchanged.
    ///
    /// # Errors
    /// The error of the write in flight, or of `ftruncate`.
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.settle().await?;
        let file = self.std.clone();
        blocking(move || file.set_len(size)).await?
    }

    /// Waits for the `AsyncRead`/`AsyncWrite` operation in flight, if any, and drops
    /// read-ahead, so the cursor is where the caller's reads and writes left it.
    async fn settle(&mut self) -> io::Result<()> {
        let r = poll_fn(|cx| self.poll_idle(cx)).await;
        self.drop_read_ahead();
        r.map(drop)
    }

    /// Forgets read-ahead not yet returned (the position is where the reader stopped).
    fn drop_read_ahead(&mut self) {
        if let IoState::Idle { buf, read_pos } = self.io.get_mut() {
            buf.clear();
            *read_pos = 0;
        }
    }

    /// The std file with its own position moved to this file's position.
    fn std_at_pos(self) -> std::fs::File {
        let pos = self.pos;
        let file = Arc::try_unwrap(self.std).unwrap_or_else(|shared| {
            shared
                .try_clone()
                .expect("dup(2) of a file zokio still shares")
        });
        let mut f = &file;
        let _ = std::io::Seek::seek(&mut f, io::SeekFrom::Start(pos));
        file
    }

    /// Polls the operation in flight to its end, leaving the state idle. A read's bytes
    /// become read-ahead (the position moves as they are returned), and their count is
    /// returned (`Some(0)`: end of file); a write's error is returned. `None`: no read
    /// finished.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        let state = self.io.get_mut();
        let IoState::Busy(op) = state else {
            return Poll::Ready(Ok(None));
        };
        let (done, buf) = std::task::ready!(op.as_mut().poll(cx));
        *state = IoState::Idle { buf, read_pos: 0 };
        Poll::Ready(match done {
            Done::Read(Ok(n)) => Ok(Some(n)),
            Done::Read(Err(e)) | Done::Write(Err(e)) => {
                if let IoState::Idle { buf, .. } = state {
                    buf.clear();
                }
                Err(e)
            }
            Done::Write(Ok(())) => {
                if let IoState::Idle { buf, .. } = state {
                    buf.clear();
                }
                Ok(None)
            }
        })
    }

    /// Reads at `offset` into `buf`'s spare capacity (`capacity - len` bytes at most, not
    /// zeroed first), appending what was read, and gives the buffer back. `Ok(0)`: end of
    /// file.
    ///
    /// # Errors
    /// `InvalidInput` if `buf` has no spare capacity (so that it is never mistaken for end
    /// of file); else the OS error of the read.
    pub async fn read_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        read_at(self.std.clone(), buf, offset, usize::MAX).await
    }

    /// Writes `buf` at `offset` (one `pwrite`), returning how much was written, and gives
    /// the buffer back.
    pub async fn write_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let file = self.std.clone();
        if let Some(ring) = current_ring() {
            return ring_write_at(ring, file, buf, 0, offset).await;
        }
        with_buf(move || {
            let r = file.write_at(&buf, offset);
            (r, buf)
        })
        .await
    }

    /// Writes all of `buf` at `offset`, and gives the buffer back.
    pub async fn write_all_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<()>, Vec<u8>) {
        write_all_at(self.std.clone(), buf, offset).await
    }

    /// Reads at the file position into `buf`'s spare capacity and advances the position
    /// (see [`read_at`](Self::read_at)).
    ///
    /// # Errors
    /// As [`read_at`](Self::read_at).
    pub async fn read_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        let (r, buf) = self.read_at(buf, self.pos).await;
        if let Ok(n) = r {
            self.pos += n as u64;
        }
        (r, buf)
    }

    /// Writes `buf` at the file position (one `pwrite`) and advances the position.
    ///
    /// # Errors
    /// The OS error of the write.
    pub async fn write_owned(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        let (r, buf) = self.write_at(buf, self.pos).await;
        if let Ok(n) = r {
            self.pos += n as u64;
        }
        (r, buf)
    }

    /// Writes all of `buf` at the file position and advances the position past it.
    ///
    /// # Errors
    /// The OS error of the write; an unknown prefix was written.
    pub async fn write_all_owned(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        if let Err(e) = self.settle().await {
            return (Err(e), buf);
        }
        let len = buf.len() as u64;
        let (r, buf) = self.write_all_at(buf, self.pos).await;
        if r.is_ok() {
            self.pos += len;
        }
        (r, buf)
    }

    /// Flushes data and metadata to the device (`fsync`).
    ///
    /// # Errors
    /// The OS error of `fsync`.
    pub async fn sync_all(&self) -> io::Result<()> {
        let file = self.std.clone();
        if let Some(ring) = current_ring() {
            let fd = file.as_raw_fd();
            // SAFETY: no pointers; the fd is kept open by the operation's `Arc`.
            let (res, _file) = unsafe {
                ring_op(ring, file, OnCancel::Nothing, |_| {
                    opcode::Fsync::new(types::Fd(fd)).build()
                })
                .await
            };
            return res.map(drop);
        }
        blocking(move || file.sync_all()).await?
    }

    /// The file's metadata (`fstat`; on io_uring, on the calling thread).
    ///
    /// # Errors
    /// The OS error of `fstat`.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        if current_ring().is_some() {
            return self.std.metadata();
        }
        let file = self.std.clone();
        blocking(move || file.metadata()).await?
    }
}

/// `buf`'s spare capacity, `max` bytes at most, filled from `offset` (ring `READ`, or
/// `pread` on the pool).
async fn read_at(
    file: Arc<std::fs::File>,
    mut buf: Vec<u8>,
    offset: u64,
    max: usize,
) -> (io::Result<usize>, Vec<u8>) {
    if buf.capacity() == buf.len() {
        return (Err(crate::io::no_spare_capacity()), buf);
    }
    if let Some(ring) = current_ring() {
        return ring_read_at(ring, file, buf, offset, max).await;
    }
    with_buf(move || {
        let r = pread_spare(&file, &mut buf, offset, max);
        (r, buf)
    })
    .await
}

/// All of `buf` written at `offset` (ring `WRITE`s, or `pwrite`s on the pool).
async fn write_all_at(
    file: Arc<std::fs::File>,
    buf: Vec<u8>,
    offset: u64,
) -> (io::Result<()>, Vec<u8>) {
    if current_ring().is_some() {
        return ring_write_all_at(file, buf, offset).await;
    }
    with_buf(move || {
        let r = file.write_all_at(&buf, offset);
        (r, buf)
    })
    .await
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let just_read = std::task::ready!(this.poll_idle(cx))?;
            let IoState::Idle { buf, read_pos } = this.io.get_mut() else {
                unreachable!("poll_idle left the state idle");
            };
            if *read_pos < buf.len() {
                let n = dst.remaining().min(buf.len() - *read_pos);
                dst.put_slice(&buf[*read_pos..*read_pos + n]);
                *read_pos += n;
                this.pos += n as u64;
                return Poll::Ready(Ok(()));
            }
            // A read that found nothing is the end of the file: `dst` stays unfilled.
            if just_read == Some(0) || dst.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut buf = std::mem::take(buf);
            buf.clear();
            let want = dst.remaining().min(this.max_buf_size);
            buf.reserve(want);
            let (file, offset) = (this.std.clone(), this.pos);
            *this.io.get_mut() = IoState::Busy(Box::pin(async move {
                let (r, buf) = read_at(file, buf, offset, want).await;
                (Done::Read(r), buf)
            }));
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(src)])
    }

    /// Gathers the slices, up to the internal buffer's size, into one write.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_idle(cx))?;
        this.drop_read_ahead();
        let IoState::Idle { buf, .. } = this.io.get_mut() else {
            unreachable!("poll_idle left the state idle");
        };
        let mut buf = std::mem::take(buf);
        buf.clear();
        for src in srcs {
            let room = this.max_buf_size - buf.len();
            buf.extend_from_slice(&src[..src.len().min(room)]);
            if buf.len() == this.max_buf_size {
                break;
            }
        }
        let n = buf.len();
        if n == 0 {
            *this.io.get_mut() = IoState::Idle { buf, read_pos: 0 };
            return Poll::Ready(Ok(0));
        }
        let (file, offset) = (this.std.clone(), this.pos);
        this.pos += n as u64;
        *this.io.get_mut() = IoState::Busy(Box::pin(async move {
            let (r, buf) = write_all_at(file, buf, offset).await;
            (Done::Write(r), buf)
        }));
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx).map_ok(drop)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    /// Sets the position at once (no operation runs: the position is the file's own);
    /// `SeekFrom::End` reads the length with `fstat` on the calling thread.
    ///
    /// # Errors
    /// `Other` while an operation is in flight (call `poll_complete` first, as with
    /// Tokio's); `InvalidInput` for a position before 0 or past `u64::MAX`.
    fn start_seek(self: Pin<&mut Self>, to: io::SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        if matches!(this.io.get_mut(), IoState::Busy(_)) {
            return Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            ));
        }
        this.drop_read_ahead();
        let (base, delta) = match to {
            io::SeekFrom::Start(n) => {
                this.pos = n;
                return Ok(());
            }
            io::SeekFrom::Current(d) => (this.pos, d),
            io::SeekFrom::End(d) => (this.std.metadata()?.len(), d),
        };
        this.pos = base.checked_add_signed(delta).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )
        })?;
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_idle(cx))?;
        Poll::Ready(Ok(this.pos))
    }
}

impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

impl std::os::fd::FromRawFd for File {
    /// # Safety
    /// As `std::fs::File::from_raw_fd`: `fd` is an open file descriptor that nothing else
    /// owns.
    unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> File {
        // SAFETY: the caller's contract, passed on.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::from_std(file)
    }
}

impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("file", &self.std)
            .field("pos", &self.pos)
            .finish()
    }
}

/// Reads the whole file at `path` as UTF-8.
///
/// # Errors
/// As [`read()`]; `InvalidData` if the contents are not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Reads the whole file at `path`.
///
/// # Errors
/// As `std::fs::read`.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    if let Some(ring) = current_ring() {
        let file = ring_open(ring, path.as_ref(), libc::O_RDONLY).await?;
        // One byte more than the size, so the read that finds the end needs no growth.
        let size = file.std.metadata().map_or(0, |m| m.len() as usize);
        let mut buf = Vec::with_capacity(size + 1);
        loop {
            if buf.len() == buf.capacity() {
                buf.reserve(buf.capacity().max(8192));
            }
            let Some(ring) = current_ring() else {
                return Err(crate::runtime::shutdown_error());
            };
            let offset = buf.len() as u64;
            let (r, b) = ring_read_at(ring, file.std.clone(), buf, offset, usize::MAX).await;
            buf = b;
            match r {
                Ok(0) => return Ok(buf),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::read(path)).await?
}

/// Writes `contents` to `path`, creating or truncating it (Tokio's `fs::write`). The
/// contents are copied into the operation, which owns its bytes until the kernel is done
/// with them (on io_uring, even when this future is dropped; on epoll, in the pool thread).
/// To write an owned buffer without the copy, use [`File::create`] and
/// [`File::write_all_at`], which take the `Vec` and give it back.
///
/// # Errors
/// As `std::fs::write`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    if let Some(ring) = current_ring() {
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
        let file = ring_open(ring, path.as_ref(), flags).await?;
        let (r, _) = ring_write_all_at(file.std.clone(), contents, 0).await;
        return r;
    }
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::write(path, contents)).await?
}

/// Removes the file at `path`.
///
/// # Errors
/// As `std::fs::remove_file` (e.g. `NotFound`).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    if let Some(ring) = current_ring() {
        let path = c_path(path.as_ref())?;
        // SAFETY: the SQE points at the path's bytes, owned by the operation.
        let (res, _path) = unsafe {
            ring_op(ring, path, OnCancel::Nothing, |p| {
                opcode::UnlinkAt::new(types::Fd(libc::AT_FDCWD), p.as_ptr()).build()
            })
            .await
        };
        return res.map(drop);
    }
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::remove_file(path)).await?
}
