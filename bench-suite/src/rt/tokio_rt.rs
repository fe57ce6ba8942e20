use super::{
    option_recv_future, unwrap_join_future, MpscReceiver, MpscSender, OneshotSender, Runtime,
    UnboundedSender,
};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Tokio behind the adapter trait (its own scheduler and its own `sync::oneshot`).
#[derive(Debug)]
pub struct Tokio(tokio::runtime::Runtime);

unwrap_join_future!(TokioJoin, tokio::task::JoinHandle<T>);
option_recv_future!(TokioOneshotRx, tokio::sync::oneshot::Receiver<T>);

impl<T: Send + 'static> OneshotSender<T> for tokio::sync::oneshot::Sender<T> {
    fn send(self, value: T) -> Result<(), T> {
        tokio::sync::oneshot::Sender::send(self, value)
    }
}

impl<T: Send + 'static> MpscSender<T> for tokio::sync::mpsc::Sender<T> {
    async fn send(&self, value: T) -> Result<(), super::Closed> {
        tokio::sync::mpsc::Sender::send(self, value)
            .await
            .map_err(|_| super::Closed)
    }
}

impl<T: Send + 'static> UnboundedSender<T> for tokio::sync::mpsc::UnboundedSender<T> {
    fn send(&self, value: T) -> Result<(), super::Closed> {
        tokio::sync::mpsc::UnboundedSender::send(self, value).map_err(|_| super::Closed)
    }
}

impl<T: Send + 'static> MpscReceiver<T> for tokio::sync::mpsc::UnboundedReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        tokio::sync::mpsc::UnboundedReceiver::recv(self)
    }
}

impl<T: Send + 'static> MpscReceiver<T> for tokio::sync::mpsc::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        tokio::sync::mpsc::Receiver::recv(self)
    }
}

impl<T: Send + 'static> super::AsyncMutex<T> for tokio::sync::Mutex<T> {
    fn new(value: T) -> Self {
        tokio::sync::Mutex::new(value)
    }

    async fn with_lock<R: Send>(&self, f: impl FnOnce(&mut T) -> R + Send) -> R {
        f(&mut *self.lock().await)
    }
}

impl super::AsyncNotify for tokio::sync::Notify {
    fn new() -> Self {
        tokio::sync::Notify::new()
    }

    fn notify_one(&self) {
        tokio::sync::Notify::notify_one(self);
    }

    fn notified(&self) -> impl Future<Output = ()> + Send {
        tokio::sync::Notify::notified(self)
    }
}

impl super::AsyncSemaphore for tokio::sync::Semaphore {
    fn new(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }

    type Permit<'a> = tokio::sync::SemaphorePermit<'a>;

    async fn acquire(&self) -> tokio::sync::SemaphorePermit<'_> {
        tokio::sync::Semaphore::acquire(self)
            .await
            .expect("benchmark semaphore is never closed")
    }

    fn available_permits(&self) -> usize {
        tokio::sync::Semaphore::available_permits(self)
    }
}

