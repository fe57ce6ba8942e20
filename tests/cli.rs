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
        stderr.contains("unknown workload \"no.such.workload\""),
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
