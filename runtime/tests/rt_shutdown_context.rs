//! Where and how a runtime may be shut down, and what a panicking task's future sees:
//! a runtime kept in a `thread_local!` drops cleanly at thread exit; dropping a runtime
//! inside async code panics (as Tokio does) while `shutdown_background` is allowed there;
//! a task's future is dropped during its panic's unwind.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;
use zokio::runtime::{Builder, Runtime};
use zokio::sync::oneshot;

#[macro_use]
mod support;

/// A future that panics on its first poll while holding `held` in a field (not in an async
/// block's frame, which the unwind itself drops).
struct PanicsHolding<D> {
    _held: D,
}

impl<D: Unpin> Future for PanicsHolding<D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("the task panics");
    }
}

/// Records `thread::panicking()` when dropped.
struct SeesPanicking(Arc<AtomicBool>);

impl Drop for SeesPanicking {
    fn drop(&mut self) {
        self.0.store(thread::panicking(), SeqCst);
    }
}

rt_test! {
    #[test]
    fn a_panicking_tasks_future_is_dropped_during_the_unwind() {
        let rt = rt();
        let seen = Arc::new(AtomicBool::new(false));
        let fut = PanicsHolding { _held: SeesPanicking(seen.clone()) };
        let err = rt.block_on(async move { zokio::spawn(fut).await.unwrap_err() });
        assert!(err.is_panic());
        assert!(seen.load(SeqCst), "the future's Drop ran while the panic unwound");
    }

    #[test]
    fn a_mutex_guard_held_by_a_panicking_task_poisons_the_mutex() {
        let rt = rt();
        let local = zokio::task::LocalSet::new();
        let mutex = Arc::new(Mutex::new(0u32));
        let m = mutex.clone();
        let err = local.block_on(&rt, async move {
            // A std guard is !Send: a local task holds it.
            zokio::task::spawn_local(async move {
                let guard = m.lock().unwrap();
                PanicsHolding { _held: guard }.await;
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
        assert!(mutex.is_poisoned(), "the guard was dropped while the panic unwound");
    }

    #[test]
    fn a_runtime_in_a_thread_local_drops_at_thread_exit() {
        // The runtime of `rt()` runs a pending task and a timer when the thread exits.
        thread_local! {
            static RT: std::cell::RefCell<Option<Runtime>> = const { std::cell::RefCell::new(None) };
        }
        let (tx, rx) = oneshot::channel::<()>();
        thread::spawn(move || {
            RT.with(|slot| {
                let rt = rt();
                rt.block_on(async { zokio::spawn(async { 1 }).await.unwrap() });
                drop(rt.spawn(async move {
                    let _ = rx.await;
                }));
                drop(rt.spawn(async { zokio::time::sleep(Duration::from_secs(3600)).await }));
                *slot.borrow_mut() = Some(rt);
            });
        })
        .join()
        .expect("the thread exits without a panic or abort");
        assert!(tx.is_closed(), "the pending task was cancelled at thread exit");
    }

    #[test]
    fn shutdown_timeout_accepts_the_longest_duration() {
        // Duration::MAX overflows `Instant + Duration`: it means "wait as long as it takes".
        let rt = rt();
        rt.block_on(async { zokio::spawn(async {}).await.unwrap() });
        rt.shutdown_timeout(Duration::MAX);
    }

    #[test]
    #[should_panic(expected = "Cannot drop a runtime in a context where blocking is not allowed")]
    fn dropping_a_runtime_inside_async_code_panics() {
        let outer = rt();
        outer.block_on(async {
            let inner = rt();
            drop(inner);
        });
    }

    #[test]
    fn shutdown_background_inside_async_code_is_allowed() {
        let outer = rt();
        let (tx, rx) = oneshot::channel::<()>();
        outer.block_on(async move {
            let inner = rt();
            drop(inner.spawn(async move {
                let _ = rx.await;
            }));
            inner.shutdown_background();
        });
        // The inner runtime's task was cancelled, dropping its receiver.
        let start = std::time::Instant::now();
        while !tx.is_closed() {
            assert!(start.elapsed() < Duration::from_secs(10), "inner task never cancelled");
            thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn dropping_a_runtime_on_a_blocking_thread_is_allowed() {
    let outer = Builder::new_current_thread().build().unwrap();
    outer.block_on(async {
        zokio::task::spawn_blocking(|| {
            let inner = Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap();
            inner.block_on(async {});
            drop(inner);
        })
        .await
        .unwrap();
    });
}
