//! Memory per idle task, per I/O driver and per worker: resident bytes of data (RSS
//! without the pages of mapped files such as the executable's code, [`resident_bytes`])
//! added by spawning tasks that wait, by building drivers, by starting workers; Linux.
//!
//! Every task waits on the same runtime-agnostic [`Gate`], so the figure is the runtime's
//! own cost (task cell, scheduler bookkeeping, join handle) plus one gate waker slot, which
//! is identical for every runtime. The waker list and the join-handle vector are allocated
//! before the baseline reading, so they do not count. The figure also counts whatever the
//! allocator keeps around, so measure each runtime in a fresh process: memory freed by one
//! runtime would otherwise be reused by the next and flatter it.

use crate::rt::{OneshotSender, Runtime};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Resident set size of this process, in bytes.
///
/// # Errors
/// If `/proc/self/statm` cannot be read or parsed (not Linux, or no procfs).
pub fn rss_bytes() -> io::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected /proc/self/statm: {statm:?}"),
            )
        })?;
    Ok(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// Resident bytes of this process's data: RSS without the resident pages of mappings of
/// files (the executable, shared libraries), plus the pages of io_uring rings that RSS
/// leaves out, if any. Read from `/proc/self/smaps`; what every memory workload measures.
///
/// Code pages fault in as a run first executes them, and the kernel maps them several
/// pages at a time around each fault: counted, they would make a figure depend on the
/// binary's layout rather than on what the runtime allocates. Heap, stacks, thread-local
/// storage and io_uring rings (mappings of an anonymous inode, `anon_inode:[io_uring]`)
/// all stay counted; a ring counts its whole `Size`, since kernels that map rings as
/// `VM_PFNMAP` leave their pages out of `Rss`.
///
/// Read through a buffer on the stack, not into a `String`: a heap buffer the size of the
/// file (a few hundred mappings, some 150 KB) would be allocated while the kernel walks
/// the heap's pages, and be counted or not depending on which comes first.
///
/// # Errors
/// If `/proc/self/smaps` cannot be read, or a line of it is longer than 8 KiB or is an
/// `Rss`/`Size` line without a number (not Linux, or no procfs).
pub fn resident_bytes() -> io::Result<u64> {
    sum_smaps(std::fs::File::open("/proc/self/smaps")?)
}

/// [`resident_bytes`] of the smaps text `smaps` reads.
fn sum_smaps(mut smaps: impl io::Read) -> io::Result<u64> {
    let mut sum = SmapsSum::default();
    let mut buf = [0u8; 8192];
    let mut filled = 0;
    loop {
        let n = smaps.read(&mut buf[filled..])?;
        filled += n;
        let mut start = 0;
        while let Some(len) = buf[start..filled].iter().position(|&b| b == b'\n') {
            sum.line(&buf[start..start + len])?;
            start += len + 1;
        }
        if n == 0 {
            sum.line(&buf[start..filled])?;
            return Ok(sum.total);
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a /proc/self/smaps line longer than 8 KiB",
            ));
        }
    }
}

/// [`resident_bytes`]'s sum over the lines of an smaps file, fed one at a time.
#[derive(Debug, Default)]
struct SmapsSum {
    /// Which kind of mapping the lines being read belong to.
    kind: MappingKind,
    /// Bytes counted so far.
    total: u64,
}

#[derive(Debug, Default, Clone, Copy)]
enum MappingKind {
    /// A mapped file: the executable, a library (left out).
    File,
    /// An io_uring ring or SQE array.
    Ring,
    /// Heap, stacks, anonymous memory and everything else.
    #[default]
    Other,
}

