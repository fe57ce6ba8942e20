//! [`Local`]: a `!Send` value made `Send` by checking, on every access, that it is still on
//! the thread that made it.
//!
//! The adapter trait is written for runtimes whose tasks are `Send` (the bodies move channel
//! halves and sockets into spawned tasks). A thread-per-core runtime's own primitives are
//! `!Send` (monoio's `local_sync` channels, its `Rc`-based sockets), although in a
//! thread-per-core run every value stays on the thread whose runtime made it: each shard
//! thread builds its own runtime and runs the body there, and nothing crosses threads. A
//! thread-per-core adapter wraps such values in [`Local`], which states that and checks it:
//! using or dropping a `Local` on any other thread panics instead of racing.
//!
//! The check compares a per-thread number kept in a `const`-initialised thread-local with
//! the owner's: one thread-local load and a compare. The `send_wrapper` crate checks with
//! `std::thread::current().id()`, which clones and drops the thread's handle (an atomic
//! increment and decrement) each time; at several checks per spawn or message that cost
//! would be a visible part of a thread-per-core runtime's figure, one its users do not pay,
//! so the adapter glue keeps its own.

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

/// The number of the next thread to ask for one (0 means "not yet numbered").
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

/// This thread's number: unique among every thread of the process, live or exited.
fn this_thread() -> u64 {
    THREAD.with(|t| match t.get() {
        0 => {
            let n = NEXT_THREAD.fetch_add(1, Relaxed);
            t.set(n);
            n
        }
        n => n,
    })
}

/// A value that may only be used, and dropped, on the thread that wrapped it.
///
/// # Panics
/// Every access ([`get`](Local::get), [`get_mut`](Local::get_mut), polling) and the drop
/// panic on any other thread. A drop on the wrong thread while that thread is already
/// panicking leaks the value instead (a second panic would abort).
pub struct Local<T> {
    value: ManuallyDrop<T>,
    owner: u64,
}

// SAFETY: a `Local<T>` only gives access to its `T` (by reference, by pinned reference, or
// to drop it) after checking that the caller is on the thread that created it, so the `T`
// is only ever touched by that one thread, which is what `T: !Send` requires. Moving the
// wrapper itself to another thread moves only bytes nobody there can reach.
unsafe impl<T> Send for Local<T> {}

// SAFETY: `&Local<T>` on another thread reaches the `T` only through the same check, so no
// two threads ever hold a `&T` at once.
unsafe impl<T> Sync for Local<T> {}

impl<T> Local<T> {
    /// Wraps `value`, owned by the calling thread.
    #[inline]
    pub fn new(value: T) -> Local<T> {
        Local {
            value: ManuallyDrop::new(value),
            owner: this_thread(),
        }
    }

    #[inline]
    #[track_caller]
    fn check(&self) {
        if self.owner != this_thread() {
            wrong_thread();
        }
    }

    /// The value.
    ///
    /// # Panics
    /// Off the owner thread.
    #[inline]
    #[track_caller]
    pub fn get(&self) -> &T {
        self.check();
        &self.value
    }

    /// The value, mutably.
    ///
    /// # Panics
    /// Off the owner thread.
    #[inline]
    #[track_caller]
    pub fn get_mut(&mut self) -> &mut T {
        self.check();
        &mut self.value
    }

    /// Unwraps the value.
    ///
    /// # Panics
    /// Off the owner thread.
    #[inline]
    #[track_caller]
    pub fn into_inner(self) -> T {
        self.check();
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the value is taken exactly once.
        unsafe { ManuallyDrop::take(&mut this.value) }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn wrong_thread() -> ! {
    panic!("a thread-per-core runtime's value was used off the thread that made it")
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        if self.owner == this_thread() {
            // SAFETY: this is the only drop of the value, on its owner thread.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        } else if !std::thread::panicking() {
            wrong_thread();
        }
    }
}

impl<T: Clone> Clone for Local<T> {
    fn clone(&self) -> Self {
        Local::new(self.get().clone())
    }
}

impl<T> std::fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("owner", &self.owner).finish()
    }
}

impl<F: Future> Future for Local<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.check();
        // SAFETY: the future is structurally pinned: `Local` never moves its value out
        // while pinned (`into_inner` takes `self` by value, which a pinned `!Unpin` wrapper
        // cannot give) and drops it in place.
        unsafe { self.map_unchecked_mut(|l| &mut *l.value) }.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn usable_on_its_own_thread() {
        let l = Local::new(Rc::new(5));
        assert_eq!(**l.get(), 5);
        let c = l.clone();
        assert_eq!(Rc::strong_count(l.get()), 2);
        drop(c);
        assert_eq!(*l.into_inner(), 5);
    }

    #[test]
    fn another_thread_cannot_touch_it() {
        let l = Local::new(Rc::new(5));
        let l = std::thread::spawn(move || {
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| **l.get()));
            assert!(got.is_err(), "access off the owner thread must panic");
            l
        })
        .join()
        .expect("the thread hands the value back");
        assert_eq!(**l.get(), 5);
    }

    #[test]
    fn dropping_on_another_thread_panics() {
        let l = Local::new(Rc::new(5));
        let r = std::thread::spawn(move || drop(l)).join();
        assert!(r.is_err());
    }

    #[test]
    fn threads_get_distinct_numbers() {
        let here = this_thread();
        let there = std::thread::spawn(this_thread).join().unwrap();
        assert_ne!(here, there);
        assert_eq!(here, this_thread());
    }
}
