//! Timer behaviour on every scheduler flavor: sleeps never complete early, timeouts cancel
//! their future, intervals keep (or deliberately drop) their schedule, cancelled timers
//! release their task, and a million concurrent sleeps complete. No assertion depends on
//! how *late* a timer fires: that is measured by zbench, not tested.

use futures::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use zokio::runtime::{Builder, Runtime};
use zokio::time::{self, Instant, MissedTickBehavior};

#[macro_use]
mod support;

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

rt_test! {
    #[test]
    fn sleep_never_completes_early() {
        rt().block_on(async {
            for micros in [0, 1, 50, 300, 1_000, 2_500] {
                let d = Duration::from_micros(micros);
                let start = Instant::now();
                time::sleep(d).await;
                assert!(start.elapsed() >= d, "{micros} µs sleep completed early");
            }
        });
    }

    #[test]
    fn sleeps_in_spawned_tasks_never_early() {
        let rt = rt();
        rt.block_on(async {
            let handles: Vec<_> = (0..200u64)
                .map(|i| {
                    zokio::spawn(async move {
                        let d = Duration::from_micros(100 + (i * 37) % 3_000);
                        let start = Instant::now();
                        time::sleep(d).await;
                        start.elapsed() >= d
                    })
                })
                .collect();
            for h in handles {
                assert!(h.await.unwrap(), "a sleep completed early");
            }
        });
    }

    #[test]
    fn sleep_until_past_deadline_is_ready_at_once() {
        rt().block_on(async {
            let past = Instant::now();
            std::thread::sleep(Duration::from_millis(1));
            let mut s = time::sleep_until(past);
            assert_eq!(
                futures::poll!(&mut s),
                Poll::Ready(()),
                "a past deadline must complete on first poll"
            );
            assert!(s.is_elapsed());
        });
    }

    #[test]
    fn timeout_of_ready_future_is_ok() {
        rt().block_on(async {
            let r = time::timeout(Duration::ZERO, async { 5 }).await;
            assert_eq!(r, Ok(5));
        });
    }

    #[test]
    fn timeout_elapses_and_drops_the_future() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt().block_on(async move {
            let guard = DropCount(d);
            let start = Instant::now();
            let r = time::timeout(Duration::from_millis(2), async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
            .await;
            let err = r.expect_err("a pending future must time out");
            assert_eq!(err.to_string(), "deadline has elapsed");
            assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::TimedOut);
            assert!(start.elapsed() >= Duration::from_millis(2));
        });
        assert_eq!(drops.load(SeqCst), 1, "the timed-out future was not dropped");
    }

    #[test]
    fn reset_moves_the_deadline() {
        rt().block_on(async {
            let start = Instant::now();
            let mut s = time::sleep(Duration::from_secs(3600));
            assert_eq!(futures::poll!(&mut s), Poll::Pending);
            Pin::new(&mut s).reset(start + Duration::from_millis(1));
            (&mut s).await;
            assert!(start.elapsed() >= Duration::from_millis(1));
            // Resetting an elapsed sleep re-arms it.
            let again = Instant::now() + Duration::from_millis(1);
            Pin::new(&mut s).reset(again);
            assert!(!s.is_elapsed());
            (&mut s).await;
            assert!(Instant::now() >= again);
        });
    }

    #[test]
    fn interval_ticks_on_schedule() {
        rt().block_on(async {
            let period = Duration::from_millis(2);
            let start = Instant::now();
            let mut iv = time::interval_at(start, period);
            for k in 0..5u32 {
                let tick = iv.tick().await;
                assert_eq!(tick, start + period * k, "tick {k} off schedule");
                assert!(Instant::now() >= tick, "tick {k} handed out early");
            }
        });
    }

    #[test]
    fn interval_missed_ticks_burst_delay_skip() {
        rt().block_on(async {
            let period = Duration::from_millis(5);
            // Burst: after a stall of 3.5 periods, the missed ticks come back to back, on
            // the original schedule.
            let start = Instant::now();
            let mut iv = time::interval_at(start, period);
            assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
            assert_eq!(iv.tick().await, start);
            std::thread::sleep(period * 7 / 2);
            for k in 1..=4u32 {
                assert_eq!(iv.tick().await, start + period * k);
            }

            // Delay: the schedule restarts one period after the late tick was handed out.
            let start = Instant::now();
            let mut iv = time::interval_at(start, period);
            iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
            assert_eq!(iv.tick().await, start);
            std::thread::sleep(period * 7 / 2);
            let before = Instant::now();
            let late = iv.tick().await;
            assert_eq!(late, start + period);
            let next = iv.tick().await;
            assert!(next >= before + period, "delay kept the old schedule");
            assert!(next > start + period * 4);

            // Skip: the next tick is the first one of the original schedule still ahead.
            let start = Instant::now();
            let mut iv = time::interval_at(start, period);
            iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
            assert_eq!(iv.tick().await, start);
            std::thread::sleep(period * 7 / 2);
            assert_eq!(iv.tick().await, start + period);
            let next = iv.tick().await;
            let offset = next.duration_since(start);
            assert_eq!(offset.as_nanos() % period.as_nanos(), 0, "skip left the schedule");
            assert!(offset >= period * 4, "skip handed out a missed tick: {offset:?}");
        });
    }

    #[test]
    fn aborting_a_sleeping_task_releases_it() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let h = rt.spawn(async move {
            let _guard = DropCount(d);
            time::sleep(Duration::from_secs(3600)).await;
        });
        rt.block_on(async {
            // Let the task register its timer.
            time::sleep(Duration::from_millis(2)).await;
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());
        });
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn runtime_drop_cancels_sleeping_tasks() {
        let rt = rt();
        let drops = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let d = drops.clone();
            rt.spawn(async move {
                let _guard = DropCount(d);
                time::sleep(Duration::from_secs(3600)).await;
            });
        }
        rt.block_on(async { time::sleep(Duration::from_millis(2)).await });
        drop(rt);
        assert_eq!(drops.load(SeqCst), 10);
    }

    #[test]
    fn many_dropped_sleeps_do_not_fire() {
        rt().block_on(async {
            // Register 10,000 timers and drop them: none may wake anything afterwards and
            // later timers still fire.
            let mut sleeps: Vec<_> = (0..10_000).map(|_| time::sleep(Duration::from_secs(3600))).collect();
            for s in &mut sleeps {
                assert_eq!(futures::poll!(s), Poll::Pending);
            }
            drop(sleeps);
            time::sleep(Duration::from_millis(3)).await;
        });
    }
}

