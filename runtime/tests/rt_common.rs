//! Runtime behaviour tests; every test body runs on the current-thread flavor and on the
//! multi-thread flavor with 1 and 2 workers (the `rt_test!` macro, after Tokio's
//! `tests/rt_common.rs`).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use zokio::runtime::{Builder, Runtime};

#[macro_use]
mod support;

/// A future that is pending forever and counts its drops.
struct PendingDrop(Arc<AtomicUsize>);

impl std::future::Future for PendingDrop {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl Drop for PendingDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

rt_test! {
    #[test]
    fn block_on_returns_value() {
        assert_eq!(rt().block_on(async { 7 }), 7);
    }

    /// A `block_on` future that wakes itself on every poll while it waits for a timer
    /// (Tokio's `time_rt::starving`): the runtime must still fire the timer, so the
    /// current-thread flavor polls its driver (without sleeping) whenever the future woke.
    #[test]
    fn a_self_waking_block_on_future_still_sees_its_timer() {
        struct Starve<F>(std::pin::Pin<Box<F>>, u64);
        impl<F: std::future::Future<Output = ()>> std::future::Future for Starve<F> {
            type Output = u64;
            fn poll(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<u64> {
                if self.0.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(self.1);
                }
                self.1 += 1;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        }
        let rt = rt();
        rt.block_on(async {
            let when = zokio::time::Instant::now() + Duration::from_millis(10);
            let polls = Starve(Box::pin(zokio::time::sleep_until(when)), 0).await;
            assert!(polls > 0);
            assert!(zokio::time::Instant::now() >= when);
        });
    }

    #[test]
    fn spawn_and_join() {
        let rt = rt();
        let out = rt.block_on(async {
            let h = zokio::spawn(async { "hello" });
            h.await.unwrap()
        });
        assert_eq!(out, "hello");
    }

    #[test]
    fn spawn_from_outside_via_runtime_and_handle() {
        let rt = rt();
        let a = rt.spawn(async { 1 });
        let b = rt.handle().clone().spawn(async { 2 });
        let sum = rt.block_on(async move { a.await.unwrap() + b.await.unwrap() });
        assert_eq!(sum, 3);
    }

    #[test]
    fn spawn_from_foreign_thread() {
        let rt = rt();
        let handle = rt.handle().clone();
        let joined = std::thread::spawn(move || handle.spawn(async { 5u8 })).join().unwrap();
        assert_eq!(rt.block_on(joined).unwrap(), 5);
    }

    #[test]
    fn many_tasks_each_run_once() {
        let rt = rt();
        let counter = Arc::new(AtomicUsize::new(0));
        let c = counter.clone();
        rt.block_on(async move {
            let handles: Vec<_> = (0..10_000)
                .map(|_| {
                    let c = c.clone();
                    zokio::spawn(async move {
                        c.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(counter.load(SeqCst), 10_000);
    }

    #[test]
    fn nested_spawns_complete() {
        let rt = rt();
        let out = rt.block_on(async {
            zokio::spawn(async {
                zokio::spawn(async { zokio::spawn(async { 3 }).await.unwrap() * 2 })
                    .await
                    .unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 6);
    }

    #[test]
    fn yield_now_lets_others_run() {
        let rt = rt();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let o = order.clone();
        rt.block_on(async move {
            let o2 = o.clone();
            let a = zokio::spawn(async move {
                for i in 0..3 {
                    o2.lock().unwrap().push(("a", i));
                    zokio::task::yield_now().await;
                }
            });
            let o3 = o.clone();
            let b = zokio::spawn(async move {
                for i in 0..3 {
                    o3.lock().unwrap().push(("b", i));
                    zokio::task::yield_now().await;
                }
            });
            a.await.unwrap();
            b.await.unwrap();
        });
        let order = order.lock().unwrap();
        assert_eq!(order.len(), 6);
        for name in ["a", "b"] {
            let seq: Vec<i32> = order.iter().filter(|(n, _)| *n == name).map(|(_, i)| *i).collect();
            assert_eq!(seq, vec![0, 1, 2]);
        }
    }

    #[test]
    fn panic_becomes_join_error_and_runtime_survives() {
        let rt = rt();
        rt.block_on(async {
            let err = zokio::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
            // The runtime still works afterwards.
            assert_eq!(zokio::spawn(async { 1 }).await.unwrap(), 1);
        });
    }

    #[test]
    fn abort_pending_task_drops_future_and_reports_cancelled() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(async move {
            let h = zokio::spawn(PendingDrop(d));
            zokio::task::yield_now().await;
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled());
        });
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn abort_before_first_poll() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let h = rt.spawn(PendingDrop(d));
        h.abort();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn abort_finished_task_keeps_output() {
        let rt = rt();
        rt.block_on(async {
            let h = zokio::spawn(async { 9 });
            while !h.is_finished() {
                zokio::task::yield_now().await;
            }
            h.abort();
            assert_eq!(h.await.unwrap(), 9);
        });
    }

    #[test]
    fn abort_handle_outlives_join_handle() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(async move {
            let h = zokio::spawn(PendingDrop(d));
            let abort = h.abort_handle();
            drop(h);
            abort.abort();
            // Cancellation happens on a worker; wait for it (no time bound: a hang fails).
            while !abort.is_finished() {
                zokio::task::yield_now().await;
            }
        });
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn drop_runtime_drops_pending_futures() {
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = rt();
        let handles: Vec<_> = (0..1000).map(|_| rt.spawn(PendingDrop(drops.clone()))).collect();
        rt.block_on(zokio::task::yield_now());
        drop(rt);
        assert_eq!(drops.load(SeqCst), 1000);
        for h in handles {
            assert!(h.is_finished());
        }
    }

    /// Tasks spawned from inside the runtime (on a current-thread runtime: bound to the
    /// core's own list) are counted while alive and cancelled at shutdown; a task spawned
    /// by a destructor during shutdown is cancelled at once, not leaked.
    #[test]
    fn tasks_spawned_inside_are_counted_and_cancelled_at_shutdown() {
        struct SpawnOnDrop(mpsc::Sender<zokio::task::JoinHandle<u8>>);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let _ = self.0.send(zokio::spawn(async { 7 }));
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let rt = rt();
        let m = rt.metrics();
        let spawned_before = m.spawned_tasks_count();
        let (handles, done) = rt.block_on({
            let drops = drops.clone();
            async move {
                let handles: Vec<_> = (0..100).map(|_| zokio::spawn(PendingDrop(drops.clone()))).collect();
                let tx = tx.clone();
                let on_drop = SpawnOnDrop(tx);
                let spawner = zokio::spawn(async move {
                    let _on_drop = on_drop;
                    std::future::pending::<()>().await
                });
                let done = zokio::spawn(async { 3 });
                zokio::task::yield_now().await;
                (handles, (spawner, done))
            }
        });
        assert_eq!(m.spawned_tasks_count() - spawned_before, 102);
        let done = rt.block_on(done.1).unwrap();
        assert_eq!(done, 3);
        // The 100 pending tasks and the spawner; on a worker, the joined task may still be
        // leaving the list just after waking its joiner.
        let alive = m.num_alive_tasks();
        assert!((101..=102).contains(&alive), "alive = {alive}");
        drop(rt);
        assert_eq!(drops.load(SeqCst), 100);
        assert_eq!(m.num_alive_tasks(), 0);
        let other = Builder::new_current_thread().build().unwrap();
        for h in handles {
            assert!(other.block_on(h).unwrap_err().is_cancelled());
        }
        let late = rx.recv().expect("the destructor ran and spawned");
        assert!(other.block_on(late).unwrap_err().is_cancelled());
    }

    #[test]
    fn join_handle_after_runtime_drop_reports_cancelled() {
        let rt = rt();
        let h = rt.spawn(std::future::pending::<()>());
        drop(rt);
        let other = Builder::new_current_thread().build().unwrap();
        assert!(other.block_on(h).unwrap_err().is_cancelled());
    }

    #[test]
    fn spawn_after_shutdown_is_cancelled() {
        let rt = rt();
        let handle = rt.handle().clone();
        drop(rt);
        let h = handle.spawn(async { 1 });
        let other = Builder::new_current_thread().build().unwrap();
        assert!(other.block_on(h).unwrap_err().is_cancelled());
    }

    #[test]
    fn wake_from_foreign_thread() {
        let rt = rt();
        let (tx, rx) = zokio::sync::oneshot::channel::<u32>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            tx.send(11).unwrap();
        });
        let out = rt.block_on(async move { zokio::spawn(async move { rx.await.unwrap() }).await.unwrap() });
        assert_eq!(out, 11);
        t.join().unwrap();
    }

    #[test]
    fn spawn_blocking_runs_and_returns() {
        let rt = rt();
        let out = rt.block_on(async {
            zokio::task::spawn_blocking(|| std::thread::current().name().map(str::to_owned))
                .await
                .unwrap()
        });
        assert!(out.unwrap().contains("blocking"));
    }

    #[test]
    fn spawn_blocking_panic_is_join_error() {
        let rt = rt();
        let err = rt.block_on(rt.spawn_blocking(|| panic!("blocking boom"))).unwrap_err();
        assert!(err.is_panic());
    }

    #[test]
    fn handle_current_inside_tasks_and_blocking() {
        let rt = rt();
        rt.block_on(async {
            let h = zokio::runtime::Handle::current();
            let inner = zokio::spawn(async { zokio::runtime::Handle::try_current().is_ok() }).await.unwrap();
            assert!(inner);
            let in_blocking = zokio::task::spawn_blocking(|| zokio::runtime::Handle::try_current().is_ok()).await.unwrap();
            assert!(in_blocking);
            drop(h);
        });
    }

    #[test]
    fn enter_guard_allows_spawn() {
        let rt = rt();
        let h = {
            let _guard = rt.enter();
            zokio::spawn(async { 4 })
        };
        assert_eq!(rt.block_on(h).unwrap(), 4);
    }

    #[test]
    fn join_set_collects_all() {
        let rt = rt();
        let sum = rt.block_on(async {
            let mut set = zokio::task::JoinSet::new();
            for i in 0..100u64 {
                set.spawn(async move {
                    zokio::task::yield_now().await;
                    i
                });
            }
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            sum
        });
        assert_eq!(sum, 4950);
    }

    #[test]
    fn join_set_drop_aborts_children() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(async move {
            let mut set = zokio::task::JoinSet::new();
            for _ in 0..10 {
                set.spawn(PendingDrop(d.clone()));
            }
            zokio::task::yield_now().await;
            drop(set);
            while d.load(SeqCst) < 10 {
                zokio::task::yield_now().await;
            }
        });
        assert_eq!(drops.load(SeqCst), 10);
    }

    #[test]
    fn join_set_join_all_propagates_panic() {
        let rt = rt();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let mut set = zokio::task::JoinSet::new();
                set.spawn(async { 1 });
                set.spawn(async { panic!("child failed") });
                set.join_all().await
            })
        }));
        let payload = res.unwrap_err();
        assert_eq!(*payload.downcast::<&str>().unwrap(), "child failed");
    }

    /// When `join_all` resumes a child's panic, the other children have been aborted and
    /// have finished (their futures dropped): none outlives the call. One child never
    /// completes; another is mid-poll (in a sleep) on some worker when the panic arrives.
    #[test]
    fn join_set_join_all_stops_every_child_before_resuming_a_panic() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async move {
                let mut set = zokio::task::JoinSet::new();
                set.spawn(PendingDrop(d.clone()));
                let busy = PendingDrop(d.clone());
                set.spawn(async move {
                    let _guard = busy;
                    loop {
                        std::thread::sleep(Duration::from_millis(1));
                        zokio::task::yield_now().await;
                    }
                });
                set.spawn(async {
                    zokio::task::yield_now().await;
                    panic!("child failed")
                });
                set.join_all().await
            })
        }));
        let payload = res.unwrap_err();
        assert_eq!(*payload.downcast::<&str>().unwrap(), "child failed");
        assert_eq!(drops.load(SeqCst), 2, "a child outlived join_all");
    }

    /// `try_join_all`: all `Ok` gives every output; the first `Err` is returned after the
    /// other children are aborted and finished.
    #[test]
    fn join_set_try_join_all_returns_the_first_error_after_stopping_the_rest() {
        let rt = rt();
        let all_ok: Result<Vec<u32>, String> = rt.block_on(async {
            let mut set = zokio::task::JoinSet::new();
            for i in 0..10u32 {
                set.spawn(async move {
                    zokio::task::yield_now().await;
                    Ok(i)
                });
            }
            set.try_join_all().await
        });
        let mut got = all_ok.unwrap();
        got.sort_unstable();
        assert_eq!(got, (0..10).collect::<Vec<_>>());

        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let failed: Result<Vec<u32>, String> = rt.block_on(async move {
            let mut set = zokio::task::JoinSet::new();
            for _ in 0..3 {
                let pending = PendingDrop(d.clone());
                set.spawn(async move {
                    pending.await;
                    Ok(0)
                });
            }
            set.spawn(async { Ok(1) });
            set.spawn(async {
                zokio::task::yield_now().await;
                Err("bad input".to_owned())
            });
            set.try_join_all().await
        });
        assert_eq!(failed, Err("bad input".to_owned()));
        assert_eq!(drops.load(SeqCst), 3, "a child outlived try_join_all");
    }

    #[test]
    fn nested_block_on_panics() {
        let rt = rt();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let inner = Builder::new_current_thread().build().unwrap();
                inner.block_on(async {});
            })
        }));
        assert!(res.is_err());
    }

    #[test]
    fn metrics_count_spawns_and_polls() {
        let rt = rt();
        rt.block_on(async {
            let hs: Vec<_> = (0..50).map(|_| zokio::spawn(async {})).collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        let m = rt.metrics();
        assert_eq!(m.spawned_tasks_count(), 50);
        // A joined task leaves the owned list just after waking its joiner, so the alive
        // count is only guaranteed to be 0 once the runtime has shut down.
        drop(rt);
        assert_eq!(m.num_alive_tasks(), 0);
        let polls: u64 = (0..m.num_workers()).map(|w| m.worker_poll_count(w)).sum();
        assert!(polls >= 50, "polls = {polls}");
    }

    #[test]
    fn shutdown_timeout_returns_with_stuck_blocking_task() {
        let rt = rt();
        let (tx, rx) = mpsc::channel::<()>();
        rt.spawn_blocking(move || {
            let _ = rx.recv();
        });
        rt.shutdown_timeout(Duration::from_millis(10));
        drop(tx);
    }

    #[test]
    fn coop_budget_lets_others_run() {
        // A task that awaits ready JoinHandles in a loop still yields to a sibling.
        let rt = rt();
        rt.block_on(async {
            let flag = Arc::new(AtomicUsize::new(0));
            let f = flag.clone();
            let sibling = zokio::spawn(async move {
                f.store(1, SeqCst);
            });
            let spinner = zokio::spawn(async move {
                let mut spins = 0u64;
                while flag.load(SeqCst) == 0 {
                    let done = zokio::spawn(async {});
                    // Wait for it to finish, then await it (ready: spends budget).
                    while !done.is_finished() {
                        zokio::task::yield_now().await;
                    }
                    done.await.unwrap();
                    spins += 1;
                }
                spins
            });
            sibling.await.unwrap();
            spinner.await.unwrap();
        });
    }
}

/// Two threads in `block_on` on one current-thread runtime: the second polls its own
/// future while the first drives the tasks, and takes the core over when it is released.
#[test]
fn current_thread_block_on_from_two_threads() {
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    let (tx_a, rx_a) = zokio::sync::oneshot::channel::<()>();
    let a = {
        let rt = rt.clone();
        std::thread::spawn(move || rt.block_on(rx_a).unwrap())
    };
    let b = {
        let rt = rt.clone();
        std::thread::spawn(move || {
            rt.block_on(async move {
                let h = zokio::spawn(async move {
                    tx_a.send(()).unwrap();
                    5
                });
                h.await.unwrap()
            })
        })
    };
    a.join().unwrap();
    assert_eq!(b.join().unwrap(), 5);
}

/// The last reference to a multi-thread runtime dropped inside one of its own tasks: the
/// shutdown must not wait for the worker it is running on.
#[test]
fn runtime_dropped_from_its_own_task_does_not_deadlock() {
    let rt = Arc::new(
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel();
    let inner = rt.clone();
    let (go_tx, go_rx) = zokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        go_rx.await.unwrap();
        // The last reference: shuts the runtime down from a worker without waiting, then
        // panics as Tokio does (dropping a runtime inside async code is refused).
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(inner)));
        tx.send(dropped.is_err()).unwrap();
    });
    drop(rt);
    go_tx.send(()).unwrap();
    let panicked = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("runtime drop inside its own task deadlocked");
    assert!(panicked, "dropping a runtime inside async code panics");
}

