//! TCP on both I/O drivers and both scheduler flavors, over 127.0.0.1 only. No timing
//! assertions: every wait is for an event the test itself causes.

#![cfg(not(loom))]

use futures::{AsyncReadExt, AsyncWriteExt};
use std::io;
use std::net::{Shutdown, SocketAddr};
use zokio::net::{TcpListener, TcpStream};

mod support;
use support::flavors;

/// A listener on a free loopback port and an echo server task serving every connection
/// until its peer closes; returns the address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    zokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            zokio::spawn(async move {
                let mut buf = Vec::with_capacity(64 * 1024);
                loop {
                    buf.clear();
                    let (r, b) = stream.read_owned(buf).await;
                    buf = b;
                    match r {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            let (w, b) = stream.write_all_owned(buf).await;
                            buf = b;
                            if w.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Deterministic content so a reordered or corrupted byte is caught.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

/// Writes `data` from one task while reading it back in this one.
async fn round_trip(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (rd, wr) = stream.into_split();
    let len = data.len();
    let writer = zokio::spawn(async move {
        let (r, _) = wr.write_all_owned(data).await;
        r.unwrap();
        // Dropping the write half sends FIN.
    });
    let mut got = Vec::with_capacity(len);
    let mut buf = Vec::with_capacity(64 * 1024);
    while got.len() < len {
        buf.clear();
        let (r, b) = rd.read_owned(buf).await;
        buf = b;
        let n = r.unwrap();
        assert!(
            n > 0,
            "early end of stream after {} of {len} bytes",
            got.len()
        );
        got.extend_from_slice(&buf[..n]);
    }
    writer.await.unwrap();
    // The server closes after our FIN: end of stream.
    buf.clear();
    let (r, _) = rd.read_owned(buf).await;
    assert_eq!(r.unwrap(), 0);
    got
}

#[test]
fn echo_round_trips_from_one_byte_to_16_mib() {
    for rt in flavors() {
        rt.block_on(async {
            let addr = echo_server().await;
            for len in [1, 1000, 64 * 1024, 1 << 20, 16 << 20] {
                let data = pattern(len);
                let got = round_trip(addr, data.clone()).await;
                assert!(got == data, "{len} bytes came back different");
            }
        });
    }
}

#[test]
fn many_concurrent_connections() {
    for rt in flavors() {
        rt.block_on(async {
            let addr = echo_server().await;
            let clients: Vec<_> = (0..1000)
                .map(|i| {
                    zokio::spawn(async move {
                        let data = pattern(64 + i % 7);
                        assert!(round_trip(addr, data.clone()).await == data);
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
        });
    }
}

#[test]
fn half_close_reads_end_of_stream_and_can_still_write() {
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = zokio::spawn(async move {
                let (mut s, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, s.peer_addr().unwrap());
                let mut all = Vec::new();
                s.read_to_end(&mut all).await.unwrap();
                // The client shut down its write half; ours still works.
                // Through futures' AsyncWriteExt (the inherent write_all takes a Vec).
                AsyncWriteExt::write_all(&mut s, &all).await.unwrap();
                s.close().await.unwrap();
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            AsyncWriteExt::write_all(&mut c, b"hello").await.unwrap();
            c.shutdown_std(Shutdown::Write).unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, b"hello");
            server.await.unwrap();
        });
    }
}

/// A port with a socket bound to it but not listening: the kernel refuses connections to
/// it, and, the socket being kept, no other test can take the port meanwhile (with a
/// dropped listener's port, a parallel test's listener could, and reset the connection).
#[test]
fn refused_connection_is_connection_refused() {
    for rt in flavors() {
        rt.block_on(async {
            let holder = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )
            .unwrap();
            let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
            holder.bind(&any_port.into()).unwrap();
            let addr = holder.local_addr().unwrap().as_socket().unwrap();
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
            drop(holder);
        });
    }
}

/// Deterministic: the read is polled once (pending: no data yet) before the peer resets,
/// then completes with `ConnectionReset`.
#[test]
fn peer_reset_mid_read_is_connection_reset() {
    use std::future::Future;
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server_side, _) = listener.accept().await.unwrap();
            let mut read = Box::pin(client.read_owned(Vec::with_capacity(16)));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(read.as_mut().poll(&mut cx).is_pending(), "no data yet");
            // SO_LINGER 0: close sends RST instead of FIN.
            socket2::SockRef::from(&server_side)
                .set_linger(Some(std::time::Duration::ZERO))
                .unwrap();
            drop(server_side);
            let (r, _) = read.await;
            let err = r.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        });
    }
}