/// A plain thread's `Handle::block_on` registers timers while every worker is parked with
/// no timer: the registration must unpark the shard's owner. (On the current-thread flavor
/// `Handle::block_on` does not drive the runtime, timers included, as in Tokio.)
#[test]
fn timers_from_another_thread_wake_parked_workers() {
    for workers in [1, 2] {
        let rt = Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let t = std::thread::spawn(move || {
            handle.block_on(async {
                for _ in 0..20 {
                    time::sleep(Duration::from_micros(300)).await;
                }
            })
        });
        t.join().unwrap();
    }
}

/// On one shard (current-thread), timers fire, and their tasks run, in deadline order.
#[test]
fn current_thread_fires_in_deadline_order() {
    let rt = Builder::new_current_thread().build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let base = Instant::now() + Duration::from_millis(2);
        // Registered in reverse order of deadline.
        let handles: Vec<_> = (0..50u64)
            .rev()
            .map(|i| {
                let log = log.clone();
                zokio::spawn(async move {
                    time::sleep_until(base + Duration::from_micros(i * 97)).await;
                    log.lock().unwrap().push(i);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), (0..50).collect::<Vec<_>>());
}

/// The time driver's scale target: a million sleeps pending at once, all complete.
#[test]
fn one_million_concurrent_sleeps() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let n = rt.block_on(async {
        zokio::spawn(async {
            let mut all: FuturesUnordered<_> = (0..1_000_000u64)
                .map(|i| time::sleep(Duration::from_micros(5_000 + i % 20_000)))
                .collect();
            let mut n = 0usize;
            while all.next().await.is_some() {
                n += 1;
            }
            n
        })
        .await
        .unwrap()
    });
    assert_eq!(n, 1_000_000);
}

#[test]
#[should_panic(expected = "timers need a zokio runtime")]
fn sleep_outside_runtime_panics() {
    drop(time::sleep(Duration::from_millis(1)));
}

#[test]
fn sleep_after_runtime_shutdown_panics_when_polled() {
    let rt = Builder::new_current_thread().build().unwrap();
    let mut s = {
        let _guard = rt.enter();
        time::sleep(Duration::from_secs(3600))
    };
    drop(rt);
    let waker = futures::task::noop_waker();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Pin::new(&mut s).poll(&mut Context::from_waker(&waker))
    }));
    let msg = r.expect_err("polling a timer of a dropped runtime must panic");
    let msg = msg
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| msg.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("shut down"), "unexpected panic message: {msg}");
}

