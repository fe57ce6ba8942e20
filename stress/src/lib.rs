//! zbench's stress workloads: sustained load for a fixed time on every worker, with the
//! accounting that proves nothing was lost.
//!
//! Each runtime of the run runs each workload once for `Ctx::stress_duration` (10 s; 2 s
//! with `--quick`), one after the other in the run's order. The samples are the throughput
//! of consecutive windows of the run (10 per run), so the figure's interval says how steady
//! the rate was; each runtime's windows are paired by index with the baseline's for the
//! ratio. The accounting goes into the
//! result's `errors` and `extra` fields, and a run that lost or duplicated work fails the
//! whole zbench run with the counts in the message.
//!
//! A thread-per-core runtime runs a workload on one runtime per worker thread, each with its
//! share of the spawners or tasks ([`on_workers`]), the counters shared by all.
//!
//! The network half is in [`net`]: the load generator, the servers under test and the
//! `net.*` workloads.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zbench_suite::rt::{self, AsyncFile, Cap, RunOptions, Runtime, Visitor};
#[cfg(test)]
use zbench_suite::rt::{Tokio, Zokio};
use zbench_suite::suite::{Ctx, Figure, Outcome, Param::*, Point, Series, Share, Workload};
use zbench_suite::workloads::io::TempFile;
use zbench_suite::workloads::memory::rss_bytes;

/// Throughput windows per run.
pub const WINDOWS: usize = 10;

pub mod net;

/// The stress and network workloads, in run order.
pub fn workloads() -> Vec<Workload> {
    let mut all = stress_workloads();
    all.extend(net::workloads());
    all
}

fn stress_workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "stress.task_scheduling",
            unit: "tasks/s",
            params: &[("duration", T("10 s (2 s quick)")), ("windows", N(WINDOWS)), ("spawners", T("one per worker")), ("batch", T("64 then yield"))],
            claims: &["stress.task_scheduling"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread],
            description: "one spawner task per worker spawns detached tasks in batches of 64 for the whole duration; each task counts itself and adds a hash of its id to a checksum. Success: the count of tasks that ran equals the count spawned and the checksum matches (no task lost or run twice)",
            run: task_scheduling_outcome,
        },
        Workload {
            name: "stress.memory_allocation",
            unit: "ops/s",
            params: &[("duration", T("10 s (2 s quick)")), ("windows", N(WINDOWS)), ("tasks", T("4 per worker")), ("sizes", T("64 B to 1 MiB, log-uniform")), ("live_per_task", N(8))],
            claims: &["stress.memory_allocation"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread],
            description: "tasks allocate buffers of mixed sizes (64 B to 1 MiB), write one byte per page, keep the last 8 and free the oldest, yielding every 16 allocations; ops = allocations (each freed later). Extra figures: peak RSS during the run, RSS before the runtime was built and after it was dropped (the leak check; the allocator may keep freed pages, and the runtimes run one after another in the same process)",
            run: memory_allocation_outcome,
        },
        Workload {
            name: "stress.io_ops",
            unit: "ops/s",
            params: &[("duration", T("10 s (2 s quick)")), ("windows", N(WINDOWS)), ("tasks", N(16)), ("operation", T("no-op + 4 KiB file read_at"))],
            claims: &["stress.io_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files, Cap::IoNop],
            description: "the sched.io_ops loop (a no-op through the I/O driver, then a 4 KiB read) on 16 tasks for the whole duration; every failed operation is counted in errors",
            run: io_ops_outcome,
        },
    ]
}

