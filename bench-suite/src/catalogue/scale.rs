//! Scaling: throughput at 1 to the machine's cores workers.

use super::MULTI;
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
            needs: MULTI,
            description: "spawn throughput at 1..=cores workers; the claim is judged on efficiency vs 1 worker",
            run: scaling_rate!(split ctx, |rt| spawn_many_local(rt, ctx.share(NUM_SPAWN))),
        },
        Workload {
            name: "scale.workers_yield",
            unit: "yields/s",
            params: &[("tasks", N(YIELD_TASKS)), ("yields_per_task", N(NUM_YIELD))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "yield throughput at 1..=cores workers",
            run: scaling_rate!(split ctx, |rt| yield_many(rt, ctx.share(YIELD_TASKS), NUM_YIELD)),
        },
    ]
}
