//! `zbench all` and `zbench run`: measure workloads on the runtimes of the run, print the
//! table and the claims audit, write the result file and the report pages.

use crate::cli::{Format, RunArgs};
use crate::journal::{Entry, Journal, Settings};
use crate::{catalogue, prepare_out_dir, run_info, table, unknown_runtime, utc_now, UsageError};
use anyhow::{Context, Result};
use zbench_report::schema::{self, Measure, ResultFile, RunInfo};
use zbench_suite::callgrind;
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
    let started = utc_now();
    let Some(resume_dir) = &args.resume else {
        let mut settings = settings(&workloads, args)?;
        check(&settings)?;
        if settings.measure == Measure::Instructions {
            instruction_driver(&mut settings)?;
        }
        let dir = prepare_out_dir(args.out.as_deref(), &started)?;
        let journal = Journal::create(&dir, &started, &settings)?;
        return finish_run(
            settings,
            workloads,
            dir,
            journal,
            Vec::new(),
            vec![started],
            args,
        );
    };
    let resumed = Journal::resume(resume_dir, &started)?;
    let all = catalogue();
    let workloads = resumed
        .settings
        .workloads
        .iter()
        .map(|name| {
            all.iter().find(|w| w.name == name).copied().ok_or_else(|| {
                anyhow::anyhow!(
                    "the journal names workload {name:?}, which this zbench does not know"
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    check(&resumed.settings)?;
    eprintln!(
        "zbench: resuming {}: {} of {} workloads done",
        resume_dir.display(),
        resumed.done.len(),
        workloads.len()
    );
    finish_run(
        resumed.settings,
        workloads,
        resume_dir.clone(),
        resumed.journal,
        resumed.done,
        resumed.part_starts,
        args,
    )
}

/// The settings of a new run, from its command line.
fn settings(workloads: &[Workload], args: &RunArgs) -> Result<Settings> {
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
    let runtimes = runtimes(&args.runtimes)?;
    let baseline = zbench_suite::rt::known(args.baseline.trim())
        .ok_or_else(|| unknown_runtime(args.baseline.trim()))?;
    Ok(Settings {
        workloads: workloads.iter().map(|w| w.name.to_owned()).collect(),
        quick: args.quick,
        seed: args.seed.unwrap_or_else(rand::random),
        runtimes: runtimes.iter().map(|r| (*r).to_owned()).collect(),
        baseline: baseline.to_owned(),
        workers: args.workers,
        zokio_driver: zokio_driver.name().to_owned(),
        client_threads: args.client_threads,
        pin: args.pin,
        pin_workers: args.pin_workers,
        measure: args.measure,
    })
}

/// Checks what can be checked before measuring: a network placement this machine cannot
/// give is a usage error; an instruction run without Valgrind fails here (exit 1).
fn check(settings: &Settings) -> Result<()> {
    net_options(settings)
        .placement(usize::from(settings.workers))
        .map_err(UsageError)?;
    if settings.measure == Measure::Instructions {
        callgrind::valgrind_version().map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// zokio's driver in an instruction run: its io_uring driver where Valgrind lets other
/// threads run while one waits in `io_uring_enter` (a probe says), else epoll, with a note
/// on stderr; the result file records the driver used. An explicit `--zokio-driver
/// io_uring` that cannot run is an error.
fn instruction_driver(settings: &mut Settings) -> Result<()> {
    use zokio::runtime::IoDriver;
    let driver = IoDriver::from_name(&settings.zokio_driver).unwrap_or(IoDriver::Auto);
    if driver == IoDriver::Epoll || !settings.runtimes.iter().any(|r| r == "zokio") {
        return Ok(());
    }
    // Without io_uring in the kernel, auto is epoll anyway.
    if zokio::runtime::Builder::new_current_thread()
        .io_driver(IoDriver::IoUring)
        .build()
        .is_err()
    {
        return Ok(());
    }
    let exe = std::env::current_exe().context("cannot find zbench's own executable")?;
    let Err(why) = callgrind::io_uring_under_callgrind(&exe, std::time::Duration::from_secs(10))
    else {
        return Ok(());
    };
    let version = callgrind::valgrind_version().unwrap_or_default();
    if driver == IoDriver::IoUring {
        anyhow::bail!(
            "zokio's io_uring driver cannot be counted under {version}: {why}; measure with --zokio-driver epoll"
        );
    }
    eprintln!(
        "zbench: zokio runs its epoll driver in this instruction run: under {version}, {why}"
    );
    settings.zokio_driver = IoDriver::Epoll.name().to_owned();
    Ok(())
}

/// Rounds per workload of an instruction run, whatever its size: counts barely move from
/// round to round, and each round runs under Callgrind, tens of times slower than natively.
const INSTRUCTION_ROUNDS: usize = 3;

/// What a run measures with, from its settings: the context every workload gets, and the
/// I/O driver zokio's runtimes run on (as the result file names it).
fn setup(settings: &Settings) -> Result<(Ctx, String)> {
    let zokio_driver = zokio::runtime::IoDriver::from_name(&settings.zokio_driver)
        .ok_or_else(|| anyhow::anyhow!("unknown zokio driver {:?}", settings.zokio_driver))?;
    // Under --pin-workers every other thread is kept to the CPUs this process may use:
    // a blocking thread started by a pinned worker would otherwise inherit its one CPU.
    let cpus = match settings.pin_workers {
        true => Some(
            zbench_suite::placement::Cpus::of_current_thread()
                .context("cannot read this process's CPUs for --pin-workers")?,
        ),
        false => None,
    };
    let options = zbench_suite::rt::RunOptions {
        zokio_driver,
        cpus,
        one_cpu_each: settings.pin_workers,
        ring: Default::default(),
    };
    let zokio_io_driver = zokio::runtime::Builder::new_current_thread()
        .io_driver(zokio_driver)
        .build()
        .map(|rt| rt.metrics().io_driver().name().to_owned());
    let mut cfg = if settings.quick {
        MeasureConfig::QUICK
    } else {
        MeasureConfig::FULL
    };
    if settings.measure == Measure::Instructions {
        // One warm-up call (time-based warm-up means nothing at Callgrind's pace).
        cfg.warmup = zbench_suite::measure::WarmUp::Once;
        cfg.rounds = INSTRUCTION_ROUNDS;
    }
    cfg.workers = usize::from(settings.workers);
    let runtimes = runtimes(&settings.runtimes)?;
    let baseline = zbench_suite::rt::known(&settings.baseline)
        .ok_or_else(|| unknown_runtime(&settings.baseline))?;
    cfg.rounds = zbench_suite::measure::rounds_for(cfg.rounds, runtimes.len());
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
        net: net_options(settings),
        child_exe: std::env::current_exe().ok(),
        stress_duration: std::time::Duration::from_secs(if settings.quick { 2 } else { 10 }),
        ..Ctx::new(cfg, runtimes.clone(), baseline)
    };
    Ok((ctx, zokio_io_driver))
}

/// `zbench __counted WORKLOAD SETTINGS OUT`: measures one workload of a counted run in
/// this process (started under Callgrind by [`under_callgrind`]) and writes its records
/// to OUT as JSON.
pub(crate) fn counted_child(
    workload: &str,
    settings: &std::path::Path,
    out: &std::path::Path,
) -> Result<()> {
    let text = std::fs::read_to_string(settings)
        .with_context(|| format!("cannot read {}", settings.display()))?;
    let settings: Settings = serde_json::from_str(&text)
        .with_context(|| format!("malformed settings {}", settings.display()))?;
    let w = catalogue()
        .into_iter()
        .find(|w| w.name == workload)
        .ok_or_else(|| UsageError(format!("unknown workload {workload:?}")))?;
    zbench_suite::measure::set_measure(settings.measure).map_err(anyhow::Error::msg)?;
    let (ctx, _) = setup(&settings)?;
    let records = runner::run_one(&w, &ctx, settings.seed).map_err(anyhow::Error::msg)?;
    let entry = Entry::new(w.name, 0, records);
    std::fs::write(out, serde_json::to_vec(&entry)?)
        .with_context(|| format!("cannot write {}", out.display()))
}

/// Measures workload `w` of an instruction run in a child process under Callgrind
/// (`zbench __counted`), keeping its dumps in `DIR/callgrind/WORKLOAD/` with an index of
/// which runtime and phase each dump is (`callgrind.out.index`), for `zbench functions`.
fn under_callgrind(
    w: &Workload,
    settings: &Settings,
    dir: &std::path::Path,
) -> Result<runner::Records> {
    let here = dir.join("callgrind").join(w.name);
    // Dumps of an earlier, killed part of this run would be read as this one's.
    if here.exists() {
        std::fs::remove_dir_all(&here)
            .with_context(|| format!("cannot clear {}", here.display()))?;
    }
    std::fs::create_dir_all(&here).with_context(|| format!("cannot create {}", here.display()))?;
    let settings_path = here.join("settings.json");
    std::fs::write(&settings_path, serde_json::to_vec_pretty(settings)?)?;
    let records_path = here.join("records.json");
    let exe = std::env::current_exe().context("cannot find zbench's own executable")?;
    let out = callgrind::valgrind_command(&here.join("callgrind.out"))
        .arg(&exe)
        .arg("__counted")
        .arg(w.name)
        .arg(&settings_path)
        .arg(&records_path)
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot start valgrind")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        anyhow::bail!(
            "workload {} failed under Callgrind ({}):\n{}",
            w.name,
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let text = std::fs::read_to_string(&records_path)
        .with_context(|| format!("cannot read {}", records_path.display()))?;
    let entry: Entry = serde_json::from_str(&text)
        .with_context(|| format!("malformed records {}", records_path.display()))?;
    Ok(entry.into_records())
}

fn net_options(settings: &Settings) -> zbench_suite::placement::NetOptions {
    zbench_suite::placement::NetOptions {
        client_threads: settings.client_threads.map(usize::from),
        pin: settings.pin,
    }
}

/// Measures the workloads the journal does not hold yet, then writes the result file with
/// every workload (journalled and new, in run order) and removes the journal.
fn finish_run(
    settings: Settings,
    workloads: Vec<Workload>,
    dir: std::path::PathBuf,
    mut journal: Journal,
    done: Vec<Entry>,
    part_starts: Vec<String>,
    args: &RunArgs,
) -> Result<()> {
    let (ctx, zokio_io_driver) = setup(&settings)?;
    let baseline = ctx.baseline;
    if !ctx.runs(baseline) {
        eprintln!(
            "zbench: the baseline {baseline} is not among --runtimes: no ratios will be taken"
        );
    }
    if settings.measure == Measure::Allocations {
        zbench_suite::measure::set_measure(Measure::Allocations).map_err(anyhow::Error::msg)?;
    }
    let seed = settings.seed;
    let machine = machine::describe();
    let mut order: Vec<(usize, String)> =
        done.iter().map(|e| (e.part, e.workload.clone())).collect();
    let mut by_name: std::collections::HashMap<String, runner::Records> = done
        .into_iter()
        .map(|e| (e.workload.clone(), e.into_records()))
        .collect();
    let remaining: Vec<&Workload> = workloads
        .iter()
        .filter(|w| !by_name.contains_key(w.name))
        .collect();
    let progress = crate::progress::Progress::new(remaining.len());
    for w in remaining {
        progress.start(w.name);
        let records = if settings.measure == Measure::Instructions {
            under_callgrind(w, &settings, &dir)?
        } else {
            runner::run_one(w, &ctx, seed).map_err(anyhow::Error::msg)?
        };
        let entry = Entry::new(w.name, journal.part, records);
        journal.append(&entry)?;
        order.push((journal.part, w.name.to_owned()));
        by_name.insert(w.name.to_owned(), entry.into_records());
    }
    progress.finish();
    let mut records = runner::Records::default();
    for w in &workloads {
        if let Some(r) = by_name.remove(w.name) {
            records.extend(r);
        }
    }
    let claims = runner::audit_claims(&records, &catalogue());
    let file = ResultFile {
        schema: schema::SCHEMA.to_owned(),
        run: RunInfo {
            quick: settings.quick,
            seed,
            warmup_ms: ctx.cfg.warmup.duration().as_millis() as u64,
            rounds: ctx.cfg.rounds,
            zokio_io_driver: Some(zokio_io_driver),
            runtimes: ctx
                .runtimes
                .iter()
                .map(|n| runtime_record(n, &ctx.options))
                .collect(),
            baseline: baseline.to_owned(),
            parts: crate::journal::parts(&part_starts, &order),
            measure: settings.measure,
            worker_placement: worker_placement(&ctx.options),
            ..run_info(part_starts[0].clone())
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
    journal.finish()?;
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

/// The result file's record of `--pin-workers`: the CPUs workers 0, 1, ... get, in order
/// (the network servers under `--pin` take theirs from the server's CPUs instead).
fn worker_placement(options: &zbench_suite::rt::RunOptions) -> Option<String> {
    let cpus = options.cpus.filter(|_| options.one_cpu_each)?;
    Some(format!("one CPU each: {cpus}"))
}
