//! The catalogue of workloads `zbench` runs: names, units, parameters, claim ids, what
//! each needs of a runtime, and how it is measured (see [`crate::strategy`]) on every
//! runtime of the run against the baseline (Tokio, unless a point says otherwise).

use crate::measure::{MeasureConfig, Timed};
use crate::rt::{Cap, Runtime, Zokio};
use crate::strategy::{self, Flavor, HistogramBody, RateBody};
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
    /// The runtimes to measure, in report order (registered names, see
    /// [`crate::rt::NAMES`]). The runner passes each workload only those that have what it
    /// [needs](Workload::needs).
    pub runtimes: Vec<&'static str>,
    /// The runtime every ratio is taken against (`tokio` by default).
    pub baseline: &'static str,
}

impl Ctx {
    /// A context measuring `runtimes` against `baseline`, with child processes in-process.
    pub fn new(cfg: MeasureConfig, runtimes: Vec<&'static str>, baseline: &'static str) -> Ctx {
        Ctx {
            cfg,
            child_exe: None,
            stress_duration: std::time::Duration::from_secs(10),
            runtimes,
            baseline,
        }
    }

    /// Whether runtime `name` is measured.
    pub fn runs(&self, name: &str) -> bool {
        self.runtimes.contains(&name)
    }
}

/// One measured point of a workload: a series of samples per runtime (or per
/// implementation, for points that compare zokio's parts with a library), as measured
/// (ops/s for rate workloads; nanoseconds or bytes for the others). The runner converts
/// them to the workload's [`Figure`].
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// Parameters that vary between points (e.g. `workers`), added to the workload's.
    pub params: Vec<(&'static str, serde_json::Value)>,
    /// One series per runtime measured; sample `i` of every series comes from round `i`.
    pub series: Vec<Series>,
    /// The series every ratio is taken against; `None`: the run's baseline runtime.
    pub baseline: Option<&'static str>,
}

impl Point {
    /// A point of plain samples, one series per name.
    pub fn from_samples(series: Vec<(&'static str, Vec<f64>)>) -> Point {
        Point {
            series: series
                .into_iter()
                .map(|(name, samples)| Series::new(name, samples))
                .collect(),
            ..Point::default()
        }
    }

    /// The series of `name`, if measured.
    pub fn series(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }
}

/// One runtime's samples at one point, with what was measured beside them.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The runtime (or implementation) measured.
    pub name: &'static str,
    /// Samples, one per round.
    pub samples: Vec<f64>,
    /// Latency percentiles, for latency workloads.
    pub percentiles: Option<Percentiles>,
    /// Failed operations (stress workloads' accounting).
    pub errors: u64,
    /// Figures beside the main one (see `WorkloadResult::extra`).
    pub extra: Extra,
}

impl Series {
    /// Plain samples of `name`.
    pub fn new(name: &'static str, samples: Vec<f64>) -> Series {
        Series {
            name,
            samples,
            ..Series::default()
        }
    }
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
    /// An outcome of one point.
    pub fn one(point: Point) -> Outcome {
        Outcome {
            points: vec![point],
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
    /// What a runtime must offer to run it; any other runtime of the run is recorded as
    /// "not applicable" with the missing capability as the reason.
    pub needs: &'static [Cap],
    /// What one operation is, and anything a reader must know to interpret the figure.
    pub description: &'static str,
    /// Runs it on `ctx.runtimes`.
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

/// A rate workload on multi-thread runtimes of the run's worker count: `$body` is the body,
/// with `$rt` bound to each runtime in turn (and `$ctx` to the context, in the `with`
/// form).
macro_rules! multi_rate {
    (|$rt:ident| $body:expr) => {
        multi_rate!(with _ctx, |$rt| $body)
    };
    (with $ctx:ident, |$rt:ident| $body:expr) => {{
        struct Body;
        impl RateBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, $ctx: &Ctx) -> Timed {
                let _ = $ctx;
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            strategy::rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &Body).map(Outcome::one)
        }
    }};
}

/// A rate workload on current-thread runtimes.
macro_rules! current_rate {
    (|$rt:ident| $body:expr) => {{
        struct Body;
        impl RateBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, _ctx: &Ctx) -> Timed {
                Timed::from($body)
            }
        }
        |ctx: &Ctx| strategy::rates(ctx, Flavor::CurrentThread, &Body).map(Outcome::one)
    }};
}

