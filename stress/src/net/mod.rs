//! Network stress: servers under test (TCP echo, HTTP/1.1 keep-alive with hyper, a
//! sendfile file server), one accept loop each written against the runtime adapter
//! ([`Server`]), driven by the built-in load generator ([`loadgen`]) on 127.0.0.1. A
//! runtime serves as it is meant to: on one runtime's shared workers, or (thread-per-core
//! runtimes) as one runtime per worker accepting on a shared port ([`ShardedServer`]).
//!
//! Server and generator share the machine's cores unless `--pin` gives them disjoint CPUs
//! ([`zbench_suite::placement`]); either way each point records the placement, the share
//! of its CPU time the generator used (a point whose generator was the bottleneck gets no
//! verdict), and a twin point with the server's CPU time per request, connection or MB.

pub mod loadgen;
pub mod remote;

use bytes::Bytes;
use loadgen::{LoadConfig, LoadReport, Mode, Protocol};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use zbench_suite::measure::{Sampler, WarmUp};
use zbench_suite::placement::{Cpus, Placement};
use zbench_suite::rt::{AsyncTcpListener, AsyncTcpStream, Cap, RunOptions, Runtime};
#[cfg(test)]
use zbench_suite::rt::{Tokio, Zokio};
use zbench_suite::strategy::{each_runtime, MakeSampler};
use zbench_suite::suite::{Ctx, Figure, Outcome, OwnFigure, Param::*, Point, Series, Workload};

/// A server under test: its accept loop, written once for every runtime.
pub trait Server: Clone + Send + Sync + 'static {
    /// Accepts on `listener` until the runtime stops, serving each connection in a task
    /// of its own ([`Runtime::spawn_local`]).
    fn serve<R: Runtime>(
        &self,
        listener: R::TcpListener,
    ) -> impl Future<Output = ()> + Send + 'static;
}

/// The HTTP server of `net.http_requests` (hyper, through [`Runtime::serve_http`]),
/// answering every request with its body.
#[derive(Clone)]
pub struct Http(pub Bytes);

impl Server for Http {
    fn serve<R: Runtime>(
        &self,
        listener: R::TcpListener,
    ) -> impl Future<Output = ()> + Send + 'static {
        let body = self.0.clone();
        async move {
            while let Ok(stream) = listener.accept().await {
                drop(R::spawn_local(R::serve_http(stream, body.clone())));
            }
        }
    }
}

/// The echo server of `net.tcp_connections`: each connection's bytes are written back.
#[derive(Clone, Copy)]
pub struct Echo;

impl Server for Echo {
    // Not an `async fn`: its future must not borrow `self`.
    #[allow(clippy::manual_async_fn)]
    fn serve<R: Runtime>(
        &self,
        listener: R::TcpListener,
    ) -> impl Future<Output = ()> + Send + 'static {
        async move {
            while let Ok(mut stream) = listener.accept().await {
                drop(R::spawn_local(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let (r, b) = stream.read(buf, 0..4096).await;
                        let n = match r {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let (r, b) = stream.write_all(b, 0..n).await;
                        if r.is_err() {
                            return;
                        }
                        buf = b;
                    }
                }));
            }
        }
    }
}

/// The file server of `net.file_transfer`: each request is a file index (u32 LE), each
/// answer its length (u64 LE) and its bytes, sent with [`Runtime::send_file`].
#[derive(Clone)]
pub struct Files(std::sync::Arc<Vec<(std::fs::File, usize)>>);

impl Files {
    /// Opens the files `paths`, once, here.
    ///
    /// # Errors
    /// If a file cannot be opened.
    pub fn open(paths: &[std::path::PathBuf]) -> io::Result<Files> {
        let files = paths
            .iter()
            .map(|p| {
                let f = std::fs::File::open(p)?;
                let len = f.metadata()?.len() as usize;
                Ok((f, len))
            })
            .collect::<io::Result<_>>()?;
        Ok(Files(std::sync::Arc::new(files)))
    }
}

impl Server for Files {
    fn serve<R: Runtime>(
        &self,
        listener: R::TcpListener,
    ) -> impl Future<Output = ()> + Send + 'static {
        let files = self.0.clone();
        async move {
            while let Ok(mut stream) = listener.accept().await {
                let files = files.clone();
                drop(R::spawn_local(async move {
                    let (mut req, mut header) = (vec![0u8; 4], vec![0u8; 8]);
                    loop {
                        let mut got = 0;
                        while got < 4 {
                            let (r, b) = stream.read(req, got..4).await;
                            req = b;
                            match r {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got += n,
                            }
                        }
                        let index = u32::from_le_bytes(req[..4].try_into().expect("4 bytes"));
                        let Some((file, len)) = files.get(index as usize) else {
                            return;
                        };
                        header.copy_from_slice(&(*len as u64).to_le_bytes());
                        let (r, b) = stream.write_all(header, 0..8).await;
                        header = b;
                        if r.is_err() || R::send_file(&mut stream, file, *len).await.is_err() {
                            return;
                        }
                    }
                }));
            }
        }
    }
}

/// Starts `server` on the shared-worker runtime `rt` at `listen`; it serves until `rt` is
/// dropped.
///
/// # Errors
/// If the listener cannot be bound.
pub fn start_on<R: Runtime, S: Server>(
    rt: &R,
    server: &S,
    listen: SocketAddr,
) -> io::Result<SocketAddr> {
    let listener = rt.block_on(R::TcpListener::bind(listen))?;
    let addr = listener.local_addr()?;
    drop(rt.spawn(server.serve::<R>(listener)));
    Ok(addr)
}

/// 127.0.0.1, a free port.
const LOCALHOST: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Binds 127.0.0.1:0 on `rt` and serves HTTP there until `rt` is dropped.
///
/// # Errors
/// If the listener cannot be bound.
pub fn start_http<R: Runtime>(rt: &R, body: Bytes) -> io::Result<SocketAddr> {
    start_on(rt, &Http(body), LOCALHOST)
}

/// Binds 127.0.0.1:0 on `rt` and echoes every connection until `rt` is dropped.
///
/// # Errors
/// If the listener cannot be bound.
pub fn start_echo<R: Runtime>(rt: &R) -> io::Result<SocketAddr> {
    start_on(rt, &Echo, LOCALHOST)
}

/// Serves the files `paths` (opened once, here) on 127.0.0.1:0 until `rt` is dropped.
///
/// # Errors
/// If a file cannot be opened or the listener bound.
pub fn start_files<R: Runtime>(rt: &R, paths: &[std::path::PathBuf]) -> io::Result<SocketAddr> {
    start_on(rt, &Files::open(paths)?, LOCALHOST)
}

