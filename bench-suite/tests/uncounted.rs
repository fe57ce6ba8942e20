//! Callgrind leaves a thread inside `measure::uncounted` (a load generator's, in the
//! network workloads) out of its count, while the rest of the process is counted. (The
//! allocation side is in `counting.rs`.)

use std::hint::black_box;
use std::process::Command;
use zbench_suite::callgrind;
use zbench_suite::measure::{self, Measure, Meter};

/// Set in the child that runs under Callgrind.
const CHILD: &str = "ZBENCH_UNCOUNTED_TEST_CHILD";

/// About `n` times a few instructions.
fn spin(n: u64) -> u64 {
    (0..n).fold(0u64, |x, i| black_box(x.wrapping_mul(31).wrapping_add(i)))
}

/// Instructions of one phase in which this thread spins 1M times and another thread 20M
/// times, inside `uncounted` or not.
fn phase(generator_uncounted: bool) -> u64 {
    let meter = Meter::start();
    let other = std::thread::spawn(move || {
        if generator_uncounted {
            measure::uncounted(|| spin(20_000_000))
        } else {
            spin(20_000_000)
        }
    });
    let mine = spin(1_000_000);
    black_box((mine, other.join().unwrap()));
    meter.stop().count
}

/// Under Callgrind (skipped, saying so, where Valgrind is not installed; `.ci/run`
/// installs it).
#[test]
fn callgrind_leaves_an_uncounted_thread_out() {
    if std::env::var_os(CHILD).is_some() {
        measure::set_measure(Measure::Instructions).unwrap();
        println!("counts {} {}", phase(false), phase(true));
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = callgrind::valgrind_command(&dir.path().join("callgrind.out"))
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "callgrind_leaves_an_uncounted_thread_out",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<u64> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("counts "))
        .unwrap_or_else(|| panic!("no counts in {stdout}"))
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let (all, without) = (counts[0], counts[1]);
    // Both threads: over 21M spins' worth; the spinning thread left out: about 1M spins'.
    assert!(
        all > 20 * without,
        "all threads {all}, generator left out {without}"
    );
    assert!(
        without > 1_000_000,
        "this thread's spins were counted: {without}"
    );
}
