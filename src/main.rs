//! `zbench`: runs each workload on zokio and on Tokio in the same run and prints the
//! figures side by side with their ratio.
//!
//! This first version runs Tokio's scheduler shapes; the claims audit, JSON results,
//! statistics with confidence intervals and report pages arrive with the harness issues.

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use zbench_suite::measure::MeasureConfig;
use zbench_suite::suite::{self, Workload};

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every workload on zokio and Tokio and print the comparison.
    All {
        /// CI-sized run: 0.2 s warm-up and 10 rounds per workload (default 1 s and 30).
        #[arg(long)]
        quick: bool,
    },
    /// List workloads with their units and parameters.
    List,
    /// Run the named workloads (full names, as `zbench list` prints them).
    Run {
        /// Workload names.
        #[arg(required = true)]
        names: Vec<String>,
        /// CI-sized run.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("zbench: error: {err:#}");
            ExitCode::from(err.downcast_ref::<UsageError>().map_or(1, |_| 2))
        }
    }
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

fn run(command: Command) -> Result<()> {
    match command {
        Command::List => {
            for w in suite::workloads() {
                println!("{:<42} {:<9} {}", w.name, w.unit, w.params);
            }
            Ok(())
        }
        Command::All { quick } => measure_all(&suite::workloads(), quick),
        Command::Run { names, quick } => {
            let all = suite::workloads();
            let mut chosen = Vec::new();
            for name in &names {
                match all.iter().find(|w| w.name == name) {
                    Some(w) => chosen.push(*w),
                    None => bail!(UsageError(format!(
                        "unknown workload {name:?}; `zbench list` shows the available ones"
                    ))),
                }
            }
            measure_all(&chosen, quick)
        }
    }
}

fn measure_all(workloads: &[Workload], quick: bool) -> Result<()> {
    let cfg = if quick {
        MeasureConfig::QUICK
    } else {
        MeasureConfig::FULL
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "zbench {}: {} rounds per workload, {} logical cores, {} build",
        env!("CARGO_PKG_VERSION"),
        cfg.rounds,
        cores,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<42} {:>14} {:>14} {:>12}  {:<9} params",
        "workload", "zokio", "tokio", "zokio/tokio", "unit"
    );
    for w in workloads {
        eprintln!("running {} ...", w.name);
        let c = (w.run)(&cfg);
        println!(
            "{:<42} {:>14} {:>14} {:>11.2}x  {:<9} {}",
            w.name,
            human(c.zokio.median()),
            human(c.tokio.median()),
            c.median_ratio(),
            w.unit,
            w.params
        );
    }
    println!("figures: medians of per-round samples; ratio: median of paired per-round ratios (>1: zokio faster)");
    Ok(())
}

fn human(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.1}"),
    }
}
