//! Object pools: reuse expensive objects (buffers, connections, parsers) instead of
//! allocating them per use.
//!
//! [`ObjectPool`] keeps at most `capacity` idle objects in two tiers:
//!
//! - **Per-thread slots.** A small array of cache-padded one-object slots (a power of two,
//!   at most the number of CPUs and at most half the capacity); each thread uses the slot
//!   its thread number picks. Giving back and taking from one's own slot is one
//!   compare-and-swap and one store, on a cache line no other thread touches unless two
//!   threads share a slot, which stays correct, only slower.
//! - **A shared lock-free bounded queue** for the rest (`crossbeam_queue::ArrayQueue`,
//!   Vyukov's array-based MPMC queue): [`get`](ObjectPool::get) falls back to it when its
//!   slot is empty, and a give-back goes there when its slot is full.
//!
//! [`get`](ObjectPool::get) hands out an idle object or creates one; the guard runs the
//! reset hook and gives the object back when dropped, or drops it if the pool is full.
//!
//! Why a library queue behind the slots: the shared tier's contract (bounded, lock-free, no
//! lost object) is exactly `ArrayQueue`'s, a well-kept crate with its own model checking;
//! zokio adds the slots, the guard, the reset hook and the accounting. zbench's
//! `sched.object_pool` measures the pool against a bare `ArrayQueue` doing the same
//! acquire + release, so what the pool adds or saves is visible. The slot protocol is
//! model-checked with loom (below).

use crate::loom::atomic::{AtomicU64, AtomicU8, Ordering::*};
use crate::loom::UnsafeCell;
#[cfg(not(loom))]
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
#[cfg(loom)]
use loom_queue::ArrayQueue;
use std::cell::Cell;
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Under loom, a stand-in for `ArrayQueue` with the same API over a model-checked mutex.
/// `ArrayQueue` is linearizable (crossbeam checks that itself), so the loom models check
/// what zokio adds on top: guards, reset, the full-pool path and the accounting.
#[cfg(loom)]
mod loom_queue {
    use crate::loom::{lock, Mutex};
    use std::collections::VecDeque;

    pub(super) struct ArrayQueue<T> {
        capacity: usize,
        items: Mutex<VecDeque<T>>,
    }

    impl<T> ArrayQueue<T> {
        pub(super) fn new(capacity: usize) -> Self {
            ArrayQueue {
                capacity,
                items: Mutex::new(VecDeque::new()),
            }
        }

        pub(super) fn push(&self, value: T) -> Result<(), T> {
            let mut items = lock(&self.items);
            if items.len() == self.capacity {
                return Err(value);
            }
            items.push_back(value);
            Ok(())
        }

        pub(super) fn pop(&self) -> Option<T> {
            lock(&self.items).pop_front()
        }

        pub(super) fn len(&self) -> usize {
            lock(&self.items).len()
        }

        pub(super) fn capacity(&self) -> usize {
            self.capacity
        }
    }
}

type Create<T> = Box<dyn Fn() -> T + Send + Sync>;
type Reset<T> = Box<dyn Fn(&mut T) + Send + Sync>;

/// A bounded pool of reusable objects. See the module documentation.
///
/// ```
/// let pool = zokio::pool::ObjectPool::new(16, || Vec::<u8>::with_capacity(4096))
///     .with_reset(|v| v.clear());
/// {
///     let mut buf = pool.get();
///     buf.extend_from_slice(b"hello");
/// } // reset and returned here
/// let buf = pool.get();
/// assert!(buf.is_empty() && buf.capacity() >= 4096);
/// assert_eq!(pool.created(), 1);
/// ```
pub struct ObjectPool<T> {
    /// Per-thread one-object slots; `len` is a power of two (or zero).
    local: Box<[CachePadded<Slot<T>>]>,
    idle: ArrayQueue<T>,
    create: Create<T>,
    reset: Option<Reset<T>>,
    created: AtomicU64,
}

/// An object on loan from an [`ObjectPool`]; reset and returned on drop.
pub struct Pooled<'a, T> {
    pool: &'a ObjectPool<T>,
    value: Option<T>,
}

/// An object on loan from an `Arc<ObjectPool>`; `'static`, so it can move into a task.
pub struct OwnedPooled<T> {
    pool: Arc<ObjectPool<T>>,
    value: Option<T>,
}

impl<T> ObjectPool<T> {
    /// An empty pool keeping at most `capacity` idle objects, creating new ones with
    /// `create` when none is idle.
    ///
    /// # Panics
    /// If `capacity` is zero.
    pub fn new(capacity: usize, create: impl Fn() -> T + Send + Sync + 'static) -> Self {
        assert!(
            capacity > 0,
            "an object pool needs a capacity of at least 1"
        );
        let slots = local_slots(capacity);
        ObjectPool {
            local: (0..slots).map(|_| CachePadded::new(Slot::new())).collect(),
            idle: ArrayQueue::new(capacity - slots),
            create: Box::new(create),
            reset: None,
            created: AtomicU64::new(0),
        }
    }

