//! monoio behind the adapter trait, set up as monoio's own documentation sets it up:
//! thread-per-core, one `FusionDriver` runtime with timers per thread (io_uring where the
//! kernel has the operations monoio needs, else its legacy epoll driver), tasks spawned with
//! `monoio::spawn` onto the thread's own runtime, channels and the semaphore from
//! `local-sync` (the `!Send` primitives of monoio's authors), files through `monoio::fs`.
//!
//! An N-worker row runs N of these runtimes, one per thread, each with its share of the
//! work ([`Runtime::THREAD_PER_CORE`]). monoio's values are `!Send`; the adapter wraps them
//! in [`Local`], which checks on every use that it is still on its thread.
//!
//! monoio has no `yield_now`, and a future that wakes itself does not yield there (see
//! `YieldNow`, the adapter's). It has no no-op operation and no mutex or `Notify`
//! (the workloads that need them are not applicable), and no spawn from another thread.

use super::one_thread::{self, LocalMpscReceiver, LocalMpscSender, LocalOneshotReceiver};
use super::one_thread::{LocalOneshotSender, LocalUnboundedReceiver, LocalUnboundedSender};
use super::{Local, Runtime};
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// The runtime type `RuntimeBuilder::<FusionDriver>::new().enable_timer().build()` gives.
type FusionRuntime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

/// A monoio runtime, used on the thread that built it, and its identity (for
/// `YieldNow`).
pub struct Monoio(Local<RefCell<FusionRuntime>>, u64);

impl Drop for Monoio {
    fn drop(&mut self) {
        // Wakers of this runtime's tasks must not outlive it in the thread's yield state.
        // Taken out first: dropping a waker may drop a task, whose drop may yield-check.
        let stale = YIELDED.with_borrow_mut(|y| (y.runtime == self.1).then(|| std::mem::take(y)));
        drop(stale);
    }
}

/// Identities of monoio runtimes, from 1 (0: none).
static NEXT_RUNTIME: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The runtime whose `block_on` the thread is in (0: none).
    static RUNNING: Cell<u64> = const { Cell::new(0) };
    /// The tasks that yielded on the thread's running runtime.
    static YIELDED: RefCell<Yielded> = RefCell::new(Yielded::default());
}

/// Tasks that yielded (`YieldNow`), waiting for the waker task to wake them.
#[derive(Default)]
struct Yielded {
    /// The runtime they belong to.
    runtime: u64,
    /// Their wakers, in the order they yielded.
    wakers: Vec<Waker>,
    /// The waker task's waker while it waits for yielded tasks.
    waker_task: Option<Waker>,
    /// Whether the runtime has a waker task.
    spawned: bool,
}

/// monoio's `yield_now` (it has none). A task that wakes itself while it is polled runs
/// again at once in monoio (its harness puts it at the *front* of the run queue), so a
/// self-waking future does not yield at all. This one hands its waker to a waker task of
/// the runtime and wakes that task instead: it runs behind every task ready before it and
/// wakes the yielded ones, which go to the back of the queue, as Tokio's `yield_now` (which
/// defers the wake until the scheduler has polled the task) and smol's do.
#[derive(Debug, Default)]
pub(super) struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        let runtime = RUNNING.get();
        let (stale, waker_task, spawn) = YIELDED.with_borrow_mut(|y| {
            // State of a runtime that is not running here any more: start afresh.
            let stale = (y.runtime != runtime).then(|| {
                std::mem::replace(
                    y,
                    Yielded {
                        runtime,
                        ..Yielded::default()
                    },
                )
            });
            y.wakers.push(cx.waker().clone());
            let spawn = !std::mem::replace(&mut y.spawned, true);
            (stale, y.waker_task.take(), spawn)
        });
        drop(stale);
        if let Some(w) = waker_task {
            w.wake();
        }
        if spawn {
            drop(monoio::spawn(WakeYielded(Vec::new())));
        }
        Poll::Pending
    }
}

/// The waker task of `YieldNow`: each time it runs, it wakes the tasks that yielded
/// since it last ran, in order, then waits to be woken by the next one. It keeps a spare
/// vector, swapped with the state's, so that no round allocates.
struct WakeYielded(Vec<Waker>);

impl Future for WakeYielded {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let spare = &mut self.0;
        YIELDED.with_borrow_mut(|y| {
            y.waker_task = Some(cx.waker().clone());
            std::mem::swap(spare, &mut y.wakers);
        });
        for w in spare.drain(..) {
            w.wake();
        }
        Poll::Pending
    }
}

impl std::fmt::Debug for Monoio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Monoio")
    }
}

/// A TCP listener of monoio's.
#[derive(Debug)]
pub struct MonoioListener(Local<monoio::net::TcpListener>);

