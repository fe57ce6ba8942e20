//! `zbench`: runs each workload on every runtime of the run (zokio and Tokio by default;
//! `--runtimes`), prints the figures side by side with each runtime's ratio to the
//! baseline and the claims audit, and writes a JSON result file and report pages.
//!
//! Exit codes: 0 success, 1 failure while running or reading files, 2 bad usage, 3 (from
//! `compare`) a regression beyond the threshold.

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, MetricArg};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;
use zbench_report::schema::{self, RunInfo};
use zbench_suite::suite::Workload;

/// Counts allocations in `--measure allocations` runs; the system allocator otherwise (one
/// relaxed load more per call, the same for every runtime).
#[global_allocator]
static ALLOCATOR: zbench_suite::counting::CountingAlloc = zbench_suite::counting::CountingAlloc;

mod cli;
mod cmd;
mod journal;
mod progress;
mod table;

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
            use zbench_report::compare::Metric;
            let metric = match metric {
                MetricArg::Ratio => Metric::Ratio,
                MetricArg::Absolute => Metric::Absolute,
                MetricArg::Instructions => Metric::Instructions,
                MetricArg::Allocations => Metric::Allocations,
            };
            let opts = zbench_report::compare::Options {
                threshold: threshold.unwrap_or_else(|| metric.default_threshold()),
                metric,
                seed,
                runtime,
            };
            return cmd::compare::compare(&base, &new, opts, format, export);
        }
        Command::List { runtimes } => cmd::list::list(runtimes),
        Command::All(args) => cmd::run::measure(catalogue(), &args),
        Command::Run { patterns, args } => cmd::run::measure(cmd::run::select(&patterns)?, &args),
        Command::Counted {
            workload,
            settings,
            out,
        } => cmd::run::counted_child(&workload, &settings, &out),
        Command::IoUringProbe => {
            zbench_suite::callgrind::io_uring_probe().map_err(anyhow::Error::msg)
        }
        Command::Child {
            job,
            runtime,
            n,
            workers,
            driver,
        } => cmd::child::child(&job, &runtime, n, workers, driver),
        Command::Report { files, out } => {
            let written = cmd::report::report(&files, out.as_deref())?;
            println!("{}", written.pages[0].display());
            Ok(())
        }
        Command::Serve {
            workload,
            runtime,
            listen,
            workers,
            duration,
            stats,
        } => cmd::serve::serve(&workload, &runtime, listen, workers, duration, stats),
        Command::Load(args) => cmd::load::load_command(args),
        Command::Functions {
            dumps,
            runtime,
            top,
        } => {
            if let Some(bad) = runtime
                .iter()
                .find(|r| !zbench_suite::rt::NAMES.contains(&r.as_str()))
            {
                return Err(unknown_runtime(bad));
            }
            cmd::functions::functions(&dumps, &runtime, top)
        }
        Command::Claims { file } => {
            let results = schema::read(&file)?;
            table::print_claims(&results.claims);
            Ok(())
        }
    }
    .map(|()| ExitCode::SUCCESS)
}

fn unknown_runtime(name: &str) -> anyhow::Error {
    UsageError(format!(
        "unknown runtime {name:?}; known: {}",
        zbench_suite::rt::NAMES.join(", ")
    ))
    .into()
}

fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
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

/// Every workload zbench knows: the suite's and the stress crate's.
fn catalogue() -> Vec<Workload> {
    let mut all = zbench_suite::catalogue::workloads();
    all.extend(zbench_stress::workloads());
    all
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
        parts: Vec::new(),
        measure: schema::Measure::WallClock,
        worker_placement: None,
    }
}
