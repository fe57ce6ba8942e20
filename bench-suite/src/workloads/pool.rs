//! `sched.object_pool`: acquire + release on zokio's `ObjectPool` against the same cycle on
//! a bare `crossbeam_queue::ArrayQueue` (pop, or allocate on a miss; push back), the
//! baseline ISSUE 5 names. Both hold 64-byte boxed objects, prefilled to capacity, with no
//! reset hook, so the difference is what the pool adds or saves: its guard, accounting and
//! factory indirection, and its per-thread slots, which spare a thread the shared queue
//! when it gives back and takes again (the contended case's gain). Plain threads, no
//! runtime: the pool is runtime-agnostic.

use crate::measure::{Meter, Timed};
use crossbeam_queue::ArrayQueue;
use std::hint::black_box;
use std::sync::{Arc, Barrier};

/// Idle objects each pool holds (prefilled).
pub const CAPACITY: usize = 64;

type Object = Box<[u8; 64]>;

fn object() -> Object {
    Box::new([0u8; 64])
}

/// A pool under test: one acquire + release per `cycle`.
pub trait Pool: Send + Sync + 'static {
    /// A pool of `CAPACITY` idle objects.
    fn prefilled() -> Self;
    /// Acquire one object, touch it, release it.
    fn cycle(&self);
}

/// zokio's pool.
pub struct ZokioPool(zokio::pool::ObjectPool<Object>);

/// The bare lock-free queue.
pub struct ArrayQueuePool(ArrayQueue<Object>);

impl Pool for ZokioPool {
    fn prefilled() -> Self {
        let pool = zokio::pool::ObjectPool::new(CAPACITY, object);
        pool.prefill(CAPACITY);
        ZokioPool(pool)
    }

    fn cycle(&self) {
        let obj = self.0.get();
        black_box(&obj[0]);
    }
}

impl Pool for ArrayQueuePool {
    fn prefilled() -> Self {
        let q = ArrayQueue::new(CAPACITY);
        for _ in 0..CAPACITY {
            let _ = q.push(object());
        }
        ArrayQueuePool(q)
    }

    fn cycle(&self) {
        let obj = self.0.pop().unwrap_or_else(object);
        black_box(&obj[0]);
        let _ = self.0.push(obj);
    }
}

/// `threads` threads (1 = uncontended) each run `ops / threads` cycles on one shared pool;
/// times from the common start to the last thread's end. Ops: acquire + release pairs.
pub fn cycles<P: Pool>(threads: usize, ops: usize) -> Timed {
    let pool = Arc::new(P::prefilled());
    let per = ops / threads;
    let start = Arc::new(Barrier::new(threads));
    let run = move |pool: Arc<P>, start: Arc<Barrier>, meter: bool| {
        start.wait();
        let meter = meter.then(Meter::start);
        for _ in 0..per {
            pool.cycle();
        }
        meter
    };
    let others: Vec<_> = (1..threads)
        .map(|_| {
            let (pool, start) = (pool.clone(), start.clone());
            std::thread::spawn(move || run(pool, start, false))
        })
        .collect();
    let meter = run(pool, start, true).expect("the first thread meters");
    for t in others {
        t.join().expect("pool thread");
    }
    Timed::phase((per * threads) as u64, meter.stop())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_pools_count_every_cycle() {
        assert_eq!(cycles::<ZokioPool>(2, 1_000).ops, 1_000);
        assert_eq!(cycles::<ArrayQueuePool>(1, 1_000).ops, 1_000);
    }
}