    /// Sets the hook run on every object given back, before it becomes idle (e.g.
    /// `Vec::clear`).
    pub fn with_reset(mut self, reset: impl Fn(&mut T) + Send + Sync + 'static) -> Self {
        self.reset = Some(Box::new(reset));
        self
    }

    /// Creates objects until `n` (at most the capacity) are idle, in the calling thread's
    /// slot and the shared queue (other threads' slots stay empty).
    pub fn prefill(&self, n: usize) {
        while self.available() < n.min(self.capacity()) {
            if self.put(self.make()).is_err() {
                break;
            }
        }
    }

    /// The calling thread's slot, if the pool has any.
    fn my_slot(&self) -> Option<&Slot<T>> {
        if self.local.is_empty() {
            return None;
        }
        Some(&self.local[thread_number() & (self.local.len() - 1)])
    }

    /// An idle object: from this thread's slot, else from the shared queue.
    fn take(&self) -> Option<T> {
        self.my_slot()
            .and_then(Slot::take)
            .or_else(|| self.idle.pop())
    }

    /// Keeps `value` idle (this thread's slot, else the shared queue); gives it back if the
    /// pool is full.
    fn put(&self, value: T) -> Result<(), T> {
        let value = match self.my_slot() {
            Some(slot) => match slot.put(value) {
                Ok(()) => return Ok(()),
                Err(value) => value,
            },
            None => value,
        };
        self.idle.push(value)
    }

    fn make(&self) -> T {
        self.created.fetch_add(1, Relaxed);
        (self.create)()
    }

    /// An idle object, or a new one if none is idle. Never waits.
    pub fn get(&self) -> Pooled<'_, T> {
        let value = self.take().unwrap_or_else(|| self.make());
        Pooled {
            pool: self,
            value: Some(value),
        }
    }

    /// An idle object, or `None` if none is idle (nothing is created).
    pub fn try_get(&self) -> Option<Pooled<'_, T>> {
        self.take().map(|value| Pooled {
            pool: self,
            value: Some(value),
        })
    }

    /// As [`get`](Self::get), through an `Arc`, returning a `'static` guard.
    pub fn get_owned(self: &Arc<Self>) -> OwnedPooled<T> {
        let value = self.take().unwrap_or_else(|| self.make());
        OwnedPooled {
            pool: self.clone(),
            value: Some(value),
        }
    }

    /// Objects idle in the pool now (a snapshot while other threads use it).
    pub fn available(&self) -> usize {
        self.idle.len() + self.local.iter().filter(|s| s.is_full()).count()
    }

    /// The most idle objects the pool keeps (the `capacity` it was made with).
    pub fn capacity(&self) -> usize {
        self.idle.capacity() + self.local.len()
    }

    /// Objects created by this pool so far (a miss rate: `created / get calls`).
    pub fn created(&self) -> u64 {
        self.created.load(Relaxed)
    }

    /// Resets `value` and keeps it if there is room; drops it otherwise.
    fn give_back(&self, mut value: T) {
        if let Some(reset) = &self.reset {
            reset(&mut value);
        }
        // Full: the object is dropped here, bounding the pool's memory.
        let _ = self.put(value);
    }
}

/// Number of per-thread slots for a pool of `capacity`: a power of two, at most the CPUs
/// (at most 64), at most half the capacity so the shared queue keeps most objects.
fn local_slots(capacity: usize) -> usize {
    #[cfg(not(loom))]
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get().min(64));
    // Under loom: one slot, shared by the model's threads (the contended case).
    #[cfg(loom)]
    let cpus = 1;
    let n = cpus.min(capacity / 2);
    if n == 0 {
        0
    } else {
        1 << n.ilog2()
    }
}

/// A small number for the calling thread, handed out in thread-start order.
#[inline]
fn thread_number() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static NUMBER: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    NUMBER.with(|n| {
        if n.get() == usize::MAX {
            n.set(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        }
        n.get()
    })
}

const EMPTY: u8 = 0;
const FULL: u8 = 1;
const BUSY: u8 = 2;

/// A one-object exchanger: EMPTY → BUSY → FULL to put, FULL → BUSY → EMPTY to take. Whoever
/// moves the state to BUSY owns the cell until it stores the next state, so the value is
/// never touched by two threads at once.
struct Slot<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value moves between threads (T: Send) and is accessed only by the thread that
// won the BUSY state.
unsafe impl<T: Send> Send for Slot<T> {}
// SAFETY: as above; `&Slot` only exposes the CAS-guarded take/put.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Slot<T> {
    fn new() -> Slot<T> {
        Slot {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    fn is_full(&self) -> bool {
        self.state.load(Relaxed) == FULL
    }

    fn take(&self) -> Option<T> {
        if self
            .state
            .compare_exchange(FULL, BUSY, Acquire, Relaxed)
            .is_err()
        {
            return None;
        }
        // SAFETY: we moved FULL → BUSY, so the cell holds an initialised value (written
        // before the Release store of FULL that our Acquire saw) and nobody else touches it
        // until we store EMPTY.
        let value = self.value.with(|p| unsafe { (*p).assume_init_read() });
        self.state.store(EMPTY, Release);
        Some(value)
    }

    fn put(&self, value: T) -> Result<(), T> {
        if self
            .state
            .compare_exchange(EMPTY, BUSY, Acquire, Relaxed)
            .is_err()
        {
            return Err(value);
        }
        // SAFETY: we moved EMPTY → BUSY, so the cell holds no value (the last taker read it
        // out before its Release store of EMPTY) and is ours until we store FULL.
        self.value.with_mut(|p| unsafe { (*p).write(value) });
        self.state.store(FULL, Release);
        Ok(())
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        // `&mut self`: no other thread can hold the slot; a FULL cell's value is dropped.
        drop(self.take());
    }
}

impl<T> Pooled<'_, T> {
    /// Takes the object out of the pool for good (it is not returned on drop).
    pub fn detach(mut self) -> T {
        self.value
            .take()
            .expect("a guard holds its object until dropped")
    }
}

