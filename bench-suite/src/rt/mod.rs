//! Runtime adapters: one trait, one file per runtime, one list of them.
//!
//! Every workload body is written once, generic over [`Runtime`]. The run chooses its
//! runtimes by name at run time; [`dispatch`] turns a name into the adapter type through a
//! [`Visitor`] (a generic method stands in for the generic closure Rust lacks), so the body
//! is monomorphised for each adapter and called without boxing inside its loop.
//!
//! Adding a runtime means one adapter file implementing [`Runtime`] and one line
//! (`module::Type`) in the `registry!` list below, which declares the module too. What an adapter lacks it declares in [`Runtime::CAPS`]; a
//! workload that needs a missing capability is recorded as "not applicable" for that
//! runtime, with the reason, and its body is never called there.
//!
//! The trait is shaped for runtimes whose tasks are `Send` (zokio, Tokio, smol): bodies move
//! channel halves and sockets into tasks spawned with [`Runtime::spawn_local`], which takes
//! `Send` futures. Thread-per-core runtimes (monoio, compio) run `!Send` tasks on the thread
//! that spawned them, and their own channels and sockets are `!Send`. Their adapters set
//! [`Runtime::THREAD_PER_CORE`] and wrap those values in [`Local`], which is `Send` because
//! it checks on every use that it is on the thread that made it; in a thread-per-core run
//! nothing leaves that thread (see [`local`]). Such a runtime's N-worker rows run N
//! independent single-thread runtimes, one per thread, each with its share of the work
//! ([`crate::strategy`]); rows whose body wakes a task from a plain thread need
//! [`Cap::ForeignWake`], which these adapters lack.

pub mod local;
#[cfg(feature = "peers")]
pub mod one_thread;

