//! The two halves of a network workload as separate commands, for runs across two hosts:
//! `zbench serve` starts a workload's server on one runtime, `zbench load` drives it with
//! the built-in generator (or with `wrk`, as a cross-check, if it is installed).

use super::loadgen::{self, LoadConfig, LoadReport, Mode, Protocol};
use super::{start_server, Echo, Http, HELLO, HTTP_CONNECTIONS};
use bytes::Bytes;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use zbench_suite::rt::{self, Runtime, Visitor};

/// Workloads that `serve` and `load` know.
pub const REMOTE_WORKLOADS: [&str; 2] = ["net.http_requests", "net.tcp_connections"];

fn unknown(workload: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "workload {workload:?} has no remote halves; expected one of {}",
            REMOTE_WORKLOADS.join(", ")
        ),
    )
}

/// `serve`'s periodic report: the interval, and what receives the runtime's alive tasks.
pub type Stats<'a> = (Duration, &'a mut dyn FnMut(Option<usize>));

/// Serves `workload` on `runtime` (a registered name, `workers` threads) at `listen` for
/// `duration`, then stops. `ready` is called with the bound address once it listens. With
/// `stats = Some((interval, f))`, `f` is called at that interval with the runtime's alive
/// tasks ([`Runtime::alive_tasks`]; `None` where the runtime does not count them, or
/// serves on one runtime per thread).
///
/// # Errors
/// Unknown workload or runtime, or a runtime lacking what the workload needs (hyper, for
/// the HTTP server), all `InvalidInput`; or the address cannot be bound. A
/// thread-per-core runtime serves on `workers` runtimes, one per thread, sharing the port.
pub fn serve(
    workload: &str,
    runtime: &str,
    listen: SocketAddr,
    workers: usize,
    duration: Duration,
    ready: impl FnOnce(SocketAddr),
    stats: Option<Stats<'_>>,
) -> io::Result<()> {
    struct Serve<'a, 's, F> {
        workload: &'a str,
        listen: SocketAddr,
        workers: usize,
        duration: Duration,
        ready: F,
        stats: Option<Stats<'s>>,
    }
    impl<F: FnOnce(SocketAddr)> Visitor for Serve<'_, '_, F> {
        type Output = io::Result<()>;

        fn visit<R: Runtime>(self) -> io::Result<()> {
            let options = rt::RunOptions::default();
            let (serving, addr) = match self.workload {
                "net.http_requests" => start_server::<R, _>(
                    self.workers,
                    &options,
                    &Http(Bytes::from_static(HELLO)),
                    self.listen,
                )?,
                "net.tcp_connections" => {
                    start_server::<R, _>(self.workers, &options, &Echo, self.listen)?
                }
                other => return Err(unknown(other)),
            };
            (self.ready)(addr);
            let end = std::time::Instant::now() + self.duration;
            let mut stats = self.stats;
            loop {
                let left = end.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                match &mut stats {
                    Some((every, f)) => {
                        std::thread::sleep((*every).min(left));
                        f(serving.alive_tasks());
                    }
                    None => std::thread::sleep(left),
                }
            }
            drop(serving);
            Ok(())
        }
    }
    let info = rt::info(runtime).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "unknown runtime {runtime:?}: expected one of {}",
                rt::NAMES.join(", ")
            ),
        )
    })?;
    let needs = super::workloads()
        .into_iter()
        .find(|w| w.name == workload && REMOTE_WORKLOADS.contains(&w.name))
        .ok_or_else(|| unknown(workload))?
        .needs;
    if let Some(reason) = info.lacks(needs) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{workload} is not applicable on {runtime}: {reason}"),
        ));
    }
    let serve = Serve {
        workload,
        listen,
        workers,
        duration,
        ready,
        stats,
    };
    rt::dispatch(runtime, serve).expect("a registered runtime")
}

/// Drives `workload`'s server at `target` with the built-in generator on `threads`
/// threads: closed loop, or open loop at `rate` requests/s.
///
/// # Errors
/// Unknown workload or 0 threads (`InvalidInput`); the target cannot be reached.
pub fn load(
    workload: &str,
    target: SocketAddr,
    connections: usize,
    threads: usize,
    duration: Duration,
    rate: Option<f64>,
) -> io::Result<LoadReport> {
    let protocol = match workload {
        "net.http_requests" => Protocol::Http {
            path: "/",
            body_len: HELLO.len(),
        },
        "net.tcp_connections" => Protocol::ConnectEcho { bytes: 64 },
        other => return Err(unknown(other)),
    };
    loadgen::run(&LoadConfig {
        mode: rate.map_or(Mode::Closed, |rate| Mode::Open { rate }),
        threads,
        ..LoadConfig::new(target, protocol, connections, duration)
    })
}

/// What `wrk --latency` printed, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkReport {
    /// `Requests/sec`.
    pub requests_per_sec: f64,
    /// Latency percentiles (50, 75, 90, 99), in ns.
    pub latency_ns: Vec<(f64, f64)>,
    /// Socket errors plus non-2xx responses.
    pub errors: u64,
}

