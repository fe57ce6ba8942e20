//! A counting global allocator: heap allocations and the bytes they asked for, over every
//! thread of the process, for `zbench --measure allocations`.
//!
//! The zbench binary installs [`CountingAlloc`] as its global allocator; it forwards every
//! call to the system allocator and, only while counting is [switched on](set_counting),
//! adds the call to a counter of the calling thread's own. Threads take counters
//! round-robin from [`SHARDS`] cache-line-sized slots, so that threads counting at once do
//! not share a cache line (up to [`SHARDS`] threads; beyond that, two threads share a slot
//! and still count exactly, with atomic adds). A [`snapshot`] sums every slot. While
//! counting is off, each call costs one relaxed load and a branch more than the system
//! allocator's, the same for every runtime measured.
//!
//! What is counted: every `alloc`, `alloc_zeroed` and `realloc` is one allocation, of the
//! bytes it asked for (a `realloc`'s new size); frees are not counted. Allocations made by
//! the system allocator itself, or by C code calling `malloc` directly, are not seen.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Counter slots; threads beyond this many share slots.
pub const SHARDS: usize = 64;

/// One thread's (or a few threads') counts, alone on its cache line.
#[repr(align(64))]
struct Shard {
    allocations: AtomicU64,
    bytes: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Shard = Shard {
    allocations: AtomicU64::new(0),
    bytes: AtomicU64::new(0),
};

static COUNTERS: [Shard; SHARDS] = [EMPTY; SHARDS];
static COUNTING: AtomicBool = AtomicBool::new(false);
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates, so the
    // allocator may use it (a lazily initialised or dropped thread-local could call back
    // into the allocator while it is being set up).
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    /// This thread's allocations are not counted ([`uncounted`]).
    static UNCOUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's allocations left out of the counts (a load generator's
/// thread, say); nests.
pub fn uncounted<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = UNCOUNTED.try_with(|u| u.set(self.0));
        }
    }
    let _restore = Restore(UNCOUNTED.with(|u| u.replace(true)));
    f()
}

/// The global allocator of the zbench binary: the system allocator, counted while
/// [`set_counting`] is on.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

#[inline]
fn count(bytes: usize) {
    if !COUNTING.load(Relaxed) {
        return;
    }
    if UNCOUNTED.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    // A thread being torn down may no longer reach its thread-locals: it counts on slot 0.
    let index = SHARD
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_SHARD.fetch_add(1, Relaxed) % SHARDS;
                s.set(i);
            }
            i
        })
        .unwrap_or(0);
    let shard = &COUNTERS[index];
    shard.allocations.fetch_add(1, Relaxed);
    shard.bytes.fetch_add(bytes as u64, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it
// upholds `GlobalAlloc`'s contract exactly as `System` does; counting touches only atomics
// and a const thread-local, never the heap.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract for `alloc` (non-zero size) is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through this allocator) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller guarantees
        // `new_size` is valid for it.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations and bytes counted so far, over every thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocations: u64,
    /// Bytes those calls asked for.
    pub bytes: u64,
}

impl Counts {
    /// What was counted between `earlier` and `self`.
    pub fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocations: self.allocations.wrapping_sub(earlier.allocations),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }
}

/// The counts so far, summed over every slot. A thread allocating while this runs is
/// counted or not, slot by slot: take snapshots when the measured work is done.
pub fn snapshot() -> Counts {
    COUNTERS.iter().fold(Counts::default(), |acc, s| Counts {
        allocations: acc.allocations + s.allocations.load(Relaxed),
        bytes: acc.bytes + s.bytes.load(Relaxed),
    })
}

/// Switches counting on or off for every thread (off at start).
pub fn set_counting(on: bool) {
    COUNTING.store(on, Relaxed);
}

/// Whether [`CountingAlloc`] is this process's global allocator: switches counting on,
/// allocates once, and tells whether that was counted. Counting stays on.
pub fn installed() -> bool {
    set_counting(true);
    let before = snapshot();
    drop(std::hint::black_box(Box::new(0u64)));
    // Nothing is counted anywhere unless this allocator is installed.
    snapshot() != before
}
