//! Injected faults (feature `fault-injection`, see `zokio::fault`): spurious readiness and
//! storms of it, `EINTR`, short reads and writes, on both drivers and both scheduler
//! flavors, and real connection resets mid-write; short file reads and writes on io_uring.
//!
//! The property: random-sized writes of a seeded byte stream through echo servers (several
//! read and write APIs on each side) come back with no byte lost, duplicated or reordered;
//! afterwards no task is alive and no descriptor is left open. Volume: `ZOKIO_FAULT_MIB`
//! per driver (default 1,024 MiB, split over the two flavors and 16 connections each).
//!
//! Run with `cargo test -p zokio --release --features fault-injection --test faults`.

#![cfg(not(loom))]

use std::io;
use std::sync::Mutex;
use zokio::fault::{self, Plan};
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{TcpListener, TcpStream};
use zokio::runtime::Runtime;

mod support;

/// The tests share the process-wide plan and the descriptor count: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const CONNECTIONS: usize = 16;
/// Largest single write, bytes.
const MAX_WRITE: usize = 64 * 1024;

/// The rates of the echo test: one wait in two woken spuriously (one in fifty of those a
/// storm), one operation in twenty interrupted, three transfers in ten short.
const PLAN: Plan = Plan {
    spurious_readiness: 500_000,
    storm: 20_000,
    interrupted: 50_000,
    short_transfer: 300_000,
};