pub use local::Local;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// The operations workloads need from an async runtime.
///
/// Join handles resolve to the task's output directly: a workload task that panics or is
/// cancelled is a bug in the benchmark, so the adapter panics rather than make every
/// workload handle `JoinError`.
pub trait Runtime: Sized + Send + Sync + 'static {
    /// Name used in results and on the command line: `"zokio"`, `"tokio"`.
    const NAME: &'static str;

    /// The crate version measured, from `Cargo.lock` (see `build.rs`).
    const VERSION: &'static str;

    /// What this adapter offers; a workload needing anything else is not applicable here.
    const CAPS: &'static [Cap];

    /// Where the adapter's channels, locks or other primitives are not the runtime's own
    /// crate's or differ in kind from Tokio's (name, what is used), for `zbench list
    /// --runtimes` and the result file.
    const EQUIVALENTS: &'static [(&'static str, &'static str)] = &[];

    /// Capabilities the runtime has but this adapter does not drive yet, with the reason
    /// recorded in their "not applicable" cells (instead of [`Cap::lacking`]'s, which says
    /// the runtime has none).
    const NOT_YET: &'static [(Cap, &'static str)] = &[];

    /// A thread-per-core runtime: [`multi_thread`](Self::multi_thread) is never called;
    /// an N-worker row runs N [`current_thread`](Self::current_thread) runtimes, one per
    /// thread, each with its share of the work (or one of them, for a row whose work is one
    /// task's), and the adapter may wrap `!Send` values in [`Local`].
    const THREAD_PER_CORE: bool = false;

    /// A spawned task's handle; awaiting it yields the output.
    type JoinHandle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// The handle of a task spawned with [`spawn_not_send`](Self::spawn_not_send);
    /// awaiting it yields the output, dropping it leaves the task running.
    type LocalJoinHandle<T: 'static>: Future<Output = T> + Unpin + 'static;

    /// The sending half of a oneshot channel.
    type OneshotSender<T: Send + 'static>: OneshotSender<T>;

    /// The receiving half of a oneshot channel: resolves to `None` if the sender was
    /// dropped without sending.
    type OneshotReceiver<T: Send + 'static>: Future<Output = Option<T>> + Send + 'static;

    /// The sending half of a bounded mpsc channel.
    type MpscSender<T: Send + 'static>: MpscSender<T>;

    /// The receiving half of a bounded mpsc channel.
    type MpscReceiver<T: Send + 'static>: MpscReceiver<T>;

    /// The sending half of an unbounded mpsc channel.
    type UnboundedSender<T: Send + 'static>: UnboundedSender<T>;

    /// The receiving half of an unbounded mpsc channel.
    type UnboundedReceiver<T: Send + 'static>: MpscReceiver<T>;

    /// The runtime's TCP listener.
    type TcpListener: AsyncTcpListener<Stream = Self::TcpStream>;

    /// The runtime's TCP stream.
    type TcpStream: AsyncTcpStream;

    /// A file opened through the runtime's file API.
    type File: AsyncFile;

    /// The runtime's async mutex.
    type Mutex<T: Send + 'static>: AsyncMutex<T>;

    /// The runtime's async counting semaphore.
    type Semaphore: AsyncSemaphore;

    /// The runtime's task notification primitive.
    type Notify: AsyncNotify;

    /// A work-stealing runtime with `workers` worker threads.
    ///
    /// # Panics
    /// On a thread-per-core adapter ([`THREAD_PER_CORE`](Self::THREAD_PER_CORE)).
    fn multi_thread(workers: usize) -> Self;

    /// A single-threaded runtime (tasks run on the thread in `block_on`).
    fn current_thread() -> Self;

    /// [`multi_thread`](Self::multi_thread) with the run's options (those that apply to
    /// this runtime).
    fn multi_thread_with(workers: usize, options: &RunOptions) -> Self {
        let _ = options;
        Self::multi_thread(workers)
    }

    /// [`current_thread`](Self::current_thread) with the run's options.
    fn current_thread_with(options: &RunOptions) -> Self {
        let _ = options;
        Self::current_thread()
    }

    /// Runs `future` to completion on the calling thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns from outside the runtime (a "remote" spawn).
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Runs `future` as a task of this runtime and waits for its output from the calling
    /// thread: on a multi-thread runtime the task runs on a worker, not on the waiting
    /// thread. The default spawns it ([`spawn`](Self::spawn)) and blocks on the handle;
    /// a runtime without remote spawn spawns it from inside [`block_on`](Self::block_on).
    fn run<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.block_on(self.spawn(future))
    }

    /// Spawns onto the runtime the caller is running in (a "local" spawn from a task).
    ///
    /// # Panics
    /// Outside the runtime.
    fn spawn_local<F>(future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Runs `future` to completion on the calling thread with the runtime's path for
    /// `!Send` tasks open, so [`spawn_not_send`](Self::spawn_not_send) works inside it:
    /// zokio's and Tokio's `LocalSet` on a current-thread runtime, smol's `LocalExecutor`,
    /// monoio's and compio's own `block_on` (all their tasks are local). Called on a
    /// [`current_thread`](Self::current_thread) runtime only. An adapter without
    /// [`Cap::LocalTasks`] keeps this default, which is never called.
    fn block_on_local<F: Future>(&self, _future: F) -> F::Output {
        unsupported("a path for tasks that are not Send")
    }

    /// Spawns a future that need not be `Send` onto the local-task path of the
    /// [`block_on_local`](Self::block_on_local) the caller runs in.
    ///
    /// # Panics
    /// Outside `block_on_local`.
    fn spawn_not_send<F>(_future: F) -> Self::LocalJoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        unsupported("a path for tasks that are not Send")
    }

    /// Tasks alive on this runtime now (spawned and not finished), where the runtime
    /// counts them (zokio's and Tokio's `RuntimeMetrics::num_alive_tasks`); `None` where it
    /// does not. `zbench serve --stats` prints it, so a soak can see tasks pile up.
    fn alive_tasks(&self) -> Option<usize> {
        None
    }

    /// Yields to the scheduler once.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Completes once `duration` has elapsed, on the runtime's own timer.
    ///
    /// # Panics
    /// Outside the runtime.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// One no-op through the runtime's I/O submission and completion path: zokio's
    /// `io::nop` (an `IORING_OP_NOP` on io_uring; a blocking-pool round trip on epoll);
    /// Tokio's equivalent is the path every `tokio::fs` operation takes, a
    /// `spawn_blocking` round trip with an empty closure.
    fn io_nop() -> impl Future<Output = io::Result<()>> + Send;

    /// The I/O driver the adapter's runtimes use, for the result file (`io_uring`,
    /// `epoll`, or Tokio's `mio (epoll)`).
    fn io_driver_name(options: &RunOptions) -> String;

    /// A new oneshot channel.
    fn oneshot<T: Send + 'static>() -> (Self::OneshotSender<T>, Self::OneshotReceiver<T>);

    /// A new bounded mpsc channel holding at most `capacity` messages.
    fn mpsc<T: Send + 'static>(capacity: usize) -> (Self::MpscSender<T>, Self::MpscReceiver<T>);

    /// A new unbounded mpsc channel.
    fn unbounded<T: Send + 'static>() -> (Self::UnboundedSender<T>, Self::UnboundedReceiver<T>);

    /// Serves HTTP/1.1 with hyper on one accepted connection, answering every request with
    /// `body`, until the client closes it ([`Cap::Hyper`]).
    fn serve_http(stream: Self::TcpStream, body: bytes::Bytes) -> impl Future<Output = ()> + Send;

    /// Sends all `len` bytes of `file` from offset 0 to `stream` without copying them
    /// through user space (sendfile(2) through the runtime's own I/O API; [`Cap::SendFile`]).
    fn send_file<'a>(
        stream: &'a mut Self::TcpStream,
        file: &'a std::fs::File,
        len: usize,
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

