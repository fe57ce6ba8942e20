//! The FIFO queue of waiting tasks shared by the bounded mpsc channel (senders waiting for
//! room) and the semaphore (acquirers waiting for permits).
//!
//! The protocol both follow, under their own lock: a newcomer may take the resource at once
//! only when the queue is empty; otherwise it joins the back. Only the head takes the
//! resource, when it is polled and enough is free; whoever frees some, or removes the head,
//! wakes the new head if it can proceed. A future dropped while queued removes itself
//! ([`WaitQueue::remove`]) and its owner then wakes the new head, so no wake-up is lost.
//!
//! The bounded channel uses a second mode, *handoff*: whoever frees a slot grants it to the
//! head at once ([`WaitQueue::grant_head`]: the head leaves the queue holding the slot and is
//! woken), so free room and waiters never coexist, and a producer that got its slot finds the
//! queue empty on its next send when there is room to spare (as Tokio's semaphore assigns
//! released permits to waiters). Without handoff, four producers blocked on a full channel
//! sent one message per wake-up each, since the waiters queued behind the head kept every
//! later send waiting: zbench's `sync.mpsc_bounded_4to1` ran at 0.35x Tokio.
//!
//! A head is woken once per registration: [`WaitQueue::head_if`] marks it notified and does
//! not wake it again until it is polled and registers anew ([`WaitQueue::wait`]). A notified
//! head is certain to be polled, and then either takes what is free or re-registers, so the
//! skipped wake-ups lose nothing; without this, a channel whose receiver frees a slot per
//! message woke the same waiting sender once per message (measured: waker clones and wakes
//! were a fifth of zbench's `sync.mpsc_bounded_4to1` profile).

use std::collections::VecDeque;
use std::task::Waker;

/// Waiters in arrival order; `N` is what each needs (a permit count, or nothing).
#[derive(Debug)]
pub(crate) struct WaitQueue<N> {
    waiters: VecDeque<Waiter<N>>,
    /// Waiters granted their need by [`grant_head`](Self::grant_head) that have not yet
    /// collected it ([`take_grant`](Self::take_grant)) or left.
    granted: Vec<u64>,
    next_id: u64,
}

/// What [`WaitQueue::remove`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removed {
    /// The waiter was queued; nothing was granted to it.
    Queued,
    /// The waiter had been granted its need, which the caller must now give back.
    Granted,
    /// Not in the queue.
    Absent,
}

#[derive(Debug)]
struct Waiter<N> {
    id: u64,
    need: N,
    waker: Waker,
    /// Woken since it last registered.
    notified: bool,
}

impl<N: Copy> WaitQueue<N> {
    pub(crate) const fn new() -> WaitQueue<N> {
        WaitQueue {
            waiters: VecDeque::new(),
            granted: Vec::new(),
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

    /// Queues a newcomer at the back, or refreshes a queued waiter's waker (and makes it
    /// eligible for a wake-up again).
    pub(crate) fn wait(&mut self, id: &mut Option<u64>, need: N, waker: &Waker) {
        match *id {
            Some(me) => {
                if let Some(w) = self.waiters.iter_mut().find(|w| w.id == me) {
                    if !w.waker.will_wake(waker) {
                        w.waker = waker.clone();
                    }
                    w.notified = false;
                }
            }
            None => {
                let me = self.next_id;
                self.next_id += 1;
                self.waiters.push_back(Waiter {
                    id: me,
                    need,
                    waker: waker.clone(),
                    notified: false,
                });
                *id = Some(me);
            }
        }
    }

    /// Removes a waiter (its future was dropped, or it gives up), saying whether it held a
    /// grant. Its waker is returned, to be dropped after the caller unlocks: dropping the
    /// last reference to a waker may run code that takes the same lock.
    pub(crate) fn remove(&mut self, id: u64) -> (Removed, Option<Waker>) {
        if self.take_grant(id) {
            return (Removed::Granted, None);
        }
        match self.waiters.iter().position(|w| w.id == id) {
            Some(i) => (Removed::Queued, self.waiters.remove(i).map(|w| w.waker)),
            None => (Removed::Absent, None),
        }
    }

    /// What the head waits for, if anyone waits.
    pub(crate) fn head_need(&self) -> Option<N> {
        self.waiters.front().map(|w| w.need)
    }

    /// Handoff mode: the head leaves the queue holding what it waited for (the caller has
    /// already accounted for it); returns its waker to wake.
    pub(crate) fn grant_head(&mut self) -> Option<Waker> {
        let head = self.waiters.pop_front()?;
        self.granted.push(head.id);
        Some(head.waker)
    }

    /// Whether `id` was granted its need; if so the grant is collected (forgotten here).
    pub(crate) fn take_grant(&mut self, id: u64) -> bool {
        match self.granted.iter().position(|g| *g == id) {
            Some(i) => {
                self.granted.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// The head's waker, if `can_proceed` says its need can be met now and it has not been
    /// woken since it last registered; marks it woken.
    pub(crate) fn head_if(&mut self, can_proceed: impl FnOnce(N) -> bool) -> Option<Waker> {
        let head = self.waiters.front_mut()?;
        if head.notified || !can_proceed(head.need) {
            return None;
        }
        head.notified = true;
        Some(head.waker.clone())
    }

    /// Empties the queue, returning every waiter's waker (to fail them all on close), to be
    /// woken after the caller unlocks. A waiter polled again finds itself gone
    /// ([`Removed::Absent`]).
    pub(crate) fn take_all_wakers(&mut self) -> Vec<Waker> {
        self.waiters.drain(..).map(|w| w.waker).collect()
    }

    /// Number of waiters.
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Noop;

    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn head_is_woken_once_per_registration() {
        let waker = Waker::from(Arc::new(Noop));
        let mut q = WaitQueue::new();
        let (mut first, mut second) = (None, None);
        q.wait(&mut first, 1usize, &waker);
        q.wait(&mut second, 1usize, &waker);
        assert!(q.head_if(|need| need == 0).is_none(), "cannot proceed yet");
        assert!(q.head_if(|need| need <= 1).is_some());
        assert!(q.head_if(|need| need <= 1).is_none(), "already woken");
        // Polled, could not proceed, registered again: eligible again.
        q.wait(&mut first, 1, &waker);
        assert!(q.head_if(|need| need <= 1).is_some());
        // The head takes and leaves; the next head has not been woken yet.
        assert!(q.may_take(first));
        q.took(&mut first);
        assert!(q.may_take(second));
        assert!(q.head_if(|need| need <= 1).is_some());
        assert_eq!(q.len(), 1);
    }
}