/// The listen backlog of every listener zbench makes itself, whatever the runtime's own
/// `bind` would use (Tokio's and monoio's 1,024; compio's 128).
pub const LISTEN_BACKLOG: i32 = 1024;

/// A listening socket on `addr` with a backlog of [`LISTEN_BACKLOG`], and with
/// `SO_REUSEPORT` (and `SO_REUSEADDR`) if `reuse_port`, so that several can listen on one
/// port and the kernel spreads new connections over them.
fn std_listener(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if reuse_port {
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// A server on thread-per-core runtimes, as they are meant to serve: one current-thread
/// runtime per thread, each accepting on its own listener of one port (`SO_REUSEPORT`:
/// the kernel spreads the connections over them) and serving its connections itself.
/// Dropping it stops the runtimes and joins their threads.
pub struct ShardedServer {
    addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl ShardedServer {
    /// Starts `server` on `shards` runtimes of `R` at `listen`, each on a thread of its own
    /// (pinned as `options` says) and returns once all of them listen.
    ///
    /// # Errors
    /// If a listener cannot be bound or taken over, or a thread cannot start.
    pub fn start<R: Runtime, S: Server>(
        shards: usize,
        options: RunOptions,
        server: &S,
        listen: SocketAddr,
    ) -> io::Result<ShardedServer> {
        use std::sync::atomic::AtomicBool;
        let first = std_listener(listen, true)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..shards.max(1) {
            listeners.push(std_listener(addr, true)?);
        }
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let mut this = ShardedServer {
            addr,
            stop: stop.clone(),
            threads: Vec::new(),
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        for (i, listener) in listeners.into_iter().enumerate() {
            let (server, stop, ready) = (server.clone(), stop.clone(), ready_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("{}-shard-{i}", R::NAME))
                .spawn(move || {
                    options.pin_worker(i);
                    let rt = R::current_thread_with(&options);
                    rt.block_on(async move {
                        use std::os::fd::AsRawFd;
                        let fd = listener.as_raw_fd();
                        let listener = match R::TcpListener::from_std(listener) {
                            Ok(l) => l,
                            Err(e) => {
                                let _ = ready.send(Err(e));
                                return;
                            }
                        };
                        let _ = ready.send(Ok(()));
                        serve_until::<R>(server.serve::<R>(listener), &stop, fd).await;
                    });
                });
            match thread {
                Ok(t) => this.threads.push(t),
                Err(e) => return Err(e),
            }
        }
        drop(ready_tx);
        for _ in 0..this.threads.len() {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(io::Error::other("a server shard died")),
            }
        }
        Ok(this)
    }

    /// The address every shard accepts on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ShardedServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Runs the accept loop `serve` of the listener `fd` until it ends, checking `stop` every
/// 5 ms; once set, shuts the listener down (`shutdown(SHUT_RD)`: a pending accept fails
/// with `EINVAL`), so the loop ends by itself and the listener is dropped with no accept
/// in flight (a loop still running 1 s later is dropped as it is). Dropping an accept in flight instead would leave its descriptor open on a
/// completion-based runtime whose driver stops before the cancelled operation completes
/// (compio's), and the port still listening.
async fn serve_until<R: Runtime>(
    serve: impl Future<Output = ()>,
    stop: &std::sync::atomic::AtomicBool,
    fd: std::os::fd::RawFd,
) {
    use std::task::Poll;
    let mut serve = std::pin::pin!(serve);
    let mut tick = Box::pin(R::sleep(Duration::from_millis(5)));
    // Ticks since the listener was shut down; after 200 (1 s) the loop is dropped anyway.
    let mut stopping: Option<u32> = None;
    std::future::poll_fn(|cx| loop {
        if serve.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        match stopping {
            None if stop.load(std::sync::atomic::Ordering::SeqCst) => {
                stopping = Some(0);
                // SAFETY: `fd` is the listener `serve` owns, and `serve` has not finished
                // (polled just above, on this thread), so the descriptor is still its own.
                unsafe { libc::shutdown(fd, libc::SHUT_RD) };
                continue;
            }
            Some(200..) => return Poll::Ready(()),
            _ => {}
        }
        if tick.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        stopping = stopping.map(|t| t + 1);
        tick = Box::pin(R::sleep(Duration::from_millis(5)));
    })
    .await;
}

/// A server under test kept alive for a measurement: a shared-worker runtime serving it,
/// or the shards of a thread-per-core one.
/// Held, never read: dropping it stops the server.
enum Serving<R> {
    Shared(R),
    Sharded(#[allow(dead_code)] ShardedServer),
}

impl<R: Runtime> Serving<R> {
    /// Tasks alive on the serving runtime, where it counts them (one shared runtime).
    fn alive_tasks(&self) -> Option<usize> {
        match self {
            Serving::Shared(rt) => rt.alive_tasks(),
            Serving::Sharded(_) => None,
        }
    }
}

/// Starts `server` on runtime `R` at `listen` as `R` is meant to serve: on one runtime of
/// `workers` shared workers, or on `workers` thread-per-core runtimes, one per thread.
fn start_server<R: Runtime, S: Server>(
    workers: usize,
    options: &RunOptions,
    server: &S,
    listen: SocketAddr,
) -> io::Result<(Serving<R>, SocketAddr)> {
    if R::THREAD_PER_CORE {
        let sharded = ShardedServer::start::<R, S>(workers, *options, server, listen)?;
        let addr = sharded.local_addr();
        Ok((Serving::Sharded(sharded), addr))
    } else {
        let rt = R::multi_thread_with(workers, options);
        let addr = start_on(&rt, server, listen)?;
        Ok((Serving::Shared(rt), addr))
    }
}

/// The body of `net.http_requests`.
pub const HELLO: &[u8] = b"Hello, World!";
/// The larger body of `net.http_requests`, in bytes.
pub const BIG_BODY: usize = 4096;
/// Connections of `net.http_requests`.
pub const HTTP_CONNECTIONS: usize = 64;
/// Concurrent connectors of `net.tcp_connections`.
pub const CONNECTORS: usize = 16;

/// The network workloads.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "net.http_requests",
            unit: "requests/s",
            params: &[("connections", N(HTTP_CONNECTIONS)), ("body", T("Hello, World! (13 B); 4 KiB")), ("server", T("hyper 1.x http1 on the runtime under test")), ("client", T("built-in load generator (keep-alive HTTP/1.1, httparse), the same for every runtime"))],
            claims: &["net.http_requests"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp, Cap::Hyper],
            description: "HTTP/1.1 keep-alive GETs on 127.0.0.1, every response checked (status and body). Closed loop: 64 connections as fast as responses come, with the 13-byte body and with a 4 KiB body. Open loop (offered_rate points): the same constant rates for every runtime, 10% to 100% of the fastest runtime's closed-loop rate, latency from each request's due time (coordinated omission corrected, microsecond pacing), so each runtime's knee shows. Each point has a twin (figure: server CPU time) giving the server's CPU time per request. A point whose generator used 90% or more of its threads' CPU time is marked generator-bound and gets no verdict. Extra: MB/s, errors, generator CPU %. Placement (workers, generator threads, CPUs) in the params",
            run: http_outcome,
        },
        Workload {
            name: "scale.connections",
            unit: "connections",
            params: &[("ends", T("client and server in this process (2 fds per connection)")), ("cap", N(CONNECTION_CAP)), ("limit", T("RLIMIT_NOFILE raised to its hard limit")), ("listen_backlog", N(LISTEN_BACKLOG as usize))],
            claims: &["scale.connections"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "opens idle TCP connections to 127.0.0.1 (256 connecting at a time) until the cap, an error (EMFILE, EADDRNOTAVAIL...) or RLIMIT_NOFILE (raised to its hard limit, minus 1,024 fds of headroom for the runtimes' own) stops it; every connection's server end is accepted and held. Extra: bytes of RSS per connection (both ends' user-space state; kernel socket buffers are not in RSS), the fd limit and what stopped the run",
            run: scale_connections_outcome,
        },
        Workload {
            name: "net.file_transfer",
            unit: "files/s",
            params: &[("connections", N(8)), ("transfer", T("sendfile(2) on every runtime")), ("client", T("built-in load generator, every file's length and checksum checked"))],
            claims: &["net.file_transfer"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp, Cap::SendFile],
            description: "a server on the runtime under test sends files over 127.0.0.1 with sendfile(2) (zokio: TcpStream::send_file; Tokio has no such API, so the same syscall through its readiness API); two points: one file of 256 MiB and 1,000 files of 64 KiB (page cache warm). Twin points (figure: server CPU time): the server's CPU time per MB sent. Extra: MB/s and errors (a wrong length or checksum is an error)",
            run: file_transfer_outcome,
        },
        Workload {
            name: "net.tcp_connections",
            unit: "connections/s",
            params: &[("connectors", N(CONNECTORS)), ("bytes", N(64)), ("server", T("echo on the runtime under test (thread-per-core runtimes: one per worker, sharing the port with SO_REUSEPORT)")), ("client", T("built-in load generator, connectors spread over source addresses of 127.0.0.0/8"))],
            claims: &["net.tcp_connections"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "16 concurrent connectors each loop: connect to 127.0.0.1 (from their own source address, so TIME_WAIT ports do not cap the rate), write 64 bytes, read them back (checked), close. Twin point (figure: server CPU time): the server's CPU time per connection. Extra: MB/s and errors by kind",
            run: connections_outcome,
        },
    ]
}

struct LoadSampler<'a, S, C> {
    placement: Placement,
    options: RunOptions,
    server: &'a S,
    load: &'a C,
}

impl<S, C> Clone for LoadSampler<'_, S, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, C> Copy for LoadSampler<'_, S, C> {}

impl<'a, S: Server, C: Fn(SocketAddr) -> LoadConfig> MakeSampler<'a> for LoadSampler<'a, S, C> {
    type Sample = LoadReport;

    fn make<R: Runtime>(self) -> Sampler<'a, Result<LoadReport, String>> {
        let options = RunOptions {
            cpus: self.placement.server_cpus.or(self.options.cpus),
            ..self.options
        };
        let started = start_server::<R, S>(
            self.placement.server_workers,
            &options,
            self.server,
            LOCALHOST,
        )
        .map_err(|e| format!("{} server: {e}", R::NAME));
        Box::new(move |_| {
            let (_serving, addr) = started.as_ref().map_err(Clone::clone)?;
            let addr = *addr;
            let mut cfg = (self.load)(addr);
            cfg.threads = self.placement.generator_threads;
            cfg.cpus = self.placement.generator_cpus;
            loadgen::run(&cfg).map_err(|e| e.to_string())
        })
    }
}

/// What the server's CPU time of a network point is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Correct requests (`us/request`).
    Request,
    /// Connections, each one exchange (`us/connection`).
    Connection,
    /// Megabytes (10^6 bytes) moved (`us/MB`).
    Megabyte,
}

