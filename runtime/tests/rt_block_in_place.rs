//! `task::block_in_place`: the worker's core moves to a new thread while a task blocks, the
//! blocked task's thread leaves the worker afterwards, and the places where blocking in
//! place is refused or just runs the closure (as in Tokio).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use zokio::runtime::{Builder, Runtime};
use zokio::task::block_in_place;

mod support;

/// Multi-thread runtimes with `workers` workers, one per I/O driver.
fn multi_thread(workers: usize) -> Vec<Runtime> {
    support::drivers()
        .into_iter()
        .map(|d| {
            Builder::new_multi_thread()
                .worker_threads(workers)
                .io_driver(d)
                .build()
                .unwrap()
        })
        .collect()
}

use support::echo_once;
use support::panic_text as message;

/// With one worker, a task blocked in place waits for a message that only another task
/// of the same runtime sends, after a timer and a TCP round trip: without the hand-off
/// this deadlocks (the receive times out and the test fails).
#[test]
fn other_tasks_run_timers_and_io_while_one_worker_blocks() {
    for rt in multi_thread(1) {
        rt.block_on(async {
            let (tx, rx) = mpsc::channel::<u32>();
            let blocked = zokio::spawn(async move {
                block_in_place(move || rx.recv_timeout(Duration::from_secs(30)))
            });
            let sender = zokio::spawn(async move {
                zokio::time::sleep(Duration::from_millis(1)).await;
                echo_once().await;
                tx.send(7).unwrap();
            });
            sender.await.unwrap();
            assert_eq!(blocked.await.unwrap(), Ok(7));
        });
    }
}

/// As many tasks as wanted may block in place at once, each freeing its worker: eight on
/// two workers all reach a rendezvous that needs all eight.
#[test]
fn eight_tasks_block_at_once_on_two_workers() {
    for rt in multi_thread(2) {
        let arrived = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let arrived = arrived.clone();
                    zokio::spawn(async move {
                        block_in_place(|| {
                            arrived.fetch_add(1, SeqCst);
                            let deadline = Instant::now() + Duration::from_secs(30);
                            while arrived.load(SeqCst) < 8 && Instant::now() < deadline {
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            arrived.load(SeqCst)
                        })
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap(), 8, "not every task was blocking at once");
            }
        });
    }
}

/// After blocking in place, the task goes on with timers and sockets (on whichever thread
/// now runs it), and so does the runtime, many times over.
#[test]
fn timers_and_io_work_after_the_hand_off() {
    for workers in [1, 2] {
        for rt in multi_thread(workers) {
            rt.block_on(async {
                let tasks: Vec<_> = (0..4)
                    .map(|i| {
                        zokio::spawn(async move {
                            for _ in 0..10 {
                                block_in_place(|| std::thread::sleep(Duration::from_micros(200)));
                                zokio::time::sleep(Duration::from_millis(1)).await;
                                echo_once().await;
                            }
                            i
                        })
                    })
                    .collect();
                for (i, t) in tasks.into_iter().enumerate() {
                    assert_eq!(t.await.unwrap(), i);
                }
            });
            // And the runtime still serves from outside.
            assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
        }
    }
}

#[test]
fn returns_the_value_and_nests() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let out = rt.block_on(rt.spawn(async {
        block_in_place(|| block_in_place(|| "inner").len() + block_in_place(|| 1))
    }));
    assert_eq!(out.unwrap(), 6);
}

/// A panic in the closure is the task's panic; the worker goes on (on its new thread).
#[test]
fn a_panic_in_the_closure_fails_the_task_only() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let err = zokio::spawn(async {
            block_in_place(|| panic!("boom in place"));
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(message(&*err.into_panic()), "boom in place");
        assert_eq!(zokio::spawn(async { 3 }).await.unwrap(), 3);
    });
}

/// Outside a runtime, in a multi-thread runtime's `block_on` and in a blocking-pool
/// closure there is no worker to move: the closure just runs, on the calling thread.
#[test]
fn runs_in_place_where_there_is_no_worker() {
    let here = std::thread::current().id();
    assert_eq!(block_in_place(|| std::thread::current().id()), here);
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { block_in_place(|| std::thread::current().id()) }),
        here
    );
    let (on, ran_on) = rt.block_on(async {
        zokio::task::spawn_blocking(|| {
            (
                std::thread::current().id(),
                block_in_place(|| std::thread::current().id()),
            )
        })
        .await
        .unwrap()
    });
    assert_eq!(on, ran_on);
    // `Handle::block_on` runs no tasks either.
    let handle = rt.handle().clone();
    assert_eq!(handle.block_on(async { block_in_place(|| 4) }), 4);
}

