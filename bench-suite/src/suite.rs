//! The catalogue of workloads `zbench` runs: names, units, parameters, claim ids, and how
//! each one is measured on zokio and its baseline (Tokio, unless a point says otherwise).

use crate::measure::{compare, Comparison, MeasureConfig};
use crate::rt::{Runtime, Tokio, Zokio};
use crate::workloads::scheduler::*;
use std::path::PathBuf;
use zbench_report::schema::Percentiles;

/// What a workload gets to run with.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Warm-up, rounds, worker count.
    pub cfg: MeasureConfig,
    /// The zbench executable, for workloads that measure in a fresh child process (memory);
    /// `None` runs them in-process (tests only: allocator reuse skews memory figures).
    pub child_exe: Option<PathBuf>,
    /// How long each runtime runs a stress workload (10 s; 2 s with `--quick`).
    pub stress_duration: std::time::Duration,
}

/// One measured point of a workload: samples of each side, as measured (ops/s for rate
/// workloads; nanoseconds or bytes for the others). The runner converts them to the
/// workload's [`Figure`].
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// Parameters that vary between points (e.g. `workers`), added to the workload's.
    pub params: Vec<(&'static str, serde_json::Value)>,
    /// zokio's samples.
    pub zokio: Vec<f64>,
    /// The baseline's samples; paired with zokio's by index when both have the same count.
    pub baseline: Vec<f64>,
    /// The baseline's name; `"tokio"` unless the claim compares with something else.
    pub baseline_name: &'static str,
    /// Latency percentiles of zokio and the baseline, for latency workloads.
    pub percentiles: Option<(Percentiles, Percentiles)>,
    /// Failed operations of zokio and the baseline (stress workloads' accounting).
    pub errors: (u64, u64),
    /// Figures beside the main one, of zokio and the baseline (see
    /// `WorkloadResult::extra`).
    pub extra: (Extra, Extra),
}

/// Named figures beside a point's main one (name with unit, value).
pub type Extra = Vec<(&'static str, f64)>;

/// Everything a workload measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// One or more points (scaling workloads have one per parameter value).
    pub points: Vec<Point>,
}

impl Outcome {
    /// A single point from an interleaved rate comparison (ops/s; the runner converts to
    /// the workload's [`Figure`]).
    pub fn from_rates(c: &Comparison) -> Outcome {
        Outcome {
            points: vec![Point {
                zokio: c.zokio.ops_per_sec.clone(),
                baseline: c.tokio.ops_per_sec.clone(),
                baseline_name: "tokio",
                ..Point::default()
            }],
        }
    }
}

/// One workload.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Stable name, `group.name`.
    pub name: &'static str,
    /// Unit of the reported figure.
    pub unit: &'static str,
    /// Fixed parameters, as recorded next to the figure (numbers are recorded as numbers).
    pub params: &'static [(&'static str, &'static str)],
    /// Claim ids (CLAIMS.md) this workload reproduces.
    pub claims: &'static [&'static str],
    /// What the recorded figure is (which way is better).
    pub figure: Figure,
    /// Whether it runs on a multi-thread runtime (then `workers` is recorded).
    pub multi_thread: bool,
    /// What one operation is, and anything a reader must know to interpret the figure.
    pub description: &'static str,
    /// Runs it.
    pub run: fn(&Ctx) -> Result<Outcome, String>,
}

/// How a workload's measured samples become its reported figure (applied by the runner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Operations per second, as measured (higher is better).
    Rate,
    /// Nanoseconds per operation, `1e9 / rate` (lower is better).
    NanosPerOp,
    /// A quantity where lower is better (bytes, nanoseconds of latency).
    LowerIsBetter,
}

impl Figure {
    /// Converts a measured sample into the reported figure: ops/s stay ops/s, or become
    /// nanoseconds per operation; a lower-is-better quantity is kept as is.
    pub fn report(self, measured: f64) -> f64 {
        match self {
            Figure::Rate | Figure::LowerIsBetter => measured,
            Figure::NanosPerOp => 1e9 / measured,
        }
    }

    /// Whether a larger reported figure is better.
    pub fn higher_is_better(self) -> bool {
        self == Figure::Rate
    }
}

