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

/// The I/O, process and signal types added for Tokio's API are Send and Sync as Tokio's
/// are, and the ones Tokio declares unwind-safe are too.
#[test]
fn io_process_and_signal_types_match_tokio() {
    use std::os::fd::OwnedFd;
    send_sync::<zokio::fs::ReadDir>();
    send_sync::<zokio::fs::DirEntry>();
    send_sync::<zokio::fs::OpenOptions>();
    send_sync::<zokio::io::unix::AsyncFd<OwnedFd>>();
    send_sync::<zokio::io::DuplexStream>();
    send_sync::<zokio::io::Stdin>();
    send_sync::<zokio::net::TcpSocket>();
    send_sync::<zokio::net::UnixSocket>();
    send_sync::<zokio::net::unix::OwnedReadHalf>();
    send_sync::<zokio::net::unix::OwnedWriteHalf>();
    send_sync::<zokio::net::unix::pipe::Sender>();
    send_sync::<zokio::net::unix::pipe::Receiver>();
    send_sync::<zokio::process::Child>();
    send_sync::<zokio::process::Command>();
    send_sync::<zokio::signal::unix::Signal>();
    send_sync::<zokio::sync::SetOnce<u8>>();
    send_sync::<zokio::sync::OwnedNotified>();
    fn future_send<F: std::future::Future + Send + 'static>(_: F) {}
    // Tokio's `status` and `output` spawn at the call and do not borrow the command
    // (type-checked only: the closure is never called).
    let _ = || {
        future_send(zokio::process::Command::new("true").status());
        future_send(zokio::process::Command::new("true").output());
        future_send(zokio::signal::ctrl_c());
    };

    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    unwind_safe::<zokio::sync::Notify>();
    unwind_safe::<zokio::task::JoinHandle<()>>();
    unwind_safe::<zokio::net::TcpListener>();
    unwind_safe::<zokio::net::TcpSocket>();
    unwind_safe::<zokio::net::TcpStream>();
    unwind_safe::<zokio::net::UdpSocket>();
    unwind_safe::<zokio::net::UnixDatagram>();
    unwind_safe::<zokio::net::UnixListener>();
    unwind_safe::<zokio::net::UnixStream>();
}