/// One runtime's run: window rates, failures, extra figures.
#[derive(Debug, Default)]
pub struct Run {
    /// Operations per second in each window, in order.
    pub windows: Vec<f64>,
    /// Failed, lost or duplicated operations.
    pub errors: u64,
    /// Extra figures, for the result file.
    pub extra: Vec<(&'static str, f64)>,
}

/// Reads `count` every `duration / WINDOWS` until `duration` has passed, then raises
/// `stop`; returns the rate of each window. Runs on its own thread.
fn windows(count: impl Fn() -> u64, stop: Arc<AtomicBool>, duration: Duration) -> Vec<f64> {
    let window = duration / WINDOWS as u32;
    let start = Instant::now();
    let mut last = (start, count());
    let mut rates = Vec::with_capacity(WINDOWS);
    for i in 1..=WINDOWS {
        let due = start + window * i as u32;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let now = (Instant::now(), count());
        rates.push((now.1 - last.1) as f64 / (now.0 - last.0).as_secs_f64());
        last = now;
    }
    stop.store(true, Relaxed);
    rates
}

/// Runs `body` on `workers` workers of `R` at once: on one multi-thread runtime, called
/// once with [`Share::ALL`]; on a thread-per-core runtime ([`Runtime::THREAD_PER_CORE`]),
/// on `workers` threads each building a current-thread runtime and calling `body` with its
/// share, as such a runtime is meant to be used. Every runtime is dropped before it
/// returns. Returns each call's output.
///
/// # Panics
/// If a call of `body` panics (the panic is passed on).
pub fn on_workers<R: Runtime, T: Send>(
    workers: usize,
    options: &RunOptions,
    body: impl Fn(&R, Share) -> T + Sync,
) -> Vec<T> {
    if !R::THREAD_PER_CORE {
        return vec![body(&R::multi_thread_with(workers, options), Share::ALL)];
    }
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..workers)
            .map(|index| {
                let body = &body;
                scope.spawn(move || {
                    let share = Share {
                        index,
                        count: workers,
                    };
                    body(&R::current_thread_with(options), share)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// splitmix64: the per-task checksum term (a lost task and a duplicated one cannot cancel
/// out unless two 64-bit hashes collide).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `stress.task_scheduling` on `workers` workers of `R` (see [`on_workers`]): one spawner
/// task per worker. Waits (at most 30 s) for every spawned task to run after the spawners
/// stop.
pub fn task_scheduling<R: Runtime>(
    workers: usize,
    options: &RunOptions,
    duration: Duration,
) -> Run {
    let shards = if R::THREAD_PER_CORE { workers } else { 1 };
    // Tasks that ran, per runtime (each waits for its own), summed by the monitor.
    let ran: Arc<Vec<CachePadded<AtomicU64>>> =
        Arc::new((0..shards).map(|_| Default::default()).collect());
    let sum = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (ran, stop) = (ran.clone(), stop.clone());
        std::thread::spawn(move || {
            windows(|| ran.iter().map(|r| r.load(Relaxed)).sum(), stop, duration)
        })
    };
    let per_shard = on_workers::<R, _>(workers, options, |rt, share| {
        let (ran, sum, stop) = (ran.clone(), sum.clone(), stop.clone());
        rt.run(async move {
            let handles: Vec<_> = share
                .range(workers)
                .map(|s| {
                    let (ran, sum, stop) = (ran.clone(), sum.clone(), stop.clone());
                    R::spawn_local(async move {
                        let (mut id, mut n, mut expected) = (s as u64, 0u64, 0u64);
                        while !stop.load(Relaxed) {
                            for _ in 0..64 {
                                let (all, sum, this) = (ran.clone(), sum.clone(), id);
                                drop(R::spawn_local(async move {
                                    sum.fetch_add(mix(this), Relaxed);
                                    all[share.index].fetch_add(1, Relaxed);
                                }));
                                expected = expected.wrapping_add(mix(id));
                                id += workers as u64;
                                n += 1;
                            }
                            R::yield_now().await;
                        }
                        (n, expected)
                    })
                })
                .collect();
            let (mut n, mut expected) = (0u64, 0u64);
            for h in handles {
                let (hn, he) = h.await;
                n += hn;
                expected = expected.wrapping_add(he);
            }
            // Detached tasks may still be queued: let them finish.
            let deadline = Instant::now() + Duration::from_secs(30);
            while ran[share.index].load(Relaxed) < n && Instant::now() < deadline {
                R::sleep(Duration::from_millis(1)).await;
            }
            (n, expected)
        })
    });
    let (spawned, expected) = per_shard
        .into_iter()
        .fold((0u64, 0u64), |(n, e), (sn, se)| {
            (n + sn, e.wrapping_add(se))
        });
    let rates = monitor.join().expect("monitor thread");
    let ran: u64 = ran.iter().map(|r| r.load(Relaxed)).sum();
    let checksum_ok = sum.load(Relaxed) == expected;
    let lost = spawned.abs_diff(ran) + u64::from(!checksum_ok && spawned == ran);
    Run {
        windows: rates,
        errors: lost,
        extra: vec![
            ("tasks_spawned", spawned as f64),
            ("tasks_ran", ran as f64),
            ("checksum_ok", f64::from(u8::from(checksum_ok))),
            (
                "success_percent",
                if lost == 0 {
                    100.0
                } else {
                    100.0 * (spawned.saturating_sub(lost)) as f64 / spawned.max(1) as f64
                },
            ),
        ],
    }
}

/// xorshift64*: the allocation size sequence.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// `stress.memory_allocation` on `workers` workers of `R` (see [`on_workers`]), built and
/// dropped here, so that RSS before and after bracket them. `tasks` in all, divided among
/// a thread-per-core runtime's threads. Ops: allocations (each freed later).
pub fn memory_allocation<R: Runtime>(
    workers: usize,
    options: &RunOptions,
    tasks: usize,
    duration: Duration,
) -> Run {
    let before = rss_bytes().unwrap_or(0);
    let allocs = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                peak.fetch_max(rss_bytes().unwrap_or(0), Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let monitor = {
        let (allocs, stop) = (allocs.clone(), stop.clone());
        std::thread::spawn(move || windows(|| allocs.load(Relaxed), stop, duration))
    };
    on_workers::<R, _>(workers, options, |rt, share| {
        let (allocs, stop) = (allocs.clone(), stop.clone());
        rt.run(async move {
            let handles: Vec<_> = share
                .range(tasks)
                .map(|t| {
                    let (allocs, stop) = (allocs.clone(), stop.clone());
                    R::spawn_local(async move {
                        let mut state = 0x9e37_79b9 ^ (t as u64 + 1);
                        let mut live: std::collections::VecDeque<Vec<u8>> =
                            std::collections::VecDeque::with_capacity(8);
                        let mut n = 0u64;
                        while !stop.load(Relaxed) {
                            // log-uniform in [2^6, 2^20]
                            let bits = 6 + next(&mut state) % 15;
                            let size = (1usize << bits) + (next(&mut state) as usize % (1 << bits));
                            let size = size.min(1 << 20);
                            let mut buf = vec![0u8; size];
                            for i in (0..size).step_by(4096) {
                                buf[i] = i as u8;
                            }
                            if live.len() == 8 {
                                live.pop_front();
                            }
                            live.push_back(buf);
                            n += 1;
                            allocs.fetch_add(1, Relaxed);
                            if n.is_multiple_of(16) {
                                R::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        });
    });
    let rates = monitor.join().expect("monitor thread");
    // `stop` is up (the monitor raised it): the sampler ends.
    sampler.join().expect("sampler thread");
    let after = rss_bytes().unwrap_or(0);
    Run {
        windows: rates,
        errors: 0,
        extra: vec![
            ("allocations", allocs.load(Relaxed) as f64),
            ("peak_rss_bytes", peak.load(Relaxed) as f64),
            ("rss_before_bytes", before as f64),
            ("rss_after_bytes", after as f64),
            (
                "rss_growth_after_bytes",
                after.saturating_sub(before) as f64,
            ),
        ],
    }
}

/// `stress.io_ops` on `workers` workers of `R` (see [`on_workers`]): `tasks` tasks (divided
/// among a thread-per-core runtime's threads) alternate a no-op and a 4 KiB read until the
/// duration ends. Ops: no-ops and reads that succeeded; errors: those that failed.
pub fn io_ops<R: Runtime>(
    workers: usize,
    options: &RunOptions,
    file: &TempFile,
    tasks: usize,
    duration: Duration,
) -> Run {
    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (ops, stop) = (ops.clone(), stop.clone());
        std::thread::spawn(move || windows(|| ops.load(Relaxed), stop, duration))
    };
    on_workers::<R, _>(workers, options, |rt, share| {
        let (ops, errors, stop) = (ops.clone(), errors.clone(), stop.clone());
        let path = file.path.clone();
        let tasks = share.of(tasks);
        rt.run(async move {
            let f = Arc::new(R::File::open(path).await.expect("open"));
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let (f, ops, errors, stop) =
                        (f.clone(), ops.clone(), errors.clone(), stop.clone());
                    R::spawn_local(async move {
                        let mut buf = Vec::with_capacity(4096);
                        while !stop.load(Relaxed) {
                            match R::io_nop().await {
                                Ok(()) => ops.fetch_add(1, Relaxed),
                                Err(_) => errors.fetch_add(1, Relaxed),
                            };
                            buf.clear();
                            let (r, b) = f.read_at(buf, 0).await;
                            buf = b;
                            match r {
                                Ok(4096) => ops.fetch_add(1, Relaxed),
                                _ => errors.fetch_add(1, Relaxed),
                            };
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        });
    });
    let rates = monitor.join().expect("monitor thread");
    let errors = errors.load(Relaxed);
    Run {
        windows: rates,
        errors,
        extra: vec![("ops", ops.load(Relaxed) as f64), ("errors", errors as f64)],
    }
}

/// A stress body, written once for every runtime.
trait StressBody: Sync {
    /// One whole run on runtime `R`.
    fn run<R: Runtime>(&self, ctx: &Ctx) -> Run;
}

struct OnRuntime<'a, B>(&'a B, &'a Ctx);

impl<B: StressBody> Visitor for OnRuntime<'_, B> {
    type Output = Run;

    fn visit<R: Runtime>(self) -> Run {
        self.0.run::<R>(self.1)
    }
}

/// Runs `body` once on each runtime of the run, in the run's order; each runtime's windows
/// are its samples (paired by index with the baseline's for the ratio).
fn outcome<B: StressBody>(ctx: &Ctx, body: &B) -> Result<Outcome, String> {
    let series = ctx
        .runtimes
        .iter()
        .map(|&name| {
            let mut run = rt::dispatch(name, OnRuntime(body, ctx))
                .ok_or_else(|| format!("unknown runtime {name:?}"))?;
            if rt::info(name).is_some_and(|i| i.thread_per_core) {
                let shards = ctx.cfg.workers as f64;
                run.extra.push(("thread_per_core_runtimes", shards));
            }
            Ok(Series {
                name,
                samples: run.windows,
                percentiles: None,
                errors: run.errors,
                extra: run.extra,
                no_verdict: None,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Outcome::one(Point {
        series,
        ..Point::default()
    }))
}

/// Fails loudly when a run lost or duplicated work.
fn check(name: &str, o: Outcome) -> Result<Outcome, String> {
    let failed: Vec<String> = o
        .points
        .iter()
        .flat_map(|p| &p.series)
        .filter(|s| s.errors != 0)
        .map(|s| format!("{} {} (accounting: {:?})", s.name, s.errors, s.extra))
        .collect();
    if !failed.is_empty() {
        return Err(format!("{name}: failures: {}", failed.join("; ")));
    }
    Ok(o)
}

/// Why a stress workload has no count per operation (`--measure`).
const NOT_COUNTED: &str =
    "a stress run's figure is a rate over a fixed time under overload, not a cost per operation";

fn task_scheduling_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    zbench_suite::measure::wall_clock_only(NOT_COUNTED)?;
    struct Body;
    impl StressBody for Body {
        fn run<R: Runtime>(&self, ctx: &Ctx) -> Run {
            task_scheduling::<R>(ctx.cfg.workers, &ctx.options, ctx.stress_duration)
        }
    }
    check("stress.task_scheduling", outcome(ctx, &Body)?)
}

fn memory_allocation_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    zbench_suite::measure::wall_clock_only(NOT_COUNTED)?;
    struct Body;
    impl StressBody for Body {
        fn run<R: Runtime>(&self, ctx: &Ctx) -> Run {
            let w = ctx.cfg.workers;
            memory_allocation::<R>(w, &ctx.options, 4 * w, ctx.stress_duration)
        }
    }
    outcome(ctx, &Body)
}

fn io_ops_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    zbench_suite::measure::wall_clock_only(NOT_COUNTED)?;
    struct Body(TempFile);
    impl StressBody for Body {
        fn run<R: Runtime>(&self, ctx: &Ctx) -> Run {
            io_ops::<R>(
                ctx.cfg.workers,
                &ctx.options,
                &self.0,
                16,
                ctx.stress_duration,
            )
        }
    }
    check("stress.io_ops", outcome(ctx, &Body(TempFile::new(4096)))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(200);

    #[test]
    fn every_task_is_accounted_for_on_every_runtime() {
        struct TaskScheduling;
        impl Visitor for TaskScheduling {
            type Output = Run;
            fn visit<R: Runtime>(self) -> Run {
                task_scheduling::<R>(2, &RunOptions::default(), SHORT)
            }
        }
        // Every runtime, the thread-per-core ones on a runtime per thread.
        for &name in rt::NAMES {
            let run = rt::dispatch(name, TaskScheduling).unwrap();
            assert_eq!(run.windows.len(), WINDOWS);
            assert_eq!(run.errors, 0, "{:?}", run.extra);
            let get = |k: &str| run.extra.iter().find(|e| e.0 == k).unwrap().1;
            assert!(get("tasks_spawned") > 0.0);
            assert_eq!(get("tasks_spawned"), get("tasks_ran"));
            assert_eq!(
                (get("checksum_ok"), get("success_percent")),
                (1.0, 100.0),
                "{name}"
            );
        }
    }

    #[test]
    fn a_lost_task_is_an_error() {
        let point = |errors: [u64; 2]| {
            Outcome::one(Point {
                series: vec![
                    Series {
                        errors: errors[0],
                        ..Series::new("zokio", vec![1.0])
                    },
                    Series {
                        errors: errors[1],
                        ..Series::new("smol", vec![1.0])
                    },
                ],
                ..Point::default()
            })
        };
        assert!(check("x", point([0, 1])).unwrap_err().contains("smol 1"));
        assert!(check("x", point([0, 0])).is_ok());
    }

    #[test]
    fn checksum_terms_differ() {
        assert_ne!(mix(1), mix(2));
        assert_ne!(mix(0), 0);
    }

    #[test]
    fn memory_and_io_runs_report_their_accounting() {
        let options = RunOptions::default();
        let get = |r: &Run, k: &str| r.extra.iter().find(|e| e.0 == k).unwrap().1;
        struct Allocations;
        impl Visitor for Allocations {
            type Output = Run;
            fn visit<R: Runtime>(self) -> Run {
                memory_allocation::<R>(2, &RunOptions::default(), 4, SHORT)
            }
        }
        for &name in rt::NAMES {
            let m = rt::dispatch(name, Allocations).unwrap();
            assert!(get(&m, "allocations") > 0.0, "{name}");
            assert!(get(&m, "peak_rss_bytes") >= get(&m, "rss_before_bytes"));
        }
        let f = TempFile::new(4096);
        for r in [
            io_ops::<Zokio>(2, &options, &f, 4, SHORT),
            io_ops::<Tokio>(2, &options, &f, 4, SHORT),
        ] {
            assert_eq!(r.errors, 0);
            assert!(get(&r, "ops") > 0.0);
        }
    }
}
