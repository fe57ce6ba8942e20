use super::{
    option_recv_future, unwrap_join_future, MpscReceiver, MpscSender, OneshotSender, Runtime,
    UnboundedSender,
};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// zokio behind the adapter trait.
#[derive(Debug)]
pub struct Zokio(zokio::runtime::Runtime);

impl Zokio {
    /// The runtime's metrics (zokio-only workloads read the driver's counters).
    pub fn metrics(&self) -> zokio::runtime::RuntimeMetrics {
        self.0.metrics()
    }
}

unwrap_join_future!(ZokioJoin, zokio::task::JoinHandle<T>);
option_recv_future!(ZokioOneshotRx, zokio::sync::oneshot::Receiver<T>);

impl<T: Send + 'static> OneshotSender<T> for zokio::sync::oneshot::Sender<T> {
    fn send(self, value: T) -> Result<(), T> {
        zokio::sync::oneshot::Sender::send(self, value)
    }
}

impl<T: Send + 'static> MpscSender<T> for zokio::sync::mpsc::Sender<T> {
    async fn send(&self, value: T) -> Result<(), super::Closed> {
        zokio::sync::mpsc::Sender::send(self, value)
            .await
            .map_err(|_| super::Closed)
    }
}

impl<T: Send + 'static> UnboundedSender<T> for zokio::sync::mpsc::UnboundedSender<T> {
    fn send(&self, value: T) -> Result<(), super::Closed> {
        zokio::sync::mpsc::UnboundedSender::send(self, value).map_err(|_| super::Closed)
    }
}

impl<T: Send + 'static> MpscReceiver<T> for zokio::sync::mpsc::UnboundedReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        zokio::sync::mpsc::UnboundedReceiver::recv(self)
    }
}

impl<T: Send + 'static> MpscReceiver<T> for zokio::sync::mpsc::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        zokio::sync::mpsc::Receiver::recv(self)
    }
}

impl<T: Send + 'static> super::AsyncMutex<T> for zokio::sync::Mutex<T> {
    fn new(value: T) -> Self {
        zokio::sync::Mutex::new(value)
    }

    async fn with_lock<R: Send>(&self, f: impl FnOnce(&mut T) -> R + Send) -> R {
        f(&mut *self.lock().await)
    }
}

impl super::AsyncNotify for zokio::sync::Notify {
    fn new() -> Self {
        zokio::sync::Notify::new()
    }

    fn notify_one(&self) {
        zokio::sync::Notify::notify_one(self);
    }

    fn notified(&self) -> impl Future<Output = ()> + Send {
        zokio::sync::Notify::notified(self)
    }
}

impl super::AsyncSemaphore for zokio::sync::Semaphore {
    fn new(permits: usize) -> Self {
        zokio::sync::Semaphore::new(permits)
    }

    type Permit<'a> = zokio::sync::SemaphorePermit<'a>;

    async fn acquire(&self) -> zokio::sync::SemaphorePermit<'_> {
        zokio::sync::Semaphore::acquire(self)
            .await
            .expect("benchmark semaphore is never closed")
    }

    fn available_permits(&self) -> usize {
        zokio::sync::Semaphore::available_permits(self)
    }
}

impl Runtime for Zokio {
    const NAME: &'static str = "zokio";
    const VERSION: &'static str = env!("ZBENCH_VERSION_ZOKIO");
    const CAPS: &'static [super::Cap] = super::Cap::ALL;

    type JoinHandle<T: Send + 'static> = ZokioJoin<T>;
    type LocalJoinHandle<T: 'static> = ZokioJoin<T>;
    type OneshotSender<T: Send + 'static> = zokio::sync::oneshot::Sender<T>;
    type OneshotReceiver<T: Send + 'static> = ZokioOneshotRx<T>;
    type MpscSender<T: Send + 'static> = zokio::sync::mpsc::Sender<T>;
    type MpscReceiver<T: Send + 'static> = zokio::sync::mpsc::Receiver<T>;
    type UnboundedSender<T: Send + 'static> = zokio::sync::mpsc::UnboundedSender<T>;
    type UnboundedReceiver<T: Send + 'static> = zokio::sync::mpsc::UnboundedReceiver<T>;
    type TcpListener = zokio::net::TcpListener;
    type TcpStream = zokio::net::TcpStream;
    type File = zokio::fs::File;
    type Mutex<T: Send + 'static> = zokio::sync::Mutex<T>;
    type Semaphore = zokio::sync::Semaphore;
    type Notify = zokio::sync::Notify;

    fn multi_thread(workers: usize) -> Zokio {
        Zokio::multi_thread_with(workers, &super::RunOptions::default())
    }

    fn current_thread() -> Zokio {
        Zokio::current_thread_with(&super::RunOptions::default())
    }

