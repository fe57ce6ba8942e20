//! Guards the micro workloads under criterion: the same bodies zbench runs (async fn
//! await, spawn + join, yield ping-pong, polling a ready future, the run queue), on zokio
//! and Tokio (crossbeam-deque for the queue) through the same adapters.
//!
//! `cargo bench -p zbench-suite --bench micro`

use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use std::time::{Duration, Instant};
use zbench_suite::measure::Timed;
use zbench_suite::rt::{Runtime, Tokio, Zokio};
use zbench_suite::workloads::{asyncfn, primitives, queue, scheduler};

const OPS: usize = 10_000;

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    ops: u64,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(ops));
    g.measurement_time(Duration::from_secs(3));
    g
}

/// Times `iters` calls of `body`: each call's own phase when it times one (as zbench does),
/// else the whole call.
fn iter_timed<R, T: Into<Timed>>(b: &mut Bencher<'_>, rt: &R, body: fn(&R) -> T) {
    b.iter_custom(|iters| {
        (0..iters)
            .map(|_| {
                let start = Instant::now();
                let timed = body(rt).into();
                timed.phase.map_or_else(|| start.elapsed(), |p| p.elapsed)
            })
            .sum()
    });
}

fn on_both<T: Into<Timed>>(
    c: &mut Criterion,
    name: &str,
    ops: u64,
    z: fn(&Zokio) -> T,
    t: fn(&Tokio) -> T,
    current: bool,
) {
    let (zr, tr) = if current {
        (Zokio::current_thread(), Tokio::current_thread())
    } else {
        (Zokio::multi_thread(2), Tokio::multi_thread(2))
    };
    let mut g = group(c, name, ops);
    g.bench_function(Zokio::NAME, |b| iter_timed(b, &zr, z));
    g.bench_function(Tokio::NAME, |b| iter_timed(b, &tr, t));
    g.finish();
}

fn micro(c: &mut Criterion) {
    on_both(
        c,
        "asyncfn.await",
        OPS as u64,
        |rt| asyncfn::await_trivial(rt, OPS),
        |rt| asyncfn::await_trivial(rt, OPS),
        false,
    );
    on_both(
        c,
        "zsync.spawn",
        OPS as u64,
        |rt| scheduler::spawn_join(rt, OPS),
        |rt| scheduler::spawn_join(rt, OPS),
        false,
    );
    on_both(
        c,
        "latency.context_switch",
        2 * OPS as u64,
        |rt| scheduler::yield_ping_pong(rt, OPS),
        |rt| scheduler::yield_ping_pong(rt, OPS),
        true,
    );
    on_both(
        c,
        "sched.future_polling",
        OPS as u64,
        |rt| primitives::future_polling(rt, OPS),
        |rt| primitives::future_polling(rt, OPS),
        false,
    );
    let rounds = OPS / (2 * queue::BURST);
    let mut g = group(
        c,
        "sched.work_stealing_queue",
        (2 * rounds * queue::BURST) as u64,
    );
    g.bench_function("zokio", |b| {
        b.iter(|| queue::owner::<queue::ZokioQueue>(rounds))
    });
    g.bench_function("crossbeam-deque", |b| {
        b.iter(|| queue::owner::<queue::CrossbeamQueue>(rounds))
    });
    g.finish();
}

criterion_group!(benches, micro);
criterion_main!(benches);
