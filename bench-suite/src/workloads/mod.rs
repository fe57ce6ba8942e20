//! Workload bodies, each generic over [`Runtime`]. Every function runs
//! one complete sample: when it returns, all the tasks it spawned have finished their work
//! (the pitfall of tokio issue #3904, where unfinished tasks leak into the next sample).

pub mod asyncfn;
pub mod channels;
pub mod io;
pub mod latency;
pub mod memory;
pub mod pool;
pub mod primitives;
pub mod queue;
pub mod scheduler;
pub mod timers;

use crate::measure::Timed;
use crate::rt::Runtime;
use hdrhistogram::Histogram;
use std::future::Future;

/// A latency histogram: 1 ns to 60 s, 3 significant digits. Every latency workload and the
/// load generator record into histograms of these bounds, so theirs can be merged.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds")
}

/// Runs `body` in a task on `rt` and times `body` alone, from inside the task: not the
/// spawn, the wake-up of a worker to run it, or the return of its output through
/// `block_on`. For the loops of 1-40 ns operations that use it, whose million-operation
/// samples last 1-40 ms, those fixed costs (16-26 µs median here, different on each
/// runtime) would otherwise be up to a few percent of a sample. Ops: `ops`.
pub(crate) fn time_in_task<R, F>(rt: &R, ops: u64, body: F) -> Timed
where
    R: Runtime,
    F: Future<Output = ()> + Send + 'static,
{
    let cost = rt.run(async move {
        let meter = crate::measure::Meter::start();
        body.await;
        meter.stop()
    });
    Timed::phase(ops, cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;

    /// The body runs to completion inside the call, and the time reported is a phase of
    /// the call (never longer than the whole of it).
    fn check_time_in_task<R: Runtime>(rt: &R) {
        let ran = Arc::new(AtomicUsize::new(0));
        let body = {
            let ran = ran.clone();
            async move {
                for _ in 0..1_000 {
                    ran.fetch_add(1, Relaxed);
                }
            }
        };
        let start = std::time::Instant::now();
        let timed = time_in_task(rt, 1_000, body);
        let whole = start.elapsed();
        assert_eq!(ran.load(Relaxed), 1_000, "body did not run to completion");
        assert_eq!(timed.ops, 1_000);
        let phase = timed.phase.expect("time_in_task times its phase").elapsed;
        assert!(
            phase <= whole,
            "phase {phase:?} longer than the call {whole:?}"
        );
    }

    #[test]
    fn time_in_task_times_the_body_inside_the_call_on_both() {
        check_time_in_task(&Zokio::multi_thread(2));
        check_time_in_task(&Tokio::multi_thread(2));
        check_time_in_task(&Zokio::current_thread());
        check_time_in_task(&Tokio::current_thread());
    }
}
