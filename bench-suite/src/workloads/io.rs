//! I/O through each runtime's own driver and file API, on 127.0.0.1 and a temporary file:
//! TCP echo throughput and round-trip latency, and small file reads.
//!
//! Client and server run on the same runtime, in the same process: the figure is what one
//! runtime does with both ends of each connection. (The load generator of the stress work
//! drives servers from threads of its own.)

use crate::rt::{AsyncFile, AsyncTcpListener, AsyncTcpStream, Runtime};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// Bytes per echo request and response.
pub const ECHO_BYTES: usize = 64;

/// Starts an echo server task for `conns` connections: each is served until its client
/// closes. Returns the address.
async fn echo_server<R: Runtime>(conns: usize) -> SocketAddr {
    let listener = R::TcpListener::bind("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    drop(R::spawn_local(async move {
        for _ in 0..conns {
            let mut stream = listener.accept().await.expect("accept");
            drop(R::spawn_local(async move {
                let mut buf = [0u8; 4096];
                loop {
                    let n = stream.read(&mut buf).await.expect("server read");
                    if n == 0 {
                        return;
                    }
                    stream.write_all(&buf[..n]).await.expect("server write");
                }
            }));
        }
    }));
    addr
}

/// One client: `rounds` request/response exchanges of [`ECHO_BYTES`], each checked, calling
/// `record(round trip)` after each.
async fn echo_client<S: AsyncTcpStream>(
    addr: SocketAddr,
    rounds: usize,
    mut record: impl FnMut(std::time::Duration),
) {
    let mut stream = S::connect(addr).await.expect("connect");
    let mut req = [0u8; ECHO_BYTES];
    let mut resp = [0u8; ECHO_BYTES];
    for r in 0..rounds {
        req.fill(r as u8);
        let start = Instant::now();
        stream.write_all(&req).await.expect("client write");
        let mut got = 0;
        while got < ECHO_BYTES {
            let n = stream.read(&mut resp[got..]).await.expect("client read");
            assert!(n > 0, "server closed early");
            got += n;
        }
        record(start.elapsed());
        assert_eq!(resp, req, "echo corrupted");
    }
}

/// `conns` connections each do `rounds` echo round trips at once. Ops: round trips.
pub fn tcp_echo<R: Runtime>(rt: &R, conns: usize, rounds: usize) -> u64 {
    rt.block_on(rt.spawn(async move {
        let addr = echo_server::<R>(conns).await;
        let clients: Vec<_> = (0..conns)
            .map(|_| R::spawn_local(echo_client::<R::TcpStream>(addr, rounds, |_| {})))
            .collect();
        for c in clients {
            c.await;
        }
        (conns * rounds) as u64
    }))
}

/// As [`tcp_echo`], recording every round trip's latency (ns) into one histogram: `n`
/// round trips over `conns` connections.
pub fn tcp_echo_latency<R: Runtime>(rt: &R, conns: usize, n: usize) -> Histogram<u64> {
    let rounds = n.div_ceil(conns);
    rt.block_on(rt.spawn(async move {
        let addr = echo_server::<R>(conns).await;
        let clients: Vec<_> = (0..conns)
            .map(|_| {
                R::spawn_local(async move {
                    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)
                        .expect("valid bounds");
                    echo_client::<R::TcpStream>(addr, rounds, |d| {
                        hist.saturating_record(d.as_nanos() as u64);
                    })
                    .await;
                    hist
                })
            })
            .collect();
        let mut all =
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
        for c in clients {
            all.add(c.await).expect("same bounds");
        }
        all
    }))
}

/// A temporary file of `len` bytes, removed on drop.
#[derive(Debug)]
pub struct TempFile {
    /// Its path.
    pub path: PathBuf,
}

impl TempFile {
    /// Creates it in the system temporary directory.
    ///
    /// # Panics
    /// If the file cannot be written (a broken machine, not a benchmark result).
    pub fn new(len: usize) -> TempFile {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "zbench-io-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::write(&path, vec![0xa5u8; len]).expect("write temporary file");
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `tasks` tasks read `bytes` at offset 0 of `file`, `total / tasks` times each, through
/// the runtime's file API. Ops: reads (each checked for length).
pub fn file_reads<R: Runtime>(
    rt: &R,
    file: &TempFile,
    tasks: usize,
    total: usize,
    bytes: usize,
) -> u64 {
    let path = file.path.clone();
    let per = total / tasks;
    rt.block_on(rt.spawn(async move {
        let f = std::sync::Arc::new(R::File::open(path).await.expect("open"));
        let readers: Vec<_> = (0..tasks)
            .map(|_| {
                let f = f.clone();
                R::spawn_local(async move {
                    let mut buf = Vec::with_capacity(bytes);
                    for _ in 0..per {
                        buf.clear();
                        let (r, b) = f.read_at(buf, 0).await;
                        buf = b;
                        assert_eq!(r.expect("read"), bytes, "short read");
                    }
                })
            })
            .collect();
        for r in readers {
            r.await;
        }
        (per * tasks) as u64
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn echo_and_reads_complete_on_both() {
        assert_eq!(tcp_echo(&Zokio::multi_thread(2), 8, 20), 160);
        assert_eq!(tcp_echo(&Tokio::multi_thread(2), 8, 20), 160);
        assert_eq!(tcp_echo_latency(&Zokio::multi_thread(2), 4, 40).len(), 40);
        assert_eq!(tcp_echo_latency(&Tokio::multi_thread(2), 4, 40).len(), 40);
        let f = TempFile::new(4096);
        assert_eq!(file_reads(&Zokio::multi_thread(2), &f, 4, 100, 4096), 100);
        assert_eq!(file_reads(&Tokio::multi_thread(2), &f, 4, 100, 4096), 100);
    }
}
