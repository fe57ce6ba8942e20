//! Tokio's I/O API on zokio's sockets and files: the re-exported traits and utilities of
//! `zokio::io`, the owned-buffer operations beside them, and the re-exported `select!`,
//! `join!` and `try_join!`; on every flavor and both I/O drivers, over 127.0.0.1 only.

#![cfg(not(loom))]

use std::io;
use zokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use zokio::net::{TcpListener, TcpStream};

mod support;
use support::flavors;

/// A connected pair over 127.0.0.1: (client, server).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = zokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

#[test]
fn tokio_style_reads_and_writes_go_through() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, mut server) = pair().await;
            // `read(&mut [u8])` and `write_all(&[u8])` resolve to Tokio's traits.
            client.write_all(b"hello, zokio").await.unwrap();
            let mut buf = [0u8; 5];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hello");
            let mut rest = vec![0u8; 64];
            let n = server.read(&mut rest).await.unwrap();
            assert_eq!(&rest[..n], b", zokio");
            // Line-oriented reading through a BufReader, and end of stream after shutdown.
            server.write_all(b"one\ntwo\n").await.unwrap();
            server.shutdown().await.unwrap();
            let mut lines = BufReader::new(client).lines();
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
            assert_eq!(lines.next_line().await.unwrap(), None);
        });
    }
}

#[test]
fn copy_moves_every_byte_between_sockets_and_split_halves_work() {
    for rt in flavors() {
        rt.block_on(async {
            let (client, server) = pair().await;
            let data: Vec<u8> = (0..(1 << 20))
                .map(|i: u32| (i * 31 + i / 253) as u8)
                .collect();
            let sent = data.clone();
            let (mut rd, mut wr) = client.into_split();
            let writer = zokio::spawn(async move {
                wr.write_all(&sent).await.unwrap();
                wr.shutdown().await.unwrap();
            });
            // The server echoes with `copy` over Tokio's `split` of one stream.
            let echo = zokio::spawn(async move {
                let (mut r, mut w) = zokio::io::split(server);
                zokio::io::copy(&mut r, &mut w).await.unwrap()
            });
            let mut back = Vec::new();
            rd.read_to_end(&mut back).await.unwrap();
            writer.await.unwrap();
            assert_eq!(echo.await.unwrap(), data.len() as u64);
            assert!(back == data, "the echo differs");
        });
    }
}

#[test]
fn an_owned_read_into_a_buffer_without_spare_capacity_is_an_error_not_eof() {
    for rt in flavors() {
        rt.block_on(async {
            let (client, server) = pair().await;
            let (r, _) = client.write_all_owned(b"abc".to_vec()).await;
            r.unwrap();
            // `vec![0; n]` has no spare capacity: an error, never `Ok(0)`.
            let (r, buf) = server.read_owned(vec![0u8; 16]).await;
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidInput);
            assert_eq!(buf.len(), 16);
            let (r, buf) = server.read_owned(Vec::with_capacity(16)).await;
            assert_eq!((r.unwrap(), buf.as_slice()), (3, &b"abc"[..]));
        });
    }
}

#[test]
fn a_file_read_without_spare_capacity_is_an_error_and_reads_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, b"0123456789").unwrap();
    for rt in flavors() {
        rt.block_on(async {
            let f = zokio::fs::File::open(&path).await.unwrap();
            let (r, _) = f.read_at(Vec::new(), 0).await;
            assert_eq!(r.unwrap_err().kind(), io::ErrorKind::InvalidInput);
            // What is read is appended after the buffer's contents.
            let mut buf = Vec::with_capacity(8);
            buf.extend_from_slice(b"ab");
            let (r, buf) = f.read_at(buf, 4).await;
            assert_eq!((r.unwrap(), buf.as_slice()), (6, &b"ab456789"[..]));
        });
    }
}

#[test]
fn select_join_and_try_join_work_on_zokio() {
    for rt in flavors() {
        rt.block_on(async {
            let (tx, rx) = zokio::sync::oneshot::channel::<u32>();
            let mut rx = rx;
            // `biased;` polls in order: the ready branch wins over the pending one, and a
            // disabled branch (`if false`) is never polled.
            let got = zokio::select! {
                biased;
                _ = std::future::pending::<()>(), if false => unreachable!(),
                v = async { 7 } => v,
                _ = &mut rx => 0,
            };
            assert_eq!(got, 7);
            tx.send(5).unwrap();
            let got = zokio::select! {
                Ok(v) = &mut rx => v,
                else => 0,
            };
            assert_eq!(got, 5);
            let (a, b) = zokio::join!(async { 1 }, zokio::spawn(async { 2 }));
            assert_eq!((a, b.unwrap()), (1, 2));
            let ok: Result<(u8, u8), &str> = zokio::try_join!(async { Ok(1) }, async { Ok(2) });
            assert_eq!(ok, Ok((1, 2)));
            let err: Result<(u8, u8), &str> =
                zokio::try_join!(async { Ok(1) }, async { Err("no") });
            assert_eq!(err, Err("no"));
        });
    }
}

