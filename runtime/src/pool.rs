//! Object pools: reuse expensive objects (buffers, connections, parsers) instead of
//! allocating them per use.
//!
//! [`ObjectPool`] keeps at most `capacity` idle objects in two tiers:
//!
//! - **Per-thread slots.** A small array of cache-padded one-object slots (at most twice
//!   the number of CPUs, at most 64, at most a quarter of the capacity). Each slot belongs
//!   to one thread: threads get dense indices, unique among live threads and reused after
//!   a thread exits (`thread_index`), and the thread of index `i` owns slot `i` of every
//!   pool. Only the owner takes from or gives back to its slot, so both are a plain load
//!   and store with no atomic read-modify-write, on a cache line no other thread writes. A
//!   thread whose index has no slot (more live pool users than slots) uses the queue
//!   alone, which holds `capacity - slots` objects. The price: an object idle in a slot is
//!   reachable only by that slot's thread, or the next thread to get its index, so at most
//!   one object per slot can sit idle while another thread creates a new one.
//! - **A shared lock-free bounded queue** for the rest (`crossbeam_queue::ArrayQueue`,
//!   Vyukov's array-based MPMC queue): [`get`](ObjectPool::get) falls back to it when its
//!   slot is empty, and a give-back goes there when its slot is full.
//!
//! An earlier design shared slots by thread number modulo the slot count, so each take and
//! give-back was a compare-and-swap: an uncontended get + drop took 19-20 ns against
//! `ArrayQueue`'s pop + push at 17 ns on the 2-core development machine; with owned slots,
//! 6-9 ns.
//!
//! [`get`](ObjectPool::get) hands out an idle object or creates one; the guard runs the
//! reset hook and gives the object back when dropped, or drops it if the pool is full.
//!
//! Why a library queue behind the slots: the shared tier's contract (bounded, lock-free, no
//! lost object) is exactly `ArrayQueue`'s, a well-kept crate with its own model checking;
//! zokio adds the slots, the guard, the reset hook and the accounting. zbench's
//! `sched.object_pool` measures the pool against a bare `ArrayQueue` doing the same
//! acquire + release, so what the pool adds or saves is visible. The slots and the passing
//! of a slot from an exited thread to the next owner of its index are model-checked with
//! loom (below).