#[test]
fn io_outside_a_runtime_is_an_error() {
    let err = futures::executor::block_on(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("inside a zokio runtime"), "{err}");
}

#[test]
fn udp_round_trips_connected_and_not() {
    use zokio::net::UdpSocket;
    for rt in flavors() {
        rt.block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            let echo = zokio::spawn(async move {
                let mut buf = [0u8; 2048];
                for _ in 0..2 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    assert_eq!(server.send_to(&buf[..n], from).await.unwrap(), n);
                }
            });
            // Unconnected: send_to / recv_from.
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.send_to(b"ping", server_addr).await.unwrap();
            let mut buf = [0u8; 64];
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"ping"[..], server_addr));
            // Connected: send / recv.
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            b.connect(server_addr).await.unwrap();
            assert_eq!(b.peer_addr().unwrap(), server_addr);
            let big = pattern(1400);
            b.send(&big).await.unwrap();
            let mut back = vec![0u8; 2048];
            let n = b.recv(&mut back).await.unwrap();
            assert!(back[..n] == big[..]);
            echo.await.unwrap();
            // A datagram to a closed port: the ICMP error surfaces on the connected socket.
            let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let closed_addr = closed.local_addr().unwrap();
            drop(closed);
            b.connect(closed_addr).await.unwrap();
            b.send(b"anyone?").await.unwrap();
            let err = b.recv(&mut back).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        });
    }
}

#[test]
fn send_file_moves_a_file_to_a_socket_without_copies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("payload");
    let data = pattern(3 << 20);
    std::fs::write(&path, &data).unwrap();
    for rt in flavors() {
        let path = path.clone();
        let expect = data.clone();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = zokio::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                let f = zokio::fs::File::open(&path).await.unwrap();
                // A slice from the middle, then the rest from a std file.
                s.send_file_all(&f, 1000, 5000).await.unwrap();
                let std_file = std::fs::File::open(&path).unwrap();
                s.send_file_all(&std_file, 6000, (3 << 20) - 6000)
                    .await
                    .unwrap();
                // Past the end: 0, or UnexpectedEof for send_file_all.
                assert_eq!(s.send_file(&f, 3 << 20, 10).await.unwrap(), 0);
                let err = s.send_file_all(&f, 3 << 20, 10).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            });
            let mut c = TcpStream::connect(addr).await.unwrap();
            let mut got = Vec::new();
            c.read_to_end(&mut got).await.unwrap();
            server.await.unwrap();
            assert_eq!(got.len(), (3 << 20) - 1000);
            assert!(got == expect[1000..], "bytes differ");
        });
    }
}

/// Every socket is registered with exactly one worker's poller, accepted ones included
/// (which go to the worker last seen on the CPU their packets arrive on): the per-worker
/// counts add up to the sockets open, and fall back to zero when they close.
#[test]
fn every_socket_counted_on_one_worker() {
    for driver in [
        zokio::runtime::IoDriver::Auto,
        zokio::runtime::IoDriver::Epoll,
    ] {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .io_driver(driver)
            .build()
            .unwrap();
        let live = |rt: &zokio::runtime::Runtime| {
            let m = rt.metrics();
            (0..m.num_workers())
                .map(|w| m.worker_io_live_count(w))
                .sum::<usize>()
        };
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut pairs = Vec::new();
            for _ in 0..16 {
                let client = zokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
                let (server, _) = listener.accept().await.unwrap();
                pairs.push((client.await.unwrap(), server));
            }
            // Echo one byte each way on every pair: the placement works for I/O.
            for (client, server) in &pairs {
                let (r, _) = client.write_all_owned(vec![7u8]).await;
                r.unwrap();
                let (r, buf) = server.read_owned(Vec::with_capacity(1)).await;
                assert_eq!((r.unwrap(), buf.as_slice()), (1, &[7u8][..]));
            }
            let m = zokio::runtime::Handle::current().metrics();
            let now: usize = (0..m.num_workers())
                .map(|w| m.worker_io_live_count(w))
                .sum();
            assert_eq!(
                now,
                1 + 2 * pairs.len(),
                "listener + both ends of each pair"
            );
            drop(pairs);
            drop(listener);
        });
        assert_eq!(live(&rt), 0, "every registration released");
    }
}

