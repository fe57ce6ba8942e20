//! I/O through each runtime's own driver and file API, on 127.0.0.1 and a temporary file:
//! TCP echo throughput and round-trip latency, and small file reads and writes.
//!
//! Client and server run on the same runtime, in the same process: the figure is what one
//! runtime does with both ends of each connection. (The load generator of the stress work
//! drives servers from threads of its own.)

use crate::rt::{AsyncFile, AsyncTcpListener, AsyncTcpStream, Runtime};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// Bytes per echo request and response: a small message, and one page.
pub const ECHO_SIZES: [usize; 2] = [64, 4096];

/// Bytes the echo server reads at most per read (its buffer).
pub const ECHO_READ_BUFFER: usize = 64 * 1024;

/// Starts an echo server task for `conns` connections: each is served until its client
/// closes. Returns the address.
async fn echo_server<R: Runtime>(conns: usize) -> SocketAddr {
    let listener = R::TcpListener::bind("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    drop(R::spawn_local(async move {
        for _ in 0..conns {
            let mut stream = listener.accept().await.expect("accept");
            drop(R::spawn_local(async move {
                let mut buf = vec![0u8; ECHO_READ_BUFFER];
                loop {
                    let (r, b) = stream.read(buf, 0..ECHO_READ_BUFFER).await;
                    let n = r.expect("server read");
                    if n == 0 {
                        return;
                    }
                    let (r, b) = stream.write_all(b, 0..n).await;
                    r.expect("server write");
                    buf = b;
                }
            }));
        }
    }));
    addr
}

/// One client: `rounds` request/response exchanges of `bytes` each, each checked, calling
/// `record(round trip)` after each.
async fn echo_client<S: AsyncTcpStream>(
    addr: SocketAddr,
    bytes: usize,
    rounds: usize,
    mut record: impl FnMut(std::time::Duration),
) {
    let mut stream = S::connect(addr).await.expect("connect");
    let mut req = vec![0u8; bytes];
    let mut resp = vec![0u8; bytes];
    for r in 0..rounds {
        req.fill(r as u8);
        let start = Instant::now();
        let (r, b) = stream.write_all(req, 0..bytes).await;
        r.expect("client write");
        req = b;
        let mut got = 0;
        while got < bytes {
            let (r, b) = stream.read(resp, got..bytes).await;
            let n = r.expect("client read");
            assert!(n > 0, "server closed early");
            resp = b;
            got += n;
        }
        record(start.elapsed());
        assert_eq!(resp, req, "echo corrupted");
    }
}

/// `conns` connections each do `rounds` echo round trips of `bytes` at once. Ops: round
/// trips.
pub fn tcp_echo<R: Runtime>(rt: &R, conns: usize, bytes: usize, rounds: usize) -> u64 {
    rt.run(async move {
        let addr = echo_server::<R>(conns).await;
        let clients: Vec<_> = (0..conns)
            .map(|_| R::spawn_local(echo_client::<R::TcpStream>(addr, bytes, rounds, |_| {})))
            .collect();
        for c in clients {
            c.await;
        }
        (conns * rounds) as u64
    })
}

/// As [`tcp_echo`], recording round-trip latencies (ns) into one histogram: `n` round trips
/// of `bytes` over `conns` connections, after one unrecorded warm-up exchange per
/// connection.
///
/// The connections are new each call, and a connection's first exchange also waits for
/// the server to accept it (up to `conns` accepts in a row): with 50 exchanges per
/// connection those were 2% of the samples, enough to set the p99 of both runtimes by
/// accept order rather than by round-trip time (`net.tcp_connections` measures setup).
pub fn tcp_echo_latency<R: Runtime>(
    rt: &R,
    conns: usize,
    bytes: usize,
    n: usize,
) -> Histogram<u64> {
    let rounds = n.div_ceil(conns);
    rt.run(async move {
        let addr = echo_server::<R>(conns).await;
        let clients: Vec<_> = (0..conns)
            .map(|_| {
                R::spawn_local(async move {
                    let mut hist = super::latency_histogram();
                    let mut warm_up = true;
                    echo_client::<R::TcpStream>(addr, bytes, rounds + 1, |d| {
                        if !std::mem::take(&mut warm_up) {
                            hist.saturating_record(d.as_nanos() as u64);
                        }
                    })
                    .await;
                    hist
                })
            })
            .collect();
        let mut all = super::latency_histogram();
        for c in clients {
            all.add(c.await).expect("same bounds");
        }
        all
    })
}