/// Settings of a run that adapters honour where they apply, passed to every runtime the
/// run builds (and to its child processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunOptions {
    /// zokio's I/O driver; `Auto` leaves the choice to zokio's builder (`ZOKIO_DRIVER`,
    /// else io_uring where the kernel allows it, else epoll).
    pub zokio_driver: zokio::runtime::IoDriver,
    /// The CPUs every thread a multi-thread runtime of the run starts is pinned to
    /// (`None`: wherever the kernel puts them). Set for the servers of the network
    /// workloads under `--pin`, and to the CPUs the process may use under `--pin-workers`
    /// (so a blocking thread started by a pinned worker does not inherit its one CPU);
    /// adapters pin their worker threads (and blocking threads, where the runtime has a
    /// hook for them) as each starts.
    pub cpus: Option<crate::placement::Cpus>,
    /// Pin each worker of a multi-thread runtime (each shard thread of a thread-per-core
    /// one) to one CPU: worker *i* to the *i*-th CPU of [`cpus`](Self::cpus), or of the
    /// CPUs this process may use, wrapping around (`--pin-workers`). Blocking threads keep
    /// to `cpus` as before. zokio's adapter asks its `Builder::worker_affinity`; the
    /// others pin from their thread-start hooks or their own threads.
    pub one_cpu_each: bool,
    /// How runtimes with io_uring rings set them up ([`Cap::RingSetup`]); the default
    /// leaves each runtime's own set-up. Set per point by the `io_uring.*` workloads.
    pub ring: RingOptions,
}

/// An io_uring ring set-up asked of every runtime of the run that has rings
/// ([`Cap::RingSetup`]); `None` fields keep the runtime's own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RingOptions {
    /// Submission queue entries per ring (zokio's completion queue gets four times as
    /// many, its default ratio; monoio and compio size their own).
    pub sq_entries: Option<u32>,
    /// `IORING_SETUP_SQPOLL` with this idle time, ms: a kernel thread takes submissions.
    pub sqpoll_idle_ms: Option<u32>,
}

impl RunOptions {
    /// The CPU worker `index` gets under [`one_cpu_each`](Self::one_cpu_each), if set.
    pub fn worker_cpu(&self, index: usize) -> Option<usize> {
        if !self.one_cpu_each {
            return None;
        }
        let ids = match self.cpus {
            Some(cpus) => cpus.ids(),
            None => crate::placement::Cpus::of_current_thread().ok()?.ids(),
        };
        (!ids.is_empty()).then(|| ids[index % ids.len()])
    }

    /// Pins the calling thread, worker `index` of its runtime, to its CPU under
    /// [`one_cpu_each`](Self::one_cpu_each), else as
    /// [`pin_current_thread`](Self::pin_current_thread) does.
    pub fn pin_worker(&self, index: usize) {
        match self.worker_cpu(index) {
            Some(cpu) => {
                if let Err(e) = crate::placement::Cpus::of(&[cpu]).pin_current_thread() {
                    eprintln!("zbench: cannot pin worker {index} to CPU {cpu}: {e}");
                }
            }
            None => self.pin_current_thread(),
        }
    }

    /// Pins the calling thread to [`cpus`](Self::cpus), if set; an error is printed (the
    /// placement was checked when the run started, so it means the machine changed).
    pub fn pin_current_thread(&self) {
        if let Some(cpus) = self.cpus {
            if let Err(e) = cpus.pin_current_thread() {
                eprintln!("zbench: cannot pin a runtime thread to CPUs {cpus}: {e}");
            }
        }
    }
}

