//! The I/O driver choice and the io_uring submission path: which driver a runtime reports,
//! no-op round trips on both drivers, cancelled operations, and batching of SQEs from
//! many tasks into one `io_uring_enter`.

#![cfg(not(loom))]

use std::future::Future;
use std::task::{Context, Waker};
use zokio::runtime::{Builder, IoDriver};

mod support;

#[test]
fn driver_names_parse() {
    assert_eq!(IoDriver::from_name("epoll"), Some(IoDriver::Epoll));
    assert_eq!(IoDriver::from_name(" IO_URING "), Some(IoDriver::IoUring));
    assert_eq!(IoDriver::from_name("uring"), Some(IoDriver::IoUring));
    assert_eq!(IoDriver::from_name("auto"), Some(IoDriver::Auto));
    assert_eq!(IoDriver::from_name("kqueue"), None);
    for d in [IoDriver::Auto, IoDriver::IoUring, IoDriver::Epoll] {
        assert_eq!(IoDriver::from_name(d.name()), Some(d));
    }
}

#[test]
fn the_driver_asked_for_is_the_driver_reported() {
    for driver in support::drivers() {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .io_driver(driver)
            .build()
            .unwrap();
        assert_eq!(rt.metrics().io_driver(), driver);
    }
    // Auto resolves to one of the two.
    let rt = Builder::new_current_thread().build().unwrap();
    assert_ne!(rt.metrics().io_driver(), IoDriver::Auto);
}

#[test]
fn nops_complete_on_both_drivers() {
    for rt in support::flavors() {
        let driver = rt.metrics().io_driver();
        rt.block_on(async {
            for _ in 0..100 {
                zokio::io::nop().await.unwrap();
            }
            let tasks: Vec<_> = (0..32)
                .map(|_| zokio::spawn(async { zokio::io::nop().await }))
                .collect();
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        });
        let m = rt.metrics();
        match driver {
            IoDriver::IoUring => {
                assert!(
                    m.io_submitted_entries() >= 132,
                    "{}",
                    m.io_submitted_entries()
                );
                assert!(m.io_submit_calls() >= 1);
                assert!(m.io_submit_calls() <= m.io_submitted_entries());
            }
            _ => assert_eq!((m.io_submit_calls(), m.io_submitted_entries()), (0, 0)),
        }
    }
}

#[test]
fn nop_outside_a_runtime_is_an_error() {
    let err = futures::executor::block_on(zokio::io::nop()).unwrap_err();
    assert!(err.to_string().contains("inside a zokio runtime"), "{err}");
}

#[test]
fn dropped_operations_leave_the_ring_usable() {
    for rt in support::flavors() {
        rt.block_on(async {
            let mut cx = Context::from_waker(Waker::noop());
            for _ in 0..500 {
                let mut op = Box::pin(zokio::io::nop());
                let _ = op.as_mut().poll(&mut cx);
                drop(op);
            }
            zokio::io::nop().await.unwrap();
        });
    }
}

#[test]
fn sqes_from_many_tasks_share_a_submit_call() {
    if !support::drivers().contains(&IoDriver::IoUring) {
        return;
    }
    // One thread: the 64 tasks each queue a NOP before the worker next enters the kernel.
    let rt = Builder::new_current_thread()
        .io_driver(IoDriver::IoUring)
        .build()
        .unwrap();
    let (calls0, entries0) = (
        rt.metrics().io_submit_calls(),
        rt.metrics().io_submitted_entries(),
    );
    rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|_| zokio::spawn(async { zokio::io::nop().await }))
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
    let m = rt.metrics();
    let (calls, entries) = (
        m.io_submit_calls() - calls0,
        m.io_submitted_entries() - entries0,
    );
    assert!(entries >= 64, "{entries}");
    assert!(
        calls * 4 <= entries,
        "64 NOPs took {calls} submit calls for {entries} SQEs"
    );
}

/// The calling thread's context switches so far (`/proc/thread-self/status`): each time it
/// went to sleep, which is each time something woke it.
fn voluntary_switches() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches in /proc/thread-self/status")
}

/// A listener bound by a thread outside the runtime (the `block_on` caller) whose accept
/// loop runs on a worker: its connections do not wake the binding thread, now waiting
/// outside the runtime. On io_uring the kernel runs a poll's wake-ups as task work of the
/// thread that submitted the poll, so the poll must be submitted by the worker; submitted
/// by the binding thread, every connection woke it just to post the event.
#[test]
fn a_listener_bound_outside_the_workers_leaves_the_binding_thread_asleep() {
    use std::io::Read;
    const CONNECTIONS: usize = 100;
    for driver in support::drivers() {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .io_driver(driver)
            .build()
            .unwrap();
        let listener = rt
            .block_on(zokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            for _ in 0..CONNECTIONS {
                drop(listener.accept().await.unwrap());
            }
            done_tx.send(()).unwrap();
        });
        // One connection at a time, each accepted (and closed: EOF) before the next, so
        // each is an event of its own.
        let client = std::thread::spawn(move || {
            for _ in 0..CONNECTIONS {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                assert_eq!(s.read(&mut [0; 1]).unwrap(), 0);
            }
        });
        let before = voluntary_switches();
        done_rx.recv().unwrap();
        let woken = voluntary_switches() - before;
        client.join().unwrap();
        assert!(
            woken < CONNECTIONS as u64 / 2,
            "{driver:?}: the binding thread woke {woken} times for {CONNECTIONS} connections"
        );
    }
}