/// Runs `f` while another thread of this process spins on a CPU (a busy neighbour: on a
/// machine with as many cores as the runtime has workers, the kernel now and then
/// deschedules a worker for a time slice of a few ms). The thread, named `zbench-spinner`,
/// is spinning when `f` starts and is stopped and joined after it, also when `f` panics.
///
/// # Panics
/// If the thread cannot be spawned (the process is out of threads or memory).
pub fn with_spinning_thread<T>(f: impl FnOnce() -> T) -> T {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(std::sync::Barrier::new(2));
    let spinner = {
        let (stop, started) = (stop.clone(), started.clone());
        std::thread::Builder::new()
            .name("zbench-spinner".into())
            .spawn(move || {
                started.wait();
                let mut spins = 0u64;
                while !stop.load(Relaxed) {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
            })
            .expect("spawn the spinning thread")
    };
    // `f` starts with the thread already spinning.
    started.wait();
    /// Stops the spinner even if `f` panics.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Relaxed);
        }
    }
    let out = {
        let _stop = Stop(stop);
        f()
    };
    spinner.join().expect("the spinning thread does not panic");
    out
}

/// A temporary file of `len` bytes, removed on drop.
#[derive(Debug)]
pub struct TempFile {
    /// Its path.
    pub path: PathBuf,
}