/// A timer's stored waker whose drop drops another timer of the same wheel: cancelling the
/// first must not hold the wheel's lock while the waker drops (the second cancel takes
/// it again).
#[test]
fn a_waker_dropping_another_timer_on_cancel() {
    use std::pin::Pin;
    use std::task::{Context, Wake, Waker};
    /// Holds a timer only to drop it when the last waker reference goes.
    struct Owner(#[allow(dead_code)] std::sync::Mutex<Option<Pin<Box<zokio::time::Sleep>>>>);
    impl Wake for Owner {
        fn wake(self: Arc<Self>) {}
    }
    for rt in support::flavors() {
        rt.block_on(async {
            let (_, noop) = support::flag_waker();
            let mut secondary = Box::pin(zokio::time::sleep(Duration::from_secs(3600)));
            assert!(secondary
                .as_mut()
                .poll(&mut Context::from_waker(&noop))
                .is_pending());
            let waker = Waker::from(Arc::new(Owner(std::sync::Mutex::new(Some(secondary)))));
            let mut primary = Box::pin(zokio::time::sleep(Duration::from_secs(3600)));
            assert!(primary
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            drop(waker);
            // The wheel holds the last reference to the owner: this cancel drops it.
            drop(primary);
            // And a re-poll with a new waker drops the old one the same way.
            let mut third = Box::pin(zokio::time::sleep(Duration::from_secs(3600)));
            let mut fourth = Box::pin(zokio::time::sleep(Duration::from_secs(3600)));
            assert!(fourth
                .as_mut()
                .poll(&mut Context::from_waker(&noop))
                .is_pending());
            let owner = Waker::from(Arc::new(Owner(std::sync::Mutex::new(Some(fourth)))));
            assert!(third
                .as_mut()
                .poll(&mut Context::from_waker(&owner))
                .is_pending());
            drop(owner);
            assert!(third
                .as_mut()
                .poll(&mut Context::from_waker(&noop))
                .is_pending());
        });
    }
}

/// A timeout around a future that is always ready (it spends the coop budget and yields):
/// the deadline still elapses (Tokio's `timeout_is_not_exhausted_by_future`). The sleep
/// is polled without a budget when the future spent it, or it could never fire.
#[test]
fn a_timeout_elapses_around_a_budget_spending_future() {
    use zokio::io::AsyncReadExt;
    for rt in support::flavors() {
        rt.block_on(async {
            let spin = time::timeout(Duration::from_millis(1), async {
                let mut buf = [0u8; 1];
                loop {
                    let _ = zokio::io::empty().read(&mut buf).await;
                }
            });
            assert!(spin.await.is_err());
            // In a task too.
            let task = zokio::spawn(time::timeout(Duration::from_millis(1), async {
                loop {
                    zokio::task::consume_budget().await;
                }
            }));
            assert!(task.await.unwrap().is_err());
        });
    }
}
