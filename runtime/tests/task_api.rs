//! Task ids, `consume_budget`, and the `JoinSet` additions (`spawn_local`,
//! `spawn_local_on`, `try_join_next`, `FromIterator`), on every flavor and both drivers.

#![cfg(not(loom))]

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use zokio::runtime::{Builder, Runtime};
use zokio::task::{self, JoinSet, LocalSet};

#[macro_use]
mod support;

rt_test! {
    #[test]
    fn a_task_sees_the_id_its_handle_reports() {
        let rt = rt();
        rt.block_on(async {
            let handle = zokio::spawn(async { task::id() });
            let handle_id = handle.id();
            let abort_id = handle.abort_handle().id();
            let inside = handle.await.unwrap();
            assert_eq!(inside, handle_id);
            assert_eq!(abort_id, handle_id);
            assert_eq!(format!("{handle_id:?}"), format!("Id({handle_id})"));
        });
    }

    #[test]
    fn live_tasks_have_distinct_ids() {
        let rt = rt();
        rt.block_on(async {
            // Every handle is kept until all are collected, so all 100 cells are alive at
            // once: their ids must differ (ids are unique among live tasks).
            let handles: Vec<_> = (0..100)
                .map(|_| zokio::spawn(async { task::id() }))
                .collect();
            let mut ids = HashSet::new();
            for h in handles {
                let id = h.id();
                assert_eq!(h.await.unwrap(), id);
                ids.insert(id);
            }
            assert_eq!(ids.len(), 100);
        });
    }

    #[test]
    fn try_id_is_none_outside_a_task() {
        assert_eq!(task::try_id(), None);
        let rt = rt();
        rt.block_on(async {
            // block_on's own future is not a task.
            assert_eq!(task::try_id(), None);
            let id = zokio::spawn(async { task::try_id() }).await.unwrap();
            assert!(id.is_some());
        });
    }

    #[test]
    fn a_join_error_names_its_task() {
        let rt = rt();
        rt.block_on(async {
            let panicking = zokio::spawn(async { panic!("boom") });
            let id = panicking.id();
            let err = panicking.await.unwrap_err();
            assert_eq!(err.id(), id);
            assert_eq!(err.to_string(), format!("task {id} panicked with message \"boom\""));
            assert!(format!("{err:?}").starts_with(&format!("JoinError::Panic({id:?}")));

            let pending = zokio::spawn(std::future::pending::<()>());
            let id = pending.id();
            pending.abort();
            let err = pending.await.unwrap_err();
            assert_eq!(err.id(), id);
            assert_eq!(format!("{err:?}"), format!("JoinError::Cancelled({id:?})"));
        });
    }

    #[test]
    fn a_cancelled_futures_drop_sees_its_task_id() {
        struct Probe(Arc<std::sync::Mutex<Option<task::Id>>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = task::try_id();
            }
        }
        let rt = rt();
        let seen = Arc::new(std::sync::Mutex::new(None));
        let probe = Probe(seen.clone());
        let id = rt.block_on(async move {
            let handle = zokio::spawn(async move {
                let _probe = probe;
                std::future::pending::<()>().await;
            });
            zokio::task::yield_now().await;
            let id = handle.id();
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            id
        });
        assert_eq!(*seen.lock().unwrap(), Some(id));
    }

    /// A finished task's future, and its output wherever the runtime drops it (handle gone
    /// before or after completion), are dropped with the task's id current, as in Tokio.
    #[test]
    fn the_future_and_output_drops_see_the_task_id() {
        type Seen = Arc<std::sync::Mutex<Vec<Option<task::Id>>>>;
        struct Probe(Seen);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0.lock().unwrap().push(task::try_id());
            }
        }
        let rt = rt();
        let seen: Seen = Arc::default();
        let ids = rt.block_on(async {
            // The future holds a probe past completion (dropped when the task completes);
            // the output is one, dropped by the runtime as the handle is gone.
            let (a, b) = (Probe(seen.clone()), Probe(seen.clone()));
            let dropped_before = zokio::spawn(async move {
                let _held = a;
                zokio::task::yield_now().await;
                b
            });
            let before = dropped_before.id();
            drop(dropped_before);
            let c = Probe(seen.clone());
            let (tx, rx) = zokio::sync::oneshot::channel();
            let dropped_after = zokio::spawn(async move {
                tx.send(()).unwrap();
                c
            });
            let after = dropped_after.id();
            rx.await.unwrap();
            while !dropped_after.is_finished() {
                zokio::task::yield_now().await;
            }
            drop(dropped_after);
            while seen.lock().unwrap().len() < 3 {
                zokio::task::yield_now().await;
            }
            (before, after)
        });
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_by_key(|id| format!("{id:?}"));
        let mut want = vec![Some(ids.0), Some(ids.0), Some(ids.1)];
        want.sort_by_key(|id| format!("{id:?}"));
        assert_eq!(seen, want);
    }

    /// A future whose `Drop` panics when it completes: the output is kept and the runtime
    /// goes on (the harness catches the panic; it must never unwind into a worker).
    #[test]
    fn a_panicking_future_drop_at_completion_keeps_the_output() {
        struct ReadyThenPanicOnDrop;
        impl std::future::Future for ReadyThenPanicOnDrop {
            type Output = u8;
            fn poll(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<u8> {
                std::task::Poll::Ready(7)
            }
        }
        impl Drop for ReadyThenPanicOnDrop {
            fn drop(&mut self) {
                panic!("drop of a finished future");
            }
        }
        let rt = rt();
        let out = rt.block_on(async { zokio::spawn(ReadyThenPanicOnDrop).await.unwrap() });
        assert_eq!(out, 7);
        assert_eq!(rt.block_on(async { zokio::spawn(async { 8 }).await.unwrap() }), 8);
    }

    #[test]
    fn loops_that_spend_the_budget_let_other_tasks_run() {
        let rt = rt();
        rt.block_on(async {
            spinner_lets_another_task_run(task::consume_budget).await;
            // Ready at every poll: without the wrapper this loop would never yield.
            spinner_lets_another_task_run(|| task::coop::cooperative(std::future::ready(())))
                .await;
        });
    }

    #[test]
    fn poll_proceed_spends_a_unit_only_when_the_operation_made_progress() {
        let rt = rt();
        rt.block_on(async {
            zokio::spawn(async {
                task::yield_now().await; // a fresh budget
                let (progress, restored) = std::future::poll_fn(|cx| {
                    use std::task::Poll;
                    // Units dropped without progress are given back: never runs out.
                    for _ in 0..1000 {
                        let Poll::Ready(unit) = task::coop::poll_proceed(cx) else {
                            return Poll::Ready((0, false));
                        };
                        drop(unit);
                    }
                    let mut progress = 0;
                    while let Poll::Ready(unit) = task::coop::poll_proceed(cx) {
                        unit.made_progress();
                        progress += 1;
                        assert!(progress <= 1000, "the budget never ran out");
                    }
                    Poll::Ready((progress, !task::coop::has_budget_remaining()))
                })
                .await;
                assert!(progress > 0 && progress < 1000, "{progress}");
                assert!(restored, "spent after the loop");
            })
            .await
            .unwrap();
        });
    }

    #[test]
    fn unconstrained_polls_never_run_out_of_budget() {
        let rt = rt();
        rt.block_on(async {
            zokio::spawn(async {
                // 1,000 messages ready at once: inside a task, the budget (128) makes the
                // receiver return Pending part-way; unconstrained, never.
                let ready_before_pending = |constrained: bool| async move {
                    let (tx, mut rx) = zokio::sync::mpsc::unbounded_channel::<u32>();
                    for i in 0..1000 {
                        tx.send(i).unwrap();
                    }
                    let count = std::future::poll_fn(|cx| {
                        let mut n = 0;
                        while rx.poll_recv(cx).is_ready() {
                            n += 1;
                            if n == 1000 {
                                break;
                            }
                        }
                        std::task::Poll::Ready(n)
                    });
                    if constrained {
                        count.await
                    } else {
                        task::unconstrained(count).await
                    }
                };
                // Each measured from a fresh poll of the task, so both start with a full
                // budget.
                task::yield_now().await;
                let constrained = ready_before_pending(true).await;
                task::yield_now().await;
                let unconstrained = ready_before_pending(false).await;
                assert!(constrained < 1000, "the budget stops a constrained loop");
                assert_eq!(unconstrained, 1000);
            })
            .await
            .unwrap();
        });
    }

    #[test]
    fn join_set_from_an_iterator_and_try_join_next() {
        let rt = rt();
        rt.block_on(async {
            let mut set: JoinSet<u32> = (0..10u32).map(|i| async move { i }).collect();
            assert_eq!(set.len(), 10);
            let mut sum = 0;
            while !set.is_empty() {
                match set.try_join_next() {
                    Some(r) => sum += r.unwrap(),
                    None => task::yield_now().await,
                }
            }
            assert_eq!(sum, 45);
            assert!(set.try_join_next().is_none(), "an empty set has nothing");
            let (tx, rx) = zokio::sync::oneshot::channel::<u32>();
            set.spawn(async move { rx.await.unwrap() });
            task::yield_now().await;
            assert!(set.try_join_next().is_none(), "nothing finished yet");
            tx.send(7).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
        });
    }

    /// `try_join_next` in a loop with no `.await` takes every finished task: the coop
    /// budget (128 units per poll) does not cut it short: `try_join_next` never waits.
    #[test]
    fn try_join_next_drains_past_the_coop_budget() {
        let rt = rt();
        rt.block_on(async {
            let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let mut set = JoinSet::new();
            for _ in 0..1000 {
                let finished = finished.clone();
                set.spawn(async move {
                    finished.fetch_add(1, SeqCst);
                });
            }
            while finished.load(SeqCst) < 1000 {
                task::yield_now().await;
            }
            // The last increments may precede their task's completion by a moment.
            task::yield_now().await;
            let mut joined = 0;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while joined < 1000 && std::time::Instant::now() < deadline {
                while let Some(r) = set.try_join_next() {
                    r.unwrap();
                    joined += 1;
                }
                if joined < 1000 {
                    // Only a task still completing on another worker can be missing.
                    std::thread::yield_now();
                }
            }
            assert_eq!(joined, 1000);
        });
    }

    #[test]
    fn join_set_spawns_local_tasks() {
        let rt = rt();
        let local = LocalSet::new();
        let mut set = JoinSet::new();
        let shared = Rc::new(3u32);
        let s = shared.clone();
        set.spawn_local_on(async move { *s }, &local);
        let total = local.block_on(&rt, async move {
            let s = shared.clone();
            set.spawn_local(async move { *s * 10 });
            let mut total = 0;
            while let Some(r) = set.join_next().await {
                total += r.unwrap();
            }
            total
        });
        assert_eq!(total, 33);
    }
}

