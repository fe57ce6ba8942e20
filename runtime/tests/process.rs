//! `process::Command` and `Child` on every scheduler flavor and driver: exit statuses,
//! piped stdio in both directions through full pipes, kill, kill-on-drop and the
//! collection of dropped children, and errors. Once more in a child process whose
//! `pidfd_open` fails (`ENOSYS`, an old kernel), where exits are seen through `SIGCHLD`.

#![cfg(not(loom))]

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::process::Command;

mod support;
use support::flavors;

/// Set in the child process of `without_pidfd_exits_are_seen_through_sigchld`.
const NO_PIDFD: &str = "ZOKIO_TEST_NO_PIDFD";

/// Whether process `pid` is gone or a zombie nobody collected yet (`None`: still running).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the command name, which is in parentheses.
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
}

/// Spawns and waits for children until the dropped child `pid` is gone (collected):
/// each spawn and wait collects dropped children that have exited. Bounded: 1000 rounds.
async fn collected_by_later_spawns(pid: u32) {
    let mut rounds = 0;
    while state(pid).is_some() {
        rounds += 1;
        assert!(rounds < 1000, "pid {pid} still {:?}", state(pid));
        Command::new("true").status().await.unwrap();
    }
}

fn exit_statuses_output_and_errors() {
    for rt in flavors() {
        rt.block_on(async {
            let status = Command::new("sh")
                .args(["-c", "exit 7"])
                .status()
                .await
                .unwrap();
            assert_eq!(status.code(), Some(7));
            let out = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"out\n");
            assert_eq!(out.stderr, b"err\n");
            assert_eq!(out.status.code(), Some(3));
            let mut child = Command::new("true").spawn().unwrap();
            let pid = child.id().unwrap();
            assert!(child.wait().await.unwrap().success());
            // Collected: no id any more, the same status again, and no zombie.
            assert_eq!(child.id(), None);
            assert!(child.try_wait().unwrap().unwrap().success());
            assert!(child.wait().await.unwrap().success());
            assert_eq!(state(pid), None);
            let missing = Command::new("/nonexistent/zokio-test-program").spawn();
            assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
        });
    }
}

#[test]
fn exit_statuses_output_and_errors_with_pidfd() {
    exit_statuses_output_and_errors();
}

#[test]
fn a_megabyte_through_cat_in_both_directions() {
    const TOTAL: usize = 1 << 20;
    for rt in flavors() {
        rt.block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
            let expected = data.clone();
            // Far more than a pipe holds: both sides must make progress together.
            let writer = zokio::spawn(async move {
                stdin.write_all(&data).await.unwrap();
                // Dropping stdin closes it: cat sees end of file and exits.
            });
            let mut back = Vec::new();
            stdout.read_to_end(&mut back).await.unwrap();
            writer.await.unwrap();
            assert!(back == expected, "{} bytes came back", back.len());
            assert!(child.wait().await.unwrap().success());
        });
    }
}

#[test]
fn wait_closes_stdin_so_a_reader_of_it_exits() {
    for rt in flavors() {
        rt.block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            assert!(child.wait().await.unwrap().success());
        });
    }
}

#[test]
fn kill_and_kill_on_drop() {
    for rt in flavors() {
        rt.block_on(async {
            let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
            assert_eq!(child.try_wait().unwrap(), None);
            child.kill().await.unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL));
            // Killing a collected child does nothing, as with Tokio.
            child.start_kill().unwrap();
            child.kill().await.unwrap();

            // Dropped with kill_on_drop: killed, and collected by a later spawn or wait.
            let child = Command::new("sleep")
                .arg("1000")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            drop(child);
            collected_by_later_spawns(pid).await;
        });
    }
}

#[test]
fn a_dropped_child_keeps_running_and_is_collected_after_it_exits() {
    for rt in flavors() {
        rt.block_on(async {
            let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
            let pid = child.id().unwrap();
            let stdin = child.stdin.take().unwrap();
            drop(child);
            // Not killed: still running, waiting for its input.
            assert!(
                matches!(state(pid), Some(s) if s != 'Z'),
                "{:?}",
                state(pid)
            );
            drop(stdin);
            collected_by_later_spawns(pid).await;
        });
    }
}

#[test]
fn outside_a_runtime_spawn_fails_and_leaves_no_child() {
    // An argument no other test uses, to find the child by.
    let e = Command::new("sleep").arg("1001").spawn().unwrap_err();
    assert!(e.to_string().contains("runtime"), "{e}");
    // The child std spawned was killed and collected before the error returned.
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        // Other tests' runtime threads come and go meanwhile: one that exited after the
        // listing has no `children` file any more, and no children either.
        let Ok(children) = std::fs::read_to_string(task.unwrap().path().join("children")) else {
            continue;
        };
        for pid in children.split_whitespace() {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert_ne!(cmdline, b"sleep\x001001\x00", "child {pid} left behind");
        }
    }
}

#[test]
fn without_pidfd_exits_are_seen_through_sigchld() {
    support::run_ignored_in_child("child_without_pidfd", (NO_PIDFD, "1"));
}

#[test]
#[ignore = "run by the test above, in a child process whose pidfd_open fails"]
fn child_without_pidfd() {
    assert!(
        std::env::var_os(NO_PIDFD).is_some(),
        "run by the test above"
    );
    no_io_uring::deny_syscalls(&[libc::SYS_pidfd_open], no_io_uring::Denial::Enosys).unwrap();
    // SAFETY: no pointers.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    let seen = io::Error::last_os_error().raw_os_error();
    assert_eq!(
        (r, seen),
        (-1, Some(libc::ENOSYS)),
        "the filter is not in force"
    );
    exit_statuses_output_and_errors();
    change_of_runtime();
    for rt in flavors() {
        rt.block_on(async {
            // Several children waited on at once: each SIGCHLD wakes all, each checks.
            let waits: Vec<_> = (0..8)
                .map(|k| {
                    zokio::spawn(async move {
                        Command::new("sh")
                            .args(["-c", &format!("exit {k}")])
                            .status()
                            .await
                            .unwrap()
                            .code()
                    })
                })
                .collect();
            for (k, w) in waits.into_iter().enumerate() {
                assert_eq!(w.await.unwrap(), Some(k as i32));
            }
        });
    }
}

#[test]
fn a_child_spawned_on_a_runtime_that_shut_down_is_waited_for_on_another() {
    change_of_runtime();
}

fn change_of_runtime() {
    for (first, second) in flavors().into_iter().zip(flavors().into_iter().rev()) {
        // Alive until `wait` closes its stdin, so `wait` has to watch for the exit.
        let mut child = first.block_on(async {
            Command::new("sh")
                .args(["-c", "read line; exit 5"])
                .stdin(Stdio::piped())
                .spawn()
                .unwrap()
        });
        drop(first);
        let status = second.block_on(child.wait()).unwrap();
        assert_eq!(status.code(), Some(5));
    }
}