impl SmapsSum {
    /// Takes one line (without its newline).
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        let mut fields = line
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty());
        let first = fields.next().unwrap_or_default();
        if first.contains(&b'-') && first.iter().all(|&c| c.is_ascii_hexdigit() || c == b'-') {
            // `start-end perms offset dev inode [path]`: the path may hold spaces.
            let path = fields.nth(4).unwrap_or_default();
            self.kind = if path.starts_with(b"/") {
                MappingKind::File
            } else if path.windows(8).any(|w| w == b"io_uring") {
                MappingKind::Ring
            } else {
                MappingKind::Other
            };
            return Ok(());
        }
        if first != b"Rss:" && first != b"Size:" {
            return Ok(());
        }
        let kib = fields
            .next()
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "unexpected /proc/self/smaps line: {:?}",
                        String::from_utf8_lossy(line)
                    ),
                )
            })?;
        if let (b"Rss:", MappingKind::Other) | (b"Size:", MappingKind::Ring) = (first, self.kind) {
            self.total += kib * 1024;
        }
        Ok(())
    }
}

/// A one-shot broadcast: every waiter is pending until [`Gate::open`].
#[derive(Debug, Default)]
pub struct Gate {
    open: AtomicBool,
    waiters: Mutex<Vec<Waker>>,
    registered: AtomicUsize,
}

impl Gate {
    /// A closed gate whose waiter list can hold `n` wakers without reallocating.
    pub fn with_capacity(n: usize) -> Gate {
        Gate {
            open: AtomicBool::new(false),
            waiters: Mutex::new(Vec::with_capacity(n)),
            registered: AtomicUsize::new(0),
        }
    }

    /// Waits until the gate opens.
    pub fn wait(self: &Arc<Self>) -> GateWait {
        GateWait {
            gate: self.clone(),
            registered: false,
        }
    }

    /// Opens the gate and wakes every waiter.
    pub fn open(&self) {
        self.open.store(true, SeqCst);
        let waiters = std::mem::take(&mut *self.waiters.lock().expect("gate lock"));
        for w in waiters {
            w.wake();
        }
    }

    /// How many waiters have registered (polled once and gone pending).
    pub fn registered(&self) -> usize {
        self.registered.load(SeqCst)
    }
}

/// Future returned by [`Gate::wait`].
#[derive(Debug)]
pub struct GateWait {
    gate: Arc<Gate>,
    registered: bool,
}

impl Future for GateWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.gate.open.load(SeqCst) {
            return Poll::Ready(());
        }
        let mut waiters = self.gate.waiters.lock().expect("gate lock");
        if self.gate.open.load(SeqCst) {
            return Poll::Ready(());
        }
        waiters.push(cx.waker().clone());
        drop(waiters);
        if !self.registered {
            self.registered = true;
            self.gate.registered.fetch_add(1, SeqCst);
        }
        Poll::Pending
    }
}

/// Result of [`idle_task_memory`].
#[derive(Debug, Clone, Copy)]
pub struct IdleTaskMemory {
    /// Tasks spawned.
    pub tasks: usize,
    /// Growth of [`resident_bytes`] while all tasks were alive and waiting, in bytes.
    pub resident_delta_bytes: u64,
}

impl IdleTaskMemory {
    /// Resident growth per task, in bytes.
    pub fn bytes_per_task(&self) -> f64 {
        self.resident_delta_bytes as f64 / self.tasks as f64
    }
}

/// Spawns `n` tasks from a task on `rt`, waits (in another task, yielding) until every one
/// has been polled and is waiting, reads [`resident_bytes`], then releases and joins them
/// all. All of it runs inside the runtime, so a runtime whose tasks run only inside
/// `block_on` (a thread-per-core one) measures the same way.
///
/// # Errors
/// If `/proc/self/smaps` cannot be read.
pub fn idle_task_memory<R: Runtime>(rt: &R, n: usize) -> io::Result<IdleTaskMemory> {
    let gate = Arc::new(Gate::with_capacity(n));
    touch_spare_capacity(&mut gate.waiters.lock().expect("gate lock"));
    let (waiting, release) = (gate.clone(), gate.clone());
    waiting_task_memory(
        rt,
        n,
        Vec::<()>::new(),
        move |_| gate.wait(),
        move || waiting.registered(),
        move |_| release.open(),
    )
}

