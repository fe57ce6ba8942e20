//! The built-in load generator: the same code whatever runtime serves. `threads`
//! generator threads (as `wrk -t`), each with its own event loop (a Tokio current-thread
//! runtime) and its share of the connections (connection `c` on thread `c % threads`),
//! optionally each pinned to one CPU. A request is lean: a kept-alive HTTP/1.1 connection
//! sends a request built once and parses the response incrementally with `httparse`, as
//! wrk does; no client stack.
//!
//! - **Closed loop**: each connection sends a request, waits for the response, sends the
//!   next; latency is measured from the send. This is what most benchmarks report, and it
//!   hides server stalls: while the server stalls, nobody sends (coordinated omission).
//! - **Open loop**: requests are due at a constant total rate, spread evenly over the
//!   connections; each connection sends a request at its due time (or at once, if the
//!   previous response came late) and latency is measured from the *due* time, so time a
//!   request spent waiting to be sent counts (the correction of wrk2). Due times are kept
//!   by a `timerfd` per connection (nanosecond resolution; Tokio's timer ticks in
//!   milliseconds).
//!
//! Latencies go into an hdrhistogram (ns, 3 significant digits). Errors are counted by kind
//! (the `io::ErrorKind`, `bad status`, `bad body`, ...), and a connection that fails is
//! replaced by a new one. A request unanswered after [`LoadConfig::request_timeout`] is a
//! `TimedOut` error, so a stalled server cannot hold a run past its duration by more than
//! that. Every connection is made before the clock starts, and an echo or HTTP
//! connection also makes one exchange then (not recorded), so the measured phase holds
//! no accepts and no first requests; the target is probed first, so an unreachable target or a refused connection fails the run with the
//! OS error (a usage error, not a measurement).
//!
//! In a run that counts (`zbench --measure instructions|allocations`) the generator's
//! threads are left out of the count ([`zbench_suite::measure::uncounted`]), so the count
//! of the measured phase is the rest of the process's: the server's.
//!
//! The generator's CPU time is each generator thread's own (`RUSAGE_THREAD`) over the
//! measured phase, so a run knows whether the generator, not the server, was the limit.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zbench_suite::placement::Cpus;

/// What one request is.
#[derive(Debug, Clone)]
pub enum Protocol {
    /// Write `bytes` bytes on a kept-alive connection, read them back, compare.
    Echo {
        /// Request size.
        bytes: usize,
    },
    /// Connect, write `bytes` bytes, read them back, close: one connection per request.
    ConnectEcho {
        /// Request size.
        bytes: usize,
    },
    /// Fetch files over a kept-alive connection: send a file's index (u32, little endian),
    /// read its length (u64, little endian) and contents, and check both against `files`
    /// (length, [`checksum`]); connection `c` asks for files `c, c + connections, ...`.
    Files {
        /// Each file's length and checksum, by index.
        files: std::sync::Arc<Vec<(u64, u64)>>,
    },
    /// `GET path` over HTTP/1.1 keep-alive; the response must be 200 with a
    /// `Content-Length` body of `body_len` bytes.
    Http {
        /// Request path.
        path: &'static str,
        /// Expected body length.
        body_len: usize,
    },
}

/// Closed or open loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// As fast as responses come back.
    Closed,
    /// A constant total rate, in requests per second.
    Open {
        /// Requests per second over all connections.
        rate: f64,
    },
}

/// One load run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Where the server listens.
    pub target: SocketAddr,
    /// The request.
    pub protocol: Protocol,
    /// Concurrent connections (for `ConnectEcho`: concurrent connectors).
    pub connections: usize,
    /// How long to send.
    pub duration: Duration,
    /// Closed or open loop.
    pub mode: Mode,
    /// CPU time the generator burns per request before sending it: zero in every
    /// workload; tests use it to make the generator the bottleneck on purpose.
    pub client_work: Duration,
    /// Generator threads (at most `connections` are used: each needs a connection).
    pub threads: usize,
    /// The CPUs generator thread `t` is pinned to: the `t`-th of these, in turn (`None`:
    /// not pinned).
    pub cpus: Option<Cpus>,
    /// How long one request (with its connect, for `ConnectEcho`) may take before it is
    /// given up, counted as a `TimedOut` error and its connection made anew; default
    /// [`REQUEST_TIMEOUT`]. A server that stops answering then ends the run on time with
    /// errors instead of holding it forever.
    pub request_timeout: Duration,
}

