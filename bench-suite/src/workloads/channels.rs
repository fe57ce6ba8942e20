//! Message passing and locking through each runtime's own primitives: bounded and unbounded
//! mpsc, oneshot, async mutex, semaphore, Notify.

use crate::rt::{
    AsyncMutex, AsyncNotify, AsyncSemaphore, MpscReceiver, MpscSender, OneshotSender, Runtime,
    UnboundedSender,
};
use std::sync::Arc;

/// `producers` tasks send `total` messages in all through one channel of `capacity` to a
/// consumer task. Ops: messages received.
pub fn mpsc<R: Runtime>(rt: &R, producers: usize, total: usize, capacity: usize) -> u64 {
    rt.run(async move {
        let (tx, mut rx) = R::mpsc::<usize>(capacity);
        let per = total / producers;
        for p in 0..producers {
            let tx = tx.clone();
            drop(R::spawn_local(async move {
                for i in 0..per {
                    if tx.send(p * per + i).await.is_err() {
                        panic!("receiver dropped early");
                    }
                }
            }));
        }
        drop(tx);
        receive_all(&mut rx, per * producers).await
    })
}

/// Receives until every sender is gone; panics unless exactly `expected` messages came.
async fn receive_all<T>(rx: &mut impl MpscReceiver<T>, expected: usize) -> u64 {
    let mut received = 0u64;
    while rx.recv().await.is_some() {
        received += 1;
    }
    assert_eq!(received as usize, expected, "lost or duplicated messages");
    received
}

/// `producers` tasks send `total` messages in all through one unbounded channel to a
/// consumer task (sending never waits). Ops: messages received.
pub fn mpsc_unbounded<R: Runtime>(rt: &R, producers: usize, total: usize) -> u64 {
    rt.run(async move {
        let (tx, mut rx) = R::unbounded::<usize>();
        let per = total / producers;
        for p in 0..producers {
            let tx = tx.clone();
            drop(R::spawn_local(async move {
                for i in 0..per {
                    if tx.send(p * per + i).is_err() {
                        panic!("receiver dropped early");
                    }
                }
            }));
        }
        drop(tx);
        receive_all(&mut rx, per * producers).await
    })
}

/// One task creates a oneshot channel, sends a value through it and awaits it, `total`
/// times: the channel's own cost with no other task involved. Ops: channels.
pub fn oneshot_create_send_recv<R: Runtime>(rt: &R, total: usize) -> u64 {
    rt.run(async move {
        let mut sum = 0u64;
        for i in 0..total as u64 {
            let (tx, rx) = R::oneshot::<u64>();
            if tx.send(i).is_err() {
                panic!("receiver dropped early");
            }
            sum += rx.await.expect("value sent");
        }
        let n = total as u64;
        assert_eq!(sum, n * n.saturating_sub(1) / 2, "lost values");
        n
    })
}

/// Request/reply: a client task sends `total` requests, one at a time, each carrying a new
/// oneshot sender, over an unbounded channel to a server task, which replies through it;
/// the client awaits each reply before the next request. Ops: round trips.
pub fn oneshot_request_reply<R: Runtime>(rt: &R, total: usize) -> u64 {
    rt.run(async move {
        let (requests, mut inbox) = R::unbounded::<(u64, R::OneshotSender<u64>)>();
        let server = R::spawn_local(async move {
            let mut served = 0u64;
            while let Some((x, reply)) = inbox.recv().await {
                if reply.send(x + 1).is_err() {
                    panic!("client dropped a reply");
                }
                served += 1;
            }
            served
        });
        for i in 0..total as u64 {
            let (tx, rx) = R::oneshot::<u64>();
            if requests.send((i, tx)).is_err() {
                panic!("server gone");
            }
            assert_eq!(rx.await, Some(i + 1), "wrong or missing reply");
        }
        drop(requests);
        let served = server.await;
        assert_eq!(served, total as u64);
        served
    })
}

