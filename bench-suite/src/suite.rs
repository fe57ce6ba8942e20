//! The catalogue of workloads `zbench` runs, with their units and parameters.

use crate::measure::{compare, Comparison, MeasureConfig};
use crate::rt::{Runtime, Tokio, Zokio};
use crate::workloads::scheduler::*;

/// Worker threads for the multi-thread workloads (Tokio's bench uses 4; this project's
/// reference machine has 2 cores, and oversubscribing would measure the OS scheduler).
pub const WORKERS: usize = 2;

/// One workload: how to run it on both runtimes.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Stable name, `group.name`.
    pub name: &'static str,
    /// Unit of the reported figure.
    pub unit: &'static str,
    /// Parameters, as recorded next to the figure.
    pub params: &'static str,
    /// What one operation is.
    pub description: &'static str,
    /// Runs the workload on zokio and Tokio, interleaved.
    pub run: fn(&MeasureConfig) -> Comparison,
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

/// Every workload, in report order.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "tokio_shapes.spawn_many_local",
            unit: "tasks/s",
            params: "workers=2 tasks=10000 spawned_from=task",
            description: "spawn empty tasks from a task and run them all",
            run: shape!(multi, |rt| spawn_many_local(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_remote_idle",
            unit: "tasks/s",
            params: "workers=2 tasks=10000 spawned_from=outside",
            description: "spawn empty tasks from outside the runtime, then join them",
            run: shape!(multi, |rt| spawn_many_remote_idle(rt, NUM_SPAWN)),
        },
        Workload {
            name: "tokio_shapes.yield_many",
            unit: "yields/s",
            params: "workers=2 tasks=200 yields_per_task=1000",
            description: "tasks yielding to the scheduler",
            run: shape!(multi, |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD)),
        },
        Workload {
            name: "tokio_shapes.ping_pong",
            unit: "pings/s",
            params: "workers=2 pings=1000",
            description: "spawn a partner task and exchange one oneshot message each way",
            run: shape!(multi, |rt| ping_pong(rt, NUM_PINGS)),
        },
        Workload {
            name: "tokio_shapes.chained_spawn",
            unit: "tasks/s",
            params: "workers=2 chain=1000",
            description: "each task spawns the next",
            run: shape!(multi, |rt| chained_spawn(rt, CHAIN_LEN)),
        },
        Workload {
            name: "tokio_shapes.spawn_many_current_thread",
            unit: "tasks/s",
            params: "flavor=current_thread tasks=10000",
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
            assert!(
                c.zokio.median() > 0.0 && c.tokio.median() > 0.0,
                "{}",
                w.name
            );
        }
    }
}
