//! Unix signals as streams: [`signal`] gives a [`Signal`] that receives each delivery of
//! one [`SignalKind`] (see the [module docs](super) for how).

use crate::io::unix::AsyncFd;
use crate::loom::{lock, Mutex};
use std::collections::HashMap;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

/// A signal number, with Tokio's constructors for the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal by number (`libc::SIGUSR1`, `libc::SIGRTMIN() + 1`, ...); [`signal`]
    /// rejects the ones that cannot be listened for.
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGALRM`: a timer set by `alarm(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process exited or stopped.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal hung up; daemons take it as "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: an interrupt (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O is possible on a descriptor set up for it.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe or socket whose reader is gone.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: quit (Ctrl-\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a polite request to terminate.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal's window size changed.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for libc::c_int {
    fn from(kind: SignalKind) -> libc::c_int {
        kind.0
    }
}

/// Receives the deliveries of one signal, from [`signal`]. Deliveries that arrive while
/// nobody receives coalesce into one. Holds one file descriptor (its duplicate of the
/// self-pipe) and is registered with the I/O driver of the runtime it was created on.
#[derive(Debug)]
pub struct Signal {
    signum: libc::c_int,
    /// Key of this listener's waker in its slot.
    id: u64,
    /// The slot's generation this listener has received up to.
    seen: u64,
    /// A duplicate of the self-pipe's read end, on this runtime's I/O driver.
    pipe: AsyncFd<UnixStream>,
}

/// Starts listening for `kind`, installing its handler the first time (see the
/// [module docs](super)). Only deliveries after this call are received.
///
/// # Errors
/// `InvalidInput` for a signal that cannot be listened for (`SIGKILL`, `SIGSTOP`,
/// `SIGILL`, `SIGFPE`, `SIGSEGV`, or not a signal number); outside a zokio runtime or
/// after its shutdown (`Other`); a failure to create the self-pipe or its duplicate, or
/// to install the handler (the OS error).
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.0;
    if signum <= 0 || signum > libc::SIGRTMAX() || signal_hook_registry::FORBIDDEN.contains(&signum)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signum} cannot be listened for"),
        ));
    }
    let globals = globals()?;
    let slot = &globals.slots[signum as usize];
    let dup = globals.receiver.try_clone()?;
    // Registered first: outside a runtime this fails before a handler is installed.
    let pipe = AsyncFd::owned(dup, crate::io::Interest::READABLE)?;
    slot.install(signum, globals.sender.as_raw_fd())?;
    Ok(Signal {
        signum,
        id: globals.next_id.fetch_add(1, SeqCst),
        seen: slot.generation.load(SeqCst),
        pipe,
    })
}

impl Signal {
    /// Waits for the next delivery. `None` once the runtime this listener was created on
    /// has shut down (nothing more can be received).
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery, registering the task to be woken.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        // `Signal` exists only once the globals do.
        let Some(globals) = GLOBALS.get() else {
            return Poll::Ready(None);
        };
        let slot = &globals.slots[self.signum as usize];
        loop {
            let generation = slot.generation.load(SeqCst);
            if generation != self.seen {
                self.seen = generation;
                return Poll::Ready(Some(()));
            }
            slot.register(self.id, cx.waker());
            // A delivery between the first load and the registration woke nobody.
            if slot.generation.load(SeqCst) != self.seen {
                continue;
            }
            match self.pipe.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Ready(Ok(mut ready)) => {
                    drain(self.pipe.get_ref());
                    ready.clear_ready();
                    globals.deliver_pending();
                }
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Some(globals) = GLOBALS.get() {
            let slot = &globals.slots[self.signum as usize];
            lock(&slot.waiters).remove(&self.id);
        }
    }
}

/// Reads the self-pipe until it is empty (or fails: a stray error leaves it to the next
/// event).
fn drain(mut pipe: &UnixStream) {
    let mut buf = [0u8; 128];
    while matches!(pipe.read(&mut buf), Ok(n) if n > 0) {}
}

/// Process-wide state, made by the first [`signal`] call.
struct Globals {
    /// The self-pipe's write end, written by the handlers.
    sender: UnixStream,
    /// Its read end; each `Signal` registers a duplicate.
    receiver: UnixStream,
    /// One slot per signal number, `0..=SIGRTMAX`.
    slots: Box<[Slot]>,
    next_id: AtomicU64,
}

/// One signal's delivery state.
#[derive(Default)]
struct Slot {
    /// Set by the handler, taken by whoever drains the pipe.
    pending: AtomicBool,
    /// Deliveries so far.
    generation: AtomicU64,
    /// Whether the handler is installed: the result of the first attempt.
    installed: OnceLock<Result<(), (io::ErrorKind, String)>>,
    /// Wakers of this signal's listeners, by listener id.
    waiters: Mutex<HashMap<u64, Waker>>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();

fn globals() -> io::Result<&'static Globals> {
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let (sender, receiver) = UnixStream::pair()?;
    sender.set_nonblocking(true)?;
    receiver.set_nonblocking(true)?;
    let slots = (0..=libc::SIGRTMAX()).map(|_| Slot::default()).collect();
    // Two first callers race: one pair is kept, the other closed.
    Ok(GLOBALS.get_or_init(|| Globals {
        sender,
        receiver,
        slots,
        next_id: AtomicU64::new(0),
    }))
}

impl Globals {
    /// Delivers every pending signal to its listeners. Called after draining the pipe.
    fn deliver_pending(&self) {
        for slot in self.slots.iter() {
            if slot.pending.swap(false, SeqCst) {
                slot.generation.fetch_add(1, SeqCst);
                for waker in lock(&slot.waiters).values() {
                    waker.wake_by_ref();
                }
            }
        }
    }
}

impl Slot {
    /// Installs the handler for `signum` once; later calls return the first result.
    fn install(&'static self, signum: libc::c_int, sender: RawFd) -> io::Result<()> {
        let result = self.installed.get_or_init(|| {
            let pending = &self.pending;
            let action = move || {
                // Only async-signal-safe work: an atomic store and a write(2), with the
                // interrupted code's errno kept.
                // SAFETY: `__errno_location` returns this thread's errno slot.
                let errno = unsafe { *libc::__errno_location() };
                pending.store(true, SeqCst);
                let byte = 1u8;
                // SAFETY: `sender` is the self-pipe's write end, open for the process's
                // life (the globals are never dropped); one byte from a live local.
                unsafe { libc::write(sender, (&byte as *const u8).cast(), 1) };
                // SAFETY: as above.
                unsafe { *libc::__errno_location() = errno };
            };
            // SAFETY: the action is async-signal-safe (above) and `signum` is not one of
            // `FORBIDDEN` (checked by `signal`).
            unsafe { signal_hook_registry::register(signum, action) }
                .map(drop)
                .map_err(|e| (e.kind(), e.to_string()))
        });
        result
            .clone()
            .map_err(|(kind, text)| io::Error::new(kind, text))
    }

    /// Stores `waker` for listener `id`, unless the one stored would wake the same task.
    fn register(&self, id: u64, waker: &Waker) {
        let mut waiters = lock(&self.waiters);
        match waiters.get_mut(&id) {
            Some(w) if w.will_wake(waker) => {}
            Some(w) => w.clone_from(waker),
            None => {
                waiters.insert(id, waker.clone());
            }
        }
    }
}
