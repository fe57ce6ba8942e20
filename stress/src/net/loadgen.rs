//! The built-in load generator: the same code whatever runtime serves, on its own thread
//! with its own Tokio current-thread runtime (one client thread, like `wrk -t1`).
//!
//! - **Closed loop**: each connection sends a request, waits for the response, sends the
//!   next; latency is measured from the send. This is what most benchmarks report, and it
//!   hides server stalls: while the server stalls, nobody sends (coordinated omission).
//! - **Open loop**: requests are due at a constant total rate, spread evenly over the
//!   connections; each connection sends a request at its due time (or at once, if the
//!   previous response came late) and latency is measured from the *due* time, so time a
//!   request spent waiting to be sent counts (the correction of wrk2). Tokio's timer ticks
//!   in milliseconds, so a request may go out up to 1 ms early; its latency then counts
//!   from the actual send.
//!
//! Latencies go into an hdrhistogram (ns, 3 significant digits). Errors are counted by kind
//! (the `io::ErrorKind`, `bad status`, `bad body`), and a connection that fails is replaced
//! by a new one. Connecting the first connection fails the whole run with the OS error (an
//! unreachable target or a refused connection is a usage error, not a measurement).

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

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
    /// `GET path` over HTTP/1.1 keep-alive (hyper's client); the response must be 200 with
    /// a body of `body_len` bytes.
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
}

