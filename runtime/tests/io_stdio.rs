//! `io::stdout` / `io::stderr`: Tokio's `AsyncWrite` over the blocking pool. The test runs
//! itself as a child process (so that it can read what was written), once per scheduler
//! flavor and driver, and checks the bytes arrive in order, including a partial line that
//! only `flush` pushes out.

#![cfg(not(loom))]

use zokio::io::AsyncWriteExt;

mod support;

const CHILD: &str = "ZOKIO_STDIO_CHILD";

#[test]
fn stdout_and_stderr_write_in_order_through_the_blocking_pool() {
    if let Ok(k) = std::env::var(CHILD) {
        let k: usize = k.parse().unwrap();
        let rt = support::flavors().swap_remove(k);
        rt.block_on(async {
            let mut out = zokio::io::stdout();
            let mut err = zokio::io::stderr();
            for i in 0..100 {
                out.write_all(format!("line {i}\n").as_bytes())
                    .await
                    .unwrap();
            }
            out.write_all(b"no newline").await.unwrap();
            out.flush().await.unwrap();
            err.write_all(b"to stderr\n").await.unwrap();
            err.shutdown().await.unwrap();
        });
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for k in 0..support::flavors().len() {
        let output = std::process::Command::new(&exe)
            .args([
                "--exact",
                "stdout_and_stderr_write_in_order_through_the_blocking_pool",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, k.to_string())
            .output()
            .unwrap();
        assert!(output.status.success(), "child {k} failed: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert!(
            stdout.contains(&format!("{expected}no newline")),
            "flavor {k}: {stdout}"
        );
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("to stderr\n"), "flavor {k}: {stderr}");
    }
}

const STDIN_CHILD: &str = "ZOKIO_STDIN_CHILD";

/// Half a megabyte piped into the child's stdin comes back, in order, through
/// `io::stdin` read in small and large pieces.
#[test]
fn stdin_reads_what_was_piped_in() {
    use std::io::Write;
    use zokio::io::AsyncReadExt;
    if let Ok(k) = std::env::var(STDIN_CHILD) {
        let k: usize = k.parse().unwrap();
        let rt = support::flavors().swap_remove(k);
        let got = rt.block_on(async {
            let mut stdin = zokio::io::stdin();
            let mut first = [0u8; 7];
            stdin.read_exact(&mut first).await.unwrap();
            let mut rest = Vec::new();
            stdin.read_to_end(&mut rest).await.unwrap();
            // At the end, reads keep returning 0.
            assert_eq!(stdin.read(&mut [0u8; 4]).await.unwrap(), 0);
            [&first[..], &rest].concat()
        });
        std::io::stdout()
            .write_all(format!("got {} bytes, sum {}\n", got.len(), sum(&got)).as_bytes())
            .unwrap();
        return;
    }
    let data: Vec<u8> = (0..512 * 1024u32).map(|i| (i % 253) as u8).collect();
    let exe = std::env::current_exe().unwrap();
    for k in 0..support::flavors().len() {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "stdin_reads_what_was_piped_in",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(STDIN_CHILD, k.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let feed = data.clone();
        let writer = std::thread::spawn(move || input.write_all(&feed).unwrap());
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(output.status.success(), "child {k} failed: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let expected = format!("got {} bytes, sum {}\n", data.len(), sum(&data));
        assert!(stdout.contains(&expected), "flavor {k}: {stdout}");
    }
}

/// An order-sensitive checksum.
fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// After the runtime shut down, a write to stdout or stderr fails at once with the
/// runtime's shutdown error (`runtime::is_rt_shutdown_err`), as Tokio's.
#[test]
fn writes_after_shutdown_fail_with_the_shutdown_error() {
    use zokio::runtime::is_rt_shutdown_err;
    for rt in support::flavors() {
        let handle = rt.handle().clone();
        rt.shutdown_timeout(std::time::Duration::from_secs(10));
        let e = handle
            .block_on(async { zokio::io::stdout().write_all(b"x").await })
            .unwrap_err();
        assert!(is_rt_shutdown_err(&e), "{e}");
        let e = handle
            .block_on(async { zokio::io::stderr().write_all(b"x").await })
            .unwrap_err();
        assert!(is_rt_shutdown_err(&e), "{e}");
    }
}
