//! oneshot semantics on both scheduler flavors: delivery, errors on either side's drop,
//! `close`, `closed`, `try_recv`, and that a value is dropped exactly once whichever half
//! lets go of the channel last.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use zokio::sync::oneshot::{self, TryRecvError};

mod support;
use support::flavors;

/// Counts its drops.
struct D(Arc<AtomicUsize>);

impl Drop for D {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn value_sent_from_another_task_arrives() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            zokio::spawn(async move {
                zokio::task::yield_now().await;
                tx.send(String::from("hello")).unwrap();
            });
            assert_eq!(rx.await.as_deref(), Ok("hello"));
        });
    }
}

#[test]
fn sender_dropped_unsent_gives_recv_error() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            zokio::spawn(async move {
                zokio::task::yield_now().await;
                drop(tx);
            });
            assert!(rx.await.is_err());
        });
    }
}

#[test]
fn dropped_receiver_fails_send_and_returns_the_value() {
    let (tx, rx) = oneshot::channel::<Vec<u8>>();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![1, 2, 3]), Err(vec![1, 2, 3]));
}

#[test]
fn try_recv_reports_empty_then_value_then_closed() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(9).unwrap();
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "taken already");

    let (tx, mut rx) = oneshot::channel::<u32>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_keeps_a_value_sent_before_and_fails_a_send_after() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(1));

    let (tx, mut rx) = oneshot::channel::<u32>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn closed_resolves_when_the_receiver_goes() {
    for rt in flavors() {
        rt.block_on(async {
            // By drop, from another task.
            let (mut tx, rx) = oneshot::channel::<u32>();
            zokio::spawn(async move {
                zokio::task::yield_now().await;
                drop(rx);
            });
            tx.closed().await;
            assert!(tx.is_closed());

            // By close(), the receiver staying alive.
            let (mut tx, mut rx) = oneshot::channel::<u32>();
            let waiter = zokio::spawn(async move {
                tx.closed().await;
                tx.send(3)
            });
            zokio::task::yield_now().await;
            rx.close();
            assert_eq!(waiter.await.unwrap(), Err(3));
        });
    }
}

/// Re-polling with another task's waker replaces the registered one: the send wakes the
/// second task, not the first.
#[test]
fn a_moved_receiver_wakes_its_new_task() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    let (first_woken, first) = support::flag_waker();
    let (second_woken, second) = support::flag_waker();
    assert!(Pin::new(&mut rx)
        .poll(&mut Context::from_waker(&first))
        .is_pending());
    assert!(Pin::new(&mut rx)
        .poll(&mut Context::from_waker(&second))
        .is_pending());
    tx.send(4).unwrap();
    assert!(second_woken.load(SeqCst));
    assert!(!first_woken.load(SeqCst));
    assert_eq!(
        Pin::new(&mut rx).poll(&mut Context::from_waker(&second)),
        Poll::Ready(Ok(4))
    );
}

/// Every order in which the halves can go: the value is dropped exactly once, by
/// whichever side lets go last, or handed back to the sender.
#[test]
fn a_value_is_dropped_exactly_once_in_every_drop_order() {
    let drops = Arc::new(AtomicUsize::new(0));
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);

    // Sent, never received: the receiver's drop drops it.
    let (tx, rx) = oneshot::channel();
    tx.send(D(drops.clone())).ok().unwrap();
    assert_eq!(drops.load(SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);

    // Received: dropped by its new owner only.
    let (tx, mut rx) = oneshot::channel();
    tx.send(D(drops.clone())).ok().unwrap();
    let got = rx.try_recv().ok().unwrap();
    assert_eq!(drops.load(SeqCst), 1);
    drop(got);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 2);

    // Receiver gone first: the failed send hands the value back, nothing dropped.
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(D(drops.clone())).err().unwrap();
    assert_eq!(drops.load(SeqCst), 2);
    drop(back);
    assert_eq!(drops.load(SeqCst), 3);

    // Receiver waiting (waker registered) when the value comes, then dropped unread.
    let (tx, mut rx) = oneshot::channel();
    assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
    tx.send(D(drops.clone())).ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(SeqCst), 4);
}

/// A receiver dropped while its task waits (cancellation mid-wait): the sender then gets
/// its value back, on both flavors.
#[test]
fn receiver_cancelled_mid_wait_hands_the_value_back() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let waiting = zokio::spawn(rx);
            zokio::task::yield_now().await;
            waiting.abort();
            assert!(waiting.await.unwrap_err().is_cancelled());
            assert!(tx.is_closed());
            assert_eq!(tx.send(8), Err(8));
        });
    }
}

/// 20,000 channels, each sent on from a plain thread while a task awaits it: every value
/// arrives once and every value is dropped once (the halves race to free each channel).
#[test]
fn values_sent_from_a_foreign_thread_arrive_and_drop_once() {
    const N: usize = 20_000;
    for rt in flavors() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..N).map(|_| oneshot::channel::<(usize, D)>()).unzip();
        let sender_drops = drops.clone();
        let sender = std::thread::spawn(move || {
            for (i, tx) in senders.into_iter().enumerate() {
                tx.send((i, D(sender_drops.clone()))).ok().unwrap();
            }
        });
        let sum = rt.block_on(async move {
            let mut handles = Vec::with_capacity(N);
            for rx in receivers {
                handles.push(zokio::spawn(async move { rx.await.unwrap().0 }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        sender.join().unwrap();
        assert_eq!(sum, N * (N - 1) / 2);
        assert_eq!(drops.load(SeqCst), N);
    }
}

#[test]
fn blocking_recv_waits_on_a_plain_thread() {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (tx, rx) = oneshot::channel::<u32>();
    rt.spawn(async move {
        zokio::task::yield_now().await;
        tx.send(9).unwrap();
    });
    assert_eq!(rx.blocking_recv(), Ok(9));
    let (tx, rx) = oneshot::channel::<u32>();
    drop(tx);
    assert!(rx.blocking_recv().is_err());
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_recv_inside_a_runtime_panics() {
    let rt = zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_tx, rx) = oneshot::channel::<u32>();
        let _ = rx.blocking_recv();
    });
}

#[test]
fn is_empty_and_is_terminated_follow_the_value() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    assert!(rx.is_empty() && !rx.is_terminated());
    tx.send(1).unwrap();
    assert!(!rx.is_empty(), "a value waits");
    assert!(!rx.is_terminated());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_empty() && rx.is_terminated());

    // A closed channel terminates the receiver once it has said so.
    let (tx, mut rx) = oneshot::channel::<u32>();
    drop(tx);
    assert!(rx.is_empty() && !rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(oneshot::error::TryRecvError::Closed));
    assert!(rx.is_terminated());

    // Polled to completion.
    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(2).unwrap();
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert_eq!(
        std::pin::Pin::new(&mut rx).poll(&mut cx),
        std::task::Poll::Ready(Ok(2))
    );
    assert!(rx.is_terminated());
}
