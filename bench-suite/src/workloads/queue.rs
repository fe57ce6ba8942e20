//! The scheduler's run queue alone, against crossbeam-deque (Tokio's queue is private).
//!
//! Owner only: push a burst, pop it back, repeated; ops = items pushed and popped.
//! With a thief: the owner pushes bursts and pops half of each back while another thread
//! keeps stealing about half the queue into its own and draining it; ops = items that went
//! through either side. One generic body per shape, over [`StealQueue`].

use crate::measure::{Meter, Timed};
use crossbeam_deque::{Steal, Stealer, Worker};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::Arc;
use zokio::bench_internals::{run_queue, RunQueue, Stealer as ZokioStealer};

/// Items per burst: half the local queue, so zokio's ring never overflows.
pub const BURST: usize = 128;

/// What the benchmarks need from a work-stealing queue.
pub trait StealQueue: Sized {
    /// A thief: a handle on the victim plus the thief's own queue.
    type Thief: Send + 'static;
    /// A new queue and a thief on it.
    fn new_pair() -> (Self, Self::Thief);
    /// Owner push.
    fn push(&mut self, x: u64);
    /// Owner pop.
    fn pop(&mut self) -> Option<u64>;
    /// Items the owner moved elsewhere (zokio's overflow), counted as taken by the owner.
    fn spilled(&mut self) -> u64 {
        0
    }
    /// One steal: moves a batch into the thief's own queue and drains it; returns items taken.
    fn steal_and_drain(thief: &mut Self::Thief) -> u64;
}

/// zokio's worker run queue (through `bench-internals`).
pub struct ZokioQueue(RunQueue<u64>);

/// crossbeam-deque's FIFO worker.
pub struct CrossbeamQueue(Worker<u64>);

impl StealQueue for ZokioQueue {
    type Thief = (ZokioStealer<u64>, RunQueue<u64>);

    fn new_pair() -> (Self, Self::Thief) {
        let (steal, q) = run_queue();
        (ZokioQueue(q), (steal, run_queue().1))
    }

    fn push(&mut self, x: u64) {
        self.0.push(x);
    }

    fn pop(&mut self) -> Option<u64> {
        self.0.pop()
    }

    fn spilled(&mut self) -> u64 {
        self.0.take_overflow().len() as u64
    }

    fn steal_and_drain((steal, mine): &mut Self::Thief) -> u64 {
        match steal.steal_into(mine) {
            Some(x) => {
                black_box(x);
                1 + std::iter::from_fn(|| mine.pop()).map(black_box).count() as u64
            }
            None => 0,
        }
    }
}

impl StealQueue for CrossbeamQueue {
    type Thief = (Stealer<u64>, Worker<u64>);

    fn new_pair() -> (Self, Self::Thief) {
        let q = Worker::new_fifo();
        let stealer = q.stealer();
        (CrossbeamQueue(q), (stealer, Worker::new_fifo()))
    }

    fn push(&mut self, x: u64) {
        self.0.push(x);
    }

    fn pop(&mut self) -> Option<u64> {
        self.0.pop()
    }

    fn steal_and_drain((stealer, mine): &mut Self::Thief) -> u64 {
        match stealer.steal_batch_and_pop(mine) {
            Steal::Success(x) => {
                black_box(x);
                1 + std::iter::from_fn(|| mine.pop()).map(black_box).count() as u64
            }
            _ => 0,
        }
    }
}

/// Owner push + pop, `rounds` bursts. Ops: items pushed + popped.
pub fn owner<Q: StealQueue>(rounds: usize) -> u64 {
    let (mut q, _thief) = Q::new_pair();
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

/// Owner pushes `items` in bursts (popping half of each back) while a thief thread steals;
/// times until every item has been taken by one side or the other.
pub fn with_thief<Q: StealQueue>(items: usize) -> Timed {
    let (mut q, mut thief) = Q::new_pair();
    let taken = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (taken, stop) = (taken.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Acquire) {
                let n = Q::steal_and_drain(&mut thief);
                if n > 0 {
                    taken.fetch_add(n, Relaxed);
                }
            }
        })
    };
    let meter = Meter::start();
    let mut mine = 0u64;
    for chunk in 0..items / BURST {
        for i in 0..BURST {
            q.push((chunk * BURST + i) as u64);
        }
        for _ in 0..BURST / 2 {
            mine += u64::from(q.pop().is_some());
        }
    }
    while let Some(x) = q.pop() {
        black_box(x);
        mine += 1;
    }
    mine += q.spilled();
    let total = (items / BURST * BURST) as u64;
    while mine + taken.load(Relaxed) < total {
        std::hint::spin_loop();
    }
    let cost = meter.stop();
    stop.store(true, Release);
    thread.join().expect("thief thread");
    Timed::phase(total, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_accounted_for() {
        assert_eq!(owner::<ZokioQueue>(3), 768);
        assert_eq!(owner::<CrossbeamQueue>(3), 768);
        let expected = (10_000 / BURST * BURST) as u64;
        assert_eq!(with_thief::<ZokioQueue>(10_000).ops, expected);
        assert_eq!(with_thief::<CrossbeamQueue>(10_000).ops, expected);
    }
}
