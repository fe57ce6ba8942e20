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
