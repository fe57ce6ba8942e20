//! `signal::unix::signal` and `signal::ctrl_c` on every scheduler flavor and driver.
//! Each test listens for its own signal numbers, and the tests that raise or receive take
//! [`serial`]: the handlers and the self-pipe are process-wide, and a listener of one test
//! that drains the pipe delivers every pending signal, so a drain by a parallel test
//! between two `raise` calls of another splits deliveries that test expects to coalesce.

#![cfg(not(loom))]

use futures::FutureExt;
use std::io;
use std::task::Poll;
use zokio::signal::unix::{signal, SignalKind};

mod support;
use support::flavors;

/// Held by each test that raises or receives signals (see the module docs).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory preconditions; the signal has a zokio handler by now,
    // so its default action (terminating the process) does not run.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

#[test]
fn a_raised_signal_is_received_on_every_runtime() {
    let _serial = serial();
    for rt in flavors() {
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
        });
    }
}

#[test]
fn every_listener_receives_and_deliveries_coalesce() {
    let _serial = serial();
    for rt in flavors() {
        rt.block_on(async {
            let mut a = signal(SignalKind::user_defined2()).unwrap();
            let mut b = signal(SignalKind::from_raw(libc::SIGUSR2)).unwrap();
            for _ in 0..3 {
                raise(libc::SIGUSR2);
            }
            assert_eq!(a.recv().await, Some(()));
            assert_eq!(b.recv().await, Some(()));
            // Three deliveries before anyone received are one.
            assert!(a.recv().now_or_never().is_none());
            assert!(b.recv().now_or_never().is_none());
            // A listener created after a delivery does not see it.
            let mut late = signal(SignalKind::user_defined2()).unwrap();
            assert!(late.recv().now_or_never().is_none());
            raise(libc::SIGUSR2);
            assert_eq!(late.recv().await, Some(()));
            assert_eq!(a.recv().await, Some(()));
            assert_eq!(b.recv().await, Some(()));
        });
    }
}

#[test]
fn a_signal_from_another_thread_wakes_a_waiting_task() {
    let _serial = serial();
    let signum = libc::SIGRTMIN() + 3;
    for rt in flavors() {
        rt.block_on(async {
            let mut rt_signal = signal(SignalKind::from_raw(signum)).unwrap();
            let waiter = zokio::spawn(async move { rt_signal.recv().await });
            let sender = std::thread::spawn(move || {
                // SAFETY: no memory preconditions; the signal has a handler.
                assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
            });
            assert_eq!(waiter.await.unwrap(), Some(()));
            sender.join().unwrap();
        });
    }
}

#[test]
fn ctrl_c_completes_on_sigint() {
    let _serial = serial();
    for rt in flavors() {
        rt.block_on(async {
            let mut ctrl_c = std::pin::pin!(zokio::signal::ctrl_c());
            // The first poll installs the handler and starts listening.
            assert!(matches!(futures::poll!(&mut ctrl_c), Poll::Pending));
            raise(libc::SIGINT);
            ctrl_c.await.unwrap();
        });
    }
}

#[test]
fn signals_that_cannot_be_listened_for_are_errors() {
    for rt in flavors() {
        rt.block_on(async {
            for signum in [
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGSEGV,
                libc::SIGILL,
                libc::SIGFPE,
                0,
                -1,
                libc::SIGRTMAX() + 1,
            ] {
                let e = signal(SignalKind::from_raw(signum)).unwrap_err();
                assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{signum}: {e}");
            }
        });
    }
    // Outside a runtime: an error, and no handler installed.
    let e = signal(SignalKind::window_change()).unwrap_err();
    assert!(e.to_string().contains("runtime"), "{e}");
}

#[test]
fn a_listener_of_a_runtime_that_shut_down_receives_none() {
    let _serial = serial();
    let signum = libc::SIGRTMIN() + 4;
    for (rt, other) in flavors().into_iter().zip(flavors()) {
        let mut s = rt.block_on(async { signal(SignalKind::from_raw(signum)).unwrap() });
        drop(rt);
        assert_eq!(other.block_on(s.recv()), None);
    }
}
