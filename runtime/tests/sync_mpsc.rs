//! mpsc semantics on both scheduler flavors.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Context;
use zokio::sync::mpsc::{self, TryRecvError, TrySendError};

mod support;
use support::flavors;

#[test]
fn messages_arrive_in_order_and_recv_ends_when_senders_drop() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(4);
            zokio::spawn(async move {
                for i in 0..100u32 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            assert_eq!(got, (0..100).collect::<Vec<_>>());
        });
    }
}

#[test]
fn full_channel_applies_back_pressure() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
            assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
            // A permit cannot be had until a message is received.
            let mut reserve = Box::pin(tx.reserve());
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(reserve.as_mut().poll(&mut cx).is_pending());
            assert_eq!(rx.recv().await, Some(1));
            let permit = reserve.await.unwrap();
            permit.send(3);
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, Some(3));
        });
    }
}

/// Deterministic: five sends are polled by hand in order while the channel is full; each
/// received message then lets exactly the next one in line complete.
#[test]
fn waiting_senders_are_served_in_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0u32).unwrap();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut sends: Vec<_> = (1..=5u32).map(|i| Some(Box::pin(tx.send(i)))).collect();
    for s in sends.iter_mut().flatten() {
        assert!(s.as_mut().poll(&mut cx).is_pending());
    }
    for expected in 0..5u32 {
        assert_eq!(rx.try_recv(), Ok(expected));
        let done: Vec<usize> = sends
            .iter_mut()
            .enumerate()
            .filter_map(|(k, s)| {
                let ready = s.as_mut()?.as_mut().poll(&mut cx).is_ready();
                ready.then(|| {
                    *s = None;
                    k
                })
            })
            .collect();
        assert_eq!(
            done,
            vec![expected as usize],
            "only the next sender in line may complete"
        );
    }
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn cancelled_waiting_sender_does_not_lose_the_slot() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(1).await.unwrap();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            // First in line, then dropped while waiting.
            let mut first = Box::pin(tx.send(2));
            assert!(first.as_mut().poll(&mut cx).is_pending());
            let tx2 = tx.clone();
            let second = zokio::spawn(async move { tx2.send(3).await.unwrap() });
            for _ in 0..10 {
                zokio::task::yield_now().await;
            }
            drop(first);
            assert_eq!(rx.recv().await, Some(1));
            second.await.unwrap();
            assert_eq!(rx.recv().await, Some(3));
            // An unused permit gives its slot back too.
            let permit = tx.reserve().await.unwrap();
            assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
            drop(permit);
            tx.try_send(9).unwrap();
            assert_eq!(rx.recv().await, Some(9));
        });
    }
}

/// Deterministic: a waiting sender that was handed the freed slot but is dropped before it
/// runs hands the slot on to the next in line.
#[test]
fn sender_dropped_after_being_handed_a_slot_passes_it_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0u32).unwrap();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    // The freed slot goes to `first`, which is dropped without running.
    assert_eq!(rx.try_recv(), Ok(0));
    drop(first);
    assert!(second.as_mut().poll(&mut cx).is_ready());
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // Nothing leaked: the channel's one slot is free again.
    tx.try_send(3).unwrap();
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
}

/// After `close`, the stream ends only once every outstanding permit has been used or
/// dropped; dropping the last one wakes the waiting receiver.
#[test]
fn closed_receiver_waits_for_outstanding_permits_then_ends() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            let permit = tx.reserve().await.unwrap();
            rx.close();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(
                rx.poll_recv(&mut cx).is_pending(),
                "a permit may still send"
            );
            let recv = zokio::spawn(async move { rx.recv().await });
            for _ in 0..10 {
                zokio::task::yield_now().await;
            }
            drop(permit);
            assert_eq!(recv.await.unwrap(), None);
        });
    }
}