impl super::AsyncTcpListener for MonoioListener {
    type Stream = MonoioStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self> {
        monoio::net::TcpListener::bind(addr).map(|l| MonoioListener(Local::new(l)))
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        monoio::net::TcpListener::from_std(listener).map(|l| MonoioListener(Local::new(l)))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.get().local_addr()
    }

    fn accept(&self) -> impl Future<Output = io::Result<MonoioStream>> + Send {
        let accept = Local::new(self.0.get().accept());
        async move {
            let (s, _) = accept.await?;
            s.set_nodelay(true)?;
            Ok(MonoioStream(Local::new(s)))
        }
    }
}

/// A TCP stream of monoio's: reads and writes hand the caller's buffer to io_uring as it is.
#[derive(Debug)]
pub struct MonoioStream(Local<monoio::net::TcpStream>);

impl super::AsyncTcpStream for MonoioStream {
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send {
        let connect = Local::new(monoio::net::TcpStream::connect_addr(addr));
        async move {
            let s = connect.await?;
            s.set_nodelay(true)?;
            Ok(MonoioStream(Local::new(s)))
        }
    }

    fn read(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send + '_ {
        use monoio::buf::{IoBufMut, SliceMut};
        use monoio::io::AsyncReadRent;
        let len = buf.len();
        assert!(range.end <= len, "read range beyond the buffer's length");
        let read = Local::new(self.0.get_mut().read(buf.slice_mut(range)));
        async move {
            let (r, slice): (io::Result<usize>, SliceMut<Vec<u8>>) = read.await;
            let mut buf = slice.into_inner();
            // monoio sets the length to the end of what it read; put it back.
            // SAFETY: the first `len` bytes were initialised before the read, the kernel
            // only wrote into them, and the allocation is the same (capacity >= len).
            unsafe { buf.set_len(len) };
            (r, buf)
        }
    }

    fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send + '_ {
        use monoio::buf::IoBuf;
        use monoio::io::AsyncWriteRentExt;
        let write = Local::new(self.0.get_mut().write_all(buf.slice(range)));
        async move {
            let (r, slice) = write.await;
            (r.map(drop), slice.into_inner())
        }
    }
}

/// A file opened through `monoio::fs` (io_uring `OPENAT`/`READ`; the legacy driver reads
/// on the calling thread).
#[derive(Debug)]
pub struct MonoioFile(Local<monoio::fs::File>);

impl super::AsyncFile for MonoioFile {
    fn open(path: PathBuf) -> impl Future<Output = io::Result<Self>> + Send {
        let open = Local::new(monoio::fs::File::open(path));
        async move { open.await.map(|f| MonoioFile(Local::new(f))) }
    }

    fn read_at(
        &self,
        buf: Vec<u8>,
        offset: u64,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send {
        use monoio::buf::{IoBuf, IoBufMut, SliceMut};
        let (init, total) = (buf.len(), buf.capacity());
        // The spare capacity: monoio reads into a buffer from its start otherwise.
        let read = Local::new(self.0.get().read_at(buf.slice_mut(init..total), offset));
        async move {
            let (r, slice): (io::Result<usize>, SliceMut<Vec<u8>>) = read.await;
            let buf = slice.into_inner();
            debug_assert!(buf.bytes_init() >= init);
            (r, buf)
        }
    }

    fn write_file(
        path: PathBuf,
        contents: Vec<u8>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send {
        Local::new(monoio::fs::write(path, contents))
    }
}

impl Runtime for Monoio {
    const NAME: &'static str = "monoio";
    const VERSION: &'static str = env!("ZBENCH_VERSION_MONOIO");
    const CAPS: &'static [super::Cap] = &[
        super::Cap::RingSetup,
        super::Cap::MultiThread,
        super::Cap::CurrentThread,
        super::Cap::Semaphore,
        super::Cap::Tcp,
        super::Cap::Files,
        super::Cap::Hyper,
        super::Cap::LocalTasks,
    ];
    const EQUIVALENTS: &'static [(&'static str, &'static str)] = &[
        (
            "N-worker rows",
            "N monoio runtimes, one per thread, each with its share of the work (or one, for one task's work)",
        ),
        (
            "channels, semaphore",
            "local-sync (from monoio's authors; !Send, for one thread)",
        ),
        (
            "yield_now",
            "the adapter's: the task's waker goes to a waker task that wakes it behind the tasks ready before it (monoio has none, and runs a task that wakes itself at once again)",
        ),
        (
            "Send",
            "monoio's !Send values wrapped in a thread-checked Local (one thread-local load and compare per use)",
        ),
        (
            "hyper",
            "hyper over the stream turned into poll-io (monoio's readiness mode, tokio's I/O traits), as monoio documents for poll-based libraries",
        ),
    ];