/// A rate workload with one point per value of a parameter: `$param: $ty = [values]`, the
/// body sees the value as `$v`.
macro_rules! sweep_rate {
    ($param:ident: $ty:ty = $values:expr, |$rt:ident, $v:ident| $body:expr) => {{
        struct Body($ty);
        impl RateBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, _ctx: &Ctx) -> Timed {
                let $v: $ty = self.0;
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            let points = strategy::sweep(ctx, stringify!($param), &$values, Body)?;
            Ok(Outcome { points })
        }
    }};
}

/// A rate workload with one point per worker count, 1 to the machine's cores.
macro_rules! scaling_rate {
    (|$rt:ident| $body:expr) => {{
        struct Body;
        impl RateBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, _ctx: &Ctx) -> Timed {
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            let points = strategy::scaling(ctx, &Body)?;
            Ok(Outcome { points })
        }
    }};
}

/// A latency workload: `$body` records `$n` values on `$rt` into a histogram.
macro_rules! latency {
    ($per_round:expr, |$rt:ident, $n:ident| $body:expr) => {{
        struct Body;
        impl HistogramBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, $n: usize) -> hdrhistogram::Histogram<u64> {
                $body
            }
        }
        |ctx: &Ctx| strategy::histograms(ctx, $per_round, &Body).map(Outcome::one)
    }};
}