/// Deterministic: messages the receiver has taken into its private buffer still count
/// against the capacity until their slots go back, a batch (capacity / 4) at a time.
#[test]
fn served_messages_give_their_slots_back_in_batches() {
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..8u32 {
        tx.try_send(i).unwrap();
    }
    assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    assert_eq!(rx.try_recv(), Ok(0));
    // One served, batch of two not complete: still full.
    assert!(matches!(tx.try_send(8), Err(TrySendError::Full(8))));
    assert_eq!(rx.try_recv(), Ok(1));
    // Two slots back.
    tx.try_send(8).unwrap();
    tx.try_send(9).unwrap();
    assert!(matches!(tx.try_send(10), Err(TrySendError::Full(10))));
    // Order is kept across the buffer and the shared queue, and nothing is lost.
    let rest: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(rest, (2..10).collect::<Vec<_>>());
    // Drained: every slot is free again.
    for i in 0..8u32 {
        tx.try_send(i).unwrap();
    }
    assert!(tx.try_send(99).is_err());
}

#[test]
fn dropped_receiver_fails_sends_and_returns_the_value() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, rx) = mpsc::channel::<String>(1);
            drop(rx);
            assert!(tx.is_closed());
            assert_eq!(tx.send("kept".into()).await.unwrap_err().0, "kept");
            let (utx, urx) = mpsc::unbounded_channel::<u8>();
            drop(urx);
            assert_eq!(utx.send(7).unwrap_err().0, 7);
        });
    }
}

#[test]
fn close_wakes_waiting_senders_and_keeps_queued_messages() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(1).await.unwrap();
            let tx2 = tx.clone();
            let waiting = zokio::spawn(async move { tx2.send(2).await.is_err() });
            for _ in 0..10 {
                zokio::task::yield_now().await;
            }
            rx.close();
            assert!(waiting.await.unwrap(), "waiting sender fails after close");
            assert_eq!(rx.recv().await, Some(1));
            drop(tx);
            assert_eq!(rx.recv().await, None);
        });
    }
}

#[test]
fn try_recv_and_recv_many() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            for i in 0..10 {
                tx.send(i).unwrap();
            }
            let mut buf = Vec::new();
            assert_eq!(rx.recv_many(&mut buf, 4).await, 4);
            assert_eq!(rx.recv_many(&mut buf, 100).await, 6);
            assert_eq!(buf, (0..10).collect::<Vec<_>>());
            drop(tx);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            assert_eq!(rx.recv_many(&mut buf, 4).await, 0);
        });
    }
}

#[test]
fn four_producers_every_message_exactly_once() {
    const PER: usize = 25_000;
    for rt in flavors() {
        let seen = Arc::new((0..4 * PER).map(|_| AtomicU8::new(0)).collect::<Vec<_>>());
        let s = seen.clone();
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel(64);
            for p in 0..4 {
                let tx = tx.clone();
                zokio::spawn(async move {
                    for i in 0..PER {
                        tx.send(p * PER + i).await.unwrap();
                    }
                });
            }
            drop(tx);
            while let Some(v) = rx.recv().await {
                s[v].fetch_add(1, SeqCst);
            }
        });
        assert!(seen.iter().all(|c| c.load(SeqCst) == 1));
    }
}

