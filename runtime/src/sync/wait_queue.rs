//! The FIFO queue of waiting tasks shared by the bounded mpsc channel (senders waiting for
//! room) and the semaphore (acquirers waiting for permits).
//!
//! The protocol both follow, under their own lock: a newcomer may take the resource at once
//! only when the queue is empty; otherwise it joins the back. Only the head takes the
//! resource, when it is polled and enough is free; whoever frees some, or removes the head,
//! wakes the new head if it can proceed. A future dropped while queued removes itself
//! ([`WaitQueue::remove`]) and its owner then wakes the new head, so no wake-up is lost.

use std::collections::VecDeque;
use std::task::Waker;

/// Waiters in arrival order; `N` is what each needs (a permit count, or nothing).
#[derive(Debug)]
pub(crate) struct WaitQueue<N> {
    waiters: VecDeque<Waiter<N>>,
    next_id: u64,
}

#[derive(Debug)]
struct Waiter<N> {
    id: u64,
    need: N,
    waker: Waker,
}

impl<N: Copy> WaitQueue<N> {
    pub(crate) fn new() -> WaitQueue<N> {
        WaitQueue {
            waiters: VecDeque::new(),
            next_id: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Whether the caller may take the resource now: a newcomer (`id` is `None`) when
    /// nobody is queued, a queued waiter when it is the head.
    pub(crate) fn may_take(&self, id: Option<u64>) -> bool {
        match id {
            None => self.waiters.is_empty(),
            Some(me) => self.waiters.front().is_some_and(|w| w.id == me),
        }
    }

    /// The caller, for whom [`may_take`](Self::may_take) held, took the resource: leave
    /// the queue if it was in it.
    pub(crate) fn took(&mut self, id: &mut Option<u64>) {
        if id.take().is_some() {
            self.waiters.pop_front();
        }
    }

    /// Queues a newcomer at the back, or refreshes a queued waiter's waker.
    pub(crate) fn wait(&mut self, id: &mut Option<u64>, need: N, waker: &Waker) {
        match *id {
            Some(me) => {
                if let Some(w) = self.waiters.iter_mut().find(|w| w.id == me) {
                    if !w.waker.will_wake(waker) {
                        w.waker = waker.clone();
                    }
                }
            }
            None => {
                let me = self.next_id;
                self.next_id += 1;
                self.waiters.push_back(Waiter {
                    id: me,
                    need,
                    waker: waker.clone(),
                });
                *id = Some(me);
            }
        }
    }

    /// Removes a waiter (its future was dropped, or it gives up).
    pub(crate) fn remove(&mut self, id: u64) {
        self.waiters.retain(|w| w.id != id);
    }

    /// The head's waker, if `can_proceed` says its need can be met now.
    pub(crate) fn head_if(&self, can_proceed: impl FnOnce(N) -> bool) -> Option<Waker> {
        self.waiters
            .front()
            .filter(|w| can_proceed(w.need))
            .map(|w| w.waker.clone())
    }

    /// Every waiter's waker (to fail them all, e.g. on close).
    pub(crate) fn all_wakers(&self) -> Vec<Waker> {
        self.waiters.iter().map(|w| w.waker.clone()).collect()
    }

    /// Number of waiters.
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }
}