/// The share of its thread's time (CPU time / elapsed) from which a generator counts as
/// the bottleneck of a run: its figure then says nothing about the server.
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
    /// CPU time of the generator's thread over the measured phase.
    pub generator_cpu: Duration,
    /// CPU time of the whole process over the measured phase: the generator's plus every
    /// other thread's (the server's workers and blocking pool; the other runtimes of a
    /// zbench run sit idle meanwhile).
    pub process_cpu: Duration,
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

    /// The share of the measured time the generator's thread was on a CPU (1.0: always).
    pub fn generator_busy(&self) -> f64 {
        self.generator_cpu.as_secs_f64() / self.elapsed.as_secs_f64()
    }

    /// Whether the generator was busy at least [`GENERATOR_BOUND`] of the time, and so
    /// bounded the figure.
    pub fn generator_bound(&self) -> bool {
        self.generator_busy() >= GENERATOR_BOUND
    }

    /// CPU time of every thread but the generator's (the server's) over the measured
    /// phase, per correct request, in microseconds.
    pub fn server_cpu_us_per_request(&self) -> f64 {
        let server = self.process_cpu.saturating_sub(self.generator_cpu);
        server.as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }

    /// Adds `other`'s counts, errors, latencies, CPU and elapsed time to these.
    pub fn merge(&mut self, other: LoadReport) {
        self.elapsed += other.elapsed;
        self.generator_cpu += other.generator_cpu;
        self.process_cpu += other.process_cpu;
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

/// One connection's way of sending requests.
enum Conn {
    Echo(tokio::net::TcpStream),
    Http(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    None,
}

async fn connect(target: SocketAddr, protocol: &Protocol) -> io::Result<Conn> {
    match protocol {
        Protocol::ConnectEcho { .. } => Ok(Conn::None),
        Protocol::Echo { .. } | Protocol::Files { .. } => {
            let s = tokio::net::TcpStream::connect(target).await?;
            s.set_nodelay(true)?;
            Ok(Conn::Echo(s))
        }
        Protocol::Http { .. } => {
            let s = tokio::net::TcpStream::connect(target).await?;
            s.set_nodelay(true)?;
            let (sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(s))
                    .await
                    .map_err(io::Error::other)?;
            tokio::spawn(conn);
            Ok(Conn::Http(sender))
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

/// Connects to `target` from `source` (any port), or from wherever the kernel picks.
async fn connect_from(
    target: SocketAddr,
    source: Option<std::net::IpAddr>,
) -> io::Result<tokio::net::TcpStream> {
    let Some(ip) = source else {
        return tokio::net::TcpStream::connect(target).await;
    };
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(target).await
}

async fn echo(s: &mut tokio::net::TcpStream, data: &[u8], back: &mut [u8]) -> Result<u64, String> {
    s.write_all(data).await.map_err(|e| kind(&e))?;
    s.read_exact(back).await.map_err(|e| kind(&e))?;
    if back != data {
        return Err("bad body".into());
    }
    Ok(2 * data.len() as u64)
}

/// One request on `conn` (reconnecting first if it failed before; `ConnectEcho` connects
/// from `source`). Bytes moved, or the error kind.
async fn exchange(
    conn: &mut Conn,
    target: SocketAddr,
    protocol: &Protocol,
    source: Option<std::net::IpAddr>,
    data: &[u8],
    back: &mut [u8],
) -> Result<u64, String> {
    if matches!(conn, Conn::None) && !matches!(protocol, Protocol::ConnectEcho { .. }) {
        *conn = connect(target, protocol).await.map_err(|e| kind(&e))?;
    }
    let r = match (protocol, &mut *conn) {
        (Protocol::ConnectEcho { .. }, _) => {
            let mut s = connect_from(target, source).await.map_err(|e| kind(&e))?;
            let _ = s.set_nodelay(true);
            echo(&mut s, data, back).await
        }
        (Protocol::Echo { .. }, Conn::Echo(s)) => echo(s, data, back).await,
        (Protocol::Files { files }, Conn::Echo(s)) => {
            // `data` carries the next index to ask for, as 4 bytes.
            let index = u32::from_le_bytes(data[..4].try_into().expect("4 bytes"));
            let (len, sum) = files[index as usize];
            async {
                s.write_all(&index.to_le_bytes())
                    .await
                    .map_err(|e| kind(&e))?;
                let mut header = [0u8; 8];
                s.read_exact(&mut header).await.map_err(|e| kind(&e))?;
                if u64::from_le_bytes(header) != len {
                    return Err("bad length".to_owned());
                }
                let mut body = vec![0u8; len as usize];
                s.read_exact(&mut body).await.map_err(|e| kind(&e))?;
                if checksum(&body) != sum {
                    return Err("bad checksum".to_owned());
                }
                Ok(len)
            }
            .await
        }
        (Protocol::Http { path, body_len }, Conn::Http(sender)) => {
            let req = hyper::Request::get(*path)
                .header(hyper::header::HOST, "127.0.0.1")
                .body(Empty::new())
                .expect("valid request");
            async {
                sender.ready().await.map_err(|e| format!("http: {e}"))?;
                let resp = sender
                    .send_request(req)
                    .await
                    .map_err(|e| format!("http: {e}"))?;
                if resp.status() != 200 {
                    return Err("bad status".to_owned());
                }
                let body = resp
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| format!("http: {e}"))?
                    .to_bytes();
                if body.len() != *body_len {
                    return Err("bad body".to_owned());
                }
                Ok(body.len() as u64)
            }
            .await
        }
        _ => Err("connection of the wrong protocol".to_owned()),
    };
    if r.is_err() {
        *conn = Conn::None;
    }
    r
}

/// Runs one load run on a new thread and waits for it.
///
/// # Errors
/// The first connection could not be made (unreachable target, refused connection), or
/// the generator's thread or runtime could not start.
pub fn run(cfg: &LoadConfig) -> io::Result<LoadReport> {
    let cfg = cfg.clone();
    std::thread::Builder::new()
        .name("zbench-loadgen".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(run_here(cfg))
        })?
        .join()
        .map_err(|_| io::Error::other("load generator thread panicked"))?
}

async fn run_here(cfg: LoadConfig) -> io::Result<LoadReport> {
    // Prove the target is there before measuring: a clear error, not a run of errors.
    let first = connect(cfg.target, &cfg.protocol)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {}: {e}", cfg.target)))?;
    if let Protocol::ConnectEcho { .. } = cfg.protocol {
        tokio::net::TcpStream::connect(cfg.target)
            .await
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot connect to {}: {e}", cfg.target))
            })?;
    }
    // Every connection is made before the clock starts: connecting inside the timed phase
    // made the first requests of each connection late, which open-loop latency counts
    // (several ms at p99 over a 1 s run). A connection that fails here is counted and
    // retried by its task.
    let mut conns = vec![Some(first)];
    let mut connect_errors = BTreeMap::new();
    for _ in 1..cfg.connections {
        match connect(cfg.target, &cfg.protocol).await {
            Ok(c) => conns.push(Some(c)),
            Err(e) => {
                *connect_errors.entry(kind(&e)).or_insert(0u64) += 1;
                conns.push(None);
            }
        }
    }
    let start = Instant::now();
    let cpu_at_start = (cpu_time(libc::RUSAGE_THREAD), cpu_time(libc::RUSAGE_SELF));
    let deadline = start + cfg.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(c, conn)| {
            let cfg = cfg.clone();
            tokio::spawn(async move {
                let mut report = LoadReport {
                    requests: 0,
                    errors: BTreeMap::new(),
                    bytes: 0,
                    elapsed: Duration::ZERO,
                    latency_ns: histogram(),
                    generator_cpu: Duration::ZERO,
                    process_cpu: Duration::ZERO,
                };
                let mut conn = conn.unwrap_or(Conn::None);
                let len = match cfg.protocol {
                    Protocol::Echo { bytes } | Protocol::ConnectEcho { bytes } => bytes,
                    Protocol::Http { .. } => 0,
                    Protocol::Files { .. } => 4,
                };
                let mut data: Vec<u8> = (0..len).map(|i| (i * 7 + c) as u8).collect();
                let mut next_file = c;
                let source = source_for(cfg.target, c);
                let mut back = vec![0u8; len];
                // Open loop: this connection's requests are due every `interval`, offset so
                // the connections' due times interleave evenly.
                let interval = match cfg.mode {
                    Mode::Open { rate } => {
                        Some(Duration::from_secs_f64(cfg.connections as f64 / rate))
                    }
                    Mode::Closed => None,
                };
                let mut due = start
                    + interval.map_or(Duration::ZERO, |i| i * c as u32 / cfg.connections as u32);
                loop {
                    if interval.is_some() {
                        // Tokio's timer ticks in milliseconds (and spinning until the due
                        // time would take a core from the server): sleep until at most 1 ms
                        // before it and send then.
                        let now = Instant::now();
                        if due > now + Duration::from_millis(1) {
                            tokio::time::sleep_until(due - Duration::from_millis(1)).await;
                        }
                    }
                    if due >= deadline || (interval.is_none() && Instant::now() >= deadline) {
                        break;
                    }
                    // Latency counts from the due time when the send is late (the
                    // coordinated-omission correction), from the send when it is early.
                    let now = Instant::now();
                    let sent = match interval {
                        Some(_) => due.min(now),
                        None => now,
                    };
                    if !cfg.client_work.is_zero() {
                        let spin = Instant::now();
                        while spin.elapsed() < cfg.client_work {
                            std::hint::spin_loop();
                        }
                    }
                    if let Protocol::Files { files } = &cfg.protocol {
                        data.copy_from_slice(&((next_file % files.len()) as u32).to_le_bytes());
                        next_file += cfg.connections;
                    }
                    match exchange(
                        &mut conn,
                        cfg.target,
                        &cfg.protocol,
                        source,
                        &data,
                        &mut back,
                    )
                    .await
                    {
                        Ok(b) => {
                            let ns = sent.elapsed().as_nanos().clamp(1, 60_000_000_000) as u64;
                            report.latency_ns.record(ns).expect("within bounds");
                            report.requests += 1;
                            report.bytes += b;
                        }
                        Err(k) => {
                            *report.errors.entry(k).or_default() += 1;
                            if matches!(conn, Conn::None) {
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
            })
        })
        .collect();
    let mut total = LoadReport {
        requests: 0,
        errors: connect_errors,
        bytes: 0,
        elapsed: Duration::ZERO,
        latency_ns: histogram(),
        generator_cpu: Duration::ZERO,
        process_cpu: Duration::ZERO,
    };
    for t in tasks {
        total.merge(t.await.map_err(io::Error::other)?);
    }
    total.elapsed = start.elapsed();
    total.generator_cpu = cpu_time(libc::RUSAGE_THREAD).saturating_sub(cpu_at_start.0);
    total.process_cpu = cpu_time(libc::RUSAGE_SELF).saturating_sub(cpu_at_start.1);
    Ok(total)
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
