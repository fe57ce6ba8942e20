//! Unix domain sockets on every scheduler flavor and driver: a stream echo through a
//! listener (filesystem path and abstract name), Tokio's traits and readiness API on a
//! pair and on borrowed halves, and datagrams by path and on a pair.

#![cfg(not(loom))]

use std::io;
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{UnixDatagram, UnixListener, UnixStream};

mod support;
use support::flavors;

#[test]
fn stream_echo_through_a_listener() {
    let dir = tempfile::tempdir().unwrap();
    for (k, rt) in flavors().into_iter().enumerate() {
        let path = dir.path().join(format!("echo{k}.sock"));
        let abstract_name = format!("\0zokio-test-{}-{k}", std::process::id());
        rt.block_on(async move {
            for addr in [path.to_str().unwrap().to_owned(), abstract_name] {
                let listener = UnixListener::bind(&addr).unwrap();
                let server = zokio::spawn(async move {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0; 5];
                    s.read_exact(&mut buf).await.unwrap();
                    s.write_all(&buf).await.unwrap();
                    s.shutdown().await.unwrap();
                });
                let mut c = UnixStream::connect(&addr).await.unwrap();
                c.write_all(b"hello").await.unwrap();
                let mut back = Vec::new();
                c.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, b"hello");
                server.await.unwrap();
            }
            let missing = UnixStream::connect("/nonexistent/zokio.sock").await;
            assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
        });
    }
}

#[test]
fn pair_readiness_and_borrowed_halves() {
    use futures::FutureExt;
    for rt in flavors() {
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            // A fresh pair is writable at once, not readable until the peer writes.
            a.writable().now_or_never().expect("writable").unwrap();
            assert!(b.readable().now_or_never().is_none());
            assert_eq!(a.try_write(b"ping").unwrap(), 4);
            let mut buf = [0; 8];
            let n = loop {
                b.readable().await.unwrap();
                match b.try_read(&mut buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("{e}"),
                }
            };
            assert_eq!(&buf[..n], b"ping");
            let (mut rd, mut wr) = a.split();
            let (mut b, got) = futures::join!(
                async {
                    let mut b = b;
                    b.write_all(b"pong").await.unwrap();
                    b
                },
                async {
                    let mut four = [0; 4];
                    rd.read_exact(&mut four).await.unwrap();
                    four
                }
            );
            assert_eq!(&got, b"pong");
            wr.write_all(b"!").await.unwrap();
            let mut one = [0; 1];
            b.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"!");
        });
    }
}

#[test]
fn datagrams_by_path_and_on_a_pair() {
    let dir = tempfile::tempdir().unwrap();
    for (k, rt) in flavors().into_iter().enumerate() {
        let (pa, pb) = (
            dir.path().join(format!("a{k}")),
            dir.path().join(format!("b{k}")),
        );
        rt.block_on(async move {
            let a = UnixDatagram::bind(&pa).unwrap();
            let b = UnixDatagram::bind(&pb).unwrap();
            assert_eq!(a.send_to(b"one", &pb).await.unwrap(), 3);
            let mut buf = [0; 16];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from.as_pathname()),
                (&b"one"[..], Some(pa.as_path()))
            );
            let (x, y) = UnixDatagram::pair().unwrap();
            x.send(b"two").await.unwrap();
            let mut bytes = bytes::BytesMut::with_capacity(8);
            assert_eq!(y.recv_buf(&mut bytes).await.unwrap(), 3);
            assert_eq!(&bytes[..], b"two");
            assert_eq!(
                y.try_recv(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
        });
    }
}

#[test]
fn owned_halves_move_to_tasks_reunite_and_shut_down_on_drop() {
    for rt in flavors() {
        rt.block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let (mut rd, mut wr) = a.into_split();
            let writer = zokio::spawn(async move {
                wr.write_all(b"from the write half").await.unwrap();
                wr
            });
            let mut buf = vec![0; 19];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, b"from the write half");
            let wr = writer.await.unwrap();
            b.write_all(b"back").await.unwrap();
            let mut four = [0; 4];
            rd.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"back");
            assert!(rd.peer_addr().unwrap().is_unnamed());
            // Halves of different streams are refused and given back.
            let (c, _d) = UnixStream::pair().unwrap();
            let (other_rd, other_wr) = c.into_split();
            let err = rd.reunite(other_wr).unwrap_err();
            let (rd, _) = (err.0, err.1);
            drop(other_rd);
            // Reunited, the stream still works and nothing was shut down.
            let mut a = rd.reunite(wr).unwrap();
            a.write_all(b"!").await.unwrap();
            let mut one = [0; 1];
            b.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"!");
            // Dropping a write half shuts down the write direction: the peer reads EOF.
            let (_rd, wr) = a.into_split();
            drop(wr);
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        });
    }
}

#[test]
fn peer_cred_names_this_process() {
    for rt in flavors() {
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            for s in [&a, &b] {
                let cred = s.peer_cred().unwrap();
                // SAFETY: these calls have no preconditions.
                let (uid, gid, pid) = unsafe { (libc::getuid(), libc::getgid(), libc::getpid()) };
                assert_eq!((cred.uid(), cred.gid(), cred.pid()), (uid, gid, Some(pid)));
            }
        });
    }
}
