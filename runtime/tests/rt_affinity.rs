//! `Builder::worker_affinity` and `Builder::blocking_affinity`: where the threads end up
//! (read back with `sched_getaffinity` on each thread), what the metrics say, and the
//! errors of `build` for sets it cannot honour.

#![cfg(not(loom))]

use nix::sched::{sched_getaffinity, CpuSet};
use nix::unistd::Pid;
use std::io;
use std::sync::mpsc;
use std::time::Duration;
use zokio::runtime::{Builder, WorkerAffinity};

/// The CPUs the calling thread may run on, ascending.
fn my_cpus() -> Vec<usize> {
    let set = sched_getaffinity(Pid::from_raw(0)).unwrap();
    (0..CpuSet::count())
        .filter(|&c| set.is_set(c).unwrap_or(false))
        .collect()
}

/// Builds a multi-thread runtime of `workers` workers with `affinity` whose start hook
/// reports each worker thread's CPUs; returns the runtime and the CPU sets of its workers
/// (sorted), once every worker has started.
fn started(workers: usize, affinity: WorkerAffinity) -> (zokio::runtime::Runtime, Vec<Vec<usize>>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("affinity-worker")
        .worker_affinity(affinity)
        .on_thread_start(move || {
            if std::thread::current().name() == Some("affinity-worker") {
                tx.lock().unwrap().send(my_cpus()).unwrap();
            }
        })
        .build()
        .unwrap();
    let mut sets: Vec<Vec<usize>> = (0..workers)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("a worker started")
        })
        .collect();
    sets.sort();
    (rt, sets)
}

#[test]
fn one_core_each_pins_worker_i_to_the_ith_allowed_cpu() {
    let allowed = my_cpus();
    let workers = allowed.len() + 1; // one more than CPUs: the last wraps to the first
    let (rt, sets) = started(workers, WorkerAffinity::OneCoreEach);
    let mut expected: Vec<Vec<usize>> = (0..workers)
        .map(|i| vec![allowed[i % allowed.len()]])
        .collect();
    expected.sort();
    assert_eq!(sets, expected);
    let metrics = rt.metrics();
    for i in 0..workers {
        assert_eq!(metrics.worker_cpu(i), Some(allowed[i % allowed.len()]));
    }
    // Tasks run on the pinned workers; a blocking thread a worker starts does not inherit
    // the worker's one CPU.
    let (seen, blocking) = rt.block_on(async {
        zokio::spawn(async {
            let blocking = zokio::task::spawn_blocking(my_cpus).await.unwrap();
            (my_cpus(), blocking)
        })
        .await
        .unwrap()
    });
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(blocking, allowed);
    assert_eq!(metrics.blocking_affinity(), Some(allowed.clone()));
}

#[test]
fn a_cpu_list_is_used_round_robin_and_unpinned_workers_say_so() {
    let cpu = *my_cpus().last().unwrap();
    let (rt, sets) = started(3, WorkerAffinity::Cpus(vec![cpu]));
    assert_eq!(sets, vec![vec![cpu]; 3]);
    assert_eq!(rt.metrics().worker_cpu(2), Some(cpu));

    let (rt, sets) = started(2, WorkerAffinity::Unpinned);
    assert_eq!(sets, vec![my_cpus(); 2]);
    assert_eq!(rt.metrics().worker_cpu(0), None);
    assert_eq!(rt.metrics().blocking_affinity(), None);
}

#[test]
fn blocking_threads_keep_to_their_set_on_both_flavors() {
    let cpu = my_cpus()[0];
    for mut builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
        let rt = builder.blocking_affinity([cpu, cpu]).build().unwrap();
        assert_eq!(rt.metrics().blocking_affinity(), Some(vec![cpu]));
        let seen = rt.block_on(async { zokio::task::spawn_blocking(my_cpus).await.unwrap() });
        assert_eq!(seen, vec![cpu]);
    }
}

#[test]
fn sets_build_cannot_honour_are_errors_that_say_why() {
    let refused = |b: &mut Builder| -> String {
        let err = b.build().expect_err("build refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        err.to_string()
    };
    let msg = refused(Builder::new_multi_thread().worker_affinity(WorkerAffinity::Cpus(vec![])));
    assert!(
        msg.contains("worker_affinity") && msg.contains("empty"),
        "{msg}"
    );
    let forbidden = CpuSet::count() - 1;
    let msg =
        refused(Builder::new_multi_thread().worker_affinity(WorkerAffinity::Cpus(vec![forbidden])));
    assert!(msg.contains(&format!("CPU {forbidden} ")), "{msg}");
    let msg = refused(Builder::new_current_thread().worker_affinity(WorkerAffinity::OneCoreEach));
    assert!(msg.contains("current-thread"), "{msg}");
    let msg = refused(Builder::new_current_thread().blocking_affinity([]));
    assert!(msg.contains("blocking_affinity"), "{msg}");
    let msg = refused(Builder::new_multi_thread().blocking_affinity([forbidden]));
    assert!(msg.contains("blocking_affinity"), "{msg}");
}