    const THREAD_PER_CORE: bool = true;

    type JoinHandle<T: Send + 'static> = monoio::task::JoinHandle<T>;
    type LocalJoinHandle<T: 'static> = monoio::task::JoinHandle<T>;
    type OneshotSender<T: Send + 'static> = LocalOneshotSender<T>;
    type OneshotReceiver<T: Send + 'static> = LocalOneshotReceiver<T>;
    type MpscSender<T: Send + 'static> = LocalMpscSender<T>;
    type MpscReceiver<T: Send + 'static> = LocalMpscReceiver<T>;
    type UnboundedSender<T: Send + 'static> = LocalUnboundedSender<T>;
    type UnboundedReceiver<T: Send + 'static> = LocalUnboundedReceiver<T>;
    type TcpListener = MonoioListener;
    type TcpStream = MonoioStream;
    type File = MonoioFile;
    type Mutex<T: Send + 'static> = super::Unsupported;
    type Semaphore = one_thread::LocalSemaphore;
    type Notify = super::Unsupported;

    fn multi_thread(_workers: usize) -> Self {
        unreachable!("monoio is thread-per-core: N-worker rows run N current-thread runtimes")
    }

    fn current_thread() -> Self {
        Monoio::current_thread_with(&super::RunOptions::default())
    }

    /// With the run's ring set-up through monoio's `RuntimeBuilder` (`with_entries`: SQ
    /// entries, at least 256; SQPOLL through `uring_builder`).
    fn current_thread_with(options: &super::RunOptions) -> Self {
        let mut builder = monoio::RuntimeBuilder::<monoio::FusionDriver>::new().enable_timer();
        if let Some(sq) = options.ring.sq_entries {
            builder = builder.with_entries(sq);
        }
        if let Some(ms) = options.ring.sqpoll_idle_ms {
            let mut uring = monoio_io_uring::IoUring::builder();
            uring.setup_sqpoll(ms);
            builder = builder.uring_builder(uring);
        }
        let rt = builder
            .build()
            .unwrap_or_else(|e| panic!("build monoio runtime: {e}"));
        Monoio(
            Local::new(RefCell::new(rt)),
            NEXT_RUNTIME.fetch_add(1, Relaxed),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        struct Running(u64);
        impl Drop for Running {
            fn drop(&mut self) {
                RUNNING.set(self.0);
            }
        }
        let _restore = Running(RUNNING.replace(self.1));
        self.0.get().borrow_mut().block_on(future)
    }

    fn spawn<F>(&self, _future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        unreachable!("monoio has no spawn from outside its thread: its CAPS exclude it")
    }

    /// Runs `future` as a task, as the other adapters do, awaited by `block_on` (monoio has
    /// no spawn from outside): the body never runs as the `block_on` future itself, which
    /// a runtime may poll on a different path from its tasks.
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.block_on(async move { Self::spawn_local(future).await })
    }

    fn spawn_local<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        monoio::spawn(future)
    }

    /// monoio's own `block_on`: every monoio task is local to its thread.
    fn block_on_local<F: Future>(&self, future: F) -> F::Output {
        self.block_on(future)
    }

    fn spawn_not_send<F>(future: F) -> monoio::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        monoio::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        YieldNow::default()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        Local::new(monoio::time::sleep(duration))
    }

    async fn io_nop() -> io::Result<()> {
        unreachable!("monoio has no no-op operation: its CAPS exclude it")
    }

    fn io_driver_name(_options: &super::RunOptions) -> String {
        if monoio::utils::detect_uring() {
            "io_uring".to_owned()
        } else {
            "legacy (epoll)".to_owned()
        }
    }

    fn serve_http(stream: MonoioStream, body: bytes::Bytes) -> impl Future<Output = ()> + Send {
        Local::new(async move {
            let Ok(io) = stream.0.into_inner().try_into_poll_io() else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(io), super::http_service(body))
                .await;
        })
    }

    async fn send_file<'a>(
        _stream: &'a mut MonoioStream,
        _file: &'a std::fs::File,
        _len: usize,
    ) -> io::Result<()> {
        unreachable!("monoio has no sendfile: its CAPS exclude it")
    }

    fn oneshot<T: Send + 'static>() -> (LocalOneshotSender<T>, LocalOneshotReceiver<T>) {
        one_thread::oneshot()
    }

    fn mpsc<T: Send + 'static>(capacity: usize) -> (LocalMpscSender<T>, LocalMpscReceiver<T>) {
        one_thread::mpsc(capacity)
    }

    fn unbounded<T: Send + 'static>() -> (LocalUnboundedSender<T>, LocalUnboundedReceiver<T>) {
        one_thread::unbounded()
    }
}
