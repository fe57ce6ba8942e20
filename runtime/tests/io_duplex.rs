//! zokio's `io::duplex` and `io::simplex` on every scheduler flavor: bytes both ways across
//! tasks, back-pressure at the buffer size, what dropping or shutting down an end does to
//! the other, zero-length and vectored writes, and cooperation with the scheduler.

#![cfg(not(loom))]

use futures::FutureExt;
use std::io::{self, IoSlice};
use zokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;
use support::flavors;

#[test]
fn bytes_cross_between_tasks_with_back_pressure() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut a, mut b) = zokio::io::duplex(32);
            // A write takes what fits: 32 of 64 bytes, then nothing until a read.
            assert_eq!(a.write(&[1; 64]).await.unwrap(), 32);
            assert!(a.write(&[1; 1]).now_or_never().is_none());
            let mut four = [0; 4];
            b.read_exact(&mut four).await.unwrap();
            assert_eq!(a.write(&[2; 64]).await.unwrap(), 4);
            // A megabyte through the 32-byte buffer, while the other way carries a reply.
            let writer = zokio::spawn(async move {
                let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 249) as u8).collect();
                a.write_all(&data).await.unwrap();
                let mut reply = [0; 4];
                a.read_exact(&mut reply).await.unwrap();
                assert_eq!(&reply, b"done");
            });
            let mut skip = vec![0; 28 + 4];
            b.read_exact(&mut skip).await.unwrap();
            let mut got = vec![0; 1 << 20];
            b.read_exact(&mut got).await.unwrap();
            assert!(got.iter().enumerate().all(|(i, &x)| x == (i % 249) as u8));
            b.write_all(b"done").await.unwrap();
            writer.await.unwrap();
        });
    }
}

#[test]
fn dropping_or_shutting_down_an_end_reaches_the_other() {
    for rt in flavors() {
        rt.block_on(async {
            // Dropped writer: the reader drains, then reads end of stream.
            let (mut a, mut b) = zokio::io::duplex(32);
            a.write_all(b"ping").await.unwrap();
            drop(a);
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"ping");

            // Dropped reader: a writer waiting for room fails with BrokenPipe.
            let (a, mut b) = zokio::io::duplex(2);
            let writer = zokio::spawn(async move { b.write_all(b"ping").await });
            zokio::task::yield_now().await;
            drop(a);
            let e = writer.await.unwrap().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);

            // Shutdown: end of stream for the peer, but the other direction still works.
            let (mut a, mut b) = zokio::io::duplex(8);
            a.shutdown().await.unwrap();
            assert_eq!(b.read(&mut [0; 4]).await.unwrap(), 0);
            b.write_all(b"back").await.unwrap();
            let mut back = [0; 4];
            a.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"back");

            // Simplex: one way; the reader ends after the writer's shutdown.
            let (mut rd, mut wr) = zokio::io::simplex(4);
            let writer = zokio::spawn(async move {
                wr.write_all(b"one way").await.unwrap();
                wr.shutdown().await.unwrap();
            });
            let mut all = Vec::new();
            rd.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"one way");
            writer.await.unwrap();
        });
    }
}

#[test]
fn zero_length_and_vectored_writes() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut a, mut b) = zokio::io::duplex(1);
            assert_eq!(b.read(&mut []).now_or_never().unwrap().unwrap(), 0);
            a.write_all(b"x").await.unwrap();
            // Full, but an empty write is done at once.
            assert_eq!(a.write(&[]).now_or_never().unwrap().unwrap(), 0);
            drop(b);
            let e = a.write(&[]).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);

            let (mut a, mut b) = zokio::io::duplex(5);
            assert!(zokio::io::AsyncWrite::is_write_vectored(&a));
            let bufs = [IoSlice::new(b"abc"), IoSlice::new(b"defg")];
            assert_eq!(a.write_vectored(&bufs).await.unwrap(), 5);
            let mut five = [0; 5];
            b.read_exact(&mut five).await.unwrap();
            assert_eq!(&five, b"abcde");
        });
    }
}

#[test]
fn a_loop_over_a_ready_duplex_yields() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut tx, mut rx) = zokio::io::duplex(8192);
            zokio::select! {
                biased;
                _ = async {
                    loop {
                        tx.write_all(&[3; 4096]).await.unwrap();
                        let _ = rx.read(&mut [0; 4096]).await.unwrap();
                    }
                } => unreachable!(),
                _ = zokio::task::yield_now() => {}
            }
        });
    }
}
