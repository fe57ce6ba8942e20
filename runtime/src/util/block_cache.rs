//! A per-thread cache of small heap blocks for short-lived shared cells (a oneshot
//! channel's allocation).
//!
//! `alloc_uninit` hands out a block of [`BLOCK_SIZE`] bytes and `free` drops the value in it
//! and gives it back. A freed block goes onto the freeing thread's list (at most
//! [`CAPACITY`] blocks, the rest to the global allocator) and the next `alloc_uninit` on
//! that thread takes it back: a LIFO pop and push on a thread-local list, 4-6 ns for the
//! pair in a scratch loop on this project's 2-core machine, where glibc's malloc and free
//! of a 64-byte chunk took 17-22 ns (and the channel's one atomic read-modify-write 11 ns).
//! A block allocated on one thread and freed on another lands on the freeing thread's list;
//! nothing is sent back.
//!
//! Memory: at most `CAPACITY * BLOCK_SIZE` = 2 KiB per thread that has freed such blocks,
//! returned to the allocator when the thread exits. Types that do not fit a block, and every
//! allocation under loom or `--cfg zokio_no_block_cache` (which `scripts/leak-check.sh`
//! sets, so that valgrind and ASan see each free), go to the global allocator as a `Box`
//! would.

use std::alloc::Layout;
use std::ptr::NonNull;

/// Bytes per cached block; a type is cached when its size and alignment fit.
const BLOCK_SIZE: usize = 64;
/// Alignment of a cached block, bytes.
const BLOCK_ALIGN: usize = 16;
/// Blocks kept per thread at most.
#[cfg_attr(loom, allow(dead_code))]
const CAPACITY: usize = 32;

const BLOCK: Layout = match Layout::from_size_align(BLOCK_SIZE, BLOCK_ALIGN) {
    Ok(layout) => layout,
    Err(_) => panic!("block layout"),
};

/// Whether values of `T` live in cached blocks (decided at compile time).
const fn fits<T>() -> bool {
    !cfg!(any(loom, zokio_no_block_cache))
        && std::mem::size_of::<T>() <= BLOCK_SIZE
        && std::mem::align_of::<T>() <= BLOCK_ALIGN
        && std::mem::size_of::<T>() >= std::mem::size_of::<*mut u8>()
}

#[cfg(not(loom))]
mod list {
    use super::{BLOCK, CAPACITY};
    use std::cell::Cell;
    use std::ptr::{self, NonNull};

    /// A LIFO list of free blocks linked through their first word.
    pub(super) struct FreeList {
        head: Cell<*mut u8>,
        len: Cell<usize>,
    }

    impl Drop for FreeList {
        fn drop(&mut self) {
            let mut block = self.head.replace(ptr::null_mut());
            while !block.is_null() {
                // SAFETY: every block on the list is a live `BLOCK` allocation whose first
                // word links the next one (written by `push`).
                let next = unsafe { block.cast::<*mut u8>().read() };
                // SAFETY: allocated with `BLOCK`, owned by the list, unlinked above.
                unsafe { std::alloc::dealloc(block, BLOCK) };
                block = next;
            }
        }
    }

    thread_local! {
        static FREE: FreeList = const {
            FreeList { head: Cell::new(ptr::null_mut()), len: Cell::new(0) }
        };
    }

    /// A block from this thread's list, if it has one (none while the thread exits).
    #[inline]
    pub(super) fn pop() -> Option<NonNull<u8>> {
        FREE.try_with(|list| {
            let block = NonNull::new(list.head.get())?;
            // SAFETY: a block on the list links the next through its first word.
            list.head.set(unsafe { block.cast::<*mut u8>().read() });
            list.len.set(list.len.get() - 1);
            Some(block)
        })
        .ok()
        .flatten()
    }

    /// Puts `block` on this thread's list; gives it back if the list is full or gone.
    ///
    /// # Safety
    /// `block` is an unused `BLOCK` allocation that the caller gives up.
    #[inline]
    pub(super) unsafe fn push(block: NonNull<u8>) -> Result<(), NonNull<u8>> {
        FREE.try_with(|list| {
            if list.len.get() >= CAPACITY {
                return Err(block);
            }
            // SAFETY: the block is ours, unused, and at least a pointer wide (`fits`).
            unsafe { block.cast::<*mut u8>().write(list.head.get()) };
            list.head.set(block.as_ptr());
            list.len.set(list.len.get() + 1);
            Ok(())
        })
        .unwrap_or(Err(block))
    }
}

