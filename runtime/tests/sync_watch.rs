//! `sync::watch`: receivers see the latest value and each change once; closing works both
//! ways; on every flavor and driver, and under contention across threads.

use std::sync::Arc;
use std::time::Duration;
use zokio::runtime::{Builder, Runtime};
use zokio::sync::watch;

#[macro_use]
mod support;

rt_test! {
    /// A producer sends 1..=1000 as fast as it can; each of four receivers sees an
    /// increasing sequence ending at 1000 (changes may be skipped, never reordered), then
    /// the close.
    #[test]
    fn receivers_see_increasing_values_then_the_close() {
        let rt = rt();
        rt.block_on(async {
            let (tx, rx) = watch::channel(0u32);
            let watchers: Vec<_> = (0..4)
                .map(|_| {
                    let mut rx = rx.clone();
                    zokio::spawn(async move {
                        let mut last = 0;
                        let mut seen = 0;
                        while rx.changed().await.is_ok() {
                            let v = *rx.borrow_and_update();
                            assert!(v > last, "{v} after {last}");
                            last = v;
                            seen += 1;
                        }
                        // Closed: the last value stays readable.
                        assert_eq!(*rx.borrow(), 1000);
                        (last, seen)
                    })
                })
                .collect();
            drop(rx);
            let producer = zokio::spawn(async move {
                for i in 1..=1000 {
                    tx.send(i).unwrap();
                    if i % 50 == 0 {
                        zokio::task::yield_now().await;
                    }
                }
            });
            producer.await.unwrap();
            for w in watchers {
                let (last, seen) = w.await.unwrap();
                assert_eq!(last, 1000);
                assert!((1..=1000).contains(&seen));
            }
        });
    }

    /// `Sender::closed` returns once the last receiver is gone, including one dropped by
    /// another task.
    #[test]
    fn closed_waits_for_the_last_receiver() {
        let rt = rt();
        rt.block_on(async {
            let (tx, rx) = watch::channel(());
            let rx2 = rx.clone();
            assert_eq!(tx.receiver_count(), 2);
            let dropper = zokio::spawn(async move {
                zokio::time::sleep(Duration::from_millis(1)).await;
                drop(rx);
                drop(rx2);
            });
            tx.closed().await;
            assert!(tx.is_closed());
            assert!(tx.send(()).is_err());
            dropper.await.unwrap();
            // Reopened by subscribe.
            let _rx3 = tx.subscribe();
            assert!(!tx.is_closed());
        });
    }
}

#[test]
fn borrow_versions_and_marks() {
    let (tx, mut rx) = watch::channel("a");
    assert!(!rx.has_changed().unwrap());
    assert!(!rx.borrow().has_changed());
    tx.send("b").unwrap();
    assert!(rx.has_changed().unwrap());
    // `borrow` does not mark seen; `borrow_and_update` does.
    assert!(rx.borrow().has_changed());
    assert!(rx.has_changed().unwrap());
    let r = rx.borrow_and_update();
    assert!(r.has_changed());
    assert_eq!(*r, "b");
    drop(r);
    assert!(!rx.has_changed().unwrap());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    // A clone has seen what its original has; a subscriber has seen the current value.
    tx.send("c").unwrap();
    let clone = rx.clone();
    assert!(clone.has_changed().unwrap());
    let sub = tx.subscribe();
    assert!(!sub.has_changed().unwrap());
    assert!(sub.same_channel(&rx));
    assert!(!tx.borrow().has_changed());
    assert_eq!(*tx.borrow(), "c");
}

#[test]
fn send_variants() {
    let (tx, mut rx) = watch::channel(vec![1]);
    assert_eq!(tx.send_replace(vec![2]), vec![1]);
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    tx.send_modify(|v| v.push(3));
    assert_eq!(*rx.borrow_and_update(), vec![2, 3]);
    assert!(!tx.send_if_modified(|v| {
        v.push(4);
        false
    }));
    assert!(!rx.has_changed().unwrap(), "an unmodified send notified");
    assert_eq!(
        *rx.borrow(),
        vec![2, 3, 4],
        "modified in place all the same"
    );
    assert!(tx.send_if_modified(|_| true));
    assert!(rx.has_changed().unwrap());
    // A panic in the closure propagates and notifies nobody; the lock is usable after.
    rx.mark_unchanged();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|_| panic!("in modify"))
    }));
    assert!(panicked.is_err());
    assert!(!rx.has_changed().unwrap());
    assert_eq!(tx.borrow().len(), 3);
    // No receiver: send fails and keeps the old value; send_replace still replaces.
    let tx2 = tx.clone();
    assert_eq!(tx.sender_count(), 2);
    drop(rx);
    assert_eq!(tx2.send(vec![9]).unwrap_err().0, vec![9]);
    assert_eq!(*tx2.borrow(), vec![2, 3, 4]);
    tx2.send_replace(vec![]);
    assert!(tx2.borrow().is_empty());
    assert!(watch::Sender::new(5).is_closed());
}

/// Closing: after the last sender drops, `changed` still reports an unseen change first,
/// then the close; `has_changed` reports the close (Tokio's rule).
#[test]
fn close_after_an_unseen_change() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(1);
        let tx2 = tx.clone();
        tx.send(2).unwrap();
        drop(tx);
        assert!(!rx.is_closed(), "one sender is left");
        drop(tx2);
        assert!(rx.is_closed());
        assert!(rx.has_changed().is_err());
        assert!(rx.changed().await.is_ok());
        assert_eq!(*rx.borrow(), 2);
        assert!(rx.changed().await.is_err());
    });
}

#[test]
fn wait_for_checks_the_current_value_then_each_change() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(0u32);
        // Already true: returns at once.
        assert_eq!(*rx.wait_for(|v| *v == 0).await.unwrap(), 0);
        let tx = Arc::new(tx);
        let producer = {
            let tx = tx.clone();
            zokio::spawn(async move {
                for i in 1..=100 {
                    tx.send_replace(i);
                    zokio::task::yield_now().await;
                }
            })
        };
        let r = rx.wait_for(|v| *v >= 100).await.unwrap();
        assert_eq!(*r, 100);
        drop(r);
        producer.await.unwrap();
        // The last value is offered to `f` before the close is reported.
        let tx = Arc::into_inner(tx).unwrap();
        tx.send(7).unwrap();
        drop(tx);
        assert_eq!(*rx.wait_for(|v| *v == 7).await.unwrap(), 7);
        assert!(rx.wait_for(|_| false).await.is_err());
    });
}

/// A cancelled `changed` loses nothing: the change is still there for the next call.
#[test]
fn changed_is_cancel_safe() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(0);
        let timed_out = zokio::time::timeout(Duration::from_millis(1), rx.changed()).await;
        assert!(timed_out.is_err());
        tx.send(1).unwrap();
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
    });
}
