//! smol behind the adapter trait, set up as smol's own documentation sets it up: one
//! `async_executor::Executor` run by N threads (`block_on(ex.run(shutdown.recv()))` on
//! each), async-io's reactor for sockets and timers, async-channel and async-lock for
//! channels and locks, and the `blocking` pool (`smol::unblock`) for files.
//!
//! smol has no ambient "current runtime": tasks spawn on the executor they are given. The
//! adapter keeps the executor of the thread in a thread-local (set on its worker threads
//! and inside `block_on`), so [`Runtime::spawn_local`] can find it, as Tokio's
//! `tokio::spawn` finds its runtime.

use super::{MpscReceiver, MpscSender, OneshotSender, Runtime, UnboundedSender};
use smol::{Async, Executor, LocalExecutor};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

thread_local! {
    /// The executor of the smol runtime this thread works for, if any.
    static CURRENT: RefCell<Option<Arc<Executor<'static>>>> = const { RefCell::new(None) };
}

/// Makes `ex` this thread's current executor until dropped, restoring the previous one.
struct Enter(Option<Arc<Executor<'static>>>);

impl Enter {
    fn new(ex: &Arc<Executor<'static>>) -> Enter {
        Enter(CURRENT.with(|c| c.replace(Some(ex.clone()))))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

thread_local! {
    /// The `LocalExecutor` of the `block_on_local` this thread is in, if any.
    static LOCAL: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
    /// This thread's `LocalExecutor`, kept across `block_on_local` calls as a program keeps
    /// its executor, and as the zokio and Tokio adapters keep their `LocalSet`: a new one
    /// per call would allocate its queues again in every sample.
    static THREAD_EXECUTOR: Rc<LocalExecutor<'static>> = Rc::new(LocalExecutor::new());
}

/// Makes `ex` this thread's local executor until dropped, restoring the previous one.
struct EnterLocal(Option<Rc<LocalExecutor<'static>>>);

impl EnterLocal {
    fn new(ex: &Rc<LocalExecutor<'static>>) -> EnterLocal {
        EnterLocal(LOCAL.with(|c| c.replace(Some(ex.clone()))))
    }
}

impl Drop for EnterLocal {
    fn drop(&mut self) {
        let previous = self.0.take();
        LOCAL.with(|c| *c.borrow_mut() = previous);
    }
}

/// smol: an executor, and the threads that run it (none for a current-thread runtime,
/// whose tasks run inside `block_on`).
#[derive(Debug)]
pub struct Smol {
    ex: Arc<Executor<'static>>,
    /// Dropped to stop the worker threads.
    shutdown: Option<smol::channel::Sender<()>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Smol {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A smol task that runs on when its handle is dropped, as a Tokio `JoinHandle` does (a
/// dropped `smol::Task` cancels its task).
#[derive(Debug)]
pub struct SmolJoin<T>(Option<smol::Task<T>>);

impl<T> Future for SmolJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let task = self.0.as_mut().expect("polled after completion");
        let out = Pin::new(task).poll(cx);
        if out.is_ready() {
            self.0 = None;
        }
        out
    }
}

impl<T> Drop for SmolJoin<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

pin_project_lite::pin_project! {
    /// The receiving half of the oneshot stand-in, `async_channel::bounded(1)`: its next
    /// message, `None` if the sender was dropped.
    #[derive(Debug)]
    pub struct SmolOneshotRx<T> {
        #[pin]
        rx: smol::channel::Receiver<T>,
    }
}

impl<T> Future for SmolOneshotRx<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        smol::stream::Stream::poll_next(self.project().rx, cx)
    }
}

/// The sending half of the oneshot stand-in.
#[derive(Debug)]
pub struct SmolOneshotTx<T>(smol::channel::Sender<T>);

impl<T: Send + 'static> OneshotSender<T> for SmolOneshotTx<T> {
    fn send(self, value: T) -> Result<(), T> {
        self.0.try_send(value).map_err(|e| e.into_inner())
    }
}

/// The sending half of an async-channel, bounded or not.
#[derive(Debug)]
pub struct SmolSender<T>(smol::channel::Sender<T>);

impl<T> Clone for SmolSender<T> {
    fn clone(&self) -> Self {
        SmolSender(self.0.clone())
    }
}

impl<T: Send + 'static> MpscSender<T> for SmolSender<T> {
    async fn send(&self, value: T) -> Result<(), super::Closed> {
        self.0.send(value).await.map_err(|_| super::Closed)
    }
}

impl<T: Send + 'static> UnboundedSender<T> for SmolSender<T> {
    fn send(&self, value: T) -> Result<(), super::Closed> {
        self.0.try_send(value).map_err(|_| super::Closed)
    }
}

