//! `--measure allocations|instructions` and `compare --metric allocations|instructions`:
//! what a counted run records, and the gate's exit codes on counted files.

use std::path::Path;
use std::process::Command;
use zbench_report::schema::{self, Measure};

fn zbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(args)
        .output()
        .expect("run zbench")
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of the result file `from` with every ratio multiplied by `factor`, at `to`.
fn doctor(from: &Path, to: &Path, factor: f64) {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    for c in doc["comparisons"].as_array_mut().unwrap() {
        let ratios: Vec<f64> = c["ratios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_f64().unwrap() * factor)
            .collect();
        c["ratios"] = ratios.into();
    }
    std::fs::write(to, serde_json::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn an_allocation_run_counts_per_operation_and_gates_at_one_percent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = zbench(&[
        "run",
        "tokio_shapes.spawn_many_current_thread",
        "memory.per_task",
        "--quick",
        "--measure",
        "allocations",
        "--no-report",
        "--out",
        d,
    ]);
    ok(&out);
    let file = schema::read(&dir.path().join("results.json")).unwrap();
    assert_eq!(file.run.measure, Measure::Allocations);
    let spawn: Vec<_> = file
        .results
        .iter()
        .filter(|r| r.workload == "tokio_shapes.spawn_many_current_thread")
        .collect();
    assert_eq!(spawn.len(), 2);
    for r in &spawn {
        assert_eq!(r.measure, Measure::Allocations);
        assert_eq!(r.unit, "allocations/task");
        assert!(!r.higher_is_better);
        // Both runtimes allocate each spawned task once (its cell): counts, not times.
        assert!(
            (0.99..=1.01).contains(&r.stats.median),
            "{}: {}",
            r.runtime,
            r.stats.median
        );
        assert!(r.extra["bytes_allocated_per_op"] >= 32.0, "{:?}", r.extra);
    }
    // A memory figure cannot be counted: not applicable, with the reason.
    let na: Vec<_> = file
        .not_applicable
        .iter()
        .filter(|n| n.workload == "memory.per_task")
        .collect();
    assert_eq!(na.len(), 2, "{:?}", file.not_applicable);
    assert!(
        na[0].reason.contains("cannot count allocations"),
        "{}",
        na[0].reason
    );
    // No documented figure is judged on counts.
    assert!(file
        .claims
        .iter()
        .all(|c| c.verdict == schema::Verdict::NotRun
            || c.verdict == schema::Verdict::NotYetMeasured));
    assert!(String::from_utf8_lossy(&out.stdout).contains("measure: heap allocations"));

    // The gate: unchanged on itself, exit 3 on a 2% doctored regression, 0 at 0.5%.
    let base = dir.path().join("results.json");
    let b = base.to_str().unwrap();
    let gate = |factor: f64| {
        let copy = dir.path().join(format!("doctored-{factor}.json"));
        doctor(&base, &copy, factor);
        let out = zbench(&[
            "compare",
            b,
            copy.to_str().unwrap(),
            "--metric",
            "allocations",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text)
    };
    for (factor, code) in [(1.0, 0), (1.02, 3), (1.005, 0)] {
        let (got, text) = gate(factor);
        assert_eq!(got, Some(code), "ratios x{factor}: {text}");
    }

    // Another measure's metric on these files: one clear line, exit 1.
    let wrong = zbench(&["compare", b, b, "--metric", "instructions"]);
    assert_eq!(wrong.status.code(), Some(1));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("base measured allocations"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A network workload counts the server's side only: its load generator's threads are
/// left out (`bench-suite/tests/uncounted.rs` and `counting.rs` test that part).
#[test]
fn a_network_workload_counts_allocations_per_connection_without_a_cpu_twin() {
    let dir = tempfile::tempdir().unwrap();
    let out = zbench(&[
        "run",
        "net.tcp_connections",
        "--quick",
        "--runtimes",
        "zokio,tokio",
        "--measure",
        "allocations",
        "--no-report",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    ok(&out);
    let file = schema::read(&dir.path().join("results.json")).unwrap();
    assert!(file.not_applicable.is_empty(), "{:?}", file.not_applicable);
    // One point (no "server CPU time" twin: a time), one result per runtime.
    assert_eq!(file.results.len(), 2, "{:?}", file.results);
    for r in &file.results {
        assert_eq!(r.unit, "allocations/connection");
        assert_eq!(r.measure, Measure::Allocations);
        assert!(!r.params.contains_key("figure"), "{:?}", r.params);
        assert!(r.extra["requests"] > 0.0, "{:?}", r.extra);
        // Every accepted connection costs its server at least its task.
        assert!(
            (1.0..1_000.0).contains(&r.stats.median),
            "{}: {:?}",
            r.runtime,
            r.samples
        );
    }
}

#[test]
fn an_instruction_run_without_valgrind_fails_saying_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args([
            "run",
            "sync.oneshot",
            "--quick",
            "--measure",
            "instructions",
        ])
        .arg("--out")
        .arg(dir.path())
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install valgrind"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!dir.path().join("results.json").exists());
}

#[test]
fn a_bad_measure_is_a_usage_error() {
    let out = zbench(&["run", "sync.oneshot", "--measure", "cycles"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cycles"));
}

/// Under Callgrind: skipped, saying so, where Valgrind is not installed (`.ci/run` installs
/// it, so CI always runs this).
#[test]
fn an_instruction_run_counts_the_same_in_two_runs_on_a_current_thread_runtime() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out_dir = dir.path().join(name);
        let out = zbench(&[
            "run",
            "tokio_shapes.spawn_many_current_thread",
            "--quick",
            "--measure",
            "instructions",
            "--no-report",
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        ok(&out);
        schema::read(&out_dir.join("results.json")).unwrap()
    };
    let (a, b) = (run("a"), run("b"));
    assert_eq!(a.run.measure, Measure::Instructions);
    assert_eq!(a.results.len(), 2);
    for (r, again) in a.results.iter().zip(&b.results) {
        assert_eq!(r.unit, "instructions/task");
        assert_eq!(r.measure, Measure::Instructions);
        assert_eq!((&r.workload, &r.runtime), (&again.workload, &again.runtime));
        // Hundreds to thousands of instructions per spawned task: the same, to within
        // 0.5%, in the second run.
        assert!(
            (100.0..100_000.0).contains(&r.stats.median),
            "{}: {}",
            r.runtime,
            r.stats.median
        );
        let apart = (r.stats.median - again.stats.median).abs() / r.stats.median;
        assert!(
            apart < 0.005,
            "{}: {:?} then {:?}",
            r.runtime,
            r.samples,
            again.samples
        );
    }
    // The dumps stay for callgrind_annotate, indexed by runtime and phase.
    let cg = dir
        .path()
        .join("a/callgrind/tokio_shapes.spawn_many_current_thread");
    let index = std::fs::read_to_string(cg.join("callgrind.out.index")).unwrap();
    assert!(
        index.lines().any(|l| l.contains("zokio measure")),
        "{index}"
    );
    assert!(
        index.lines().any(|l| l.contains("tokio warm-up")),
        "{index}"
    );
    let first = index.lines().next().unwrap().split('\t').next().unwrap();
    let dump = std::fs::read_to_string(cg.join(format!("callgrind.out.{first}"))).unwrap();
    assert!(dump.contains("Trigger: --dump-before=zbench_phase_end"));

    // `zbench functions` lists where a zokio phase's instructions went: zokio's own code.
    let zokio = index
        .lines()
        .find(|l| l.contains("zokio measure"))
        .and_then(|l| l.split('\t').next())
        .unwrap();
    let path = cg.join(format!("callgrind.out.{zokio}"));
    let out = zbench(&["functions", path.to_str().unwrap(), "--top", "5"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.lines().skip(1).any(|l| l.contains("zokio::")),
        "{text}"
    );
    let missing = zbench(&["functions", "/nonexistent/callgrind.out.1"]);
    assert_eq!(missing.status.code(), Some(1));
    // The workload's directory and a runtime: that runtime's first measured dump, by the
    // index.
    let out = zbench(&[
        "functions",
        cg.to_str().unwrap(),
        "--runtime",
        "zokio",
        "--top",
        "5",
    ]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 6, "{text}");
    let head = format!("callgrind.out.{zokio} (zokio measure): ");
    assert!(text.lines().next().unwrap().contains(&head), "{text}");
    let unknown = zbench(&["functions", cg.to_str().unwrap(), "--runtime", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(2));
}
