//! `LocalSet`, `spawn_local` and `LocalRuntime`: `!Send` tasks on their owner thread, on
//! every flavor (the set inside a current-thread or multi-thread runtime) and both I/O
//! drivers.

#![cfg(not(loom))]

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use zokio::runtime::{Builder, LocalRuntime, Runtime};
use zokio::sync::oneshot;
use zokio::task::{self, LocalSet};

#[macro_use]
mod support;

/// An output that counts its drops.
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

rt_test! {
    #[test]
    fn not_send_futures_run_and_return_their_output() {
        let rt = rt();
        let local = LocalSet::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let log2 = log.clone();
        let out = local.block_on(&rt, async move {
            let handles: Vec<_> = (0..10)
                .map(|i| {
                    let log = log2.clone();
                    task::spawn_local(async move {
                        task::yield_now().await;
                        log.borrow_mut().push(i);
                        i * 2
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        });
        assert_eq!(out, 90);
        let mut seen = log.borrow().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn tasks_run_on_the_owner_thread() {
        let rt = rt();
        let local = LocalSet::new();
        let owner = thread::current().id();
        local.block_on(&rt, async move {
            for _ in 0..20 {
                task::spawn_local(async move {
                    // A sleep parks the task on the timer, which may fire on a worker.
                    zokio::time::sleep(Duration::from_millis(1)).await;
                    assert_eq!(thread::current().id(), owner);
                })
                .await
                .unwrap();
            }
        });
    }

    #[test]
    fn a_wake_from_another_thread_reaches_the_task() {
        let rt = rt();
        let local = LocalSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        let waker_thread = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx.send(7).unwrap();
        });
        let got = local.block_on(&rt, async move {
            let marker = Rc::new(());
            task::spawn_local(async move {
                let v = rx.await.unwrap();
                drop(marker);
                v
            })
            .await
            .unwrap()
        });
        assert_eq!(got, 7);
        waker_thread.join().unwrap();
    }

    #[test]
    fn a_join_handle_is_awaited_from_a_send_task() {
        let rt = rt();
        let local = LocalSet::new();
        let out = local.block_on(&rt, async move {
            let h = task::spawn_local(async {
                let rc = Rc::new(5u32);
                task::yield_now().await;
                *rc
            });
            // The handle (Send: its output is) moves into a task of the runtime, which
            // may run on another thread.
            zokio::spawn(async move { h.await.unwrap() + 1 }).await.unwrap()
        });
        assert_eq!(out, 6);
    }

    #[test]
    fn spawned_before_driving_runs_when_the_set_is_awaited() {
        let rt = rt();
        let local = LocalSet::new();
        let ran = Rc::new(Cell::new(0));
        for _ in 0..5 {
            let ran = ran.clone();
            drop(local.spawn_local(async move {
                task::yield_now().await;
                ran.set(ran.get() + 1);
            }));
        }
        assert_eq!(ran.get(), 0, "nothing runs until the set is driven");
        // Awaiting the set itself completes when its last task does.
        rt.block_on(local);
        assert_eq!(ran.get(), 5);
    }

    #[test]
    fn many_wakes_from_many_threads_race_with_local_spawns() {
        // Stress: 4 plain threads complete 2,000 channels whose receivers are local tasks
        // spawned meanwhile, so remote pushes race with local pushes and with the set's
        // polls; every task must finish exactly once.
        const THREADS: usize = 4;
        const PER_THREAD: usize = 500;
        let rt = rt();
        let local = LocalSet::new();
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..THREADS * PER_THREAD).map(|_| oneshot::channel::<usize>()).unzip();
        let mut senders = senders.into_iter();
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let mine: Vec<_> = senders.by_ref().take(PER_THREAD).collect();
                thread::spawn(move || {
                    for (i, tx) in mine.into_iter().enumerate() {
                        if i % 50 == 0 {
                            thread::yield_now();
                        }
                        let _ = tx.send(i);
                    }
                })
            })
            .collect();
        let finished = Rc::new(Cell::new(0usize));
        let f = finished.clone();
        local.block_on(&rt, async move {
            let handles: Vec<_> = receivers
                .into_iter()
                .map(|rx| {
                    let f = f.clone();
                    task::spawn_local(async move {
                        rx.await.unwrap();
                        f.set(f.get() + 1);
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(finished.get(), THREADS * PER_THREAD);
    }

    #[test]
    fn dropping_the_set_cancels_its_tasks_on_this_thread() {
        struct OnDrop(Rc<Cell<bool>>, thread::ThreadId);
        impl Drop for OnDrop {
            fn drop(&mut self) {
                assert_eq!(thread::current().id(), self.1);
                self.0.set(true);
            }
        }
        let rt = rt();
        let local = LocalSet::new();
        let dropped = Rc::new(Cell::new(false));
        let guard = OnDrop(dropped.clone(), thread::current().id());
        let (_tx, rx) = oneshot::channel::<()>();
        let handle = local.spawn_local(async move {
            let _guard = guard;
            let _ = rx.await;
        });
        // Run it until it waits on the channel.
        local.block_on(&rt, task::yield_now());
        assert!(!dropped.get());
        drop(local);
        assert!(dropped.get(), "the future was dropped with the set");
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
    }

    #[test]
    fn abort_from_another_thread_cancels() {
        let rt = rt();
        let local = LocalSet::new();
        let err = local.block_on(&rt, async move {
            let handle = task::spawn_local(async {
                let _rc = Rc::new(());
                std::future::pending::<()>().await;
            });
            let abort = handle.abort_handle();
            thread::spawn(move || abort.abort()).join().unwrap();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled());
    }

    /// A join handle dropped on another thread before the task completes: the owner
    /// drops the output when the task completes, exactly once.
    #[test]
    fn a_join_handle_dropped_elsewhere_before_completion() {
        let rt = rt();
        let local = LocalSet::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let (d, d2) = (drops.clone(), drops.clone());
        local.block_on(&rt, async move {
            let (tx, rx) = oneshot::channel::<()>();
            let handle = task::spawn_local(async move {
                let _rc = Rc::new(());
                rx.await.unwrap();
                CountDrop(d)
            });
            thread::spawn(move || drop(handle)).join().unwrap();
            assert_eq!(d2.load(SeqCst), 0);
            tx.send(()).unwrap();
            for _ in 0..10_000 {
                if d2.load(SeqCst) > 0 {
                    break;
                }
                task::yield_now().await;
            }
        });
        assert_eq!(drops.load(SeqCst), 1);
    }

    /// A join handle dropped on another thread after the task completed: the output is
    /// dropped there, exactly once.
    #[test]
    #[allow(clippy::async_yields_async)] // the handle leaves the set, to be dropped elsewhere
    fn a_join_handle_dropped_elsewhere_after_completion() {
        let rt = rt();
        let local = LocalSet::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let handle = local.block_on(&rt, async move {
            let handle = task::spawn_local(async move { CountDrop(d) });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            handle
        });
        assert_eq!(drops.load(SeqCst), 0, "the output waits for its handle");
        thread::spawn(move || drop(handle)).join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
        drop(local);
        assert_eq!(drops.load(SeqCst), 1);
    }

    /// Wakers of a local task cloned, woken and dropped on other threads while the task
    /// runs, and one kept until after the set is gone: every wake reaches the task, and a
    /// waker used after the set's drop does nothing (the leak check runs this under
    /// valgrind: the task's memory and the set's are freed by the last of them).
    #[test]
    fn wakers_used_on_other_threads_outlive_the_set() {
        let rt = rt();
        let local = LocalSet::new();
        let (waker_tx, waker_rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let kept = thread::spawn(move || {
            let mut last = None;
            for waker in waker_rx {
                let clone = waker.clone();
                clone.wake_by_ref();
                drop(clone);
                waker.wake_by_ref();
                last = Some(waker);
            }
            last
        });
        let polls = Rc::new(Cell::new(0u32));
        let p = polls.clone();
        local.block_on(&rt, async move {
            task::spawn_local(std::future::poll_fn(move |cx| {
                p.set(p.get() + 1);
                if p.get() == 50 {
                    return std::task::Poll::Ready(());
                }
                waker_tx.send(cx.waker().clone()).unwrap();
                std::task::Poll::Pending
            }))
            .await
            .unwrap();
        });
        assert_eq!(polls.get(), 50);
        drop(local);
        let last = kept.join().unwrap().expect("a waker was kept");
        last.wake_by_ref();
        last.wake();
    }

    /// Stress: tasks whose wakers go through other threads (wake, wake_by_ref, clone and
    /// drop) while some are aborted from other threads and some join handles are dropped
    /// there; every task ends exactly once, by completing or by being cancelled.
    #[test]
    fn local_tasks_woken_and_aborted_from_other_threads() {
        const TASKS: usize = 200;
        const ROUNDS: u32 = 20;
        let rt = rt();
        let local = LocalSet::new();
        let (waker_tx, waker_rx) = std::sync::mpsc::channel::<(usize, std::task::Waker)>();
        let waker_rx = Arc::new(std::sync::Mutex::new(waker_rx));
        let wakers: Vec<_> = (0..2)
            .map(|t| {
                let rx = waker_rx.clone();
                thread::spawn(move || loop {
                    let next = rx.lock().unwrap().recv_timeout(Duration::from_secs(5));
                    let Ok((i, waker)) = next else { return };
                    match (i + t) % 3 {
                        0 => waker.wake(),
                        1 => {
                            waker.wake_by_ref();
                            drop(waker.clone());
                        }
                        _ => {
                            let clone = waker.clone();
                            drop(waker);
                            clone.wake();
                        }
                    }
                })
            })
            .collect();
        let ended = Rc::new(Cell::new(0usize));
        let e = ended.clone();
        local.block_on(&rt, async move {
            let mut handles = Vec::new();
            for i in 0..TASKS {
                let tx = waker_tx.clone();
                let mut rounds = 0u32;
                let handle = task::spawn_local(std::future::poll_fn(move |cx| {
                    rounds += 1;
                    if rounds > ROUNDS {
                        return std::task::Poll::Ready(i);
                    }
                    tx.send((i, cx.waker().clone())).unwrap();
                    std::task::Poll::Pending
                }));
                handles.push(handle);
            }
            drop(waker_tx);
            let mut joined = Vec::new();
            let mut threads = Vec::new();
            for (i, handle) in handles.into_iter().enumerate() {
                match i % 4 {
                    0 => {
                        let abort = handle.abort_handle();
                        threads.push(thread::spawn(move || abort.abort()));
                        joined.push(handle);
                    }
                    1 => threads.push(thread::spawn(move || drop(handle))),
                    _ => joined.push(handle),
                }
            }
            for handle in joined {
                match handle.await {
                    Ok(_) => e.set(e.get() + 1),
                    Err(err) => {
                        assert!(err.is_cancelled());
                        e.set(e.get() + 1);
                    }
                }
            }
            for t in threads {
                t.join().unwrap();
            }
        });
        // Cancels what the detached quarter has left, dropping its senders: the waker
        // threads then see the channel closed.
        drop(local);
        for t in wakers {
            t.join().unwrap();
        }
        assert_eq!(ended.get(), TASKS - TASKS / 4);
    }

    #[test]
    fn a_panicking_task_yields_a_join_error() {
        let rt = rt();
        let local = LocalSet::new();
        let err = local.block_on(&rt, async move {
            task::spawn_local(async {
                let _rc = Rc::new(());
                panic!("boom");
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
    }

    #[test]
    fn a_busy_local_task_does_not_starve_the_runtime() {
        let rt = rt();
        let local = LocalSet::new();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let stopped = stop.clone();
        local.block_on(&rt, async move {
            let spinner = task::spawn_local(async move {
                let mut n = 0u64;
                while !stop2.load(SeqCst) {
                    n += 1;
                    assert!(n < 10_000_000, "the runtime's task never ran");
                    task::yield_now().await;
                }
                n
            });
            // A task of the runtime (on a current-thread runtime: run by the same thread,
            // only when the set yields to it).
            zokio::spawn(async move { stop.store(true, SeqCst) })
                .await
                .unwrap();
            spinner.await.unwrap()
        });
        // The spinner may not have spun at all (on a multi-thread runtime the other task
        // can run on another worker before the spinner's first poll); what matters is
        // that the runtime's task ran while the local task kept yielding.
        assert!(stopped.load(SeqCst), "the runtime's task never ran");
    }

    #[test]
    fn a_future_dropped_with_the_set_may_spawn_local() {
        struct SpawnOnDrop;
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                // Spawned during shutdown: cancelled at once, never leaked.
                drop(task::spawn_local(async {}));
            }
        }
        let rt = rt();
        let local = LocalSet::new();
        let handle = local.spawn_local(async move {
            let _guard = SpawnOnDrop;
            std::future::pending::<()>().await;
        });
        local.block_on(&rt, task::yield_now());
        drop(local);
        assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    }
}

#[test]
#[should_panic(expected = "`spawn_local` called from outside of a `task::LocalSet`")]
fn spawn_local_outside_a_set_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        drop(task::spawn_local(async {}));
    });
}

#[test]
fn enter_makes_spawn_local_work_outside_a_runtime() {
    let local = LocalSet::new();
    let ran = Rc::new(Cell::new(false));
    let handle = {
        let _guard = local.enter();
        let ran = ran.clone();
        task::spawn_local(async move { ran.set(true) })
    };
    assert!(!ran.get());
    let rt = Builder::new_current_thread().build().unwrap();
    local.block_on(&rt, handle).unwrap();
    assert!(ran.get());
}

#[test]
fn a_local_runtime_runs_local_tasks_from_every_task() {
    let rt = LocalRuntime::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    // Spawned before block_on: runs once it starts.
    let early = rt.spawn_local(async move { c.set(c.get() + 1) });
    let c = count.clone();
    let total = rt.block_on(async move {
        early.await.unwrap();
        // From a Send task of the runtime: the local context is there too.
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        zokio::spawn(async move {
            task::spawn_local(async move {
                let rc = Rc::new(1);
                task::yield_now().await;
                d.fetch_add(*rc, SeqCst);
            })
            .await
            .unwrap();
        })
        .await
        .unwrap();
        c.set(c.get() + done.load(SeqCst));
        c.get()
    });
    assert_eq!(total, 2);
}

#[test]
fn a_local_runtime_drops_local_tasks_before_the_runtime() {
    let rt = LocalRuntime::new().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = rt.spawn_local(async move {
        let _rc = Rc::new(());
        let _ = rx.await;
    });
    rt.block_on(task::yield_now());
    let rt2 = Builder::new_current_thread().build().unwrap();
    rt.shutdown_timeout(Duration::from_secs(1));
    assert!(
        tx.is_closed(),
        "the task's receiver was dropped on shutdown"
    );
    assert!(rt2.block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn a_set_kept_in_a_thread_local_is_dropped_at_thread_exit() {
    thread_local! {
        static SET: LocalSet = LocalSet::new();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let rt = Builder::new_current_thread().build().unwrap();
        let (_keep, wait) = oneshot::channel::<()>();
        SET.with(|set| {
            let out = set.block_on(&rt, async { task::spawn_local(async { 2 }).await.unwrap() });
            tx.send(out).unwrap();
            // Left pending in the set: cancelled when the set drops at thread exit.
            drop(set.spawn_local(async move {
                let _ = wait.await;
            }));
        });
    })
    .join()
    .expect("thread exit with a LocalSet in a thread_local does not panic");
    assert_eq!(rx.recv().unwrap(), 2);
}

#[test]
fn spawn_local_works_where_a_local_runtime_is_entered() {
    let rt = LocalRuntime::new().unwrap();
    let (tx, rx) = oneshot::channel();
    {
        // Outside block_on, with only the runtime entered (as Tokio's LocalRuntime allows).
        let _guard = rt.enter();
        let rc = Rc::new(5);
        drop(task::spawn_local(async move {
            task::yield_now().await;
            tx.send(*rc).unwrap();
        }));
    }
    assert_eq!(rt.block_on(async move { rx.await.unwrap() }), 5);
}

#[test]
#[should_panic(
    expected = "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was created on"
)]
fn spawn_local_through_a_local_runtimes_handle_on_another_thread_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let owner = thread::spawn(move || {
        let rt = LocalRuntime::new().unwrap();
        tx.send(rt.handle().clone()).unwrap();
        // Keep the runtime alive until the other thread has tried.
        thread::sleep(Duration::from_millis(200));
    });
    let handle = rx.recv().unwrap();
    let _guard = handle.enter();
    let result = std::panic::catch_unwind(|| drop(task::spawn_local(async {})));
    owner.join().unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn build_local_needs_the_current_thread_builder() {
    let err = Builder::new_multi_thread()
        .worker_threads(1)
        .build_local(Default::default())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("new_current_thread"), "{err}");
}

#[test]
fn local_runtime_on_the_epoll_driver() {
    let rt = Builder::new_current_thread()
        .io_driver(zokio::runtime::IoDriver::Epoll)
        .build_local(Default::default())
        .unwrap();
    let out = rt.block_on(async {
        let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = task::spawn_local(async move {
            let _rc = Rc::new(());
            zokio::net::TcpStream::connect(addr).await.unwrap()
        });
        let (_server, _) = listener.accept().await.unwrap();
        client.await.unwrap().peer_addr().unwrap()
    });
    assert_eq!(out.ip().to_string(), "127.0.0.1");
}

#[zokio::test(flavor = "local")]
async fn the_local_flavor_of_the_test_attribute() {
    let rc = Rc::new(3);
    let rc2 = rc.clone();
    let out = task::spawn_local(async move { *rc2 * 2 }).await.unwrap();
    assert_eq!(out, 6);
    assert_eq!(Rc::strong_count(&rc), 1);
}
