//! `zokio::pin!` in both of Tokio's forms, and `zokio::time::Duration`, as a Tokio user
//! writes them.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Pending on its first poll, ready with its count of polls after that: a future that must
/// be polled again in place.
struct TwoPolls(u32);

impl Future for TwoPolls {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.0 += 1;
        if self.0 < 2 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(self.0)
        }
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn pin_shadows_named_futures_so_they_are_polled_in_place() {
    let out = block_on(async {
        let a = TwoPolls(0);
        let b = async { 5u32 };
        zokio::pin!(a, b);
        // Polled by reference: the futures stay where they were pinned.
        let first: Pin<&mut TwoPolls> = a.as_mut();
        assert_eq!(first.get_mut().0, 0);
        (&mut a).await + (&mut b).await
    });
    assert_eq!(out, 2 + 5);
}

#[test]
fn pin_declares_and_pins_with_let() {
    let out = block_on(async {
        zokio::pin! {
            let sleep = zokio::time::sleep(zokio::time::Duration::from_millis(1));
            let value = async { 3u32 };
        }
        (&mut sleep).await;
        (&mut value).await
    });
    assert_eq!(out, 3);
}

#[test]
fn duration_is_std_duration() {
    let d: std::time::Duration = zokio::time::Duration::from_micros(1500);
    assert_eq!(d.as_micros(), 1500);
}
