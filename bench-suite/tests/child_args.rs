//! Child-process measurements pass the run's runtimes, worker count and zokio driver to
//! the child.

use std::os::unix::fs::PermissionsExt;
use zbench_suite::child::Job;
use zbench_suite::measure::MeasureConfig;
use zbench_suite::strategy::child_processes;
use zbench_suite::suite::Ctx;

#[test]
fn children_get_the_runs_runtimes_workers_and_driver() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("argv.log");
    // A stand-in for the zbench executable: records its arguments, prints a figure.
    let exe = dir.path().join("fake-zbench");
    std::fs::write(
        &exe,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\necho 42\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cfg = MeasureConfig::QUICK;
    cfg.workers = 3;
    let mut ctx = Ctx::new(cfg, vec!["smol", "zokio"], "tokio");
    ctx.child_exe = Some(exe);
    ctx.options.zokio_driver = zokio::runtime::IoDriver::Epoll;
    let point = child_processes(&ctx, Job::IdleTaskMemory, 1000, Vec::new()).unwrap();
    let names: Vec<&str> = point.series.iter().map(|s| s.name).collect();
    assert_eq!(names, ["smol", "zokio"]);
    assert!(point
        .series
        .iter()
        .all(|s| s.samples.iter().all(|&x| x == 42.0)));
    let calls = std::fs::read_to_string(&log).unwrap();
    let mut calls: Vec<&str> = calls.lines().collect();
    // Three rounds for each of the two runtimes (rounded to a multiple of two: 4 each).
    assert_eq!(calls.len(), 8, "{calls:?}");
    calls.sort_unstable();
    calls.dedup();
    assert_eq!(
        calls,
        [
            "__child idle-task-memory smol 1000 3 epoll",
            "__child idle-task-memory zokio 1000 3 epoll"
        ]
    );
}