/// A socket registered by a thread that does not park on its poller (here the `block_on`
/// caller), while that poller's worker sleeps in its backend with a socket of its own,
/// gets its events: the connect and the read below complete. (A registration queued for
/// the sleeping worker without waking it hung here; the sibling-worker path that does
/// queue is tested in `driver/io/mod.rs`.)
#[test]
fn a_socket_registered_off_its_worker_gets_events_while_the_worker_sleeps() {
    use std::io::Write;
    for driver in support::drivers() {
        let rt = zokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .io_driver(driver)
            .build()
            .unwrap();
        let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = peer.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = peer.accept().unwrap();
            s.write_all(b"hi").unwrap();
            s
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let got = rt.block_on(async {
                // Registered by the worker itself: it now parks in its backend, not on its
                // condition variable (the sleep lets it get there; if it has not, the
                // test passes without covering the case).
                let own = zokio::spawn(async { TcpListener::bind("127.0.0.1:0").await.unwrap() })
                    .await
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(50));
                let stream = TcpStream::connect(addr).await.unwrap();
                let (r, buf) = stream.read_owned(Vec::with_capacity(2)).await;
                r.unwrap();
                drop(own);
                buf
            });
            let _ = tx.send(got);
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{driver:?}: the connect or read never completed"));
        assert_eq!(got, b"hi");
        drop(server.join().unwrap());
    }
}

/// A worker of one runtime that registers a socket in another runtime's context is an
/// outside thread to that runtime. It used to be taken for that runtime's worker of the
/// same index, and on io_uring its poll was queued for that worker, which here sleeps in
/// its ring with a socket of its own and would never submit it: the read never completed.
#[test]
fn a_socket_registered_by_another_runtimes_worker_gets_its_events() {
    use std::io::Write;
    for driver in support::drivers() {
        let build = || {
            zokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .io_driver(driver)
                .build()
                .unwrap()
        };
        let (rt1, rt2) = (build(), build());
        // rt2's worker registers a socket of its own and then sleeps in its backend.
        let own = rt2
            .block_on(rt2.spawn(async { TcpListener::bind("127.0.0.1:0").await.unwrap() }))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = peer.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = peer.accept().unwrap();
            s.write_all(b"hi").unwrap();
            s
        });
        let h2 = rt2.handle().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let got = rt1.block_on(rt1.spawn(async move {
                let std_stream = std::net::TcpStream::connect(addr).unwrap();
                std_stream.set_nonblocking(true).unwrap();
                // Registered by rt1's worker, with rt2's driver.
                let stream = {
                    let _rt2 = h2.enter();
                    TcpStream::from_std(std_stream).unwrap()
                };
                let (r, buf) = stream.read_owned(Vec::with_capacity(2)).await;
                r.unwrap();
                buf
            }));
            let _ = tx.send(got.unwrap());
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{driver:?}: the read never completed"));
        assert_eq!(got, b"hi");
        drop(server.join().unwrap());
        drop(own);
    }
}

#[test]
fn an_owned_read_appends_what_arrives_after_what_the_buffer_held() {
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = zokio::spawn(async move {
                let c = TcpStream::connect(addr).await.unwrap();
                let (r, _) = c.write_all_owned(b"xyz".to_vec()).await;
                r.unwrap();
                c
            });
            let (s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::with_capacity(64 * 1024);
            buf.extend_from_slice(b"ab");
            let mut got = 0;
            while got < 3 {
                let (r, b) = s.read_owned(buf).await;
                got += r.unwrap();
                buf = b;
            }
            // The prefix is kept, the new bytes follow it, and nothing past them counts.
            assert_eq!(buf, b"abxyz");
            assert_eq!(buf.capacity(), 64 * 1024);
            drop(client.await.unwrap());
        });
    }
}

