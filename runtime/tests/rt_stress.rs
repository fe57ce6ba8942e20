//! Stress tests with exact accounting: every task runs exactly once, every future is
//! dropped exactly once. Counts are per task (one atomic slot each), so a task run twice
//! or never is caught, not just a wrong total. Sizes are the issue's; run with
//! `--release` (the README's test command) to keep them quick.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use zokio::runtime::{Builder, Runtime};

fn multi(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

fn slots(n: usize) -> Arc<Vec<AtomicU8>> {
    Arc::new((0..n).map(|_| AtomicU8::new(0)).collect())
}

fn assert_all_once(slots: &[AtomicU8], what: &str) {
    let bad: Vec<(usize, u8)> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.load(SeqCst)))
        .filter(|&(_, v)| v != 1)
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: slots not exactly 1 (index, count): {bad:?}"
    );
}

/// 1,000,000 tasks spawned from inside the runtime across 2 workers: each runs once.
#[test]
fn million_tasks_each_run_exactly_once() {
    const N: usize = 1_000_000;
    let rt = multi(2);
    let ran = slots(N);
    let r = ran.clone();
    rt.block_on(async move {
        // Spawn from a task, in batches from several spawner tasks, so both local queues,
        // the LIFO slot, overflow to the injector and stealing are all exercised.
        let spawners: Vec<_> = (0..4)
            .map(|s| {
                let r = r.clone();
                zokio::spawn(async move {
                    let mut handles = Vec::with_capacity(N / 4);
                    for i in (s..N).step_by(4) {
                        let r = r.clone();
                        handles.push(zokio::spawn(async move {
                            r[i].fetch_add(1, SeqCst);
                        }));
                    }
                    for h in handles {
                        h.await.unwrap();
                    }
                })
            })
            .collect();
        for s in spawners {
            s.await.unwrap();
        }
    });
    assert_all_once(&ran, "runs");
    let m = rt.metrics();
    assert_eq!(m.spawned_tasks_count(), N as u64 + 4);
}