impl Per {
    fn unit(self) -> &'static str {
        match self {
            Per::Request => "us/request",
            Per::Connection => "us/connection",
            Per::Megabyte => "us/MB",
        }
    }

    /// The server's CPU time of `r` in microseconds per this.
    fn of(self, r: &LoadReport) -> f64 {
        let server = r.process_cpu.saturating_sub(r.generator_cpu).as_secs_f64() * 1e6;
        match self {
            Per::Request | Per::Connection => server / r.requests.max(1) as f64,
            Per::Megabyte => server / (r.bytes as f64 / 1e6).max(1e-6),
        }
    }
}

/// The placement of the run's network workloads, checked when the run started.
fn placement(ctx: &Ctx) -> Result<Placement, String> {
    ctx.net.placement(ctx.cfg.workers)
}

/// Parameters recording a placement: the server's workers and CPUs, the generator's
/// threads and CPUs.
fn placement_params(p: &Placement) -> Vec<(&'static str, serde_json::Value)> {
    let cpus = |c: Option<Cpus>| c.map_or_else(|| "not pinned".to_owned(), |c| c.to_string());
    vec![
        ("workers", p.server_workers.into()),
        ("generator_threads", p.generator_threads.into()),
        ("server_cpus", cpus(p.server_cpus).into()),
        ("generator_cpus", cpus(p.generator_cpus).into()),
    ]
}