#[test]
fn dropping_the_receiver_drops_queued_messages() {
    let drops = Arc::new(AtomicU8::new(0));
    struct D(Arc<AtomicU8>);
    impl Drop for D {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(D(drops.clone())).unwrap();
    tx.send(D(drops.clone())).unwrap();
    drop(rx);
    assert_eq!(
        drops.load(SeqCst),
        2,
        "dropped with the receiver, not the sender"
    );
    drop(tx);
}

#[test]
fn a_dropped_receiver_lets_go_of_its_waker_while_senders_live() {
    // The registered waker may be the only thing keeping a finished task's allocation
    // alive; dropping the receiver must drop it, not the last sender.
    struct Counted;
    impl std::task::Wake for Counted {
        fn wake(self: Arc<Self>) {}
    }
    let counted = Arc::new(Counted);
    let waker = std::task::Waker::from(counted.clone());
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
    {
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        assert!(urx.poll_recv(&mut cx).is_pending());
    }
    drop(waker);
    assert_eq!(
        Arc::strong_count(&counted),
        3,
        "both receivers hold the waker"
    );
    drop(rx);
    drop(urx);
    assert_eq!(
        Arc::strong_count(&counted),
        1,
        "dropped receivers hold no waker"
    );
    drop((tx, utx));
}

#[test]
fn blocking_send_and_recv_on_plain_threads() {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
    // A task in the runtime relays; this thread sends past the capacity and receives.
    rt.spawn(async move {
        while let Some(v) = rx.recv().await {
            utx.send(v * 2).unwrap();
        }
    });
    let sender = std::thread::spawn(move || {
        for i in 0..10 {
            tx.blocking_send(i).unwrap();
        }
    });
    let mut got: Vec<u32> = (0..5).map(|_| urx.blocking_recv().unwrap()).collect();
    // The rest in batches of at most 3, each call returning at least one.
    while got.len() < 10 {
        let before = got.len();
        let n = urx.blocking_recv_many(&mut got, 3);
        assert!((1..=3).contains(&n) && got.len() == before + n, "{n}");
    }
    sender.join().unwrap();
    assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(
        urx.blocking_recv(),
        None,
        "the relay ends when the sender is gone"
    );
    assert_eq!(urx.blocking_recv_many(&mut got, 3), 0);
    let _: Option<mpsc::error::SendError<u32>> = None;
}

#[test]
#[should_panic(expected = "Cannot block the current thread from within a runtime")]
fn blocking_send_inside_a_runtime_panics() {
    let rt = zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, _rx) = mpsc::channel::<u32>(1);
        let _ = tx.blocking_send(1);
    });
}

/// Deterministic: `reserve_many` waits in line for all its slots at once, so two callers
/// that each need the whole channel never each hold half of it (a deadlock if slots were
/// taken one by one); unused permits of a dropped iterator go back.
#[test]
fn reserve_many_takes_all_its_slots_at_once_in_line() {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    let held = tx.try_reserve().unwrap();
    let mut a = Box::pin(tx.reserve_many(2));
    let mut b = Box::pin(tx.reserve_many(2));
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());
    assert!(
        matches!(tx.try_reserve(), Err(TrySendError::Full(()))),
        "a newcomer overtook the waiting callers"
    );
    assert_eq!(tx.capacity(), 1, "a waiter holds part of what it needs");
    drop(held);
    let std::task::Poll::Ready(Ok(permits)) = a.as_mut().poll(&mut cx) else {
        panic!("the head did not get both slots");
    };
    assert!(b.as_mut().poll(&mut cx).is_pending());
    assert_eq!(permits.len(), 2);
    for (i, permit) in permits.enumerate() {
        permit.send(i as u32);
    }
    assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(0), Ok(1)));
    let std::task::Poll::Ready(Ok(mut permits)) = b.as_mut().poll(&mut cx) else {
        panic!("the second caller was not served once the channel drained");
    };
    permits.next().unwrap().send(7);
    drop(permits); // one permit unused: its slot goes back
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(tx.capacity(), 2);
    // More than the capacity can never be met.
    assert!(matches!(
        tx.try_reserve_many(3),
        Err(TrySendError::Full(()))
    ));
    let mut too_many = Box::pin(tx.reserve_many(3));
    assert!(matches!(
        too_many.as_mut().poll(&mut cx),
        std::task::Poll::Ready(Err(_))
    ));
}