/// Tasks waiting on a oneshot in [`oneshot_waiter_memory`] that have been polled once.
static ONESHOT_WAITERS: AtomicUsize = AtomicUsize::new(0);

pin_project_lite::pin_project! {
    /// A task's wait on its runtime's oneshot receiver, counted in [`ONESHOT_WAITERS`] at
    /// its first poll.
    struct OneshotWait<F> {
        #[pin]
        rx: F,
        counted: bool,
    }
}

impl<F: Future<Output = Option<()>>> Future for OneshotWait<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let ready = this
            .rx
            .poll(cx)
            .map(|v| assert!(v.is_some(), "sender dropped"));
        if !std::mem::replace(this.counted, true) {
            ONESHOT_WAITERS.fetch_add(1, SeqCst);
        }
        ready
    }
}

/// As [`idle_task_memory`], each task waiting on its own channel of the runtime's oneshot
/// ([`Runtime::oneshot`]), whose sender the harness holds: so the figure is the task and
/// the channel, what a task parked on a reply costs.
///
/// # Errors
/// If `/proc/self/smaps` cannot be read.
pub fn oneshot_waiter_memory<R: Runtime>(rt: &R, n: usize) -> io::Result<IdleTaskMemory> {
    ONESHOT_WAITERS.store(0, SeqCst);
    waiting_task_memory(
        rt,
        n,
        Vec::with_capacity(n),
        |senders: &mut Vec<R::OneshotSender<()>>| {
            let (tx, rx) = R::oneshot::<()>();
            senders.push(tx);
            OneshotWait { rx, counted: false }
        },
        || ONESHOT_WAITERS.load(SeqCst),
        |senders| {
            for tx in senders {
                if tx.send(()).is_err() {
                    panic!("a waiting task dropped its receiver");
                }
            }
        },
    )
}

/// The measurement of [`idle_task_memory`] and [`oneshot_waiter_memory`]: spawns `n` tasks
/// awaiting `waiter(&mut keep)`, waits until `registered()` reaches `n`, reads
/// [`resident_bytes`], then calls `release(keep)` and joins every task. `keep`'s spare
/// capacity, and that of the handle vector, are made resident before the baseline reading.
fn waiting_task_memory<R, K, W>(
    rt: &R,
    n: usize,
    mut keep: Vec<K>,
    mut waiter: impl FnMut(&mut Vec<K>) -> W + Send + 'static,
    registered: impl Fn() -> usize + Send + 'static,
    release: impl FnOnce(Vec<K>) + Send + 'static,
) -> io::Result<IdleTaskMemory>
where
    R: Runtime,
    K: Send + 'static,
    W: Future<Output = ()> + Send + 'static,
{
    touch_spare_capacity(&mut keep);
    let mut handles: Vec<R::JoinHandle<()>> = Vec::with_capacity(n);
    touch_spare_capacity(&mut handles);
    let before = resident_bytes()?;
    let after = rt.run(async move {
        for _ in 0..n {
            handles.push(R::spawn_local(waiter(&mut keep)));
        }
        R::spawn_local(async move {
            while registered() < n {
                R::yield_now().await;
            }
        })
        .await;
        let after = resident_bytes();
        release(keep);
        for h in handles {
            h.await;
        }
        after
    })?;
    Ok(IdleTaskMemory {
        tasks: n,
        resident_delta_bytes: after.saturating_sub(before),
    })
}

/// Makes a vector's unused capacity resident before the baseline reading, so that the
/// harness's own bookkeeping does not count as task memory. One volatile write per page:
/// plain zero-filling can be turned into `calloc` by the optimizer, which leaves fresh pages
/// untouched (that silently added 8 bytes per task to the figure once).
fn touch_spare_capacity<T>(v: &mut Vec<T>) {
    let spare = v.spare_capacity_mut();
    let bytes = std::mem::size_of_val(spare);
    let base = spare.as_mut_ptr().cast::<u8>();
    for offset in (0..bytes).step_by(page_size() as usize) {
        // SAFETY: `offset < bytes`, so the write stays inside the vector's allocation; the
        // capacity is uninitialised memory we own, and a byte write needs no alignment.
        unsafe { std::ptr::write_volatile(base.add(offset), 0) };
    }
}

