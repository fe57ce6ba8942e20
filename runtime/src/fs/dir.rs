//! Paths and directories, Tokio's `fs` functions: each runs std's function of the same
//! name on the runtime's blocking pool (as Tokio's do), on both drivers, and returns its
//! result. Listing a directory ([`read_dir`]) reads its entries in batches on the pool.

use super::blocking;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Runs `f(path)` on the blocking pool.
async fn on_pool<R: Send + 'static>(
    path: &Path,
    f: impl FnOnce(PathBuf) -> io::Result<R> + Send + 'static,
) -> io::Result<R> {
    let path = path.to_owned();
    blocking(move || f(path)).await?
}

/// Runs `f(from, to)` on the blocking pool.
async fn on_pool2<R: Send + 'static>(
    from: &Path,
    to: &Path,
    f: impl FnOnce(PathBuf, PathBuf) -> io::Result<R> + Send + 'static,
) -> io::Result<R> {
    let (from, to) = (from.to_owned(), to.to_owned());
    blocking(move || f(from, to)).await?
}

/// The absolute path of `path` with every symbolic link, `.` and `..` resolved.
///
/// # Errors
/// As `std::fs::canonicalize` (`NotFound` if it does not exist).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool(path.as_ref(), std::fs::canonicalize).await
}

/// Copies the contents and permission bits of file `from` to `to` (created or
/// truncated); returns the bytes copied.
///
/// # Errors
/// As `std::fs::copy`.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_pool2(from.as_ref(), to.as_ref(), std::fs::copy).await
}

/// Creates the directory `path` (its parent must exist).
///
/// # Errors
/// As `std::fs::create_dir` (`AlreadyExists`, `NotFound` for a missing parent).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::create_dir).await
}

/// Creates the directory `path` and any missing parents; an existing directory is fine.
///
/// # Errors
/// As `std::fs::create_dir_all`.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::create_dir_all).await
}

/// Makes `dst` a hard link to the file `src`.
///
/// # Errors
/// As `std::fs::hard_link`.
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    on_pool2(src.as_ref(), dst.as_ref(), std::fs::hard_link).await
}

/// The metadata of `path`, following symbolic links.
///
/// # Errors
/// As `std::fs::metadata`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool(path.as_ref(), std::fs::metadata).await
}

/// The metadata of `path` itself, a symbolic link not followed.
///
/// # Errors
/// As `std::fs::symlink_metadata`.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool(path.as_ref(), std::fs::symlink_metadata).await
}

/// Where the symbolic link `path` points.
///
/// # Errors
/// As `std::fs::read_link` (`InvalidInput` if `path` is not a link).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool(path.as_ref(), std::fs::read_link).await
}

/// Removes the empty directory `path`.
///
/// # Errors
/// As `std::fs::remove_dir` (`DirectoryNotEmpty`, `NotFound`).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::remove_dir).await
}

/// Removes the directory `path` and everything in it (symbolic links are removed, not
/// followed).
///
/// # Errors
/// As `std::fs::remove_dir_all`.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool(path.as_ref(), std::fs::remove_dir_all).await
}

/// Renames `from` to `to`, replacing `to` if it is a file (or an empty directory, when
/// `from` is one).
///
/// # Errors
/// As `std::fs::rename`.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    on_pool2(from.as_ref(), to.as_ref(), std::fs::rename).await
}

/// Sets the permissions of `path`.
///
/// # Errors
/// As `std::fs::set_permissions`.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    on_pool(path.as_ref(), move |p| std::fs::set_permissions(p, perm)).await
}

/// Makes `dst` a symbolic link to `src` (Unix).
///
/// # Errors
/// As `std::os::unix::fs::symlink`.
pub async fn symlink(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    on_pool2(src.as_ref(), dst.as_ref(), |s, d| {
        std::os::unix::fs::symlink(s, d)
    })
    .await
}

/// Whether `path` exists (following symbolic links): `Ok(false)` if it does not, an error
/// if that cannot be told (a permission denied on the way, say).
///
/// # Errors
/// As `std::fs::exists`.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_pool(path.as_ref(), std::fs::exists).await
}

/// Entries read per trip to the blocking pool (Tokio's figure).
const BATCH: usize = 32;