/// A cancelled `reserve_many` that was handed its slots gives them all back, and after
/// close the last slot back ends the receiver's stream.
#[test]
fn cancelled_reserve_many_returns_every_slot() {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let (tx, mut rx) = mpsc::channel::<u32>(3);
    let held = tx.try_reserve_many(3).unwrap();
    let mut waiting = Box::pin(tx.reserve_many(3));
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    drop(held); // handed to `waiting`, which is dropped before it collects them
    assert_eq!(tx.capacity(), 0);
    drop(waiting);
    assert_eq!(tx.capacity(), 3);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "a permit may still send"
    );
    permit.send(5);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn owned_permits_carry_their_sender_into_tasks() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let permit = tx.clone().reserve_owned().await.unwrap();
            assert!(permit.same_channel(&tx));
            // Full: the sender comes back with the error.
            let Err(TrySendError::Full(tx2)) = tx.clone().try_reserve_owned() else {
                panic!("a second slot was reserved in a channel of one");
            };
            assert!(tx2.same_channel(&tx));
            let tx3 = zokio::spawn(async move { permit.send(1) }).await.unwrap();
            assert_eq!(rx.recv().await, Some(1));
            let permit = tx3.try_reserve_owned().unwrap();
            let tx4 = permit.release();
            assert_eq!(tx4.capacity(), 1, "a released permit kept its slot");
        });
    }
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            let weak = tx.downgrade();
            let weak2 = weak.clone();
            assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
            assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 2));
            let again = weak.upgrade().expect("a strong sender lives");
            again.send(1).await.unwrap();
            drop((tx, again));
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, None, "weak senders kept the stream open");
            assert!(weak2.upgrade().is_none());
            drop(weak2);
            assert_eq!(weak.weak_count(), 1);
            let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
            let uweak = utx.downgrade();
            uweak.upgrade().unwrap().send(2).unwrap();
            drop(utx);
            assert_eq!(urx.recv().await, Some(2));
            assert_eq!(urx.recv().await, None);
            assert!(uweak.upgrade().is_none());
        });
    }
}

#[test]
fn receiver_reports_length_and_closing() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(8);
            assert!(rx.is_empty() && !rx.is_closed());
            for i in 0..3 {
                tx.send(i).await.unwrap();
            }
            assert_eq!(rx.len(), 3);
            assert_eq!(rx.recv().await, Some(0));
            // Two left, one in the receiver's buffer and none in the shared queue, or
            // any split: `len` counts both.
            assert_eq!(rx.len(), 2);
            tx.send(3).await.unwrap();
            assert_eq!(rx.len(), 3);
            let closed = {
                let tx = tx.clone();
                zokio::spawn(async move { tx.closed().await })
            };
            rx.close();
            assert!(rx.is_closed());
            closed.await.unwrap();
            // Queued messages survive the close.
            let mut buf = Vec::new();
            while buf.len() < 3 {
                assert_ne!(rx.recv_many(&mut buf, 10).await, 0);
            }
            assert_eq!(buf, [1, 2, 3]);
            assert!(rx.is_empty());
            assert_eq!(rx.recv().await, None);
            // Unbounded: closed once every sender is gone.
            let (utx, urx) = mpsc::unbounded_channel::<u32>();
            utx.send(1).unwrap();
            assert_eq!(urx.len(), 1);
            drop(utx);
            assert!(urx.is_closed());
        });
    }
}

#[test]
fn send_timeout_gives_the_value_back() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel::<String>(1);
            tx.send_timeout("a".into(), std::time::Duration::from_secs(5))
                .await
                .unwrap();
            let err = tx
                .send_timeout("b".into(), std::time::Duration::from_millis(1))
                .await
                .unwrap_err();
            assert!(matches!(err, mpsc::error::SendTimeoutError::Timeout(_)));
            assert_eq!(err.into_inner(), "b");
            assert_eq!(rx.recv().await.as_deref(), Some("a"));
            drop(rx);
            let err = tx
                .send_timeout("c".into(), std::time::Duration::from_secs(5))
                .await
                .unwrap_err();
            assert!(matches!(err, mpsc::error::SendTimeoutError::Closed(ref v) if v == "c"));
        });
    }
}
