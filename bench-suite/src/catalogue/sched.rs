//! Scheduling: spawning, yielding, polling, the building blocks the documents benchmark
//! on their own, zokio's run queue and object pool against libraries, and wake-up latency.

use super::{CURRENT, FOREIGN_WAKE, LOCAL, MULTI};
use crate::measure::Timed;
use crate::rt::Runtime;
use crate::rt::Zokio;
use crate::strategy::{self, Flavor, HistogramBody, RateBody};
use crate::suite::{Ctx, Figure, Outcome, Param::*, Point, Workload};
use crate::workloads::scheduler::*;
use crate::workloads::{asyncfn, primitives, queue};

/// Tasks per sample of `sched.task_scheduling`.
pub const TASK_SCHEDULING_TASKS: usize = 100_000;

/// Yields per task in the context-switch workloads.
pub const CONTEXT_SWITCH_YIELDS: usize = 10_000;

/// Spawn, join and context switches.
pub(super) fn scheduler() -> Vec<Workload> {
    vec![
        Workload {
            name: "sched.task_scheduling",
            unit: "tasks/s",
            params: &[
                ("tasks", N(TASK_SCHEDULING_TASKS)),
                ("spawned_from", T("task")),
            ],
            claims: &["sched.task_scheduling", "headline.vs_tokio"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "spawn small tasks from a task and run them all to completion (the spawning task waits for the last one)",
            run: multi_rate!(split ctx, |rt| spawn_many_local(rt, ctx.share(TASK_SCHEDULING_TASKS))),
        },
        Workload {
            name: "zsync.spawn",
            unit: "ns/op",
            params: &[("spawns", N(NUM_SPAWN)), ("spawned_from", T("task"))],
            claims: &["zsync.spawn"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            needs: MULTI,
            description: "spawn one empty task from a task and await its JoinHandle",
            run: multi_rate!(|rt| spawn_join(rt, NUM_SPAWN)),
        },
        Workload {
            name: "sched.local_spawn_many",
            unit: "tasks/s",
            params: &[
                ("flavor", T("current_thread")),
                ("tasks", N(NUM_SPAWN)),
                ("task_path", T("not_send")),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: LOCAL,
            description: "spawn empty tasks that are not Send from block_on onto the runtime's local-task path (LocalSet, LocalExecutor, a thread-per-core runtime's own spawn) and run them all",
            run: current_rate!(|rt| spawn_many_not_send(rt, NUM_SPAWN)),
        },
        Workload {
            name: "sched.local_chained_spawn",
            unit: "tasks/s",
            params: &[
                ("flavor", T("current_thread")),
                ("depth", N(CHAIN_LEN)),
                ("task_path", T("not_send")),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: LOCAL,
            description: "each task that is not Send spawns the next on the local-task path, 1,000 deep",
            run: current_rate!(|rt| chained_spawn_not_send(rt, CHAIN_LEN)),
        },
        Workload {
            name: "sched.local_ping_pong",
            unit: "pings/s",
            params: &[
                ("flavor", T("current_thread")),
                ("pings", N(NUM_PINGS)),
                ("task_path", T("not_send")),
            ],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: LOCAL,
            description: "tasks that are not Send each spawn a partner on the local-task path and exchange one message each way over oneshot channels",
            run: current_rate!(|rt| ping_pong_not_send(rt, NUM_PINGS)),
        },
        Workload {
            name: "latency.context_switch",
            unit: "ns/switch",
            params: &[
                ("flavor", T("current_thread")),
                ("tasks", N(2)),
                ("yields_per_task", N(CONTEXT_SWITCH_YIELDS)),
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
                ("flavor", T("current_thread")),
                ("tasks", N(2)),
                ("yields_per_task", N(CONTEXT_SWITCH_YIELDS)),
            ],
            claims: &["zsync.context_switch"],
            figure: Figure::Rate,
            multi_thread: false,
            needs: CURRENT,
            description: "latency.context_switch reported as a rate",
            run: current_rate!(|rt| yield_ping_pong(rt, CONTEXT_SWITCH_YIELDS)),
        },
    ]
}

/// Operations per sample for the micro workloads (async fn, polling, atomics, allocation).
pub const MICRO_OPS: usize = 1_000_000;

/// Async-fn costs and the other building blocks the documents benchmark on their own.
pub(super) fn building_blocks() -> Vec<Workload> {
    vec![
        Workload {
            name: "asyncfn.create",
            unit: "ops/s",
            params: &[("futures", N(MICRO_OPS))],
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
            params: &[("awaits", N(MICRO_OPS))],
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
            params: &[("chains", N(MICRO_OPS)), ("depth", N(asyncfn::NESTED_DEPTH))],
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
            params: &[("output_bytes", N(8))],
            claims: &["asyncfn.memory"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            needs: &[],
            description: "size of the future of a trivial async fn(u64) -> u64 (compile time, same for every runtime)",
            run: |ctx| {
                crate::measure::wall_clock_only("a future's size in bytes, known at compile time")?;
                let (size, _output) = asyncfn::future_size();
                let each = ctx.runtimes.iter().map(|&name| (name, vec![size as f64])).collect();
                Ok(Outcome::one(Point::from_samples(each)))
            },
        },
        Workload {
            name: "zsync.dispatch_invoke",
            unit: "ns/op",
            params: &[("calls", N(MICRO_OPS))],
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
            params: &[("flavor", T("current_thread")), ("spawns", N(NUM_SPAWN))],
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
            params: &[("polls", N(MICRO_OPS))],
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
            params: &[("tasks_per_worker", N(1)), ("ops_per_task", N(MICRO_OPS)), ("contended", T("no"))],
            claims: &["sched.atomic_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "one task per worker, each fetch_add on its own cache-padded counter",
            run: |ctx| atomic_ops_outcome(ctx, false),
        },
        Workload {
            name: "sched.atomic_ops_contended",
            unit: "ops/s",
            params: &[("tasks_per_worker", N(1)), ("ops_per_task", N(MICRO_OPS)), ("contended", T("yes"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "one task per worker, all fetch_add on one shared counter",
            run: |ctx| atomic_ops_outcome(ctx, true),
        },
        Workload {
            name: "sched.memory_allocation",
            unit: "ops/s",
            params: &[("block_bytes", N(primitives::TASK_BLOCK_BYTES)), ("allocations", N(MICRO_OPS))],
            claims: &["sched.memory_allocation"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "allocate and free a task-sized block in a task; both runtimes use the global allocator",
            run: multi_rate!(|rt| primitives::memory_allocation(rt, MICRO_OPS)),
        },
    ]
}

/// `sched.atomic_ops` (`contended`: `_contended`): one task per worker, on counters every
/// runtime of a thread-per-core run shares.
fn atomic_ops_outcome(ctx: &Ctx, contended: bool) -> Result<Outcome, String> {
    use primitives::Counters;
    #[derive(Clone)]
    struct Atomics(std::sync::Arc<Counters>, bool);
    impl RateBody for Atomics {
        const SPLIT: bool = true;
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            let tasks = ctx.share_range(ctx.cfg.workers);
            primitives::atomic_ops(rt, &self.0, tasks, MICRO_OPS, self.1).into()
        }
    }
    let body = Atomics(
        std::sync::Arc::new(Counters::new(ctx.cfg.workers)),
        contended,
    );
    strategy::rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &body).map(Outcome::one)
}

/// Wake-ups per runtime per round in `latency.task_wakeup`.
pub const WAKEUPS_PER_ROUND: usize = 200;

/// A point of one of zokio's parts against a library's equivalent (named `reference`),
/// both outside any runtime, measured only when zokio is in the run.
fn reference_point(
    ctx: &Ctx,
    reference: &'static str,
    mut zokio: impl FnMut() -> Timed,
    mut other: impl FnMut() -> Timed,
) -> Result<Option<Point>, String> {
    use crate::measure::{interleave, rate, Sampler};
    if !ctx.runs(Zokio::NAME) {
        return Ok(None);
    }
    let mut samplers: Vec<Sampler<'_, Result<f64, String>>> = vec![
        Box::new(|phase| {
            crate::measure::label(Zokio::NAME, phase);
            Ok(rate(&mut zokio))
        }),
        Box::new(|phase| {
            crate::measure::label(reference, phase);
            Ok(rate(&mut other))
        }),
    ];
    let out = interleave(ctx.cfg.rounds, ctx.cfg.warmup, &mut samplers)?;
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

/// zokio's run queue and object pool against libraries, and wake-up latency.
pub(super) fn references_and_latency() -> Vec<Workload> {
    vec![
        Workload {
            name: "sched.object_pool",
            unit: "ops/s",
            params: &[("ops", N(POOL_OPS)), ("capacity", N(crate::workloads::pool::CAPACITY)), ("object_bytes", N(64)), ("threads", T("1,2"))],
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
            params: &[("burst", N(queue::BURST)), ("items", N(QUEUE_ITEMS)), ("threads", N(1))],
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
            params: &[("burst", N(queue::BURST)), ("items", N(QUEUE_ITEMS)), ("threads", N(2))],
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
            params: &[("wakeups_per_round", N(WAKEUPS_PER_ROUND)), ("waker", T("foreign_thread")), ("grace_us", N(200))],
            claims: &["latency.task_wakeup"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: FOREIGN_WAKE,
            description: "wake() from a plain thread to the task running; samples are per-round p50s, percentiles over all rounds",
            run: latency!(WAKEUPS_PER_ROUND, |rt, n| crate::workloads::latency::task_wakeup(rt, n)),
        },
    ]
}