/// What every multi-thread workload needs.
const MULTI: &[Cap] = &[Cap::MultiThread];
/// What every current-thread workload needs.
const CURRENT: &[Cap] = &[Cap::CurrentThread];

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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: CURRENT,
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
            needs: CURRENT,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: &[],
            description: "size of the future of a trivial async fn(u64) -> u64 (compile time, same for every runtime)",
            run: |ctx| {
                let (size, _output) = asyncfn::future_size();
                let each = ctx.runtimes.iter().map(|&name| (name, vec![size as f64])).collect();
                Ok(Outcome::one(Point::from_samples(each)))
            },
        },
        Workload {
            name: "zsync.dispatch_invoke",
            unit: "ns/op",
            params: &[("calls", "1000000")],
            claims: &["zsync.dispatch_invoke"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            needs: MULTI,
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
            needs: CURRENT,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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

/// The latency percentiles of a histogram (for workloads outside this crate).
pub fn percentiles_of(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
    strategy::percentiles(h)
}

/// Round trips per sample in `sync.notify_ping_pong`.
pub const NOTIFY_ROUNDS: usize = 100_000;

/// Lock operations per sample in the mutex and semaphore workloads.
pub const LOCK_OPS: usize = 200_000;

/// A point of one of zokio's parts against a library's equivalent (named `reference`),
/// both outside any runtime, measured only when zokio is in the run.
fn reference_point(
    ctx: &Ctx,
    reference: &'static str,
    mut zokio: impl FnMut() -> Timed,
    mut other: impl FnMut() -> Timed,
) -> Result<Option<Point>, String> {
    use crate::measure::{interleave, rate, Sampler, WarmUp};
    if !ctx.runs(Zokio::NAME) {
        return Ok(None);
    }
    let mut samplers: Vec<Sampler<'_, Result<f64, String>>> = vec![
        Box::new(|_| Ok(rate(&mut zokio))),
        Box::new(|_| Ok(rate(&mut other))),
    ];
    let out = interleave(ctx.cfg.rounds, WarmUp::For(ctx.cfg.warmup), &mut samplers)?;
    let mut out = out.into_iter();
    let mut p = Point::from_samples(vec![
        (Zokio::NAME, out.next().unwrap_or_default()),
        (reference, out.next().unwrap_or_default()),
    ]);
    p.baseline = Some(reference);
    Ok(Some(p))
}

/// Acquire + release pairs per sample in `sched.object_pool`.
pub const POOL_OPS: usize = 1_000_000;

/// `sched.object_pool`: one point per thread count (1 = uncontended, 2 = contended).
fn object_pool_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::pool::{cycles, ArrayQueuePool, ZokioPool};
    let mut points = Vec::new();
    for threads in [1usize, 2] {
        let p = reference_point(
            ctx,
            "crossbeam-ArrayQueue",
            || cycles::<ZokioPool>(threads, POOL_OPS),
            || cycles::<ArrayQueuePool>(threads, POOL_OPS),
        )?;
        points.extend(p.map(|mut p| {
            p.params = vec![("threads", threads.into())];
            p
        }));
    }
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
            needs: &[],
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
            needs: &[],
            description: "owner push + pop on zokio's run queue vs crossbeam-deque (Tokio's queue is private); ops = items pushed and popped",
            run: |ctx| {
                let rounds = QUEUE_ITEMS / (2 * queue::BURST);
                let p = reference_point(ctx, "crossbeam-deque", || queue::owner::<queue::ZokioQueue>(rounds).into(), || queue::owner::<queue::CrossbeamQueue>(rounds).into())?;
                Ok(Outcome { points: p.into_iter().collect() })
            },
        },
        Workload {
            name: "sched.work_stealing_queue_thief",
            unit: "items/s",
            params: &[("burst", "128"), ("items", "1000000"), ("threads", "2")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: &[],
            description: "owner pushes and pops while a thief thread steals half at a time; ops = items taken by either side",
            run: |ctx| {
                let p = reference_point(ctx, "crossbeam-deque", || queue::with_thief::<queue::ZokioQueue>(QUEUE_ITEMS), || queue::with_thief::<queue::CrossbeamQueue>(QUEUE_ITEMS))?;
                Ok(Outcome { points: p.into_iter().collect() })
            },
        },
        Workload {
            name: "latency.task_wakeup",
            unit: "ns",
            params: &[("wakeups_per_round", "200"), ("waker", "foreign_thread"), ("grace_us", "200")],
            claims: &["latency.task_wakeup"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "wake() from a plain thread to the task running; samples are per-round p50s, percentiles over all rounds",
            run: latency!(WAKEUPS_PER_ROUND, |rt, n| crate::workloads::latency::task_wakeup(rt, n)),
        },
        Workload {
            name: "memory.per_task",
            unit: "bytes/task",
            params: &[("tasks", "1000000"), ("process", "fresh per runtime")],
            claims: &["memory.per_task"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "RSS growth per idle task (each waiting on a shared gate), one child process per measurement",
            run: |ctx| strategy::child_processes(ctx, Job::IdleTaskMemory, IDLE_TASKS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "memory.io_driver",
            unit: "bytes",
            params: &[("drivers", "32"), ("process", "fresh per runtime")],
            claims: &["memory.io_driver"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            needs: &[Cap::CurrentThread, Cap::Tcp, Cap::Files],
            description: "RSS growth (io_uring rings included: RSS counts them on Linux 6.x; any ring memory it leaves out is added from smaps) per current-thread runtime, each holding one I/O driver with a listener registered and one no-op done; includes the small scheduler core and timer shard around the driver",
            run: |ctx| strategy::child_processes(ctx, Job::IoDriverMemory, IO_DRIVERS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "memory.scheduler_per_worker",
            unit: "bytes/worker",
            params: &[("workers_compared", "1 and 33"), ("process", "fresh per runtime")],
            claims: &["memory.scheduler_per_worker"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            needs: MULTI,
            description: "RSS per extra started worker (thread stack pages, TLS and allocator arenas included); RSS granularity makes it noisy by a few KiB",
            run: |ctx| strategy::child_processes(ctx, Job::PerWorkerMemory, MEMORY_WORKERS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "scale.concurrent_tasks",
            unit: "bytes/task",
            params: &[("process", "fresh per runtime")],
            claims: &["scale.concurrent_tasks"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "bytes per idle task at 10^4, 10^5 and 10^6 live tasks",
            run: |ctx| {
                let points = [10_000usize, 100_000, 1_000_000]
                    .into_iter()
                    .map(|n| strategy::child_processes(ctx, Job::IdleTaskMemory, n, vec![("tasks", n.into())]))
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
            needs: MULTI,
            description: "spawn throughput at 1..=cores workers; the claim is judged on efficiency vs 1 worker",
            run: scaling_rate!(|rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "scale.workers_yield",
            unit: "yields/s",
            params: &[("tasks", "200"), ("yields_per_task", "1000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "yield throughput at 1..=cores workers",
            run: scaling_rate!(|rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
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

fn io_ops_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{io_ops, TempFile};
    struct IoOps(TempFile);
    impl RateBody for IoOps {
        fn run<R: Runtime>(&self, rt: &R, _ctx: &Ctx) -> Timed {
            io_ops(rt, &self.0, IO_TASKS, IO_READS, IO_READ_BYTES).into()
        }
    }
    let body = IoOps(TempFile::new(IO_READ_BYTES));
    strategy::rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &body).map(Outcome::one)
}

/// Files of `fs.read_64k`, and files read per sample.
pub const FILE_COUNT: usize = 64;
/// Bytes per file in `fs.read_64k`.
pub const FILE_BYTES: usize = 64 * 1024;
/// Files read per sample in `fs.read_64k`.
pub const FILE_READS: usize = 4_096;

fn file_read_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{whole_file_reads, TempFiles};
    struct Reads<'a>(&'a TempFiles, usize);
    impl RateBody for Reads<'_> {
        fn run<R: Runtime>(&self, rt: &R, _ctx: &Ctx) -> Timed {
            whole_file_reads(rt, self.0, self.1, FILE_READS).into()
        }
    }
    let files = TempFiles::new(FILE_COUNT, FILE_BYTES);
    let points = strategy::sweep(ctx, "tasks", &[1usize, 16], |tasks| Reads(&files, tasks))?;
    Ok(Outcome { points })
}

/// Submissions timed per sample in `latency.io_submission`.
pub const IO_SUBMISSIONS: usize = 1_000;

/// The baseline name of a point measured on zokio only (`zsync.batch`).
pub const NO_BASELINE: &str = "none";

/// Driver instances built in `memory.io_driver`.
pub const IO_DRIVERS: usize = 32;

fn batch_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{zokio_batch, TempFile};
    if !ctx.runs(Zokio::NAME) {
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
            series: vec![Series::new(Zokio::NAME, samples)],
            baseline: Some(NO_BASELINE),
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
            needs: &[Cap::MultiThread, Cap::Tcp],
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
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "round-trip time of 64-byte echoes over 64 connections on 127.0.0.1; samples are per-round p50s, percentiles over all round trips",
            run: latency!(ECHO_LATENCY_PER_ROUND, |rt, n| crate::workloads::io::tcp_echo_latency(rt, ECHO_CONNECTIONS, n)),
        },
        Workload {
            name: "sched.io_ops",
            unit: "ops/s",
            params: &[("tasks", "16"), ("iterations", "20000"), ("bytes", "4096"), ("operation", "no-op + file read_at")],
            claims: &["sched.io_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files],
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
            needs: &[Cap::MultiThread, Cap::Files],
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
            needs: &[Cap::MultiThread, Cap::Files],
            description: "time to submit one no-op to the I/O driver, not its completion: 1,000 no-op futures polled once each inside a task, only that loop timed. zokio on io_uring: an SQE pushed on the worker's ring; on epoll and on Tokio: a closure handed to the blocking pool",
            run: multi_rate!(|rt| crate::workloads::io::io_submission(rt, IO_SUBMISSIONS)),
        },
        Workload {
            name: "zsync.batch",
            unit: "ops/syscall",
            params: &[("tasks", "16"), ("iterations", "20000"), ("load", "sched.io_ops loop"), ("baseline", "none: Tokio has no submission queue")],
            claims: &["zsync.batch"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
            description: "how late a 1 ms sleep completes (elapsed - 1 ms); samples are per-round p50s, percentiles over all sleeps",
            run: latency!(SLEEPS_PER_ROUND, |rt, n| crate::workloads::timers::sleep_precision(rt, n)),
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: &[Cap::MultiThread, Cap::Mutex],
            description: "2 to 8 tasks take turns on one async mutex (lock, increment, unlock); every increment is counted. With 2 tasks a round either starts them on two workers, where they contend and the fair lock hands over on every unlock (a convoy, one task switch per lock), or on one, where they never contend (each runs a coop budget's worth of locks per turn). Both runtimes' rounds split between the two (in two full runs here: Tokio 1-5M and 6-13M locks/s, zokio 3.5-7.6M and, since its locks spend coop budget, sometimes 8-15M), so each median depends on which regime was more frequent in that run",
            run: sweep_rate!(tasks: usize = [2, 3, 4, 5, 6, 7, 8], |rt, n| crate::workloads::channels::mutex(rt, n, LOCK_OPS)),
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
            needs: &[Cap::MultiThread, Cap::Semaphore],
            description: "4 tasks acquire and release one permit of a 2-permit semaphore in a loop. held_across=none: a task releases its permit before its next .await, so on 2 workers at most two permits are ever held and nobody waits; the figure is acquire and release on a count both workers share. held_across=yield: each task yields once while it holds its permit, so two tasks are always queued for one and every acquire waits for a release to grant it (enqueue, wake, hand-over)",
            run: sweep_rate!(held_across: &'static str = ["none", "yield"], |rt, held| crate::workloads::channels::semaphore(rt, 4, 2, LOCK_OPS, held == "yield")),
        },
        Workload {
            name: "sync.notify_ping_pong",
            unit: "round trips/s",
            params: &[("rounds", "100000")],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Notify],
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
            needs: MULTI,
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
            needs: &[Cap::MultiThread, Cap::RemoteSpawn],
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: MULTI,
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
            needs: CURRENT,
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
    fn every_workload_runs_once_on_every_runtime_with_known_claims() {
        let mut ctx = Ctx::new(
            MeasureConfig {
                warmup: Duration::ZERO,
                rounds: 1,
                workers: 2,
            },
            crate::rt::NAMES.to_vec(),
            "tokio",
        );
        ctx.stress_duration = Duration::from_millis(300);
        for w in workloads() {
            for claim in w.claims {
                assert!(
                    zbench_report::claims::claim(claim).is_some(),
                    "{}: unknown claim {claim}",
                    w.name
                );
            }
            let mut ctx = ctx.clone();
            ctx.runtimes
                .retain(|name| crate::rt::info(name).is_some_and(|i| i.lacks(w.needs).is_none()));
            let out = (w.run)(&ctx).unwrap_or_else(|e| panic!("{}: {e}", w.name));
            let epoll_only = w.name == "zsync.batch"
                && Zokio::current_thread().metrics().io_driver() == zokio::runtime::IoDriver::Epoll;
            assert!(!out.points.is_empty() || epoll_only, "{}", w.name);
            for p in &out.points {
                let expected: Vec<&str> = match p.baseline {
                    Some(NO_BASELINE) => vec![Zokio::NAME],
                    Some(reference) => vec![Zokio::NAME, reference],
                    None => ctx.runtimes.clone(),
                };
                let names: Vec<&str> = p.series.iter().map(|s| s.name).collect();
                assert_eq!(names, expected, "{}", w.name);
                for s in &p.series {
                    assert!(!s.samples.is_empty(), "{} {}", w.name, s.name);
                    assert!(
                        s.samples.iter().all(|x| x.is_finite() && *x >= 0.0),
                        "{} {}",
                        w.name,
                        s.name
                    );
                }
            }
        }
    }
}