/// The default [`LoadConfig::request_timeout`]: 10 s, long enough that only a server that
/// stopped answering reaches it (a loopback response under overload takes milliseconds).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

impl LoadConfig {
    /// A closed-loop run of `protocol` against `target` for `duration`, on one
    /// unpinned generator thread with `connections` connections.
    pub fn new(
        target: SocketAddr,
        protocol: Protocol,
        connections: usize,
        duration: Duration,
    ) -> Self {
        LoadConfig {
            target,
            protocol,
            connections,
            duration,
            mode: Mode::Closed,
            client_work: Duration::ZERO,
            threads: 1,
            cpus: None,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// The share of the CPU time its threads had (CPU time / (elapsed x threads)) from which
/// a generator counts as the bottleneck of a run: its figure then says nothing about the
/// server.
pub const GENERATOR_BOUND: f64 = 0.9;

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Requests answered correctly.
    pub requests: u64,
    /// Failed requests and connections, by kind.
    pub errors: BTreeMap<String, u64>,
    /// Bytes sent plus bytes received in correct exchanges (HTTP: bodies only).
    pub bytes: u64,
    /// Time from the first send to the end.
    pub elapsed: Duration,
    /// Latency of correct requests, in ns (open loop: from the due time).
    pub latency_ns: Histogram<u64>,
    /// CPU time of the generator's threads over the measured phase, summed.
    pub generator_cpu: Duration,
    /// Generator threads that ran.
    pub generator_threads: usize,
    /// The CPUs each generator thread could run on while it measured (its affinity mask,
    /// read back from the kernel after pinning), in thread order.
    pub generator_placement: Vec<String>,
    /// CPU time of the whole process over the measured phase: the generator's plus every
    /// other thread's (the server's workers and blocking pool; the other runtimes of a
    /// zbench run sit idle meanwhile).
    pub process_cpu: Duration,
    /// In a run that counts (`zbench --measure`), what the rest of the process did over
    /// the measured phase: the server's instructions or allocations (and bytes allocated
    /// in `counted.bytes`), the generator's threads left out
    /// ([`zbench_suite::measure::uncounted`]). All zero in a wall-clock run.
    pub counted: Counted,
}

/// A load run's count of instructions or allocations (see [`LoadReport::counted`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// Instructions or allocations.
    pub count: u64,
    /// Bytes those allocations asked for (allocation runs only).
    pub bytes: u64,
}

impl LoadReport {
    /// Correct requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Megabytes (10^6 bytes) moved per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64()
    }

    /// All errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The share of the CPU time its threads had that the generator used (1.0: every
    /// generator thread was on a CPU all the time).
    pub fn generator_busy(&self) -> f64 {
        self.generator_cpu.as_secs_f64()
            / (self.elapsed.as_secs_f64() * self.generator_threads.max(1) as f64)
    }

    /// Whether the generator was busy at least [`GENERATOR_BOUND`] of the time, and so
    /// bounded the figure.
    pub fn generator_bound(&self) -> bool {
        self.generator_busy() >= GENERATOR_BOUND
    }

    /// Adds `other`'s counts, errors, latencies, CPU and elapsed time to these.
    pub fn merge(&mut self, other: LoadReport) {
        self.elapsed += other.elapsed;
        self.generator_threads = self.generator_threads.max(other.generator_threads);
        if self.generator_placement.is_empty() {
            self.generator_placement = other.generator_placement;
        }
        self.generator_cpu += other.generator_cpu;
        self.process_cpu += other.process_cpu;
        self.counted.count += other.counted.count;
        self.counted.bytes += other.counted.bytes;
        self.requests += other.requests;
        self.bytes += other.bytes;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.latency_ns
            .add(&other.latency_ns)
            .expect("histograms of the same bounds");
    }
}

/// An empty report.
fn empty_report() -> LoadReport {
    LoadReport {
        requests: 0,
        errors: BTreeMap::new(),
        bytes: 0,
        elapsed: Duration::ZERO,
        latency_ns: histogram(),
        generator_cpu: Duration::ZERO,
        generator_threads: 0,
        generator_placement: Vec::new(),
        process_cpu: Duration::ZERO,
        counted: Counted::default(),
    }
}