use crate::loom::atomic::{AtomicU64, AtomicU8, Ordering::*};
use crate::loom::UnsafeCell;
#[cfg(not(loom))]
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
#[cfg(loom)]
use loom_queue::ArrayQueue;
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
    /// `create` when none is idle. Up to a quarter of the capacity sits in per-thread slots
    /// (see the module documentation): a thread without one keeps at most the rest idle.
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

    /// The calling thread's own slot, if its index has one.
    #[inline]
    fn my_slot(&self) -> Option<&Slot<T>> {
        if self.local.is_empty() {
            return None;
        }
        thread_index::current().and_then(|i| self.local.get(i).map(|slot| &**slot))
    }

    /// An idle object: from this thread's slot, else from the shared queue.
    #[inline]
    fn take(&self) -> Option<T> {
        // SAFETY: `my_slot` is the slot of this thread's index, which no other live thread
        // holds.
        self.my_slot()
            .and_then(|slot| unsafe { slot.take() })
            .or_else(|| self.idle.pop())
    }

    /// Keeps `value` idle (this thread's slot, else the shared queue); gives it back if the
    /// pool is full.
    #[inline]
    fn put(&self, value: T) -> Result<(), T> {
        let value = match self.my_slot() {
            // SAFETY: as in `take`: the slot is this thread's own.
            Some(slot) => match unsafe { slot.put(value) } {
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

/// Number of per-thread slots for a pool of `capacity`: at most twice the CPUs (a runtime's
/// workers plus the threads that block on it or prefill), at most 64, at most a quarter of
/// the capacity, so that a thread whose index has no slot, and can keep objects idle only
/// in the shared queue of `capacity - slots`, still has three quarters of the capacity.
/// Pools of capacity 3 or less have no slots.
fn local_slots(capacity: usize) -> usize {
    #[cfg(not(loom))]
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Under loom: one CPU, so two slots at most.
    #[cfg(loom)]
    let cpus = 1;
    (2 * cpus).min(64).min(capacity / 4)
}

/// Dense thread indices: each thread that asks gets the smallest index no live thread holds,
/// and gives it back when it exits. A slot is owned by the thread holding its index and
/// passes to the next thread given that index; the registry's lock orders the exited
/// owner's last accesses before the next owner's first.
mod thread_index {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    struct Registry {
        /// Indices never handed out start here.
        next: usize,
        /// Indices given back by exited threads, smallest first.
        free: BinaryHeap<Reverse<usize>>,
    }

    impl Registry {
        const fn new() -> Registry {
            Registry {
                next: 0,
                free: BinaryHeap::new(),
            }
        }
    }

    /// A process-wide `parking_lot` lock in every build: under loom too, since a loom
    /// static is torn down before the model's main thread drops its index at the end of an
    /// execution. Loom then does not see the order this lock gives; the models order the
    /// threads sharing an index by join and spawn, and run one at a time (see the models).
    static REGISTRY: parking_lot::Mutex<Registry> = parking_lot::const_mutex(Registry::new());

    /// This thread's index, held until the thread exits.
    struct Index(usize);

    impl Index {
        fn register() -> Index {
            let mut registry = REGISTRY.lock();
            let index = match registry.free.pop() {
                Some(Reverse(index)) => index,
                None => {
                    registry.next += 1;
                    registry.next - 1
                }
            };
            Index(index)
        }
    }

    impl Drop for Index {
        fn drop(&mut self) {
            REGISTRY.lock().free.push(Reverse(self.0));
        }
    }

    #[cfg(not(loom))]
    std::thread_local! {
        static INDEX: Index = Index::register();
    }
    // Under loom, one index per model thread (std's thread-locals would be shared by all
    // of a model's threads).
    #[cfg(loom)]
    loom::thread_local! {
        static INDEX: Index = Index::register();
    }

    /// The calling thread's index; `None` while the thread exits (its index may already
    /// belong to another thread).
    #[inline]
    pub(super) fn current() -> Option<usize> {
        INDEX.try_with(|index| index.0).ok()
    }
}

const EMPTY: u8 = 0;
const FULL: u8 = 1;

/// A one-object slot used by one thread at a time: its owner, the thread holding its index
/// (see `thread_index`). `state` is atomic only so that `available` may read it from any
/// thread; the owner's own loads and stores need no ordering, since ownership passes
/// between threads only through the registry's lock.
struct Slot<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value moves between threads (T: Send) and is accessed only by the slot's
// owner, one thread at a time, ownership being handed over under the registry's lock.
unsafe impl<T: Send> Send for Slot<T> {}
// SAFETY: as above; other threads only read `state`.
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

    /// Takes the idle object, if the slot holds one.
    ///
    /// # Safety
    /// The caller owns the slot (holds its thread index), or has `&mut` to it.
    #[inline]
    unsafe fn take(&self) -> Option<T> {
        if self.state.load(Relaxed) != FULL {
            return None;
        }
        // SAFETY: FULL: the cell holds an initialised value, written by this slot's owner
        // (this thread, or an earlier owner ordered before us by the registry's lock), and
        // only the owner touches it.
        let value = self.value.with(|p| unsafe { (*p).assume_init_read() });
        self.state.store(EMPTY, Relaxed);
        Some(value)
    }

    /// Keeps `value` if the slot is empty; hands it back otherwise.
    ///
    /// # Safety
    /// As for [`take`](Self::take).
    #[inline]
    unsafe fn put(&self, value: T) -> Result<(), T> {
        if self.state.load(Relaxed) != EMPTY {
            return Err(value);
        }
        // SAFETY: EMPTY: the cell holds no value, and only the owner touches it.
        self.value.with_mut(|p| unsafe { (*p).write(value) });
        self.state.store(FULL, Relaxed);
        Ok(())
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no thread can use the slot any more; a FULL cell's value is
        // dropped with it.
        drop(unsafe { self.take() });
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

    /// Six threads at a time use the pool, through both guard kinds, and each round's
    /// threads exit before the next round's start, so slots pass between owners as indices
    /// are reused: an object is never held by two threads at once, and none is lost: every
    /// object created is idle in the pool or was dropped as surplus.
    #[test]
    fn objects_stay_exclusive_while_threads_come_and_go() {
        /// Counts its drops, and whether someone holds it.
        struct Tracked {
            held: AtomicUsize,
            drops: Arc<AtomicUsize>,
        }
        impl Drop for Tracked {
            fn drop(&mut self) {
                self.drops.fetch_add(1, Relaxed);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let pool = Arc::new(ObjectPool::new(16, move || Tracked {
            held: AtomicUsize::new(0),
            drops: d.clone(),
        }));
        for _ in 0..20 {
            let threads: Vec<_> = (0..6)
                .map(|_| {
                    let pool = pool.clone();
                    std::thread::spawn(move || {
                        for i in 0..2_000 {
                            let check = |held: &AtomicUsize| {
                                let before = held.fetch_add(1, Relaxed);
                                assert_eq!(before, 0, "object shared by two holders");
                                held.fetch_sub(1, Relaxed);
                            };
                            if i % 2 == 0 {
                                check(&pool.get().held);
                            } else {
                                check(&pool.get_owned().held);
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert!(pool.available() <= pool.capacity());
            let created = pool.created() as usize;
            let dropped = drops.load(Relaxed);
            assert_eq!(created - dropped, pool.available(), "an object was lost");
        }
    }

    /// Live threads never share an index (a slot has one owner), and an exited thread's
    /// index goes back to the registry: indices stay dense instead of growing with every
    /// thread ever started.
    #[test]
    fn live_threads_have_distinct_indices_and_exited_ones_give_theirs_back() {
        let mine = thread_index::current().expect("index");
        let start = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let start = start.clone();
                std::thread::spawn(move || {
                    let index = thread_index::current().expect("index");
                    // Everyone holds its index until all have one.
                    start.wait();
                    index
                })
            })
            .collect();
        let mut indices: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        indices.push(mine);
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), 9, "two live threads shared an index");
        // Other tests start threads concurrently, so the exact values vary; but 200 threads
        // started one after another each exit before the next starts, and reuse keeps
        // their indices below the number of threads ever alive at once here.
        let highest = (0..200)
            .map(|_| {
                std::thread::spawn(|| thread_index::current().expect("index"))
                    .join()
                    .unwrap()
            })
            .max()
            .unwrap();
        assert!(highest < 200, "indices not reused: {highest}");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// The thread-index registry is process-wide and not loom's: the pool models run one at
    /// a time, so that each execution starts with every index free and the model's main
    /// thread always takes index 0.
    static ONE_MODEL_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let _one = ONE_MODEL_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loom::model(f);
    }

    /// Two threads take and give back objects at once through a pool of capacity 4 (one
    /// per-thread slot, the main thread's, and a three-place queue that both threads use)
    /// holding one idle object: no object is ever held twice, every object given back is
    /// reset, none is lost or duplicated, and the pool keeps at most its capacity.
    #[test]
    fn loom_pool_no_object_lost_or_shared() {
        model(|| {
            let next = Arc::new(crate::loom::atomic::AtomicUsize::new(0));
            let ids = next.clone();
            let pool = Arc::new(
                ObjectPool::new(4, move || (ids.fetch_add(1, Relaxed), false))
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

    /// A thread exits with an object idle in its slot; the next thread given its index
    /// takes that object from the slot: no new object is created, and loom finds no data
    /// race on the slot (here the join and the spawn order the two owners; outside loom the
    /// index registry's lock does, which loom does not see).
    #[test]
    fn loom_pool_slot_passes_to_the_next_owner_of_its_index() {
        model(|| {
            // Capacity 8 under loom: two slots (indices 0 and 1) and a six-place queue.
            let pool = Arc::new(ObjectPool::new(8, || vec![0u8]));
            // The main thread takes index 0 and leaves one object in its slot.
            drop(pool.get());
            let first = {
                let pool = pool.clone();
                thread::spawn(move || {
                    // Index 1: its slot and the queue are empty, so this creates one.
                    let mut object = pool.get();
                    object[0] = 7;
                })
            };
            first.join().unwrap();
            let second = {
                let pool = pool.clone();
                // Index 1 again, given back when the first thread exited.
                thread::spawn(move || pool.try_get().map(|object| object[0]))
            };
            assert_eq!(
                second.join().unwrap(),
                Some(7),
                "the slot's object was not passed on"
            );
            assert_eq!(pool.created(), 2);
        });
    }
}
