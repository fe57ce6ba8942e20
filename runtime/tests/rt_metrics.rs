//! `RuntimeMetrics` under Tokio's stabilised names and the two duration histograms, on
//! the current-thread flavor and the multi-thread flavor with one and two workers. No
//! test asserts how long anything takes: durations are checked against lower bounds the
//! test itself sets up (a poll that spins for 60 ms cannot land in a bucket below 50 ms).

use std::time::{Duration, Instant};
use zokio::runtime::{Builder, HistogramConfiguration, LogHistogram, Runtime, RuntimeMetrics};

const SPIN: Duration = Duration::from_millis(60);

fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// The three flavors, each with the given builder adjustments.
fn builders(configure: impl Fn(&mut Builder)) -> Vec<(&'static str, Builder)> {
    let mut all = vec![
        ("current_thread", Builder::new_current_thread()),
        ("multi_thread_1", Builder::new_multi_thread()),
        ("multi_thread_2", Builder::new_multi_thread()),
    ];
    all[1].1.worker_threads(1);
    all[2].1.worker_threads(2);
    for (_, builder) in &mut all {
        configure(builder);
    }
    all
}

/// Waits (parking the runtime's threads between checks, which publishes their counters)
/// until `done` holds; panics after 10 s.
fn eventually(rt: &Runtime, what: &str, mut done: impl FnMut(&RuntimeMetrics) -> bool) {
    let metrics = rt.metrics();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&metrics) {
        assert!(Instant::now() < deadline, "never happened: {what}");
        rt.block_on(async { zokio::time::sleep(Duration::from_millis(1)).await });
    }
}

fn sum_over_workers(m: &RuntimeMetrics, per_worker: impl Fn(usize) -> u64) -> u64 {
    (0..m.num_workers()).map(per_worker).sum()
}

#[test]
fn park_unpark_count_is_odd_only_while_parked() {
    for (flavor, mut builder) in builders(|_| {}) {
        let rt = builder.build().unwrap();
        // Sleeping makes every worker park at least once.
        rt.block_on(async { zokio::time::sleep(Duration::from_millis(5)).await });
        let m = rt.metrics();
        // A task sees its own worker running: an even count.
        let seen = rt
            .block_on(rt.spawn(async {
                let m = zokio::runtime::Handle::current().metrics();
                (0..m.num_workers())
                    .map(|w| m.worker_park_unpark_count(w))
                    .collect::<Vec<_>>()
            }))
            .unwrap();
        if flavor == "current_thread" || flavor == "multi_thread_1" {
            assert_eq!(seen[0] % 2, 0, "{flavor}: running worker shows parked");
        }
        eventually(&rt, "every worker parks", |m| {
            (0..m.num_workers()).all(|w| m.worker_park_count(w) >= 1)
        });
        for w in 0..m.num_workers() {
            let parks = m.worker_park_count(w);
            let pairs = m.worker_park_unpark_count(w);
            // Each park/unpark pair is one park or more (a worker woken for work another
            // took parks again inside the pair).
            assert!(
                pairs / 2 <= parks && pairs >= parks.min(1),
                "{flavor} {w}: {pairs} {parks}"
            );
        }
        if flavor == "current_thread" {
            // Outside `block_on` the thread is not parked; every park ended.
            assert_eq!(m.worker_park_unpark_count(0), 2 * m.worker_park_count(0));
        } else {
            // Idle workers sleep, with an odd count.
            eventually(&rt, "the idle workers show parked", |m| {
                (0..m.num_workers()).all(|w| m.worker_park_unpark_count(w) % 2 == 1)
            });
        }
    }
}

#[test]
fn busy_duration_covers_a_spinning_task() {
    for (flavor, mut builder) in builders(|_| {}) {
        let rt = builder.build().unwrap();
        let m = rt.metrics();
        let before = sum_over_workers(&m, |w| m.worker_total_busy_duration(w).as_nanos() as u64);
        rt.block_on(rt.spawn(async { spin(SPIN) })).unwrap();
        eventually(&rt, "the spin counted as busy time", |m| {
            let after = sum_over_workers(m, |w| m.worker_total_busy_duration(w).as_nanos() as u64);
            after >= before + SPIN.as_nanos() as u64
        });
        assert_eq!(m.global_queue_depth(), 0, "{flavor}");
    }
}

#[test]
fn global_queue_depth_counts_tasks_spawned_from_outside() {
    // On the current-thread flavor nothing runs outside `block_on`, so tasks spawned from
    // here wait in the global queue.
    let rt = Builder::new_current_thread().build().unwrap();
    let handles: Vec<_> = (0..3).map(|_| rt.spawn(async {})).collect();
    assert_eq!(rt.metrics().global_queue_depth(), 3);
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(rt.metrics().global_queue_depth(), 0);
}

