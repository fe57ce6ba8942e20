//! `local-sync`'s `!Send` channels and semaphore behind the adapter traits, wrapped in
//! [`Local`]: the primitives of the thread-per-core adapters (monoio's authors wrote
//! `local-sync` for one-thread runtimes; compio has none of its own), and a `yield_now` for
//! runtimes without one. Each is made on, and only used on, one shard thread: every method
//! panics on any other thread (see [`Local`]).

use super::{Closed, Local, MpscReceiver, MpscSender, OneshotSender, UnboundedSender};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is pending once and wakes itself, so that its task goes to the back of its
/// runtime's run queue: `yield_now` for runtimes that have none.
#[derive(Debug, Default)]
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The sending half of a `local_sync` oneshot channel.
#[derive(Debug)]
pub struct LocalOneshotSender<T>(Local<local_sync::oneshot::Sender<T>>);

impl<T: Send + 'static> OneshotSender<T> for LocalOneshotSender<T> {
    fn send(self, value: T) -> Result<(), T> {
        self.0.into_inner().send(value)
    }
}

/// The receiving half of a `local_sync` oneshot channel: `None` if the sender was dropped.
#[derive(Debug)]
pub struct LocalOneshotReceiver<T>(Local<local_sync::oneshot::Receiver<T>>);

impl<T> Future for LocalOneshotReceiver<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.0).poll(cx).map(Result::ok)
    }
}

/// The sending half of a `local_sync` bounded mpsc channel.
#[derive(Debug)]
pub struct LocalMpscSender<T>(Local<local_sync::mpsc::bounded::Tx<T>>);

impl<T> Clone for LocalMpscSender<T> {
    fn clone(&self) -> Self {
        LocalMpscSender(self.0.clone())
    }
}

impl<T: Send + 'static> MpscSender<T> for LocalMpscSender<T> {
    fn send(&self, value: T) -> impl Future<Output = Result<(), Closed>> + Send {
        let send = Local::new(self.0.get().send(value));
        async move { send.await.map_err(|_| Closed) }
    }
}

/// The receiving half of a `local_sync` bounded mpsc channel.
#[derive(Debug)]
pub struct LocalMpscReceiver<T>(Local<local_sync::mpsc::bounded::Rx<T>>);

impl<T: Send + 'static> MpscReceiver<T> for LocalMpscReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        Local::new(self.0.get_mut().recv())
    }
}

/// The sending half of a `local_sync` unbounded mpsc channel.
#[derive(Debug)]
pub struct LocalUnboundedSender<T>(Local<local_sync::mpsc::unbounded::Tx<T>>);

impl<T> Clone for LocalUnboundedSender<T> {
    fn clone(&self) -> Self {
        LocalUnboundedSender(self.0.clone())
    }
}

impl<T: Send + 'static> UnboundedSender<T> for LocalUnboundedSender<T> {
    fn send(&self, value: T) -> Result<(), Closed> {
        self.0.get().send(value).map_err(|_| Closed)
    }
}

/// The receiving half of a `local_sync` unbounded mpsc channel.
#[derive(Debug)]
pub struct LocalUnboundedReceiver<T>(Local<local_sync::mpsc::unbounded::Rx<T>>);

impl<T: Send + 'static> MpscReceiver<T> for LocalUnboundedReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send {
        Local::new(self.0.get_mut().recv())
    }
}

/// `local_sync`'s semaphore.
#[derive(Debug)]
pub struct LocalSemaphore(Local<local_sync::semaphore::Semaphore>);

impl super::AsyncSemaphore for LocalSemaphore {
    fn new(permits: usize) -> Self {
        LocalSemaphore(Local::new(local_sync::semaphore::Semaphore::new(permits)))
    }

    type Permit<'a> = Local<local_sync::semaphore::SemaphorePermit<'a>>;

    fn acquire(&self) -> impl Future<Output = Self::Permit<'_>> + Send {
        let acquire = Local::new(self.0.get().acquire());
        async move { Local::new(acquire.await.expect("benchmarks never close a semaphore")) }
    }

    fn available_permits(&self) -> usize {
        self.0.get().available_permits()
    }
}

/// A new `local_sync` oneshot channel.
pub fn oneshot<T>() -> (LocalOneshotSender<T>, LocalOneshotReceiver<T>) {
    let (tx, rx) = local_sync::oneshot::channel();
    (
        LocalOneshotSender(Local::new(tx)),
        LocalOneshotReceiver(Local::new(rx)),
    )
}

/// A new `local_sync` bounded mpsc channel of `capacity` messages.
pub fn mpsc<T>(capacity: usize) -> (LocalMpscSender<T>, LocalMpscReceiver<T>) {
    let (tx, rx) = local_sync::mpsc::bounded::channel(capacity);
    (
        LocalMpscSender(Local::new(tx)),
        LocalMpscReceiver(Local::new(rx)),
    )
}

/// A new `local_sync` unbounded mpsc channel.
pub fn unbounded<T>() -> (LocalUnboundedSender<T>, LocalUnboundedReceiver<T>) {
    let (tx, rx) = local_sync::mpsc::unbounded::channel();
    (
        LocalUnboundedSender(Local::new(tx)),
        LocalUnboundedReceiver(Local::new(rx)),
    )
}
