//! zokio's `io::copy`, `copy_buf` and `copy_bidirectional` on every scheduler flavor:
//! bytes and counts, retries of `Interrupted`, `WriteZero`, the flush before waiting on
//! an idle reader, the end passing through a bidirectional copy, and cooperation: a copy
//! loop over always-ready streams still lets other branches and tasks run.

#![cfg(not(loom))]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use zokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, ReadBuf,
};

mod support;
use support::flavors;

/// Fails each operation once with `Interrupted` before doing it, and writes at most 3
/// bytes at a time.
#[derive(Default)]
struct Flaky {
    data: Vec<u8>,
    pos: usize,
    interrupted: bool,
}

impl AsyncRead for Flaky {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.interrupted = !self.interrupted;
        if self.interrupted {
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        let n = (self.data.len() - self.pos).min(buf.remaining()).min(5);
        let start = self.pos;
        buf.put_slice(&self.data[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Flaky {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.interrupted = !self.interrupted;
        if self.interrupted {
            return Poll::Ready(Err(io::ErrorKind::Interrupted.into()));
        }
        let n = buf.len().min(3);
        self.data.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Accepts nothing.
struct Full;

impl AsyncWrite for Full {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn copies_every_byte_and_retries_interrupted_operations() {
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    for rt in flavors() {
        let data = data.clone();
        rt.block_on(async move {
            let mut out = Vec::new();
            let n = zokio::io::copy(&mut &data[..], &mut out).await.unwrap();
            assert_eq!(n, data.len() as u64);
            assert!(out == data);

            let mut reader = Flaky {
                data: b"interrupted reads and writes".to_vec(),
                ..Flaky::default()
            };
            let mut writer = Flaky::default();
            let n = zokio::io::copy(&mut reader, &mut writer).await.unwrap();
            assert_eq!(n, 28);
            assert_eq!(writer.data, b"interrupted reads and writes");

            let mut reader = BufReader::with_capacity(7, &data[..1000]);
            let mut out = Vec::new();
            assert_eq!(
                zokio::io::copy_buf(&mut reader, &mut out).await.unwrap(),
                1000
            );
            assert_eq!(out, &data[..1000]);

            let e = zokio::io::copy(&mut &b"x"[..], &mut Full)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WriteZero);
        });
    }
}

#[test]
fn written_bytes_are_flushed_while_the_reader_is_idle() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut source, mut reader) = zokio::io::duplex(64);
            let (writer, mut sink) = zokio::io::duplex(64);
            let copier = zokio::spawn(async move {
                // A BufWriter holds writes until flushed: the copy must flush it before
                // waiting on the idle reader.
                let mut writer = BufWriter::new(writer);
                zokio::io::copy(&mut reader, &mut writer).await
            });
            source.write_all(b"hello").await.unwrap();
            let mut five = [0; 5];
            sink.read_exact(&mut five).await.unwrap();
            assert_eq!(&five, b"hello");
            drop(source);
            assert_eq!(copier.await.unwrap().unwrap(), 5);
        });
    }
}

#[test]
fn copy_bidirectional_passes_the_end_through() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, mut proxy_a) = zokio::io::duplex(16);
            let (mut proxy_b, mut server) = zokio::io::duplex(16);
            let proxy = zokio::spawn(async move {
                zokio::io::copy_bidirectional(&mut proxy_a, &mut proxy_b).await
            });
            // Far more than the streams and the proxy hold: the server reads meanwhile.
            let request = vec![7u8; 1000];
            let server = zokio::spawn(async move {
                let mut got = Vec::new();
                server.read_to_end(&mut got).await.unwrap();
                server.write_all(b"reply").await.unwrap();
                server.shutdown().await.unwrap();
                got
            });
            client.write_all(&request).await.unwrap();
            client.shutdown().await.unwrap();
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"reply");
            assert_eq!(server.await.unwrap(), request);
            assert_eq!(proxy.await.unwrap().unwrap(), (1000, 5));
        });
    }
}

#[test]
fn a_copy_loop_over_ready_streams_yields() {
    for rt in flavors() {
        rt.block_on(async {
            // Without the budget the first branch never returns Pending and the second
            // is never polled.
            zokio::select! {
                biased;
                _ = async {
                    loop {
                        let mut out = Vec::new();
                        let _ = zokio::io::copy(&mut &b"hello"[..], &mut out).await;
                    }
                } => unreachable!(),
                _ = zokio::task::yield_now() => {}
            }
            zokio::select! {
                biased;
                _ = async {
                    loop {
                        let mut out = Vec::new();
                        let _ = zokio::io::copy_buf(&mut &b"hello"[..], &mut out).await;
                    }
                } => unreachable!(),
                _ = zokio::task::yield_now() => {}
            }
        });
    }
}

#[test]
fn a_zero_buffer_size_panics_naming_the_direction() {
    for (a_to_b, b_to_a, name) in [(0, 1, "a_to_b_buf_size"), (1, 0, "b_to_a_buf_size")] {
        let message = support::panic_message(|| {
            let rt = zokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let (mut a, mut b) = zokio::io::duplex(8);
            let _ = rt.block_on(zokio::io::copy_bidirectional_with_sizes(
                &mut a, &mut b, a_to_b, b_to_a,
            ));
        });
        assert!(
            message.contains(&format!("`{name}` must be greater than 0")),
            "{message}"
        );
    }
}
