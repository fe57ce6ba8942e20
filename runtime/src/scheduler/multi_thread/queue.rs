//! The worker-local run queue: a fixed-size single-producer, multi-consumer ring.
//!
//! Only the owning worker pushes and pops; other workers steal half of the queue at a time.
//! This is the algorithm of Go's scheduler (`runqput`, `runqsteal` in `runtime/proc.go`) as
//! refined by Tokio (`runtime/scheduler/multi_thread/queue.rs`): stealing is split into a
//! *claim* phase, which moves the real head past the stolen items while leaving the steal
//! head behind them, and a *publish* phase after copying, which moves the steal head up.
//! While a claim is open the owner may still pop (from the real head) and push (up to the
//! steal head), so neither side ever waits for the other, and only one thief works at a
//! time. The code is our own.
//!
//! When the ring is full the owner moves half of it, plus the new item, to an [`Overflow`]
//! (the runtime's injector) in one batch, so a burst of spawns never blocks and other workers
//! can pick the overflow up.
//!
//! ## Encoding
//!
//! `head: AtomicU64` packs two `u32` positions: the *steal* head in the high half and the
//! *real* head in the low half. They are equal when no steal is in progress. `tail:
//! AtomicU32` is written only by the owner. Positions wrap; the slot of position `p` is
//! `p & MASK`. Items live in `[real, tail)`; slots in `[steal, real)` are being copied out.
//!
//! The capacity is 256 items (Tokio's and Go's figure; small enough to stay cache-resident,
//! large enough that overflow is rare); 4 under loom, to keep the models small.

use crate::loom::atomic::{AtomicU32, AtomicU64, Ordering::*};
use crate::loom::{Arc, UnsafeCell};
use std::mem::MaybeUninit;

#[cfg(not(loom))]
pub(crate) const CAPACITY: usize = 256;
#[cfg(loom)]
pub(crate) const CAPACITY: usize = 4;
const MASK: u32 = CAPACITY as u32 - 1;

/// Where the owner sends items it has no room for.
pub(crate) trait Overflow<T> {
    /// Takes one item.
    fn push(&self, item: T);
    /// Takes a batch of items, in queue order.
    fn push_batch(&self, items: impl Iterator<Item = T>);
}

/// The owner's side: push and pop.
pub(crate) struct Local<T: 'static> {
    inner: Arc<Inner<T>>,
}

/// Other workers' side: steal.
pub(crate) struct Steal<T: 'static>(Arc<Inner<T>>);

struct Inner<T> {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: items move between threads (T: Send); each slot is accessed by one side at a time
// as arbitrated by head/tail (see the module docs).
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

/// A new empty queue: its owner's and thieves' handles.
pub(crate) fn local<T: 'static>() -> (Steal<T>, Local<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (Steal(inner.clone()), Local { inner })
}

impl<T> Inner<T> {
    /// # Safety
    /// The caller has exclusive access to slot `pos`, which holds an item.
    unsafe fn take(&self, pos: u32) -> T {
        // SAFETY: forwarded.
        self.buffer[(pos & MASK) as usize].with(|ptr| unsafe { (*ptr).assume_init_read() })
    }

    /// # Safety
    /// The caller has exclusive access to slot `pos`, which is empty.
    unsafe fn put(&self, pos: u32, item: T) {
        // SAFETY: forwarded.
        self.buffer[(pos & MASK) as usize].with_mut(|ptr| unsafe { (*ptr).write(item) });
    }

    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real)
    }
}