/// Shutdown's unpark arriving while a worker is between its maintenance pass and the
/// non-blocking driver poll that follows it: that poll consumed the unpark, the worker then
/// ran out of work and parked for good, and dropping the runtime hung (found by a benchmark
/// whose main thread panicked while the workers were finishing their last tasks). With an
/// event interval of 1 every scheduler tick opens that window, so a few hundred shutdowns
/// of a busy runtime hit it.
#[test]
fn shutdown_racing_a_maintenance_driver_poll_does_not_hang() {
    for round in 0..300 {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .event_interval(1)
            .build()
            .unwrap();
        for _ in 0..64 {
            rt.spawn(async move {
                for _ in 0..(round % 7) * 3 {
                    zokio::task::yield_now().await;
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            drop(rt);
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("round {round}: dropping the runtime hung"));
    }
}

/// Two tasks that only yield, queued on one worker while its sibling sleeps, still reach
/// the sibling. Two paths wake it: a yield with other work queued (thinned out by a
/// backoff while such wake-ups keep being wasted, never to none) and the worker's
/// maintenance pass seeing stealable work; the test fails only with both gone (checked by
/// disabling each and then both). A bounded channel's producer and consumer, whose yield
/// wake-ups are the wasted kind, run first and drive the backoff up.
///
/// The pair meets when both are inside their busy section at once, which needs two
/// threads; a pair kept on one worker never meets, and gives up after `YIELDS` yields.
#[test]
fn a_yielding_pair_on_one_worker_reaches_an_idle_sibling() {
    use std::sync::atomic::AtomicBool;
    const YIELDS: usize = 200_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for round in 0..3 {
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = zokio::sync::mpsc::channel::<usize>(1024);
            zokio::spawn(async move {
                for i in 0..200_000 {
                    tx.send(i).await.unwrap();
                }
            });
            while rx.recv().await.is_some() {}
        }))
        .unwrap();
        // Let the workers run out of work and park (if one has not, the round passes
        // without covering the case).
        std::thread::sleep(Duration::from_millis(20));
        let inside = Arc::new(AtomicUsize::new(0));
        let met = Arc::new(AtomicBool::new(false));
        let body = |inside: Arc<AtomicUsize>, met: Arc<AtomicBool>| async move {
            for _ in 0..YIELDS {
                if inside.fetch_add(1, SeqCst) == 1 {
                    met.store(true, SeqCst);
                }
                for _ in 0..10_000 {
                    if met.load(SeqCst) {
                        break;
                    }
                    std::hint::spin_loop();
                }
                inside.fetch_sub(1, SeqCst);
                if met.load(SeqCst) {
                    return;
                }
                zokio::task::yield_now().await;
            }
        };
        let (i2, m2) = (inside.clone(), met.clone());
        // The first task spawns the second itself: both then sit on that worker (the
        // second in its LIFO slot), and no spawn wakes the sibling for them.
        rt.block_on(rt.spawn(async move {
            zokio::spawn(async move {
                let second = zokio::spawn(body(i2.clone(), m2.clone()));
                body(i2, m2).await;
                second.await.unwrap();
            })
            .await
            .unwrap();
        }))
        .unwrap();
        assert!(
            met.load(SeqCst),
            "round {round}: the pair never ran on two workers in {YIELDS} yields each"
        );
    }
}