/// The receiving half of an async-channel.
#[derive(Debug)]
pub struct SmolReceiver<T>(smol::channel::Receiver<T>);

impl<T: Send + 'static> MpscReceiver<T> for SmolReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        self.0.recv().await.ok()
    }
}

impl<T: Send + 'static> super::AsyncMutex<T> for smol::lock::Mutex<T> {
    fn new(value: T) -> Self {
        smol::lock::Mutex::new(value)
    }

    async fn with_lock<R: Send>(&self, f: impl FnOnce(&mut T) -> R + Send) -> R {
        f(&mut *self.lock().await)
    }
}

impl super::AsyncSemaphore for smol::lock::Semaphore {
    fn new(permits: usize) -> Self {
        smol::lock::Semaphore::new(permits)
    }

    type Permit<'a> = smol::lock::SemaphoreGuard<'a>;

    fn acquire(&self) -> impl Future<Output = smol::lock::SemaphoreGuard<'_>> + Send {
        smol::lock::Semaphore::acquire(self)
    }

    fn available_permits(&self) -> usize {
        smol::lock::Semaphore::available_permits(self)
    }
}

impl Runtime for Smol {
    const NAME: &'static str = "smol";
    const VERSION: &'static str = env!("ZBENCH_VERSION_SMOL");
    const CAPS: &'static [super::Cap] = &[
        super::Cap::MultiThread,
        super::Cap::ForeignWake,
        super::Cap::CurrentThread,
        super::Cap::RemoteSpawn,
        super::Cap::Mutex,
        super::Cap::Semaphore,
        super::Cap::Tcp,
        super::Cap::Files,
        super::Cap::SendFile,
        super::Cap::IoNop,
        super::Cap::Hyper,
        super::Cap::LocalTasks,
    ];
    const EQUIVALENTS: &'static [(&'static str, &'static str)] = &[
        (
            "oneshot",
            "async_channel::bounded(1) (smol has no oneshot channel)",
        ),
        (
            "io_nop",
            "a smol::unblock round trip (smol's files run on that pool)",
        ),
        (
            "File::read_at",
            "pread on smol::unblock (async-fs has no positional read)",
        ),
        ("send_file", "sendfile(2) through Async::write_with"),
        ("hyper", "smol-hyper's FuturesIo and SmolTimer"),
        (
            "I/O driver",
            "async-io's one reactor per process, shared by every executor (memory.io_driver \
             counts no reactor per runtime)",
        ),
    ];

    type JoinHandle<T: Send + 'static> = SmolJoin<T>;
    type LocalJoinHandle<T: 'static> = SmolJoin<T>;
    type OneshotSender<T: Send + 'static> = SmolOneshotTx<T>;
    type OneshotReceiver<T: Send + 'static> = SmolOneshotRx<T>;
    type MpscSender<T: Send + 'static> = SmolSender<T>;
    type MpscReceiver<T: Send + 'static> = SmolReceiver<T>;
    type UnboundedSender<T: Send + 'static> = SmolSender<T>;
    type UnboundedReceiver<T: Send + 'static> = SmolReceiver<T>;
    type TcpListener = Async<std::net::TcpListener>;
    type TcpStream = Async<std::net::TcpStream>;
    type File = SmolFile;
    type Mutex<T: Send + 'static> = smol::lock::Mutex<T>;
    type Semaphore = smol::lock::Semaphore;
    type Notify = super::Unsupported;

    fn multi_thread(workers: usize) -> Smol {
        Smol::multi_thread_with(workers, &super::RunOptions::default())
    }

    /// Pins the executor's threads under `options.cpus` (one CPU each under
    /// `one_cpu_each`); async-io's reactor thread (which smol starts once per process, to
    /// drive I/O while no executor thread blocks on the reactor) is not this runtime's to
    /// place, and `blocking`'s threads have no start hook: one started by a pinned
    /// executor thread keeps that thread's CPU.
    fn multi_thread_with(workers: usize, options: &super::RunOptions) -> Smol {
        let options = *options;
        let ex = Arc::new(Executor::new());
        let (shutdown, stop) = smol::channel::unbounded::<()>();
        let workers = (0..workers)
            .map(|i| {
                let (ex, stop) = (ex.clone(), stop.clone());
                std::thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        options.pin_worker(i);
                        let _enter = Enter::new(&ex);
                        let _ = smol::block_on(ex.run(stop.recv()));
                    })
                    .expect("spawn smol worker")
            })
            .collect();
        Smol {
            ex,
            shutdown: Some(shutdown),
            workers,
        }
    }

    fn current_thread() -> Smol {
        Smol {
            ex: Arc::new(Executor::new()),
            shutdown: None,
            workers: Vec::new(),
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = Enter::new(&self.ex);
        if self.workers.is_empty() {
            // Current-thread: this thread runs the tasks while it waits.
            smol::block_on(self.ex.run(future))
        } else {
            smol::block_on(future)
        }
    }

    fn spawn<F>(&self, future: F) -> SmolJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolJoin(Some(self.ex.spawn(future)))
    }

    fn spawn_local<F>(future: F) -> SmolJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let ex = CURRENT
            .with(|c| c.borrow().clone())
            .expect("spawn_local outside a smol runtime");
        SmolJoin(Some(ex.spawn(future)))
    }

    /// This thread's `LocalExecutor` run inside the runtime's own executor, entered for
    /// the call so [`spawn_not_send`](Runtime::spawn_not_send) finds it.
    fn block_on_local<F: Future>(&self, future: F) -> F::Output {
        let local = THREAD_EXECUTOR.with(Rc::clone);
        let _enter = EnterLocal::new(&local);
        let _ex = Enter::new(&self.ex);
        smol::block_on(self.ex.run(local.run(future)))
    }

    fn spawn_not_send<F>(future: F) -> SmolJoin<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let local = LOCAL
            .with(|c| c.borrow().clone())
            .expect("spawn_not_send outside block_on_local");
        SmolJoin(Some(local.spawn(future)))
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }

    async fn io_nop() -> io::Result<()> {
        smol::unblock(|| ()).await;
        Ok(())
    }

    fn io_driver_name(_: &super::RunOptions) -> String {
        "async-io (epoll)".to_owned()
    }

    fn oneshot<T: Send + 'static>() -> (SmolOneshotTx<T>, SmolOneshotRx<T>) {
        let (tx, rx) = smol::channel::bounded(1);
        (SmolOneshotTx(tx), SmolOneshotRx { rx })
    }

    fn mpsc<T: Send + 'static>(capacity: usize) -> (SmolSender<T>, SmolReceiver<T>) {
        let (tx, rx) = smol::channel::bounded(capacity);
        (SmolSender(tx), SmolReceiver(rx))
    }

    fn unbounded<T: Send + 'static>() -> (SmolSender<T>, SmolReceiver<T>) {
        let (tx, rx) = smol::channel::unbounded();
        (SmolSender(tx), SmolReceiver(rx))
    }

    async fn serve_http(stream: Async<std::net::TcpStream>, body: bytes::Bytes) {
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(smol_hyper::rt::SmolTimer::new())
            .serve_connection(
                smol_hyper::rt::FuturesIo::new(stream),
                super::http_service(body),
            )
            .await;
    }

    async fn send_file<'a>(
        stream: &'a mut Async<std::net::TcpStream>,
        file: &'a std::fs::File,
        len: usize,
    ) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let in_fd = file.as_raw_fd();
        let mut off: libc::off_t = 0;
        while (off as usize) < len {
            let n = stream
                .write_with(|s| super::sendfile_once(s.as_raw_fd(), in_fd, &mut off, len))
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(())
    }
}

