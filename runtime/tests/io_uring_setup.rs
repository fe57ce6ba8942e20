//! `Builder::io_uring_entries` and `Builder::io_uring_sqpoll` on both scheduler flavors:
//! rings set up as asked serve sockets, files, timers and bursts of operations larger
//! than the rings themselves (a full submission queue, completions in the kernel's
//! overflow list), the metrics report the set-up, and bad values are refused by `build()`.
//! Skipped, with a note, where the kernel refuses io_uring (`io_uring_denied.rs` covers
//! that case).

#![cfg(not(loom))]

use std::io::ErrorKind;
use std::time::Duration;
use zokio::runtime::{Builder, IoDriver, Runtime};

mod support;

fn io_uring_here() -> bool {
    support::drivers().contains(&IoDriver::IoUring)
}

/// Both flavors with the same ring options.
fn runtimes(configure: impl Fn(&mut Builder)) -> Vec<(&'static str, Runtime)> {
    let mut current = Builder::new_current_thread();
    let mut multi = Builder::new_multi_thread();
    multi.worker_threads(2);
    configure(&mut current);
    configure(&mut multi);
    vec![
        ("current_thread", current.build().unwrap()),
        ("multi_thread", multi.build().unwrap()),
    ]
}

/// Sockets, files, timers, and 600 operations in flight at once from 60 tasks.
fn serve(flavor: &str, rt: &Runtime) {
    // One file per call: the tests of this binary run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "zokio-io-uring-setup-{}-{flavor}-{call}",
        std::process::id()
    ));
    rt.block_on(async {
        support::echo_once().await;
        zokio::fs::write(&path, b"ring set-up").await.unwrap();
        assert_eq!(zokio::fs::read(&path).await.unwrap(), b"ring set-up");
        zokio::fs::remove_file(&path).await.unwrap();
        zokio::time::sleep(Duration::from_millis(1)).await;
        let tasks: Vec<_> = (0..60)
            .map(|_| {
                zokio::spawn(async {
                    let ops: Vec<_> = (0..10).map(|_| zokio::io::nop()).collect();
                    for op in ops {
                        op.await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let m = rt.metrics();
    assert!(
        m.io_submitted_entries() >= 600,
        "{flavor}: {}",
        m.io_submitted_entries()
    );
}

#[test]
fn rings_of_the_sizes_asked_for_serve() {
    if !io_uring_here() {
        return;
    }
    for (sq, cq, reported) in [(200, 1000, (256, 1024)), (4, 8, (4, 8))] {
        for (flavor, rt) in runtimes(|b| {
            b.io_uring_entries(sq, cq);
        }) {
            let m = rt.metrics();
            assert_eq!(m.io_driver(), IoDriver::IoUring, "{flavor}");
            assert_eq!(m.io_uring_entries(), Some(reported), "{flavor}");
            assert_eq!(m.io_uring_sqpoll(), None, "{flavor}");
            serve(flavor, &rt);
        }
    }
    // The default, for comparison; and none on epoll.
    let rt = Builder::new_current_thread()
        .io_driver(IoDriver::IoUring)
        .build()
        .unwrap();
    assert_eq!(rt.metrics().io_uring_entries(), Some((128, 512)));
    let rt = Builder::new_current_thread()
        .io_driver(IoDriver::Epoll)
        .build()
        .unwrap();
    assert_eq!(rt.metrics().io_uring_entries(), None);
}

#[test]
fn sqpoll_rings_serve() {
    if !io_uring_here() {
        return;
    }
    for entries in [None, Some((4, 8))] {
        for (flavor, rt) in runtimes(|b| {
            b.io_uring_sqpoll(Duration::from_millis(10));
            if let Some((sq, cq)) = entries {
                b.io_uring_entries(sq, cq);
            }
        }) {
            let m = rt.metrics();
            assert_eq!(m.io_driver(), IoDriver::IoUring, "{flavor}");
            assert_eq!(
                m.io_uring_sqpoll(),
                Some(Duration::from_millis(10)),
                "{flavor}"
            );
            serve(flavor, &rt);
            // Again after the polling thread has gone idle: the next submission wakes it.
            std::thread::sleep(Duration::from_millis(30));
            serve(flavor, &rt);
        }
    }
}

/// A builder adjustment.
type Configure = &'static dyn Fn(&mut Builder);

#[test]
fn bad_ring_options_are_refused_by_build() {
    let cases: [(Configure, &str); 7] = [
        (
            &|b| {
                b.io_uring_entries(0, 8);
            },
            "io_uring_entries: 0 submission",
        ),
        (
            &|b| {
                b.io_uring_entries(64, 32);
            },
            "io_uring_entries: 32 completion",
        ),
        (
            &|b| {
                b.io_uring_entries(65_536, 65_536);
            },
            "io_uring_entries: 65536 submission",
        ),
        (
            &|b| {
                b.io_uring_entries(8, 70_000);
            },
            "io_uring_entries: 70000 completion",
        ),
        (
            &|b| {
                b.io_uring_sqpoll(Duration::ZERO);
            },
            "io_uring_sqpoll: idle time",
        ),
        (
            &|b| {
                b.io_uring_sqpoll(Duration::from_micros(500));
            },
            "io_uring_sqpoll: idle time",
        ),
        (
            &|b| {
                b.io_driver(IoDriver::Epoll).io_uring_entries(256, 1024);
            },
            "epoll driver",
        ),
    ];
    for (configure, says) in cases {
        for mut builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
            configure(&mut builder);
            let err = builder.build().map(drop).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            assert!(
                err.to_string().contains(says),
                "{err:?} does not say {says:?}"
            );
        }
    }
}