/// CPU time (user + system) of the calling thread (`RUSAGE_THREAD`) or of the whole
/// process (`RUSAGE_SELF`).
fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: getrusage writes the `rusage` we own; an all-zero rusage is a valid value.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut u) != 0 {
            return Duration::ZERO;
        }
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

use zbench_suite::workloads::latency_histogram as histogram;

fn kind(e: &io::Error) -> String {
    format!("{:?}", e.kind())
}

/// A fast 64-bit checksum of `data` (word-wise multiply-rotate; any changed, lost or moved
/// byte changes it with overwhelming probability).
pub fn checksum(data: &[u8]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ data.len() as u64;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h.rotate_left(23) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(23) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    h
}

/// Sleeps until a due time with nanosecond resolution: a `timerfd` (`CLOCK_MONOTONIC`,
/// the clock of `Instant`) armed for each wait and read through the event loop.
struct Pacer(AsyncFd<std::os::fd::OwnedFd>);

impl Pacer {
    fn new() -> io::Result<Pacer> {
        use rustix::time::{timerfd_create, TimerfdClockId, TimerfdFlags};
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // SAFETY: `fd` is an open timerfd owned by the `AsyncFd` from here on; an `OwnedFd`
        // always reports that same descriptor and closes it only when dropped with it.
        let fd = unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(Pacer(fd))
    }

    /// Returns at `due` (at once if it has passed).
    async fn until(&self, due: Instant) -> io::Result<()> {
        use rustix::time::{timerfd_settime, Itimerspec, TimerfdTimerFlags, Timespec};
        let Some(wait) = due
            .checked_duration_since(Instant::now())
            .filter(|w| !w.is_zero())
        else {
            return Ok(());
        };
        let value = Timespec::try_from(wait).map_err(|_| io::Error::other("wait too long"))?;
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        timerfd_settime(
            self.0.get_ref(),
            TimerfdTimerFlags::empty(),
            &Itimerspec {
                it_interval: zero,
                it_value: value,
            },
        )?;
        loop {
            let mut ready = self.0.readable().await?;
            let mut expirations = [0u8; 8];
            let read = rustix::io::read(self.0.get_ref(), &mut expirations);
            // Read or not, the timer is readable again only once armed and fired again:
            // clearing now saves the next wait a read that would fail with EAGAIN.
            ready.clear_ready();
            match read {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The source address connector `connector` binds its new connections to when the target
/// is on 127.0.0.0/8: a connection closed by the client leaves its port in TIME_WAIT, and
/// on one source address the ephemeral port range (28,232 ports by default) then caps the
/// connect rate at about the range over the TIME_WAIT reuse delay, whatever the server.
/// Each address of 127.0.0.0/8 has its own range. `None` elsewhere: the kernel picks, as
/// for any client.
fn source_for(target: SocketAddr, connector: usize) -> Option<std::net::IpAddr> {
    match target.ip() {
        std::net::IpAddr::V4(ip) if ip.is_loopback() => {
            Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                127,
                0,
                (1 + connector / 250) as u8,
                (2 + connector % 250) as u8,
            )))
        }
        _ => None,
    }
}

/// Connects to `target` from `source` (any port), or from wherever the kernel picks, with
/// Nagle's algorithm off.
async fn connect_from(
    target: SocketAddr,
    source: Option<std::net::IpAddr>,
) -> io::Result<tokio::net::TcpStream> {
    let s = match source {
        None => tokio::net::TcpStream::connect(target).await?,
        Some(ip) => {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(target).await?
        }
    };
    s.set_nodelay(true)?;
    Ok(s)
}

/// One connection of the generator and what it reuses from request to request.
struct Conn {
    /// The kept-alive stream (`None`: to be made before the next request; always `None`
    /// for `ConnectEcho`, which connects per request).
    stream: Option<tokio::net::TcpStream>,
    /// This connection's number among all the run's connections.
    index: usize,
    /// The request's bytes: the echo payload, or the HTTP request built once.
    request: Vec<u8>,
    /// Where responses are read: the echo reply, a file's bytes, or an HTTP response
    /// (which may hold the start of the next one).
    buf: Vec<u8>,
    /// The next file to ask for (`Files`).
    next_file: usize,
}

impl Conn {
    fn new(cfg: &LoadConfig, index: usize) -> Conn {
        let request = match &cfg.protocol {
            Protocol::Echo { bytes } | Protocol::ConnectEcho { bytes } => {
                (0..*bytes).map(|i| (i * 7 + index) as u8).collect()
            }
            Protocol::Http { path, .. } => {
                format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", cfg.target).into_bytes()
            }
            Protocol::Files { .. } => Vec::new(),
        };
        Conn {
            stream: None,
            index,
            request,
            buf: Vec::with_capacity(4096),
            next_file: index,
        }
    }

