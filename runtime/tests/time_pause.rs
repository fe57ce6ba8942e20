//! The paused test clock (`test-util`): `time::pause` / `advance` / `resume`,
//! `Builder::start_paused`, `#[zokio::test(start_paused = true)]`, and the runtime jumping
//! a paused clock to its next timer when it has nothing to run.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use zokio::runtime::Builder;
use zokio::time::{self, Instant};

mod support;

fn paused_runtime() -> zokio::runtime::Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

use support::panic_message;

#[test]
fn a_paused_clock_stands_still_and_moves_only_by_advance() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        time::pause();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(Instant::now(), t0, "a paused clock moved by itself");
        time::advance(Duration::from_millis(250)).await;
        assert_eq!(Instant::now() - t0, Duration::from_millis(250));
        assert_eq!(t0.elapsed(), Duration::from_millis(250));
        time::resume();
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            Instant::now() - t0 > Duration::from_millis(250),
            "resumed clock stood still"
        );
    });
}

/// With nothing else to do, a paused runtime jumps to the next deadline: an hour-long
/// sleep ends with the clock exactly an hour later (the runtime's clock started paused, so
/// its deadlines fall on whole microseconds of its timer ticks).
#[test]
fn an_idle_paused_runtime_jumps_to_the_next_timer() {
    let rt = paused_runtime();
    rt.block_on(async {
        let t0 = Instant::now();
        time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(3600));
        time::sleep_until(t0 + Duration::from_secs(7200)).await;
        assert_eq!(t0.elapsed(), Duration::from_secs(7200));
    });
}

/// Timers fire one by one in deadline order, each seeing the clock at its own deadline.
#[test]
fn auto_advance_fires_timers_in_deadline_order() {
    let rt = paused_runtime();
    let fired = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let t0 = Instant::now();
        let tasks: Vec<_> = [30u64, 10, 20, 10_000, 5]
            .into_iter()
            .map(|ms| {
                let fired = fired.clone();
                zokio::spawn(async move {
                    time::sleep(Duration::from_millis(ms)).await;
                    fired.lock().unwrap().push((ms, t0.elapsed()));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let fired = fired.lock().unwrap().clone();
    let want: Vec<_> = [5u64, 10, 20, 30, 10_000]
        .into_iter()
        .map(|ms| (ms, Duration::from_millis(ms)))
        .collect();
    assert_eq!(fired, want);
}

/// `advance` fires the timers it passes before the caller goes on.
#[test]
fn advance_wakes_the_sleeps_it_passes() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        time::pause();
        let (woken, waker) = support::flag_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut early = Box::pin(time::sleep(Duration::from_millis(5)));
        let mut late = Box::pin(time::sleep(Duration::from_millis(50)));
        assert!(early.as_mut().poll(&mut cx).is_pending());
        let (late_woken, late_waker) = support::flag_waker();
        assert!(late
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&late_waker))
            .is_pending());
        time::advance(Duration::from_millis(5)).await;
        assert!(woken.load(std::sync::atomic::Ordering::SeqCst));
        assert!(early.as_mut().poll(&mut cx).is_ready());
        assert!(!late_woken.load(std::sync::atomic::Ordering::SeqCst));
        assert!(late.as_mut().poll(&mut cx).is_pending());
    });
}

use std::future::Future;

/// A timeout on a future that never completes ends at once in paused time; on a
/// blocking-pool closure it does not: the clock waits for the closure.
#[test]
fn timeouts_elapse_at_once_but_wait_for_blocking_closures() {
    let rt = paused_runtime();
    rt.block_on(async {
        let t0 = Instant::now();
        let never = time::timeout(Duration::from_secs(60), std::future::pending::<()>()).await;
        assert!(never.is_err());
        assert_eq!(t0.elapsed(), Duration::from_secs(60));

        let t1 = Instant::now();
        let blocking = time::timeout(
            Duration::from_secs(3),
            zokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20))),
        )
        .await;
        assert!(blocking
            .expect("the paused clock jumped past a blocking closure")
            .is_ok());
        assert!(t1.elapsed() < Duration::from_secs(3));
    });
}

#[test]
fn intervals_tick_on_the_paused_clock() {
    let rt = paused_runtime();
    rt.block_on(async {
        let t0 = Instant::now();
        let mut interval = time::interval(Duration::from_secs(10));
        let mut at = Vec::new();
        for _ in 0..4 {
            at.push(interval.tick().await - t0);
        }
        assert_eq!(
            at,
            [0, 10, 20, 30].map(Duration::from_secs).to_vec(),
            "ticks at whole periods"
        );
    });
}

/// `reset_after` moves the next tick to a delay from now; the schedule goes on from there.
#[test]
fn interval_reset_after_moves_the_next_tick() {
    let rt = paused_runtime();
    rt.block_on(async {
        let t0 = Instant::now();
        let mut interval = time::interval(Duration::from_secs(10));
        assert_eq!(interval.tick().await - t0, Duration::ZERO);
        interval.reset_after(Duration::from_secs(3));
        assert_eq!(interval.tick().await - t0, Duration::from_secs(3));
        assert_eq!(interval.tick().await - t0, Duration::from_secs(13));
    });
}

#[zokio::test(start_paused = true)]
async fn the_test_macro_starts_paused() {
    let t0 = Instant::now();
    time::sleep(Duration::from_secs(86_400)).await;
    assert_eq!(t0.elapsed(), Duration::from_secs(86_400));
}

#[zokio::test(flavor = "local", start_paused = true)]
async fn a_local_runtime_starts_paused_too() {
    let t0 = Instant::now();
    let local = zokio::task::spawn_local(async {
        time::sleep(Duration::from_secs(5)).await;
        std::rc::Rc::new(5)
    });
    assert_eq!(*local.await.unwrap(), 5);
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
}

/// Tokio's messages, where pausing makes no sense.
#[test]
fn misuse_panics_with_tokios_messages() {
    assert_eq!(
        panic_message(time::pause),
        "time cannot be frozen from outside the Tokio runtime"
    );
    let multi = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    assert!(panic_message(|| multi.block_on(async { time::pause() }))
        .starts_with("`time::pause()` requires the `current_thread` Tokio runtime"));
    let err = Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("current_thread"), "{err}");

    let rt = Builder::new_current_thread().build().unwrap();
    assert_eq!(
        panic_message(|| rt.block_on(async { time::resume() })),
        "time is not frozen"
    );
    assert_eq!(
        panic_message(|| rt.block_on(time::advance(Duration::from_secs(1)))),
        "time is not frozen"
    );
    rt.block_on(async { time::pause() });
    assert_eq!(
        panic_message(|| rt.block_on(async { time::pause() })),
        "time is already frozen"
    );
}

/// A runtime whose clock was never paused keeps real time even after another runtime of
/// the process paused its own.
#[test]
fn pausing_one_runtime_leaves_the_others_on_real_time() {
    let paused = paused_runtime();
    paused.block_on(async { time::sleep(Duration::from_secs(10)).await });
    let real = Builder::new_current_thread().build().unwrap();
    real.block_on(async {
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(t0.elapsed() >= Duration::from_millis(2));
        let t1 = std::time::Instant::now();
        time::sleep(Duration::from_millis(5)).await;
        assert!(
            t1.elapsed() >= Duration::from_millis(5),
            "a real sleep was skipped"
        );
    });
}