/// Lists the directory `path`: a [`ReadDir`] of its entries (without `.` and `..`), in
/// the order the file system gives.
///
/// # Errors
/// As `std::fs::read_dir` (`NotFound`, `NotADirectory`).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let (entries, rest) = blocking(move || {
        let mut dir = std::fs::read_dir(path)?;
        let entries = next_batch(&mut dir);
        let rest = (entries.len() == BATCH).then_some(dir);
        Ok::<_, io::Error>((entries, rest))
    })
    .await??;
    Ok(ReadDir {
        state: State::Idle(entries, rest),
    })
}

/// Up to [`BATCH`] entries of `dir`, an error counting as one.
fn next_batch(dir: &mut std::fs::ReadDir) -> VecDeque<io::Result<DirEntry>> {
    dir.by_ref()
        .take(BATCH)
        .map(|entry| {
            entry.map(|std| {
                // Found from the directory entry itself on most file systems; a `stat`
                // otherwise, here on the pool rather than later on a worker.
                let file_type = std.file_type().ok();
                DirEntry {
                    std: Arc::new(std),
                    file_type,
                }
            })
        })
        .collect()
}

/// The entries of a directory, from [`read_dir`], read in batches of 32 on the
/// blocking pool.
#[derive(Debug)]
pub struct ReadDir {
    state: State,
}

type Batch = (VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>);

enum State {
    /// Entries read ahead, and the directory if not finished.
    Idle(VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>),
    /// A batch being read on the pool (reached only through `&mut`, so `ReadDir` is
    /// `Sync`, as Tokio's).
    Busy(sync_wrapper::SyncWrapper<Pin<Box<dyn Future<Output = io::Result<Batch>> + Send>>>),
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Idle(entries, dir) => f
                .debug_struct("Idle")
                .field("read_ahead", &entries.len())
                .field("finished", &dir.is_none())
                .finish(),
            State::Busy(_) => f.write_str("Busy"),
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` after the last. Cancel-safe: an entry read by a dropped
    /// call is returned by the next.
    ///
    /// # Errors
    /// An error reading the directory (returned once, in place of an entry); `Other` if
    /// the runtime shut down.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry, registering the task to be woken.
    ///
    /// # Errors
    /// As [`next_entry`](Self::next_entry).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(entries, dir) => {
                    if let Some(entry) = entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    let Some(mut dir) = dir.take() else {
                        return Poll::Ready(Ok(None));
                    };
                    self.state = State::Busy(sync_wrapper::SyncWrapper::new(Box::pin(blocking(
                        move || {
                            let entries = next_batch(&mut dir);
                            let rest = (entries.len() == BATCH).then_some(dir);
                            (entries, rest)
                        },
                    ))));
                }
                State::Busy(batch) => {
                    let r = ready!(batch.get_mut().as_mut().poll(cx));
                    match r {
                        Ok((entries, rest)) => self.state = State::Idle(entries, rest),
                        Err(e) => {
                            // The directory went with the lost closure: finished.
                            self.state = State::Idle(VecDeque::new(), None);
                            return Poll::Ready(Err(e));
                        }
                    }
                }
            }
        }
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug, Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// The type, if found while reading the directory.
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The entry's full path: the listed directory's path joined with its name.
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number, from the directory entry.
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, a symbolic link not followed (as std's).
    ///
    /// # Errors
    /// As std's `DirEntry::metadata`.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        blocking(move || std.metadata()).await?
    }

    /// The entry's file type, a symbolic link not followed.
    ///
    /// # Errors
    /// As std's `DirEntry::file_type`.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(t) = self.file_type {
            return Ok(t);
        }
        let std = self.std.clone();
        blocking(move || std.file_type()).await?
    }
}

/// Creates directories with options (recursion, permission bits), as std's `DirBuilder`.
#[derive(Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    mode: Option<u32>,
}

impl DirBuilder {
    /// Not recursive, mode `0o777` (before the umask).
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Whether missing parents are created too (and an existing directory is fine).
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// Permission bits of the directories created (before the umask).
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates `path` with these options.
    ///
    /// # Errors
    /// As std's `DirBuilder::create`.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
        }
        on_pool(path.as_ref(), move |p| builder.create(p)).await
    }
}