    /// One request (connecting first if the connection is to be made). Bytes moved, or
    /// the error kind; after an error the connection is made anew for the next request.
    async fn exchange(&mut self, cfg: &LoadConfig) -> Result<u64, String> {
        let r = tokio::time::timeout(cfg.request_timeout, self.try_exchange(cfg))
            .await
            .unwrap_or_else(|_| Err(kind(&io::ErrorKind::TimedOut.into())));
        if r.is_err() {
            self.stream = None;
            self.buf.clear();
        }
        r
    }

    async fn try_exchange(&mut self, cfg: &LoadConfig) -> Result<u64, String> {
        if let Protocol::ConnectEcho { .. } = cfg.protocol {
            let source = source_for(cfg.target, self.index);
            let mut s = connect_from(cfg.target, source)
                .await
                .map_err(|e| kind(&e))?;
            return echo(&mut s, &self.request, &mut self.buf).await;
        }
        if self.stream.is_none() {
            self.stream = Some(connect_from(cfg.target, None).await.map_err(|e| kind(&e))?);
        }
        let s = self.stream.as_mut().expect("connected above");
        match &cfg.protocol {
            Protocol::Echo { .. } => echo(s, &self.request, &mut self.buf).await,
            Protocol::Files { files } => {
                let index = self.next_file % files.len();
                self.next_file += cfg.connections;
                let (len, sum) = files[index];
                s.write_all(&(index as u32).to_le_bytes())
                    .await
                    .map_err(|e| kind(&e))?;
                let mut header = [0u8; 8];
                s.read_exact(&mut header).await.map_err(|e| kind(&e))?;
                if u64::from_le_bytes(header) != len {
                    return Err("bad length".to_owned());
                }
                self.buf.resize(len as usize, 0);
                s.read_exact(&mut self.buf).await.map_err(|e| kind(&e))?;
                if checksum(&self.buf) != sum {
                    return Err("bad checksum".to_owned());
                }
                Ok(len)
            }
            Protocol::Http { body_len, .. } => {
                s.write_all(&self.request).await.map_err(|e| kind(&e))?;
                http_response(s, &mut self.buf, *body_len).await
            }
            Protocol::ConnectEcho { .. } => unreachable!("handled above"),
        }
    }
}

/// Writes `data`, reads as many bytes back into `back` and checks them.
async fn echo(
    s: &mut tokio::net::TcpStream,
    data: &[u8],
    back: &mut Vec<u8>,
) -> Result<u64, String> {
    back.resize(data.len(), 0);
    s.write_all(data).await.map_err(|e| kind(&e))?;
    s.read_exact(back).await.map_err(|e| kind(&e))?;
    if back != data {
        return Err("bad body".into());
    }
    Ok(2 * data.len() as u64)
}

/// Reads one HTTP/1.1 response from `s` into `buf` (which may already hold its start),
/// checks a 200 status and a `Content-Length` body of `body_len` bytes, and leaves in
/// `buf` whatever followed it. The body's length, or the error.
async fn http_response(
    s: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    body_len: usize,
) -> Result<u64, String> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(buf) {
            Ok(httparse::Status::Complete(head)) => {
                if response.code != Some(200) {
                    return Err("bad status".to_owned());
                }
                let len = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .ok_or_else(|| "no content-length".to_owned())?;
                while buf.len() < head + len {
                    read_more(s, buf).await?;
                }
                buf.drain(..head + len);
                if len != body_len {
                    return Err("bad body".to_owned());
                }
                return Ok(len as u64);
            }
            Ok(httparse::Status::Partial) => read_more(s, buf).await?,
            Err(e) => return Err(format!("http: {e}")),
        }
    }
}

/// Appends what `s` has to `buf`; end of stream is an error (`UnexpectedEof`).
async fn read_more(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    buf.reserve(4096);
    match s.read_buf(buf).await {
        Ok(0) => Err(kind(&io::ErrorKind::UnexpectedEof.into())),
        Ok(_) => Ok(()),
        Err(e) => Err(kind(&e)),
    }
}