/// A `JoinSet`'s stored waker, replaced by a later poll, is dropped outside the set's lock:
/// here its drop drives the runtime, whose task completes and wakes the set, which takes
/// the lock again.
#[test]
fn join_set_drops_a_replaced_waker_outside_its_lock() {
    use std::task::{Context, Wake, Waker};
    struct RunsTheRuntimeOnDrop(Option<Runtime>);
    impl Wake for RunsTheRuntimeOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for RunsTheRuntimeOnDrop {
        fn drop(&mut self) {
            if let Some(rt) = self.0.take() {
                rt.block_on(zokio::task::yield_now());
            }
        }
    }
    let rt = Builder::new_current_thread().build().unwrap();
    let mut set = JoinSet::new();
    set.spawn_on(async { 42 }, rt.handle());
    let waker = Waker::from(Arc::new(RunsTheRuntimeOnDrop(Some(rt))));
    assert!(set
        .poll_join_next(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    assert!(set
        .poll_join_next(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    assert_eq!(set.try_join_next().unwrap().unwrap(), 42);
}

/// Spawns a task that loops on `step().await` until a second task has run: on one thread
/// that happens only if `step` makes the looping task yield (else the loop's bound
/// panics it, and the join fails). On two workers the second task may even run first.
async fn spinner_lets_another_task_run<F>(step: impl Fn() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let spinner = zokio::spawn(async move {
        let mut n = 0u64;
        while !s.load(SeqCst) {
            n += 1;
            assert!(n < 10_000_000, "the other task never ran");
            step().await;
        }
        n
    });
    zokio::spawn(async move { stop.store(true, SeqCst) })
        .await
        .unwrap();
    spinner.await.expect("the spinner saw the other task run");
}
