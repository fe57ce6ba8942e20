//! The catalogue of workloads `zbench` runs, with their units and parameters.

use crate::measure::{compare, Comparison, MeasureConfig};
use crate::rt::{Runtime, Tokio, Zokio};
use crate::workloads::scheduler::*;

/// Worker threads for the multi-thread workloads (Tokio's bench uses 4; this project's
/// reference machine has 2 cores, and oversubscribing would measure the OS scheduler).
pub const WORKERS: usize = 2;

/// Tasks per sample of `sched.task_scheduling`.
pub const TASK_SCHEDULING_TASKS: usize = 100_000;

/// Yields per task in the context-switch workloads.
pub const CONTEXT_SWITCH_YIELDS: usize = 10_000;

/// One workload: how to run it on both runtimes.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Stable name, `group.name`.
    pub name: &'static str,
    /// Unit of the reported figure.
    pub unit: &'static str,
    /// Parameters, as recorded next to the figure (numbers are recorded as numbers).
    pub params: &'static [(&'static str, &'static str)],
    /// Claim ids (CLAIMS.md) this workload reproduces.
    pub claims: &'static [&'static str],
    /// What one operation is.
    pub description: &'static str,
    /// What the recorded figure is.
    pub figure: Figure,
    /// Runs the workload on zokio and Tokio, interleaved.
    pub run: fn(&MeasureConfig) -> Comparison,
}

/// How a workload's throughput samples are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Operations per second, as measured (higher is better).
    Rate,
    /// Nanoseconds per operation, `1e9 / rate` (lower is better).
    NanosPerOp,
}

impl Figure {
    /// Converts a measured ops/s sample into the reported figure.
    pub fn from_rate(self, ops_per_sec: f64) -> f64 {
        match self {
            Figure::Rate => ops_per_sec,
            Figure::NanosPerOp => 1e9 / ops_per_sec,
        }
    }

    /// Whether a larger reported figure is better.
    pub fn higher_is_better(self) -> bool {
        self == Figure::Rate
    }
}

fn multi<R: Runtime>() -> R {
    R::multi_thread(WORKERS)
}

macro_rules! shape {
    ($make:ident, |$rt:ident| $body:expr) => {
        |cfg: &MeasureConfig| {
            let z: Zokio = $make::<Zokio>();
            let t: Tokio = $make::<Tokio>();
            compare(
                cfg,
                || {
                    let $rt = &z;
                    $body
                },
                || {
                    let $rt = &t;
                    $body
                },
            )
        }
    };
}

fn current<R: Runtime>() -> R {
    R::current_thread()
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

/// Every workload, in report order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "sched.task_scheduling",
            unit: "tasks/s",
            params: &[
                ("workers", "2"),
                ("tasks", "100000"),
                ("spawned_from", "task"),
            ],
            claims: &["sched.task_scheduling", "headline.vs_tokio"],
            figure: Figure::Rate,
            description: "spawn small tasks from a task and run them all to completion",
            run: shape!(multi, |rt| spawn_many_local(rt, TASK_SCHEDULING_TASKS)),
        },
        Workload {
            name: "zsync.spawn",
            unit: "ns/op",
            params: &[
                ("workers", "2"),
                ("spawns", "10000"),
                ("spawned_from", "task"),
            ],
            claims: &["zsync.spawn"],
            figure: Figure::NanosPerOp,
            description: "spawn one empty task from a task and await its JoinHandle",
            run: shape!(multi, |rt| spawn_join(rt, NUM_SPAWN)),
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
            description: "two ready tasks on one thread take turns by yielding",
            run: shape!(current, |rt| yield_ping_pong(rt, CONTEXT_SWITCH_YIELDS)),
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
            description: "latency.context_switch reported as a rate",
            run: shape!(current, |rt| yield_ping_pong(rt, CONTEXT_SWITCH_YIELDS)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_local",
            unit: "tasks/s",
            params: &[
                ("workers", "2"),
                ("tasks", "10000"),
                ("spawned_from", "task"),
            ],
            claims: &[],
            figure: Figure::Rate,
            description: "spawn empty tasks from a task and run them all",
            run: shape!(multi, |rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_remote_idle",
            unit: "tasks/s",
            params: &[
                ("workers", "2"),
                ("tasks", "10000"),
                ("spawned_from", "outside"),
            ],
            claims: &[],
            figure: Figure::Rate,
            description: "spawn empty tasks from outside the runtime, then join them",
            run: shape!(multi, |rt| spawn_many_remote_idle(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.yield_many",
            unit: "yields/s",
            params: &[
                ("workers", "2"),
                ("tasks", "200"),
                ("yields_per_task", "1000"),
            ],
            claims: &[],
            figure: Figure::Rate,
            description: "tasks yielding to the scheduler",
            run: shape!(multi, |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
        },
        Workload {
            name: "tokio_shapes.ping_pong",
            unit: "pings/s",
            params: &[("workers", "2"), ("pings", "1000")],
            claims: &[],
            figure: Figure::Rate,
            description: "spawn a partner task and exchange one oneshot message each way",
            run: shape!(multi, |rt| ping_pong(rt, NUM_PINGS)),
        },
        Workload {
            name: "tokio_shapes.chained_spawn",
            unit: "tasks/s",
            params: &[("workers", "2"), ("chain", "1000")],
            claims: &[],
            figure: Figure::Rate,
            description: "each task spawns the next",
            run: shape!(multi, |rt| chained_spawn(rt, CHAIN_LEN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_current_thread",
            unit: "tasks/s",
            params: &[("flavor", "current_thread"), ("tasks", "10000")],
            claims: &[],
            figure: Figure::Rate,
            description: "spawn empty tasks from block_on and run them all on one thread",
            run: shape!(current, |rt| spawn_many_current_thread(rt, NUM_SPAWN)),
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
    fn every_workload_runs_once_on_both_runtimes() {
        let cfg = MeasureConfig {
            warmup: Duration::ZERO,
            rounds: 1,
        };
        for w in workloads() {
            let c = (w.run)(&cfg);
            assert_eq!(c.ratios.len(), 1, "{}", w.name);
            for claim in w.claims {
                assert!(
                    zbench_report::claims::claim(claim).is_some(),
                    "{}: unknown claim {claim}",
                    w.name
                );
            }
            assert!(
                c.zokio.median() > 0.0 && c.tokio.median() > 0.0,
                "{}",
                w.name
            );
        }
    }
}