/// [`PLAN`], or the rates in `ZOKIO_FAULT_PLAN` ("spurious,storm,interrupted,short", parts
/// per million), to look at one fault alone.
fn plan() -> Plan {
    let Ok(v) = std::env::var("ZOKIO_FAULT_PLAN") else {
        return PLAN;
    };
    let r: Vec<u32> = v.split(',').map(|x| x.trim().parse().unwrap()).collect();
    assert_eq!(r.len(), 4, "ZOKIO_FAULT_PLAN: four rates, got {v:?}");
    Plan {
        spurious_readiness: r[0],
        storm: r[1],
        interrupted: r[2],
        short_transfer: r[3],
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn mib_per_driver() -> usize {
    std::env::var("ZOKIO_FAULT_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Waits until the runtime has released every task: at once, or after the worker that
/// completed the last task took it off the runtime's list (it wakes the `JoinHandle`
/// first, as Tokio's does). Bounded: 5 s.
async fn no_task_alive(rt_metrics: zokio::runtime::RuntimeMetrics) {
    for _ in 0..5_000 {
        if rt_metrics.num_alive_tasks() == 0 {
            return;
        }
        zokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("{} tasks still alive", rt_metrics.num_alive_tasks());
}

/// Fills `buf` with connection `k`'s bytes from stream offset `at` on: each byte depends
/// only on `k` and its offset, so any chunking of the stream yields the same bytes.
fn stream_bytes(k: usize, at: usize, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let pos = (at + i) as u64;
        // splitmix64's finaliser over (connection, word index), one byte of the word.
        let mut z = (pos / 8) ^ ((k as u64) << 48) ^ 0x9e37_79b9_7f4a_7c15;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        *b = (z >> (8 * (pos % 8))) as u8;
    }
}

/// Connection `k`'s stream of writes: random sizes over [`stream_bytes`].
struct Stream {
    k: usize,
    sizes: fastrand::Rng,
    at: usize,
    len: usize,
}

impl Stream {
    fn new(k: usize, len: usize) -> Stream {
        Stream {
            k,
            sizes: fastrand::Rng::with_seed(0x5eed_0000 + k as u64),
            at: 0,
            len,
        }
    }

    /// The next chunk to write (1 to 64 KiB, or what is left), or `None` at the end.
    fn next_chunk(&mut self) -> Option<Vec<u8>> {
        if self.at == self.len {
            return None;
        }
        let n = self.sizes.usize(1..=MAX_WRITE).min(self.len - self.at);
        let mut chunk = vec![0; n];
        stream_bytes(self.k, self.at, &mut chunk);
        self.at += n;
        Some(chunk)
    }
}

/// Checks received bytes against the stream, in order.
struct Check {
    k: usize,
    seen: usize,
    expected: Vec<u8>,
}

impl Check {
    fn new(k: usize) -> Check {
        Check {
            k,
            seen: 0,
            expected: Vec::new(),
        }
    }

    fn take(&mut self, got: &[u8]) {
        self.expected.resize(got.len(), 0);
        stream_bytes(self.k, self.seen, &mut self.expected);
        if let Some(i) = (0..got.len()).find(|&i| got[i] != self.expected[i]) {
            panic!(
                "connection {}: byte {} is {:#04x}, expected {:#04x}",
                self.k,
                self.seen + i,
                got[i],
                self.expected[i]
            );
        }
        self.seen += got.len();
    }
}

/// Echoes everything back, then closes its write side; `k` picks the API.
async fn echo(mut s: TcpStream, k: usize) -> io::Result<()> {
    match k % 3 {
        0 => {
            let (mut rd, mut wr) = s.split();
            zokio::io::copy(&mut rd, &mut wr).await?;
            wr.shutdown().await?;
        }
        1 => {
            let mut buf = vec![0; 16 * 1024];
            loop {
                let n = s.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await?;
            }
            s.shutdown().await?;
        }
        _ => {
            let mut buf = Vec::with_capacity(48 * 1024);
            loop {
                buf.clear();
                let (r, b) = s.read_owned(buf).await;
                if r? == 0 {
                    break;
                }
                let (r, b) = s.write_all_owned(b).await;
                r?;
                buf = b;
            }
            s.shutdown().await?;
        }
    }
    Ok(())
}

/// Writes connection `k`'s stream of `len` bytes and checks what comes back.
async fn client(addr: std::net::SocketAddr, k: usize, len: usize) -> usize {
    let s = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connection {k}: connect: {e}"));
    let (mut rd, mut wr) = s.into_split();
    let writer = zokio::spawn(async move {
        let mut stream = Stream::new(k, len);
        while let Some(chunk) = stream.next_chunk() {
            if k.is_multiple_of(2) {
                wr.write_all(&chunk).await
            } else {
                // Two slices, as a framed protocol writes header and body.
                let (a, b) = chunk.split_at(chunk.len() / 2);
                let mut bufs = [io::IoSlice::new(a), io::IoSlice::new(b)];
                let mut bufs = &mut bufs[..];
                let mut r = Ok(());
                while !bufs.is_empty() {
                    match wr.write_vectored(bufs).await {
                        Ok(0) => r = Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => io::IoSlice::advance_slices(&mut bufs, n),
                        Err(e) => r = Err(e),
                    }
                    if r.is_err() {
                        break;
                    }
                }
                r
            }
            .unwrap_or_else(|e| panic!("connection {k}: write: {e}"));
        }
        wr.shutdown()
            .await
            .unwrap_or_else(|e| panic!("connection {k}: shutdown: {e}"));
    });
    let mut check = Check::new(k);
    let mut buf = vec![0; 40 * 1024];
    let mut sizes = fastrand::Rng::with_seed(k as u64);
    loop {
        let want = sizes.usize(1..=buf.len());
        let n = if k % 4 < 2 {
            rd.read(&mut buf[..want]).await
        } else {
            let mut b = bytes::BytesMut::with_capacity(want);
            let r = rd.read_buf(&mut b).await;
            buf[..b.len()].copy_from_slice(&b);
            r
        }
        .unwrap_or_else(|e| panic!("connection {k}: read after {}: {e}", check.seen));
        if n == 0 {
            break;
        }
        check.take(&buf[..n]);
    }
    writer.await.unwrap();
    assert_eq!(check.seen, len, "connection {k}: end of stream early");
    check.seen
}

/// `CONNECTIONS` clients through echo servers on `rt`, `total` bytes in all.
fn echo_through(rt: &Runtime, total: usize) {
    let per = total / CONNECTIONS;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = zokio::spawn(async move {
            let mut handlers = Vec::new();
            for k in 0..CONNECTIONS {
                let (s, _) = listener.accept().await.expect("accept");
                handlers.push(zokio::spawn(echo(s, k)));
            }
            for h in handlers {
                h.await.unwrap().expect("echo");
            }
        });
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|k| zokio::spawn(client(addr, k, per)))
            .collect();
        let mut echoed = 0;
        for c in clients {
            echoed += c.await.unwrap();
        }
        server.await.unwrap();
        assert_eq!(echoed, per * CONNECTIONS);
        no_task_alive(zokio::runtime::Handle::current().metrics()).await;
    });
}

#[test]
fn echo_streams_survive_injected_faults_on_every_driver_and_flavor() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let total = mib_per_driver() << 20;
    let fds = open_fds();
    fault::reset_counts();
    fault::set_plan(plan());
    for rt in support::flavors() {
        echo_through(&rt, total / 2);
    }
    fault::set_plan(Plan::default());
    let injected = fault::counts();
    eprintln!(
        "{} MiB per driver through echo servers; injected: {injected:?}",
        total >> 20
    );
    // Each kind in the plan really happened, so the property above was tested under it.
    let p = plan();
    assert!(
        injected.spurious_readiness > 0 || p.spurious_readiness == 0,
        "{injected:?}"
    );
    assert!(
        injected.interrupted > 0 || p.interrupted == 0,
        "{injected:?}"
    );
    assert!(
        injected.short_transfer > 0 || p.short_transfer == 0,
        "{injected:?}"
    );
    assert_eq!(open_fds(), fds, "descriptors left open");
}

