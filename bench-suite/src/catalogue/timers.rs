//! Timers: each runtime's own sleep.

use super::MULTI;
use crate::measure::Timed;
use crate::rt::Runtime;
use crate::strategy::{self, Flavor, HistogramBody, RateBody};
use crate::suite::{Ctx, Figure, Outcome, Param::*, Workload};

/// Sleeps per sample in `timers.sleep_throughput`, all pending at once.
pub const THROUGHPUT_SLEEPS: usize = 100_000;

/// 1 ms sleeps per runtime per round in `timers.sleep_precision`.
pub const SLEEPS_PER_ROUND: usize = 200;

/// Each runtime's own timers.
pub(super) fn timers() -> Vec<Workload> {
    use crate::workloads::timers::sleep_throughput;
    vec![
        Workload {
            name: "timers.sleep_throughput",
            unit: "sleeps/s",
            params: &[("tasks", N(THROUGHPUT_SLEEPS)), ("sleep_ms", N(1)), ("spawned_from", T("task")), ("joined", T("in spawn order"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "100,000 tasks each sleep 1 ms, all pending at once, joined in spawn order; spawn, timer registration, firing, wake-up and join included",
            run: multi_rate!(split ctx, |rt| sleep_throughput(rt, ctx.share(THROUGHPUT_SLEEPS))),
        },
        Workload {
            name: "timers.sleep_precision",
            unit: "ns",
            params: &[("sleep_ms", N(1)), ("sleeps_per_round", N(SLEEPS_PER_ROUND)), ("load", T("idle runtime"))],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: MULTI,
            description: "how late a 1 ms sleep completes (elapsed - 1 ms); samples are per-round p50s, percentiles over all sleeps",
            run: latency!(SLEEPS_PER_ROUND, |rt, n| crate::workloads::timers::sleep_precision(rt, n)),
        },
    ]
}
