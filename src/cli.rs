//! The command line: subcommands, their options, and the parsers of option values.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "zbench",
    version,
    about = "Benchmarks async runtimes (zokio, Tokio, smol, monoio, compio) workload by workload, in the same run"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// CI-sized run: 0.2 s warm-up and 10 rounds per workload (default: 1 s and 30).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Directory for results.json [default: target/zbench/<UTC time>/].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Seed of the bootstrap intervals [default: random, recorded in the result file].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Runtimes to run, comma-separated, in report order, or `all` (`zbench list
    /// --runtimes` lists them). Every ratio is taken against `--baseline`, which must be
    /// one of them for ratios to exist.
    #[arg(long, value_delimiter = ',', default_value = "zokio,tokio")]
    pub(crate) runtimes: Vec<String>,
    /// The runtime every ratio is taken against.
    #[arg(long, default_value = "tokio")]
    pub(crate) baseline: String,
    /// Skip the HTML report pages (written by default into `report/` beside results.json).
    #[arg(long)]
    pub(crate) no_report: bool,
    /// Worker threads for multi-thread workloads, the same for every runtime.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) workers: u16,
    /// zokio's I/O driver: `io_uring`, `epoll` or `auto` (io_uring where the kernel allows
    /// it) [default: `$ZOKIO_DRIVER`, else auto]. Recorded in the result file.
    #[arg(long, value_name = "DRIVER", value_parser = parse_driver)]
    pub(crate) zokio_driver: Option<zokio::runtime::IoDriver>,
    /// Load-generator threads of the network workloads, each with its own event loop and
    /// its share of the connections [default: the CPUs the server's workers leave free, at
    /// least 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) client_threads: Option<u16>,
    /// Pin the network workloads' server threads and load-generator threads to disjoint
    /// CPUs (the generator gets the last `--client-threads` CPUs, the server at most
    /// `--workers` of the others, one worker each); the placement is recorded with each
    /// point.
    #[arg(long)]
    pub(crate) pin: bool,
    /// Pin each worker of a multi-thread runtime (each shard thread of a thread-per-core
    /// runtime) to one CPU, worker i to the i-th CPU this process may use (of the server's
    /// CPUs under `--pin`), on every runtime: zokio through its `worker_affinity`, the
    /// others from their thread-start hooks. Recorded in the result file; compare a run
    /// with and without it to see what pinning does.
    #[arg(long)]
    pub(crate) pin_workers: bool,
    /// What to measure: `wall-clock` (time: each workload's own unit), `instructions`
    /// (user-space instructions per operation, counted by Valgrind's Callgrind in a child
    /// process per workload; needs valgrind) or `allocations` (heap allocations and bytes
    /// per operation, counted by zbench's allocator). Counts do not move with the
    /// machine's load: gate on them with `compare --metric instructions`.
    #[arg(long, value_name = "MEASURE", default_value = "wall-clock", value_parser = parse_measure)]
    pub(crate) measure: zbench_report::schema::Measure,
    /// Finish the run whose journal is in DIR (a run that was killed, or whose machine
    /// went down): measure the workloads it lacks and write DIR/results.json with every
    /// workload once. Every setting (workloads, runtimes, seed, ...) comes from the
    /// journal.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["quick", "out", "seed", "runtimes", "baseline", "workers", "zokio_driver", "client_threads", "pin", "measure"]
    )]
    pub(crate) resume: Option<PathBuf>,
}

pub(crate) fn parse_measure(s: &str) -> Result<zbench_report::schema::Measure, String> {
    zbench_report::schema::Measure::from_name(s).ok_or_else(|| {
        format!("unknown measure {s:?}: expected wall-clock, instructions or allocations")
    })
}