impl super::AsyncTcpListener for Async<std::net::TcpListener> {
    type Stream = Async<std::net::TcpStream>;

    async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Async::<std::net::TcpListener>::bind(addr)
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        Async::new(listener)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }

    async fn accept(&self) -> io::Result<Async<std::net::TcpStream>> {
        let (s, _) = Async::<std::net::TcpListener>::accept(self).await?;
        s.get_ref().set_nodelay(true)?;
        Ok(s)
    }
}

impl super::AsyncTcpStream for Async<std::net::TcpStream> {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let s = Async::<std::net::TcpStream>::connect(addr).await?;
        s.get_ref().set_nodelay(true)?;
        Ok(s)
    }

    async fn read(
        &mut self,
        mut buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<usize>, Vec<u8>) {
        let r = smol::io::AsyncReadExt::read(self, &mut buf[range]).await;
        (r, buf)
    }

    async fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<()>, Vec<u8>) {
        let r = smol::io::AsyncWriteExt::write_all(self, &buf[range]).await;
        (r, buf)
    }
}

/// A file read at offsets on smol's blocking pool (`smol::unblock`), which is what async-fs
/// runs every file operation on.
#[derive(Debug)]
pub struct SmolFile(Arc<std::fs::File>);

impl super::AsyncFile for SmolFile {
    async fn open(path: PathBuf) -> io::Result<Self> {
        let f = smol::unblock(move || std::fs::File::open(path)).await?;
        Ok(SmolFile(Arc::new(f)))
    }

    async fn read_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let file = self.0.clone();
        smol::unblock(move || super::pread_spare(&file, buf, offset)).await
    }

    async fn write_file(path: PathBuf, contents: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        (smol::fs::write(path, &contents).await, contents)
    }
}
