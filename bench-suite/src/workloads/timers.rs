//! Timers: how many sleeps a runtime completes per second, and how close to its deadline a
//! sleep completes.

use crate::rt::Runtime;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// The sleep every task of [`sleep_throughput`] takes, and the one [`sleep_precision`]
/// measures.
pub const SLEEP: Duration = Duration::from_millis(1);

/// A task spawns `n` tasks that each sleep [`SLEEP`] once, all pending at the same time,
/// then awaits their join handles in spawn order; returns when the last one has been joined.
/// Ops: `n` sleeps (registration, firing, wake-up and the task's run included, spawn and
/// join too since every sleep needs a task).
///
/// The sleeping tasks share nothing with each other or with the spawner but their join
/// handles. An earlier version counted completions in one shared `Arc<AtomicUsize>` and
/// cloned a `std::sync::mpsc` sender into every task: three atomic writes per task to two
/// cache lines that both workers fought over, which cost both runtimes more than their
/// timers did (on 2026-11-21 Tokio ran at 0.6M sleeps/s with them and 1.0M without, the
/// figure ISSUE 4 quotes for it).
pub fn sleep_throughput<R: Runtime>(rt: &R, n: usize) -> u64 {
    rt.run(async move {
        let handles: Vec<_> = (0..n).map(|_| R::spawn_local(R::sleep(SLEEP))).collect();
        let mut joined = 0u64;
        for handle in handles {
            handle.await;
            joined += 1;
        }
        joined
    })
}

/// One task sleeps [`SLEEP`] `n` times in a row on an otherwise idle runtime; records how
/// late each sleep completed (elapsed − 1 ms) in nanoseconds. A sleep that completed early
/// would be a bug: it panics.
pub fn sleep_precision<R: Runtime>(rt: &R, n: usize) -> Histogram<u64> {
    rt.run(async move {
        let mut hist = super::latency_histogram();
        for _ in 0..n {
            let start = Instant::now();
            R::sleep(SLEEP).await;
            let elapsed = start.elapsed();
            let late = elapsed
                .checked_sub(SLEEP)
                .unwrap_or_else(|| panic!("{} sleep completed early: {elapsed:?}", R::NAME));
            hist.saturating_record(late.as_nanos() as u64);
        }
        hist
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn every_sleep_completes_on_both() {
        assert_eq!(sleep_throughput(&Zokio::multi_thread(2), 1_000), 1_000);
        assert_eq!(sleep_throughput(&Tokio::multi_thread(2), 1_000), 1_000);
    }

    #[test]
    fn precision_records_every_sleep_on_both() {
        assert_eq!(sleep_precision(&Zokio::multi_thread(2), 5).len(), 5);
        assert_eq!(sleep_precision(&Tokio::multi_thread(2), 5).len(), 5);
    }
}