/// `on_thread_park` runs before a thread driving tasks sleeps and `on_thread_unpark` after
/// it wakes, in pairs, on both flavors and both drivers; the park hook runs in the
/// runtime's context, and a task it spawns runs before the thread sleeps (else the
/// `block_on` below, which waits for that task, would never end).
#[test]
fn park_hooks_run_around_every_park_in_the_runtime_context() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    for driver in support::drivers() {
        for flavor in ["current_thread", "multi_thread"] {
            let parks = Arc::new(AtomicUsize::new(0));
            let unparks = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = zokio::sync::oneshot::channel::<()>();
            let tx = Arc::new(Mutex::new(Some(tx)));
            let mut builder = match flavor {
                "current_thread" => zokio::runtime::Builder::new_current_thread(),
                _ => {
                    let mut b = zokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(1);
                    b
                }
            };
            let rt = {
                let (parks, unparks) = (parks.clone(), unparks.clone());
                builder
                    .io_driver(driver)
                    .on_thread_park(move || {
                        parks.fetch_add(1, SeqCst);
                        if let Some(tx) = tx.lock().unwrap().take() {
                            // Needs the runtime's context.
                            zokio::spawn(async move { tx.send(()).unwrap() });
                        }
                    })
                    .on_thread_unpark(move || {
                        unparks.fetch_add(1, SeqCst);
                    })
                    .build()
                    .unwrap()
            };
            rt.block_on(async {
                // Nothing else to do: the thread parks, and the hook's task answers.
                rx.await.unwrap();
                zokio::time::sleep(std::time::Duration::from_millis(1)).await;
            });
            drop(rt);
            let (p, u) = (parks.load(SeqCst), unparks.load(SeqCst));
            assert!(p >= 2, "{flavor} {driver:?}: {p} parks");
            assert_eq!(p, u, "{flavor} {driver:?}: parks and unparks differ");
        }
    }
}

