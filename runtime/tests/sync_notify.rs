//! Notify, Barrier and WaitGroup on every scheduler flavor: a notification sent before the
//! wait is kept, `notify_waiters` reaches futures created before it, a dropped chosen
//! waiter passes its notification on, one barrier leader per generation, and wait groups
//! wait for every `done`; waits dropped mid-way leave both consistent.

use futures::poll;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use zokio::runtime::{Builder, Runtime};
use zokio::sync::{Barrier, Notify, WaitGroup};

#[macro_use]
mod support;
use support::flag_waker;

rt_test! {
    #[test]
    fn owned_notified_moves_into_a_task() {
        rt().block_on(async {
            let n = Arc::new(Notify::new());
            // Counts for notify_waiters from its creation, before the task first polls it.
            let early = n.clone().notified_owned();
            let waiter = zokio::spawn(early);
            n.notify_waiters();
            waiter.await.unwrap();
            // enable: registered for notify_one without a poll.
            let mut owned = pin!(n.clone().notified_owned());
            assert!(!owned.as_mut().enable());
            n.notify_one();
            assert!(owned.as_mut().enable());
            assert!(poll!(owned.as_mut()).is_ready());
            // A dropped, chosen owned waiter passes the notification on.
            let mut first = Box::pin(n.clone().notified_owned());
            let mut second = pin!(n.clone().notified_owned());
            assert!(poll!(first.as_mut()).is_pending());
            assert!(poll!(second.as_mut()).is_pending());
            n.notify_one();
            drop(first);
            assert!(poll!(second.as_mut()).is_ready());
        });
    }

    #[test]
    fn notify_one_before_wait_is_not_lost() {
        rt().block_on(async {
            let n = Notify::new();
            n.notify_one();
            n.notify_one(); // at most one permit is stored
            n.notified().await;
            let mut second = pin!(n.notified());
            assert!(poll!(second.as_mut()).is_pending());
            n.notify_one();
            assert!(poll!(second.as_mut()).is_ready());
        });
    }

    #[test]
    fn notify_one_wakes_waiters_in_order() {
        rt().block_on(async {
            let n = Notify::new();
            let mut a = pin!(n.notified());
            let mut b = pin!(n.notified());
            assert!(poll!(a.as_mut()).is_pending());
            assert!(poll!(b.as_mut()).is_pending());
            n.notify_one();
            assert!(poll!(b.as_mut()).is_pending(), "b was notified before a");
            assert!(poll!(a.as_mut()).is_ready());
            n.notify_one();
            assert!(poll!(b.as_mut()).is_ready());
        });
    }

    #[test]
    fn notify_waiters_reaches_created_futures_and_stores_nothing() {
        rt().block_on(async {
            let n = Notify::new();
            let mut polled = pin!(n.notified());
            assert!(poll!(polled.as_mut()).is_pending());
            let mut created = pin!(n.notified()); // created, never polled before the call
            n.notify_waiters();
            assert!(poll!(polled.as_mut()).is_ready());
            assert!(poll!(created.as_mut()).is_ready());
            let mut later = pin!(n.notified());
            assert!(poll!(later.as_mut()).is_pending(), "notify_waiters stored a permit");
        });
    }

    #[test]
    fn dropped_chosen_waiter_passes_the_notification_on() {
        rt().block_on(async {
            let n = Notify::new();
            let mut first = Box::pin(n.notified());
            assert!(poll!(first.as_mut()).is_pending());
            let (woken, waker) = flag_waker();
            let mut second = pin!(n.notified());
            let mut cx = Context::from_waker(&waker);
            assert!(second.as_mut().poll(&mut cx).is_pending());
            n.notify_one(); // picks `first`...
            drop(first); // ...which is dropped unobserved: `second` gets it
            assert!(woken.load(SeqCst));
            assert!(second.as_mut().poll(&mut cx).is_ready());
            // And with nobody left, a dropped chosen waiter restores the permit.
            let mut third = Box::pin(n.notified());
            assert!(poll!(third.as_mut()).is_pending());
            n.notify_one();
            drop(third);
            n.notified().await;
        });
    }

    #[test]
    fn notify_last_wakes_the_newest_and_passes_on_newest_first() {
        rt().block_on(async {
            let n = Notify::new();
            let mut a = pin!(n.notified());
            let mut b = pin!(n.notified());
            let mut c = Box::pin(n.notified());
            assert!(poll!(a.as_mut()).is_pending());
            assert!(poll!(b.as_mut()).is_pending());
            assert!(poll!(c.as_mut()).is_pending());
            n.notify_last(); // picks `c`...
            drop(c); // ...dropped unobserved: the newest remaining, `b`, gets it
            assert!(poll!(a.as_mut()).is_pending(), "a notify_last went to the oldest");
            assert!(poll!(b.as_mut()).is_ready());
            n.notify_last();
            assert!(poll!(a.as_mut()).is_ready());
            // With nobody waiting it stores the permit, as notify_one does.
            n.notify_last();
            n.notified().await;
        });
    }

    #[test]
    fn enable_waits_without_polling() {
        rt().block_on(async {
            let n = Notify::new();
            // Enabled before the notification: it counts as waiting, so notify_one picks
            // it rather than storing a permit.
            let mut enabled = pin!(n.notified());
            assert!(!enabled.as_mut().enable());
            n.notify_one();
            let mut later = Box::pin(n.notified());
            assert!(poll!(later.as_mut()).is_pending(), "the notification became a permit");
            assert!(enabled.as_mut().enable(), "enable did not see the notification");
            assert!(poll!(enabled.as_mut()).is_ready());
            // A stored permit is consumed by enable.
            drop(later);
            n.notify_one();
            let mut first = pin!(n.notified());
            assert!(first.as_mut().enable());
            let mut second = pin!(n.notified());
            assert!(!second.as_mut().enable(), "one permit served two waiters");
            // And an enabled, never-polled waiter that is woken then polls ready.
            n.notify_one();
            assert!(poll!(second.as_mut()).is_ready());
        });
    }

    #[test]
    fn notify_across_tasks() {
        let rt = rt();
        rt.block_on(async {
            let n = Arc::new(Notify::new());
            let count = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..10)
                .map(|_| {
                    let (n, count) = (n.clone(), count.clone());
                    zokio::spawn(async move {
                        n.notified().await;
                        count.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            // Ten notify_one calls wake ten waiters whether they are queued yet or not
            // (early ones are stored as the permit, one at a time).
            for h in handles {
                while !h.is_finished() {
                    n.notify_one();
                    zokio::task::yield_now().await;
                }
                h.await.unwrap();
            }
            assert_eq!(count.load(SeqCst), 10);
        });
    }

    #[test]
    fn barrier_releases_together_with_one_leader_per_generation() {
        let rt = rt();
        rt.block_on(async {
            let b = Arc::new(Barrier::new(4));
            for _generation in 0..3 {
                let handles: Vec<_> = (0..4)
                    .map(|_| {
                        let b = b.clone();
                        zokio::spawn(async move { b.wait().await.is_leader() })
                    })
                    .collect();
                let mut leaders = 0;
                for h in handles {
                    leaders += usize::from(h.await.unwrap());
                }
                assert_eq!(leaders, 1);
            }
        });
    }

    #[test]
    fn barrier_waits_for_the_last_arrival() {
        rt().block_on(async {
            let b = Barrier::new(2);
            let mut first = pin!(b.wait());
            assert!(poll!(first.as_mut()).is_pending());
            assert!(b.wait().await.is_leader());
            match poll!(first.as_mut()) {
                Poll::Ready(r) => assert!(!r.is_leader()),
                Poll::Pending => panic!("the barrier did not release the first arrival"),
            }
        });
    }

    /// Barrier::wait is documented as not cancel-safe: a wait dropped after its first poll
    /// still counts in its generation, so the next arrival completes it, and the barrier
    /// goes on working for the generation after.
    #[test]
    fn barrier_counts_a_dropped_wait_and_keeps_working() {
        rt().block_on(async {
            let b = Barrier::new(2);
            {
                let mut dropped = pin!(b.wait());
                assert!(poll!(dropped.as_mut()).is_pending());
            }
            // Polled once, not awaited: a barrier that lost the dropped arrival fails here
            // instead of hanging.
            let mut second = pin!(b.wait());
            assert!(
                matches!(poll!(second.as_mut()), Poll::Ready(r) if r.is_leader()),
                "the dropped arrival counted: this one completes the generation"
            );
            let mut first = pin!(b.wait());
            assert!(poll!(first.as_mut()).is_pending());
            let mut last = pin!(b.wait());
            assert!(matches!(poll!(last.as_mut()), Poll::Ready(r) if r.is_leader()));
            assert!(matches!(poll!(first.as_mut()), Poll::Ready(r) if !r.is_leader()));
        });
    }

    /// A WaitGroup waiter dropped mid-wait leaves the group consistent: the count is
    /// unchanged and the remaining waiter is released by the last `done`.
    #[test]
    fn wait_group_dropped_waiter_leaves_the_others_waiting() {
        rt().block_on(async {
            let wg = WaitGroup::new();
            wg.add(2);
            let mut kept = pin!(wg.wait());
            assert!(poll!(kept.as_mut()).is_pending());
            {
                let mut dropped = pin!(wg.wait());
                assert!(poll!(dropped.as_mut()).is_pending());
            }
            assert_eq!(wg.count(), 2);
            wg.done();
            assert!(poll!(kept.as_mut()).is_pending());
            wg.done();
            assert!(poll!(kept.as_mut()).is_ready());
            assert_eq!(wg.count(), 0);
        });
    }

    #[test]
    fn wait_group_waits_for_every_done() {
        let rt = rt();
        rt.block_on(async {
            let wg = WaitGroup::new();
            wg.wait().await; // zero: at once
            let done = Arc::new(AtomicUsize::new(0));
            for _ in 0..20 {
                wg.add(1);
                let (wg, done) = (wg.clone(), done.clone());
                zokio::spawn(async move {
                    zokio::task::yield_now().await;
                    done.fetch_add(1, SeqCst);
                    wg.done();
                });
            }
            wg.wait().await;
            assert_eq!(done.load(SeqCst), 20);
            assert_eq!(wg.count(), 0);
        });
    }
}

#[test]
#[should_panic(expected = "more times than add")]
fn wait_group_done_below_zero_panics() {
    WaitGroup::new().done();
}
