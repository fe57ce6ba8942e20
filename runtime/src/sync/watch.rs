//! A channel that holds one value, the latest sent: receivers see changes, not every
//! value (Tokio's `sync::watch`, same API).
//!
//! ## Design
//!
//! The value sits behind a read-write lock; a state word holds a version (bumped by 2 on
//! every change, *while the write lock is held*, so a reader that loads the version under
//! the read lock knows which version it is looking at) and a `CLOSED` bit (the last
//! sender is gone). A receiver remembers the version it last marked seen. Waiting for a
//! change creates a [`Notify`] waiter *before* checking the version (a `notify_waiters`
//! after that creation wakes it even before its first poll), so a change between the
//! check and the wait is never missed. Receivers and senders are counted apart: the last
//! sender's drop closes the channel and wakes the receivers; the last receiver's drop
//! wakes the senders waiting in [`Sender::closed`].

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{read, write, Arc, RwLock, RwLockReadGuard};
use crate::sync::Notify;
use std::fmt;
use std::ops::Deref;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// The error types of this channel.
pub mod error {
    use std::error::Error;
    use std::fmt;

    /// No receiver is left; the value not sent is returned.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("channel closed")
        }
    }

    impl<T> Error for SendError<T> {}

    /// Every sender is gone (and, for `changed`, the last value was already seen).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.pad("channel closed")
        }
    }

    impl Error for RecvError {}
}

use error::{RecvError, SendError};

/// Set in the state word once the last sender is dropped.
const CLOSED: usize = 1;
/// What one change adds to the state word.
const STEP: usize = 2;

struct Shared<T> {
    value: RwLock<T>,
    /// `version | CLOSED`; the version counts in steps of 2 and wraps.
    state: AtomicUsize,
    receivers: AtomicUsize,
    senders: AtomicUsize,
    /// Receivers waiting for a change (or the close).
    changed: Notify,
    /// Senders waiting for the last receiver to go.
    receivers_gone: Notify,
}

impl<T> Shared<T> {
    fn version(&self) -> usize {
        self.state.load(SeqCst) & !CLOSED
    }
}

/// The sending half: replaces or modifies the value. Cloneable; the channel closes when
/// the last clone drops.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: reads the value and waits for changes. Each clone tracks which
/// version it has seen on its own.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version last marked seen.
    version: usize,
}

/// A read guard on the value. Holding it blocks senders (a write waits for every read
/// guard to go), so keep it short and never across an `.await`.
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value was not yet marked seen by the receiver that borrowed it (always
    /// `false` for a sender's borrow).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A channel holding `init`; the receiver starts with `init` marked seen.
///
/// # Examples
/// ```
/// # zokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = zokio::sync::watch::channel("starting");
/// let watcher = zokio::spawn(async move {
///     rx.changed().await.unwrap();
///     *rx.borrow_and_update()
/// });
/// tx.send("ready").unwrap();
/// assert_eq!(watcher.await.unwrap(), "ready");
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        senders: AtomicUsize::new(1),
        changed: Notify::new(),
        receivers_gone: Notify::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        version: 0,
    };
    (Sender { shared }, rx)
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = read(&self.shared.value);
        // Under the read lock the version cannot move (it changes under the write lock).
        let has_changed = self.shared.version() != self.version;
        Ref { inner, has_changed }
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = read(&self.shared.value);
        let current = self.shared.version();
        let has_changed = current != self.version;
        self.version = current;
        Ref { inner, has_changed }
    }

    /// Whether the value changed since this receiver last marked it seen.
    ///
    /// # Errors
    /// If every sender is gone, as in Tokio (even with an unseen change: read it with
    /// [`borrow_and_update`](Self::borrow_and_update)).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(SeqCst);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(state & !CLOSED != self.version)
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.state.load(SeqCst) & CLOSED != 0
    }

    /// Marks the current value unseen: the next [`changed`](Self::changed) returns at once.
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(STEP);
    }

    /// Marks the current value seen, without borrowing it.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen (read it with
    /// [`borrow`](Self::borrow)). Returns at once if there already is one. Cancel-safe.
    ///
    /// # Errors
    /// If every sender is gone and the last value was seen.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        crate::task::consume_budget().await;
        changed(&self.shared, &mut self.version).await
    }

    /// Waits until `f` accepts the value, checking the current one first (seen or not),
    /// then each new one, and returns it marked seen. A panic in `f` propagates (the lock
    /// is released first). Cancel-safe.
    ///
    /// # Errors
    /// If every sender is gone and no value since seen was accepted (the last one is still
    /// offered to `f` first).
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        crate::task::consume_budget().await;
        let mut closed = false;
        loop {
            {
                let inner = read(&self.shared.value);
                let current = self.shared.version();
                let has_changed = current != self.version;
                self.version = current;
                if !closed || has_changed {
                    match catch_unwind(AssertUnwindSafe(|| f(&inner))) {
                        Ok(true) => return Ok(Ref { inner, has_changed }),
                        Ok(false) => {}
                        Err(panic) => {
                            drop(inner);
                            resume_unwind(panic);
                        }
                    }
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = changed(&self.shared, &mut self.version).await.is_err();
        }
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Waits until the version differs from `version` (and takes it) or the channel closes.
async fn changed<T>(shared: &Shared<T>, version: &mut usize) -> Result<(), RecvError> {
    loop {
        // The waiter first, then the check: a change after this line wakes it.
        let notified = shared.changed.notified();
        let state = shared.state.load(SeqCst);
        if state & !CLOSED != *version {
            *version = state & !CLOSED;
            return Ok(());
        }
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        notified.await;
    }
}

impl<T> Clone for Receiver<T> {
    /// A receiver that has seen what this one has.
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Relaxed);
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, AcqRel) == 1 {
            self.shared.receivers_gone.notify_waiters();
        }
    }
}

