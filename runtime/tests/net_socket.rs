//! `net::TcpSocket` and `net::UnixSocket` on every scheduler flavor and driver: options
//! read back, bind, listen and connect, `SO_REUSEPORT` sharing a port, datagram sockets,
//! and calls on the wrong kind of socket.

#![cfg(not(loom))]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{TcpSocket, UnixSocket};

mod support;
use support::flavors;

#[test]
fn tcp_socket_options_listen_and_connect() {
    for rt in flavors() {
        rt.block_on(async {
            let server = TcpSocket::new_v4().unwrap();
            server.set_reuseaddr(true).unwrap();
            assert!(server.reuseaddr().unwrap());
            server.set_recv_buffer_size(64 * 1024).unwrap();
            assert!(server.recv_buffer_size().unwrap() >= 64 * 1024);
            server.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = server.local_addr().unwrap();
            assert_ne!(addr.port(), 0);
            let listener = server.listen(128).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            client.set_keepalive(true).unwrap();
            assert!(client.keepalive().unwrap());
            client.set_linger(Some(Duration::from_secs(1))).unwrap();
            assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(1)));
            client.set_tos_v4(0x10).unwrap();
            assert_eq!(client.tos_v4().unwrap(), 0x10);
            client.set_send_buffer_size(32 * 1024).unwrap();
            assert!(client.send_buffer_size().unwrap() >= 32 * 1024);
            assert!(client.take_error().unwrap().is_none());
            let (mut stream, accepted) = zokio::join!(client.connect(addr), listener.accept());
            let (mut peer, _) = accepted.unwrap();
            let stream = stream.as_mut().unwrap();
            assert!(stream.nodelay().unwrap());
            stream.write_all(b"hi").await.unwrap();
            let mut two = [0; 2];
            peer.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"hi");

            // IPv6: the traffic class, where this machine has IPv6.
            if let Ok(v6) = TcpSocket::new_v6() {
                v6.set_tclass_v6(0x20).unwrap();
                assert_eq!(v6.tclass_v6().unwrap(), 0x20);
                v6.set_zero_linger().unwrap();
                assert_eq!(v6.linger().unwrap(), Some(Duration::ZERO));
            }
            // Nothing listens on a port just closed: refused.
            let closed = {
                let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                s.local_addr().unwrap()
            };
            let e = TcpSocket::new_v4()
                .unwrap()
                .connect(closed)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);

            // The socket of a std stream shows its options.
            let std_stream = std::net::TcpStream::connect(addr).unwrap();
            std_stream.set_nodelay(true).unwrap();
            assert!(TcpSocket::from_std_stream(std_stream).nodelay().unwrap());
        });
    }
}

#[test]
fn reuseport_lets_two_listeners_share_a_port() {
    for rt in flavors() {
        rt.block_on(async {
            let bind = |addr: SocketAddr| {
                let s = TcpSocket::new_v4().unwrap();
                s.set_reuseport(true).unwrap();
                assert!(s.reuseport().unwrap());
                s.bind(addr).unwrap();
                s
            };
            let first = bind("127.0.0.1:0".parse().unwrap());
            let addr = first.local_addr().unwrap();
            let second = bind(addr);
            let _a = first.listen(16).unwrap();
            let _b = second.listen(16).unwrap();
            // Without SO_REUSEPORT the port is taken.
            let third = TcpSocket::new_v4().unwrap();
            assert_eq!(
                third.bind(addr).unwrap_err().kind(),
                io::ErrorKind::AddrInUse
            );
        });
    }
}

#[test]
fn unix_socket_streams_and_datagrams() {
    for (k, rt) in flavors().into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async move {
            let path = dir.path().join(format!("s{k}.sock"));
            let server = UnixSocket::new_stream().unwrap();
            server.bind(&path).unwrap();
            assert_eq!(
                server.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let listener = server.listen(16).unwrap();
            let (client, accepted) = zokio::join!(
                UnixSocket::new_stream().unwrap().connect(&path),
                listener.accept()
            );
            let mut client = client.unwrap();
            let (mut peer, _) = accepted.unwrap();
            client.write_all(b"unix").await.unwrap();
            let mut four = [0; 4];
            peer.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"unix");
            let e = UnixSocket::new_stream()
                .unwrap()
                .connect(dir.path().join("missing.sock"))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound);

            let dpath = dir.path().join(format!("d{k}.sock"));
            let d = UnixSocket::new_datagram().unwrap();
            d.bind(&dpath).unwrap();
            let d = d.datagram().unwrap();
            let sender = UnixSocket::new_datagram().unwrap().datagram().unwrap();
            sender.send_to(b"dgram", &dpath).await.unwrap();
            let mut buf = [0; 16];
            let n = d.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"dgram");

            // The wrong kind of socket for the call.
            let e = UnixSocket::new_datagram().unwrap().listen(1).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            let e = UnixSocket::new_stream().unwrap().datagram().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            let e = UnixSocket::new_datagram()
                .unwrap()
                .connect(&path)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        });
    }
}

