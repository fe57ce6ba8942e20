//! Bad input the other CLI tests do not cover: a result file from a newer zbench, valid
//! JSON of the wrong shape, a threshold out of range, and an output directory that cannot
//! take the result file (a full disk). Each gives one line on stderr and exit 1 (runtime
//! error) or 2 (usage error), and leaves no partial file.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

fn zbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(args)
        .output()
        .expect("run zbench")
}

/// The one error line on stderr (progress lines such as "[1/1] zsync.spawn" aside).
fn stderr_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    errors[0].to_owned()
}

/// The arguments of a quick one-point zokio run writing into `dir`.
fn quick_run(dir: &Path) -> Vec<&str> {
    vec![
        "run",
        "zsync.spawn",
        "--quick",
        "--runtimes",
        "zokio",
        "--baseline",
        "zokio",
        "--no-report",
        "--out",
        dir.to_str().unwrap(),
    ]
}

/// A complete result file of one quick point, written by this zbench.
fn good_file(dir: &Path) -> std::path::PathBuf {
    let out = zbench(&quick_run(dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("results.json")
}

#[test]
fn result_files_of_a_newer_zbench_or_the_wrong_shape_are_refused_by_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_file(&dir.path().join("run"));
    let text = std::fs::read_to_string(&good).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["schema"] = serde_json::json!("zbench/99");
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, serde_json::to_string(&value).unwrap()).unwrap();
    // The right tag, the wrong shape.
    let shape = dir.path().join("shape.json");
    std::fs::write(
        &shape,
        r#"{"schema": "zbench/2", "run": 5, "workloads": "none"}"#,
    )
    .unwrap();
    let pages = dir.path().join("pages");
    for (file, says) in [(&newer, "newer zbench"), (&shape, "malformed result file")] {
        let f = file.to_str().unwrap();
        let good_s = good.to_str().unwrap();
        for args in [
            vec!["claims", f],
            vec!["compare", good_s, f],
            vec!["compare", f, good_s],
            vec!["report", f, "--out", pages.to_str().unwrap()],
        ] {
            let out = zbench(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let line = stderr_line(&out);
            assert!(line.contains(says) && line.contains(f), "{args:?}: {line}");
        }
    }
    assert!(!pages.exists(), "report wrote pages from a refused file");
}

#[test]
fn a_threshold_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_file(dir.path());
    let g = good.to_str().unwrap();
    for bad in ["5000%", "-1%", "NaN", "inf"] {
        let flag = format!("--threshold={bad}");
        let out = zbench(&["compare", g, g, &flag]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("threshold"), "{bad}: {stderr}");
    }
}

/// A full disk, as a file-size limit makes one: writes past 4 KiB fail (`EFBIG`; the
/// limit's `SIGXFSZ` ignored, as a process on a full disk gets `ENOSPC` and no signal).
/// The run measures, then cannot write its result: one line, exit 1, and neither a
/// results.json nor a temporary file left behind.
#[test]
fn an_output_directory_that_cannot_take_the_result_file_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zbench"));
    cmd.args(quick_run(&out_dir));
    // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit).
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: 4096,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = stderr_line(&out);
    assert!(line.contains("results.json"), "{line}");
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().contains("results.json")),
        "left behind: {left:?}"
    );
}