impl<T> Sender<T> {
    /// A channel holding `init` with no receiver yet ([`subscribe`](Self::subscribe)
    /// makes them).
    pub fn new(init: T) -> Sender<T> {
        channel(init).0
    }

    /// Replaces the value and notifies the receivers.
    ///
    /// # Errors
    /// If there is no receiver: the value is returned, and the channel keeps its old one.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value, receivers or not, notifies the receivers, and returns the old
    /// value.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Modifies the value in place, receivers or not, and notifies the receivers.
    ///
    /// # Panics
    /// If `modify` panics: the receivers are not notified (the value may be half
    /// modified; they see it at their next read).
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place; notifies the receivers only if `modify` returns `true`
    /// (and returns that).
    ///
    /// # Panics
    /// As [`send_modify`](Self::send_modify).
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = write(&self.shared.value);
            match catch_unwind(AssertUnwindSafe(|| modify(&mut value))) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(panic) => {
                    drop(value);
                    resume_unwind(panic);
                }
            }
            // Under the write lock: see the module docs.
            self.shared.state.fetch_add(STEP, SeqCst);
        }
        self.shared.changed.notify_waiters();
        true
    }

    /// The current value (`has_changed` is always `false` on it).
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: read(&self.shared.value),
            has_changed: false,
        }
    }

    /// Whether no receiver is left.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until no receiver is left (at once if none is). Cancel-safe.
    pub async fn closed(&self) {
        crate::task::consume_budget().await;
        while self.receiver_count() > 0 {
            let notified = self.shared.receivers_gone.notified();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
            // A `subscribe` may have reopened it meanwhile: check again.
        }
    }

    /// A new receiver, with the current value marked seen.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Relaxed);
        Receiver {
            shared: self.shared.clone(),
            version: self.shared.version(),
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(SeqCst)
    }

    /// How many senders there are.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(SeqCst)
    }

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.fetch_add(1, Relaxed);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, SeqCst);
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("value", &*read(&self.shared.value))
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("value", &*read(&self.shared.value))
            .field("version", &self.version)
            .finish()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::future::block_on;
    use loom::thread;

    /// A change sent while the receiver decides to wait is never missed, and the last
    /// sender's drop ends the wait.
    #[test]
    fn loom_watch_change_or_close_is_never_missed() {
        loom::model(|| {
            let (tx, mut rx) = channel(0u32);
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                drop(tx);
            });
            block_on(async {
                // Either the change, or (after it) the close: never a hang.
                match rx.changed().await {
                    Ok(()) => assert_eq!(*rx.borrow_and_update(), 1),
                    Err(_) => unreachable!("closed before the change was seen"),
                }
                assert!(rx.changed().await.is_err());
            });
            sender.join().unwrap();
        });
    }

    /// The last receiver's drop wakes a sender waiting in `closed`.
    #[test]
    fn loom_watch_closed_sees_the_last_receiver_go() {
        loom::model(|| {
            let (tx, rx) = channel(());
            let rx2 = rx.clone();
            let a = thread::spawn(move || drop(rx));
            let b = thread::spawn(move || drop(rx2));
            block_on(tx.closed());
            assert!(tx.is_closed());
            a.join().unwrap();
            b.join().unwrap();
        });
    }
}
