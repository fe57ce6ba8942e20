//! The scheduler's run queue alone, against crossbeam-deque (Tokio's queue is private).
//!
//! Owner only: push a burst, pop it back, repeated; ops = items pushed and popped.
//! With a thief: the owner pushes bursts and pops some while another thread keeps stealing
//! half the queue into its own and draining it; ops = items that went through either side.

use crossbeam_deque::{Steal, Worker};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Instant;
use zokio::bench_internals::run_queue;

use crate::measure::Timed;

/// Items per burst: half the local queue, so zokio's ring never overflows.
pub const BURST: usize = 128;

/// Owner push + pop on zokio's run queue, `rounds` bursts. Ops: items pushed + popped.
pub fn zokio_owner(rounds: usize) -> u64 {
    let (_steal, mut q) = run_queue::<u64>();
    for r in 0..rounds {
        for i in 0..BURST {
            q.push((r * BURST + i) as u64);
        }
        while let Some(x) = q.pop() {
            black_box(x);
        }
    }
    (2 * rounds * BURST) as u64
}

/// The same on a crossbeam-deque FIFO worker.
pub fn crossbeam_owner(rounds: usize) -> u64 {
    let q = Worker::<u64>::new_fifo();
    for r in 0..rounds {
        for i in 0..BURST {
            q.push((r * BURST + i) as u64);
        }
        while let Some(x) = q.pop() {
            black_box(x);
        }
    }
    (2 * rounds * BURST) as u64
}

/// Owner pushes `items` in bursts (popping half of each burst back) while a thief thread
/// steals; returns when every item has been taken by one side. Times the transfer only.
pub fn zokio_with_thief(items: usize) -> Timed {
    let (steal, mut q) = run_queue::<u64>();
    let taken = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let thief = {
        let (taken, stop) = (taken.clone(), stop.clone());
        std::thread::spawn(move || {
            let (_s, mut mine) = run_queue::<u64>();
            while !stop.load(Acquire) {
                if let Some(x) = steal.steal_into(&mut mine) {
                    black_box(x);
                    let mut n = 1;
                    while let Some(x) = mine.pop() {
                        black_box(x);
                        n += 1;
                    }
                    taken.fetch_add(n, Relaxed);
                }
            }
        })
    };
    let start = Instant::now();
    let mut mine = 0u64;
    for chunk in 0..items / BURST {
        for i in 0..BURST {
            q.push((chunk * BURST + i) as u64);
        }
        for _ in 0..BURST / 2 {
            if q.pop().is_some() {
                mine += 1;
            }
        }
    }
    while let Some(x) = q.pop() {
        black_box(x);
        mine += 1;
    }
    mine += q.take_overflow().len() as u64;
    let total = (items / BURST * BURST) as u64;
    while mine + taken.load(Relaxed) < total {
        std::hint::spin_loop();
    }
    let elapsed = start.elapsed();
    stop.store(true, Release);
    thief.join().expect("thief thread");
    Timed {
        ops: total,
        elapsed: Some(elapsed),
    }
}

/// The same on crossbeam-deque (`steal_batch_and_pop`, which also takes about half).
pub fn crossbeam_with_thief(items: usize) -> Timed {
    let q = Worker::<u64>::new_fifo();
    let stealer = q.stealer();
    let taken = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let thief = {
        let (taken, stop) = (taken.clone(), stop.clone());
        std::thread::spawn(move || {
            let mine = Worker::<u64>::new_fifo();
            while !stop.load(Acquire) {
                if let Steal::Success(x) = stealer.steal_batch_and_pop(&mine) {
                    black_box(x);
                    let mut n = 1;
                    while let Some(x) = mine.pop() {
                        black_box(x);
                        n += 1;
                    }
                    taken.fetch_add(n, Relaxed);
                }
            }
        })
    };
    let start = Instant::now();
    let mut mine = 0u64;
    for chunk in 0..items / BURST {
        for i in 0..BURST {
            q.push((chunk * BURST + i) as u64);
        }
        for _ in 0..BURST / 2 {
            if q.pop().is_some() {
                mine += 1;
            }
        }
    }
    while let Some(x) = q.pop() {
        black_box(x);
        mine += 1;
    }
    let total = (items / BURST * BURST) as u64;
    while mine + taken.load(Relaxed) < total {
        std::hint::spin_loop();
    }
    let elapsed = start.elapsed();
    stop.store(true, Release);
    thief.join().expect("thief thread");
    Timed {
        ops: total,
        elapsed: Some(elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_accounted_for() {
        assert_eq!(zokio_owner(3), 768);
        assert_eq!(crossbeam_owner(3), 768);
        assert_eq!(
            zokio_with_thief(10_000).ops,
            (10_000 / BURST * BURST) as u64
        );
        assert_eq!(
            crossbeam_with_thief(10_000).ops,
            (10_000 / BURST * BURST) as u64
        );
    }
}