/// `on_thread_start` runs on every worker and blocking thread before it runs a task, and
/// `on_thread_stop` on each of them as it stops, as in Tokio.
#[test]
fn thread_hooks_run_on_every_runtime_thread() {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    let started: Arc<Mutex<HashSet<std::thread::ThreadId>>> = Arc::default();
    let stopped: Arc<Mutex<HashSet<std::thread::ThreadId>>> = Arc::default();
    let rt = {
        let (started, stopped) = (started.clone(), stopped.clone());
        zokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || {
                started.lock().unwrap().insert(std::thread::current().id());
            })
            .on_thread_stop(move || {
                stopped.lock().unwrap().insert(std::thread::current().id());
            })
            .build()
            .unwrap()
    };
    let ran_on = rt.block_on(async {
        let worker = zokio::spawn(async { std::thread::current().id() });
        let blocking = zokio::task::spawn_blocking(|| std::thread::current().id());
        (worker.await.unwrap(), blocking.await.unwrap())
    });
    {
        let started = started.lock().unwrap();
        assert!(started.contains(&ran_on.0), "the worker was not hooked");
        assert!(
            started.contains(&ran_on.1),
            "the blocking thread was not hooked"
        );
    }
    // Dropping the runtime joins its threads, so every start hook has run by now; before
    // that, a worker with nothing to do may not have been scheduled at all yet.
    drop(rt);
    let started = started.lock().unwrap();
    // Two workers and at least the one blocking thread.
    assert!(started.len() >= 3, "{} threads started", started.len());
    assert_eq!(*started, *stopped.lock().unwrap());
}