/// Runs the load against a server on each runtime of the run (started once, placed as
/// `--pin`/`--client-threads` say), `rounds` rounds in the orders of
/// `measure::round_order`. Two points with `params` and the placement: the rate (a
/// sample per run; the runs merged for percentiles and extra figures), then the server's
/// CPU time `per` request, connection or MB (a sample per run, its own unit, lower is
/// better).
fn measure<S: Server>(
    ctx: &Ctx,
    load: impl Fn(SocketAddr) -> LoadConfig,
    server: &S,
    rounds: usize,
    per: Per,
    params: Vec<(&'static str, serde_json::Value)>,
) -> Result<[Point; 2], String> {
    let placement = placement(ctx)?;
    let mut here = ctx.clone();
    here.cfg.rounds = rounds;
    let runs = each_runtime(
        &here,
        WarmUp::None,
        LoadSampler {
            placement,
            options: ctx.options,
            server,
            load: &load,
        },
    )?;
    // A run that counts has no CPU-time twin: its figure is a time.
    let counts = zbench_suite::measure::measure().is_count();
    if counts {
        if let Some((name, _)) = runs
            .iter()
            .find(|(_, reports)| reports.iter().any(|r| r.requests == 0))
        {
            return Err(format!(
                "{name}: a load run completed no request, so it has no count per request"
            ));
        }
    }
    let mut params = params;
    params.extend(placement_params(&placement));
    let cpu = Point {
        series: runs
            .iter()
            .filter(|_| !counts)
            .map(|(name, reports)| Series::new(name, reports.iter().map(|r| per.of(r)).collect()))
            .collect(),
        params: params
            .iter()
            .cloned()
            .chain([("figure", "server CPU time".into())])
            .collect(),
        figure: Some(OwnFigure {
            unit: per.unit(),
            higher_is_better: false,
        }),
        ..Point::default()
    };
    let rate = Point {
        series: runs
            .into_iter()
            .map(|(name, reports)| {
                let mut s = series_of(name, reports);
                if zbench_suite::rt::info(name).is_some_and(|i| i.thread_per_core) {
                    // The server ran as that many runtimes, one per thread, sharing the port.
                    s.extra
                        .push(("thread_per_core_runtimes", placement.server_workers as f64));
                }
                s
            })
            .collect(),
        params,
        ..Point::default()
    };
    Ok([rate, cpu])
}

/// One runtime's series from its load runs: a sample (the rate) per run, and the runs
/// merged for its percentiles, errors, CPU figures and the mark that takes its verdict
/// away: when a request timed out (see `LoadConfig::request_timeout`), or else when the
/// generator was busy [`loadgen::GENERATOR_BOUND`] of the time or more.
///
/// In a run that counts (`--measure`), a sample is instead the server's count per request
/// (connection, file) of the run, and the series carries no percentiles and no
/// generator-bound mark: under Callgrind every thread runs slower and one at a time, so
/// latencies and the generator's busy share say nothing about the runtime.
fn series_of(name: &'static str, reports: Vec<LoadReport>) -> Series {
    use zbench_suite::measure::{self, Cost, Measure};
    let counted = |r: &LoadReport| {
        let cost = Cost {
            elapsed: r.elapsed,
            count: r.counted.count,
            bytes: r.counted.bytes,
        };
        measure::per_op(r.requests, cost)
    };
    let counts = measure::measure().is_count();
    if counts {
        let samples: Vec<measure::Sample> = reports.iter().map(counted).collect();
        let mut s = Series::new(name, samples.iter().map(|x| x.value).collect());
        let requests: u64 = reports.iter().map(|r| r.requests).sum();
        let errors: u64 = reports.iter().map(LoadReport::error_count).sum();
        s.errors = errors;
        s.extra = vec![("requests", requests as f64), ("errors", errors as f64)];
        if measure::measure() == Measure::Allocations {
            let bytes: Vec<f64> = samples.iter().map(|x| x.bytes_per_op).collect();
            s.extra.push((
                "bytes_allocated_per_op",
                zbench_suite::stats::median(&bytes),
            ));
        }
        return s;
    }
    let samples = reports.iter().map(LoadReport::rate).collect();
    let mut reports = reports.into_iter();
    let mut total = reports.next();
    if let Some(t) = total.as_mut() {
        reports.for_each(|r| t.merge(r));
    }
    let mut s = Series::new(name, samples);
    if let Some(r) = total {
        s.errors = r.error_count();
        s.percentiles = Some(zbench_suite::strategy::percentiles(&r.latency_ns));
        s.extra = vec![
            ("requests", r.requests as f64),
            ("mb_per_sec", r.mb_per_sec()),
            ("errors", r.error_count() as f64),
            (
                "error_percent",
                100.0 * r.error_count() as f64 / (r.requests + r.error_count()).max(1) as f64,
            ),
            ("generator_cpu_percent", 100.0 * r.generator_busy()),
        ];
        let timed_out = r.errors.get("TimedOut").copied().unwrap_or(0);
        if timed_out > 0 {
            // A server that stopped answering: its rate is that of a broken server.
            s.no_verdict = Some(format!(
                "{timed_out} request(s) unanswered within the load generator's timeout: the \
                 server stopped answering"
            ));
        } else if r.generator_bound() {
            s.no_verdict = Some(format!(
                "generator-bound: the load generator's {} thread(s) used {:.0}% of their CPU time",
                r.generator_threads,
                100.0 * r.generator_busy()
            ));
        }
    }
    s
}

/// Load runs per runtime and their length: `rounds` of `stress_duration / rounds`.
fn schedule(ctx: &Ctx) -> (usize, Duration) {
    let rounds = if ctx.stress_duration >= Duration::from_secs(5) {
        10
    } else {
        4
    };
    (rounds, ctx.stress_duration / rounds as u32)
}

/// The open-loop steps of `net.http_requests`: shares of the highest closed-loop rate of
/// the run, up to all of it, so each runtime's latency shows its knee.
pub const OFFERED_SHARES: [f64; 6] = [0.1, 0.25, 0.5, 0.75, 0.9, 1.0];

fn http_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    let (rounds, each) = schedule(ctx);
    let body = Bytes::from_static(HELLO);
    let load = |mode, body_len| {
        move |target| LoadConfig {
            mode,
            ..LoadConfig::new(
                target,
                Protocol::Http {
                    path: "/",
                    body_len,
                },
                HTTP_CONNECTIONS,
                each,
            )
        }
    };
    let closed = measure(
        ctx,
        load(Mode::Closed, HELLO.len()),
        &Http(body.clone()),
        rounds,
        Per::Request,
        vec![("body_bytes", HELLO.len().into())],
    )?;
    // The same offered rates for every runtime: shares of the fastest one's closed-loop
    // rate, so the slower ones are offered more than they can serve at the top steps.
    let peak = closed[0]
        .series
        .iter()
        .map(|s| zbench_suite::stats::median(&s.samples))
        .filter(|m| m.is_finite())
        .fold(0.0, f64::max);
    let mut points = Vec::new();
    // Open loop offers shares of a wall-clock rate; a run that counts has none to offer
    // (under Callgrind the closed-loop rate is Valgrind's, not the server's).
    let counts = zbench_suite::measure::measure().is_count();
    if peak > 0.0 && !counts {
        for share in OFFERED_SHARES {
            let rate = (peak * share).round();
            let mut measured = measure(
                ctx,
                load(Mode::Open { rate }, HELLO.len()),
                &Http(body.clone()),
                rounds.min(4),
                Per::Request,
                vec![
                    ("offered_rate", rate.into()),
                    ("offered_share_of_peak", share.into()),
                ],
            )?;
            served_as_offered(&mut measured[0], rate);
            points.extend(measured);
        }
    }
    points.extend(measure(
        ctx,
        load(Mode::Closed, BIG_BODY),
        &Http(Bytes::from(vec![b'z'; BIG_BODY])),
        rounds,
        Per::Request,
        vec![("body_bytes", BIG_BODY.into())],
    )?);
    // The closed-loop "Hello, World!" point last: the claims audit reads the last point.
    points.extend(closed);
    Ok(Outcome { points })
}