/// Something an adapter offers and some workloads need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cap {
    /// N-worker rows: a runtime whose tasks run on several worker threads
    /// ([`Runtime::multi_thread`]), or N thread-per-core runtimes, one per thread
    /// ([`Runtime::THREAD_PER_CORE`]).
    MultiThread,
    /// Waking a task from a plain thread outside the runtime: the sending half of the
    /// adapter's oneshot works there ([`Runtime::oneshot`]).
    ForeignWake,
    /// A single-threaded runtime running its tasks on the `block_on` thread.
    CurrentThread,
    /// Spawning from a thread outside the runtime ([`Runtime::spawn`]).
    RemoteSpawn,
    /// An async mutex ([`Runtime::Mutex`]).
    Mutex,
    /// An async counting semaphore ([`Runtime::Semaphore`]).
    Semaphore,
    /// A `Notify` that stores one permit when nobody waits ([`Runtime::Notify`]).
    Notify,
    /// TCP sockets on the runtime's reactor.
    Tcp,
    /// A file API ([`Runtime::File`]).
    Files,
    /// An I/O no-op through the runtime's submission path ([`Runtime::io_nop`]).
    IoNop,
    /// A hyper server integration ([`Runtime::serve_http`]).
    Hyper,
    /// Sending a file to a socket without copying it through user space
    /// ([`Runtime::send_file`]).
    SendFile,
    /// Tasks whose futures are not `Send`, run on the spawning thread
    /// ([`Runtime::spawn_not_send`]).
    LocalTasks,
    /// io_uring rings whose set-up the adapter takes from [`RunOptions::ring`] (SQPOLL,
    /// queue sizes).
    RingSetup,
}

impl Cap {
    /// Every capability, in a fixed order.
    pub const ALL: &'static [Cap] = &[
        Cap::MultiThread,
        Cap::ForeignWake,
        Cap::CurrentThread,
        Cap::RemoteSpawn,
        Cap::Mutex,
        Cap::Semaphore,
        Cap::Notify,
        Cap::Tcp,
        Cap::Files,
        Cap::IoNop,
        Cap::Hyper,
        Cap::SendFile,
        Cap::LocalTasks,
        Cap::RingSetup,
    ];

    /// Short name, as listed and recorded.
    pub fn name(self) -> &'static str {
        match self {
            Cap::MultiThread => "multi_thread",
            Cap::ForeignWake => "foreign_wake",
            Cap::CurrentThread => "current_thread",
            Cap::RemoteSpawn => "remote_spawn",
            Cap::Mutex => "mutex",
            Cap::Semaphore => "semaphore",
            Cap::Notify => "notify",
            Cap::Tcp => "tcp",
            Cap::Files => "files",
            Cap::IoNop => "io_nop",
            Cap::Hyper => "hyper",
            Cap::SendFile => "send_file",
            Cap::LocalTasks => "local_tasks",
            Cap::RingSetup => "ring_setup",
        }
    }

    /// What a runtime lacking it lacks, as the reason of a "not applicable" cell.
    pub fn lacking(self) -> &'static str {
        match self {
            Cap::MultiThread => "no multi-threaded runtime",
            Cap::ForeignWake => {
                "no channel whose sender wakes a task from a plain thread (its channels work on one thread only)"
            }
            Cap::CurrentThread => "no current-thread runtime",
            Cap::RemoteSpawn => "no spawn from a thread outside the runtime",
            Cap::Mutex => "no async mutex",
            Cap::Semaphore => "no async semaphore",
            Cap::Notify => "no Notify with a stored permit",
            Cap::Tcp => "no TCP sockets",
            Cap::Files => "no async file API",
            Cap::IoNop => "no I/O no-op operation",
            Cap::Hyper => "no hyper server integration",
            Cap::SendFile => "no zero-copy file send (sendfile(2)) on its sockets",
            Cap::LocalTasks => "no path for tasks whose futures are not Send",
            Cap::RingSetup => "no io_uring rings to set up (its I/O runs on epoll)",
        }
    }
}

/// A generic operation over adapters, chosen by name at run time through [`dispatch`].
pub trait Visitor {
    /// What the operation returns.
    type Output;

    /// Runs the operation on adapter `R`.
    fn visit<R: Runtime>(self) -> Self::Output;
}

/// A runtime as listed and recorded: name, version, capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// [`Runtime::NAME`].
    pub name: &'static str,
    /// [`Runtime::VERSION`].
    pub version: &'static str,
    /// [`Runtime::CAPS`].
    pub caps: &'static [Cap],
    /// [`Runtime::EQUIVALENTS`].
    pub equivalents: &'static [(&'static str, &'static str)],
    /// [`Runtime::NOT_YET`].
    pub not_yet: &'static [(Cap, &'static str)],
    /// [`Runtime::THREAD_PER_CORE`].
    pub thread_per_core: bool,
}

