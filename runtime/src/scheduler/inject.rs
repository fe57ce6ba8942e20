//! The injector: a runtime-wide FIFO of tasks for remote spawns and wakes (from threads that
//! are not workers of the runtime) and for local-queue overflow.
//!
//! An intrusive singly linked list through `Header::queue_next`, so pushing allocates
//! nothing, behind one mutex. `len` is kept in an atomic so workers can skip the lock when
//! the injector is empty, which is the common case. Once closed (shutdown), pushes drop the
//! task's `Notified` reference instead of queueing it; the task itself is cancelled through
//! the owned list.

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{lock, Mutex};
use crate::task::core::Header;
use crate::task::Notified;
use std::marker::PhantomData;
use std::ptr::NonNull;

pub(crate) struct Inject<S: 'static> {
    synced: Mutex<Synced>,
    len: AtomicUsize,
    _scheduler: PhantomData<S>,
}

struct Synced {
    head: Option<NonNull<Header>>,
    tail: Option<NonNull<Header>>,
    closed: bool,
}

// SAFETY: the list links are only followed under the mutex; the tasks are Send.
unsafe impl Send for Synced {}

/// A chain of tasks detached from the injector, popped one by one without the lock.
pub(crate) struct Batch<S: 'static> {
    next: Option<NonNull<Header>>,
    remaining: usize,
    _scheduler: PhantomData<S>,
}

fn set_next(ptr: NonNull<Header>, next: Option<NonNull<Header>>) {
    // SAFETY: the caller owns the task's Notified (or holds the injector lock while the task
    // is linked in), which grants exclusive use of `queue_next`.
    unsafe { ptr.as_ref().queue_next.with_mut(|p| *p = next) };
}

fn get_next(ptr: NonNull<Header>) -> Option<NonNull<Header>> {
    // SAFETY: as in `set_next`.
    unsafe { ptr.as_ref().queue_next.with(|p| *p) }
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Inject<S> {
        Inject {
            synced: Mutex::new(Synced {
                head: None,
                tail: None,
                closed: false,
            }),
            len: AtomicUsize::new(0),
            _scheduler: PhantomData,
        }
    }

    /// Tasks queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the injector; returns `false` if it already was.
    pub(crate) fn close(&self) -> bool {
        let mut synced = lock(&self.synced);
        !std::mem::replace(&mut synced.closed, true)
    }

    /// Queues one task (dropped if closed).
    pub(crate) fn push(&self, task: Notified<S>) {
        let ptr = task.into_raw();
        set_next(ptr, None);
        self.push_chain(ptr, ptr, 1);
    }

    /// Queues a batch in order.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut first: Option<NonNull<Header>> = None;
        let mut last: Option<NonNull<Header>> = None;
        let mut count = 0;
        for task in tasks {
            let ptr = task.into_raw();
            set_next(ptr, None);
            match last {
                Some(prev) => set_next(prev, Some(ptr)),
                None => first = Some(ptr),
            }
            last = Some(ptr);
            count += 1;
        }
        if let (Some(first), Some(last)) = (first, last) {
            self.push_chain(first, last, count);
        }
    }

    fn push_chain(&self, first: NonNull<Header>, last: NonNull<Header>, count: usize) {
        let mut synced = lock(&self.synced);
        if synced.closed {
            drop(synced);
            // SAFETY: the chain holds `count` Notified references handed to us.
            drop(unsafe { Batch::<S>::from_chain(Some(first), count) });
            return;
        }
        match synced.tail {
            Some(tail) => set_next(tail, Some(first)),
            None => synced.head = Some(first),
        }
        synced.tail = Some(last);
        // Written under the lock, so the read-modify-write need not be atomic; Release makes
        // the links visible to a worker that sees the new length.
        self.len.store(self.len.load(Relaxed) + count, Release);
    }

    /// Pops the oldest task.
    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        self.pop_n(1).next()
    }

    /// Detaches up to `n` of the oldest tasks.
    pub(crate) fn pop_n(&self, n: usize) -> Batch<S> {
        if n == 0 || self.is_empty() {
            return empty_batch();
        }
        let mut synced = lock(&self.synced);
        let len = self.len.load(Relaxed);
        let n = n.min(len);
        if n == 0 {
            return empty_batch();
        }
        let first = synced.head;
        let mut last = first;
        for _ in 1..n {
            last = last.and_then(get_next);
        }
        match last {
            Some(last) => {
                synced.head = get_next(last);
                set_next(last, None);
                if synced.head.is_none() {
                    synced.tail = None;
                }
            }
            None => unreachable!("injector length out of sync with its list"),
        }
        self.len.store(len - n, Release);
        // SAFETY: we detached exactly `n` linked tasks, each a Notified reference.
        unsafe { Batch::from_chain(first, n) }
    }
}

fn empty_batch<S: 'static>() -> Batch<S> {
    // SAFETY: an empty chain.
    unsafe { Batch::from_chain(None, 0) }
}

impl<S: 'static> Drop for Inject<S> {
    fn drop(&mut self) {
        // Drop the remaining Notified references.
        while self.pop().is_some() {}
    }
}

impl<S: 'static> Batch<S> {
    /// # Safety
    /// `first` starts a chain of exactly `count` tasks linked by `queue_next`, each owned as
    /// a Notified reference by the caller.
    unsafe fn from_chain(first: Option<NonNull<Header>>, count: usize) -> Batch<S> {
        Batch {
            next: first,
            remaining: count,
            _scheduler: PhantomData,
        }
    }
}

impl<S: 'static> Iterator for Batch<S> {
    type Item = Notified<S>;

    fn next(&mut self) -> Option<Notified<S>> {
        if self.remaining == 0 {
            return None;
        }
        let ptr = self.next?;
        self.next = get_next(ptr);
        self.remaining -= 1;
        // SAFETY: each task in the chain is one Notified reference owned by the batch.
        Some(unsafe { Notified::from_raw(ptr) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<S: 'static> Drop for Batch<S> {
    fn drop(&mut self) {
        for task in self.by_ref() {
            drop(task);
        }
    }
}

impl<S: 'static> std::fmt::Debug for Inject<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inject").field("len", &self.len()).finish()
    }
}