impl Runtime for Tokio {
    const NAME: &'static str = "tokio";
    const VERSION: &'static str = env!("ZBENCH_VERSION_TOKIO");
    const CAPS: &'static [super::Cap] = &[
        super::Cap::MultiThread,
        super::Cap::ForeignWake,
        super::Cap::CurrentThread,
        super::Cap::RemoteSpawn,
        super::Cap::Mutex,
        super::Cap::Semaphore,
        super::Cap::Notify,
        super::Cap::Tcp,
        super::Cap::Files,
        super::Cap::IoNop,
        super::Cap::Hyper,
        super::Cap::SendFile,
        super::Cap::LocalTasks,
    ];
    const EQUIVALENTS: &'static [(&'static str, &'static str)] = &[
        (
            "io_nop",
            "a spawn_blocking round trip (the path of every tokio::fs call)",
        ),
        (
            "File::read_at",
            "pread on spawn_blocking (tokio::fs has no positional read)",
        ),
        (
            "send_file",
            "sendfile(2) through TcpStream::try_io (Tokio has no sendfile API)",
        ),
    ];

    type JoinHandle<T: Send + 'static> = TokioJoin<T>;
    type LocalJoinHandle<T: 'static> = TokioJoin<T>;
    type OneshotSender<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type OneshotReceiver<T: Send + 'static> = TokioOneshotRx<T>;
    type MpscSender<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type MpscReceiver<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    type UnboundedSender<T: Send + 'static> = tokio::sync::mpsc::UnboundedSender<T>;
    type UnboundedReceiver<T: Send + 'static> = tokio::sync::mpsc::UnboundedReceiver<T>;
    type TcpListener = tokio::net::TcpListener;
    type TcpStream = tokio::net::TcpStream;
    type File = TokioFile;
    type Mutex<T: Send + 'static> = tokio::sync::Mutex<T>;
    type Semaphore = tokio::sync::Semaphore;
    type Notify = tokio::sync::Notify;

    fn multi_thread(workers: usize) -> Tokio {
        Tokio::multi_thread_with(workers, &super::RunOptions::default())
    }

    /// Tokio starts its workers first, at build, each calling the start hook: the first
    /// `workers` calls are the workers (pinned one CPU each under `one_cpu_each`), later
    /// ones blocking threads (kept to `options.cpus`).
    fn multi_thread_with(workers: usize, options: &super::RunOptions) -> Tokio {
        let options = *options;
        let started = std::sync::atomic::AtomicUsize::new(0);
        Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .on_thread_start(move || {
                    let index = started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index < workers {
                        options.pin_worker(index);
                    } else {
                        options.pin_current_thread();
                    }
                })
                .build()
                .expect("build tokio runtime"),
        )
    }

    fn current_thread() -> Tokio {
        Tokio(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build tokio runtime"),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> TokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioJoin(self.0.spawn(future))
    }

    fn spawn_local<F>(future: F) -> TokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioJoin(tokio::spawn(future))
    }

    /// The thread's `LocalSet` on the current-thread runtime, as Tokio's docs show for
    /// `!Send` tasks (its `LocalRuntime` is still unstable); one set per thread for all
    /// calls, as a program keeps one.
    fn block_on_local<F: Future>(&self, future: F) -> F::Output {
        thread_local! {
            static LOCAL: tokio::task::LocalSet = tokio::task::LocalSet::new();
        }
        LOCAL.with(|local| local.block_on(&self.0, future))
    }

    fn spawn_not_send<F>(future: F) -> TokioJoin<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        TokioJoin(tokio::task::spawn_local(future))
    }

    fn alive_tasks(&self) -> Option<usize> {
        Some(self.0.metrics().num_alive_tasks())
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    async fn io_nop() -> io::Result<()> {
        tokio::task::spawn_blocking(|| ())
            .await
            .map_err(io::Error::other)
    }

    fn io_driver_name(_: &super::RunOptions) -> String {
        "mio (epoll)".to_owned()
    }

    async fn serve_http(stream: tokio::net::TcpStream, body: bytes::Bytes) {
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                super::http_service(body),
            )
            .await;
    }

    async fn send_file<'a>(
        stream: &'a mut tokio::net::TcpStream,
        file: &'a std::fs::File,
        len: usize,
    ) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let (out_fd, in_fd) = (stream.as_raw_fd(), file.as_raw_fd());
        let mut off: libc::off_t = 0;
        while (off as usize) < len {
            stream.writable().await?;
            let r = stream.try_io(tokio::io::Interest::WRITABLE, || {
                super::sendfile_once(out_fd, in_fd, &mut off, len)
            });
            match r {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn oneshot<T: Send + 'static>() -> (tokio::sync::oneshot::Sender<T>, TokioOneshotRx<T>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (tx, TokioOneshotRx(rx))
    }

    fn mpsc<T: Send + 'static>(
        capacity: usize,
    ) -> (tokio::sync::mpsc::Sender<T>, tokio::sync::mpsc::Receiver<T>) {
        tokio::sync::mpsc::channel(capacity)
    }

    fn unbounded<T: Send + 'static>() -> (
        tokio::sync::mpsc::UnboundedSender<T>,
        tokio::sync::mpsc::UnboundedReceiver<T>,
    ) {
        tokio::sync::mpsc::unbounded_channel()
    }
}

impl super::AsyncTcpListener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send {
        tokio::net::TcpListener::bind(addr)
    }

    fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(listener)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }

    async fn accept(&self) -> io::Result<tokio::net::TcpStream> {
        let (s, _) = tokio::net::TcpListener::accept(self).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl super::AsyncTcpStream for tokio::net::TcpStream {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }

    async fn read(
        &mut self,
        mut buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<usize>, Vec<u8>) {
        let r = tokio::io::AsyncReadExt::read(self, &mut buf[range]).await;
        (r, buf)
    }

    async fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> (io::Result<()>, Vec<u8>) {
        let r = tokio::io::AsyncWriteExt::write_all(self, &buf[range]).await;
        (r, buf)
    }
}

/// A file read at offsets on Tokio's blocking pool: what `tokio::fs` does internally (Tokio
/// has no positional read of its own).
#[derive(Debug)]
pub struct TokioFile(std::sync::Arc<std::fs::File>);

impl super::AsyncFile for TokioFile {
    async fn open(path: PathBuf) -> io::Result<Self> {
        let f = tokio::task::spawn_blocking(move || std::fs::File::open(path))
            .await
            .map_err(io::Error::other)??;
        Ok(TokioFile(std::sync::Arc::new(f)))
    }

    async fn read_at(&self, buf: Vec<u8>, offset: u64) -> (io::Result<usize>, Vec<u8>) {
        let file = self.0.clone();
        let done =
            tokio::task::spawn_blocking(move || super::pread_spare(&file, buf, offset)).await;
        match done {
            Ok(pair) => pair,
            Err(e) => (Err(io::Error::other(e)), Vec::new()),
        }
    }

    async fn write_file(path: PathBuf, contents: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        (tokio::fs::write(path, &contents).await, contents)
    }
}
