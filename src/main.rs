//! `zbench`: runs each workload on zokio and on Tokio in the same run, prints the figures
//! side by side with their ratio and the claims audit, and writes a JSON result file.
//!
//! Exit codes: 0 success, 1 failure while running or reading files, 2 bad usage, 3 (from
//! `compare`) a regression beyond the threshold.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use zbench_report::schema::{self, ResultFile, RunInfo};
use zbench_suite::measure::MeasureConfig;
use zbench_suite::suite::{self, Ctx, Workload};
use zbench_suite::{machine, runner};

mod table;

/// Progress on stderr: a bar on a terminal (without colour when `NO_COLOR` is set), one
/// plain line per workload otherwise, so logs still show how far a run got.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: std::cell::Cell<usize>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let template = if colour {
                "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}"
            } else {
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}"
            };
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            total,
            done: std::cell::Cell::new(0),
        }
    }

    fn start(&self, name: &str) {
        let n = self.done.get();
        self.done.set(n + 1);
        match &self.bar {
            Some(bar) => {
                bar.set_position(n as u64);
                bar.set_message(name.to_owned());
            }
            None => eprintln!("[{}/{}] {name}", n + 1, self.total),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "zbench",
    version,
    about = "Benchmarks zokio against Tokio, workload by workload, in the same run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// CI-sized run: 0.2 s warm-up and 10 rounds per workload (default: 1 s and 30).
    #[arg(long)]
    quick: bool,
    /// Directory for results.json [default: target/zbench/<UTC time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Seed of the bootstrap intervals [default: random, recorded in the result file].
    #[arg(long)]
    seed: Option<u64>,
    /// Runtimes to run, comma-separated, in report order, or `all` (`zbench list
    /// --runtimes` lists them). Every ratio is taken against `--baseline`, which must be
    /// one of them for ratios to exist.
    #[arg(long, value_delimiter = ',', default_value = "zokio,tokio")]
    runtimes: Vec<String>,
    /// The runtime every ratio is taken against.
    #[arg(long, default_value = "tokio")]
    baseline: String,
    /// Skip the HTML report pages (written by default into `report/` beside results.json).
    #[arg(long)]
    no_report: bool,
    /// Worker threads for multi-thread workloads, the same for every runtime.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    workers: u16,
    /// zokio's I/O driver: `io_uring`, `epoll` or `auto` (io_uring where the kernel allows
    /// it) [default: `$ZOKIO_DRIVER`, else auto]. Recorded in the result file.
    #[arg(long, value_name = "DRIVER", value_parser = parse_driver)]
    zokio_driver: Option<zokio::runtime::IoDriver>,
}

fn parse_driver(s: &str) -> Result<zokio::runtime::IoDriver, String> {
    zokio::runtime::IoDriver::from_name(s)
        .ok_or_else(|| format!("unknown driver {s:?}: expected io_uring, epoll or auto"))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Client {
    /// zbench's own generator.
    Builtin,
    /// wrk (`wrk -t1 --latency`), as a cross-check.
    Wrk,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned text tables.
    Table,
    /// The result file's JSON.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every workload on zokio and Tokio, print the comparison and the claims audit,
    /// and write results.json.
    All(RunArgs),
    /// Run the workloads whose names match any of the glob patterns (e.g. 'sched.*').
    Run {
        /// Glob patterns over workload names.
        #[arg(required = true, value_name = "PATTERN")]
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
        /// Relative change that counts: `5%` or `0.05`.
        #[arg(long, default_value = "5%", value_parser = parse_threshold)]
        threshold: f64,
        /// `ratio`: `--runtime`'s ratio to the baseline on each workload, from the same run
        /// (survives a slower machine); `absolute`: each runtime's raw figure (same machine
        /// only).
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
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum MetricArg {
    Ratio,
    Absolute,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum CompareFormat {
    /// Aligned text.
    Table,
    /// A GitHub-flavoured markdown table, for a pull-request comment.
    Markdown,
    /// The comparison as JSON.
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Export {
    /// Bencher Metric Format.
    Bencher,
    /// github-action-benchmark, `customBiggerIsBetter` tool.
    GithubActionBenchmark,
}

/// `5%`, `0.5%` or a fraction such as `0.05`; must lie in [0, 10).
fn parse_threshold(s: &str) -> Result<f64, String> {
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

/// Bad input from the user (exit code 2), as opposed to a failure while running (1).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`zbench list | head`), like other Unix tools, instead
    // of panicking on the failed print.
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("zbench: error: {err:#}");
            ExitCode::from(if err.downcast_ref::<UsageError>().is_some() {
                2
            } else {
                1
            })
        }
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Compare {
            base,
            new,
            threshold,
            metric,
            runtime,
            format,
            export,
            seed,
        } => {
            let runtime = zbench_suite::rt::known(runtime.trim())
                .ok_or_else(|| unknown_runtime(runtime.trim()))?;
            let opts = zbench_report::compare::Options {
                threshold,
                metric: match metric {
                    MetricArg::Ratio => zbench_report::compare::Metric::Ratio,
                    MetricArg::Absolute => zbench_report::compare::Metric::Absolute,
                },
                seed,
                runtime,
            };
            compare(&base, &new, opts, format, export)
        }
        other => dispatch_run(other).map(|()| ExitCode::SUCCESS),
    }
}

/// `zbench compare`: exit 3 on a regression.
fn compare(
    base: &Path,
    new: &Path,
    opts: zbench_report::compare::Options,
    format: CompareFormat,
    export: Option<Export>,
) -> Result<ExitCode> {
    use zbench_report::compare;
    let threshold = opts.threshold;
    let base_file = schema::read(base)?;
    let new_file = schema::read(new)?;
    let report = compare::compare(&base_file, &new_file, opts)?;
    match (export, format) {
        (Some(Export::Bencher), _) => {
            println!("{:#}", compare::to_bencher(&new_file));
        }
        (Some(Export::GithubActionBenchmark), _) => {
            println!("{:#}", compare::to_github_action_benchmark(&new_file));
        }
        (None, CompareFormat::Table) => print!("{}", report.to_table()),
        (None, CompareFormat::Markdown) => print!("{}", report.to_markdown()),
        (None, CompareFormat::Json) => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if report.regressed() {
        eprintln!(
            "zbench: regression beyond {:.1}% in {} figure(s)",
            threshold * 100.0,
            report
                .rows
                .iter()
                .filter(|r| r.verdict == compare::Verdict::Regressed)
                .count()
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// Every command but `compare`, which has an exit code of its own.
fn dispatch_run(command: Command) -> Result<()> {
    match command {
        Command::Compare { .. } => Err(UsageError("compare has its own entry".into()).into()),
        Command::List { runtimes: true } => {
            for name in zbench_suite::rt::NAMES {
                let info = zbench_suite::rt::info(name).expect("registered");
                let caps: Vec<&str> = info.caps.iter().map(|c| c.name()).collect();
                println!("{:<8} {:<10} {}", info.name, info.version, caps.join(","));
                for (what, used) in info.equivalents {
                    println!("{:<8} {:<10}   {what}: {used}", "", "");
                }
            }
            Ok(())
        }
        Command::List { runtimes: false } => {
            for w in catalogue() {
                println!(
                    "{:<40} {:<11} {:<40} {}",
                    w.name,
                    w.unit,
                    w.params_text(),
                    w.claims.join(",")
                );
            }
            Ok(())
        }
        Command::All(args) => measure(catalogue(), &args),
        Command::Run { patterns, args } => measure(select(&patterns)?, &args),
        Command::Child {
            job,
            runtime,
            n,
            workers,
        } => {
            let job = zbench_suite::child::Job::parse(&job)
                .ok_or_else(|| UsageError(format!("unknown child job {job:?}")))?;
            println!(
                "{}",
                zbench_suite::child::run_here(job, &runtime, n, workers)?
            );
            Ok(())
        }
        Command::Report { files, out } => {
            let written = report(&files, out.as_deref())?;
            println!("{}", written.pages[0].display());
            Ok(())
        }
        Command::Serve {
            workload,
            runtime,
            listen,
            workers,
            duration,
        } => zbench_stress::net::remote::serve(
            &workload,
            &runtime,
            listen,
            usize::from(workers),
            duration,
            |addr| {
                println!(
                    "zbench serve: {workload} on {runtime} listening on {addr} for {}",
                    humantime::format_duration(duration)
                )
            },
        )
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => UsageError(e.to_string()).into(),
            _ => anyhow::Error::new(e).context(format!("cannot serve on {listen}")),
        }),
        Command::Load(args) => load_command(args),
        Command::Claims { file } => {
            let results = schema::read(&file)?;
            table::print_claims(&results.claims);
            Ok(())
        }
    }
}

/// `zbench report`: reads every file first (so a bad one fails before anything is written),
/// then writes the pages.
fn report(files: &[PathBuf], out: Option<&Path>) -> Result<zbench_report::report::Written> {
    use zbench_report::report::{self, Run};
    let mut runs = Vec::with_capacity(files.len());
    for f in files {
        runs.push(Run {
            source: f.clone(),
            file: schema::read(f)?,
        });
    }
    let dir = match out {
        Some(d) => d.to_owned(),
        None => files
            .last()
            .and_then(|f| f.parent())
            .unwrap_or(Path::new("."))
            .join("report"),
    };
    let written = report::write_report(&runs, &dir)?;
    eprintln!(
        "zbench: wrote {} pages and {} charts into {}",
        written.pages.len(),
        written.charts,
        dir.display()
    );
    Ok(written)
}

/// The workloads matching any pattern; a pattern that matches nothing is a usage error.
fn select(patterns: &[String]) -> Result<Vec<Workload>> {
    let all = catalogue();
    let mut chosen: Vec<Workload> = Vec::new();
    for p in patterns {
        let pattern =
            glob::Pattern::new(p).map_err(|e| UsageError(format!("bad pattern {p:?}: {e}")))?;
        let matched: Vec<_> = all.iter().filter(|w| pattern.matches(w.name)).collect();
        if matched.is_empty() {
            return Err(UsageError(format!(
                "no workload matches {p:?}; `zbench list` shows the available ones"
            ))
            .into());
        }
        for w in matched {
            if !chosen.iter().any(|c| c.name == w.name) {
                chosen.push(*w);
            }
        }
    }
    Ok(chosen)
}

fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Parses `--runtimes`: registered names (or `all`), each once, at least one.
fn runtimes(names: &[String]) -> Result<Vec<&'static str>> {
    use zbench_suite::rt;
    let mut out: Vec<&'static str> = Vec::new();
    for name in names.iter().map(|n| n.trim()) {
        let found = match name {
            "all" => rt::NAMES.to_vec(),
            other => vec![rt::known(other).ok_or_else(|| unknown_runtime(other))?],
        };
        for n in found {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    if out.is_empty() {
        return Err(UsageError("--runtimes names no runtime".into()).into());
    }
    Ok(out)
}

fn unknown_runtime(name: &str) -> anyhow::Error {
    UsageError(format!(
        "unknown runtime {name:?}; known: {}",
        zbench_suite::rt::NAMES.join(", ")
    ))
    .into()
}

/// Creates `dir` and proves it writable before any measuring, so a bad `--out` fails in a
/// second, not after the whole run.
fn prepare_out_dir(out: Option<&Path>, started: &str) -> Result<PathBuf> {
    let dir = match out {
        Some(dir) => dir.to_owned(),
        None => PathBuf::from("target/zbench").join(started.replace([':', '-'], "")),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let probe = dir.join(format!(".zbench-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("output directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir)
}

fn measure(workloads: Vec<Workload>, args: &RunArgs) -> Result<()> {
    // Every zokio runtime zbench builds (and its child processes inherit the variable)
    // reads ZOKIO_DRIVER; set before any thread starts.
    if let Some(d) = args.zokio_driver {
        std::env::set_var("ZOKIO_DRIVER", d.name());
    }
    if let Ok(v) = std::env::var("ZOKIO_DRIVER") {
        if zokio::runtime::IoDriver::from_name(&v).is_none() {
            return Err(UsageError(format!(
                "ZOKIO_DRIVER={v:?}: expected io_uring, epoll or auto"
            ))
            .into());
        }
    }
    let zokio_io_driver = bench_suite_driver_name();
    let mut cfg = if args.quick {
        MeasureConfig::QUICK
    } else {
        MeasureConfig::FULL
    };
    cfg.workers = usize::from(args.workers);
    let runtimes = runtimes(&args.runtimes)?;
    let baseline = zbench_suite::rt::known(args.baseline.trim())
        .ok_or_else(|| unknown_runtime(args.baseline.trim()))?;
    cfg.rounds = zbench_suite::measure::rounds_for(cfg.rounds, runtimes.len());
    if !runtimes.contains(&baseline) {
        eprintln!(
            "zbench: the baseline {baseline} is not among --runtimes: no ratios will be taken"
        );
    }
    let ctx = Ctx {
        child_exe: std::env::current_exe().ok(),
        stress_duration: std::time::Duration::from_secs(if args.quick { 2 } else { 10 }),
        ..Ctx::new(cfg, runtimes.clone(), baseline)
    };
    let started = utc_now();
    let dir = prepare_out_dir(args.out.as_deref(), &started)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let machine = machine::describe();
    let progress = Progress::new(workloads.len());
    let records = runner::run(&workloads, &ctx, seed, |w| progress.start(w.name))
        .map_err(anyhow::Error::msg)?;
    progress.finish();
    let claims = runner::audit_claims(&records, &catalogue());
    let file = ResultFile {
        schema: schema::SCHEMA.to_owned(),
        run: RunInfo {
            quick: args.quick,
            seed,
            warmup_ms: cfg.warmup.as_millis() as u64,
            rounds: cfg.rounds,
            zokio_io_driver: Some(zokio_io_driver),
            runtimes: runtimes.iter().map(|n| runtime_record(n)).collect(),
            baseline: baseline.to_owned(),
            ..run_info(started)
        },
        machine,
        results: records.results,
        comparisons: records.comparisons,
        not_applicable: records.not_applicable,
        claims,
    };
    let path = dir.join("results.json");
    schema::write_atomic(&path, &file)
        .with_context(|| format!("cannot write {}", path.display()))?;
    match args.format {
        Format::Table => {
            table::print_run(&file);
            println!();
            table::print_claims(&file.claims);
            println!("\nresults: {}", path.display());
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&file)?),
    }
    eprintln!("zbench: wrote {}", path.display());
    if !args.no_report {
        let written = report(std::slice::from_ref(&path), None)?;
        if args.format == Format::Table {
            println!("report: {}", written.pages[0].display());
        }
    }
    Ok(())
}

/// The result file's record of runtime `name`.
fn runtime_record(name: &str) -> schema::RuntimeRecord {
    let info = zbench_suite::rt::info(name).expect("registered runtime");
    schema::RuntimeRecord {
        name: info.name.to_owned(),
        version: Some(info.version.to_owned()),
        capabilities: info.caps.iter().map(|c| c.name().to_owned()).collect(),
        equivalents: info
            .equivalents
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The I/O driver zokio runtimes get in this run (`io_uring` or `epoll`).
fn bench_suite_driver_name() -> String {
    use zbench_suite::rt::Runtime;
    zbench_suite::rt::Zokio::io_driver_name()
}

/// Every workload zbench knows: the suite's and the stress crate's.
fn catalogue() -> Vec<Workload> {
    let mut all = suite::workloads();
    all.extend(zbench_stress::workloads());
    all
}

#[derive(clap::Args, Debug)]
struct LoadArgs {
    /// The workload whose server runs at the target.
    #[arg(long)]
    workload: String,
    /// The server's address.
    #[arg(long)]
    target: std::net::SocketAddr,
    /// Connections [default: the workload's: 64 for HTTP, 16 connectors].
    #[arg(long)]
    connections: Option<usize>,
    /// How long to load (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: std::time::Duration,
    /// Open loop at this many requests/s (coordinated omission corrected); default:
    /// closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// `builtin` (the default) or `wrk` (HTTP only; must be installed).
    #[arg(long, value_enum, default_value_t = Client::Builtin)]
    client: Client,
    /// Which runtime serves (a label for the result file).
    #[arg(long, default_value = "remote")]
    server_runtime: String,
    /// Directory for results.json.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `zbench load`: one load run against a remote server, printed and optionally recorded.
fn load_command(a: LoadArgs) -> Result<()> {
    use zbench_stress::net::remote;
    let conns = a
        .connections
        .unwrap_or_else(|| remote::default_connections(&a.workload));
    let dir = a
        .out
        .as_deref()
        .map(|d| prepare_out_dir(Some(d), &utc_now()))
        .transpose()?;
    let started = utc_now();
    let (rate, errors, pct) = match a.client {
        Client::Wrk => {
            if a.workload != "net.http_requests" {
                return Err(UsageError("--client wrk drives net.http_requests only".into()).into());
            }
            let w = remote::wrk(a.target, conns, a.duration)
                .with_context(|| format!("wrk against {}", a.target))?;
            let at = |q: f64| {
                w.latency_ns
                    .iter()
                    .find(|(p, _)| *p == q)
                    .map_or(0.0, |x| x.1)
            };
            println!(
                "{} against {} (wrk, {conns} connections): {:.0} requests/s, p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, {} errors",
                a.workload,
                a.target,
                w.requests_per_sec,
                at(50.0) / 1e3,
                at(90.0) / 1e3,
                at(99.0) / 1e3,
                w.errors
            );
            let p = schema::Percentiles {
                p50: at(50.0),
                p90: at(90.0),
                p99: at(99.0),
                p999: f64::NAN,
                max: f64::NAN,
            };
            (w.requests_per_sec, w.errors, p)
        }
        Client::Builtin => {
            let r = remote::load(&a.workload, a.target, conns, a.duration, a.rate).map_err(
                |e| match e.kind() {
                    std::io::ErrorKind::InvalidInput => UsageError(e.to_string()).into(),
                    _ => anyhow::Error::new(e),
                },
            )?;
            let h = &r.latency_ns;
            println!(
                "{} against {} ({conns} connections, {}): {:.0} requests/s, {:.2} MB/s, p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, p99.9 {:.0} us, errors {:?}",
                a.workload,
                a.target,
                a.rate.map_or("closed loop".to_owned(), |r| format!("open loop at {r} requests/s")),
                r.rate(),
                r.mb_per_sec(),
                h.value_at_quantile(0.5) as f64 / 1e3,
                h.value_at_quantile(0.9) as f64 / 1e3,
                h.value_at_quantile(0.99) as f64 / 1e3,
                h.value_at_quantile(0.999) as f64 / 1e3,
                r.errors
            );
            (
                r.rate(),
                r.error_count(),
                zbench_suite::suite::percentiles_of(h),
            )
        }
    };
    let Some(dir) = dir else { return Ok(()) };
    let mut params = std::collections::BTreeMap::new();
    params.insert("target".to_owned(), a.target.to_string().into());
    params.insert("server_host".to_owned(), a.target.ip().to_string().into());
    params.insert(
        "load_host".to_owned(),
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default()
            .into(),
    );
    params.insert("connections".to_owned(), conns.into());
    params.insert(
        "client".to_owned(),
        format!("{:?}", a.client).to_lowercase().into(),
    );
    if let Some(r) = a.rate {
        params.insert("offered_rate".to_owned(), r.into());
    }
    let stats = zbench_report::stats::summarize(&[rate], 0);
    let unit = if a.workload == "net.tcp_connections" {
        "connections/s"
    } else {
        "requests/s"
    };
    let file = ResultFile {
        schema: schema::SCHEMA.to_owned(),
        run: RunInfo {
            rounds: 1,
            ..run_info(started)
        },
        machine: machine::describe(),
        results: vec![schema::WorkloadResult {
            workload: a.workload.clone(),
            group: "net".to_owned(),
            claim_ids: vec![a.workload.clone()],
            runtime: a.server_runtime.clone(),
            params,
            unit: unit.to_owned(),
            higher_is_better: true,
            samples: vec![rate],
            stats,
            percentiles: Some(pct),
            errors,
            extra: Default::default(),
        }],
        comparisons: Vec::new(),
        not_applicable: Vec::new(),
        claims: Vec::new(),
    };
    let path = dir.join("results.json");
    schema::write_atomic(&path, &file)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

/// The commit this binary was built from (`build.rs`): 40 hex digits, with `-dirty` if
/// tracked files had uncommitted changes; `None` if it was built without git or outside a
/// repository.
fn build_commit() -> Option<String> {
    let commit = env!("ZBENCH_GIT_COMMIT");
    (!commit.is_empty()).then(|| commit.to_owned())
}

/// Run metadata common to every result file zbench writes, for a run that started at
/// `started` and ends now (quick: false, seed 0, no warm-up, no rounds, driver unknown:
/// callers override what they know).
fn run_info(started: String) -> RunInfo {
    RunInfo {
        started_utc: started,
        finished_utc: utc_now(),
        zbench_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: build_commit(),
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        quick: false,
        command_line: std::env::args().collect(),
        seed: 0,
        warmup_ms: 0,
        rounds: 0,
        zokio_io_driver: None,
        runtimes: Vec::new(),
        baseline: String::new(),
    }
}