impl Workload {
    /// The report group: the name up to the first dot.
    pub fn group(&self) -> &'static str {
        self.name.split('.').next().unwrap_or(self.name)
    }

    /// Parameters as `k=v k=v`.
    pub fn params_text(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Tasks per sample of `sched.task_scheduling`.
pub const TASK_SCHEDULING_TASKS: usize = 100_000;

/// Yields per task in the context-switch workloads.
pub const CONTEXT_SWITCH_YIELDS: usize = 10_000;

/// A multi-thread rate workload: `$body` runs once per sample with `$rt` bound to each
/// runtime in turn.
macro_rules! multi_rate {
    (|$rt:ident| $body:expr) => {
        multi_rate!(with _ctx, |$rt| $body)
    };
    (with $ctx:ident, |$rt:ident| $body:expr) => {
        |$ctx: &Ctx| {
            let z = Zokio::multi_thread($ctx.cfg.workers);
            let t = Tokio::multi_thread($ctx.cfg.workers);
            let c = compare(
                &$ctx.cfg,
                || {
                    let $rt = &z;
                    $body
                },
                || {
                    let $rt = &t;
                    $body
                },
            );
            Ok(Outcome::from_rates(&c))
        }
    };
}

/// A current-thread rate workload.
macro_rules! current_rate {
    (|$rt:ident| $body:expr) => {
        |ctx: &Ctx| {
            let z = Zokio::current_thread();
            let t = Tokio::current_thread();
            let c = compare(
                &ctx.cfg,
                || {
                    let $rt = &z;
                    $body
                },
                || {
                    let $rt = &t;
                    $body
                },
            );
            Ok(Outcome::from_rates(&c))
        }
    };
}

/// Every workload, in report order.
pub fn workloads() -> Vec<Workload> {
    let mut all = vec![
        Workload {
            name: "sched.task_scheduling",
            unit: "tasks/s",
            params: &[("tasks", "100000"), ("spawned_from", "task")],
            claims: &["sched.task_scheduling", "headline.vs_tokio"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "spawn small tasks from a task and run them all to completion",
            run: multi_rate!(|rt| spawn_many_local(rt, TASK_SCHEDULING_TASKS)),
        },
        Workload {
            name: "zsync.spawn",
            unit: "ns/op",
            params: &[("spawns", "10000"), ("spawned_from", "task")],
            claims: &["zsync.spawn"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            description: "spawn one empty task from a task and await its JoinHandle",
            run: multi_rate!(|rt| spawn_join(rt, NUM_SPAWN)),
        },
        Workload {
            name: "latency.context_switch",
            unit: "ns/switch",
            params: &[
                ("flavor", "current_thread"),
                ("tasks", "2"),
                ("yields_per_task", "10000"),
            ],
            claims: &["latency.context_switch"],
            figure: Figure::NanosPerOp,
            multi_thread: false,
            description: "two ready tasks on one thread take turns by yielding",
            run: current_rate!(|rt| yield_ping_pong(rt, CONTEXT_SWITCH_YIELDS)),
        },
        Workload {
            name: "zsync.context_switch",
            unit: "switches/s",
            params: &[
                ("flavor", "current_thread"),
                ("tasks", "2"),
                ("yields_per_task", "10000"),
            ],
            claims: &["zsync.context_switch"],
            figure: Figure::Rate,
            multi_thread: false,
            description: "latency.context_switch reported as a rate",
            run: current_rate!(|rt| yield_ping_pong(rt, CONTEXT_SWITCH_YIELDS)),
        },
    ];
    all.extend(building_blocks());
    all.extend(latency_memory_scale());
    all.extend(channels());
    all.extend(timers());
    all.extend(io());
    all.extend(tokio_shapes());
    all
}

/// Operations per sample for the micro workloads (async fn, polling, atomics, allocation).
pub const MICRO_OPS: usize = 1_000_000;

/// A static figure measured once per side (a size); an empty side was not run.
fn static_point(zokio: Vec<f64>, baseline: Vec<f64>) -> Outcome {
    Outcome {
        points: vec![Point {
            zokio,
            baseline,
            baseline_name: "tokio",
            ..Point::default()
        }],
    }
}

/// Async-fn costs and the other building blocks the documents benchmark on their own.
fn building_blocks() -> Vec<Workload> {
    use crate::workloads::{asyncfn, primitives};
    vec![
        Workload {
            name: "asyncfn.create",
            unit: "ops/s",
            params: &[("futures", "1000000")],
            claims: &["asyncfn.create"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "create an async fn future without polling it (the compiler's work: expect a ratio near 1)",
            run: multi_rate!(|rt| asyncfn::create(rt, MICRO_OPS)),
        },
        Workload {
            name: "asyncfn.await",
            unit: "ops/s",
            params: &[("awaits", "1000000")],
            claims: &["asyncfn.await"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "create and await a trivial async fn inside a task",
            run: multi_rate!(|rt| asyncfn::await_trivial(rt, MICRO_OPS)),
        },
        Workload {
            name: "asyncfn.nested",
            unit: "ops/s",
            params: &[("chains", "1000000"), ("depth", "8")],
            claims: &["asyncfn.nested"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "await a chain of 8 nested async fns; ops = chains",
            run: multi_rate!(|rt| asyncfn::nested(rt, MICRO_OPS)),
        },
        Workload {
            name: "asyncfn.memory",
            unit: "bytes",
            params: &[("output_bytes", "8")],
            claims: &["asyncfn.memory"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            description: "size of the future of a trivial async fn(u64) -> u64 (compile time, same for every runtime)",
            run: |ctx| {
                let (size, _output) = asyncfn::future_size();
                let side = |on: bool| if on { vec![size as f64] } else { Vec::new() };
                Ok(static_point(side(ctx.cfg.sides.zokio), side(ctx.cfg.sides.baseline)))
            },
        },
        Workload {
            name: "zsync.dispatch_invoke",
            unit: "ns/op",
            params: &[("calls", "1000000")],
            claims: &["zsync.dispatch_invoke"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            description: "look up an async fn in a HashMap of boxed handlers, call it, await the boxed future",
            run: multi_rate!(|rt| asyncfn::dispatch_invoke(rt, MICRO_OPS)),
        },
        Workload {
            name: "zsync.context_create",
            unit: "ns/op",
            params: &[("flavor", "current_thread"), ("spawns", "10000")],
            claims: &["zsync.context_create"],
            figure: Figure::NanosPerOp,
            multi_thread: false,
            description: "spawn a task without running it (only the spawn loop is timed)",
            run: current_rate!(|rt| primitives::spawn_without_running(rt, NUM_SPAWN)),
        },
        Workload {
            name: "sched.future_polling",
            unit: "polls/s",
            params: &[("polls", "1000000")],
            claims: &["sched.future_polling"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "poll an already-ready future with the task's own Context",
            run: multi_rate!(|rt| primitives::future_polling(rt, MICRO_OPS)),
        },
        Workload {
            name: "sched.atomic_ops",
            unit: "ops/s",
            params: &[("tasks_per_worker", "1"), ("ops_per_task", "1000000"), ("contended", "no")],
            claims: &["sched.atomic_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "one task per worker, each fetch_add on its own cache-padded counter",
            run: multi_rate!(with ctx, |rt| primitives::atomic_ops(rt, ctx.cfg.workers, MICRO_OPS, false)),
        },
        Workload {
            name: "sched.atomic_ops_contended",
            unit: "ops/s",
            params: &[("tasks_per_worker", "1"), ("ops_per_task", "1000000"), ("contended", "yes")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "one task per worker, all fetch_add on one shared counter",
            run: multi_rate!(with ctx, |rt| primitives::atomic_ops(rt, ctx.cfg.workers, MICRO_OPS, true)),
        },
        Workload {
            name: "sched.memory_allocation",
            unit: "ops/s",
            params: &[("block_bytes", "96"), ("allocations", "1000000")],
            claims: &["sched.memory_allocation"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "allocate and free a task-sized block in a task; both runtimes use the global allocator",
            run: multi_rate!(|rt| primitives::memory_allocation(rt, MICRO_OPS)),
        },
    ]
}

/// Wake-ups per runtime per round in `latency.task_wakeup`.
pub const WAKEUPS_PER_ROUND: usize = 200;

/// Idle tasks alive in `memory.per_task` (CLAIMS.md: 1M).
pub const IDLE_TASKS: usize = 1_000_000;

/// Workers of the larger runtime in `memory.scheduler_per_worker`.
pub const MEMORY_WORKERS: usize = 33;

/// Rounds of child-process memory measurements: 3 (alternating which runtime goes first),
/// whatever the run size, because a single RSS reading can be off by a few KiB.
fn memory_rounds(_ctx: &Ctx) -> usize {
    3
}

/// p50/p90/p99/p99.9/max of a histogram, as recorded (for workloads outside this crate).
pub fn percentiles_of(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
    percentiles(h)
}

fn percentiles(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
    Percentiles {
        p50: h.value_at_quantile(0.5) as f64,
        p90: h.value_at_quantile(0.9) as f64,
        p99: h.value_at_quantile(0.99) as f64,
        p999: h.value_at_quantile(0.999) as f64,
        max: h.max() as f64,
    }
}

fn task_wakeup_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::latency::task_wakeup;
    histogram_outcome(
        ctx,
        WAKEUPS_PER_ROUND,
        task_wakeup::<Zokio>,
        task_wakeup::<Tokio>,
    )
}

fn sleep_precision_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::timers::sleep_precision;
    histogram_outcome(
        ctx,
        SLEEPS_PER_ROUND,
        sleep_precision::<Zokio>,
        sleep_precision::<Tokio>,
    )
}

/// A latency workload: `run(rt, per_round)` records one round into a histogram. After a
/// quarter round of warm-up per runtime, rounds alternate which runtime goes first; each
/// round's p50 is one sample, and the percentiles are over every recorded value.
fn histogram_outcome(
    ctx: &Ctx,
    per_round: usize,
    run_zokio: fn(&Zokio, usize) -> hdrhistogram::Histogram<u64>,
    run_tokio: fn(&Tokio, usize) -> hdrhistogram::Histogram<u64>,
) -> Result<Outcome, String> {
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let t = Tokio::multi_thread(ctx.cfg.workers);
    let new_hist = || {
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
    };
    let (mut all_z, mut all_t) = (new_hist(), new_hist());
    let (mut zs, mut ts) = (Vec::new(), Vec::new());
    let sides = ctx.cfg.sides;
    if sides.zokio {
        run_zokio(&z, (per_round / 4).max(1));
    }
    if sides.baseline {
        run_tokio(&t, (per_round / 4).max(1));
    }
    for round in 0..ctx.cfg.rounds {
        let run_z = || sides.zokio.then(|| run_zokio(&z, per_round));
        let run_t = || sides.baseline.then(|| run_tokio(&t, per_round));
        let (hz, ht) = if round % 2 == 0 {
            let hz = run_z();
            (hz, run_t())
        } else {
            let ht = run_t();
            (run_z(), ht)
        };
        if let Some(hz) = hz {
            zs.push(hz.value_at_quantile(0.5) as f64);
            all_z.add(&hz).map_err(|e| e.to_string())?;
        }
        if let Some(ht) = ht {
            ts.push(ht.value_at_quantile(0.5) as f64);
            all_t.add(&ht).map_err(|e| e.to_string())?;
        }
    }
    Ok(Outcome {
        points: vec![Point {
            zokio: zs,
            baseline: ts,
            baseline_name: "tokio",
            percentiles: Some((percentiles(&all_z), percentiles(&all_t))),
            ..Point::default()
        }],
    })
}

/// Runs a child-process measurement for both runtimes, alternating which goes first.
fn child_point(
    ctx: &Ctx,
    job: crate::child::Job,
    n: usize,
    params: Vec<(&'static str, serde_json::Value)>,
) -> Result<Point, String> {
    let exe = ctx.child_exe.as_deref();
    let (mut zs, mut ts) = (Vec::new(), Vec::new());
    for round in 0..memory_rounds(ctx) {
        let order: [&str; 2] = if round % 2 == 0 {
            ["zokio", "tokio"]
        } else {
            ["tokio", "zokio"]
        };
        for rt in order {
            let v = crate::child::measure(exe, job, rt, n).map_err(|e| e.to_string())?;
            if rt == "zokio" {
                zs.push(v)
            } else {
                ts.push(v)
            }
        }
    }
    Ok(Point {
        params,
        zokio: zs,
        baseline: ts,
        baseline_name: "tokio",
        ..Point::default()
    })
}

/// One point per worker count from 1 to the machine's cores (at least 2).
fn scaling_points(ctx: &Ctx, shape: fn(&Zokio) -> u64, shape_t: fn(&Tokio) -> u64) -> Outcome {
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let points = (1..=cores)
        .map(|w| {
            let z = Zokio::multi_thread(w);
            let t = Tokio::multi_thread(w);
            let c = compare(&ctx.cfg, || shape(&z), || shape_t(&t));
            let mut p = Outcome::from_rates(&c).points.remove(0);
            p.params = vec![("workers", w.into())];
            p
        })
        .collect();
    Outcome { points }
}

/// One point per value of `param`, each runtime with `ctx.cfg.workers` workers (one runtime
/// of each for all the points).
fn param_points<V: Copy + Into<serde_json::Value>>(
    ctx: &Ctx,
    param: &'static str,
    values: &[V],
    shape: fn(&Zokio, V) -> u64,
    shape_t: fn(&Tokio, V) -> u64,
) -> Outcome {
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let t = Tokio::multi_thread(ctx.cfg.workers);
    let points = values
        .iter()
        .map(|&v| {
            let c = compare(&ctx.cfg, || shape(&z, v), || shape_t(&t, v));
            let mut p = Outcome::from_rates(&c).points.remove(0);
            p.params = vec![(param, v.into())];
            p
        })
        .collect();
    Outcome { points }
}

/// Round trips per sample in `sync.notify_ping_pong`.
pub const NOTIFY_ROUNDS: usize = 100_000;

/// Lock operations per sample in the mutex and semaphore workloads.
pub const LOCK_OPS: usize = 200_000;

/// A point of zokio's run queue against crossbeam-deque.
fn queue_point(
    ctx: &Ctx,
    z: impl FnMut() -> crate::measure::Timed,
    c: impl FnMut() -> crate::measure::Timed,
) -> Outcome {
    let cmp = compare(&ctx.cfg, z, c);
    let mut out = Outcome::from_rates(&cmp);
    out.points[0].baseline_name = "crossbeam-deque";
    out
}

/// Acquire + release pairs per sample in `sched.object_pool`.
pub const POOL_OPS: usize = 1_000_000;

/// `sched.object_pool`: one point per thread count (1 = uncontended, 2 = contended).
fn object_pool_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::pool::{cycles, ArrayQueuePool, ZokioPool};
    let points = [1usize, 2]
        .iter()
        .map(|&threads| {
            let c = compare(
                &ctx.cfg,
                || cycles::<ZokioPool>(threads, POOL_OPS),
                || cycles::<ArrayQueuePool>(threads, POOL_OPS),
            );
            let mut p = Outcome::from_rates(&c).points.remove(0);
            p.params = vec![("threads", threads.into())];
            p.baseline_name = "crossbeam-ArrayQueue";
            p
        })
        .collect();
    Ok(Outcome { points })
}

/// Items per sample in the run-queue workloads.
pub const QUEUE_ITEMS: usize = 1_000_000;

/// Latency, memory and scaling workloads.
fn latency_memory_scale() -> Vec<Workload> {
    use crate::child::Job;
    use crate::workloads::queue;
    vec![
        Workload {
            name: "sched.object_pool",
            unit: "ops/s",
            params: &[("ops", "1000000"), ("capacity", "64"), ("object_bytes", "64"), ("threads", "1,2")],
            claims: &["sched.object_pool"],
            figure: Figure::Rate,
            multi_thread: false,
            description: "acquire + release on zokio's ObjectPool vs a bare crossbeam ArrayQueue; threads=1 uncontended, threads=2 contended",
            run: object_pool_outcome,
        },
        Workload {
            name: "sched.work_stealing_queue",
            unit: "items/s",
            params: &[("burst", "128"), ("items", "1000000"), ("threads", "1")],
            claims: &["sched.work_stealing_queue"],
            figure: Figure::Rate,
            multi_thread: false,
            description: "owner push + pop on zokio's run queue vs crossbeam-deque (Tokio's queue is private); ops = items pushed and popped",
            run: |ctx| {
                let rounds = QUEUE_ITEMS / (2 * queue::BURST);
                Ok(queue_point(ctx, || queue::owner::<queue::ZokioQueue>(rounds).into(), || queue::owner::<queue::CrossbeamQueue>(rounds).into()))
            },
        },
        Workload {
            name: "sched.work_stealing_queue_thief",
            unit: "items/s",
            params: &[("burst", "128"), ("items", "1000000"), ("threads", "2")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            description: "owner pushes and pops while a thief thread steals half at a time; ops = items taken by either side",
            run: |ctx| Ok(queue_point(ctx, || queue::with_thief::<queue::ZokioQueue>(QUEUE_ITEMS), || queue::with_thief::<queue::CrossbeamQueue>(QUEUE_ITEMS))),
        },
        Workload {
            name: "latency.task_wakeup",
            unit: "ns",
            params: &[("wakeups_per_round", "200"), ("waker", "foreign_thread"), ("grace_us", "200")],
            claims: &["latency.task_wakeup"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            description: "wake() from a plain thread to the task running; samples are per-round p50s, percentiles over all rounds",
            run: task_wakeup_outcome,
        },
        Workload {
            name: "memory.per_task",
            unit: "bytes/task",
            params: &[("tasks", "1000000"), ("process", "fresh per runtime")],
            claims: &["memory.per_task"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            description: "RSS growth per idle task (each waiting on a shared gate), one child process per measurement",
            run: |ctx| {
                Ok(Outcome {
                    points: vec![child_point(ctx, Job::IdleTaskMemory, IDLE_TASKS, Vec::new())?],
                })
            },
        },
        Workload {
            name: "memory.io_driver",
            unit: "bytes",
            params: &[("drivers", "32"), ("process", "fresh per runtime")],
            claims: &["memory.io_driver"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            description: "RSS growth (io_uring rings included: RSS counts them on Linux 6.x; any ring memory it leaves out is added from smaps) per current-thread runtime, each holding one I/O driver with a listener registered and one no-op done; includes the small scheduler core and timer shard around the driver",
            run: |ctx| {
                Ok(Outcome {
                    points: vec![child_point(ctx, crate::child::Job::IoDriverMemory, IO_DRIVERS, Vec::new())?],
                })
            },
        },
        Workload {
            name: "memory.scheduler_per_worker",
            unit: "bytes/worker",
            params: &[("workers_compared", "1 and 33"), ("process", "fresh per runtime")],
            claims: &["memory.scheduler_per_worker"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            description: "RSS per extra started worker (thread stack pages, TLS and allocator arenas included); RSS granularity makes it noisy by a few KiB",
            run: |ctx| {
                Ok(Outcome {
                    points: vec![child_point(ctx, Job::PerWorkerMemory, MEMORY_WORKERS, Vec::new())?],
                })
            },
        },
        Workload {
            name: "scale.concurrent_tasks",
            unit: "bytes/task",
            params: &[("process", "fresh per runtime")],
            claims: &["scale.concurrent_tasks"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            description: "bytes per idle task at 10^4, 10^5 and 10^6 live tasks",
            run: |ctx| {
                let points = [10_000usize, 100_000, 1_000_000]
                    .into_iter()
                    .map(|n| child_point(ctx, Job::IdleTaskMemory, n, vec![("tasks", n.into())]))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Outcome { points })
            },
        },
        Workload {
            name: "scale.workers",
            unit: "tasks/s",
            params: &[("tasks", "10000"), ("spawned_from", "task")],
            claims: &["scale.workers"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "spawn throughput at 1..=cores workers; the claim is judged on efficiency vs 1 worker",
            run: |ctx| Ok(scaling_points(ctx, |rt| spawn_many_local(rt, NUM_SPAWN), |rt| spawn_many_local(rt, NUM_SPAWN))),
        },
        Workload {
            name: "scale.workers_yield",
            unit: "yields/s",
            params: &[("tasks", "200"), ("yields_per_task", "1000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "yield throughput at 1..=cores workers",
            run: |ctx| {
                Ok(scaling_points(ctx, |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD), |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)))
            },
        },
    ]
}

/// Sleeps per sample in `timers.sleep_throughput`, all pending at once (ISSUE 4: 100,000).
pub const THROUGHPUT_SLEEPS: usize = 100_000;

/// 1 ms sleeps per runtime per round in `timers.sleep_precision`.
pub const SLEEPS_PER_ROUND: usize = 200;

/// Connections and round trips per sample in the TCP echo workloads.
pub const ECHO_CONNECTIONS: usize = 64;
/// Round trips per connection per sample in `net.tcp_echo`.
pub const ECHO_ROUNDS: usize = 200;
/// Round trips per round in `latency.tcp_echo`.
pub const ECHO_LATENCY_PER_ROUND: usize = 3_200;
/// Reads per sample, concurrent tasks and read size in `sched.io_ops`.
pub const IO_READS: usize = 20_000;
/// Tasks issuing reads in `sched.io_ops`.
pub const IO_TASKS: usize = 16;
/// Bytes per read in `sched.io_ops`.
pub const IO_READ_BYTES: usize = 4096;

fn tcp_echo_latency_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::tcp_echo_latency;
    histogram_outcome(
        ctx,
        ECHO_LATENCY_PER_ROUND,
        |rt: &Zokio, n| tcp_echo_latency(rt, ECHO_CONNECTIONS, n),
        |rt: &Tokio, n| tcp_echo_latency(rt, ECHO_CONNECTIONS, n),
    )
}

fn io_ops_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{io_ops, TempFile};
    let file = TempFile::new(IO_READ_BYTES);
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let t = Tokio::multi_thread(ctx.cfg.workers);
    let c = compare(
        &ctx.cfg,
        || io_ops(&z, &file, IO_TASKS, IO_READS, IO_READ_BYTES),
        || io_ops(&t, &file, IO_TASKS, IO_READS, IO_READ_BYTES),
    );
    Ok(Outcome::from_rates(&c))
}

/// Files of `fs.read_64k`, and files read per sample.
pub const FILE_COUNT: usize = 64;
/// Bytes per file in `fs.read_64k`.
pub const FILE_BYTES: usize = 64 * 1024;
/// Files read per sample in `fs.read_64k`.
pub const FILE_READS: usize = 4_096;

fn file_read_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{whole_file_reads, TempFiles};
    let files = TempFiles::new(FILE_COUNT, FILE_BYTES);
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let t = Tokio::multi_thread(ctx.cfg.workers);
    let points = [1usize, 16]
        .into_iter()
        .map(|tasks| {
            let c = compare(
                &ctx.cfg,
                || whole_file_reads(&z, &files, tasks, FILE_READS),
                || whole_file_reads(&t, &files, tasks, FILE_READS),
            );
            let mut p = Outcome::from_rates(&c).points.remove(0);
            p.params = vec![("tasks", tasks.into())];
            p
        })
        .collect();
    Ok(Outcome { points })
}

/// Submissions timed per sample in `latency.io_submission`.
pub const IO_SUBMISSIONS: usize = 1_000;

fn io_submission_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::io_submission;
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let t = Tokio::multi_thread(ctx.cfg.workers);
    let c = compare(
        &ctx.cfg,
        || io_submission(&z, IO_SUBMISSIONS),
        || io_submission(&t, IO_SUBMISSIONS),
    );
    Ok(Outcome::from_rates(&c))
}

/// The baseline name of a point measured on zokio only (`zsync.batch`).
pub const NO_BASELINE: &str = "none";

/// Driver instances built in `memory.io_driver`.
pub const IO_DRIVERS: usize = 32;

fn batch_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{zokio_batch, TempFile};
    if !ctx.cfg.sides.zokio {
        return Ok(Outcome::default());
    }
    let file = TempFile::new(IO_READ_BYTES);
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let start = std::time::Instant::now();
    while start.elapsed() < ctx.cfg.warmup {
        zokio_batch(&z, &file, IO_TASKS, IO_READS, IO_READ_BYTES);
    }
    let Some(samples) = (0..ctx.cfg.rounds)
        .map(|_| zokio_batch(&z, &file, IO_TASKS, IO_READS, IO_READ_BYTES))
        .collect::<Option<Vec<f64>>>()
    else {
        // epoll has no submission queue: nothing to measure (the audit says "not run").
        eprintln!("zsync.batch: skipped, zokio runs the epoll driver here");
        return Ok(Outcome::default());
    };
    Ok(Outcome {
        points: vec![Point {
            zokio: samples,
            baseline_name: NO_BASELINE,
            ..Point::default()
        }],
    })
}

/// I/O through each runtime's driver and file API (127.0.0.1 and a temporary file).
fn io() -> Vec<Workload> {
    vec![
        Workload {
            name: "net.tcp_echo",
            unit: "round trips/s",
            params: &[("connections", "64"), ("bytes", "64"), ("round_trips_per_connection", "200"), ("peers", "same runtime")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "64 client tasks each echo 64-byte requests through a server task on 127.0.0.1, one request in flight per connection; both ends on the runtime under test",
            run: multi_rate!(|rt| crate::workloads::io::tcp_echo(rt, ECHO_CONNECTIONS, ECHO_ROUNDS)),
        },
        Workload {
            name: "latency.tcp_echo",
            unit: "ns",
            params: &[("connections", "64"), ("bytes", "64"), ("round_trips_per_round", "3200"), ("peers", "same runtime"), ("warm_up", "1 exchange per connection, not recorded")],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            description: "round-trip time of 64-byte echoes over 64 connections on 127.0.0.1; samples are per-round p50s, percentiles over all round trips",
            run: tcp_echo_latency_outcome,
        },
        Workload {
            name: "sched.io_ops",
            unit: "ops/s",
            params: &[("tasks", "16"), ("iterations", "20000"), ("bytes", "4096"), ("operation", "no-op + file read_at")],
            claims: &["sched.io_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "16 tasks each alternate a no-op through the I/O driver and a 4 KiB read at offset 0 of a temporary file; ops = no-ops + reads. zokio on io_uring: IORING_OP_NOP and IORING_OP_READ on the worker's ring; on epoll and on Tokio: blocking-pool round trips (an empty closure, a pread)",
            run: io_ops_outcome,
        },
        Workload {
            name: "fs.read_64k",
            unit: "files/s",
            params: &[("files", "64"), ("bytes", "65536"), ("reads", "4096"), ("operation", "open + read_at to end + close")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "1 task, then 16 tasks, read whole 64 KiB files (page cache warm) through the runtime's file API: open, read_at until end of file, close; every file checked. zokio on io_uring: OPENAT/READ on the ring; on epoll and on Tokio: the blocking pool",
            run: file_read_outcome,
        },
        Workload {
            name: "latency.io_submission",
            unit: "ns",
            params: &[("submissions", "1000"), ("operation", "no-op, first poll only")],
            claims: &["latency.io_submission"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            description: "time to submit one no-op to the I/O driver, not its completion: 1,000 no-op futures polled once each inside a task, only that loop timed. zokio on io_uring: an SQE pushed on the worker's ring; on epoll and on Tokio: a closure handed to the blocking pool",
            run: io_submission_outcome,
        },
        Workload {
            name: "zsync.batch",
            unit: "ops/syscall",
            params: &[("tasks", "16"), ("iterations", "20000"), ("load", "sched.io_ops loop"), ("baseline", "none: Tokio has no submission queue")],
            claims: &["zsync.batch"],
            figure: Figure::Rate,
            multi_thread: true,
            description: "zokio on io_uring only: SQEs per submitting io_uring_enter while 16 tasks run the sched.io_ops loop, from the runtime's metrics (io_submitted_entries / io_submit_calls)",
            run: batch_outcome,
        },
    ]
}

/// Each runtime's own timers.
fn timers() -> Vec<Workload> {
    use crate::workloads::timers::sleep_throughput;
    vec![
        Workload {
            name: "timers.sleep_throughput",
            unit: "sleeps/s",
            params: &[("tasks", "100000"), ("sleep_ms", "1"), ("spawned_from", "task"), ("joined", "in spawn order")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "100,000 tasks each sleep 1 ms, all pending at once, joined in spawn order; spawn, timer registration, firing, wake-up and join included",
            run: multi_rate!(|rt| sleep_throughput(rt, THROUGHPUT_SLEEPS)),
        },
        Workload {
            name: "timers.sleep_precision",
            unit: "ns",
            params: &[("sleep_ms", "1"), ("sleeps_per_round", "200"), ("load", "idle runtime")],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            description: "how late a 1 ms sleep completes (elapsed - 1 ms); samples are per-round p50s, percentiles over all sleeps",
            run: sleep_precision_outcome,
        },
    ]
}

/// Messages per sample in the channel workloads.
pub const CHANNEL_MESSAGES: usize = 1_000_000;

/// Round trips per sample in `sync.oneshot_request_reply`.
pub const REQUESTS: usize = 100_000;

/// Message passing through each runtime's own channels.
fn channels() -> Vec<Workload> {
    use crate::workloads::channels::{mpsc, mpsc_unbounded};
    vec![
        Workload {
            name: "sync.mpsc_bounded_1to1",
            unit: "msg/s",
            params: &[
                ("producers", "1"),
                ("capacity", "1024"),
                ("messages", "1000000"),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "one producer task, one consumer task, each runtime's bounded mpsc",
            run: multi_rate!(|rt| mpsc(rt, 1, CHANNEL_MESSAGES, 1024)),
        },
        Workload {
            name: "sync.mpsc_bounded_4to1",
            unit: "msg/s",
            params: &[
                ("producers", "4"),
                ("capacity", "1024"),
                ("messages", "1000000"),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "four producer tasks, one consumer task, each runtime's bounded mpsc",
            run: multi_rate!(|rt| mpsc(rt, 4, CHANNEL_MESSAGES, 1024)),
        },
        Workload {
            name: "sync.mpsc_unbounded_1to1",
            unit: "msg/s",
            params: &[("producers", "1"), ("messages", "1000000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "one producer task, one consumer task, each runtime's unbounded mpsc",
            run: multi_rate!(|rt| mpsc_unbounded(rt, 1, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.mpsc_unbounded_4to1",
            unit: "msg/s",
            params: &[("producers", "4"), ("messages", "1000000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "four producer tasks, one consumer task, each runtime's unbounded mpsc",
            run: multi_rate!(|rt| mpsc_unbounded(rt, 4, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.oneshot",
            unit: "channels/s",
            params: &[("channels", "1000000"), ("tasks", "1")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "one task creates a oneshot channel, sends through it and awaits the value, 1,000,000 times",
            run: multi_rate!(|rt| crate::workloads::channels::oneshot_create_send_recv(rt, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.oneshot_request_reply",
            unit: "round trips/s",
            params: &[("requests", "100000"), ("in_flight", "1")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "a client task sends requests carrying a oneshot sender over an unbounded mpsc to a server task and awaits each reply",
            run: multi_rate!(|rt| crate::workloads::channels::oneshot_request_reply(rt, REQUESTS)),
        },
        Workload {
            name: "sync.mutex_contended",
            unit: "locks/s",
            params: &[("ops", "200000"), ("tasks", "2,3,4,5,6,7,8")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "2 to 8 tasks take turns on one async mutex (lock, increment, unlock); every increment is counted. With 2 tasks a round either starts them on two workers, where they contend and the fair lock hands over on every unlock (a convoy, one task switch per lock), or on one, where they never contend (each runs a coop budget's worth of locks per turn). Both runtimes' rounds split between the two (in two full runs here: Tokio 1-5M and 6-13M locks/s, zokio 3.5-7.6M and, since its locks spend coop budget, sometimes 8-15M), so each median depends on which regime was more frequent in that run",
            run: |ctx| {
                Ok(param_points(
                    ctx,
                    "tasks",
                    &[2usize, 3, 4, 5, 6, 7, 8],
                    |rt, n| crate::workloads::channels::mutex(rt, n, LOCK_OPS),
                    |rt, n| crate::workloads::channels::mutex(rt, n, LOCK_OPS),
                ))
            },
        },
        Workload {
            name: "sync.semaphore",
            unit: "acquires/s",
            params: &[
                ("ops", "200000"),
                ("tasks", "4"),
                ("permits", "2"),
                ("held_across", "none,yield"),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "4 tasks acquire and release one permit of a 2-permit semaphore in a loop. held_across=none: a task releases its permit before its next .await, so on 2 workers at most two permits are ever held and nobody waits; the figure is acquire and release on a count both workers share. held_across=yield: each task yields once while it holds its permit, so two tasks are always queued for one and every acquire waits for a release to grant it (enqueue, wake, hand-over)",
            run: |ctx| {
                use crate::workloads::channels::semaphore;
                Ok(param_points(
                    ctx,
                    "held_across",
                    &["none", "yield"],
                    |rt, held| semaphore(rt, 4, 2, LOCK_OPS, held == "yield"),
                    |rt, held| semaphore(rt, 4, 2, LOCK_OPS, held == "yield"),
                ))
            },
        },
        Workload {
            name: "sync.notify_ping_pong",
            unit: "round trips/s",
            params: &[("rounds", "100000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "two tasks pass the turn back and forth through two Notify (notify_one, notified)",
            run: multi_rate!(|rt| crate::workloads::channels::notify_ping_pong(rt, NOTIFY_ROUNDS)),
        },
    ]
}

/// Tokio's own scheduler benchmark shapes, as a cross-check of our Tokio figures.
fn tokio_shapes() -> Vec<Workload> {
    vec![
        Workload {
            name: "tokio_shapes.spawn_many_local",
            unit: "tasks/s",
            params: &[("tasks", "10000"), ("spawned_from", "task")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "spawn empty tasks from a task and run them all",
            run: multi_rate!(|rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_remote_idle",
            unit: "tasks/s",
            params: &[("tasks", "10000"), ("spawned_from", "outside")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "spawn empty tasks from outside the runtime, then join them",
            run: multi_rate!(|rt| spawn_many_remote_idle(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.yield_many",
            unit: "yields/s",
            params: &[("tasks", "200"), ("yields_per_task", "1000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "tasks yielding to the scheduler",
            run: multi_rate!(|rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
        },
        Workload {
            name: "tokio_shapes.ping_pong",
            unit: "pings/s",
            params: &[("pings", "1000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "spawn a partner task and exchange one oneshot message each way",
            run: multi_rate!(|rt| ping_pong(rt, NUM_PINGS)),
        },
        Workload {
            name: "tokio_shapes.chained_spawn",
            unit: "tasks/s",
            params: &[("chain", "1000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            description: "each task spawns the next",
            run: multi_rate!(|rt| chained_spawn(rt, CHAIN_LEN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_current_thread",
            unit: "tasks/s",
            params: &[("flavor", "current_thread"), ("tasks", "10000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            description: "spawn empty tasks from block_on and run them all on one thread",
            run: current_rate!(|rt| spawn_many_current_thread(rt, NUM_SPAWN)),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_are_unique_and_grouped() {
        let all = workloads();
        let mut names: Vec<_> = all.iter().map(|w| w.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|w| w.name.contains('.')));
    }

    #[test]
    fn every_workload_runs_once_on_both_sides_with_known_claims() {
        let ctx = Ctx {
            cfg: MeasureConfig {
                warmup: Duration::ZERO,
                rounds: 1,
                workers: 2,
                sides: crate::measure::Sides::BOTH,
            },
            child_exe: None,
            stress_duration: std::time::Duration::from_millis(300),
        };
        for w in workloads() {
            for claim in w.claims {
                assert!(
                    zbench_report::claims::claim(claim).is_some(),
                    "{}: unknown claim {claim}",
                    w.name
                );
            }
            let out = (w.run)(&ctx).unwrap_or_else(|e| panic!("{}: {e}", w.name));
            let epoll_only = w.name == "zsync.batch"
                && Zokio::current_thread().metrics().io_driver() == zokio::runtime::IoDriver::Epoll;
            assert!(!out.points.is_empty() || epoll_only, "{}", w.name);
            for p in &out.points {
                let no_baseline = p.baseline_name == NO_BASELINE;
                assert!(
                    !p.zokio.is_empty() && (no_baseline || !p.baseline.is_empty()),
                    "{}",
                    w.name
                );
                assert!(
                    p.zokio
                        .iter()
                        .chain(&p.baseline)
                        .all(|x| x.is_finite() && *x >= 0.0),
                    "{}",
                    w.name
                );
            }
        }
    }
}