/// `{prefix}-{pid}-{n}`, a name no other file of this process (or of another zbench)
/// takes: `n` counts up across every call.
fn unique_name(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

impl TempFile {
    /// Creates it in the system temporary directory.
    ///
    /// # Panics
    /// If the file cannot be written (a broken machine, not a benchmark result).
    pub fn new(len: usize) -> TempFile {
        let path = std::env::temp_dir().join(unique_name("zbench-io"));
        std::fs::write(&path, vec![0xa5u8; len]).expect("write temporary file");
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `sched.io_ops`: `tasks` tasks each alternate a no-op through the I/O driver
/// ([`Runtime::io_nop`]) and a read of `bytes` at offset 0 of `file`, `total / tasks` times.
/// Ops: no-ops plus reads (two per iteration; each read checked for length).
pub fn io_ops<R: Runtime>(
    rt: &R,
    file: &TempFile,
    tasks: usize,
    total: usize,
    bytes: usize,
) -> u64 {
    let path = file.path.clone();
    let per = total / tasks;
    rt.run(async move {
        let f = std::sync::Arc::new(R::File::open(path).await.expect("open"));
        let readers: Vec<_> = (0..tasks)
            .map(|_| {
                let f = f.clone();
                R::spawn_local(async move {
                    let mut buf = Vec::with_capacity(bytes);
                    for _ in 0..per {
                        R::io_nop().await.expect("no-op");
                        buf.clear();
                        let (r, b) = f.read_at(buf, 0).await;
                        buf = b;
                        assert_eq!(r.expect("read"), bytes, "short read");
                    }
                })
            })
            .collect();
        for r in readers {
            r.await;
        }
        (2 * per * tasks) as u64
    })
}

/// A directory of `count` files of `len` bytes each (a byte pattern that depends on the
/// file), removed on drop.
#[derive(Debug)]
pub struct TempFiles {
    dir: PathBuf,
    /// The files' paths.
    pub paths: Vec<PathBuf>,
    /// Each file's length, in bytes.
    pub len: usize,
}

impl TempFiles {
    /// Writes them in the system temporary directory.
    ///
    /// # Panics
    /// If a file cannot be written (a broken machine, not a benchmark result).
    pub fn new(count: usize, len: usize) -> TempFiles {
        let dir = std::env::temp_dir().join(unique_name("zbench-files"));
        std::fs::create_dir_all(&dir).expect("create temporary directory");
        let paths = (0..count)
            .map(|i| {
                let path = dir.join(format!("f{i}"));
                std::fs::write(&path, vec![i as u8; len]).expect("write temporary file");
                path
            })
            .collect();
        TempFiles { dir, paths, len }
    }
}

impl Drop for TempFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `fs.read_64k`: `tasks` tasks together read `total` whole files from `files`, each one
/// opened, read to the end through `read_at` into one buffer of the file's size, and
/// closed (dropped). Ops: files, each checked for length and content.
pub fn whole_file_reads<R: Runtime>(rt: &R, files: &TempFiles, tasks: usize, total: usize) -> u64 {
    let paths = std::sync::Arc::new(files.paths.clone());
    let len = files.len;
    let per = total / tasks;
    rt.run(async move {
        let readers: Vec<_> = (0..tasks)
            .map(|t| {
                let paths = paths.clone();
                R::spawn_local(async move {
                    let mut buf = Vec::with_capacity(len + 1);
                    for i in 0..per {
                        let k = (t * per + i) % paths.len();
                        let f = R::File::open(paths[k].clone()).await.expect("open");
                        buf.clear();
                        loop {
                            let offset = buf.len() as u64;
                            let (r, b) = f.read_at(buf, offset).await;
                            buf = b;
                            if r.expect("read") == 0 {
                                break;
                            }
                        }
                        assert!(
                            buf.len() == len && buf[len - 1] == k as u8,
                            "file {k} read wrong"
                        );
                    }
                })
            })
            .collect();
        for r in readers {
            r.await;
        }
        (per * tasks) as u64
    })
}

/// Where `fs.write_64k` writes: one directory, `files`, in a directory of its own under
/// [`write_root`] that is removed with all it holds on drop. Every call writes there,
/// whether one runtime makes it or the shards of a thread-per-core runtime share it
/// ([`crate::suite::Share`]: shard `s` names its files `s{s}-...`), so every runtime's
/// tasks contend for the same directory.
///
/// The page cache and file system are kept in one state for every call:
/// [`prepare`](Self::prepare) truncates the shard's files of the previous call to nothing
/// (their dirty pages are dropped, never written back) and moves them into a `retired`
/// directory, then flushes the file system with `syncfs(2)`, so a call starts with no
/// dirty data or metadata of earlier calls pending and writes only new names into an
/// empty directory. Files are retired rather than removed because ext4 without a journal
/// skips every inode freed in the last minutes when it allocates one near a dirty inode
/// table block (`recently_deleted`), which made each create slower the more samples had
/// run; and a call never rewrites an existing file, since a truncating open makes ext4
/// start write-back at close. A call's files (512 of 64 KiB: 32 MiB) stay far below the
/// kernel's `dirty_background_ratio` of memory and are dropped long before
/// `dirty_expire_centisecs` (30 s) would age them into write-back.
#[derive(Debug)]
pub struct WriteDirs {
    base: PathBuf,
    retired: std::sync::atomic::AtomicU64,
}

impl WriteDirs {
    /// Makes the base directory with its `files` and `retired` directories.
    ///
    /// # Panics
    /// If they cannot be made (a broken machine, not a benchmark result).
    pub fn new() -> WriteDirs {
        let base = write_root().join(unique_name("zbench-writes"));
        for sub in ["files", "retired"] {
            std::fs::create_dir_all(base.join(sub)).expect("create temporary directory");
        }
        WriteDirs {
            base,
            retired: Default::default(),
        }
    }

    /// The directory every call writes into.
    pub fn dir(&self) -> PathBuf {
        self.base.join("files")
    }

    /// The file system the files go to (`ext4`, `tmpfs`, ...), from `/proc/self/mountinfo`;
    /// `unknown` if it cannot be told.
    pub fn file_system(&self) -> String {
        crate::machine::file_system(&self.base).unwrap_or_else(|| "unknown".to_owned())
    }

    /// Retires shard `shard`'s files and flushes the file system.
    ///
    /// # Panics
    /// If a file cannot be retired or the file system flushed.
    pub fn prepare(&self, shard: usize) {
        let mine = format!("s{shard}-");
        let entries = std::fs::read_dir(self.dir()).expect("list the write directory");
        for entry in entries {
            let entry = entry.expect("list the write directory");
            if !entry.file_name().to_string_lossy().starts_with(&mine) {
                continue;
            }
            let from = entry.path();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&from)
                .and_then(|f| f.set_len(0))
                .expect("truncate a written file");
            let n = self
                .retired
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let to = self.base.join("retired").join(n.to_string());
            std::fs::rename(&from, to).expect("retire a written file");
        }
        syncfs(&self.base).expect("flush the file system");
    }
}

/// Free bytes `/dev/shm` must have for [`write_root`] to choose it: two shards' calls of
/// `fs.write_64k` (32 MiB each) with room to spare.
const SHM_FREE_BYTES: u64 = 256 << 20;

/// Where `fs.write_64k` makes its directory: `$ZBENCH_WRITE_DIR` if set; else `/dev/shm`
/// when it is a tmpfs with `SHM_FREE_BYTES` free; else the system temporary directory.
///
/// Why tmpfs first: there the file is the page cache, with no write-back or disk
/// allocator, so the figure is each runtime's path (its thread hand-offs or ring, the
/// kernel's `io-wq` for an `OPENAT` that creates) plus the VFS, the same on every run. On
/// a disk file system the allocator's state from earlier work can dominate (ext4 without
/// a journal slows every create for minutes after a bulk deletion; see [`WriteDirs`]).
/// Set `ZBENCH_WRITE_DIR` to measure one.
pub fn write_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ZBENCH_WRITE_DIR") {
        return PathBuf::from(dir);
    }
    let shm = std::path::Path::new("/dev/shm");
    let tmpfs = crate::machine::file_system(shm).is_some_and(|fs| fs == "tmpfs");
    if tmpfs && free_bytes(shm).is_some_and(|free| free >= SHM_FREE_BYTES) {
        return shm.to_owned();
    }
    std::env::temp_dir()
}

