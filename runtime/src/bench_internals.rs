//! Internals exposed for zbench's `sched.work_stealing_queue` workload only (feature
//! `bench-internals`). Not a stable API: it exists so the run queue can be measured alone.

use crate::scheduler::multi_thread::queue::{self, Overflow};
use std::cell::RefCell;

/// The owner's side of a worker run queue (256 slots; overflow collects in a `Vec`).
pub struct RunQueue<T: 'static> {
    local: queue::Local<T>,
    overflow: VecOverflow<T>,
}

/// A thief's side of a worker run queue.
pub struct Stealer<T: 'static>(queue::Steal<T>);

struct VecOverflow<T>(RefCell<Vec<T>>);

impl<T> Overflow<T> for VecOverflow<T> {
    fn push(&self, item: T) {
        self.0.borrow_mut().push(item);
    }

    fn push_batch(&self, items: impl Iterator<Item = T>) {
        self.0.borrow_mut().extend(items);
    }
}

/// A new, empty run queue.
pub fn run_queue<T: Send + 'static>() -> (Stealer<T>, RunQueue<T>) {
    let (steal, local) = queue::local();
    (
        Stealer(steal),
        RunQueue {
            local,
            overflow: VecOverflow(RefCell::new(Vec::new())),
        },
    )
}

impl<T: 'static> RunQueue<T> {
    /// Pushes to the back (overflowing half the queue into the overflow vector when full).
    pub fn push(&mut self, item: T) {
        self.local.push_back_or_overflow(item, &self.overflow);
    }

    /// Pops from the front.
    pub fn pop(&mut self) -> Option<T> {
        self.local.pop()
    }

    /// Takes what overflowed so far.
    pub fn take_overflow(&mut self) -> Vec<T> {
        std::mem::take(&mut *self.overflow.0.borrow_mut())
    }
}

impl<T: 'static> Stealer<T> {
    /// Steals half of the victim's queue into `dst`, returning one item.
    pub fn steal_into(&self, dst: &mut RunQueue<T>) -> Option<T> {
        self.0.steal_into(&mut dst.local).map(|(item, _)| item)
    }
}

impl<T: 'static> Clone for Stealer<T> {
    fn clone(&self) -> Stealer<T> {
        Stealer(self.0.clone())
    }
}

impl<T> std::fmt::Debug for RunQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunQueue").finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for Stealer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stealer").finish_non_exhaustive()
    }
}