/// `tasks` tasks share one async mutex and each increments the counter behind it
/// `total / tasks` times. Ops: lock + increment + unlock.
pub fn mutex<R: Runtime>(rt: &R, tasks: usize, total: usize) -> u64 {
    let per = total / tasks;
    rt.run(async move {
        let m = Arc::new(<R::Mutex<u64> as AsyncMutex<u64>>::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let m = m.clone();
                R::spawn_local(async move {
                    for _ in 0..per {
                        m.with_lock(|v| *v += 1).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        let count = m.with_lock(|v| *v).await;
        assert_eq!(count as usize, per * tasks, "lost increments: mutex broken");
        count
    })
}

/// `tasks` tasks acquire and release one permit each, `total / tasks` times, on a
/// semaphore of `permits` permits. With `hold_across_yield` each task yields once while it
/// holds its permit, so that with more tasks than permits the others find none free and
/// queue for one: every acquire then waits and is granted by a release. Without it, no task
/// holds a permit across an `.await`, so on 2 workers at most two are held at once and
/// nobody waits. Ops: acquire + release.
pub fn semaphore<R: Runtime>(
    rt: &R,
    tasks: usize,
    permits: usize,
    total: usize,
    hold_across_yield: bool,
) -> u64 {
    let per = total / tasks;
    rt.run(async move {
        let sem = Arc::new(<R::Semaphore as AsyncSemaphore>::new(permits));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let sem = sem.clone();
                R::spawn_local(async move {
                    for _ in 0..per {
                        if hold_across_yield {
                            sem.acquire_release(R::yield_now()).await;
                        } else {
                            sem.acquire_release(std::future::ready(())).await;
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        assert_eq!(
            sem.available_permits(),
            permits,
            "permits leaked or created: semaphore broken"
        );
        (per * tasks) as u64
    })
}

/// Two tasks hand the turn back and forth `rounds` times through two `Notify`s (ping
/// notifies, pong waits then notifies back). Ops: round trips.
pub fn notify_ping_pong<R: Runtime>(rt: &R, rounds: usize) -> u64 {
    rt.run(async move {
        let ping = Arc::new(<R::Notify as AsyncNotify>::new());
        let pong = Arc::new(<R::Notify as AsyncNotify>::new());
        let responder = {
            let (ping, pong) = (ping.clone(), pong.clone());
            R::spawn_local(async move {
                for _ in 0..rounds {
                    ping.notified().await;
                    pong.notify_one();
                }
            })
        };
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
        responder.await;
        rounds as u64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn locks_count_every_operation_on_both() {
        assert_eq!(mutex(&Zokio::multi_thread(2), 4, 1_000), 1_000);
        assert_eq!(mutex(&Tokio::multi_thread(2), 4, 1_000), 1_000);
        for hold in [false, true] {
            assert_eq!(semaphore(&Zokio::multi_thread(2), 4, 2, 1_000, hold), 1_000);
            assert_eq!(semaphore(&Tokio::multi_thread(2), 4, 2, 1_000, hold), 1_000);
        }
        assert_eq!(notify_ping_pong(&Zokio::multi_thread(2), 100), 100);
        assert_eq!(notify_ping_pong(&Tokio::multi_thread(2), 100), 100);
    }

    #[test]
    fn every_message_arrives_on_both() {
        assert_eq!(mpsc(&Zokio::multi_thread(2), 4, 1_000, 8), 1_000);
        assert_eq!(mpsc(&Tokio::multi_thread(2), 4, 1_000, 8), 1_000);
        assert_eq!(mpsc_unbounded(&Zokio::multi_thread(2), 4, 1_000), 1_000);
        assert_eq!(mpsc_unbounded(&Tokio::multi_thread(2), 4, 1_000), 1_000);
        assert_eq!(
            oneshot_create_send_recv(&Zokio::multi_thread(2), 1_000),
            1_000
        );
        assert_eq!(
            oneshot_create_send_recv(&Tokio::multi_thread(2), 1_000),
            1_000
        );
        assert_eq!(oneshot_request_reply(&Zokio::multi_thread(2), 1_000), 1_000);
        assert_eq!(oneshot_request_reply(&Tokio::multi_thread(2), 1_000), 1_000);
    }
}