/// Runs one load run on `cfg.threads` generator threads and waits for them.
///
/// # Errors
/// The target could not be reached (unreachable, refused: the OS error, naming the
/// target), `threads` is 0, or a generator thread or its runtime could not start.
pub fn run(cfg: &LoadConfig) -> io::Result<LoadReport> {
    if cfg.threads == 0 || cfg.connections == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a load run needs at least one generator thread and one connection",
        ));
    }
    // Prove the target is there before measuring: a clear error, not a run of errors.
    std::net::TcpStream::connect_timeout(&cfg.target, Duration::from_secs(5))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {}: {e}", cfg.target)))?;
    let threads = cfg.threads.min(cfg.connections);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
    let mut starts = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let (start_tx, start_rx) = std::sync::mpsc::channel::<Option<Instant>>();
        let (cfg, ready) = (cfg.clone(), ready_tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("zbench-loadgen-{t}"))
            // Left out of a count: it measures the server in this process, not itself.
            .spawn(move || {
                zbench_suite::measure::uncounted(|| {
                    generator_thread(&cfg, t, threads, &ready, &start_rx)
                })
            });
        match spawned {
            Ok(h) => {
                starts.push(start_tx);
                handles.push(h);
            }
            Err(e) => {
                // Let the started ones go, then report.
                drop(starts);
                handles.into_iter().for_each(|h| drop(h.join()));
                return Err(e);
            }
        }
    }
    drop(ready_tx);
    // Every thread has made its connections (or failed to start) before the clock starts.
    let mut failed = None;
    for _ in 0..threads {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some(io::Error::other("a load generator thread died")),
        }
    }
    let meter = zbench_suite::measure::Meter::start();
    let start = Instant::now();
    let process_at_start = cpu_time(libc::RUSAGE_SELF);
    for s in &starts {
        // A thread that failed is gone already; the others get `None` to stop.
        let _ = s.send(if failed.is_none() { Some(start) } else { None });
    }
    let mut total = empty_report();
    let mut placement = Vec::new();
    let mut ended = start;
    for h in handles {
        let r = h
            .join()
            .map_err(|_| io::Error::other("load generator thread panicked"))?;
        if let Some((report, end)) = r {
            placement.extend(report.generator_placement.iter().cloned());
            ended = ended.max(end);
            total.merge(report);
        }
    }
    let cost = meter.stop();
    if let Some(e) = failed {
        return Err(e);
    }
    total.counted = Counted {
        count: cost.count,
        bytes: cost.bytes,
    };
    total.elapsed = ended - start;
    total.process_cpu = cpu_time(libc::RUSAGE_SELF).saturating_sub(process_at_start);
    total.generator_threads = threads;
    total.generator_placement = placement;
    Ok(total)
}