impl RuntimeInfo {
    /// The first of `needs` this runtime lacks, as a "not applicable" reason.
    pub fn lacks(&self, needs: &[Cap]) -> Option<String> {
        let c = needs.iter().find(|c| !self.caps.contains(c))?;
        Some(match self.not_yet.iter().find(|(n, _)| n == c) {
            Some((_, why)) => format!("zbench's {} adapter: {why}", self.name),
            None => format!("{} has {}", self.name, c.lacking()),
        })
    }
}

struct Info;

impl Visitor for Info {
    type Output = RuntimeInfo;

    fn visit<R: Runtime>(self) -> RuntimeInfo {
        RuntimeInfo {
            name: R::NAME,
            version: R::VERSION,
            caps: R::CAPS,
            equivalents: R::EQUIVALENTS,
            not_yet: R::NOT_YET,
            thread_per_core: R::THREAD_PER_CORE,
        }
    }
}

/// The list of adapters, one `module::Type` each, in report order: declares each adapter's
/// module, re-exports its type, and defines the names and the name-to-type dispatch. An
/// entry may carry a `#[cfg(..)]` (the peers are behind the `peers` feature).
macro_rules! registry {
    ($($(#[$cfg:meta])* $module:ident :: $rt:ident),* $(,)?) => {
        $(
            $(#[$cfg])*
            mod $module;
            $(#[$cfg])*
            pub use $module::$rt;
        )*

        /// Every runtime zbench can run, by name, in report order.
        pub const NAMES: &[&str] = &[$($(#[$cfg])* $rt::NAME),*];

        /// Runs `visitor` on the adapter named `name`; `None` for an unknown name.
        pub fn dispatch<V: Visitor>(name: &str, visitor: V) -> Option<V::Output> {
            $(
                $(#[$cfg])*
                if name == $rt::NAME {
                    return Some(visitor.visit::<$rt>());
                }
            )*
            None
        }
    };
}

registry!(
    zokio_rt::Zokio,
    tokio_rt::Tokio,
    #[cfg(feature = "peers")]
    smol_rt::Smol,
    #[cfg(feature = "peers")]
    monoio_rt::Monoio,
    #[cfg(feature = "peers")]
    compio_rt::Compio,
);

/// The type of a primitive an adapter lacks (its [`Runtime::CAPS`] leave the capability
/// out). It has no values: the runner never calls a workload that needs the capability on
/// that runtime, so nothing ever constructs one; its constructors (`new`, `bind`,
/// `connect`, `open`) panic if asked.
#[derive(Debug)]
pub enum Unsupported {}

#[cold]
#[track_caller]
fn unsupported(what: &str) -> ! {
    unreachable!("a runtime without {what} was asked for one: its CAPS should exclude it")
}

impl AsyncNotify for Unsupported {
    fn new() -> Self {
        unsupported("Notify")
    }

    fn notify_one(&self) {
        match *self {}
    }

    async fn notified(&self) {
        match *self {}
    }
}

impl<T: Send + 'static> AsyncMutex<T> for Unsupported {
    fn new(_: T) -> Self {
        unsupported("a mutex")
    }

    async fn with_lock<R: Send>(&self, _: impl FnOnce(&mut T) -> R + Send) -> R {
        match *self {}
    }
}

impl AsyncSemaphore for Unsupported {
    fn new(_: usize) -> Self {
        unsupported("a semaphore")
    }

    type Permit<'a> = Unsupported;

    async fn acquire(&self) -> Unsupported {
        match *self {}
    }

    fn available_permits(&self) -> usize {
        match *self {}
    }
}

impl AsyncTcpListener for Unsupported {
    type Stream = Unsupported;

    async fn bind(_: SocketAddr) -> io::Result<Self> {
        unsupported("TCP")
    }

    fn from_std(_: std::net::TcpListener) -> io::Result<Self> {
        unsupported("TCP")
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match *self {}
    }

    async fn accept(&self) -> io::Result<Unsupported> {
        match *self {}
    }
}

impl AsyncTcpStream for Unsupported {
    async fn connect(_: SocketAddr) -> io::Result<Self> {
        unsupported("TCP")
    }

    async fn read(&mut self, _: Vec<u8>, _: Range<usize>) -> (io::Result<usize>, Vec<u8>) {
        match *self {}
    }

    async fn write_all(&mut self, _: Vec<u8>, _: Range<usize>) -> (io::Result<()>, Vec<u8>) {
        match *self {}
    }
}

impl AsyncFile for Unsupported {
    async fn open(_: PathBuf) -> io::Result<Self> {
        unsupported("a file API")
    }

    async fn read_at(&self, _: Vec<u8>, _: u64) -> (io::Result<usize>, Vec<u8>) {
        match *self {}
    }

    async fn write_file(_: PathBuf, _: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        unsupported("a file API")
    }
}

/// Name, version and capabilities of the runtime called `name`.
pub fn info(name: &str) -> Option<RuntimeInfo> {
    dispatch(name, Info)
}

struct DriverName<'a>(&'a RunOptions);

impl Visitor for DriverName<'_> {
    type Output = String;

    fn visit<R: Runtime>(self) -> String {
        R::io_driver_name(self.0)
    }
}

/// The I/O driver runtime `name` uses with `options` ([`Runtime::io_driver_name`]).
pub fn io_driver_name(name: &str, options: &RunOptions) -> Option<String> {
    dispatch(name, DriverName(options))
}

/// The registered name equal to `name` (with a `'static` lifetime), if any.
pub fn known(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|n| *n == name)
}

/// An adapter's TCP listener.
pub trait AsyncTcpListener: Sized + Send + Sync + 'static {
    /// The accepted streams' type.
    type Stream: AsyncTcpStream;

    /// Binds to `addr` (port 0: a free port).
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send;

    /// Takes over a bound, listening std listener (one with `SO_REUSEPORT`, say, so that
    /// each runtime of a thread-per-core server accepts on the same port). Call it on the
    /// runtime's thread, inside `block_on` or a task.
    ///
    /// # Errors
    /// If the runtime cannot register it.
    fn from_std(listener: std::net::TcpListener) -> io::Result<Self>;

    /// The bound address.
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// Waits for a connection.
    fn accept(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// An adapter's TCP stream. Reads and writes take the buffer by value and give it back:
/// completion-based runtimes (monoio, compio) hand it to the kernel as it is, readiness-based
/// ones (zokio's and Tokio's streams, smol's `Async`) read and write the borrowed range, so
/// no runtime copies through a buffer of the adapter's.
pub trait AsyncTcpStream: Sized + Send + 'static {
    /// Connects to `addr` with `TCP_NODELAY` set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send;

    /// Reads some bytes into `buf[range]` (bytes of `buf` already initialised) and gives
    /// `buf` back, its length unchanged, with the count read (0 at end of stream).
    ///
    /// # Panics
    /// If `range` is not within `buf.len()`.
    fn read(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send + '_;

    /// Writes all of `buf[range]` and gives `buf` back.
    ///
    /// # Panics
    /// If `range` is not within `buf.len()`.
    fn write_all(
        &mut self,
        buf: Vec<u8>,
        range: Range<usize>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send + '_;
}

/// An adapter's file, read at offsets. On a readiness driver both runtimes run file reads
/// on their blocking pools (Tokio's `fs` does the same internally).
pub trait AsyncFile: Sized + Send + Sync + 'static {
    /// Opens `path` read-only.
    fn open(path: PathBuf) -> impl Future<Output = io::Result<Self>> + Send;

    /// Reads into `buf`'s spare capacity at `offset`; gives the buffer back.
    fn read_at(
        &self,
        buf: Vec<u8>,
        offset: u64,
    ) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send;

    /// Writes `contents` as the whole of the file at `path` (created, or truncated if it
    /// exists; closed when done) the way the runtime writes a whole file from an owned
    /// buffer; gives the buffer back. monoio and compio: their `fs::write`, which takes
    /// the buffer; zokio: `File::create` and `write_all_at`, its owned-buffer path (its
    /// Tokio-compatible `fs::write` borrows and copies); Tokio and smol: their `fs::write`,
    /// which borrows and copies the contents into the blocking pool's closure (neither
    /// has an owned-buffer file API).
    fn write_file(
        path: PathBuf,
        contents: Vec<u8>,
    ) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send;
}

/// An adapter's async mutex.
pub trait AsyncMutex<T>: Send + Sync + 'static {
    /// An unlocked mutex holding `value`.
    fn new(value: T) -> Self;

    /// Locks (waiting in the mutex's queue), runs `f` on the value, unlocks.
    fn with_lock<R: Send>(
        &self,
        f: impl FnOnce(&mut T) -> R + Send,
    ) -> impl Future<Output = R> + Send;
}

/// An adapter's async counting semaphore.
pub trait AsyncSemaphore: Send + Sync + 'static {
    /// A semaphore with `permits` permits.
    fn new(permits: usize) -> Self;

    /// A held permit; dropping it releases it.
    type Permit<'a>: Send
    where
        Self: 'a;

    /// Waits for one permit (panics if the semaphore was closed: benchmarks never close it).
    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send;

    /// Permits free right now.
    fn available_permits(&self) -> usize;

    /// Waits for one permit, awaits `hold` while holding it, then releases it.
    fn acquire_release(
        &self,
        hold: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = ()> + Send {
        async move {
            let permit = self.acquire().await;
            hold.await;
            drop(permit);
        }
    }
}

/// An adapter's `Notify`: `notify_one` stores a permit when nobody waits.
pub trait AsyncNotify: Send + Sync + 'static {
    /// No stored permit.
    fn new() -> Self;

    /// Wakes one waiter, or stores the permit.
    fn notify_one(&self);

    /// Waits for a notification (consuming a stored permit at once).
    fn notified(&self) -> impl Future<Output = ()> + Send;
}

/// The error of a send on an mpsc channel whose receiver is gone (the value is dropped:
/// not every runtime's channel gives it back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Sending half of an adapter's bounded mpsc channel.
pub trait MpscSender<T>: Clone + Send + Sync + 'static {
    /// Waits for capacity and sends.
    ///
    /// # Errors
    /// [`Closed`] if the receiver is gone.
    fn send(&self, value: T) -> impl Future<Output = Result<(), Closed>> + Send;
}

/// Sending half of an adapter's unbounded mpsc channel.
pub trait UnboundedSender<T>: Clone + Send + Sync + 'static {
    /// Sends without waiting.
    ///
    /// # Errors
    /// [`Closed`] if the receiver is gone.
    fn send(&self, value: T) -> Result<(), Closed>;
}

/// Receiving half of an adapter's bounded or unbounded mpsc channel.
pub trait MpscReceiver<T>: Send + 'static {
    /// The next message, or `None` once every sender is gone.
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send;
}