    /// Under `one_cpu_each`, through zokio's own `worker_affinity` (and `blocking_affinity`
    /// for the blocking threads); else every thread pins itself to `options.cpus` in the
    /// start hook.
    fn multi_thread_with(workers: usize, options: &super::RunOptions) -> Zokio {
        let mut builder = zokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers).io_driver(options.zokio_driver);
        ring_setup(&mut builder, options.ring);
        if options.one_cpu_each {
            let cpus: Vec<usize> = (0..workers).filter_map(|i| options.worker_cpu(i)).collect();
            builder.worker_affinity(zokio::runtime::WorkerAffinity::Cpus(cpus));
            if let Some(set) = options.cpus {
                builder.blocking_affinity(set.ids());
            }
        } else {
            let options = *options;
            builder.on_thread_start(move || options.pin_current_thread());
        }
        Zokio(
            builder
                .build()
                .unwrap_or_else(|e| panic!("build zokio runtime: {e}")),
        )
    }

    fn current_thread_with(options: &super::RunOptions) -> Zokio {
        let mut builder = zokio::runtime::Builder::new_current_thread();
        builder.io_driver(options.zokio_driver);
        ring_setup(&mut builder, options.ring);
        Zokio(
            builder
                .build()
                .unwrap_or_else(|e| panic!("build zokio runtime: {e}")),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> ZokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ZokioJoin(self.0.spawn(future))
    }

    fn spawn_local<F>(future: F) -> ZokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ZokioJoin(zokio::spawn(future))
    }

    /// The thread's `LocalSet`, run until `future` completes with the set entered for the
    /// whole call: what `zokio::runtime::LocalRuntime::block_on` does. One set per thread
    /// for all calls, as a program keeps one `LocalRuntime` (its queue stays allocated).
    fn block_on_local<F: Future>(&self, future: F) -> F::Output {
        thread_local! {
            static LOCAL: zokio::task::LocalSet = zokio::task::LocalSet::new();
        }
        LOCAL.with(|local| {
            let _enter = local.enter();
            self.0.block_on(local.run_until(future))
        })
    }

    fn spawn_not_send<F>(future: F) -> ZokioJoin<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        ZokioJoin(zokio::task::spawn_local(future))
    }

    fn alive_tasks(&self) -> Option<usize> {
        Some(self.0.metrics().num_alive_tasks())
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        zokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        zokio::time::sleep(duration)
    }

    fn io_nop() -> impl Future<Output = io::Result<()>> + Send {
        zokio::io::nop()
    }

    fn io_driver_name(options: &super::RunOptions) -> String {
        zokio::runtime::Builder::new_current_thread()
            .io_driver(options.zokio_driver)
            .build()
            .map(|rt| rt.metrics().io_driver().name().to_owned())
            .unwrap_or_else(|e| format!("none ({e})"))
    }

    async fn serve_http(stream: zokio::net::TcpStream, body: bytes::Bytes) {
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(zokio::compat::hyper::ZokioTimer)
            .serve_connection(
                zokio::compat::hyper::HyperIo::new(stream),
                super::http_service(body),
            )
            .await;
    }

    fn send_file<'a>(
        stream: &'a mut zokio::net::TcpStream,
        file: &'a std::fs::File,
        len: usize,
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.send_file_all(file, 0, len)
    }

    fn oneshot<T: Send + 'static>() -> (zokio::sync::oneshot::Sender<T>, ZokioOneshotRx<T>) {
        let (tx, rx) = zokio::sync::oneshot::channel();
        (tx, ZokioOneshotRx(rx))
    }

    fn mpsc<T: Send + 'static>(
        capacity: usize,
    ) -> (zokio::sync::mpsc::Sender<T>, zokio::sync::mpsc::Receiver<T>) {
        zokio::sync::mpsc::channel(capacity)
    }

    fn unbounded<T: Send + 'static>() -> (
        zokio::sync::mpsc::UnboundedSender<T>,
        zokio::sync::mpsc::UnboundedReceiver<T>,
    ) {
        zokio::sync::mpsc::unbounded_channel()
    }
}

impl super::AsyncTcpListener for zokio::net::TcpListener {
    type Stream = zokio::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send {
        zokio::net::TcpListener::bind(addr)
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        zokio::net::TcpListener::from_std(listener)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        zokio::net::TcpListener::local_addr(self)
    }

    async fn accept(&self) -> io::Result<zokio::net::TcpStream> {
        let (s, _) = zokio::net::TcpListener::accept(self).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl super::AsyncTcpStream for zokio::net::TcpStream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let s = zokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn read(
        &mut self,
        mut buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<usize>, Vec<u8>) {
        let r = std::future::poll_fn(|cx| self.poll_read(cx, &mut buf[range.clone()])).await;
        (r, buf)
    }

    async fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<()>, Vec<u8>) {
        let mut done = range.start;
        while done < range.end {
            match std::future::poll_fn(|cx| self.poll_write(cx, &buf[done..range.end])).await {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => done += n,
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }
}

impl super::AsyncFile for zokio::fs::File {
    fn open(path: PathBuf) -> impl Future<Output = io::Result<Self>> + Send {
        zokio::fs::File::open(path)
    }

    fn read_at(
        &self,
        buf: Vec<u8>,
        offset: u64,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send {
        zokio::fs::File::read_at(self, buf, offset)
    }

    async fn write_file(path: PathBuf, contents: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        // zokio's owned-buffer path (as monoio's and compio's `fs::write`): its
        // Tokio-compatible `fs::write` borrows, so it copies the contents.
        match zokio::fs::File::create(path).await {
            Ok(file) => file.write_all_at(contents, 0).await,
            Err(e) => (Err(e), contents),
        }
    }
}

/// Applies the run's ring set-up (`Builder::io_uring_entries` with zokio's CQ:SQ ratio of
/// 4, `Builder::io_uring_sqpoll`); the default leaves zokio's.
fn ring_setup(builder: &mut zokio::runtime::Builder, ring: super::RingOptions) {
    if let Some(sq) = ring.sq_entries {
        builder.io_uring_entries(sq, sq.saturating_mul(4));
    }
    if let Some(ms) = ring.sqpoll_idle_ms {
        builder.io_uring_sqpoll(std::time::Duration::from_millis(u64::from(ms)));
    }
}