pub(crate) fn parse_driver(s: &str) -> Result<zokio::runtime::IoDriver, String> {
    zokio::runtime::IoDriver::from_name(s)
        .ok_or_else(|| format!("unknown driver {s:?}: expected io_uring, epoll or auto"))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Client {
    /// zbench's own generator.
    Builtin,
    /// wrk (`wrk -t<client-threads> --latency`), as a cross-check.
    Wrk,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned text tables.
    Table,
    /// The result file's JSON.
    Json,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run every workload on the runtimes of `--runtimes`, print the comparison and the
    /// claims audit, and write results.json and the report pages.
    All(RunArgs),
    /// Run the workloads whose names match any of the glob patterns (e.g. 'sched.*').
    Run {
        /// Glob patterns over workload names (none with `--resume`).
        #[arg(
            required_unless_present = "resume",
            conflicts_with = "resume",
            value_name = "PATTERN"
        )]
        patterns: Vec<String>,
        #[command(flatten)]
        args: RunArgs,
    },
    /// List workloads with their units, parameters and claim ids (or, with `--runtimes`,
    /// the runtimes with their versions and capabilities).
    List {
        /// List the runtimes instead of the workloads.
        #[arg(long)]
        runtimes: bool,
    },
    /// Compare two result files and gate on regressions: exits 3 if any figure got worse
    /// beyond the threshold with a 95% interval clear of zero, 0 otherwise.
    Compare {
        /// The reference run (e.g. main's).
        base: PathBuf,
        /// The run under test.
        new: PathBuf,
        /// Relative change that counts: `5%` or `0.05` [default: 5%; 1% with
        /// `--metric instructions` or `allocations`].
        #[arg(long, value_parser = parse_threshold)]
        threshold: Option<f64>,
        /// `ratio`: `--runtime`'s ratio to the baseline on each workload, from the same run
        /// (survives a slower machine); `absolute`: each runtime's raw figure (same machine
        /// only); `instructions`, `allocations`: the ratio in two files of runs that counted
        /// them (`--measure`), which do not move when nothing changed.
        #[arg(long, value_enum, default_value_t = MetricArg::Ratio)]
        metric: MetricArg,
        /// The runtime whose ratios the `ratio` metric gates on.
        #[arg(long, default_value = "zokio")]
        runtime: String,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
        format: CompareFormat,
        /// Print NEW's figures for another tool instead of the comparison (the exit code
        /// still reflects the gate).
        #[arg(long, value_enum)]
        export: Option<Export>,
        /// Seed of the bootstrap intervals of the changes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Write HTML report pages with SVG charts (no JavaScript, no network): the pages of
    /// the last result file, and with several files a history page across them in order.
    Report {
        /// Result files written by `zbench all` or `zbench run`, oldest first.
        #[arg(required = true, value_name = "RESULTS.json")]
        files: Vec<PathBuf>,
        /// Output directory [default: `report/` beside the last file].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Serve one network workload's server (`net.http_requests`, `net.tcp_connections`) on
    /// one runtime, for `zbench load` on another host; stops after `--duration`.
    Serve {
        /// The workload whose server to run.
        #[arg(long)]
        workload: String,
        /// The runtime (`zbench list --runtimes`).
        #[arg(long)]
        runtime: String,
        /// Address to listen on (e.g. 0.0.0.0:8080; 127.0.0.1:0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Worker threads.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
        workers: u16,
        /// How long to serve, then exit (e.g. 60s, 10m).
        #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
        duration: std::time::Duration,
        /// Print a line `zbench serve: stats alive_tasks=N` at this interval (e.g. 1s): the
        /// runtime's alive tasks, `-` where it does not count them (what a soak watches).
        #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
        stats: Option<std::time::Duration>,
    },
    /// Drive a `zbench serve` server with the built-in load generator (or wrk) and print
    /// requests/s, latency percentiles and errors; `--out` writes a result file recording
    /// both hosts.
    Load(LoadArgs),
    /// Print the claims audit of a result file.
    Claims {
        /// A results.json written by `zbench all` or `zbench run`.
        file: PathBuf,
    },
    /// Print the functions that spent the most instructions of their own in Callgrind dumps
    /// of an instruction run (`DIR/callgrind/WORKLOAD/callgrind.out.N`; the index beside
    /// them says which runtime and phase each dump is).
    Functions {
        /// Dump files, or a workload's dump directory (`DIR/callgrind/WORKLOAD`): from a
        /// directory, the first measured dump of each runtime its index names.
        #[arg(required = true, value_name = "DUMP")]
        dumps: Vec<PathBuf>,
        /// Only the dumps of these runtimes (comma-separated), by the index beside them.
        #[arg(long, value_delimiter = ',')]
        runtime: Vec<String>,
        /// How many functions per dump.
        #[arg(long, default_value_t = 15)]
        top: usize,
    },
    /// Internal: one workload of a counted run, in a process of its own (under Valgrind for
    /// instructions); writes its records as JSON to OUT.
    #[command(name = "__counted", hide = true)]
    Counted {
        /// The workload.
        workload: String,
        /// The run's settings, as JSON (the journal's header).
        settings: PathBuf,
        /// Where to write the records.
        out: PathBuf,
    },
    /// Internal: whether zokio's io_uring driver runs under Callgrind (run under it).
    #[command(name = "__io-uring-probe", hide = true)]
    IoUringProbe,
    /// Internal: one measurement in a fresh process (memory figures), printed on stdout.
    #[command(name = "__child", hide = true)]
    Child {
        /// The measurement.
        job: String,
        /// The runtime.
        runtime: String,
        /// Its size parameter.
        n: usize,
        /// Worker threads of its multi-thread runtimes.
        workers: usize,
        /// zokio's I/O driver.
        #[arg(value_parser = parse_driver)]
        driver: zokio::runtime::IoDriver,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MetricArg {
    Ratio,
    Absolute,
    Instructions,
    Allocations,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompareFormat {
    /// Aligned text.
    Table,
    /// A GitHub-flavoured markdown table, for a pull-request comment.
    Markdown,
    /// The comparison as JSON.
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Export {
    /// Bencher Metric Format.
    Bencher,
    /// github-action-benchmark, `customBiggerIsBetter` tool.
    GithubActionBenchmark,
}

/// `5%`, `0.5%` or a fraction such as `0.05`; must lie in [0, 10).
pub(crate) fn parse_threshold(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("not a threshold: {s:?} (expected e.g. 5% or 0.05)"))?;
    if !(0.0..10.0).contains(&value) {
        return Err(format!("threshold {s:?} out of range (0% to 1000%)"));
    }
    Ok(value)
}

#[derive(clap::Args, Debug)]
pub(crate) struct LoadArgs {
    /// The workload whose server runs at the target.
    #[arg(long)]
    pub(crate) workload: String,
    /// The server's address.
    #[arg(long)]
    pub(crate) target: std::net::SocketAddr,
    /// Connections [default: the workload's: 64 for HTTP, 16 connectors].
    #[arg(long)]
    pub(crate) connections: Option<usize>,
    /// How long to load (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub(crate) duration: std::time::Duration,
    /// Open loop at this many requests/s (coordinated omission corrected); default:
    /// closed loop.
    #[arg(long)]
    pub(crate) rate: Option<f64>,
    /// Generator threads (wrk's `-t`), each with its own event loop and share of the
    /// connections.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) client_threads: u16,
    /// `builtin` (the default) or `wrk` (HTTP only; must be installed).
    #[arg(long, value_enum, default_value_t = Client::Builtin)]
    pub(crate) client: Client,
    /// Which runtime serves (a label for the result file).
    #[arg(long, default_value = "remote")]
    pub(crate) server_runtime: String,
    /// Directory for results.json.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// A non-zero duration (`humantime`'s syntax: 1s, 500ms).
fn parse_interval(s: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be more than zero".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}