/// Share of the offered rate a runtime must serve for its open-loop rate to be "the
/// offered rate" and no figure of its own.
const SERVED: f64 = 0.99;

/// An open-loop rate point where every runtime served the offered `rate` (within
/// [`SERVED`]): its rates are the generator's schedule, not the servers', so they carry no
/// verdict (their latency and server CPU time do). Where a runtime fell behind, the rates
/// differ for a reason and keep their verdicts.
fn served_as_offered(point: &mut Point, rate: f64) {
    let served = |s: &Series| zbench_suite::stats::median(&s.samples) >= SERVED * rate;
    if point.series.iter().all(served) {
        for s in &mut point.series {
            s.no_verdict.get_or_insert_with(|| {
                "open loop: every runtime served the offered rate; compare latency and server CPU time".to_owned()
            });
        }
    }
}

fn connections_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    let (rounds, each) = schedule(ctx);
    let points = measure(
        ctx,
        move |target| {
            LoadConfig::new(
                target,
                Protocol::ConnectEcho { bytes: 64 },
                CONNECTORS,
                each,
            )
        },
        &Echo,
        rounds,
        Per::Connection,
        Vec::new(),
    )?;
    Ok(Outcome {
        points: points.into(),
    })
}

/// Most connections `scale.connections` opens.
pub const CONNECTION_CAP: usize = 100_000;

/// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the limit now in force.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the `rlimit` we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

/// One `scale.connections` run: how many idle connections `rt` held, the RSS bytes per
/// connection, and what stopped it. Everything happens in tasks of `rt` (the acceptor, the
/// connectors, the wait for the last accepts), so a thread-per-core runtime, whose tasks
/// run only inside `block_on`, holds them all on its one thread; both ends are closed
/// before it returns, the listener when `rt` is dropped.
///
/// # Errors
/// If the listener cannot be bound or RSS cannot be read.
pub fn idle_connections<R: Runtime>(rt: &R, cap: usize) -> io::Result<(usize, f64, String)> {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    let limit = raise_fd_limit();
    let open_now = std::fs::read_dir("/proc/self/fd").map_or(64, |d| d.count()) as u64;
    let by_fds = (limit.saturating_sub(open_now + 1024) / 2) as usize;
    let target = cap.min(by_fds);
    // The same backlog on every runtime: 256 connects in flight overflow a smaller one.
    let listener = std_listener(SocketAddr::from(([127, 0, 0, 1], 0)), false)?;
    let listener = rt.block_on(async move { R::TcpListener::from_std(listener) })?;
    let addr = listener.local_addr()?;
    let before = zbench_suite::workloads::memory::rss_bytes()?;
    let (held_n, after, stop) = rt.run(async move {
        let accepted = Arc::new(AtomicUsize::new(0));
        let held: Arc<Mutex<Vec<R::TcpStream>>> = Arc::new(Mutex::new(Vec::with_capacity(target)));
        {
            let (accepted, held) = (accepted.clone(), held.clone());
            // Left waiting in accept when done: dropped with the runtime.
            drop(R::spawn_local(async move {
                while let Ok(s) = listener.accept().await {
                    held.lock().unwrap_or_else(|e| e.into_inner()).push(s);
                    accepted.fetch_add(1, SeqCst);
                }
            }));
        }
        let mut clients = Vec::with_capacity(target);
        let mut stop = format!("cap reached ({target}: min of {cap} and RLIMIT_NOFILE {limit})");
        'outer: while clients.len() < target {
            let batch = (target - clients.len()).min(256);
            let tasks: Vec<_> = (0..batch)
                .map(|_| R::spawn_local(R::TcpStream::connect(addr)))
                .collect();
            for t in tasks {
                match t.await {
                    Ok(c) => clients.push(c),
                    Err(e) => {
                        stop = format!("connect failed after {}: {e}", clients.len());
                        break 'outer;
                    }
                }
            }
        }
        let n = clients.len();
        // Wait (at most 10 s) for the server side to accept them all.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while accepted.load(SeqCst) < n && std::time::Instant::now() < deadline {
            R::sleep(Duration::from_millis(5)).await;
        }
        let after = zbench_suite::workloads::memory::rss_bytes();
        let held_n = accepted.load(SeqCst).min(n);
        drop(clients);
        held.lock().unwrap_or_else(|e| e.into_inner()).clear();
        (held_n, after, stop)
    });
    let per = after?.saturating_sub(before) as f64 / held_n.max(1) as f64;
    Ok((held_n, per, stop))
}

fn scale_connections_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    zbench_suite::measure::wall_clock_only(
        "its figure is connections held, not a cost per operation",
    )?;
    struct Idle(usize, RunOptions);
    impl MakeSampler<'static> for Idle {
        type Sample = (usize, f64, String);

        fn make<R: Runtime>(self) -> Sampler<'static, Result<Self::Sample, String>> {
            Box::new(move |_| {
                // A thread-per-core runtime holds them all on one of its runtimes.
                let rt = if R::THREAD_PER_CORE {
                    R::current_thread_with(&self.1)
                } else {
                    R::multi_thread_with(self.0, &self.1)
                };
                idle_connections(&rt, CONNECTION_CAP)
                    .map_err(|e| format!("scale.connections on {}: {e}", R::NAME))
            })
        }
    }
    impl Clone for Idle {
        fn clone(&self) -> Self {
            *self
        }
    }
    impl Copy for Idle {}
    let mut here = ctx.clone();
    here.cfg.rounds = 2;
    let runs = each_runtime(&here, WarmUp::None, Idle(ctx.cfg.workers, ctx.options))?;
    let series = runs
        .into_iter()
        .map(|(name, runs)| {
            let last = runs.last().cloned().unwrap_or_default();
            eprintln!("scale.connections: {name} stopped by {}", last.2);
            let mut extra = vec![
                ("bytes_per_connection", last.1),
                ("rlimit_nofile", raise_fd_limit() as f64),
            ];
            if zbench_suite::rt::info(name).is_some_and(|i| i.thread_per_core) {
                extra.push(("thread_per_core_runtimes", 1.0));
            }
            Series {
                extra,
                ..Series::new(name, runs.iter().map(|r| r.0 as f64).collect())
            }
        })
        .collect();
    Ok(Outcome::one(Point {
        series,
        ..Point::default()
    }))
}

/// Files served in `net.file_transfer`: (count, bytes each). The 64 KiB set is last: the
/// claims audit reads a workload's last point, and the claim counts small files.
pub const FILE_SETS: [(usize, usize); 2] = [(1, 256 << 20), (1_000, 64 * 1024)];