/// The closure runs outside the runtime context: it may start, run and drop another
/// runtime; `spawn` and `Handle::current` still reach the runtime it blocks in.
#[test]
fn the_closure_may_drive_and_drop_runtimes_and_still_spawn() {
    for rt in multi_thread(1)
        .into_iter()
        .chain([Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()])
    {
        rt.block_on(async {
            let spawned = zokio::spawn(async {
                block_in_place(|| {
                    let inner = Builder::new_current_thread().build().unwrap();
                    let n = inner.block_on(async { zokio::spawn(async { 2 }).await.unwrap() });
                    drop(inner);
                    let flavor = zokio::runtime::Handle::current().runtime_flavor();
                    (n, flavor, zokio::spawn(async { 3 }))
                })
            })
            .await
            .unwrap();
            assert_eq!(spawned.0, 2);
            assert_eq!(spawned.1, zokio::runtime::RuntimeFlavor::MultiThread);
            assert_eq!(spawned.2.await.unwrap(), 3);
        });
        // Also from `block_on` itself.
        rt.block_on(async {
            block_in_place(|| {
                let inner = Builder::new_current_thread().build().unwrap();
                assert_eq!(inner.block_on(async { 1 }), 1);
            })
        });
    }
}

/// The current-thread scheduler has no other thread to run its tasks: Tokio's panic,
/// from its `block_on`, its tasks and a `LocalRuntime`.
#[test]
fn current_thread_scheduler_refuses_with_tokios_message() {
    const MESSAGE: &str = "can call blocking only when running on the multi-threaded runtime";
    let rt = Builder::new_current_thread().build().unwrap();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { block_in_place(|| ()) })
    }))
    .unwrap_err();
    assert_eq!(message(&*payload), MESSAGE);
    let err = rt
        .block_on(rt.spawn(async { block_in_place(|| ()) }))
        .unwrap_err();
    assert_eq!(message(&*err.into_panic()), MESSAGE);
    // The runtime is intact after both.
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);

    let local = Builder::new_current_thread()
        .build_local(Default::default())
        .unwrap();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        local.block_on(async { block_in_place(|| ()) })
    }))
    .unwrap_err();
    assert_eq!(message(&*payload), MESSAGE);
}

/// No coop budget applies in the closure: draining 1,000 messages with an executor that
/// knows nothing of zokio's budget ends (with the budget of the task's poll, 128, the
/// receive would return `Pending` forever from the 129th on).
#[test]
fn no_coop_budget_in_the_closure() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        rt.block_on(async {
            let (tx, mut rx) = zokio::sync::mpsc::unbounded_channel();
            for i in 0..1_000 {
                tx.send(i).unwrap();
            }
            drop(tx);
            let n = zokio::spawn(async move {
                block_in_place(move || {
                    futures::executor::block_on(async move {
                        let mut n = 0;
                        while rx.recv().await.is_some() {
                            n += 1;
                        }
                        n
                    })
                })
            })
            .await
            .unwrap();
            done_tx.send(n).unwrap();
        });
    });
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(30)), Ok(1_000));
    h.join().unwrap();
}

/// Every thread started for a hand-off is a runtime thread: it runs the start and stop
/// hooks, and the runtime's drop waits for it; the thread a worker left exits.
#[test]
fn hand_off_threads_run_hooks_and_end_with_the_runtime() {
    let started = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(Mutex::new(Vec::new()));
    let rt = {
        let (started, stopped) = (started.clone(), stopped.clone());
        Builder::new_multi_thread()
            .worker_threads(2)
            .on_thread_start(move || started.lock().unwrap().push(std::thread::current().id()))
            .on_thread_stop(move || stopped.lock().unwrap().push(std::thread::current().id()))
            .build()
            .unwrap()
    };
    let (before, after) = rt.block_on(async {
        let mut seen = Vec::new();
        for _ in 0..20 {
            let pair = zokio::spawn(async {
                let before = std::thread::current().id();
                block_in_place(|| std::thread::sleep(Duration::from_millis(1)));
                (before, std::thread::current().id())
            })
            .await
            .unwrap();
            seen.push(pair);
        }
        seen.into_iter().unzip::<_, _, Vec<_>, Vec<_>>()
    });
    // Until the poll returns the task stays on the thread that blocked.
    assert_eq!(before, after);
    drop(rt);
    let mut started = started.lock().unwrap().clone();
    let mut stopped = stopped.lock().unwrap().clone();
    // Two workers, at most one new thread per hand-off.
    assert!(
        started.len() >= 2 && started.len() <= 22,
        "{} threads",
        started.len()
    );
    let key = |id: &std::thread::ThreadId| format!("{id:?}");
    started.sort_by_key(key);
    stopped.sort_by_key(key);
    assert_eq!(started, stopped, "a thread outlived its runtime");
}
