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
