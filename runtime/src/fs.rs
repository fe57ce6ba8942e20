//! Files: [`File`] with owned-buffer positional and cursor I/O, and the whole-file helpers
//! [`read()`], [`write()`], [`remove_file()`].
//!
//! Regular files are always "ready" to epoll, so on the readiness driver each operation
//! runs on the runtime's blocking thread pool (as Tokio's `fs` does); the buffer moves into
//! the pool thread and comes back with the result, so dropping a future mid-operation is
//! safe (the operation finishes on the pool and its buffer is freed there). The io_uring
//! driver will run these as io_uring operations instead, with the same owned-buffer API.
//!
//! Every function must be called inside a zokio runtime. Errors are the OS errors of the
//! underlying calls (`NotFound`, `PermissionDenied`, ...), or `Other` if the runtime shut
//! down before the pool ran the operation.

use std::fmt;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

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

/// An open file. Positional operations (`read_at`, `write_at`) take `&self`; the cursor
/// operations (`read`, `write`, `write_all`) take `&mut self` and advance the file's own
/// position, starting at 0.
pub struct File {
    std: Arc<std::fs::File>,
    pos: u64,
}

impl File {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// As `std::fs::File::open` (e.g. `NotFound`).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let f = blocking(move || std::fs::File::open(path)).await??;
        Ok(File::from_std(f))
    }

    /// Creates `path` write-only, truncating it if it exists.
    ///
    /// # Errors
    /// As `std::fs::File::create`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let f = blocking(move || std::fs::File::create(path)).await??;
        Ok(File::from_std(f))
    }

    /// Wraps an open std file (position 0).
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            pos: 0,
        }
    }

    /// Reads at `offset` into `buf`'s spare capacity (`capacity - len` bytes at most),
    /// appending what was read, and gives the buffer back. `Ok(0)`: end of file (or no
    /// spare capacity).
    pub async fn read_at(&self, mut buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let file = self.std.clone();
        let start = buf.len();
        let spare = buf.capacity() - start;
        if spare == 0 {
            return (Ok(0), buf);
        }
        with_buf(move || {
            buf.resize(start + spare, 0);
            let r = file.read_at(&mut buf[start..], offset);
            buf.truncate(start + *r.as_ref().unwrap_or(&0));
            (r, buf)
        })
        .await
    }

    /// Writes `buf` at `offset` (one `pwrite`), returning how much was written, and gives
    /// the buffer back.
    pub async fn write_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let file = self.std.clone();
        with_buf(move || {
            let r = file.write_at(&buf, offset);
            (r, buf)
        })
        .await
    }

    /// Writes all of `buf` at `offset`, and gives the buffer back.
    pub async fn write_all_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<()>, Vec<u8>) {
        let file = self.std.clone();
        with_buf(move || {
            let r = file.write_all_at(&buf, offset);
            (r, buf)
        })
        .await
    }

    /// Reads at the file position into `buf`'s spare capacity and advances the position.
    pub async fn read(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let (r, buf) = self.read_at(buf, self.pos).await;
        if let Ok(n) = r {
            self.pos += n as u64;
        }
        (r, buf)
    }

    /// Writes `buf` at the file position (one `pwrite`) and advances the position.
    pub async fn write(&mut self, buf: Vec<u8>) -> (io::Result<usize>, Vec<u8>) {
        let (r, buf) = self.write_at(buf, self.pos).await;
        if let Ok(n) = r {
            self.pos += n as u64;
        }
        (r, buf)
    }

    /// Writes all of `buf` at the file position and advances the position past it.
    pub async fn write_all(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
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
        blocking(move || file.sync_all()).await?
    }

    /// The file's metadata (`fstat`).
    ///
    /// # Errors
    /// The OS error of `fstat`.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let file = self.std.clone();
        blocking(move || file.metadata()).await?
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

/// Reads the whole file at `path`.
///
/// # Errors
/// As `std::fs::read`.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::read(path)).await?
}

/// Writes `contents` to `path`, creating or truncating it. The contents move into the pool
/// thread (pass a `Vec<u8>` to avoid a copy).
///
/// # Errors
/// As `std::fs::write`.
pub async fn write(
    path: impl AsRef<Path>,
    contents: impl AsRef<[u8]> + Send + 'static,
) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::write(path, contents)).await?
}

/// Removes the file at `path`.
///
/// # Errors
/// As `std::fs::remove_file` (e.g. `NotFound`).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking(move || std::fs::remove_file(path)).await?
}
