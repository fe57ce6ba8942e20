//! Scaling: throughput at 1 to the machine's cores workers.

use super::SHARED;
use crate::measure::Timed;
use crate::rt::Runtime;
use crate::strategy::{self, RateBody};
use crate::suite::{Ctx, Figure, Outcome, Param::*, Workload};
use crate::workloads::scheduler::*;

/// Throughput against worker count.
pub(super) fn scale() -> Vec<Workload> {
    vec![
        Workload {
            name: "scale.workers",
            unit: "tasks/s",
            params: &[("tasks", N(NUM_SPAWN)), ("spawned_from", T("task"))],
            claims: &["scale.workers"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: SHARED,
            description: "spawn throughput at 1..=cores workers; the claim is judged on efficiency vs 1 worker",
            run: scaling_rate!(|rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "scale.workers_yield",
            unit: "yields/s",
            params: &[("tasks", N(YIELD_TASKS)), ("yields_per_task", N(NUM_YIELD))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: SHARED,
            description: "yield throughput at 1..=cores workers",
            run: scaling_rate!(|rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
        },
    ]
}
