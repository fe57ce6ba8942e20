//! `--resume`: a run killed with SIGKILL mid-way is finished from its journal, with every
//! workload in the result file exactly once; and the journal's bad inputs (none there, a
//! line cut short, a corrupted line, settings given again, a directory holding an
//! unfinished run) give one clear line, the right exit code, and no result file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn zbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(args)
        .output()
        .expect("run zbench")
}

/// Fast workloads, enough of them that a kill after the first leaves several.
const WORKLOADS: [&str; 6] = [
    "asyncfn.create",
    "asyncfn.await",
    "asyncfn.nested",
    "sched.future_polling",
    "zsync.dispatch_invoke",
    "sched.memory_allocation",
];

fn journal_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Starts a quick run of [`WORKLOADS`] into `dir` and kills it (SIGKILL) once the journal
/// holds at least one finished workload.
fn killed_run(dir: &Path) {
    let mut args = vec!["run"];
    args.extend(WORKLOADS);
    args.extend([
        "--quick",
        "--runtimes",
        "zokio,tokio",
        "--no-report",
        "--out",
    ]);
    args.push(dir.to_str().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Header plus one workload.
    while journal_lines(dir) < 2 {
        assert!(Instant::now() < deadline, "no workload finished in 120 s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!dir.join("results.json").exists());
}

#[test]
fn a_killed_run_resumes_with_every_workload_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    killed_run(&dir);
    let done_before = journal_lines(&dir) - 1;
    // A line cut short by the kill (as a write interrupted mid-way leaves it) is dropped.
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("journal.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut journal, b"{\"line\":\"workload\",\"workload\":\"asyn").unwrap();
    drop(journal);

    let out = zbench(&["run", "--resume", dir.to_str().unwrap(), "--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{done_before} of 6 workloads done")),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("resumed run, 2 parts"), "{stdout}");
    let file = zbench_report::schema::read(&dir.join("results.json")).unwrap();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &file.results {
        *seen
            .entry((r.workload.clone(), r.runtime.clone()))
            .or_default() += 1;
    }
    for w in WORKLOADS {
        for rt in ["zokio", "tokio"] {
            assert_eq!(
                seen.get(&(w.to_owned(), rt.to_owned())),
                Some(&1),
                "{w} on {rt}: {seen:?}"
            );
        }
    }
    // Two parts: the killed run's workloads, then the rest, together every workload once.
    let parts = &file.run.parts;
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0].workloads.len(), done_before);
    let mut all: Vec<&str> = parts
        .iter()
        .flat_map(|p| p.workloads.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    let mut expected = WORKLOADS.to_vec();
    expected.sort_unstable();
    assert_eq!(all, expected);
    // The settings came from the journal.
    assert!(file.run.quick);
    assert_eq!(file.run.runtimes.len(), 2);
    // The journal is gone: the result file holds the run.
    assert!(!dir.join("journal.jsonl").exists());
}

#[test]
fn journal_bad_inputs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // No journal.
    let out = zbench(&["all", "--resume", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no journal there"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // Settings given again beside --resume, or patterns: usage errors.
    let out = zbench(&["all", "--resume", "x", "--quick"]);
    assert_eq!(out.status.code(), Some(2));
    let out = zbench(&["run", "asyncfn.*", "--resume", "x"]);
    assert_eq!(out.status.code(), Some(2));

    // A directory with an unfinished run refuses a new one, and keeps its journal.
    let dir = tmp.path().join("unfinished");
    std::fs::create_dir(&dir).unwrap();
    let header = "{\"line\":\"header\",\"format\":\"zbench-journal/1\",\"started_utc\":\"2026-12-06T00:00:00Z\",\"settings\":{\"workloads\":[\"asyncfn.create\"],\"quick\":true,\"seed\":1,\"runtimes\":[\"zokio\"],\"baseline\":\"tokio\",\"workers\":2,\"zokio_driver\":\"auto\",\"client_threads\":null,\"pin\":false}}\n";
    std::fs::write(dir.join("journal.jsonl"), header).unwrap();
    let out = zbench(&[
        "run",
        "asyncfn.create",
        "--quick",
        "--runtimes",
        "zokio",
        "--no-report",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("unfinished run") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(!dir.join("results.json").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("journal.jsonl")).unwrap(),
        header
    );

    // A corrupted line that is not the last: an error naming the line, nothing written.
    let bad = format!("{header}not json\n");
    std::fs::write(dir.join("journal.jsonl"), &bad).unwrap();
    let out = zbench(&["all", "--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 2 is not a journal entry"), "{stderr}");
    assert!(!dir.join("results.json").exists());

    // Not a journal at all, and a workload this zbench does not know.
    std::fs::write(
        dir.join("journal.jsonl"),
        "{\"line\":\"part\",\"started_utc\":\"x\"}\n",
    )
    .unwrap();
    let out = zbench(&["all", "--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a zbench journal"));
    std::fs::write(
        dir.join("journal.jsonl"),
        header.replace("asyncfn.create", "no.such"),
    )
    .unwrap();
    let out = zbench(&["all", "--resume", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"no.such\""));
}