impl<T: 'static> Local<T> {
    /// Items in the queue (a snapshot; thieves may take some meanwhile).
    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots the owner can fill without overflowing.
    pub(crate) fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        let tail = self.inner.tail.load(Relaxed);
        CAPACITY - tail.wrapping_sub(steal) as usize
    }

    /// Pushes to the back if the queue has room, else gives `item` back.
    pub(crate) fn push_back_if_room(&mut self, item: T) -> Result<(), T> {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        // Only this thread writes `tail`.
        let tail = self.inner.tail.load(Relaxed);
        if tail.wrapping_sub(steal) >= CAPACITY as u32 {
            return Err(item);
        }
        // SAFETY: slot `tail` is outside [steal, tail), so no thief reads it, and only the
        // owner writes slots.
        unsafe { self.inner.put(tail, item) };
        // Release: a thief that reads the new tail (Acquire) sees the item.
        self.inner.tail.store(tail.wrapping_add(1), Release);
        Ok(())
    }

    /// Pushes to the back; when full, moves half of the queue and `item` to `overflow`.
    /// Returns `true` if it overflowed (for metrics).
    pub(crate) fn push_back_or_overflow(
        &mut self,
        mut item: T,
        overflow: &impl Overflow<T>,
    ) -> bool {
        let tail = loop {
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            // Only this thread writes `tail`.
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                break tail;
            }
            if steal != real {
                // A thief is copying out of the queue and will free room soon; rather than
                // wait for it, hand this one item to the overflow.
                overflow.push(item);
                return true;
            }
            match self.push_overflow(item, real, tail, overflow) {
                Ok(()) => return true,
                // A thief claimed items meanwhile: there may be room now.
                Err(returned) => item = returned,
            }
        };
        // SAFETY: as in `push_back_if_room`: slot `tail` is outside [steal, tail).
        unsafe { self.inner.put(tail, item) };
        // Release: a thief that reads the new tail (Acquire) sees the item.
        self.inner.tail.store(tail.wrapping_add(1), Release);
        false
    }

    /// Claims the oldest half of a full queue and moves it, then `item`, to `overflow`.
    fn push_overflow(
        &mut self,
        item: T,
        head: u32,
        tail: u32,
        overflow: &impl Overflow<T>,
    ) -> Result<(), T> {
        const HALF: u32 = CAPACITY as u32 / 2;
        debug_assert_eq!(tail.wrapping_sub(head), CAPACITY as u32);
        let prev = pack(head, head);
        let next = pack(head.wrapping_add(HALF), head.wrapping_add(HALF));
        // Claim the half with the same CAS a pop uses, so a concurrent thief's claim fails
        // or ours does. Release pairs with a thief's Acquire on head: it will not read slots
        // we are about to move out.
        if self
            .inner
            .head
            .compare_exchange(prev, next, Release, Relaxed)
            .is_err()
        {
            return Err(item);
        }
        let inner = &self.inner;
        // SAFETY: slots [head, head + HALF) were claimed by the CAS above: ours alone.
        let batch = (0..HALF).map(|i| unsafe { inner.take(head.wrapping_add(i)) });
        overflow.push_batch(batch.chain(std::iter::once(item)));
        Ok(())
    }

    /// Pops from the front (the oldest item).
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        let pos = loop {
            let (steal, real) = unpack(head);
            if real == self.inner.tail.load(Relaxed) {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress both halves move together; otherwise only the real
            // head moves and the thief publishes the steal head later.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                debug_assert_ne!(steal, next_real);
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, AcqRel, Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS gave us slot `pos`; the item was written before the tail store we
        // read it under.
        Some(unsafe { self.inner.take(pos) })
    }
}

impl<T: 'static> Drop for Local<T> {
    fn drop(&mut self) {
        // Drop whatever is left (runtime shutdown drains first; this is the safety net).
        while self.pop().is_some() {}
    }
}

impl<T: 'static> Steal<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len() as usize
    }

    /// Steals half of this queue into `dst` (the thief's own queue) and returns one of the
    /// stolen items to run now. Returns `None` if there was nothing to steal, another thief
    /// is active, or `dst` is more than half full.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<(T, usize)> {
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        if dst_tail.wrapping_sub(dst_steal) > CAPACITY as u32 / 2 {
            return None;
        }
        let n = self.steal_into2(dst, dst_tail);
        if n == 0 {
            return None;
        }
        // Run the last stolen item now; publish the rest in dst.
        let last = n - 1;
        // SAFETY: we just wrote slots [dst_tail, dst_tail + n) of our own queue and have not
        // published them, so nobody else can see them.
        let item = unsafe { dst.inner.take(dst_tail.wrapping_add(last)) };
        if last > 0 {
            dst.inner.tail.store(dst_tail.wrapping_add(last), Release);
        }
        Some((item, n as usize))
    }

    /// Claims, copies and publishes; returns how many items were moved into `dst`'s slots
    /// starting at `dst_tail`.
    fn steal_into2(&self, dst: &mut Local<T>, dst_tail: u32) -> u32 {
        let src = &self.0;
        let mut prev = src.head.load(Acquire);
        // Claim phase.
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                return 0; // Another thief is active.
            }
            // Acquire pairs with the owner's Release store of tail: items are visible.
            let tail = src.tail.load(Acquire);
            let available = tail.wrapping_sub(real);
            let n = available - available / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match src.head.compare_exchange(prev, next, AcqRel, Acquire) {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        debug_assert!(n as usize <= CAPACITY / 2);
        // Copy phase.
        for i in 0..n {
            // SAFETY: the claim gave us [first, first + n) of src; the owner does not write
            // them (it pushes only below the steal head + CAPACITY) nor pop them (real is past
            // them). The dst slots are beyond our own tail and we checked there is room.
            unsafe {
                let item = src.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), item);
            }
        }
        // Publish phase: move the steal head up to the real head, which the owner may have
        // advanced meanwhile by popping.
        let mut prev = pack(first, first.wrapping_add(n));
        loop {
            let (_, real) = unpack(prev);
            match src
                .head
                .compare_exchange(prev, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return n,
                Err(actual) => {
                    let (steal, real) = unpack(actual);
                    debug_assert_ne!(steal, real);
                    prev = actual;
                }
            }
        }
    }
}

