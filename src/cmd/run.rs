//! `zbench all` and `zbench run`: measure workloads on the runtimes of the run, print the
//! table and the claims audit, write the result file and the report pages.

use crate::cli::{Format, RunArgs};
use crate::{catalogue, prepare_out_dir, run_info, table, unknown_runtime, utc_now, UsageError};
use anyhow::{Context, Result};
use zbench_report::schema::{self, ResultFile, RunInfo};
use zbench_suite::measure::MeasureConfig;
use zbench_suite::suite::{Ctx, Workload};
use zbench_suite::{machine, runner};

/// The workloads matching any pattern; a pattern that matches nothing is a usage error.
pub(crate) fn select(patterns: &[String]) -> Result<Vec<Workload>> {
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

pub(crate) fn measure(workloads: Vec<Workload>, args: &RunArgs) -> Result<()> {
    // zokio's driver travels as a value to every runtime and child the run builds:
    // --zokio-driver, else ZOKIO_DRIVER, else auto.
    let zokio_driver = match (args.zokio_driver, std::env::var("ZOKIO_DRIVER")) {
        (Some(d), _) => d,
        (None, Ok(v)) => zokio::runtime::IoDriver::from_name(&v).ok_or_else(|| {
            UsageError(format!(
                "ZOKIO_DRIVER={v:?}: expected io_uring, epoll or auto"
            ))
        })?,
        (None, Err(_)) => zokio::runtime::IoDriver::Auto,
    };
    let options = zbench_suite::rt::RunOptions {
        zokio_driver,
        cpus: None,
    };
    let net = zbench_suite::placement::NetOptions {
        client_threads: args.client_threads.map(usize::from),
        pin: args.pin,
    };
    // Checked here, so that a placement this machine cannot give is a usage error.
    net.placement(usize::from(args.workers))
        .map_err(UsageError)?;
    let zokio_io_driver = zokio::runtime::Builder::new_current_thread()
        .io_driver(zokio_driver)
        .build()
        .map(|rt| rt.metrics().io_driver().name().to_owned());
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
    let zokio_io_driver = match zokio_io_driver {
        Ok(name) => name,
        Err(e) if runtimes.contains(&"zokio") => {
            return Err(anyhow::anyhow!(
                "zokio cannot build a runtime on the {} driver: {e}",
                zokio_driver.name()
            ))
        }
        Err(e) => format!("none ({e})"),
    };
    let ctx = Ctx {
        options,
        net,
        child_exe: std::env::current_exe().ok(),
        stress_duration: std::time::Duration::from_secs(if args.quick { 2 } else { 10 }),
        ..Ctx::new(cfg, runtimes.clone(), baseline)
    };
    let started = utc_now();
    let dir = prepare_out_dir(args.out.as_deref(), &started)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let machine = machine::describe();
    let progress = crate::progress::Progress::new(workloads.len());
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
            runtimes: runtimes
                .iter()
                .map(|n| runtime_record(n, &options))
                .collect(),
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
        let written = crate::cmd::report::report(std::slice::from_ref(&path), None)?;
        if args.format == Format::Table {
            println!("report: {}", written.pages[0].display());
        }
    }
    Ok(())
}

/// The result file's record of runtime `name`.
fn runtime_record(name: &str, options: &zbench_suite::rt::RunOptions) -> schema::RuntimeRecord {
    let info = zbench_suite::rt::info(name).expect("registered runtime");
    schema::RuntimeRecord {
        name: info.name.to_owned(),
        version: Some(info.version.to_owned()),
        io_driver: zbench_suite::rt::io_driver_name(name, options),
        capabilities: info.caps.iter().map(|c| c.name().to_owned()).collect(),
        equivalents: info
            .equivalents
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}
