//! Message passing and locking through each runtime's own primitives: bounded mpsc,
//! async mutex, semaphore.

use crate::rt::{AsyncMutex, AsyncNotify, AsyncSemaphore, MpscReceiver, MpscSender, Runtime};
use std::sync::Arc;

/// `producers` tasks send `total` messages in all through one channel of `capacity` to a
/// consumer task. Ops: messages received.
pub fn mpsc<R: Runtime>(rt: &R, producers: usize, total: usize, capacity: usize) -> u64 {
    rt.block_on(rt.spawn(async move {
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
        let mut received = 0u64;
        while rx.recv().await.is_some() {
            received += 1;
        }
        assert_eq!(
            received as usize,
            per * producers,
            "lost or duplicated messages"
        );
        received
    }))
}

/// `tasks` tasks share one async mutex and each increments the counter behind it
/// `total / tasks` times. Ops: lock + increment + unlock.
pub fn mutex<R: Runtime>(rt: &R, tasks: usize, total: usize) -> u64 {
    let per = total / tasks;
    rt.block_on(rt.spawn(async move {
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
    }))
}

/// `tasks` tasks acquire and release one permit each, `total / tasks` times, on a
/// semaphore of `permits` permits. Ops: acquire + release.
pub fn semaphore<R: Runtime>(rt: &R, tasks: usize, permits: usize, total: usize) -> u64 {
    let per = total / tasks;
    rt.block_on(rt.spawn(async move {
        let sem = Arc::new(<R::Semaphore as AsyncSemaphore>::new(permits));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let sem = sem.clone();
                R::spawn_local(async move {
                    for _ in 0..per {
                        sem.acquire_release().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
        (per * tasks) as u64
    }))
}

/// Two tasks hand the turn back and forth `rounds` times through two `Notify`s (ping
/// notifies, pong waits then notifies back). Ops: round trips.
pub fn notify_ping_pong<R: Runtime>(rt: &R, rounds: usize) -> u64 {
    rt.block_on(rt.spawn(async move {
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
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn locks_count_every_operation_on_both() {
        assert_eq!(mutex(&Zokio::multi_thread(2), 4, 1_000), 1_000);
        assert_eq!(mutex(&Tokio::multi_thread(2), 4, 1_000), 1_000);
        assert_eq!(semaphore(&Zokio::multi_thread(2), 4, 2, 1_000), 1_000);
        assert_eq!(semaphore(&Tokio::multi_thread(2), 4, 2, 1_000), 1_000);
        assert_eq!(notify_ping_pong(&Zokio::multi_thread(2), 100), 100);
        assert_eq!(notify_ping_pong(&Tokio::multi_thread(2), 100), 100);
    }

    #[test]
    fn every_message_arrives_on_both() {
        assert_eq!(mpsc(&Zokio::multi_thread(2), 4, 1_000, 8), 1_000);
        assert_eq!(mpsc(&Tokio::multi_thread(2), 4, 1_000, 8), 1_000);
    }
}