/// Generator thread `t` of `threads`: pins itself, makes its connections, says it is
/// ready, waits for the start, drives its connections until the deadline. Its report and
/// when it ended; `None` if it could not start or was told to stop.
fn generator_thread(
    cfg: &LoadConfig,
    t: usize,
    threads: usize,
    ready: &std::sync::mpsc::Sender<io::Result<()>>,
    start: &std::sync::mpsc::Receiver<Option<Instant>>,
) -> Option<(LoadReport, Instant)> {
    let setup = || -> io::Result<(tokio::runtime::Runtime, String)> {
        if let Some(cpus) = cfg.cpus {
            let ids = cpus.ids();
            if let Some(&cpu) = ids.get(t % ids.len().max(1)) {
                Cpus::of(&[cpu]).pin_current_thread()?;
            }
        }
        let placed = Cpus::of_current_thread()?.to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok((rt, placed))
    };
    let (rt, placed) = match setup() {
        Ok(x) => x,
        Err(e) => {
            let _ = ready.send(Err(e));
            return None;
        }
    };
    let mut connect_errors = BTreeMap::new();
    let conns: Vec<Conn> = rt.block_on(async {
        let mut conns = Vec::new();
        for index in (t..cfg.connections).step_by(threads) {
            let mut conn = Conn::new(cfg, index);
            if !matches!(cfg.protocol, Protocol::ConnectEcho { .. }) {
                // A connection that fails here is counted and made again by its task.
                match connect_from(cfg.target, None).await {
                    Ok(s) => conn.stream = Some(s),
                    Err(e) => *connect_errors.entry(kind(&e)).or_insert(0u64) += 1,
                }
            }
            if conn.stream.is_some()
                && matches!(cfg.protocol, Protocol::Echo { .. } | Protocol::Http { .. })
            {
                // One exchange before the clock starts, not recorded: the server has
                // accepted and served the connection once, so the measured phase holds
                // no accepts and no first requests (a count per request would otherwise
                // swing with how many of them fell inside it).
                if let Err(e) = conn.exchange(cfg).await {
                    *connect_errors.entry(e).or_insert(0u64) += 1;
                }
            }
            conns.push(conn);
        }
        conns
    });
    let _ = ready.send(Ok(()));
    let start = start.recv().ok().flatten()?;
    let cpu_at_start = cpu_time(libc::RUSAGE_THREAD);
    let mut report = rt.block_on(async {
        let tasks: Vec<_> = conns
            .into_iter()
            .map(|conn| tokio::spawn(drive(cfg.clone(), conn, start)))
            .collect();
        let mut total = empty_report();
        for task in tasks {
            match task.await {
                Ok(r) => total.merge(r),
                Err(e) => *total.errors.entry(format!("task: {e}")).or_default() += 1,
            }
        }
        total
    });
    let ended = Instant::now();
    report.generator_cpu = cpu_time(libc::RUSAGE_THREAD).saturating_sub(cpu_at_start);
    report.generator_placement = vec![placed];
    for (k, v) in connect_errors {
        *report.errors.entry(k).or_default() += v;
    }
    Some((report, ended))
}
/// Drives one connection from `start` until the run's deadline: closed loop, or open loop
/// with its requests due every `connections / rate` seconds, offset so the connections'
/// due times interleave evenly.
async fn drive(cfg: LoadConfig, mut conn: Conn, start: Instant) -> LoadReport {
    let mut report = empty_report();
    let deadline = start + cfg.duration;
    let interval = match cfg.mode {
        Mode::Open { rate } => Some(Duration::from_secs_f64(cfg.connections as f64 / rate)),
        Mode::Closed => None,
    };
    let pacer = match interval.map(|_| Pacer::new()).transpose() {
        Ok(p) => p,
        Err(e) => {
            *report
                .errors
                .entry(format!("timerfd: {}", kind(&e)))
                .or_default() += 1;
            return report;
        }
    };
    let mut due = start
        + interval.map_or(Duration::ZERO, |i| {
            i.mul_f64(conn.index as f64 / cfg.connections as f64)
        });
    loop {
        if let Some(pacer) = &pacer {
            if due >= deadline {
                break;
            }
            if let Err(e) = pacer.until(due).await {
                *report
                    .errors
                    .entry(format!("timerfd: {}", kind(&e)))
                    .or_default() += 1;
                break;
            }
        } else if Instant::now() >= deadline {
            break;
        }
        // Latency counts from the due time (the coordinated-omission correction): a
        // request sent late because the previous response came late waited that long.
        let sent = match interval {
            Some(_) => due.min(Instant::now()),
            None => Instant::now(),
        };
        if !cfg.client_work.is_zero() {
            let spin = Instant::now();
            while spin.elapsed() < cfg.client_work {
                std::hint::spin_loop();
            }
        }
        match conn.exchange(&cfg).await {
            Ok(b) => {
                let ns = sent.elapsed().as_nanos().clamp(1, 60_000_000_000) as u64;
                report.latency_ns.record(ns).expect("within bounds");
                report.requests += 1;
                report.bytes += b;
            }
            Err(k) => {
                *report.errors.entry(k).or_default() += 1;
                if conn.stream.is_none() && !matches!(cfg.protocol, Protocol::ConnectEcho { .. }) {
                    // Do not spin on a dead server.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        if let Some(i) = interval {
            due += i;
        }
    }
    report
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_connectors_spread_over_source_addresses() {
        let target: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let sources: Vec<_> = (0..16).map(|c| source_for(target, c).unwrap()).collect();
        let mut distinct = sources.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 16);
        assert!(sources.iter().all(|ip| ip.is_loopback()));
        assert_eq!(source_for("10.0.0.1:80".parse().unwrap(), 3), None);
    }

    #[test]
    fn a_connection_comes_from_its_source_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap();
        let source = source_for(target, 5);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt.block_on(connect_from(target, source)).unwrap();
        let (_, peer) = listener.accept().unwrap();
        assert_eq!(Some(peer.ip()), source);
        assert_eq!(client.local_addr().unwrap(), peer);
    }
}