/// Resident bytes per worker: after a warm-up runtime, build a 1-worker runtime and then a
/// `workers`-worker one (every worker started), and divide the difference of their
/// [`resident_bytes`] growths by `workers - 1`, which cancels each runtime's fixed cost.
/// Includes what the OS charges per thread (touched stack pages, TLS), since a worker
/// costs that too. A thread-per-core runtime's worker is a thread with a current-thread
/// runtime of its own ([`Runtime::THREAD_PER_CORE`]): its "N-worker runtime" is N such
/// threads.
///
/// # Errors
/// If `/proc/self/smaps` cannot be read.
///
/// # Panics
/// If `workers < 2`.
pub fn per_worker_memory<R: Runtime>(workers: usize) -> io::Result<f64> {
    assert!(
        workers >= 2,
        "needs at least 2 workers to cancel the fixed cost"
    );
    // The first runtime in a process pays one-time costs (lazy statics, the first thread's
    // allocator arena): pay them with a runtime that stays alive, so freed memory cannot be
    // reused by the ones measured.
    let warm = Workers::<R>::start(1);
    let before_one = resident_bytes()?;
    let one = Workers::<R>::start(1);
    let after_one = resident_bytes()?;
    let many = Workers::<R>::start(workers);
    let after_many = resident_bytes()?;
    drop((warm, one, many));
    let fixed_plus_one = after_one.saturating_sub(before_one) as f64;
    let fixed_plus_many = after_many.saturating_sub(after_one) as f64;
    Ok((fixed_plus_many - fixed_plus_one) / (workers - 1) as f64)
}

/// `n` started workers of `R`, kept until dropped: a multi-thread runtime whose every
/// worker has run a task, or `n` threads each holding a current-thread runtime that has
/// run a task (thread-per-core).
enum Workers<R> {
    Shared(R),
    PerThread {
        /// Dropped to release the threads.
        stop: Option<std::sync::mpsc::Sender<()>>,
        threads: Vec<std::thread::JoinHandle<()>>,
    },
}

impl<R: Runtime> Workers<R> {
    fn start(n: usize) -> Workers<R> {
        // Every worker blocks until all have started, so every worker thread has run (and
        // touched its stack) before the reading.
        let barrier = Arc::new(std::sync::Barrier::new(n + 1));
        if !R::THREAD_PER_CORE {
            let rt = R::multi_thread(n);
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    let b = barrier.clone();
                    rt.spawn(async move {
                        b.wait();
                    })
                })
                .collect();
            barrier.wait();
            rt.block_on(async move {
                for h in hs {
                    h.await;
                }
            });
            return Workers::Shared(rt);
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let stopped = Arc::new(Mutex::new(stopped));
        let threads = (0..n)
            .map(|_| {
                let (barrier, stopped) = (barrier.clone(), stopped.clone());
                std::thread::spawn(move || {
                    let rt = R::current_thread();
                    rt.run(async move {
                        barrier.wait();
                    });
                    // Held until the sender is dropped (every receive then fails).
                    let _ = stopped.lock().expect("stop lock").recv();
                    drop(rt);
                })
            })
            .collect();
        barrier.wait();
        Workers::PerThread {
            stop: Some(stop),
            threads,
        }
    }
}