/// Memory for one `T`, uninitialised, from a cached block if `T` fits one, else from the
/// global allocator as a `Box` would. The caller writes every field (in place: building a
/// `T` on the stack and moving it in cost a store-forwarding stall per oneshot channel)
/// before using it as a `T` or passing it to [`free`]. Never null; aborts as `Box` does
/// when out of memory.
#[inline]
pub(crate) fn alloc_uninit<T>() -> NonNull<T> {
    if !fits::<T>() {
        return NonNull::from(Box::leak(Box::<T>::new_uninit())).cast();
    }
    #[cfg(not(loom))]
    let block = list::pop();
    #[cfg(loom)]
    let block: Option<NonNull<u8>> = None;
    let block = block.unwrap_or_else(|| {
        // SAFETY: `BLOCK` has a non-zero size.
        let raw = unsafe { std::alloc::alloc(BLOCK) };
        NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(BLOCK))
    });
    // A block is large and aligned enough for `T` (`fits`).
    block.cast::<T>()
}

/// Drops the value at `ptr` and frees its memory.
///
/// # Safety
/// `ptr` came from [`alloc_uninit`] with the same `T` and holds an initialised `T`, and
/// nobody touches it afterwards.
#[inline]
pub(crate) unsafe fn free<T>(ptr: NonNull<T>) {
    if !fits::<T>() {
        // SAFETY: `alloc_uninit` made a `Box` for a `T` that does not fit.
        drop(unsafe { Box::from_raw(ptr.as_ptr()) });
        return;
    }
    // SAFETY: the value is live and the caller gives it up.
    unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
    let block = ptr.cast::<u8>();
    #[cfg(not(loom))]
    // SAFETY: `alloc_uninit` took the block from a list or allocated it with `BLOCK`; its value is
    // dropped and the caller no longer uses it.
    let block = unsafe { list::push(block) };
    #[cfg(loom)]
    let block: Result<(), NonNull<u8>> = Err(block);
    if let Err(block) = block {
        // SAFETY: a `BLOCK` allocation nobody uses any more.
        unsafe { std::alloc::dealloc(block.as_ptr(), BLOCK) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// Whether blocks of the sizes tested here go through the cache in this build.
    const CACHED: bool = fits::<(Rc<()>, u64)>();

    /// Moves `value` into memory from `alloc_uninit`.
    fn alloc<T>(value: T) -> NonNull<T> {
        let ptr = alloc_uninit::<T>();
        // SAFETY: unused memory for a `T`.
        unsafe { ptr.as_ptr().write(value) };
        ptr
    }

    /// A freed block is the next one handed out on the same thread, and the value in it is
    /// dropped exactly once.
    #[test]
    fn a_freed_block_is_reused_and_its_value_dropped_once() {
        let counter = Rc::new(());
        let first = alloc((counter.clone(), 7u64));
        assert_eq!(Rc::strong_count(&counter), 2);
        let address = first.as_ptr() as usize;
        // SAFETY: from `alloc`, not used after.
        unsafe { free(first) };
        assert_eq!(Rc::strong_count(&counter), 1, "value dropped by free");
        let second = alloc((counter.clone(), 8u64));
        // With the cache off (`--cfg zokio_no_block_cache`, as the sanitizer runs build),
        // blocks go to the allocator and back: only the values are checked.
        if CACHED {
            assert_eq!(second.as_ptr() as usize, address, "block reused");
        }
        // SAFETY: from `alloc`, read while live.
        assert_eq!(unsafe { second.as_ref() }.1, 8);
        // SAFETY: from `alloc`, not used after.
        unsafe { free(second) };
        assert_eq!(Rc::strong_count(&counter), 1);
    }

    /// A type larger than a block is boxed, works the same, and leaves the list alone.
    #[test]
    fn a_large_value_bypasses_the_cache() {
        let big = alloc([9u8; BLOCK_SIZE + 1]);
        // SAFETY: from `alloc`, read while live.
        assert!(unsafe { big.as_ref() }.iter().all(|&b| b == 9));
        // SAFETY: from `alloc`, not used after.
        unsafe { free(big) };
    }

    /// More blocks freed than the list holds: the list keeps `CAPACITY`, the rest go back
    /// to the allocator, and each value is dropped once; the list is freed when the thread
    /// exits (the CI's valgrind run reports a leak otherwise).
    #[test]
    fn the_list_is_bounded_and_freed_at_thread_exit() {
        std::thread::spawn(|| {
            let counter = Rc::new(());
            let blocks: Vec<_> = (0..CAPACITY * 2).map(|_| alloc(counter.clone())).collect();
            let addresses: Vec<usize> = blocks.iter().map(|b| b.as_ptr() as usize).collect();
            for block in blocks {
                // SAFETY: from `alloc`, not used after.
                unsafe { free(block) };
            }
            assert_eq!(Rc::strong_count(&counter), 1);
            // The first CAPACITY freed are the ones kept; later allocations take them LIFO.
            let again: Vec<_> = (0..CAPACITY).map(|_| alloc(counter.clone())).collect();
            for (i, block) in again.iter().enumerate().filter(|_| CACHED) {
                let kept = addresses[CAPACITY - 1 - i];
                assert_eq!(block.as_ptr() as usize, kept, "LIFO reuse of kept blocks");
            }
            for block in again {
                // SAFETY: from `alloc`, not used after.
                unsafe { free(block) };
            }
        })
        .join()
        .unwrap();
    }
}
