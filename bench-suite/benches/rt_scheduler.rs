//! Guards scheduler performance: Tokio's own `rt_multi_threaded` shapes (same constants),
//! run through the same workload bodies on zokio and on Tokio with 2 workers each, plus
//! `spawn_many_local` on each current-thread flavor. Read the zokio/Tokio pairs side by
//! side; absolute times depend on the machine.
//!
//! `cargo bench -p zbench-suite --bench rt_scheduler`

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use std::time::Duration;
use zbench_suite::rt::{Runtime, Tokio, Zokio};
use zbench_suite::workloads::scheduler::*;

const WORKERS: usize = 2;

fn pair(
    c: &mut Criterion,
    name: &str,
    ops: u64,
    make: &dyn Fn(&mut BenchmarkGroup<'_, criterion::measurement::WallTime>),
) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(ops));
    group.measurement_time(Duration::from_secs(3));
    make(&mut group);
    group.finish();
}

fn bench_multi<R: Runtime>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    shape: fn(&R) -> u64,
) {
    let rt = R::multi_thread(WORKERS);
    group.bench_function(R::NAME, |b| b.iter(|| shape(&rt)));
}

fn scheduler(c: &mut Criterion) {
    pair(c, "spawn_many_local", NUM_SPAWN as u64, &|g| {
        bench_multi::<Zokio>(g, |rt| spawn_many_local(rt, NUM_SPAWN));
        bench_multi::<Tokio>(g, |rt| spawn_many_local(rt, NUM_SPAWN));
    });
    pair(c, "spawn_many_remote_idle", NUM_SPAWN as u64, &|g| {
        bench_multi::<Zokio>(g, |rt| spawn_many_remote_idle(rt, NUM_SPAWN));
        bench_multi::<Tokio>(g, |rt| spawn_many_remote_idle(rt, NUM_SPAWN));
    });
    pair(c, "yield_many", (YIELD_TASKS * NUM_YIELD) as u64, &|g| {
        bench_multi::<Zokio>(g, |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD));
        bench_multi::<Tokio>(g, |rt| yield_many(rt, YIELD_TASKS, NUM_YIELD));
    });
    pair(c, "ping_pong", NUM_PINGS as u64, &|g| {
        bench_multi::<Zokio>(g, |rt| ping_pong(rt, NUM_PINGS));
        bench_multi::<Tokio>(g, |rt| ping_pong(rt, NUM_PINGS));
    });
    pair(c, "chained_spawn", CHAIN_LEN as u64, &|g| {
        bench_multi::<Zokio>(g, |rt| chained_spawn(rt, CHAIN_LEN));
        bench_multi::<Tokio>(g, |rt| chained_spawn(rt, CHAIN_LEN));
    });
    pair(
        c,
        "spawn_many_local_current_thread",
        NUM_SPAWN as u64,
        &|g| {
            let z = Zokio::current_thread();
            g.bench_function("zokio", |b| {
                b.iter(|| spawn_many_current_thread(&z, NUM_SPAWN))
            });
            let t = Tokio::current_thread();
            g.bench_function("tokio", |b| {
                b.iter(|| spawn_many_current_thread(&t, NUM_SPAWN))
            });
        },
    );
}

criterion_group!(benches, scheduler);
criterion_main!(benches);