/// Guards from `Handle::enter` must drop in reverse order, as Tokio's: dropping an outer
/// one first panics (it would leave the wrong runtime current); in order, the previous
/// runtime is current again after each.
#[test]
fn enter_guards_dropped_out_of_order_panic() {
    use zokio::runtime::Handle;
    let rt1 = Builder::new_current_thread().build().unwrap();
    let rt2 = Builder::new_current_thread().build().unwrap();
    assert_ne!(rt1.handle().id(), rt2.handle().id());
    assert_eq!(rt1.handle().id(), rt1.handle().clone().id());
    {
        let _a = rt1.enter();
        {
            let _b = rt2.enter();
            assert_eq!(Handle::current().id(), rt2.handle().id());
        }
        assert_eq!(Handle::current().id(), rt1.handle().id());
    }
    assert!(Handle::try_current().is_err());
    let outer = rt1.enter();
    let inner = rt2.enter();
    let msg = support::panic_message(move || drop(outer));
    assert!(msg.contains("dropped out of order"), "{msg}");
    // The context was reset by the outer guard; the inner one has nothing left to undo
    // (it must not make rt1 current again, nor panic a second time).
    drop(inner);
    assert!(Handle::try_current().is_err());
    let _again = rt2.enter();
    assert_eq!(Handle::current().id(), rt2.handle().id());
}
