//! Dropping in-flight operations and the sockets themselves leaks no file descriptor
//! (epoll sets, eventfds and sockets all closed). Alone in its test binary so that no
//! other test opens descriptors while this one counts them.

#![cfg(not(loom))]

use std::future::Future;
use std::task::{Context, Waker};
use zokio::net::{TcpListener, TcpStream};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn cancelled_reads_and_accepts_leak_no_fd() {
    let before = open_fds();
    for flavor in 0..2 {
        let rt = if flavor == 0 {
            zokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        } else {
            zokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap()
        };
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut cx = Context::from_waker(Waker::noop());
            for _ in 0..50 {
                // An accept polled once and dropped: the connection stays queued.
                let mut accept = Box::pin(listener.accept());
                assert!(accept.as_mut().poll(&mut cx).is_pending());
                drop(accept);
                let client = TcpStream::connect(addr).await.unwrap();
                let (server, _) = listener.accept().await.unwrap();
                // Reads in flight on both sides, dropped before any data arrives.
                let mut a = Box::pin(client.read(Vec::with_capacity(64)));
                let mut b = Box::pin(server.read(Vec::with_capacity(64)));
                assert!(a.as_mut().poll(&mut cx).is_pending());
                assert!(b.as_mut().poll(&mut cx).is_pending());
                drop((a, b));
                // A read spawned as a task and aborted mid-wait.
                let task = zokio::spawn(async move {
                    let _ = client.read(Vec::with_capacity(64)).await;
                });
                zokio::task::yield_now().await;
                task.abort();
                let _ = task.await;
                drop(server);
            }
        });
        drop(rt);
    }
    assert_eq!(open_fds(), before, "file descriptors leaked");
}