impl<T: 'static> Clone for Steal<T> {
    fn clone(&self) -> Steal<T> {
        Steal(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steal").field("len", &self.0.len()).finish()
    }
}

impl<T> std::fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("len", &self.inner.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct VecOverflow(Mutex<Vec<usize>>);

    impl Overflow<usize> for VecOverflow {
        fn push(&self, item: usize) {
            self.0.lock().unwrap().push(item);
        }
        fn push_batch(&self, items: impl Iterator<Item = usize>) {
            self.0.lock().unwrap().extend(items);
        }
    }

    #[test]
    fn fifo_order_and_overflow_of_half() {
        let overflow = VecOverflow::default();
        let (_steal, mut local) = local::<usize>();
        for i in 0..CAPACITY {
            assert!(!local.push_back_or_overflow(i, &overflow));
        }
        assert!(local.push_back_or_overflow(CAPACITY, &overflow));
        let moved = overflow.0.lock().unwrap().clone();
        let expected: Vec<usize> = (0..CAPACITY / 2).chain([CAPACITY]).collect();
        assert_eq!(moved, expected);
        let rest: Vec<usize> = std::iter::from_fn(|| local.pop()).collect();
        assert_eq!(rest, (CAPACITY / 2..CAPACITY).collect::<Vec<_>>());
    }

    #[test]
    fn steal_takes_half_and_returns_one() {
        let overflow = VecOverflow::default();
        let (steal, mut victim) = local::<usize>();
        let (_s2, mut thief) = local::<usize>();
        for i in 0..10 {
            victim.push_back_or_overflow(i, &overflow);
        }
        let (item, n) = steal.steal_into(&mut thief).unwrap();
        assert_eq!(n, 5);
        assert_eq!(item, 4);
        let mut all: Vec<usize> = std::iter::from_fn(|| thief.pop()).collect();
        all.push(item);
        all.extend(std::iter::from_fn(|| victim.pop()));
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    /// Real threads: one owner pushing and popping, two thieves; every item is seen once.
    #[test]
    fn stress_push_pop_steal_conserves_items() {
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        const N: usize = 200_000;
        let overflow = Arc::new(VecOverflow::default());
        let (steal, mut owner) = local::<usize>();
        let done = Arc::new(AtomicBool::new(false));
        let seen = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let steal = steal.clone();
                let done = done.clone();
                let seen = seen.clone();
                let overflow = overflow.clone();
                std::thread::spawn(move || {
                    let (_s, mut mine) = local::<usize>();
                    loop {
                        let finished = done.load(SeqCst);
                        if let Some((item, _)) = steal.steal_into(&mut mine) {
                            seen[item].fetch_add(1, Relaxed);
                        }
                        while let Some(item) = mine.pop() {
                            seen[item].fetch_add(1, Relaxed);
                        }
                        if finished && steal.is_empty() {
                            break;
                        }
                        let _ = &overflow;
                    }
                })
            })
            .collect();
        for i in 0..N {
            owner.push_back_or_overflow(i, &*overflow);
            if i % 3 == 0 {
                if let Some(item) = owner.pop() {
                    seen[item].fetch_add(1, Relaxed);
                }
            }
        }
        while let Some(item) = owner.pop() {
            seen[item].fetch_add(1, Relaxed);
        }
        done.store(true, SeqCst);
        for t in thieves {
            t.join().unwrap();
        }
        for item in overflow.0.lock().unwrap().drain(..) {
            seen[item].fetch_add(1, Relaxed);
        }
        let wrong: Vec<usize> = (0..N).filter(|&i| seen[i].load(Relaxed) != 1).collect();
        assert!(
            wrong.is_empty(),
            "items not seen exactly once: {:?}",
            &wrong[..wrong.len().min(10)]
        );
    }
}
