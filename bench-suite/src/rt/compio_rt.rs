//! compio behind the adapter trait, set up as compio's own documentation sets it up:
//! thread-per-core, one `compio::runtime::Runtime` per thread on its completion-based
//! driver (io_uring, or the `polling` readiness driver where io_uring is missing), tasks
//! spawned with `compio::runtime::spawn` onto the thread's own runtime, timers from
//! `compio::time`, files through `compio::fs`.
//!
//! compio has no channels, semaphore, mutex, `Notify`, no-op operation or `yield_now` of
//! its own. The adapter uses `local-sync`'s `!Send` channels and semaphore (what monoio's
//! authors wrote for one-thread runtimes; the same stand-in the monoio adapter uses, so the
//! two thread-per-core runtimes are compared on the same primitives) and a `yield_now` that
//! wakes itself once; the rest are not applicable.
//!
//! An N-worker row runs N of these runtimes, one per thread, each with its share of the
//! work ([`Runtime::THREAD_PER_CORE`]); compio's `!Send` values are wrapped in [`Local`].

use super::one_thread::{self, LocalMpscReceiver, LocalMpscSender, LocalOneshotReceiver};
use super::one_thread::{LocalOneshotSender, LocalUnboundedReceiver, LocalUnboundedSender};
use super::{Local, Runtime};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A compio runtime, used on the thread that built it.
pub struct Compio(Local<compio::runtime::Runtime>);

impl std::fmt::Debug for Compio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compio")
    }
}

/// A compio task that runs on when its handle is dropped, as a Tokio `JoinHandle` does (a
/// dropped `compio` task handle cancels its task); resolves to the output, panicking if the
/// task panicked.
#[derive(Debug)]
pub struct CompioJoin<T>(Option<compio::runtime::JoinHandle<T>>);

