//! Tokio's own scheduler benchmark shapes, run on every runtime as a cross-check of the
//! Tokio figures.

use super::{CURRENT, MULTI};
use crate::measure::Timed;
use crate::rt::{Cap, Runtime};
use crate::strategy::{self, Flavor, RateBody};
use crate::suite::{Ctx, Figure, Outcome, Param::*, Workload};
use crate::workloads::scheduler::*;

/// Tokio's own scheduler benchmark shapes, as a cross-check of our Tokio figures.
pub(super) fn tokio_shapes() -> Vec<Workload> {
    vec![
        Workload {
            name: "tokio_shapes.spawn_many_local",
            unit: "tasks/s",
            params: &[("tasks", N(NUM_SPAWN)), ("spawned_from", T("task"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "spawn empty tasks from a task and run them all",
            run: multi_rate!(split ctx, |rt| spawn_many_local(rt, ctx.share(NUM_SPAWN))),
        },
        Workload {
            name: "tokio_shapes.spawn_many_remote_idle",
            unit: "tasks/s",
            params: &[("tasks", N(NUM_SPAWN)), ("spawned_from", T("outside"))],
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
            params: &[("tasks", N(YIELD_TASKS)), ("yields_per_task", N(NUM_YIELD))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "tasks yielding to the scheduler",
            run: multi_rate!(split ctx, |rt| yield_many(rt, ctx.share(YIELD_TASKS), NUM_YIELD)),
        },
        Workload {
            name: "tokio_shapes.ping_pong",
            unit: "pings/s",
            params: &[("pings", N(NUM_PINGS))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "spawn a partner task and exchange one oneshot message each way",
            run: multi_rate!(split ctx, |rt| ping_pong(rt, ctx.share(NUM_PINGS))),
        },
        Workload {
            name: "tokio_shapes.chained_spawn",
            unit: "tasks/s",
            params: &[("chain", N(CHAIN_LEN))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "each task spawns the next (one chain: a thread-per-core runtime runs it on one thread)",
            run: multi_rate!(|rt| chained_spawn(rt, CHAIN_LEN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_current_thread",
            unit: "tasks/s",
            params: &[("flavor", T("current_thread")), ("tasks", N(NUM_SPAWN))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: CURRENT,
            description: "spawn empty tasks from block_on and run them all on one thread",
            run: current_rate!(|rt| spawn_many_current_thread(rt, NUM_SPAWN)),
        },
    ]
}
