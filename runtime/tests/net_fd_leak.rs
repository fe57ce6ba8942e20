//! Dropping in-flight operations and the sockets themselves leaks no file descriptor
//! (epoll sets, rings, eventfds, sockets and files all closed), on both I/O drivers. Alone
//! in its test binary so that no other test opens descriptors while this one counts them.

#![cfg(not(loom))]

use std::future::Future;
use std::task::{Context, Waker};
use zokio::net::{TcpListener, TcpStream};

mod support;

/// The tests here count descriptors, so they take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn cancelled_reads_and_accepts_leak_no_fd() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = open_fds();
    for rt in support::flavors() {
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
                let mut a = Box::pin(client.read_owned(Vec::with_capacity(64)));
                let mut b = Box::pin(server.read_owned(Vec::with_capacity(64)));
                assert!(a.as_mut().poll(&mut cx).is_pending());
                assert!(b.as_mut().poll(&mut cx).is_pending());
                drop((a, b));
                // A read spawned as a task and aborted mid-wait.
                let task = zokio::spawn(async move {
                    let _ = client.read_owned(Vec::with_capacity(64)).await;
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

/// File operations dropped mid-flight: on io_uring each is cancelled and its buffer kept
/// until the kernel's completion; an open that completes after the cancel has its new fd
/// closed. On epoll they finish on the blocking pool.
#[test]
fn cancelled_file_operations_leak_no_fd() {
    // The turn first: writing the data file opens a descriptor, which the other test would
    // count if it took its "before" meanwhile.
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("zokio-fd-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data");
    std::fs::write(&path, vec![7u8; 1 << 16]).unwrap();
    let before = open_fds();
    for rt in support::flavors() {
        let path = path.clone();
        rt.block_on(async move {
            let mut cx = Context::from_waker(Waker::noop());
            for i in 0..200 {
                // An open polled once (submitted) and dropped.
                let mut open = Box::pin(zokio::fs::File::open(&path));
                let _ = open.as_mut().poll(&mut cx);
                drop(open);
                // A read polled once and dropped, its file dropped right after.
                let file = zokio::fs::File::open(&path).await.unwrap();
                let mut read = Box::pin(file.read_at(Vec::with_capacity(1 << 16), i * 64));
                let _ = read.as_mut().poll(&mut cx);
                drop(read);
                drop(file);
                // A whole-file read aborted as a task.
                let p = path.clone();
                let task = zokio::spawn(async move { zokio::fs::read(&p).await });
                if i % 2 == 0 {
                    task.abort();
                }
                let _ = task.await;
            }
            // A read that completes normally still sees the data.
            let data = zokio::fs::read(&path).await.unwrap();
            assert_eq!(data, vec![7u8; 1 << 16]);
        });
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(open_fds(), before, "file descriptors leaked");
}
