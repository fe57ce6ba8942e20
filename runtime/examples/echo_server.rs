//! A TCP echo server on zokio: every connection gets back what it sends.
//!
//! ```sh
//! cargo run --release -p zokio --example echo_server -- 127.0.0.1:7000
//! ```
//!
//! Listens on the address given (default `127.0.0.1:7000`) until the process is stopped.
//! Each connection is served by its own task, reading into an owned buffer and writing
//! it back with `write_all`.
//!
//! An accept can fail without anything being wrong with the listener. Out of file
//! descriptors (`EMFILE` for the process, `ENFILE` for the system), the connection stays
//! in the listener's backlog and the listener stays readable, so retrying at once would
//! spin a core on the same error and returning would end the server: the loop waits
//! 50 ms for connections to close and tries again (`tests/net_emfile.rs` checks this
//! pattern on both drivers). A connection that failed before it was accepted
//! (`ECONNABORTED`) is skipped.

use std::time::Duration;
use zokio::net::TcpListener;

#[zokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("echo server listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                eprintln!("accept: {e}; waiting for descriptors to free up");
                zokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
            Err(e) => return Err(e),
        };
        if let Err(e) = stream.set_nodelay(true) {
            // The peer may be gone already: that connection, not the server, ends.
            eprintln!("{peer}: set_nodelay: {e}");
            continue;
        }
        zokio::spawn(async move {
            let mut buf = Vec::with_capacity(16 * 1024);
            loop {
                buf.clear();
                let (read, b) = stream.read_owned(buf).await;
                buf = b;
                match read {
                    Ok(0) => return,
                    Ok(_) => {
                        let (written, b) = stream.write_all_owned(buf).await;
                        buf = b;
                        if let Err(e) = written {
                            eprintln!("{peer}: write failed: {e}");
                            return;
                        }
                    }
                    Err(e) => {
                        eprintln!("{peer}: read failed: {e}");
                        return;
                    }
                }
            }
        });
    }
}
