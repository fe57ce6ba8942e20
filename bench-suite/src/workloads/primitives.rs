//! Building blocks the documents benchmark on their own: polling a ready future, atomic
//! counters, task-sized allocations, and spawning without running.

use super::time_in_task;
use crate::measure::Timed;
use crate::rt::Runtime;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;

/// Inside a task, polls `n` already-ready futures with the task's own `Context` (so with
/// the runtime's waker); only the polling is timed. Ops: `n` polls.
pub fn future_polling<R: Runtime>(rt: &R, n: usize) -> Timed {
    time_in_task(rt, n as u64, async move {
        poll_fn(|cx| {
            for i in 0..n {
                let mut ready = std::future::ready(i);
                let _ = black_box(Pin::new(&mut ready).poll(cx));
            }
            Poll::Ready(())
        })
        .await;
    })
}

/// A counter alone on its cache line.
#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// The counters of [`atomic_ops`], one per task, each on its own cache line. Shared by the
/// runtimes of a thread-per-core run, so that its shards contend on the same counter as a
/// multi-thread runtime's workers do.
pub struct Counters(Vec<Padded>);

impl Counters {
    /// `n` counters at 0.
    pub fn new(n: usize) -> Counters {
        Counters((0..n).map(|_| Padded::default()).collect())
    }

    /// The sum of every counter.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|c| c.0.load(Relaxed)).sum()
    }
}

/// The tasks numbered `tasks` (indices into `counters`) each do `n` `fetch_add`s, on
/// counter 0, shared by all (`contended`), or on their own. Ops: `tasks.len() * n`.
///
/// # Panics
/// If a task's index is beyond `counters`.
pub fn atomic_ops<R: Runtime>(
    rt: &R,
    counters: &Arc<Counters>,
    tasks: Range<usize>,
    n: usize,
    contended: bool,
) -> u64 {
    assert!(tasks.end <= counters.0.len(), "a counter per task");
    let ops = (tasks.len() * n) as u64;
    let counters = counters.clone();
    rt.run(async move {
        let handles: Vec<_> = tasks
            .map(|t| {
                let counters = counters.clone();
                R::spawn_local(async move {
                    let c = &counters.0[if contended { 0 } else { t }].0;
                    for _ in 0..n {
                        c.fetch_add(1, Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
    });
    ops
}

/// Bytes per block in `memory_allocation`: zokio's task cell for a small future (96 B
/// including the allocator's header, see `memory.per_task`).
pub const TASK_BLOCK_BYTES: usize = 96;

/// Inside a task, allocates and frees `n` blocks of [`TASK_BLOCK_BYTES`]. Neither runtime
/// has its own allocator (both use the global one), so this measures the system allocator
/// on each runtime's thread; only the loop is timed. Ops: `n` alloc+free pairs.
pub fn memory_allocation<R: Runtime>(rt: &R, n: usize) -> Timed {
    time_in_task(rt, n as u64, async move {
        for i in 0..n {
            let block = Box::new([i as u8; TASK_BLOCK_BYTES]);
            black_box(&block);
        }
    })
}

/// On a current-thread runtime, spawns `n` empty tasks from `block_on` and times only the
/// spawning (the tasks cannot run until `block_on` yields); then lets them all run, untimed,
/// waiting in a task that yields until they have.
/// Ops: `n` spawns.
pub fn spawn_without_running<R: Runtime>(rt: &R, n: usize) -> Timed {
    let done = Arc::new(AtomicUsize::new(0));
    rt.block_on(async move {
        let meter = crate::measure::Meter::start();
        for _ in 0..n {
            let done = done.clone();
            drop(R::spawn_local(async move {
                done.fetch_add(1, Relaxed);
            }));
        }
        let cost = meter.stop();
        // Wait in a task of its own: a runtime may poll its `block_on` future again at
        // once when it wakes itself, without running other tasks in between (monoio does).
        R::spawn_local(async move {
            while done.load(Relaxed) < n {
                R::yield_now().await;
            }
        })
        .await;
        Timed::phase(n as u64, cost)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn bodies_run_on_both() {
        let (z, t) = (Zokio::multi_thread(2), Tokio::multi_thread(2));
        assert_eq!(future_polling(&z, 10).ops + future_polling(&t, 10).ops, 20);
        let (shared, own) = (Arc::new(Counters::new(2)), Arc::new(Counters::new(2)));
        assert_eq!(atomic_ops(&z, &shared, 0..2, 10, true), 20);
        assert_eq!(atomic_ops(&t, &own, 0..2, 10, false), 20);
        assert_eq!(shared.0[0].0.load(Relaxed), 20);
        assert_eq!((own.0[0].0.load(Relaxed), own.total()), (10, 20));
        assert_eq!(
            memory_allocation(&z, 10).ops + memory_allocation(&t, 10).ops,
            20
        );
        let (zc, tc) = (Zokio::current_thread(), Tokio::current_thread());
        assert_eq!(
            spawn_without_running(&zc, 10).ops + spawn_without_running(&tc, 10).ops,
            20
        );
    }
}