fn file_transfer_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use zbench_suite::measure::{Measure, NOT_COUNTED};
    if zbench_suite::measure::measure() == Measure::Instructions {
        // Allocations per file are counted; instructions are not.
        return Err(format!(
            "{NOT_COUNTED}instructions per operation: its work is sendfile(2) in the kernel, which Callgrind does not count, and under Valgrind a 256 MiB file outlasts the load generator's request timeout"
        ));
    }
    let (rounds, each) = schedule(ctx);
    let mut points = Vec::new();
    for (count, bytes) in FILE_SETS {
        let set = zbench_suite::workloads::io::TempFiles::new(count, bytes);
        let sums: Vec<(u64, u64)> = set
            .paths
            .iter()
            .map(|p| {
                let data = std::fs::read(p).map_err(|e| e.to_string())?;
                Ok((data.len() as u64, loadgen::checksum(&data)))
            })
            .collect::<Result<_, String>>()?;
        let sums = std::sync::Arc::new(sums);
        let server = Files::open(&set.paths).map_err(|e| format!("net.file_transfer: {e}"))?;
        let [p, cpu] = measure(
            ctx,
            move |target| {
                LoadConfig::new(
                    target,
                    Protocol::Files {
                        files: sums.clone(),
                    },
                    8,
                    each.max(Duration::from_millis(300)),
                )
            },
            &server,
            rounds,
            Per::Megabyte,
            vec![("files", count.into()), ("file_bytes", bytes.into())],
        )?;
        let failed: Vec<String> = p
            .series
            .iter()
            .filter(|s| s.errors != 0)
            .map(|s| format!("{} {} ({:?})", s.name, s.errors, s.extra))
            .collect();
        if !failed.is_empty() {
            return Err(format!(
                "net.file_transfer: transfer errors: {}",
                failed.join("; ")
            ));
        }
        points.push(p);
        points.push(cpu);
    }
    Ok(Outcome { points })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn files_arrive_whole_on_every_runtime_and_corruption_is_caught() {
        let set = zbench_suite::workloads::io::TempFiles::new(5, 300_000);
        let sums: Vec<(u64, u64)> = set
            .paths
            .iter()
            .map(|p| {
                let d = std::fs::read(p).unwrap();
                (d.len() as u64, loadgen::checksum(&d))
            })
            .collect();
        let z = Zokio::multi_thread(2);
        let t = Tokio::multi_thread(2);
        let s = zbench_suite::rt::Smol::multi_thread(2);
        for addr in [
            start_files(&z, &set.paths).unwrap(),
            start_files(&t, &set.paths).unwrap(),
            start_files(&s, &set.paths).unwrap(),
        ] {
            let run = |files: Vec<(u64, u64)>| {
                loadgen::run(&LoadConfig {
                    target: addr,
                    protocol: Protocol::Files {
                        files: std::sync::Arc::new(files),
                    },
                    connections: 3,
                    duration: Duration::from_millis(200),
                    mode: Mode::Closed,
                    client_work: Duration::ZERO,
                    threads: 1,
                    cpus: None,
                    request_timeout: loadgen::REQUEST_TIMEOUT,
                })
                .unwrap()
            };
            let ok = run(sums.clone());
            assert!(ok.requests > 0);
            assert_eq!(ok.error_count(), 0, "{:?}", ok.errors);
            assert_eq!(ok.bytes, ok.requests * 300_000);
            // A client expecting other contents reports every file as corrupt.
            let wrong: Vec<(u64, u64)> = sums.iter().map(|&(l, s)| (l, s ^ 1)).collect();
            let bad = run(wrong);
            assert_eq!(bad.requests, 0);
            assert!(
                bad.errors.get("bad checksum").copied().unwrap_or(0) > 0,
                "{:?}",
                bad.errors
            );
        }
    }

    #[test]
    fn idle_connections_are_opened_and_counted_on_every_runtime() {
        struct Idle;
        impl zbench_suite::rt::Visitor for Idle {
            type Output = io::Result<(usize, f64, String)>;
            fn visit<R: Runtime>(self) -> Self::Output {
                let rt = if R::THREAD_PER_CORE {
                    R::current_thread()
                } else {
                    R::multi_thread(2)
                };
                idle_connections(&rt, 300)
            }
        }
        for &name in zbench_suite::rt::NAMES {
            let (n, per, stop) = zbench_suite::rt::dispatch(name, Idle).unwrap().unwrap();
            assert_eq!(n, 300, "{name}: {stop}");
            assert!(per.is_finite());
            assert!(stop.starts_with("cap reached"), "{stop}");
        }
    }

    /// A std-thread echo server that stalls `stall` once, before its `after`-th reply.
    fn stalling_echo(stall: Duration, after: usize) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let replies = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let replies = replies.clone();
                std::thread::spawn(move || {
                    let mut s = stream;
                    let _ = s.set_nodelay(true);
                    let mut buf = [0u8; 64];
                    while s.read_exact(&mut buf).is_ok() {
                        if replies.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == after {
                            std::thread::sleep(stall);
                        }
                        if s.write_all(&buf).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn cfg(target: SocketAddr, mode: Mode) -> LoadConfig {
        LoadConfig {
            target,
            protocol: Protocol::Echo { bytes: 64 },
            connections: 1,
            duration: Duration::from_millis(1500),
            mode,
            client_work: Duration::ZERO,
            threads: 1,
            cpus: None,
            request_timeout: loadgen::REQUEST_TIMEOUT,
        }
    }

    #[test]
    fn the_generator_and_server_cpu_are_measured() {
        let rt = Zokio::multi_thread(1);
        let addr = start_echo(&rt).unwrap();
        let mut c = cfg(addr, Mode::Closed);
        c.duration = Duration::from_millis(300);
        // A generator made slow on purpose: it burns 200 us of CPU per request.
        c.client_work = Duration::from_micros(200);
        let r = loadgen::run(&c).unwrap();
        assert!(r.requests > 0);
        assert!(r.generator_cpu > Duration::ZERO);
        assert!(r.process_cpu >= r.generator_cpu, "{r:?}");
        assert!(Per::Request.of(&r).is_finite());
    }

    #[test]
    fn a_busy_generator_marks_its_point_and_takes_the_verdict_away() {
        let report = |busy: f64| LoadReport {
            requests: 1000,
            errors: Default::default(),
            bytes: 0,
            elapsed: Duration::from_secs(1),
            latency_ns: hdrhistogram::Histogram::new(3).unwrap(),
            generator_cpu: Duration::from_secs_f64(busy),
            generator_threads: 1,
            generator_placement: Vec::new(),
            process_cpu: Duration::from_secs_f64(busy + 0.5),
            counted: Default::default(),
        };
        let bound = series_of("zokio", vec![report(0.95)]);
        assert!(bound
            .no_verdict
            .as_deref()
            .unwrap()
            .starts_with("generator-bound"));
        let free = series_of("tokio", vec![report(0.5)]);
        assert_eq!(free.no_verdict, None);
        let extra = |s: &Series, k: &str| s.extra.iter().find(|e| e.0 == k).unwrap().1;
        assert_eq!(extra(&free, "generator_cpu_percent"), 50.0);
        // 0.5 s of server CPU over 1,000 requests.
        assert!((Per::Request.of(&report(0.5)) - 500.0).abs() < 1e-6);
        // Two generator threads each busy half the time are not the bottleneck.
        let two = LoadReport {
            generator_threads: 2,
            ..report(1.0)
        };
        assert!(!two.generator_bound());
    }

    #[test]
    fn a_stall_shows_in_open_loop_p99_and_not_in_closed_loop() {
        // Closed loop: the stall delays one request out of thousands.
        let closed = loadgen::run(&cfg(
            stalling_echo(Duration::from_millis(200), 50),
            Mode::Closed,
        ))
        .unwrap();
        assert!(closed.requests > 200, "{}", closed.requests);
        assert_eq!(closed.error_count(), 0);
        let closed_p99 = closed.latency_ns.value_at_quantile(0.99);
        // Open loop at 1,000 requests/s: the ~200 requests due during the stall all count
        // the wait (more than 1% of the run).
        let open = loadgen::run(&cfg(
            stalling_echo(Duration::from_millis(200), 50),
            Mode::Open { rate: 1000.0 },
        ))
        .unwrap();
        let open_p99 = open.latency_ns.value_at_quantile(0.99);
        assert!(
            open_p99 >= 100_000_000,
            "open-loop p99 {open_p99} ns misses the stall"
        );
        assert!(closed_p99 < 100_000_000, "closed-loop p99 {closed_p99} ns");
        assert!(
            closed.latency_ns.max() >= 200_000_000,
            "the stalled request itself is seen"
        );
    }

    #[test]
    fn a_refused_connection_is_a_clear_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = loadgen::run(&cfg(port, Mode::Closed)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(
            err.to_string().contains("cannot connect to 127.0.0.1"),
            "{err}"
        );
    }

    /// The HTTP server answers on every runtime with hyper, as each serves (two shared
    /// workers, or two thread-per-core runtimes sharing the port).
    #[test]
    fn http_servers_answer_on_every_runtime() {
        struct HttpRun;
        impl zbench_suite::rt::Visitor for HttpRun {
            type Output = LoadReport;
            fn visit<R: Runtime>(self) -> LoadReport {
                let server = Http(Bytes::from_static(HELLO));
                let (_serving, addr) =
                    start_server::<R, _>(2, &RunOptions::default(), &server, LOCALHOST).unwrap();
                loadgen::run(&LoadConfig::new(
                    addr,
                    Protocol::Http {
                        path: "/",
                        body_len: HELLO.len(),
                    },
                    4,
                    Duration::from_millis(200),
                ))
                .unwrap()
            }
        }
        for name in zbench_suite::rt::NAMES {
            let info = zbench_suite::rt::info(name).unwrap();
            assert_eq!(
                info.lacks(&[Cap::Hyper]),
                None,
                "{name} has no hyper server"
            );
            let r = zbench_suite::rt::dispatch(name, HttpRun).unwrap();
            assert!(r.requests > 0, "{name}: {:?}", r.errors);
            assert_eq!(r.error_count(), 0, "{name}: {:?}", r.errors);
        }
    }

    #[test]
    fn a_wrong_body_is_counted_as_an_error() {
        let z = Zokio::multi_thread(2);
        let addr = start_http(&z, Bytes::from_static(b"short")).unwrap();
        let r = loadgen::run(&LoadConfig {
            target: addr,
            protocol: Protocol::Http {
                path: "/",
                body_len: HELLO.len(),
            },
            connections: 2,
            duration: Duration::from_millis(100),
            mode: Mode::Closed,
            client_work: Duration::ZERO,
            threads: 1,
            cpus: None,
            request_timeout: loadgen::REQUEST_TIMEOUT,
        })
        .unwrap();
        assert_eq!(r.requests, 0);
        assert!(
            r.errors.get("bad body").copied().unwrap_or(0) > 0,
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn a_server_that_never_answers_ends_the_run_with_timeouts() {
        // Accepts (the kernel does, from the backlog) and never reads or writes.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let started = std::time::Instant::now();
        let r = loadgen::run(&LoadConfig {
            request_timeout: Duration::from_millis(300),
            ..LoadConfig::new(
                addr,
                Protocol::Echo { bytes: 64 },
                2,
                Duration::from_millis(100),
            )
        })
        .unwrap();
        assert_eq!(r.requests, 0);
        assert!(
            r.errors.get("TimedOut").copied().unwrap_or(0) >= 2,
            "{:?}",
            r.errors
        );
        // Bounded by the timeout, not by the server: generous, since this checks an end,
        // not a speed.
        assert!(started.elapsed() < Duration::from_secs(60));
        drop(silent);
        let series = series_of("zokio", vec![r]);
        assert!(
            series
                .no_verdict
                .as_deref()
                .is_some_and(|v| v.contains("stopped answering")),
            "{:?}",
            series.no_verdict
        );
    }

    #[test]
    fn connect_echo_counts_connections() {
        let t = Tokio::multi_thread(2);
        let addr = start_echo(&t).unwrap();
        let r = loadgen::run(&LoadConfig {
            target: addr,
            protocol: Protocol::ConnectEcho { bytes: 64 },
            connections: 4,
            duration: Duration::from_millis(200),
            mode: Mode::Closed,
            client_work: Duration::ZERO,
            threads: 1,
            cpus: None,
            request_timeout: loadgen::REQUEST_TIMEOUT,
        })
        .unwrap();
        assert!(r.requests > 0);
        assert_eq!(r.error_count(), 0, "{:?}", r.errors);
        assert_eq!(r.bytes, r.requests * 128);
    }

    /// An echo server on a 1-worker zokio runtime that burns `work` of CPU on each
    /// connection before echoing: it cannot accept more than 1 / `work` connections/s.
    fn slowed_echo(rt: &Zokio, work: Duration) -> SocketAddr {
        let listener = rt
            .block_on(<Zokio as Runtime>::TcpListener::bind(SocketAddr::from((
                [127, 0, 0, 1],
                0,
            ))))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        drop(rt.spawn(async move {
            while let Ok(mut stream) = AsyncTcpListener::accept(&listener).await {
                drop(Zokio::spawn_local(async move {
                    let spin = std::time::Instant::now();
                    while spin.elapsed() < work {
                        std::hint::spin_loop();
                    }
                    let (r, b) = AsyncTcpStream::read(&mut stream, vec![0u8; 64], 0..64).await;
                    if let Ok(n @ 1..) = r {
                        let _ = AsyncTcpStream::write_all(&mut stream, b, 0..n).await;
                    }
                }));
            }
        }));
        addr
    }

    #[test]
    fn a_slowed_server_lowers_connections_per_second() {
        let run = |addr| {
            loadgen::run(&LoadConfig::new(
                addr,
                Protocol::ConnectEcho { bytes: 64 },
                CONNECTORS,
                Duration::from_millis(600),
            ))
            .unwrap()
        };
        let fast_rt = Zokio::multi_thread(1);
        let fast = run(start_echo(&fast_rt).unwrap());
        drop(fast_rt);
        let slow_rt = Zokio::multi_thread(1);
        let slow = run(slowed_echo(&slow_rt, Duration::from_millis(2)));
        // One worker spinning 2 ms per connection serves at most 500 connections/s (plus
        // the connections already accepted when the clock stopped).
        assert!(slow.requests > 0, "{:?}", slow.errors);
        assert!(
            slow.rate() <= 600.0,
            "slowed server: {} conn/s",
            slow.rate()
        );
        assert!(
            fast.rate() > slow.rate(),
            "{} vs {}",
            fast.rate(),
            slow.rate()
        );
        assert_eq!(fast.error_count(), 0, "{:?}", fast.errors);
    }

    #[test]
    fn pinned_threads_run_where_the_placement_says() {
        use zbench_suite::placement::NetOptions;
        let pin = NetOptions {
            client_threads: None,
            pin: true,
        };
        let Ok(p) = pin.placement(2) else {
            eprintln!("skipped: --pin needs 2 CPUs");
            return;
        };
        let options = RunOptions {
            cpus: p.server_cpus,
            ..RunOptions::default()
        };
        let params = placement_params(&p);
        let param = |k: &str| params.iter().find(|x| x.0 == k).unwrap().1.clone();
        let server = p.server_cpus.unwrap().to_string();
        assert_eq!(param("server_cpus"), server.as_str());
        // Where the server's workers run, as its own tasks see it.
        fn seen_by_tasks<R: Runtime>(rt: &R) -> Vec<String> {
            rt.run(async {
                let tasks: Vec<_> = (0..16)
                    .map(|_| {
                        R::spawn_local(async { Cpus::of_current_thread().unwrap().to_string() })
                    })
                    .collect();
                let mut seen = Vec::new();
                for t in tasks {
                    seen.push(t.await);
                }
                seen
            })
        }
        let zokio = Zokio::multi_thread_with(p.server_workers, &options);
        let tokio = Tokio::multi_thread_with(p.server_workers, &options);
        for (seen, addr) in [
            (seen_by_tasks(&zokio), start_echo(&zokio).unwrap()),
            (seen_by_tasks(&tokio), start_echo(&tokio).unwrap()),
        ] {
            assert!(seen.iter().all(|cpus| *cpus == server), "{seen:?}");
            let mut cfg = LoadConfig::new(
                addr,
                Protocol::Echo { bytes: 64 },
                4,
                Duration::from_millis(100),
            );
            cfg.threads = p.generator_threads;
            cfg.cpus = p.generator_cpus;
            let r = loadgen::run(&cfg).unwrap();
            assert!(r.requests > 0);
            let generator: Vec<String> = p
                .generator_cpus
                .unwrap()
                .ids()
                .iter()
                .cycle()
                .take(r.generator_threads)
                .map(|c| c.to_string())
                .collect();
            assert_eq!(r.generator_placement, generator);
            assert_eq!(
                param("generator_cpus"),
                p.generator_cpus.unwrap().to_string().as_str()
            );
        }
    }

    /// The echo server runs on every registered runtime as that runtime serves (two
    /// shared workers, or two thread-per-core runtimes sharing the port), and stops when
    /// dropped.
    #[test]
    fn echo_servers_answer_on_every_runtime_and_stop_when_dropped() {
        struct EchoRun;
        impl zbench_suite::rt::Visitor for EchoRun {
            type Output = (LoadReport, bool);
            fn visit<R: Runtime>(self) -> (LoadReport, bool) {
                let (serving, addr) =
                    start_server::<R, _>(2, &RunOptions::default(), &Echo, LOCALHOST).unwrap();
                let r = loadgen::run(&LoadConfig::new(
                    addr,
                    Protocol::ConnectEcho { bytes: 64 },
                    4,
                    Duration::from_millis(150),
                ))
                .unwrap();
                drop(serving);
                let refused = std::net::TcpStream::connect(addr).is_err();
                (r, refused)
            }
        }
        for name in zbench_suite::rt::NAMES {
            let (r, refused) = zbench_suite::rt::dispatch(name, EchoRun).unwrap();
            assert!(r.requests > 0, "{name}: {:?}", r.errors);
            assert_eq!(r.error_count(), 0, "{name}: {:?}", r.errors);
            assert!(
                refused,
                "{name}: the server still listens after it was dropped"
            );
        }
    }

    /// Open loop sends every request due before the deadline, each connection on its
    /// schedule, however late the responses (here: 2,000 requests/s for 0.5 s over 4
    /// connections on 2 generator threads sharing a pacer each: 1,000 requests).
    #[test]
    fn open_loop_sends_every_due_request() {
        let rt = Zokio::multi_thread(1);
        let addr = start_echo(&rt).unwrap();
        let mut c = LoadConfig::new(
            addr,
            Protocol::Echo { bytes: 64 },
            4,
            Duration::from_millis(500),
        );
        c.mode = Mode::Open { rate: 2000.0 };
        c.threads = 2;
        let r = loadgen::run(&c).unwrap();
        assert_eq!(r.error_count(), 0, "{:?}", r.errors);
        assert_eq!(r.requests, 1000);
    }

    #[test]
    fn open_loop_rates_served_by_everyone_carry_no_verdict() {
        let point = |rates: [f64; 2]| Point {
            series: vec![
                Series::new("zokio", vec![rates[0]; 3]),
                Series::new("tokio", vec![rates[1]; 3]),
            ],
            ..Point::default()
        };
        let mut all = point([999.5, 1000.0]);
        served_as_offered(&mut all, 1000.0);
        assert!(all.series.iter().all(|s| s
            .no_verdict
            .as_deref()
            .is_some_and(|w| w.starts_with("open loop"))));
        // One runtime fell behind: the rates differ for a reason.
        let mut behind = point([800.0, 1000.0]);
        served_as_offered(&mut behind, 1000.0);
        assert!(behind.series.iter().all(|s| s.no_verdict.is_none()));
    }
}