/// `into_std` hands over a connected stream and a listener, deregistered and still
/// non-blocking (as Tokio's); they work as std sockets and can come back with `from_std`.
#[test]
fn into_std_hands_over_working_sockets() {
    use std::io::{Read, Write};
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let std_listener = listener.into_std().unwrap();
            assert_eq!(
                std_listener.accept().unwrap_err().kind(),
                io::ErrorKind::WouldBlock,
                "the listener is no longer non-blocking"
            );
            let mut std_client = client.into_std().unwrap();
            std_client.set_nonblocking(false).unwrap();
            std_client.write_all(b"ping").unwrap();
            let server = server.into_std().unwrap();
            server.set_nonblocking(false).unwrap();
            let mut got = [0; 4];
            (&server).read_exact(&mut got).unwrap();
            assert_eq!(&got, b"ping");
            // And back into the runtime.
            server.set_nonblocking(true).unwrap();
            let server = TcpStream::from_std(server).unwrap();
            let (r, _) = server.write_all_owned(b"pong".to_vec()).await;
            r.unwrap();
            std_client.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"pong");
        });
    }
}

/// Tokio's readiness API on every flavor and driver: an accepted socket starts out
/// assumed ready (one `try_read` finds out), `try_*` never wait and fail with
/// `WouldBlock` until readiness returns, `readable`/`writable` wait for it, and a closed
/// peer shows as read-closed with `Ok(0)`.
#[test]
fn readiness_api_waits_and_tries() {
    use futures::FutureExt;
    use std::io::IoSliceMut;
    use zokio::io::{Interest, Ready};
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            // Assumed readable once; the first try finds nothing and clears it.
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable());
            let mut buf = [0; 64];
            let err = server.try_read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            // Readiness may be spurious: a clear applies only to the event tick it saw, so
            // an event for the other direction in between (the registration's first
            // EPOLLOUT, say) keeps a stale bit. Each try that finds nothing clears it
            // again; within a few rounds `readable` waits.
            let mut waits = false;
            for _ in 0..4 {
                match server.readable().now_or_never() {
                    None => {
                        waits = true;
                        break;
                    }
                    Some(r) => {
                        r.unwrap();
                        assert_eq!(
                            server.try_read(&mut buf).unwrap_err().kind(),
                            io::ErrorKind::WouldBlock
                        );
                    }
                }
            }
            assert!(waits, "readable with nothing to read");
            client.writable().await.unwrap();
            assert_eq!(client.try_write(b"hello").unwrap(), 5);
            let slices = [io::IoSlice::new(b" wo"), io::IoSlice::new(b"rld")];
            assert_eq!(client.try_write_vectored(&slices).unwrap(), 6);
            let mut got = Vec::new();
            while got.len() < 11 {
                server.readable().await.unwrap();
                let (mut a, mut b) = ([0; 4], [0; 64]);
                let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
                match server.try_read_vectored(&mut bufs) {
                    Ok(n) => {
                        let all: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
                        got.extend_from_slice(&all[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(got, b"hello world");
            // Fill the send buffer: writable no longer resolves until the peer drains.
            let chunk = vec![7u8; 1 << 16];
            let mut sent = 0;
            loop {
                match client.try_write(&chunk) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            // As for `readable` above: a spurious `writable` finds the buffer still full.
            let mut waits = false;
            for _ in 0..4 {
                match client.writable().now_or_never() {
                    None => {
                        waits = true;
                        break;
                    }
                    Some(r) => {
                        r.unwrap();
                        match client.try_write(&chunk) {
                            Ok(n) => sent += n,
                            Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
                        }
                    }
                }
            }
            assert!(waits, "writable while full");
            let mut drained = 0;
            let mut bytes = bytes::BytesMut::with_capacity(1 << 16);
            while drained < sent {
                let ready = server
                    .ready(Interest::READABLE | Interest::WRITABLE)
                    .await
                    .unwrap();
                assert!(ready.is_writable() || ready.is_readable(), "{ready:?}");
                match server.try_read_buf(&mut bytes) {
                    Ok(n) => {
                        drained += n;
                        bytes.clear();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("{e}"),
                }
            }
            client.writable().await.unwrap();
            // try_io / async_io run the caller's own non-blocking call.
            client.try_write(b"x").unwrap();
            let n = server
                .async_io(Interest::READABLE, || {
                    use std::os::fd::AsRawFd;
                    let mut one = [0u8; 1];
                    // SAFETY: `one` is valid for a 1-byte write; the fd is open.
                    let n =
                        unsafe { libc::recv(server.as_raw_fd(), one.as_mut_ptr().cast(), 1, 0) };
                    usize::try_from(n).map_err(|_| io::Error::last_os_error())
                })
                .await
                .unwrap();
            assert_eq!(n, 1);
            // The peer closes: read-closed, then end of stream.
            drop(client);
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_read_closed() || ready.is_readable());
            loop {
                match server.try_read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        server.readable().await.unwrap();
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            assert_ne!(ready & Ready::ALL, Ready::EMPTY);
        });
    }
}

/// Several tasks accepting on one shared listener each get a connection: every task
/// waiting in a direction is woken by its next event, not only the last one to wait.
#[test]
fn many_tasks_accept_on_one_listener() {
    use std::sync::Arc;
    for rt in flavors() {
        rt.block_on(async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let listener = listener.clone();
                    zokio::spawn(async move { listener.accept().await.unwrap().0 })
                })
                .collect();
            for _ in 0..8 {
                zokio::task::yield_now().await;
            }
            let mut clients = Vec::new();
            for _ in 0..8 {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            for task in tasks {
                zokio::time::timeout(std::time::Duration::from_secs(20), task)
                    .await
                    .expect("an accepting task was never woken")
                    .unwrap();
            }
        });
    }
}

/// On epoll, a socket whose worker has stopped polling (here it is stuck in one long poll,
/// as a worker descheduled by the kernel would be) is served by a busy sibling: its read
/// completes while that worker is still stuck; and a task queued on the stuck worker is
/// taken by the sibling meanwhile, although the sibling never runs out of work. (On
/// io_uring a socket's poll completions are task work of the worker that armed them: the
/// read waits there; the queue is taken on both drivers.)
#[test]
fn a_stuck_workers_socket_and_queue_are_served_by_its_busy_sibling_on_epoll() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{Arc, OnceLock};
    use std::time::{Duration, Instant};
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .io_driver(zokio::runtime::IoDriver::Epoll)
        .build()
        .unwrap();
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap();
    let stuck = Arc::new(AtomicBool::new(false));
    let unstuck = Arc::new(AtomicBool::new(false));
    // Whether the first of the tasks queued on the stuck worker to run did so while that
    // worker was stuck.
    let queued = Arc::new(OnceLock::new());
    let reader = rt.spawn({
        let (stuck, unstuck) = (stuck.clone(), unstuck.clone());
        let queued = queued.clone();
        async move {
            // Registered with this worker's poller.
            let stream = TcpStream::connect(addr).await.unwrap();
            // Keeps the other worker busy while this one is stuck: the idle sibling steals
            // it from this worker's run queue (the next spawn moves it out of the LIFO
            // slot), and from then on always has a task to run.
            drop(zokio::spawn({
                let unstuck = unstuck.clone();
                async move {
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while !unstuck.load(SeqCst) && Instant::now() < deadline {
                        zokio::task::yield_now().await;
                    }
                }
            }));
            // Runs next on this worker (its LIFO slot) once the read below waits, queues
            // two tasks here (the first goes to the run queue, the second to the LIFO slot,
            // which no other worker may take), and keeps the worker from polling anything
            // for 2 s.
            drop(zokio::spawn({
                let (stuck, unstuck, queued) = (stuck.clone(), unstuck.clone(), queued.clone());
                async move {
                    for _ in 0..2 {
                        let (unstuck, queued) = (unstuck.clone(), queued.clone());
                        drop(zokio::spawn(async move {
                            let _ = queued.set(!unstuck.load(SeqCst));
                        }));
                    }
                    stuck.store(true, SeqCst);
                    std::thread::sleep(Duration::from_secs(2));
                    unstuck.store(true, SeqCst);
                }
            }));
            let (r, buf) = stream.read_owned(Vec::with_capacity(1)).await;
            let still_stuck = !unstuck.load(SeqCst);
            assert_eq!((r.unwrap(), buf.as_slice()), (1, &[9u8][..]));
            still_stuck
        }
    });
    let (mut conn, _) = peer.accept().unwrap();
    while !stuck.load(SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::io::Write::write_all(&mut conn, &[9]).unwrap();
    let served_while_stuck = rt.block_on(reader).unwrap();
    drop(rt);
    assert!(
        served_while_stuck,
        "the read waited for the stuck worker instead of being served by its sibling"
    );
    assert_eq!(
        queued.get(),
        Some(&true),
        "the queued task waited for the stuck worker instead of being stolen"
    );
}