#[test]
fn stream_options_std_conversions_and_lookup_host() {
    use std::convert::TryFrom;
    for rt in flavors() {
        rt.block_on(async {
            let listener = zokio::net::TcpListener::try_from(
                std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            )
            .unwrap();
            let addr = listener.local_addr().unwrap();
            let stream =
                zokio::net::TcpStream::try_from(std::net::TcpStream::connect(addr).unwrap())
                    .unwrap();
            stream.set_quickack(true).unwrap();
            assert!(stream.quickack().unwrap());
            stream.set_quickack(false).unwrap();
            assert!(!stream.quickack().unwrap());
            stream.set_ttl(42).unwrap();
            assert_eq!(stream.ttl().unwrap(), 42);
            let udp =
                zokio::net::UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
                    .unwrap();
            assert!(udp.local_addr().unwrap().ip().is_loopback());
            let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
            zokio::net::UnixStream::try_from(a).unwrap();
            let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
            zokio::net::UnixDatagram::try_from(d).unwrap();

            let literal: Vec<SocketAddr> = zokio::net::lookup_host("127.0.0.1:80")
                .await
                .unwrap()
                .collect();
            assert_eq!(literal, ["127.0.0.1:80".parse().unwrap()]);
            let local: Vec<SocketAddr> = zokio::net::lookup_host(("localhost", 8080))
                .await
                .unwrap()
                .collect();
            assert!(
                local
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 8080),
                "{local:?}"
            );
            assert!(!local.is_empty());
            assert!(zokio::net::lookup_host("no-such-host.invalid:80")
                .await
                .is_err());
            let malformed = zokio::net::lookup_host("not an address").await;
            assert_eq!(malformed.err().unwrap().kind(), io::ErrorKind::InvalidInput);
        });
    }
}

#[test]
fn io_after_the_runtime_shut_down_is_a_recognisable_error() {
    use zokio::runtime::is_rt_shutdown_err;
    for (first, second) in flavors().into_iter().zip(flavors()) {
        let listener =
            first.block_on(async { zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() });
        drop(first);
        let e = second.block_on(listener.accept()).unwrap_err();
        assert!(is_rt_shutdown_err(&e), "{e}");
        assert_eq!(e.to_string(), "zokio runtime is shut down");
    }
    // Same kind and message, but not the runtime's: not recognised.
    assert!(!is_rt_shutdown_err(&io::Error::other(
        "zokio runtime is shut down"
    )));
    assert!(!is_rt_shutdown_err(&io::ErrorKind::Interrupted.into()));
}

#[test]
fn vectored_writes_send_every_slice_in_one_call() {
    use zokio::io::AsyncWrite;
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, mut server) = connected_pair().await;
            assert!(client.is_write_vectored());
            let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
            // An accepted socket is assumed writable: the first poll writes both slices.
            assert_eq!(server.write_vectored(&bufs).await.unwrap(), 4);
            let mut four = [0; 4];
            client.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"abcd");
            let (mut a, mut b) = zokio::net::UnixStream::pair().unwrap();
            assert_eq!(a.write_vectored(&bufs).await.unwrap(), 4);
            b.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"abcd");
            client.write_all(b"!").await.unwrap();
        });
    }
}

#[test]
fn urgent_data_is_priority_readiness() {
    use std::os::fd::AsRawFd;
    use zokio::io::Interest;
    for rt in flavors() {
        rt.block_on(async {
            let (client, server) = connected_pair().await;
            // One byte of TCP urgent data raises POLLPRI on the receiver.
            // SAFETY: a valid one-byte buffer and an open socket.
            let sent =
                unsafe { libc::send(client.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) };
            assert_eq!(sent, 1, "{}", io::Error::last_os_error());
            let ready = server.ready(Interest::PRIORITY).await.unwrap();
            assert!(ready.is_priority(), "{ready:?}");
        });
    }
}

/// A connected TCP client and the server's accepted end, over 127.0.0.1.
async fn connected_pair() -> (zokio::net::TcpStream, zokio::net::TcpStream) {
    let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = zokio::join!(zokio::net::TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// A host name is looked up on the blocking pool, not on the worker; a literal needs no
/// lookup. The trait is nameable, as Tokio's, for functions that forward an address.
#[test]
fn host_names_are_looked_up_on_the_blocking_pool() {
    async fn bind_any(addr: impl zokio::net::ToSocketAddrs) -> io::Result<SocketAddr> {
        zokio::net::TcpListener::bind(addr).await?.local_addr()
    }
    for rt in flavors() {
        rt.block_on(async {
            let metrics = zokio::runtime::Handle::current().metrics();
            let bound = bind_any("127.0.0.1:0").await.unwrap();
            assert!(bound.ip().is_loopback());
            bind_any(&(std::net::Ipv4Addr::LOCALHOST, 0)).await.unwrap();
            assert_eq!(metrics.num_blocking_threads(), 0, "literals need no lookup");

            let bound = bind_any(String::from("localhost:0")).await.unwrap();
            assert!(bound.ip().is_loopback());
            assert!(
                metrics.num_blocking_threads() >= 1,
                "the lookup ran on the blocking pool"
            );
            let server = zokio::net::UdpSocket::bind(("localhost", 0)).await.unwrap();
            let at = server.local_addr().unwrap();
            let client = zokio::net::UdpSocket::bind((at.ip(), 0)).await.unwrap();
            client
                .send_to(b"ping", ("localhost", at.port()))
                .await
                .unwrap();
            let mut buf = [0; 8];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"ping"[..], client.local_addr().unwrap())
            );
        });
    }
}