/// Runs `wrk -t<threads> -c<connections> -d<secs>s --latency http://target/` (HTTP only).
///
/// # Errors
/// `NotFound` if `wrk` is not installed; its failure or unparsable output otherwise.
pub fn wrk(
    target: SocketAddr,
    connections: usize,
    threads: usize,
    duration: Duration,
) -> io::Result<WrkReport> {
    let out = std::process::Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{}s", duration.as_secs().max(1)),
            "--latency".to_owned(),
            format!("http://{target}/"),
        ])
        .output()
        .map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                io::Error::new(
                    e.kind(),
                    "wrk is not installed (Debian: apt-get install wrk)",
                )
            } else {
                e
            }
        })?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// A wrk duration (`812.00us`, `1.20ms`, `2.00s`) in ns.
fn wrk_duration(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let scale = match unit {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        _ => return None,
    };
    Some(v * scale)
}

/// Parses `wrk --latency` output.
///
/// # Errors
/// `InvalidData` if there is no `Requests/sec` line.
pub fn parse_wrk(text: &str) -> io::Result<WrkReport> {
    let mut report = WrkReport {
        requests_per_sec: f64::NAN,
        latency_ns: Vec::new(),
        errors: 0,
    };
    let mut in_distribution = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => report.requests_per_sec = v.parse().unwrap_or(f64::NAN),
            ["Latency", "Distribution", ..] => in_distribution = true,
            [p, d] if in_distribution && p.ends_with('%') => {
                if let (Ok(p), Some(ns)) = (p.trim_end_matches('%').parse(), wrk_duration(d)) {
                    report.latency_ns.push((p, ns));
                }
            }
            ["Socket", "errors:", rest @ ..] => {
                report.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => {
                report.errors += n.parse::<u64>().unwrap_or(0);
            }
            _ => {}
        }
        if !line.starts_with(' ') && !line.starts_with("Latency") {
            in_distribution = in_distribution && !line.is_empty() && line.contains('%');
        }
    }
    if report.requests_per_sec.is_nan() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no Requests/sec line in wrk's output",
        ));
    }
    Ok(report)
}

/// The default connection count of `load` for `workload`.
pub fn default_connections(workload: &str) -> usize {
    if workload == "net.tcp_connections" {
        super::CONNECTORS
    } else {
        HTTP_CONNECTIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 2s test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  300.00us   5.00ms   90.00%
    Req/Sec    80.00k     2.00k   85.00k    70.00%
  Latency Distribution
     50%  750.00us
     75%    0.90ms
     90%    1.10ms
     99%    2.00ms
  160000 requests in 2.00s, 14.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  79999.50
Transfer/sec:      7.00MB
";

    #[test]
    fn wrk_output_is_parsed() {
        let r = parse_wrk(WRK).unwrap();
        assert_eq!(r.requests_per_sec, 79999.5);
        assert_eq!(r.errors, 3);
        assert_eq!(
            r.latency_ns,
            vec![
                (50.0, 750_000.0),
                (75.0, 900_000.0),
                (90.0, 1_100_000.0),
                (99.0, 2_000_000.0)
            ]
        );
        assert!(parse_wrk("garbage").is_err());
    }

    #[test]
    fn serve_and_load_halves_talk_to_each_other() {
        let (tx, rx) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            let mut stats = Vec::new();
            serve(
                "net.http_requests",
                "zokio",
                SocketAddr::from(([127, 0, 0, 1], 0)),
                2,
                Duration::from_millis(1500),
                |a| tx.send(a).unwrap(),
                Some((Duration::from_millis(200), &mut |tasks| stats.push(tasks))),
            )?;
            // The accept loop at least, counted by zokio at every interval.
            assert!(stats.len() >= 5, "{stats:?}");
            assert!(stats.iter().all(|t| t.is_some_and(|n| n >= 1)), "{stats:?}");
            io::Result::Ok(())
        });
        let addr = rx.recv().unwrap();
        let r = load(
            "net.http_requests",
            addr,
            4,
            2,
            Duration::from_millis(300),
            None,
        )
        .unwrap();
        assert!(r.requests > 0);
        assert_eq!(r.error_count(), 0);
        assert_eq!(r.generator_threads, 2);
        if let Ok(w) = wrk(addr, 4, 1, Duration::from_secs(1)) {
            assert!(w.requests_per_sec > 0.0, "{w:?}");
        }
        server.join().unwrap().unwrap();
    }

    #[test]
    fn bad_names_are_clear_errors() {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let e = serve("net.nope", "zokio", any, 1, Duration::ZERO, |_| {}, None).unwrap_err();
        assert!(e.to_string().contains("no remote halves"), "{e}");
        let e = serve(
            "net.http_requests",
            "nosuch",
            any,
            1,
            Duration::ZERO,
            |_| {},
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown runtime"), "{e}");
        // Every registered runtime serves both workloads (thread-per-core ones as one
        // runtime per worker), and tells where it listens.
        for name in rt::NAMES {
            for workload in REMOTE_WORKLOADS {
                let mut bound = None;
                serve(
                    workload,
                    name,
                    any,
                    2,
                    Duration::ZERO,
                    |a| bound = Some(a),
                    None,
                )
                .unwrap();
                assert!(bound.is_some_and(|a| a.port() != 0), "{workload} on {name}");
            }
        }
        let e = load("net.nope", any, 1, 1, Duration::ZERO, None).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