/// Bytes available to an unprivileged user on the file system holding `dir`.
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statvfs is a valid value of the plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `st` is a live statvfs the call writes into.
    let r = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
    (r == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

impl Default for WriteDirs {
    fn default() -> WriteDirs {
        WriteDirs::new()
    }
}

impl Drop for WriteDirs {
    /// Removes everything, then flushes the file system: inodes freed with their table
    /// blocks still dirty are skipped by journal-less ext4 for five minutes, clean ones
    /// for one, so the flush shortens how long later file creations pay for them.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
        if let Some(parent) = self.base.parent() {
            // Best effort: a drop must not panic.
            let _ = syncfs(parent);
        }
    }
}

/// `syncfs(2)` on the file system holding `dir`.
///
/// # Errors
/// If `dir` cannot be opened or the flush fails.
fn syncfs(dir: &std::path::Path) -> std::io::Result<()> {
    let dir = std::fs::File::open(dir)?;
    // SAFETY: syncfs(2) only reads the descriptor, which `dir` keeps open.
    let r = unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&dir)) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `fs.write_64k`: `tasks` tasks together write `total` new files of `len` bytes into `dir`
/// with [`AsyncFile::write_file`] (create, write, close), each task reusing one buffer
/// of its own byte; the files are named `s{shard}-t{task}-{i}`. Ops: files; only the
/// writes are timed. Every file is checked afterwards for its length, and each task's last
/// file for its content.
///
/// # Panics
/// If a write fails or a file is wrong.
pub fn whole_file_writes<R: Runtime>(
    rt: &R,
    dir: &std::path::Path,
    shard: usize,
    tasks: usize,
    total: usize,
    len: usize,
) -> crate::measure::Timed {
    let per = total / tasks;
    let path =
        move |dir: &std::path::Path, t: usize, i: usize| dir.join(format!("s{shard}-t{t}-{i}"));
    let base = std::sync::Arc::new(dir.to_owned());
    let cost = rt.run(async move {
        let meter = crate::measure::Meter::start();
        let writers: Vec<_> = (0..tasks)
            .map(|t| {
                let base = base.clone();
                R::spawn_local(async move {
                    let mut contents = vec![t as u8; len];
                    for i in 0..per {
                        let (r, b) = R::File::write_file(path(&base, t, i), contents).await;
                        r.expect("write a file");
                        contents = b;
                    }
                })
            })
            .collect();
        for w in writers {
            w.await;
        }
        meter.stop()
    });
    for t in 0..tasks {
        for i in 0..per {
            let p = path(dir, t, i);
            let size = std::fs::metadata(&p).map_or(0, |m| m.len());
            assert!(size == len as u64, "{} has {size} bytes", p.display());
        }
        if per > 0 {
            let last = std::fs::read(path(dir, t, per - 1)).expect("read a written file");
            assert!(
                last.iter().all(|&b| b == t as u8),
                "task {t} wrote wrong bytes"
            );
        }
    }
    crate::measure::Timed::phase((per * tasks) as u64, cost)
}

/// `latency.io_submission`: inside a task, creates `n` no-op futures and polls each once
/// (which submits it: zokio queues an SQE or hands a closure to its blocking pool, Tokio
/// hands a closure to its blocking pool), timing only that loop; then awaits them all
/// outside the timed phase. The time per submission is the phase over `n`.
pub fn io_submission<R: Runtime>(rt: &R, n: usize) -> crate::measure::Timed {
    rt.run(async move {
        let mut ops: Vec<_> = (0..n).map(|_| Box::pin(R::io_nop())).collect();
        let mut ready = vec![false; n];
        let cost = {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let meter = crate::measure::Meter::start();
            for (op, ready) in ops.iter_mut().zip(&mut ready) {
                // An operation ready at once is fine: it was submitted (and completed).
                if let std::task::Poll::Ready(r) = std::future::Future::poll(op.as_mut(), &mut cx) {
                    r.expect("no-op");
                    *ready = true;
                }
            }
            meter.stop()
        };
        for (op, ready) in ops.into_iter().zip(ready) {
            if !ready {
                op.await.expect("no-op");
            }
        }
        crate::measure::Timed::phase(n as u64, cost)
    })
}

