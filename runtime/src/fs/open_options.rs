//! [`OpenOptions`]: how a [`File`] is opened, std's builder as Tokio's `fs::OpenOptions`.

use super::{blocking, current_ring, ring_open_mode, File};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Options for opening a file: read, write, append, truncate, create, create-new, the
/// permission bits of a new file and extra `open(2)` flags. As std's (and Tokio's), with
/// an asynchronous [`open`](Self::open): an io_uring `OPENAT` on the io_uring driver, std's
/// `open` on the blocking pool on epoll.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
    custom_flags: i32,
    /// Set when made from a std `OpenOptions`, whose settings cannot be read back: such
    /// options always open through std.
    from_std: Option<std::fs::OpenOptions>,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Everything off, mode `0o666` (before the umask).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
            custom_flags: 0,
            from_std: None,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.read = read;
        self.std(|o| o.read(read))
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.write = write;
        self.std(|o| o.write(write))
    }

    /// Open for appending: every write goes to the end (implies writing).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.append = append;
        self.std(|o| o.append(append))
    }

    /// Truncate an existing file to length 0 (needs writing, not appending).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.truncate = truncate;
        self.std(|o| o.truncate(truncate))
    }

    /// Create the file if it does not exist (needs writing or appending).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.create = create;
        self.std(|o| o.create(create))
    }

    /// Create the file, failing with `AlreadyExists` if it exists (`O_CREAT | O_EXCL`:
    /// atomic; a symbolic link at the path counts as existing). Overrides `create` and
    /// `truncate`.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.create_new = create_new;
        self.std(|o| o.create_new(create_new))
    }

    /// Permission bits of a file this call creates (before the umask). Default `0o666`.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.mode = mode;
        self.std(|o| o.mode(mode))
    }

    /// Extra `open(2)` flags (`O_NOFOLLOW`, `O_DIRECT`, ...); the access-mode bits are
    /// ignored, as std ignores them.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.custom_flags = flags;
        self.std(|o| o.custom_flags(flags))
    }

    fn std(
        &mut self,
        f: impl FnOnce(&mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions,
    ) -> &mut OpenOptions {
        if let Some(o) = &mut self.from_std {
            f(o);
        }
        self
    }

    /// The `open(2)` flags of these options, checked as std checks them.
    fn flags(&self) -> io::Result<i32> {
        let invalid = || Err(io::Error::from_raw_os_error(libc::EINVAL));
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return invalid(),
        };
        match (self.write, self.append) {
            (true, false) => {}
            (false, false) if self.truncate || self.create || self.create_new => return invalid(),
            (_, true) if self.truncate && !self.create_new => return invalid(),
            _ => {}
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
            (false, false, false) => 0,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
        };
        Ok(access | creation | (self.custom_flags & !libc::O_ACCMODE))
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    /// `InvalidInput` (`EINVAL`) for a combination std refuses (no access mode; `create`
    /// or `truncate` without writing; `truncate` with `append`); otherwise as std's `open`
    /// (`NotFound`, `AlreadyExists` for `create_new`, `PermissionDenied`, ...).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        if self.from_std.is_none() {
            let flags = self.flags()?;
            if let Some(ring) = current_ring() {
                return ring_open_mode(ring, path.as_ref(), flags, self.mode).await;
            }
        }
        let options = self.to_std();
        let path = path.as_ref().to_owned();
        let f = blocking(move || options.open(path)).await??;
        Ok(File::from_std(f))
    }

    fn to_std(&self) -> std::fs::OpenOptions {
        if let Some(o) = &self.from_std {
            return o.clone();
        }
        let mut o = std::fs::OpenOptions::new();
        o.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new)
            .mode(self.mode)
            .custom_flags(self.custom_flags);
        o
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    /// Options that open through std's (on the blocking pool, on both drivers): std's
    /// settings cannot be read back. Setters called afterwards apply to them.
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions {
            from_std: Some(options),
            ..OpenOptions::new()
        }
    }
}
