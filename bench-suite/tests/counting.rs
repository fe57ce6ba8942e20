//! The counting allocator counts exactly the allocations made while it is on, on every
//! thread. A test binary of its own: the allocator must be this process's global one.

use std::sync::{Arc, Barrier};
use zbench_suite::counting::{self, CountingAlloc};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// One test, so that no other test allocates while this one counts.
#[test]
fn counts_known_allocations_on_every_thread_and_nothing_when_off() {
    assert!(counting::installed());

    // 100 boxes of 24 bytes on this thread, into a vector that does not grow meanwhile.
    let mut keep: Vec<Box<[u64; 3]>> = Vec::with_capacity(100);
    let before = counting::snapshot();
    for i in 0..100u64 {
        keep.push(Box::new([i; 3]));
    }
    let here = counting::snapshot().since(before);
    assert_eq!(here.allocations, 100);
    assert_eq!(here.bytes, 100 * 24);

    // A realloc is one allocation of its new size; a free is none.
    let mut v: Vec<u8> = Vec::with_capacity(16);
    v.push(1);
    let before = counting::snapshot();
    v.reserve_exact(64);
    drop(keep);
    let grown = counting::snapshot().since(before);
    assert_eq!(grown.allocations, 1);
    assert_eq!(grown.bytes, 65);

    // 50 allocations on another thread, counted on its own slot, between two barriers.
    let (start, done) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let (s, d) = (start.clone(), done.clone());
    let other = std::thread::spawn(move || {
        let mut keep: Vec<Box<u32>> = Vec::with_capacity(50);
        s.wait();
        // Held until the count starts.
        s.wait();
        for i in 0..50 {
            keep.push(Box::new(i));
        }
        d.wait();
        // Held until the count is read: a finishing thread allocates as it winds down.
        d.wait();
        keep.len()
    });
    start.wait();
    let before = counting::snapshot();
    start.wait();
    done.wait();
    let there = counting::snapshot().since(before);
    done.wait();
    assert_eq!(there.allocations, 50, "{there:?}");
    assert_eq!(there.bytes, 50 * 4);
    assert_eq!(other.join().unwrap(), 50);

    // A thread inside `uncounted` (a load generator's) is not counted; counted again once
    // it returns, nested or not.
    let before = counting::snapshot();
    let kept = counting::uncounted(|| (0..30).map(Box::new).collect::<Vec<Box<u64>>>());
    assert_eq!(counting::snapshot(), before, "nothing counted inside");
    counting::uncounted(|| counting::uncounted(|| drop(Box::new(1u8))));
    let b = Box::new([0u8; 10]);
    let after = counting::snapshot().since(before);
    assert_eq!((after.allocations, after.bytes), (1, 10));
    drop((kept, b));

    // Off: nothing is counted.
    counting::set_counting(false);
    let before = counting::snapshot();
    let b = Box::new([0u8; 100]);
    assert_eq!(counting::snapshot(), before);
    drop(b);
}