#[test]
fn poll_time_histogram_counts_every_poll_in_its_bucket() {
    let layout = HistogramConfiguration::linear(Duration::from_millis(50), 4);
    for (flavor, mut builder) in builders(|b| {
        b.enable_metrics_poll_time_histogram()
            .metrics_poll_time_histogram_configuration(layout);
    }) {
        let rt = builder.build().unwrap();
        let m = rt.metrics();
        assert!(m.poll_time_histogram_enabled(), "{flavor}");
        assert!(!m.schedule_latency_histogram_enabled(), "{flavor}");
        assert_eq!(m.poll_time_histogram_num_buckets(), 4);
        assert_eq!(
            m.poll_time_histogram_bucket_range(0),
            Duration::ZERO..Duration::from_millis(50)
        );
        assert_eq!(
            m.poll_time_histogram_bucket_range(3),
            Duration::from_millis(150)..Duration::from_nanos(u64::MAX)
        );
        rt.block_on(async {
            let quick: Vec<_> = (0..20).map(|_| zokio::spawn(async {})).collect();
            for handle in quick {
                handle.await.unwrap();
            }
            zokio::spawn(async { spin(SPIN) }).await.unwrap();
        });
        // Every poll is counted once, in the same publication as the poll count (the 21
        // tasks take 21 polls at least).
        eventually(&rt, "histogram total equals the poll count", |m| {
            sum_over_workers(m, |w| m.worker_poll_count(w)) >= 21
                && (0..m.num_workers()).all(|w| {
                    let total: u64 = (0..4)
                        .map(|b| m.poll_time_histogram_bucket_count(w, b))
                        .sum();
                    total == m.worker_poll_count(w)
                })
        });
        let long: u64 = sum_over_workers(&m, |w| {
            (1..4)
                .map(|b| m.poll_time_histogram_bucket_count(w, b))
                .sum()
        });
        assert!(
            long >= 1,
            "{flavor}: the 60 ms poll is not in a bucket from 50 ms on"
        );
    }
}

#[test]
fn schedule_latency_histogram_sees_a_task_wait_behind_a_busy_worker() {
    let layout = HistogramConfiguration::linear(Duration::from_millis(50), 4);
    for (flavor, mut builder) in builders(|b| {
        b.enable_metrics_schedule_latency_histogram()
            .metrics_schedule_latency_histogram_configuration(layout);
    }) {
        let rt = builder.build().unwrap();
        let m = rt.metrics();
        assert!(m.schedule_latency_histogram_enabled());
        assert!(!m.poll_time_histogram_enabled());
        assert_eq!(m.schedule_latency_histogram_num_buckets(), 4);
        assert_eq!(
            m.schedule_latency_histogram_bucket_range(1),
            Duration::from_millis(50)..Duration::from_millis(100)
        );
        // A task spawned by a task that then spins waits at least the spin on one worker;
        // on two, the other worker may steal it sooner, so only the total is checked there.
        // On the current-thread flavor the outer task, spawned from outside, also waits in
        // the injector until `block_on` runs, a spin later.
        let outer = rt.spawn(async {
            let waiter = zokio::spawn(async {});
            spin(SPIN);
            waiter.await.unwrap();
        });
        spin(SPIN);
        rt.block_on(outer).unwrap();
        eventually(&rt, "histogram total equals the poll count", |m| {
            sum_over_workers(m, |w| m.worker_poll_count(w)) >= 2
                && (0..m.num_workers()).all(|w| {
                    let total: u64 = (0..4)
                        .map(|b| m.schedule_latency_histogram_bucket_count(w, b))
                        .sum();
                    total == m.worker_poll_count(w)
                })
        });
        let late: u64 = (1..4)
            .map(|b| m.schedule_latency_histogram_bucket_count(0, b))
            .sum();
        match flavor {
            "current_thread" => assert!(
                late >= 2,
                "both tasks waited 60 ms, one in the injector, one in the run queue: {late}"
            ),
            "multi_thread_1" => assert!(
                late >= 1,
                "the task that waited 60 ms is not counted from 50 ms on"
            ),
            _ => {}
        }
    }
}

#[test]
fn histograms_off_by_default_and_bad_layouts_refused() {
    for (flavor, mut builder) in builders(|_| {}) {
        let rt = builder.build().unwrap();
        let m = rt.metrics();
        assert!(!m.poll_time_histogram_enabled(), "{flavor}");
        assert_eq!(m.poll_time_histogram_num_buckets(), 0);
        assert_eq!(m.poll_time_histogram_bucket_count(0, 3), 0);
        assert_eq!(
            m.schedule_latency_histogram_bucket_range(0),
            Duration::ZERO..Duration::ZERO
        );
    }
    // Tokio's default layout: 10 linear buckets of 100 µs.
    let rt = Builder::new_current_thread()
        .enable_metrics_poll_time_histogram()
        .build()
        .unwrap();
    let m = rt.metrics();
    assert_eq!(m.poll_time_histogram_num_buckets(), 10);
    assert_eq!(
        m.poll_time_histogram_bucket_range(1),
        Duration::from_micros(100)..Duration::from_micros(200)
    );
    let log = Builder::new_current_thread()
        .enable_metrics_poll_time_histogram()
        .metrics_poll_time_histogram_configuration(HistogramConfiguration::log(
            LogHistogram::default(),
        ))
        .build()
        .unwrap();
    assert_eq!(log.metrics().poll_time_histogram_num_buckets(), 119);

    let bad = [
        HistogramConfiguration::linear(Duration::ZERO, 4),
        HistogramConfiguration::linear(Duration::from_millis(1), 0),
        HistogramConfiguration::log(
            LogHistogram::builder()
                .precision_exact(10)
                .min_value(Duration::from_nanos(1))
                .max_value(Duration::from_secs(3600)),
        ),
    ];
    for layout in bad {
        for (flavor, mut builder) in builders(|b| {
            b.enable_metrics_poll_time_histogram()
                .metrics_poll_time_histogram_configuration(layout);
        }) {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{flavor}");
            assert!(
                err.to_string()
                    .starts_with("metrics_poll_time_histogram_configuration: "),
                "{flavor}: {err}"
            );
        }
        let mut builder = Builder::new_multi_thread();
        builder
            .enable_metrics_schedule_latency_histogram()
            .metrics_schedule_latency_histogram_configuration(layout);
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
