//! The blocking pool: thread limit, keep-alive exit, what shutdown does to queued and later closures.

use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};
use zokio::runtime::Builder;

#[test]
fn pool_never_exceeds_max_blocking_threads() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let names = rt.block_on(async {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                zokio::task::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_millis(2));
                    std::thread::current().id()
                })
            })
            .collect();
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.unwrap());
        }
        ids
    });
    let mut distinct = names.clone();
    distinct.sort_by_key(|id| format!("{id:?}"));
    distinct.dedup();
    assert!(distinct.len() <= 2, "{} threads used", distinct.len());
    assert!(rt.metrics().num_blocking_threads() <= 2);
}

#[test]
fn pool_grows_on_demand_for_concurrent_closures() {
    // Three closures that can only finish together need three threads at once.
    let rt = Builder::new_current_thread().build().unwrap();
    let barrier = Arc::new(Barrier::new(3));
    rt.block_on(async {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                zokio::task::spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert!(rt.metrics().num_blocking_threads() >= 3);
}

#[test]
fn idle_blocking_threads_exit_after_keep_alive() {
    let rt = Builder::new_current_thread()
        .thread_keep_alive(Duration::from_millis(20))
        .build()
        .unwrap();
    rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    // Behaviour, not timing: the thread must exit eventually; the deadline only bounds a
    // hang and is far above the keep-alive.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rt.metrics().num_blocking_threads() > 0 {
        assert!(
            Instant::now() < deadline,
            "idle blocking thread never exited"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A closure queued behind a busy thread when the runtime shuts down still runs (as
/// Tokio's: closures handed to `spawn_blocking` before the shutdown run), and its handle
/// gives its result; one spawned after the shutdown is refused (cancelled).
#[test]
fn queued_closure_runs_after_shutdown_and_later_ones_are_refused() {
    for current_thread in [true, false] {
        let mut builder = if current_thread {
            Builder::new_current_thread()
        } else {
            Builder::new_multi_thread()
        };
        let rt = builder.max_blocking_threads(1).build().unwrap();
        let handle = rt.handle().clone();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        // Occupies the only thread until released.
        let busy = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        });
        started_rx.recv().unwrap();
        let queued = rt.spawn_blocking(|| 42);
        // Shut down without waiting; then let the busy closure finish.
        rt.shutdown_background();
        let refused = handle.spawn_blocking(|| 7);
        release_tx.send(()).unwrap();
        let other = Builder::new_current_thread().build().unwrap();
        other.block_on(busy).unwrap();
        assert_eq!(other.block_on(queued).unwrap(), 42);
        assert!(other.block_on(refused).unwrap_err().is_cancelled());
    }
}

/// The last reference to a runtime dropped inside one of its blocking closures: the pool's
/// shutdown must not wait for the thread it runs on.
#[test]
fn runtime_dropped_from_its_own_blocking_closure_does_not_deadlock() {
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let inner = rt.clone();
    rt.spawn_blocking(move || {
        go_rx.recv().unwrap();
        drop(inner);
        tx.send(()).unwrap();
    });
    drop(rt);
    go_tx.send(()).unwrap();
    rx.recv_timeout(Duration::from_secs(60))
        .expect("runtime drop inside its own blocking closure deadlocked");
}