/// 100,000 tasks each parked on a oneshot, woken from 4 foreign threads.
#[test]
fn hundred_thousand_tasks_woken_from_foreign_threads() {
    const N: usize = 100_000;
    const THREADS: usize = 4;
    let rt = multi(2);
    let ran = slots(N);
    let mut senders = Vec::with_capacity(N);
    let mut handles = Vec::with_capacity(N);
    for i in 0..N {
        let (tx, rx) = zokio::sync::oneshot::channel::<usize>();
        senders.push(tx);
        let r = ran.clone();
        handles.push(rt.spawn(async move {
            let got = rx.await.unwrap();
            assert_eq!(got, i);
            r[i].fetch_add(1, SeqCst);
        }));
    }
    // Send from foreign threads, interleaved so wakes hit tasks on both workers.
    let mut chunks: Vec<Vec<(usize, zokio::sync::oneshot::Sender<usize>)>> =
        (0..THREADS).map(|_| Vec::new()).collect();
    for (i, tx) in senders.into_iter().enumerate() {
        chunks[i % THREADS].push((i, tx));
    }
    let threads: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                for (i, tx) in chunk {
                    tx.send(i).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    rt.block_on(async move {
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_all_once(&ran, "foreign wakes");
}

/// A mix of tasks that complete, panic, or are aborted while pending: every outcome is
/// reported as such and every future is dropped exactly once.
#[test]
fn panics_and_aborts_mixed_in() {
    const N: usize = 100_000;
    let rt = multi(2);
    let dropped = slots(N);
    struct Guard(Arc<Vec<AtomicU8>>, usize);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0[self.1].fetch_add(1, SeqCst);
        }
    }
    let (ok, panicked, cancelled) = rt.block_on({
        let dropped = dropped.clone();
        async move {
            let mut handles = Vec::with_capacity(N);
            for i in 0..N {
                let g = Guard(dropped.clone(), i);
                let h = zokio::spawn(async move {
                    let _g = g;
                    match i % 10 {
                        // Panics, sometimes after a yield so it happens on a later poll.
                        3 => panic!("task {i} panics"),
                        7 => {
                            zokio::task::yield_now().await;
                            panic!("task {i} panics late")
                        }
                        // Never completes: will be aborted.
                        5 | 9 => std::future::pending::<()>().await,
                        _ => zokio::task::yield_now().await,
                    }
                });
                if i % 10 == 5 || i % 10 == 9 {
                    h.abort();
                }
                handles.push(h);
            }
            let (mut ok, mut panicked, mut cancelled) = (0, 0, 0);
            for h in handles {
                match h.await {
                    Ok(()) => ok += 1,
                    Err(e) if e.is_panic() => panicked += 1,
                    Err(e) if e.is_cancelled() => cancelled += 1,
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            (ok, panicked, cancelled)
        }
    });
    assert_eq!(
        (ok, panicked, cancelled),
        (N / 10 * 6, N / 10 * 2, N / 10 * 2)
    );
    assert_all_once(&dropped, "future drops");
}

/// Dropping the runtime with 100,000 pending tasks drops each future exactly once, and
/// frees each task (the Arc each future holds is released).
#[test]
fn drop_runtime_with_pending_tasks_drops_each_future_once() {
    const N: usize = 100_000;
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    struct Pending(Arc<Vec<AtomicU8>>, usize);
    impl std::future::Future for Pending {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            std::task::Poll::Pending
        }
    }
    impl Drop for Pending {
        fn drop(&mut self) {
            self.0[self.1].fetch_add(1, SeqCst);
            LIVE.fetch_sub(1, SeqCst);
        }
    }
    for flavor in ["current_thread", "multi_thread"] {
        let rt = if flavor == "current_thread" {
            Builder::new_current_thread().build().unwrap()
        } else {
            multi(2)
        };
        let dropped = slots(N);
        for i in 0..N {
            LIVE.fetch_add(1, SeqCst);
            // Detached (no JoinHandle kept) so the runtime alone owns them; half are polled
            // once before the drop, half never polled.
            drop(rt.spawn(Pending(dropped.clone(), i)));
        }
        rt.block_on(async {
            for _ in 0..3 {
                zokio::task::yield_now().await;
            }
        });
        drop(rt);
        assert_all_once(&dropped, flavor);
        assert_eq!(LIVE.load(SeqCst), 0);
        // Every task cell is freed: only our own reference to the slots remains.
        assert_eq!(
            Arc::strong_count(&dropped),
            1,
            "{flavor}: a task cell leaked"
        );
    }
}

/// Tasks that wake each other in chains across workers (message-passing shape) all finish.
#[test]
fn ping_pong_chains_complete() {
    let rt = multi(2);
    let done = rt.block_on(async {
        let mut handles = Vec::new();
        for _ in 0..1_000 {
            handles.push(zokio::spawn(async {
                let (tx1, rx1) = zokio::sync::oneshot::channel::<()>();
                let (tx2, rx2) = zokio::sync::oneshot::channel::<()>();
                let pong = zokio::spawn(async move {
                    rx1.await.unwrap();
                    tx2.send(()).unwrap();
                });
                tx1.send(()).unwrap();
                rx2.await.unwrap();
                pong.await.unwrap();
            }));
        }
        let n = handles.len();
        for h in handles {
            h.await.unwrap();
        }
        n
    });
    assert_eq!(done, 1_000);
}

/// Timers firing while a worker parks queue tasks on that worker; meanwhile a remote spawn
/// may already have notified it. A worker woken both ways must still count as searching,
/// or the idle bookkeeping leaks a searcher and parked workers are never notified again
/// (found by zbench's `timers.sleep_throughput`, which then hung). Each round: a task
/// spawns 20,000 sleepers from inside the runtime while timers fire; every sleeper runs
/// exactly once and the round finishes. The 60 s bound only turns a hang into a failure.
#[test]
fn sleepers_spawned_while_timers_fire_all_complete() {
    const N: usize = 20_000;
    let rt = multi(2);
    for round in 0..10 {
        let ran = slots(N);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let left = Arc::new(AtomicUsize::new(N));
        let r = ran.clone();
        rt.spawn(async move {
            for i in 0..N {
                let (r, left, tx) = (r.clone(), left.clone(), tx.clone());
                zokio::spawn(async move {
                    zokio::time::sleep(std::time::Duration::from_micros(
                        500 + (i % 7) as u64 * 100,
                    ))
                    .await;
                    r[i].fetch_add(1, SeqCst);
                    if left.fetch_sub(1, SeqCst) == 1 {
                        tx.send(()).unwrap();
                    }
                });
            }
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!("round {round}: sleepers never all completed (lost wake-up)")
            });
        assert_all_once(&ran, "sleepers");
    }
}