impl<T> Future for CompioJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let task = self.0.as_mut().expect("polled after completion");
        let out = Pin::new(task).poll(cx);
        match out {
            Poll::Ready(r) => {
                self.0 = None;
                Poll::Ready(r.unwrap_or_else(|_| panic!("benchmark task panicked")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for CompioJoin<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

/// A TCP listener of compio's.
#[derive(Debug)]
pub struct CompioListener(Local<compio::net::TcpListener>);

impl super::AsyncTcpListener for CompioListener {
    type Stream = CompioStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send {
        let bind = Local::new(compio::net::TcpListener::bind(addr));
        async move { bind.await.map(|l| CompioListener(Local::new(l))) }
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        compio::net::TcpListener::from_std(listener).map(|l| CompioListener(Local::new(l)))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.get().local_addr()
    }

    fn accept(&self) -> impl Future<Output = io::Result<CompioStream>> + Send {
        let accept = Local::new(self.0.get().accept());
        async move {
            let (s, _) = accept.await?;
            s.set_nodelay(true)?;
            Ok(CompioStream(Local::new(s)))
        }
    }
}

/// A TCP stream of compio's: reads and writes hand the caller's buffer to the driver as it
/// is.
#[derive(Debug)]
pub struct CompioStream(Local<compio::net::TcpStream>);

impl super::AsyncTcpStream for CompioStream {
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send {
        let connect = Local::new(compio::net::TcpStream::connect(addr));
        async move {
            let s = connect.await?;
            s.set_nodelay(true)?;
            Ok(CompioStream(Local::new(s)))
        }
    }

    fn read(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send + '_ {
        use compio::buf::{IntoInner, IoBuf};
        use compio::io::AsyncRead;
        assert!(range.end <= buf.len(), "read range beyond the buffer's length");
        // Reading into initialised bytes leaves the length as it is (compio only grows it).
        let read = Local::new(self.0.get_mut().read(buf.slice(range)));
        async move {
            let compio::BufResult(r, slice) = read.await;
            (r, slice.into_inner())
        }
    }

    fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send + '_ {
        use compio::buf::{IntoInner, IoBuf};
        use compio::io::AsyncWriteExt;
        let write = Local::new(self.0.get_mut().write_all(buf.slice(range)));
        async move {
            let compio::BufResult(r, slice) = write.await;
            (r, slice.into_inner())
        }
    }
}

/// A file opened through `compio::fs` (io_uring `OPENAT`/`READ`; the `polling` driver runs
/// file operations on compio's thread pool).
#[derive(Debug)]
pub struct CompioFile(Local<compio::fs::File>);

impl super::AsyncFile for CompioFile {
    fn open(path: PathBuf) -> impl Future<Output = io::Result<Self>> + Send {
        let open = Local::new(compio::fs::File::open(path));
        async move { open.await.map(|f| CompioFile(Local::new(f))) }
    }

    fn read_at(
        &self,
        buf: Vec<u8>,
        offset: u64,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send {
        use compio::buf::{IntoInner, IoBuf};
        use compio::io::AsyncReadAt;
        // `uninit()`: into the spare capacity (compio reads from the buffer's start
        // otherwise).
        let read = Local::new(self.0.get().read_at(buf.uninit(), offset));
        async move {
            let compio::BufResult(r, buf) = read.await;
            (r, buf.into_inner())
        }
    }

    fn write_file(
        path: PathBuf,
        contents: Vec<u8>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send {
        let write = Local::new(compio::fs::write(path, contents));
        async move {
            let compio::BufResult(r, buf) = write.await;
            (r, buf)
        }
    }
}

impl Runtime for Compio {
    const NAME: &'static str = "compio";
    const VERSION: &'static str = env!("ZBENCH_VERSION_COMPIO");
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
            "N compio runtimes, one per thread, each with its share of the work (or one, for one task's work)",
        ),
        (
            "channels, semaphore",
            "local-sync (compio has none; !Send, for one thread, as monoio's adapter uses)",
        ),
        (
            "yield_now",
            "a future that wakes itself once (compio has none)",
        ),
        (
            "Send",
            "compio's !Send values wrapped in a thread-checked Local (one thread-local load and compare per use)",
        ),
        (
            "hyper",
            "hyper over compio's futures-io compat stream (compio::io::compat::AsyncStream, through smol-hyper's FuturesIo)",
        ),
    ];

    const THREAD_PER_CORE: bool = true;

    type JoinHandle<T: Send + 'static> = CompioJoin<T>;
    type LocalJoinHandle<T: 'static> = CompioJoin<T>;
    type OneshotSender<T: Send + 'static> = LocalOneshotSender<T>;
    type OneshotReceiver<T: Send + 'static> = LocalOneshotReceiver<T>;
    type MpscSender<T: Send + 'static> = LocalMpscSender<T>;
    type MpscReceiver<T: Send + 'static> = LocalMpscReceiver<T>;
    type UnboundedSender<T: Send + 'static> = LocalUnboundedSender<T>;
    type UnboundedReceiver<T: Send + 'static> = LocalUnboundedReceiver<T>;
    type TcpListener = CompioListener;
    type TcpStream = CompioStream;
    type File = CompioFile;
    type Mutex<T: Send + 'static> = super::Unsupported;
    type Semaphore = one_thread::LocalSemaphore;
    type Notify = super::Unsupported;

    fn multi_thread(_workers: usize) -> Self {
        unreachable!("compio is thread-per-core: N-worker rows run N current-thread runtimes")
    }

    fn current_thread() -> Self {
        Compio::current_thread_with(&super::RunOptions::default())
    }

    /// With the run's ring set-up through compio's `ProactorBuilder` (`capacity`: SQ
    /// entries; `sqpoll_idle`).
    fn current_thread_with(options: &super::RunOptions) -> Self {
        let mut proactor = compio::driver::ProactorBuilder::new();
        if let Some(sq) = options.ring.sq_entries {
            proactor.capacity(sq);
        }
        if let Some(ms) = options.ring.sqpoll_idle_ms {
            proactor.sqpoll_idle(std::time::Duration::from_millis(u64::from(ms)));
        }
        let rt = compio::runtime::RuntimeBuilder::new()
            .with_proactor(proactor)
            .build()
            .unwrap_or_else(|e| panic!("build compio runtime: {e}"));
        Compio(Local::new(rt))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.get().block_on(future)
    }

    fn spawn<F>(&self, _future: F) -> CompioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        unreachable!("compio has no spawn from outside its thread: its CAPS exclude it")
    }

    /// Runs `future` as a task, as the other adapters do, awaited by `block_on` (compio has
    /// no spawn from outside): the body never runs as the `block_on` future itself, which
    /// a runtime may poll on a different path from its tasks.
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.block_on(async move { Self::spawn_local(future).await })
    }

    fn spawn_local<F>(future: F) -> CompioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        CompioJoin(Some(compio::runtime::spawn(future)))
    }

    /// compio's own `block_on`: every compio task is local to its thread.
    fn block_on_local<F: Future>(&self, future: F) -> F::Output {
        self.block_on(future)
    }

    fn spawn_not_send<F>(future: F) -> CompioJoin<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        CompioJoin(Some(compio::runtime::spawn(future)))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        one_thread::YieldOnce::default()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        Local::new(compio::time::sleep(duration))
    }

    async fn io_nop() -> io::Result<()> {
        unreachable!("compio has no no-op operation: its CAPS exclude it")
    }

    fn io_driver_name(_options: &super::RunOptions) -> String {
        match compio::runtime::Runtime::new().map(|rt| rt.driver_type()) {
            Ok(compio::driver::DriverType::IoUring) => "io_uring".to_owned(),
            Ok(compio::driver::DriverType::Poll) => "polling (epoll)".to_owned(),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("none ({e})"),
        }
    }

    fn serve_http(stream: CompioStream, body: bytes::Bytes) -> impl Future<Output = ()> + Send {
        Local::new(async move {
            let io = compio::io::compat::AsyncStream::new(stream.0.into_inner());
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(smol_hyper::rt::FuturesIo::new(io), super::http_service(body))
                .await;
        })
    }

    async fn send_file<'a>(
        _stream: &'a mut CompioStream,
        _file: &'a std::fs::File,
        _len: usize,
    ) -> io::Result<()> {
        unreachable!("compio has no sendfile: its CAPS exclude it")
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
