//! Compile-time checks that the public types are Send/Sync where users rely on it
//! (sharing a Runtime across threads, moving handles into tasks).

#![allow(dead_code)]

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<zokio::runtime::Runtime>();
    send_sync::<zokio::runtime::Handle>();
    send_sync::<zokio::runtime::RuntimeMetrics>();
    send_sync::<zokio::task::JoinHandle<u32>>();
    send_sync::<zokio::task::AbortHandle>();
    send_sync::<zokio::task::JoinError>();
    send::<zokio::task::JoinSet<u32>>();
    send_sync::<zokio::sync::oneshot::Sender<u32>>();
    send_sync::<zokio::sync::oneshot::Receiver<u32>>();
    send::<zokio::runtime::Builder>();
    // The futures users await inside tasks must be Send too.
    fn future_send<F: std::future::Future + Send>(_: F) {}
    future_send(zokio::task::yield_now());
    future_send(async { zokio::task::JoinSet::<u8>::new().join_next().await });
    future_send(zokio::task::JoinSet::<u8>::new().join_all());
    future_send(zokio::task::JoinSet::<Result<u8, String>>::new().try_join_all());
    // A JoinHandle is Sync even when the output is only Send.
    sync::<zokio::task::JoinHandle<std::cell::Cell<u8>>>();
}

/// Handles that Tokio makes `Unpin` whatever they carry, so that `Pin<&mut Self>` turns
/// back into `&mut Self` (a `Stream` adapter over a receiver).
#[test]
fn channel_halves_are_unpin_for_any_message() {
    fn unpin<T: Unpin>() {}
    type NotUnpin = std::marker::PhantomPinned;
    unpin::<zokio::sync::mpsc::Receiver<NotUnpin>>();
    unpin::<zokio::sync::mpsc::UnboundedReceiver<NotUnpin>>();
    unpin::<zokio::sync::mpsc::Sender<NotUnpin>>();
    unpin::<zokio::sync::oneshot::Receiver<NotUnpin>>();
    unpin::<zokio::task::JoinHandle<NotUnpin>>();
}