#[test]
fn borrowed_halves_peek_linger_and_reunite() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, mut server) = pair().await;
            // Both borrowed halves of one stream in one task.
            {
                let (mut rd, mut wr) = client.split();
                let (sent, got) = zokio::join!(wr.write_all(b"ping"), async {
                    let mut buf = [0u8; 4];
                    server.read_exact(&mut buf).await.map(|_| buf)
                });
                sent.unwrap();
                assert_eq!(&got.unwrap(), b"ping");
                server.write_all(b"pong").await.unwrap();
                // A peek leaves the bytes for the next read.
                let mut peeked = [0u8; 4];
                let n = rd.peek(&mut peeked).await.unwrap();
                assert_eq!(&peeked[..n], &b"pong"[..n]);
                let mut buf = [0u8; 4];
                rd.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"pong");
            }
            client
                .set_linger(Some(std::time::Duration::from_secs(1)))
                .unwrap();
            assert_eq!(
                client.linger().unwrap(),
                Some(std::time::Duration::from_secs(1))
            );
            client.set_zero_linger().unwrap();
            assert_eq!(client.linger().unwrap(), Some(std::time::Duration::ZERO));
            // Halves of different streams do not reunite, and come back whole.
            let (r1, w1) = client.into_split();
            let (r2, w2) = server.into_split();
            let zokio::net::tcp::ReuniteError(r1, w2) = r1.reunite(w2).unwrap_err();
            let mut server = r2.reunite(w2).unwrap();
            let mut client = r1.reunite(w1).unwrap();
            // Reunited, the write direction is still open (no shutdown on the way).
            client.write_all(b"x").await.unwrap();
            let mut one = [0u8; 1];
            server.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"x");
            // A std stream converts with `try_into`, as in Tokio.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
            c.set_nonblocking(true).unwrap();
            let c: TcpStream = c.try_into().unwrap();
            assert_eq!(c.peer_addr().unwrap(), l.local_addr().unwrap());
        });
    }
}

#[test]
fn shutdown_after_the_peer_reset_is_ok() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, server) = pair().await;
            // Linger 0: dropping resets the connection (RST).
            server.set_zero_linger().unwrap();
            drop(server);
            // The reset has arrived once a read fails or ends.
            let mut buf = [0u8; 1];
            let _ = client.read(&mut buf).await;
            client.shutdown().await.unwrap();
        });
    }
}

/// Far beyond the budget (128): a loop that runs this long never yielded.
const LOOP_BOUND: usize = 100_000;

#[test]
fn empty_repeat_and_sink_spend_the_budget_so_a_loop_over_them_yields() {
    for rt in flavors() {
        rt.block_on(async {
            // In a task: outside one (here, in block_on) the budget is unconstrained.
            zokio::spawn(async {
                let mut buf = [0u8; 8];
                zokio::select! {
                    biased;
                    _ = async {
                        for _ in 0..LOOP_BOUND {
                            assert_eq!(zokio::io::empty().read(&mut buf).await.unwrap(), 0);
                        }
                    } => panic!("empty never yielded"),
                    _ = zokio::task::yield_now() => {}
                }
                let mut r = zokio::io::repeat(9);
                zokio::select! {
                    biased;
                    _ = async {
                        for _ in 0..LOOP_BOUND {
                            r.read_exact(&mut buf).await.unwrap();
                        }
                    } => panic!("repeat never yielded"),
                    _ = zokio::task::yield_now() => {}
                }
                assert_eq!(buf, [9; 8]);
                let mut s = zokio::io::sink();
                zokio::select! {
                    biased;
                    _ = async {
                        for _ in 0..LOOP_BOUND {
                            s.write_all(b"x").await.unwrap();
                        }
                    } => panic!("sink never yielded"),
                    _ = zokio::task::yield_now() => {}
                }
                let mut e = zokio::io::empty();
                e.write_all(b"gone").await.unwrap();
                let mut all = Vec::new();
                assert_eq!(e.read_to_end(&mut all).await.unwrap(), 0);
            })
            .await
            .unwrap();
        });
    }
}

#[test]
fn poll_accept_is_pending_until_a_connection_waits() {
    for rt in flavors() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (_, waker) = support::flag_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(listener.poll_accept(&mut cx).is_pending());
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, peer) = std::future::poll_fn(|cx| listener.poll_accept(cx))
                .await
                .unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        });
    }
}
