//! The zbench binary's exit codes and messages on good and bad input.

use std::process::Command;

fn zbench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(args)
        .output()
        .expect("run zbench")
}

/// Runs zbench with `args` and `--out dir`, panics with its stderr unless it succeeds, and
/// reads the result file it wrote.
fn run_into(dir: &std::path::Path, args: &[&str]) -> zbench_report::schema::ResultFile {
    let mut all = args.to_vec();
    all.extend(["--out", dir.to_str().unwrap()]);
    let out = zbench(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    zbench_report::schema::read(&dir.join("results.json")).unwrap()
}

#[test]
fn list_prints_every_workload() {
    let out = zbench(&["list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("tokio_shapes.ping_pong"));
    assert!(stdout.contains("sched.task_scheduling,headline.vs_tokio"));
    assert!(stdout.contains("stress.task_scheduling"));
    assert_eq!(
        stdout.lines().count(),
        zbench_suite::catalogue::workloads().len() + zbench_stress::workloads().len()
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

/// `zbench report` on bad input: a truncated or malformed file, a missing one, or none at
/// all; nothing is written in any of these cases.
#[test]
fn report_refuses_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::json!({"schema": "zbench/1", "run": {"started_utc": "x"}});
    let text = serde_json::to_string(&good).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "not json").unwrap();
    let out_dir = dir.path().join("pages");
    let out_s = out_dir.to_str().unwrap();
    for (file, message) in [
        (&truncated, "malformed result file"),
        (&malformed, "malformed result file"),
    ] {
        let out = zbench(&["report", file.to_str().unwrap(), "--out", out_s]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    }
    let missing = zbench(&["report", "/nonexistent/results.json", "--out", out_s]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8(missing.stderr)
        .unwrap()
        .contains("/nonexistent/results.json"));
    // A bad file among good ones fails before anything is written.
    assert!(!out_dir.exists());
    assert_eq!(zbench(&["report"]).status.code(), Some(2));
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
    assert_eq!(printed["schema"], "zbench/2");
    // The report pages are written beside it by default, and `zbench report` of two runs
    // adds a history page.
    assert!(dir.path().join("report/index.html").is_file());
    assert!(dir.path().join("report/group-zsync.html").is_file());
    let results = dir.path().join("results.json");
    let results_s = results.to_str().unwrap();
    let history_dir = dir.path().join("history");
    let report = zbench(&[
        "report",
        results_s,
        results_s,
        "--out",
        history_dir.to_str().unwrap(),
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(history_dir.join("history.html").is_file());
    assert!(String::from_utf8(report.stdout)
        .unwrap()
        .contains("index.html"));
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
    let out = zbench(&["all", "--runtimes", "zokio,nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("unknown runtime \"nosuch\"; known: zokio, tokio"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // The baseline and the gated runtime are checked the same way.
    for args in [
        &["all", "--baseline", "nosuch"][..],
        &["compare", "a.json", "b.json", "--runtime", "nosuch"][..],
    ] {
        let out = zbench(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8(out.stderr)
            .unwrap()
            .contains("unknown runtime \"nosuch\""));
    }
}

/// A quick zokio-only run of `zsync.spawn` without report pages, started in `cwd`, writing
/// into `out`; panics with zbench's stderr unless it succeeds. Returns the result file.
fn quick_zokio_run(
    cwd: &std::path::Path,
    out: &std::path::Path,
) -> zbench_report::schema::ResultFile {
    let run = Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args([
            "run",
            "zsync.spawn",
            "--quick",
            "--runtimes",
            "zokio",
            "--no-report",
        ])
        .arg("--out")
        .arg(out)
        .current_dir(cwd)
        .output()
        .expect("run zbench");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    zbench_report::schema::read(&out.join("results.json")).unwrap()
}

#[test]
fn zokio_only_run_records_no_baseline_and_no_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let file = quick_zokio_run(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), dir.path());
    assert!(file.results.iter().all(|r| r.runtime == "zokio"));
    assert!(!dir.path().join("report").exists(), "--no-report");
    assert!(file.comparisons.is_empty());
    let claim = file
        .claims
        .iter()
        .find(|c| c.claim_id == "zsync.spawn")
        .unwrap();
    assert!(claim.zokio.is_some() && claim.tokio.is_none());
}

/// `git -C dir <args>`, trimmed, if git ran and succeeded.
fn git(dir: &std::path::Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn result_file_names_the_commit_zbench_was_built_from_not_the_current_directorys() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = git(source, &["rev-parse", "HEAD"]).map(|commit| {
        let dirty = git(source, &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|changes| !changes.is_empty());
        if dirty {
            format!("{commit}-dirty")
        } else {
            commit
        }
    });
    // Run from inside another repository, with a commit of its own.
    let cwd = tempfile::tempdir().unwrap();
    let other = git(cwd.path(), &["init", "-q"]).and_then(|_| {
        git(
            cwd.path(),
            &[
                "-c",
                "user.name=zbench test",
                "-c",
                "user.email=test@localhost",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "elsewhere",
            ],
        )?;
        git(cwd.path(), &["rev-parse", "HEAD"])
    });
    let out_dir = tempfile::tempdir().unwrap();
    let file = quick_zokio_run(cwd.path(), out_dir.path());
    assert_eq!(file.run.git_commit, expected);
    if let Some(other) = other {
        assert_ne!(file.run.git_commit.as_deref(), Some(other.as_str()));
    }
}

/// The gate, end to end: a real run compared with itself passes; the same run with every
/// ratio made 50% worse exits 3 and names the regression; bad inputs get their exit codes.
#[test]
fn compare_gates_on_a_doctored_regression() {
    let dir = tempfile::tempdir().unwrap();
    let out = zbench(&[
        "run",
        "zsync.spawn",
        "--quick",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = dir.path().join("results.json");
    let base_s = base.to_str().unwrap();

    let same = zbench(&["compare", base_s, base_s]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(String::from_utf8_lossy(&same.stdout).contains("unchanged"));

    // zsync.spawn is ns/op, lower is better: a 50% regression multiplies its ratios by 1.5.
    // The measured ratios are replaced by fixed ones (±2%) first, so that the verdict does
    // not depend on how noisy this machine was while the tests ran in parallel.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    let steady = |scale: f64| -> serde_json::Value {
        (0..10)
            .map(|i| 0.4 * scale * (0.98 + 0.004 * f64::from(i)))
            .collect()
    };
    let comparisons = doc["comparisons"].as_array_mut().unwrap();
    assert!(!comparisons.is_empty());
    for c in comparisons.iter_mut() {
        assert_eq!(c["higher_is_better"], false);
        c["ratios"] = steady(1.0);
    }
    let steady_base = dir.path().join("steady.json");
    std::fs::write(&steady_base, serde_json::to_string(&doc).unwrap()).unwrap();
    let base = steady_base;
    let base_s = base.to_str().unwrap();
    for c in doc["comparisons"].as_array_mut().unwrap() {
        c["ratios"] = steady(1.5);
    }
    let worse = dir.path().join("worse.json");
    std::fs::write(&worse, serde_json::to_string(&doc).unwrap()).unwrap();
    let gate = zbench(&[
        "compare",
        base_s,
        worse.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert_eq!(
        gate.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&gate.stderr)
    );
    let md = String::from_utf8_lossy(&gate.stdout);
    assert!(
        md.contains("| zsync.spawn |") && md.contains("**regressed**"),
        "{md}"
    );

    // A truncated file is a runtime error (1); a bad threshold a usage error (2).
    let text = std::fs::read_to_string(&base).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 3]).unwrap();
    assert_eq!(
        zbench(&["compare", base_s, cut.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        zbench(&["compare", base_s, base_s, "--threshold", "lots"])
            .status
            .code(),
        Some(2)
    );
    // Exports are JSON.
    let bmf = zbench(&["compare", base_s, base_s, "--export", "bencher"]);
    let v: serde_json::Value = serde_json::from_slice(&bmf.stdout).unwrap();
    assert!(v
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("zsync.spawn")));
}

#[test]
fn load_against_a_closed_port_fails_clearly_and_serve_rejects_unknown_workloads() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let target = port.to_string();
    let out = zbench(&[
        "load",
        "--workload",
        "net.http_requests",
        "--target",
        &target,
        "--duration",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("cannot connect to"), "{stderr}");
    let out = zbench(&["serve", "--workload", "net.nope", "--runtime", "zokio"]);
    assert_eq!(out.status.code(), Some(2));
    let out = zbench(&[
        "load",
        "--workload",
        "net.http_requests",
        "--target",
        "nowhere",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_zokio_driver_is_recorded_for_the_run_and_for_each_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let file = run_into(
        dir.path(),
        &[
            "run",
            "zsync.spawn",
            "--quick",
            "--no-report",
            "--zokio-driver",
            "epoll",
        ],
    );
    assert_eq!(file.run.zokio_io_driver.as_deref(), Some("epoll"));
    let drivers: Vec<(&str, Option<&str>)> = file
        .run
        .runtimes
        .iter()
        .map(|r| (r.name.as_str(), r.io_driver.as_deref()))
        .collect();
    assert_eq!(
        drivers,
        [("zokio", Some("epoll")), ("tokio", Some("mio (epoll)"))]
    );
    // A bad driver name is a usage error, from the flag and from the environment.
    assert_eq!(
        zbench(&["run", "zsync.spawn", "--zokio-driver", "kqueue"])
            .status
            .code(),
        Some(2)
    );
    let env = Command::new(env!("CARGO_BIN_EXE_zbench"))
        .args(["run", "zsync.spawn", "--quick", "--no-report"])
        .env("ZOKIO_DRIVER", "kqueue")
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&env.stderr).contains("ZOKIO_DRIVER=\"kqueue\""));
}

#[test]
fn bad_client_threads_and_pin_values_are_usage_errors() {
    for args in [
        &["all", "--client-threads", "0"][..],
        &["all", "--client-threads", "many"][..],
        &["all", "--pin=yes"][..],
        &[
            "load",
            "--workload",
            "net.http_requests",
            "--target",
            "127.0.0.1:1",
            "--client-threads",
            "0",
        ][..],
    ] {
        let out = zbench(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // A placement this machine cannot give: the generator takes every CPU (or, on one
    // CPU, --pin has nothing to split).
    let cpus = std::thread::available_parallelism()
        .unwrap()
        .get()
        .to_string();
    let out = zbench(&[
        "run",
        "net.tcp_connections",
        "--pin",
        "--client-threads",
        &cpus,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--pin"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// With --pin, each network point records where the server and the generator ran (on
/// disjoint CPUs) and has its server-CPU twin with a comparison. That threads run where
/// the params say is checked against the kernel in the stress crate's tests.
#[test]
fn a_pinned_network_run_records_its_placement() {
    if std::thread::available_parallelism().unwrap().get() < 2 {
        eprintln!("skipped: --pin needs 2 CPUs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = run_into(
        dir.path(),
        &[
            "run",
            "net.tcp_connections",
            "--quick",
            "--pin",
            "--no-report",
        ],
    );
    let rates: Vec<_> = file
        .results
        .iter()
        .filter(|r| r.workload == "net.tcp_connections" && !r.params.contains_key("figure"))
        .collect();
    let cpu: Vec<_> = file
        .results
        .iter()
        .filter(|r| r.params.contains_key("figure"))
        .collect();
    assert_eq!(rates.len(), 2, "zokio and tokio");
    assert_eq!(cpu.len(), 2, "server CPU time per connection for both");
    assert!(cpu
        .iter()
        .all(|r| r.unit == "us/connection" && !r.higher_is_better));
    for r in &rates {
        let server = r.params["server_cpus"].as_str().unwrap();
        let generator = r.params["generator_cpus"].as_str().unwrap();
        assert_ne!(server, "not pinned");
        assert_ne!(server, generator);
        if std::thread::available_parallelism().unwrap().get() == 2 {
            assert_eq!(
                r.params["workers"], 1,
                "one worker per server CPU on 2 CPUs"
            );
        }
    }
    assert!(file
        .comparisons
        .iter()
        .any(|c| c.workload == "net.tcp_connections" && c.params.contains_key("figure")));
}

/// Runs `ip` with `args`; whether it succeeded.
fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Two hosts for real: two network namespaces joined by a veth pair, `zbench serve` in one
/// and `zbench load` in the other; the result file records both hosts' addresses. Needs
/// root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; skipped with a message otherwise.
/// Traffic stays on the addresses the test creates; the namespaces are deleted after.
#[test]
fn serve_and_load_run_in_two_network_namespaces() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !ip(&["-V"]) {
        eprintln!("skipped: the namespace test needs root and iproute2");
        return;
    }
    let tag = std::process::id() % 10_000;
    let (srv, cli) = (format!("zbsrv{tag}"), format!("zbcli{tag}"));
    let (veth_srv, veth_cli) = (format!("zbs{tag}"), format!("zbc{tag}"));
    let subnet = 100 + tag % 100;
    let (srv_ip, cli_ip) = (format!("10.254.{subnet}.1"), format!("10.254.{subnet}.2"));
    struct Cleanup(Vec<String>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for ns in &self.0 {
                ip(&["netns", "delete", ns]);
            }
        }
    }
    let _cleanup = Cleanup(vec![srv.clone(), cli.clone()]);
    let set_up = ip(&["netns", "add", &srv])
        && ip(&["netns", "add", &cli])
        && ip(&[
            "link", "add", &veth_srv, "netns", &srv, "type", "veth", "peer", "name", &veth_cli,
            "netns", &cli,
        ])
        && ip(&[
            "-n",
            &srv,
            "addr",
            "add",
            &format!("{srv_ip}/24"),
            "dev",
            &veth_srv,
        ])
        && ip(&[
            "-n",
            &cli,
            "addr",
            "add",
            &format!("{cli_ip}/24"),
            "dev",
            &veth_cli,
        ])
        && ip(&["-n", &srv, "link", "set", &veth_srv, "up"])
        && ip(&["-n", &cli, "link", "set", &veth_cli, "up"])
        && ip(&["-n", &srv, "link", "set", "lo", "up"]);
    if !set_up {
        eprintln!("skipped: this machine does not let the test create network namespaces");
        return;
    }
    let exe = env!("CARGO_BIN_EXE_zbench");
    let listen = format!("{srv_ip}:18080");
    let mut server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &srv,
            exe,
            "serve",
            "--workload",
            "net.http_requests",
        ])
        .args([
            "--runtime",
            "zokio",
            "--workers",
            "1",
            "--duration",
            "20s",
            "--listen",
            &listen,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for "listening on".
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.contains("listening on"), "{line}");
    let dir = tempfile::tempdir().unwrap();
    let load = Command::new("ip")
        .args([
            "netns",
            "exec",
            &cli,
            exe,
            "load",
            "--workload",
            "net.http_requests",
        ])
        .args([
            "--target",
            &listen,
            "--duration",
            "1s",
            "--connections",
            "4",
        ])
        .args([
            "--server-runtime",
            "zokio",
            "--out",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        load.status.success(),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    let file = zbench_report::schema::read(&dir.path().join("results.json")).unwrap();
    let r = &file.results[0];
    assert_eq!(r.params["server_host"], srv_ip.as_str());
    assert_eq!(r.params["load_address"], cli_ip.as_str());
    assert_eq!(r.runtime, "zokio");
    assert!(r.stats.median > 0.0 && r.errors == 0, "{r:?}");
}