/// `zsync.batch` (zokio only: Tokio has no submission queue): `tasks` tasks run the
/// `sched.io_ops` loop; the figure is SQEs submitted per submitting `io_uring_enter` over
/// the sample, from the runtime's metrics. `None` on the epoll driver.
pub fn zokio_batch(
    rt: &crate::rt::Zokio,
    file: &TempFile,
    tasks: usize,
    total: usize,
    bytes: usize,
) -> Option<f64> {
    let m = rt.metrics();
    let (c0, e0) = (m.io_submit_calls(), m.io_submitted_entries());
    io_ops(rt, file, tasks, total, bytes);
    let (calls, entries) = (m.io_submit_calls() - c0, m.io_submitted_entries() - e0);
    (calls > 0).then(|| entries as f64 / calls as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn the_spinning_thread_runs_during_the_call_and_stops_after() {
        // By name: other tests of this binary start and stop threads of their own meanwhile.
        let spinners = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim_end() == "zbench-spinner")
                .count()
        };
        assert_eq!(with_spinning_thread(spinners), 1);
        assert_eq!(spinners(), 0);
    }

    #[test]
    fn echo_and_reads_complete_on_both() {
        for bytes in ECHO_SIZES {
            assert_eq!(tcp_echo(&Zokio::multi_thread(2), 8, bytes, 20), 160);
            assert_eq!(tcp_echo(&Tokio::multi_thread(2), 8, bytes, 20), 160);
            assert_eq!(
                tcp_echo_latency(&Zokio::multi_thread(2), 4, bytes, 40).len(),
                40
            );
            assert_eq!(
                tcp_echo_latency(&Tokio::multi_thread(2), 4, bytes, 40).len(),
                40
            );
        }
        let f = TempFile::new(4096);
        assert_eq!(io_ops(&Zokio::multi_thread(2), &f, 4, 100, 4096), 200);
        assert_eq!(io_ops(&Tokio::multi_thread(2), &f, 4, 100, 4096), 200);
    }

    #[test]
    fn whole_files_are_read_and_checked_on_both() {
        let files = TempFiles::new(8, 10_000);
        assert_eq!(whole_file_reads(&Zokio::multi_thread(2), &files, 1, 20), 20);
        assert_eq!(whole_file_reads(&Tokio::multi_thread(2), &files, 4, 20), 20);
        assert_eq!(
            whole_file_reads(&Zokio::current_thread(), &files, 4, 20),
            20
        );
    }

    #[test]
    fn whole_files_are_written_checked_and_retired() {
        let dirs = WriteDirs::new();
        let count = || std::fs::read_dir(dirs.dir()).unwrap().count();
        for shard in [0, 1] {
            dirs.prepare(shard);
            let t = whole_file_writes(&Zokio::multi_thread(2), &dirs.dir(), shard, 4, 20, 5_000);
            assert_eq!(t.ops, 20);
            assert!(t.phase.is_some(), "only the writes are timed");
        }
        assert_eq!(count(), 40);
        // Preparing retires the shard's own files: emptied, moved out, never deleted.
        dirs.prepare(0);
        assert_eq!(count(), 20);
        let t = whole_file_writes(&Tokio::multi_thread(2), &dirs.dir(), 0, 1, 7, 5_000);
        assert_eq!(t.ops, 7);
        dirs.prepare(0);
        dirs.prepare(1);
        assert_eq!(count(), 0);
        let retired: Vec<_> = std::fs::read_dir(dirs.base.join("retired"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .collect();
        assert_eq!(retired.len(), 20 + 20 + 7);
        assert!(retired.iter().all(|&len| len == 0));
        assert_ne!(dirs.file_system(), "unknown");
        let base = dirs.base.clone();
        drop(dirs);
        assert!(!base.exists());
    }

    #[test]
    fn submissions_are_timed_and_all_complete() {
        for t in [
            io_submission(&Zokio::multi_thread(2), 100),
            io_submission(&Tokio::multi_thread(2), 100),
        ] {
            assert_eq!(t.ops, 100);
            assert!(t.phase.is_some());
        }
    }

    #[test]
    fn batch_is_reported_on_io_uring_only() {
        let rt = Zokio::multi_thread(2);
        let f = TempFile::new(4096);
        let batch = zokio_batch(&rt, &f, 8, 400, 4096);
        match rt.metrics().io_driver() {
            zokio::runtime::IoDriver::IoUring => {
                let b = batch.expect("io_uring submits");
                assert!(b >= 1.0, "{b}");
            }
            _ => assert_eq!(batch, None),
        }
    }
}
