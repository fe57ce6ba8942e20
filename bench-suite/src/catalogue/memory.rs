//! Memory: resident bytes per idle task, per I/O driver and per worker, each measured in
//! a fresh child process per runtime and round. "Resident" is RSS without the pages of
//! mapped files (the binary's code, libraries): `workloads::memory::resident_bytes`.

use super::MULTI;
use crate::child::Job;
use crate::rt::Cap;
use crate::strategy::{self};
use crate::suite::{Figure, Outcome, Param::*, Workload};

/// Idle tasks alive in `memory.per_task` (CLAIMS.md: 1M).
pub const IDLE_TASKS: usize = 1_000_000;

/// Workers of the larger runtime in `memory.scheduler_per_worker`.
pub const MEMORY_WORKERS: usize = 33;

/// Driver instances built in `memory.io_driver`.
pub const IO_DRIVERS: usize = 32;

/// The memory workloads and `scale.concurrent_tasks`.
pub(super) fn memory() -> Vec<Workload> {
    vec![
        Workload {
            name: "memory.per_task",
            unit: "bytes/task",
            params: &[("tasks", N(IDLE_TASKS)), ("process", T("fresh per runtime"))],
            claims: &["memory.per_task"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "growth of resident memory, code pages left out, per idle task (each waiting on a shared gate), one child process per measurement; a thread-per-core runtime holds them all on one of its runtimes",
            run: |ctx| strategy::child_processes(ctx, Job::IdleTaskMemory, IDLE_TASKS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "memory.per_task_oneshot",
            unit: "bytes/task",
            params: &[("tasks", N(IDLE_TASKS)), ("waits_on", T("a oneshot channel of its own (the runtime's)")), ("process", T("fresh per runtime"))],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "growth of resident memory, code pages left out, per task waiting on its own oneshot channel of the runtime (task and channel; the harness holds the senders), one child process per measurement; a thread-per-core runtime holds them all on one of its runtimes",
            run: |ctx| strategy::child_processes(ctx, Job::OneshotTaskMemory, IDLE_TASKS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "memory.io_driver",
            unit: "bytes",
            params: &[("drivers", N(IO_DRIVERS)), ("process", T("fresh per runtime"))],
            claims: &["memory.io_driver"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            needs: &[Cap::CurrentThread, Cap::Tcp, Cap::Files, Cap::IoNop],
            description: "growth of resident memory, code pages left out (io_uring rings included: RSS counts them on Linux 6.x; any ring memory it leaves out is added from smaps), per current-thread runtime, each holding one I/O driver with a listener registered and one no-op done; includes the small scheduler core and timer shard around the driver",
            run: |ctx| strategy::child_processes(ctx, Job::IoDriverMemory, IO_DRIVERS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "memory.scheduler_per_worker",
            unit: "bytes/worker",
            params: &[("workers_compared", T("1 and 33")), ("process", T("fresh per runtime"))],
            claims: &["memory.scheduler_per_worker"],
            figure: Figure::LowerIsBetter,
            multi_thread: false,
            needs: MULTI,
            description: "resident memory, code pages left out, per extra started worker (thread stack pages, TLS and allocator arenas included; a thread-per-core runtime's worker is a thread with its own runtime); page granularity makes it noisy by a few KiB",
            run: |ctx| strategy::child_processes(ctx, Job::PerWorkerMemory, MEMORY_WORKERS, Vec::new()).map(Outcome::one),
        },
        Workload {
            name: "scale.concurrent_tasks",
            unit: "bytes/task",
            params: &[("process", T("fresh per runtime"))],
            claims: &["scale.concurrent_tasks"],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "bytes per idle task at 10^4, 10^5 and 10^6 live tasks; a thread-per-core runtime holds them all on one of its runtimes",
            run: |ctx| {
                let points = [10_000usize, 100_000, 1_000_000]
                    .into_iter()
                    .map(|n| strategy::child_processes(ctx, Job::IdleTaskMemory, n, vec![("tasks", n.into())]))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Outcome { points })
            },
        },
    ]
}
