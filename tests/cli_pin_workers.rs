//! `--pin-workers`: a run on every runtime with each worker pinned to one CPU finishes,
//! records the placement in the result file and says so in its table.

use std::process::Command;

#[test]
fn a_pinned_run_records_its_placement() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(["run", "tokio_shapes.yield_many", "--quick", "--pin-workers"])
        .args(["--runtimes", "all", "--no-report", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("workers pinned: one CPU each: "),
        "{stdout}"
    );
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let placement = file["run"]["worker_placement"].as_str().unwrap();
    assert!(placement.starts_with("one CPU each: "), "{placement}");
    let runtimes: std::collections::BTreeSet<&str> = file["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runtime"].as_str().unwrap())
        .collect();
    assert!(runtimes.len() >= 3, "{runtimes:?}");
}
