//! Tokio's own scheduler benchmark shapes, run on every runtime as a cross-check of the
//! Tokio figures.

use super::{CURRENT, SHARED};
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
            needs: SHARED,
            description: "spawn empty tasks from a task and run them all",
            run: multi_rate!(|rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_remote_idle",
            unit: "tasks/s",
            params: &[("tasks", N(NUM_SPAWN)), ("spawned_from", T("outside"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::SharedWorkers, Cap::RemoteSpawn],
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
            needs: SHARED,
            description: "tasks yielding to the scheduler",
            run: multi_rate!(|rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
        },
        Workload {
            name: "tokio_shapes.ping_pong",
            unit: "pings/s",
            params: &[("pings", N(NUM_PINGS))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: SHARED,
            description: "spawn a partner task and exchange one oneshot message each way",
            run: multi_rate!(|rt| ping_pong(rt, NUM_PINGS)),
        },
        Workload {
            name: "tokio_shapes.chained_spawn",
            unit: "tasks/s",
            params: &[("chain", N(CHAIN_LEN))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: SHARED,
            description: "each task spawns the next",
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