#[test]
fn a_reset_mid_write_fails_the_writer_and_leaks_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fds = open_fds();
    fault::set_plan(plan());
    for rt in support::flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let peer = zokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                // Take part of the stream, then reset the connection (RST, not FIN).
                let mut buf = vec![0; 256 * 1024];
                let mut got = 0;
                while got < buf.len() {
                    got += s.read(&mut buf[got..]).await.unwrap();
                }
                s.set_linger(Some(std::time::Duration::ZERO)).unwrap();
            });
            let mut s = TcpStream::connect(addr).await.unwrap();
            // Far more than the socket buffers hold: the reset comes mid-write.
            let data = vec![7u8; 64 << 20];
            let err = s.write_all(&data).await.unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
                "{err:?}"
            );
            peer.await.unwrap();
            // The reading side sees the reset too, and does not wait for more.
            let mut buf = [0; 64];
            match s.read(&mut buf).await {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
                r => panic!("read after reset: {r:?}"),
            }
            drop(s);
            no_task_alive(zokio::runtime::Handle::current().metrics()).await;
        });
    }
    fault::set_plan(Plan::default());
    assert_eq!(open_fds(), fds, "descriptors left open");
}

#[test]
fn connect_waits_out_spurious_writability() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for rt in support::flavors() {
        // An accept queue of one, filled: the next SYN is dropped, and the handshake
        // completes only when the kernel sends it again (after about 1 s).
        let listener =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        listener
            .bind(
                &"127.0.0.1:0"
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
                    .into(),
            )
            .unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        let queued = std::net::TcpStream::connect(addr).unwrap();
        rt.block_on(async {
            fault::reset_counts();
            // Every wait woken spuriously while the handshake is pending: writable, yet
            // not connected.
            fault::set_plan(Plan {
                spurious_readiness: 1_000_000,
                ..Plan::default()
            });
            let connect = zokio::spawn(TcpStream::connect(addr));
            while fault::counts().spurious_readiness < 3 && !connect.is_finished() {
                zokio::task::yield_now().await;
            }
            fault::set_plan(Plan::default());
            // Room in the queue for the SYN sent again.
            let (first, _) = listener.accept().unwrap();
            let s = connect.await.unwrap().expect("connect");
            assert_eq!(s.peer_addr().unwrap(), addr);
            let (mut second, _) = listener.accept().unwrap();
            s.try_write(b"x").unwrap();
            let mut byte = [0u8; 1];
            std::io::Read::read_exact(&mut second, &mut byte).unwrap();
            assert_eq!(&byte, b"x");
            drop((first, second));
        });
        drop(queued);
    }
}

/// Files through io_uring's `READ`/`WRITE` with short transfers (and the rest of the
/// plan): `fs::write`, `File::write_all_at` and `fs::read`, and the `AsyncRead` of
/// `File`, must loop until every byte is through. 64 files of 1 byte to 1 MiB per runtime.
#[test]
fn files_survive_short_reads_and_writes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let fds = open_fds();
    fault::reset_counts();
    fault::set_plan(plan());
    for (r, rt) in support::flavors().into_iter().enumerate() {
        let dir = dir.path().to_owned();
        rt.block_on(async move {
            let mut sizes = fastrand::Rng::with_seed(r as u64);
            for k in 0..64 {
                let len = sizes.usize(1..=1 << 20);
                let mut data = vec![0; len];
                stream_bytes(k, 0, &mut data);
                let path = dir.join(format!("{r}-{k}"));
                if k % 2 == 0 {
                    zokio::fs::write(&path, &data).await.unwrap();
                } else {
                    let f = zokio::fs::File::create(&path).await.unwrap();
                    let (res, _) = f.write_all_at(data.clone(), 0).await;
                    res.unwrap();
                }
                let back = if k % 3 == 0 {
                    let mut f = zokio::fs::File::open(&path).await.unwrap();
                    let mut v = Vec::new();
                    f.read_to_end(&mut v).await.unwrap();
                    v
                } else {
                    zokio::fs::read(&path).await.unwrap()
                };
                assert!(back == data, "file {r}-{k}: {} of {len} bytes", back.len());
            }
        });
    }
    fault::set_plan(Plan::default());
    let injected = fault::counts();
    eprintln!("files: injected {injected:?}");
    assert!(
        injected.short_transfer > 0 || plan().short_transfer == 0,
        "{injected:?}"
    );
    assert_eq!(open_fds(), fds, "descriptors left open");
}
