//! UDP on every scheduler flavor and driver: Tokio's readiness API (`ready`, `try_*`),
//! peeking, receiving into uninitialised buffers, the poll functions, and socket options.

#![cfg(not(loom))]

use std::future::poll_fn;
use std::io;
use zokio::io::{Interest, ReadBuf};
use zokio::net::UdpSocket;

mod support;
use support::flavors;

/// Waits for readiness and retries `f` until it does not find `WouldBlock`.
async fn retry<R>(
    socket: &UdpSocket,
    interest: Interest,
    mut f: impl FnMut() -> io::Result<R>,
) -> R {
    loop {
        socket.ready(interest).await.unwrap();
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return r.unwrap(),
        }
    }
}

#[test]
fn datagrams_through_the_readiness_api() {
    for rt in flavors() {
        rt.block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // Nothing queued: try_recv fails without waiting.
            let mut buf = [0u8; 64];
            assert_eq!(
                b.try_recv_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            let n = retry(&a, Interest::WRITABLE, || a.try_send_to(b"one", b_addr)).await;
            assert_eq!(n, 3);
            // Peeking leaves the datagram queued; its sender is known first.
            assert_eq!(b.peek_sender().await.unwrap(), a_addr);
            let (n, from) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
            assert_eq!(b.try_peek_sender().unwrap(), a_addr);
            // Into an uninitialised buffer, advancing it.
            let mut vec = Vec::with_capacity(16);
            let (n, from) = b.recv_buf_from(&mut vec).await.unwrap();
            assert_eq!((n, &vec[..], from), (3, &b"one"[..], a_addr));
            // Connected: send / recv and their try_ and poll_ forms.
            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            poll_fn(|cx| a.poll_send(cx, b"two")).await.unwrap();
            let mut storage = [0u8; 8];
            let mut read = ReadBuf::new(&mut storage);
            poll_fn(|cx| b.poll_recv(cx, &mut read)).await.unwrap();
            assert_eq!(read.filled(), b"two");
            assert_eq!(
                retry(&a, Interest::WRITABLE, || a.try_send(b"three")).await,
                5
            );
            let n = retry(&b, Interest::READABLE, || b.try_recv(&mut buf)).await;
            assert_eq!(&buf[..n], b"three");
            poll_fn(|cx| a.poll_send_to(cx, b"four", b_addr))
                .await
                .unwrap();
            let mut read = ReadBuf::new(&mut storage);
            let from = poll_fn(|cx| b.poll_recv_from(cx, &mut read)).await.unwrap();
            assert_eq!((read.filled(), from), (&b"four"[..], a_addr));
            a.send(b"five").await.unwrap();
            let mut bytes = bytes::BytesMut::with_capacity(16);
            assert_eq!(b.recv_buf(&mut bytes).await.unwrap(), 4);
            assert_eq!(&bytes[..], b"five");
            // Back to std and its options.
            let std = b.into_std().unwrap();
            assert_eq!(std.local_addr().unwrap(), b_addr);
        });
    }
}

#[test]
fn socket_options_set_and_read_back() {
    for rt in flavors() {
        rt.block_on(async {
            let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            s.set_ttl(42).unwrap();
            assert_eq!(s.ttl().unwrap(), 42);
            s.set_broadcast(true).unwrap();
            assert!(s.broadcast().unwrap());
            s.set_multicast_ttl_v4(3).unwrap();
            assert_eq!(s.multicast_ttl_v4().unwrap(), 3);
            s.set_multicast_loop_v4(false).unwrap();
            assert!(!s.multicast_loop_v4().unwrap());
            s.set_tos_v4(0x10).unwrap();
            assert_eq!(s.tos_v4().unwrap(), 0x10);
            assert!(s.take_error().unwrap().is_none());
        });
    }
}
