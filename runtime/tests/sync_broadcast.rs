//! `broadcast` on every scheduler flavor: every receiver sees every value in order, a
//! slow receiver is told how many it missed and resumes from the oldest value held,
//! values are dropped once every receiver has read them, and the channel ends and closes
//! when its senders or receivers are gone.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use zokio::runtime::{Builder, Runtime};
use zokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

#[macro_use]
mod support;

rt_test! {
    #[test]
    fn every_receiver_sees_every_value_in_order() {
        rt().block_on(async {
            let (tx, rx) = broadcast::channel::<u32>(8);
            let readers: Vec<_> = std::iter::once(rx)
                .chain((0..3).map(|_| tx.subscribe()))
                .map(|mut rx| {
                    zokio::spawn(async move {
                        let mut got = Vec::new();
                        loop {
                            match rx.recv().await {
                                Ok(v) => got.push(v),
                                Err(RecvError::Closed) => return got,
                                // A reader that falls behind is told so and resumes.
                                Err(RecvError::Lagged(_)) => got.clear(),
                            }
                        }
                    })
                })
                .collect();
            let mut sent = 0;
            for i in 0..200u32 {
                // Wait for room so that nobody lags: every value reaches every reader.
                while tx.len() == 8 {
                    zokio::task::yield_now().await;
                }
                sent += 1;
                assert_eq!(tx.send(i).unwrap(), 4);
            }
            drop(tx);
            for r in readers {
                let got = r.await.unwrap();
                assert_eq!(got, (0..sent).collect::<Vec<_>>());
            }
        });
    }

    #[test]
    fn closed_resolves_when_the_last_receiver_goes() {
        let rt = rt();
        rt.block_on(async {
            let (tx, rx) = broadcast::channel::<String>(2);
            let rx2 = rx.resubscribe();
            let closed = {
                let tx = tx.clone();
                zokio::spawn(async move { tx.closed().await })
            };
            drop(rx);
            zokio::task::yield_now().await;
            assert!(!closed.is_finished());
            drop(rx2);
            closed.await.unwrap();
            assert!(tx.is_closed());
            assert_eq!(tx.send("kept".into()).unwrap_err().0, "kept");
        });
    }
}

/// A receiver that fell behind gets `Lagged` with the number of values evicted before it
/// read them, once, and resumes from the oldest value held; the capacity is rounded up
/// to a power of two.
#[test]
fn a_slow_receiver_lags_then_resumes_from_the_oldest_value() {
    let (tx, mut slow) = broadcast::channel::<u32>(3); // holds 4
    let mut fast = tx.subscribe();
    for i in 0..6 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(
        slow.len(),
        6,
        "counts from its own cursor until told it lagged"
    );
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(slow.len(), 4);
    let rest: Vec<u32> = std::iter::from_fn(|| slow.try_recv().ok()).collect();
    assert_eq!(rest, [2, 3, 4, 5]);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Closed));
}

/// A value is dropped once every receiver alive when it was sent has read it (or the
/// receiver is gone), not only when a later send evicts it; `Sender::len` counts the
/// values still waiting for a reader.
#[test]
fn values_are_dropped_once_everyone_has_read_them() {
    #[derive(Clone)]
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = broadcast::channel(16);
    let mut b = tx.subscribe();
    tx.send(Counted(drops.clone())).ok().unwrap();
    tx.send(Counted(drops.clone())).ok().unwrap();
    assert_eq!(tx.len(), 2);
    drop(a.try_recv().ok().unwrap()); // a's clone
    assert_eq!(drops.load(SeqCst), 1);
    drop(b.try_recv().ok().unwrap()); // b's clone, and the held value
    assert_eq!(drops.load(SeqCst), 3);
    assert_eq!(tx.len(), 1);
    drop(a);
    drop(b); // the second value waited only for these two
    assert_eq!(drops.load(SeqCst), 4);
    assert!(tx.is_empty());
}

/// A waiting receiver's waker is woken and dropped after the channel's lock is released:
/// a waker that sends on the channel when dropped does not deadlock it.
#[test]
fn a_waker_that_sends_when_dropped_does_not_deadlock() {
    use std::future::Future;
    use std::task::{Context, Wake, Waker};
    struct SendOnDrop(broadcast::Sender<u8>);
    impl Wake for SendOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for SendOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(1);
        }
    }
    let (tx, mut rx) = broadcast::channel::<u8>(4);
    let mut recv = Box::pin(async move { rx.recv().await });
    let waker = Waker::from(Arc::new(SendOnDrop(tx.clone())));
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker); // the channel holds the last reference
    assert!(tx.send(0).is_ok(), "the send that wakes it");
    let noop = Context::from_waker(Waker::noop()).waker().clone();
    match recv.as_mut().poll(&mut Context::from_waker(&noop)) {
        std::task::Poll::Ready(Ok(v)) => assert!(v == 0 || v == 1),
        other => panic!("{other:?}"),
    }
}
