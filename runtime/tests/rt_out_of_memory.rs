//! Out of memory, on purpose: what zokio guarantees when spawning runs the process out of
//! address space (`RLIMIT_AS`; a memory cgroup's limit ends the same way, or in the
//! kernel's OOM killer).
//!
//! Rust's global allocator gives no error back to the code that asked: `Box::new`,
//! `Vec::push` and the rest call `handle_alloc_error`, which prints "memory allocation of N
//! bytes failed" and aborts. zokio allocates a task the same way Tokio does (`spawn` has no
//! error for it, as Tokio's has none), so a runtime that runs out of memory ends the process
//! with that message and `SIGABRT`, at the allocation, before a half-made task is linked
//! anywhere: no corruption, no hang, no crash elsewhere later. Each flavor is checked in a
//! child process that lowers its limit after building its runtime and spawns idle tasks
//! until an allocation fails.

#![cfg(not(loom))]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

const CHILD: &str = "ZOKIO_TEST_OOM_CHILD";

/// Address space the child may grow by after its runtime is up, bytes.
const HEADROOM: u64 = 512 << 20;

#[test]
fn spawning_past_the_address_space_limit_aborts_with_the_allocation_error() {
    if std::env::var_os("ZOKIO_TEST_UNDER_ASAN").is_some() {
        // AddressSanitizer replaces the allocator (its own out-of-memory report, exit 1)
        // and its shadow memory and quarantine make the debug build take minutes to fill
        // the limit: what this test checks is Rust's allocator, in the ordinary run.
        eprintln!("skipped under AddressSanitizer (scripts/leak-check.sh --asan)");
        return;
    }
    for flavor in ["current_thread", "multi_thread"] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "oom_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, flavor)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a child still running after 120 s is a hang (killed, then failed).
        let mut status = None;
        for _ in 0..1200 {
            if let Some(s) = child.try_wait().unwrap() {
                status = Some(s);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if status.is_none() {
            child.kill().unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            status.is_some(),
            "{flavor}: still running after 120 s:\n{text}"
        );
        assert!(
            text.contains("limit set, spawning"),
            "{flavor}: the child did not get to spawn:\n{text}"
        );
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "{flavor}: {:?}\n{text}",
            out.status
        );
        assert!(
            text.contains("memory allocation of") && text.contains("failed"),
            "{flavor}: no allocation error:\n{text}"
        );
    }
}

#[test]
#[ignore = "run by the test above, in a child process with a lowered RLIMIT_AS"]
fn oom_child() {
    let flavor = std::env::var(CHILD).expect("run by the test above");
    let rt = match flavor.as_str() {
        "current_thread" => zokio::runtime::Builder::new_current_thread().build(),
        _ => zokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build(),
    }
    .unwrap();
    let size_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmSize");
    let limit = libc::rlimit {
        rlim_cur: size_kib * 1024 + HEADROOM,
        rlim_max: size_kib * 1024 + HEADROOM,
    };
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: pointers to live locals.
    unsafe {
        assert_eq!(libc::setrlimit(libc::RLIMIT_CORE, &no_core), 0);
        assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &limit), 0);
    }
    println!("limit set, spawning");
    rt.block_on(async {
        // Far more idle tasks than the headroom holds (about 100 bytes each).
        for _ in 0..200_000_000u64 {
            drop(zokio::spawn(std::future::pending::<()>()));
        }
    });
    println!("spawned them all: the limit was never reached");
}