impl<R> Drop for Workers<R> {
    fn drop(&mut self) {
        if let Workers::PerThread { stop, threads } = self {
            // Closing the channel releases every thread.
            drop(stop.take());
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// `memory.io_driver`: memory per I/O driver instance. Builds `n` current-thread runtimes
/// (each owns one driver: its poller or ring, eventfd, timer shard, and the small
/// scheduler core around them), registers a TCP listener with each and runs one I/O no-op,
/// so the driver's buffers are touched; the figure is the growth of [`resident_bytes`] over
/// `n`.
///
/// # Errors
/// If `/proc/self/smaps` cannot be read, or a socket cannot be bound.
pub fn io_driver_memory<R: Runtime>(n: usize) -> io::Result<f64> {
    let touch = |rt: &R| -> io::Result<()> {
        rt.block_on(async {
            let s = <R::TcpListener as crate::rt::AsyncTcpListener>::bind(
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            )
            .await?;
            R::io_nop().await?;
            drop(s);
            Ok(())
        })
    };
    // Pay one-time costs first with a runtime that stays alive.
    let warm = R::current_thread();
    touch(&warm)?;
    let before = resident_bytes()?;
    let mut rts = Vec::with_capacity(n);
    for _ in 0..n {
        let rt = R::current_thread();
        touch(&rt)?;
        rts.push(rt);
    }
    let after = resident_bytes()?;
    drop((warm, rts));
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn rss_is_readable_and_positive() {
        assert!(rss_bytes().unwrap() > 0);
        assert!(resident_bytes().unwrap() > 0);
    }

    /// A trimmed smaps of a process with its binary, the heap, an io_uring ring mapped
    /// in full and one RSS leaves partly out, and a stack.
    const SMAPS: &str = "\
55d0c0000000-55d0c0400000 r-xp 00000000 fd:01 1234                       /work/target/release/zbench
Size:               4096 kB
Rss:                1024 kB
Pss:                1024 kB
55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0                          [heap]
Size:               1024 kB
Rss:                 512 kB
7f7710639000-7f771063c000 rw-s 00000000 00:10 48724977                   anon_inode:[io_uring]
Size:                 12 kB
Rss:                  12 kB
7f771063e000-7f7710641000 rw-s 10000000 00:10 48724975                   anon_inode:[io_uring]
Size:                 12 kB
Rss:                   4 kB
7f7710700000-7f7710800000 r--p 00000000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6 (deleted)
Size:               1024 kB
Rss:                 600 kB
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Rss:                  16 kB
VmFlags: rd wr mr mw me gd ac
";

    fn sum_of(text: &str) -> io::Result<u64> {
        let mut sum = SmapsSum::default();
        for line in text.lines() {
            sum.line(line.as_bytes())?;
        }
        Ok(sum.total)
    }

    #[test]
    fn resident_bytes_leave_out_mapped_files_and_add_unresident_ring_pages() {
        // heap 512 + rings 12 + 4 + stack 16, plus the second ring's 8 kB out of RSS.
        assert_eq!(sum_of(SMAPS).unwrap(), (512 + 12 + 4 + 16 + 8) * 1024);
        assert_eq!(sum_of("").unwrap(), 0);
        assert!(sum_of("00-10 rw-p 0 0 0\nRss: many kB\n").is_err());
    }

    #[test]
    fn reading_through_the_fixed_buffer_sums_lines_split_across_reads() {
        // 600 copies are some 470 KB: many lines straddle the 8 KiB buffer's refills, and
        // the last has no newline.
        let text = SMAPS.repeat(600);
        let text = text.trim_end();
        assert_eq!(
            sum_smaps(io::Cursor::new(text)).unwrap(),
            sum_of(text).unwrap()
        );
        assert_eq!(sum_of(text).unwrap(), 600 * (512 + 12 + 4 + 16 + 8) * 1024);
        let long = format!("00-10 rw-p 0 0 0 {}\nRss: 4 kB\n", "x".repeat(9000));
        assert!(
            sum_smaps(io::Cursor::new(long)).is_err(),
            "an 8 KiB line is refused"
        );
    }

    #[test]
    fn idle_tasks_all_register_and_finish() {
        // Checks the workload runs to completion on both runtimes; the byte figure itself is
        // a measurement, not a test assertion.
        assert_eq!(
            idle_task_memory(&Zokio::multi_thread(2), 1_000)
                .unwrap()
                .tasks,
            1_000
        );
        assert_eq!(
            idle_task_memory(&Tokio::multi_thread(2), 1_000)
                .unwrap()
                .tasks,
            1_000
        );
    }
}