/// Sending half of an adapter's oneshot channel.
pub trait OneshotSender<T>: Send + 'static {
    /// Sends `value`; returns it back if the receiver is gone.
    fn send(self, value: T) -> Result<(), T>;
}

/// Polls a runtime's join handle and unwraps its result, panicking on a task failure.
macro_rules! unwrap_join_future {
    ($name:ident, $inner:ty) => {
        /// A join handle that resolves to the task's output (panics if the task failed).
        #[derive(Debug)]
        pub struct $name<T>(pub(crate) $inner);

        impl<T> std::future::Future for $name<T> {
            type Output = T;

            fn poll(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<T> {
                std::pin::Pin::new(&mut self.0)
                    .poll(cx)
                    .map(|r| r.unwrap_or_else(|e| panic!("benchmark task failed: {e}")))
            }
        }
    };
}

/// Polls a runtime's oneshot receiver, mapping "sender dropped" to `None`.
macro_rules! option_recv_future {
    ($name:ident, $inner:ty) => {
        /// A oneshot receiver resolving to `Some(value)`, or `None` if the sender was dropped.
        #[derive(Debug)]
        pub struct $name<T>(pub(crate) $inner);

        impl<T> std::future::Future for $name<T> {
            type Output = Option<T>;

            fn poll(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                std::pin::Pin::new(&mut self.0).poll(cx).map(Result::ok)
            }
        }
    };
}

/// The hyper service every adapter's [`Runtime::serve_http`] runs: each request is answered
/// with `body`, whatever it asked for.
pub fn http_service(
    body: bytes::Bytes,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<http_body_util::Full<bytes::Bytes>>,
    Error = std::convert::Infallible,
    Future = impl Future<
        Output = Result<
            hyper::Response<http_body_util::Full<bytes::Bytes>>,
            std::convert::Infallible,
        >,
    > + Send,
> + Clone {
    hyper::service::service_fn(move |_req| {
        let body = body.clone();
        async move { Ok(hyper::Response::new(http_body_util::Full::new(body))) }
    })
}

/// Reads into `buf`'s spare capacity at `offset` with `pread(2)` on the calling thread, and
/// gives the buffer back: the body of a positional read for adapters whose runtimes run file
/// reads on a blocking pool (Tokio, smol). The spare capacity is not zeroed first, as no
/// other adapter's read zeroes it.
pub(crate) fn pread_spare(
    file: &std::fs::File,
    mut buf: Vec<u8>,
    offset: u64,
) -> (io::Result<usize>, Vec<u8>) {
    use std::os::fd::AsRawFd;
    let dst = buf.spare_capacity_mut();
    // SAFETY: `dst` is valid for writes of `dst.len()` bytes, the kernel writes at most that
    // many and reads none of them, and the file's fd is open for the call.
    let n = unsafe {
        libc::pread(
            file.as_raw_fd(),
            dst.as_mut_ptr().cast(),
            dst.len(),
            offset as libc::off_t,
        )
    };
    let Ok(n) = usize::try_from(n) else {
        return (Err(io::Error::last_os_error()), buf);
    };
    // SAFETY: `pread` wrote the first `n` bytes of the spare capacity.
    unsafe { buf.set_len(buf.len() + n) };
    (Ok(n), buf)
}

/// One `sendfile(2)` of up to `len - *offset` bytes of `in_fd` from `*offset` to `out_fd`,
/// advancing `*offset`; for adapters that send files through their runtime's readiness API.
pub(crate) fn sendfile_once(
    out_fd: std::os::fd::RawFd,
    in_fd: std::os::fd::RawFd,
    offset: &mut libc::off_t,
    len: usize,
) -> io::Result<usize> {
    let count = len.saturating_sub(*offset as usize);
    // SAFETY: the caller holds both descriptors open for the call; `offset` is a live
    // exclusive reference the kernel updates.
    let n = unsafe { libc::sendfile(out_fd, in_fd, offset, count) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

pub(crate) use option_recv_future;
pub(crate) use unwrap_join_future;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;

    /// `yield_now` lets the other ready tasks run before the yielding one goes on, on every
    /// runtime's current-thread flavor (where the order is the scheduler's alone).
    #[test]
    fn yield_now_runs_the_other_ready_tasks_first() {
        struct Yield;
        impl Visitor for Yield {
            type Output = (bool, bool);
            fn visit<R: Runtime>(self) -> (bool, bool) {
                let rt = R::current_thread();
                let check = || {
                    rt.run(async {
                        let ran = Arc::new(AtomicBool::new(false));
                        let other = ran.clone();
                        let h = R::spawn_local(async move { other.store(true, SeqCst) });
                        R::yield_now().await;
                        let seen = ran.load(SeqCst);
                        h.await;
                        seen
                    })
                };
                // Twice: the second time on a runtime that has run tasks before.
                (check(), check())
            }
        }
        for &name in NAMES {
            assert_eq!(dispatch(name, Yield), Some((true, true)), "{name}");
        }
    }

    /// Under `one_cpu_each`, worker i gets the i-th allowed CPU, wrapping; every worker
    /// of a multi-thread runtime then runs on one CPU (read back from inside tasks).
    #[test]
    fn one_cpu_each_pins_every_worker_of_every_shared_runtime() {
        let allowed = crate::placement::Cpus::of_current_thread().unwrap().ids();
        let options = RunOptions {
            one_cpu_each: true,
            ..RunOptions::default()
        };
        assert_eq!(options.worker_cpu(0), Some(allowed[0]));
        assert_eq!(options.worker_cpu(allowed.len()), Some(allowed[0]));
        assert_eq!(RunOptions::default().worker_cpu(0), None);
        struct Pinned(RunOptions);
        impl Visitor for Pinned {
            type Output = Vec<Vec<usize>>;
            fn visit<R: Runtime>(self) -> Vec<Vec<usize>> {
                if R::THREAD_PER_CORE {
                    return Vec::new(); // its shard threads are pinned by the strategy
                }
                let rt = R::multi_thread_with(2, &self.0);
                let where_ = || crate::placement::Cpus::of_current_thread().unwrap().ids();
                let hs: Vec<_> = (0..16).map(|_| rt.spawn(async move { where_() })).collect();
                rt.block_on(async move {
                    let mut seen = Vec::new();
                    for h in hs {
                        seen.push(h.await);
                    }
                    seen
                })
            }
        }
        for &name in NAMES {
            let seen = dispatch(name, Pinned(options)).unwrap();
            assert!(seen.iter().all(|cpus| cpus.len() == 1), "{name}: {seen:?}");
        }
    }
}