impl<T> OwnedPooled<T> {
    /// Takes the object out of the pool for good.
    pub fn detach(mut self) -> T {
        self.value
            .take()
            .expect("a guard holds its object until dropped")
    }
}

macro_rules! guard_impls {
    ($guard:ident $(<$lt:lifetime>)?) => {
        impl<$($lt,)? T> Deref for $guard<$($lt,)? T> {
            type Target = T;

            fn deref(&self) -> &T {
                self.value.as_ref().expect("a guard holds its object until dropped")
            }
        }

        impl<$($lt,)? T> DerefMut for $guard<$($lt,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                self.value.as_mut().expect("a guard holds its object until dropped")
            }
        }

        impl<$($lt,)? T> Drop for $guard<$($lt,)? T> {
            fn drop(&mut self) {
                if let Some(value) = self.value.take() {
                    self.pool.give_back(value);
                }
            }
        }

        impl<$($lt,)? T: fmt::Debug> fmt::Debug for $guard<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    };
}

guard_impls!(Pooled<'a>);
guard_impls!(OwnedPooled);

impl<T> fmt::Debug for ObjectPool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectPool")
            .field("available", &self.available())
            .field("capacity", &self.capacity())
            .field("created", &self.created())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn reuses_resets_and_bounds() {
        let resets = Arc::new(AtomicUsize::new(0));
        let r = resets.clone();
        let pool = ObjectPool::new(2, || vec![0u8; 8]).with_reset(move |v| {
            r.fetch_add(1, Relaxed);
            v.iter_mut().for_each(|b| *b = 0);
        });
        assert!(pool.try_get().is_none());
        let (mut a, b, c) = (pool.get(), pool.get(), pool.get());
        a[0] = 9;
        assert_eq!(pool.created(), 3);
        drop((a, b, c));
        // Three given back, two kept: the pool is bounded.
        assert_eq!(pool.available(), 2);
        assert_eq!(resets.load(Relaxed), 3);
        let a = pool.try_get().expect("idle object");
        assert!(a.iter().all(|&b| b == 0), "reset hook ran");
        let kept = a.detach();
        assert_eq!(kept.len(), 8);
        assert_eq!(pool.available(), 1);
        pool.prefill(10);
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn many_threads_never_share_an_object() {
        let pool = Arc::new(ObjectPool::new(4, || AtomicUsize::new(0)));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let obj = pool.get_owned();
                        // Exclusive use: nobody else may hold this object right now.
                        assert_eq!(obj.fetch_add(1, Relaxed), 0, "object shared by two holders");
                        obj.fetch_sub(1, Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(pool.available() <= 4);
        assert!(pool.created() >= 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// Two threads take and give back objects at once through a pool of capacity 2 (one
    /// per-thread slot, shared by both threads here, and a one-place queue) holding one idle
    /// object: no object is ever held twice, every object given back is reset, none is
    /// lost or duplicated, and the pool keeps at most its capacity.
    #[test]
    fn loom_pool_no_object_lost_or_shared() {
        loom::model(|| {
            let next = Arc::new(crate::loom::atomic::AtomicUsize::new(0));
            let ids = next.clone();
            let pool = Arc::new(
                ObjectPool::new(2, move || (ids.fetch_add(1, Relaxed), false))
                    .with_reset(|v: &mut (usize, bool)| v.1 = false),
            );
            pool.prefill(1);
            let worker = {
                let pool = pool.clone();
                thread::spawn(move || {
                    let mut a = pool.get_owned();
                    assert!(!a.1, "handed out without reset");
                    a.1 = true;
                    // Still held when the thread ends: the guard moves back to the main
                    // thread, so both objects are on loan at once below.
                    a
                })
            };
            let mut b = pool.get();
            assert!(!b.1, "handed out without reset");
            b.1 = true;
            let a = worker.join().unwrap();
            assert_ne!(a.0, b.0, "one object held by two threads");
            drop(a);
            drop(b);
            assert!(pool.available() <= pool.capacity());
            let created = pool.created() as usize;
            assert_eq!(created, next.load(Relaxed));
            // One object was idle, so exactly one was created; both came back and fit.
            assert_eq!(created, 2);
            assert_eq!(pool.available(), 2);
            let again = pool.get();
            assert!(!again.1, "an idle object was not reset");
        });
    }
}
