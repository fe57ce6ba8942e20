//! The zbench binary's exit codes and messages on good and bad input.

use std::process::Command;

fn zbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(args)
        .output()
        .expect("run zbench")
}

#[test]
fn list_prints_every_workload() {
    let out = zbench(&["list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("tokio_shapes.ping_pong"));
    assert!(stdout.contains("sched.task_scheduling,headline.vs_tokio"));
    assert_eq!(
        stdout.lines().count(),
        zbench_suite::suite::workloads().len()
    );
}

#[test]
fn unknown_workload_is_a_usage_error() {
    let out = zbench(&["run", "no.such.workload"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("no workload matches \"no.such.workload\""),
        "{stderr}"
    );
}

#[test]
fn bad_flag_is_a_usage_error() {
    let out = zbench(&["all", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("--no-such-flag"));
}

#[test]
fn missing_subcommand_is_a_usage_error() {
    assert_eq!(zbench(&[]).status.code(), Some(2));
}

#[test]
fn missing_result_file_is_a_runtime_error_naming_it() {
    let out = zbench(&["claims", "/nonexistent/results.json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("/nonexistent/results.json"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
}

#[test]
fn malformed_result_file_is_a_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\"schema\": \"zbench/1\", \"run\": {").unwrap();
    let out = zbench(&["claims", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("malformed result file"));
}

#[test]
fn unwritable_out_fails_before_measuring() {
    let out = zbench(&[
        "run",
        "zsync.spawn",
        "--quick",
        "--out",
        "/proc/zbench-cannot-write-here",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot create output directory"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("zsync.spawn ..."),
        "measured before checking --out: {stderr}"
    );
}

#[test]
fn pattern_matching_nothing_and_bad_glob_are_usage_errors() {
    assert_eq!(zbench(&["run", "nothing.matches*"]).status.code(), Some(2));
    assert_eq!(zbench(&["run", "["]).status.code(), Some(2));
}

#[test]
fn a_run_writes_a_valid_result_file_with_every_claim() {
    let dir = tempfile::tempdir().unwrap();
    let out = zbench(&[
        "run",
        "zsync.spawn",
        "--quick",
        "--format",
        "json",
        "--seed",
        "5",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = zbench_report::schema::read(&dir.path().join("results.json")).unwrap();
    assert_eq!(file.run.seed, 5);
    assert_eq!(file.claims.len(), zbench_report::claims::CLAIMS.len());
    assert_eq!(file.results.len(), 2, "one record per runtime");
    // --format json prints the same document.
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["schema"], "zbench/1");
    // And `zbench claims` reads it back.
    let claims = zbench(&["claims", dir.path().join("results.json").to_str().unwrap()]);
    assert!(claims.status.success());
    assert!(String::from_utf8(claims.stdout)
        .unwrap()
        .contains("zsync.spawn"));
}

#[test]
fn zero_workers_is_a_usage_error() {
    let out = zbench(&["all", "--workers", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--workers"));
}

#[test]
fn unknown_runtime_is_a_usage_error() {
    let out = zbench(&["all", "--runtimes", "zokio,smol"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("unknown runtime \"smol\""));
}

#[test]
fn zokio_only_run_records_no_baseline_and_no_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let out = zbench(&[
        "run",
        "zsync.spawn",
        "--quick",
        "--runtimes",
        "zokio",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = zbench_report::schema::read(&dir.path().join("results.json")).unwrap();
    assert!(file.results.iter().all(|r| r.runtime == "zokio"));
    assert!(file.comparisons.is_empty());
    let claim = file
        .claims
        .iter()
        .find(|c| c.claim_id == "zsync.spawn")
        .unwrap();
    assert!(claim.zokio.is_some() && claim.tokio.is_none());
}
