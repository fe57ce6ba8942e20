//! One poller per worker: the registration slab, the park state, and a backend (an epoll
//! set or an io_uring ring) that the worker waits in.

use super::epoll::{Epoll, EpollScratch};
use super::scheduled_io::{ScheduledIo, SHUTDOWN};
use super::sys::{cvt, Event, GENERATION_MASK};
use super::uring::{OnCancel, Uring};
use crate::driver::IoDriver;
use crate::driver::RingConfig;
use crate::loom::{lock, lock_for_condvar, Condvar, CondvarMutex, Mutex};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
    Ordering::SeqCst,
};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

const EMPTY: usize = 0;
/// Parked in the backend (`epoll_wait` / `io_uring_enter`): an unpark writes the eventfd.
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
/// Parked on the condition variable (nothing registered or in flight): an unpark signals it.
const PARKED_CONDVAR: usize = 3;

/// Which thread registers a socket with a poller (see [`Poller::register`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registrant {
    /// The worker that parks on this poller.
    Owner,
    /// Another worker of the same runtime.
    Sibling,
    /// A thread that is no worker of this runtime.
    Outside,
}

#[derive(Debug)]
enum Backend {
    Epoll(Epoll),
    /// Set up on the first socket or operation (see [`Poller::ring`]).
    Uring(LazyRing),
}

/// A worker's ring, set up when the worker (or a thread submitting to it) first does I/O:
/// a ring costs 20 KiB of locked memory (SQ 128, CQ 512 by default), and workers that
/// never do I/O (most of a CPU-bound runtime's) park on the condvar and need none. Boxed:
/// a ring's state is some 400 bytes.
#[derive(Debug)]
struct LazyRing {
    ring: std::sync::OnceLock<Box<Uring>>,
    /// Serialises set-up, so two threads registering at once make one ring.
    init: Mutex<()>,
    setup: RingSetup,
}

/// How a runtime's rings are set up: the builder's sizes and SQPOLL idle time, and with
/// SQPOLL the ring (set up at build time, holding no operations) whose polling thread
/// every worker's ring shares.
#[derive(Clone, Default)]
pub(crate) struct RingSetup {
    pub(crate) config: RingConfig,
    pub(crate) sqpoll_anchor: Option<Arc<io_uring::IoUring>>,
}

impl std::fmt::Debug for RingSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingSetup")
            .field("config", &self.config)
            .field("sqpoll_anchor", &self.sqpoll_anchor.is_some())
            .finish()
    }
}

/// A worker's poller: its backend, registrations and park state.
#[derive(Debug)]
pub(crate) struct Poller {
    backend: Backend,
    /// Written by `unpark`: in the epoll set (non-blocking), or read by the ring (blocking).
    wake: OwnedFd,
    state: AtomicUsize,
    registry: Mutex<Slab>,
    /// Sockets registered plus io_uring operations in flight. A worker with none parks on
    /// `condvar` (a futex, quicker to wake than an eventfd into `epoll_wait`: measured,
    /// waking an epoll-parked worker raised zbench's `latency.task_wakeup` p99.9 from 49 µs
    /// to 100-190 µs).
    live: AtomicUsize,
    /// The CPU the owning worker was on when it last parked or polled this poller
    /// (`sched_getcpu`), `usize::MAX` before that: where accepted sockets whose packets
    /// arrive on that CPU are best registered (see `IoHandle::poller_for_accepted`). A hint:
    /// the kernel may have moved the thread since.
    cpu: AtomicUsize,
    lock: CondvarMutex<()>,
    condvar: Condvar,
    shutdown: AtomicBool,
    /// Waits on this poller by its owner, wrapping: a sibling worker that sees it unchanged
    /// for [`STALLED_AFTER`] while the owner is not parked treats the owner as stalled
    /// ([`IoPark::reap_stalled_siblings`]).
    polls: AtomicU64,
    /// What the siblings last saw of `polls` (`u64::MAX` before any looked), shared by all
    /// of them so that the runtime keeps one observation per worker, not one per pair.
    seen_polls: AtomicU64,
    /// When a sibling first saw `seen_polls` (or last saw the owner parked), in nanoseconds
    /// since the runtime's [`IoHandle`](super::IoHandle) was made; only raised, never
    /// lowered, so a sibling preempted between reading the clock and storing cannot move
    /// it back.
    seen_at: AtomicU64,
}

/// How long a poller with sockets may go without a wait by its owner, while the owner is
/// not parked, before a sibling worker treats the owner as stalled. Below the kernel's
/// time slice (3-4 ms), the time a worker descheduled in favour of another thread on its
/// CPU is gone; above the time a busy owner takes between two polls of its own (every
/// `event_interval` task polls, each of which may make system calls), so that siblings do
/// not take sockets, and with them their tasks, from owners that are merely busy.
const STALLED_AFTER: Duration = Duration::from_micros(1000);

/// While a poller's owner is parked, siblings refresh `Poller::seen_at` only once it is this
/// old, so that many siblings looking at one parked worker do not keep writing its cache
/// line: a stall is then found between `STALLED_AFTER - SEEN_REFRESH` and `STALLED_AFTER`
/// after the owner was last seen parked.
const SEEN_REFRESH: Duration = Duration::from_micros(125);

#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Entry>,
    free: Vec<u32>,
}

#[derive(Debug, Default)]
struct Entry {
    generation: u32,
    io: Option<Arc<ScheduledIo>>,
    fd: RawFd,
}

impl Slab {
    /// Frees the token's slot; returns whether it was live.
    fn release(&mut self, token: u64) -> bool {
        let (generation, index) = ((token >> 32) as u32, token as u32);
        if let Some(entry) = self.entries.get_mut(index as usize) {
            if entry.generation == generation && entry.io.is_some() {
                entry.io = None;
                entry.generation = entry.generation.wrapping_add(1) & GENERATION_MASK;
                self.free.push(index);
                return true;
            }
        }
        false
    }

    fn get(&self, token: u64) -> Option<&Entry> {
        let (generation, index) = ((token >> 32) as u32, token as u32);
        self.entries
            .get(index as usize)
            .filter(|e| e.generation == generation && e.io.is_some())
    }
}

impl Poller {
    /// A poller on `driver` (`Epoll` or `IoUring`; `Auto` is resolved by the caller).
    ///
    /// # Errors
    /// What `eventfd`, `epoll_create1`/`epoll_ctl` or `io_uring_setup` return.
    pub(crate) fn new(driver: IoDriver, setup: RingSetup) -> io::Result<Poller> {
        let uring = driver == IoDriver::IoUring;
        // The ring reads the eventfd with a READ, which must block (a non-blocking fd
        // would complete at once with EAGAIN); epoll wants it non-blocking.
        let flags = libc::EFD_CLOEXEC | if uring { 0 } else { libc::EFD_NONBLOCK };
        // SAFETY: a plain syscall; the returned fd is owned exactly once.
        let wake = unsafe { OwnedFd::from_raw_fd(cvt(libc::eventfd(0, flags))?) };
        let backend = if uring {
            if setup.config == RingConfig::default() {
                Uring::probe()?;
            }
            Backend::Uring(LazyRing {
                ring: std::sync::OnceLock::new(),
                init: Mutex::new(()),
                setup,
            })
        } else {
            Backend::Epoll(Epoll::new(wake.as_raw_fd())?)
        };
        Ok(Poller {
            backend,
            wake,
            state: AtomicUsize::new(EMPTY),
            registry: Mutex::new(Slab::default()),
            live: AtomicUsize::new(0),
            cpu: AtomicUsize::new(usize::MAX),
            lock: CondvarMutex::new(()),
            condvar: Condvar::new(),
            shutdown: AtomicBool::new(false),
            polls: AtomicU64::new(0),
            seen_polls: AtomicU64::new(u64::MAX),
            seen_at: AtomicU64::new(0),
        })
    }

    /// A sibling's look at this poller at `now` (nanoseconds since the runtime's
    /// `IoHandle` was made): whether its owner, not parked, has not waited on it for
    /// [`STALLED_AFTER`] since a sibling first saw its current wait count.
    fn stalled_at(&self, now: u64) -> bool {
        let polls = self.polls.load(Relaxed);
        if polls != self.seen_polls.load(Acquire) {
            // The time before the count (Release, paired with the Acquire above): a sibling
            // that reads the new count reads this time or a later one, never an older one.
            self.seen_at.fetch_max(now, Relaxed);
            self.seen_polls.store(polls, Release);
            return false;
        }
        let since = self.seen_at.load(Relaxed);
        let age = now.saturating_sub(since);
        if matches!(self.state.load(Relaxed), PARKED | PARKED_CONDVAR) {
            if age >= SEEN_REFRESH.as_nanos() as u64 {
                self.seen_at.fetch_max(now, Relaxed);
            }
            return false;
        }
        age >= STALLED_AFTER.as_nanos() as u64
    }

    /// See the `cpu` field: `None` until the owner first parks or polls.
    pub(crate) fn cpu(&self) -> Option<usize> {
        Some(self.cpu.load(Relaxed)).filter(|&c| c != usize::MAX)
    }

    /// Sockets registered plus io_uring operations in flight.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Relaxed)
    }

    /// Which backend this poller runs.
    pub(crate) fn driver(&self) -> IoDriver {
        match self.backend {
            Backend::Epoll(_) => IoDriver::Epoll,
            Backend::Uring(_) => IoDriver::IoUring,
        }
    }

    /// The ring, on the io_uring driver, if it has been set up.
    pub(crate) fn uring(&self) -> Option<&Uring> {
        match &self.backend {
            Backend::Uring(lazy) => lazy.ring.get().map(|r| &**r),
            Backend::Epoll(_) => None,
        }
    }

    /// The ring, set up now if this is the poller's first socket or operation. Called
    /// before `live` counts the new work, so a worker that then parks in the backend finds
    /// the ring there.
    ///
    /// # Errors
    /// What [`Uring::new`] returns (for example ENOMEM over the locked-memory limit).
    ///
    /// # Panics
    /// On an epoll poller.
    fn ring(&self) -> io::Result<&Uring> {
        let Backend::Uring(lazy) = &self.backend else {
            panic!("io_uring ring asked of an epoll poller");
        };
        if let Some(ring) = lazy.ring.get() {
            return Ok(ring);
        }
        let _init = lock(&lazy.init);
        if lazy.ring.get().is_none() {
            let ring = Box::new(Uring::new(
                self.wake.as_raw_fd(),
                &lazy.setup.config,
                lazy.setup.sqpoll_anchor.as_deref(),
            )?);
            let _ = lazy.ring.set(ring);
        }
        Ok(lazy.ring.get().expect("set above"))
    }

    /// Adds `fd` (read and write readiness) and returns its token; `by` says which thread
    /// registers it.
    ///
    /// On io_uring the kernel runs a poll's wake-ups as task work of the thread that
    /// submitted it. The owner's own registrations are queued for its next enter. A
    /// sibling worker's (an acceptor placing a socket here) are queued too, and the owner
    /// is unparked to submit them (one swap if it is running; it submits at its next tick,
    /// own-driver poll or park): submitted by the acceptor, every event of the socket
    /// waited for the acceptor's next syscall, or woke it just to post the completion.
    /// An outside thread (a `block_on` caller, the blocking pool) submits at once: queued
    /// for the owner, error events raised inside that thread's own syscalls on the new
    /// socket (a refused connect, a UDP port unreachable) were lost about once in 50 runs
    /// of the TCP tests, with every SQE submitted and the poll armed; the cause was not
    /// found, so that path stays as it was. A listener is the exception: it has no such
    /// events, and registered from outside it goes the sibling's way
    /// (`Registration::new_listener`).
    pub(crate) fn register(
        &self,
        fd: RawFd,
        io: Arc<ScheduledIo>,
        by: Registrant,
    ) -> io::Result<u64> {
        let token = {
            let mut slab = lock(&self.registry);
            let index = match slab.free.pop() {
                Some(i) => i,
                None => {
                    slab.entries.push(Entry::default());
                    (slab.entries.len() - 1) as u32
                }
            };
            let entry = &mut slab.entries[index as usize];
            entry.io = Some(io);
            entry.fd = fd;
            (u64::from(entry.generation) << 32) | u64::from(index)
        };
        let added = match &self.backend {
            Backend::Epoll(e) => e.add(fd, token),
            Backend::Uring(_) => self
                .ring()
                .and_then(|u| u.add(fd, token, by == Registrant::Outside)),
        };
        if let Err(e) = added {
            self.release(token);
            return Err(e);
        }
        self.add_live();
        if by == Registrant::Sibling && matches!(self.backend, Backend::Uring(_)) {
            self.unpark();
        }
        Ok(token)
    }

    /// One more socket or operation to wait for. A worker parked on the condvar does not
    /// see the backend: move it there. SeqCst pairs with the parker's store of
    /// PARKED_CONDVAR and its load of `live`: one of the two sides sees the other.
    pub(crate) fn add_live(&self) {
        self.live.fetch_add(1, SeqCst);
        if self.state.load(SeqCst) == PARKED_CONDVAR {
            self.unpark();
        }
    }

    /// Removes `fd` (before the caller closes it); an event for it still in flight finds
    /// the slot's generation changed.
    ///
    /// The slot is freed and the removal pushed under the registry lock, which `dispatch`
    /// also holds when it re-arms an ended io_uring poll: a re-arm is therefore either
    /// refused (slot gone) or queued before the removal, which is submitted at once along
    /// with everything queued before it. No poll outlives the registration, so none holds
    /// the socket open after its fd is closed.
    pub(crate) fn deregister(&self, fd: RawFd, token: u64) {
        let mut slab = lock(&self.registry);
        let live = slab.release(token);
        match &self.backend {
            Backend::Epoll(e) => e.delete(fd),
            // A registered socket set the ring up.
            Backend::Uring(_) => {
                if let Some(u) = self.uring() {
                    u.delete(token);
                }
            }
        }
        drop(slab);
        if live {
            self.live.fetch_sub(1, SeqCst);
        }
    }

    /// Frees the token's slot (a registration that failed).
    fn release(&self, token: u64) {
        lock(&self.registry).release(token);
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Every registered socket's waiters wake and see the shutdown.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        let all: Vec<Arc<ScheduledIo>> = lock(&self.registry)
            .entries
            .iter()
            .filter_map(|e| e.io.clone())
            .collect();
        for io in all {
            io.set_readiness(SHUTDOWN);
        }
        self.unpark();
    }

    /// Wakes the poller's thread if it is parked (in the backend or on the condvar);
    /// otherwise one swap.
    pub(crate) fn unpark(&self) {
        let prev = self.state.swap(NOTIFIED, SeqCst);
        if prev == PARKED_CONDVAR {
            // Taking the lock orders this notify after the parker's wait began (it set
            // PARKED_CONDVAR under the lock), so the signal cannot be missed.
            drop(lock_for_condvar(&self.lock));
            self.condvar.notify_one();
        } else if prev == PARKED {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd. The counter cannot
            // reach its 2^64-2 limit (each wake-up reads it), so a blocking eventfd never
            // blocks here.
            unsafe {
                libc::write(
                    self.wake.as_raw_fd(),
                    (&one as *const u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
    }

    /// Waits for events for at most `timeout` (`None`: until an event or an unpark) and
    /// dispatches them. Returns the number of socket events and completed operations.
    fn wait(&self, scratch: &mut Scratch, timeout: Option<Duration>) -> usize {
        scratch.events.clear();
        // Only the owner waits here: one writer, so no read-modify-write.
        self.polls
            .store(self.polls.load(Relaxed).wrapping_add(1), Relaxed);
        let ops = match &self.backend {
            Backend::Epoll(e) => {
                e.wait(&mut scratch.epoll, timeout, &mut scratch.events, true);
                0
            }
            // No ring yet: nothing registered or in flight, nothing to reap (a park with
            // `live` at zero goes to the condvar, not here).
            Backend::Uring(_) => {
                let Some(u) = self.uring() else {
                    return 0;
                };
                let (_, ops) = u.wait(timeout, &mut scratch.events, &mut scratch.wake);
                if ops > 0 {
                    self.live.fetch_sub(ops, SeqCst);
                }
                ops
            }
        };
        let n = self.dispatch(scratch);
        for w in scratch.wake.drain(..) {
            w.wake();
        }
        n + ops
    }

    /// A sibling worker's wait on this poller, which its owner has not polled for a while:
    /// takes the epoll set's ready sockets without sleeping and wakes their tasks (onto the
    /// caller's run queue), leaving an unpark for the owner. Nothing on io_uring, where a
    /// socket's poll completions are task work of the thread that armed them and no other
    /// thread can reap them. Returns the socket events dispatched.
    fn wait_as_sibling(&self, scratch: &mut Scratch) -> usize {
        let Backend::Epoll(e) = &self.backend else {
            return 0;
        };
        scratch.events.clear();
        e.wait(
            &mut scratch.epoll,
            Some(Duration::ZERO),
            &mut scratch.events,
            false,
        );
        // Readiness wakes its waiters inside `dispatch`; `scratch.wake` holds only the
        // wakers of io_uring operations.
        self.dispatch(scratch)
    }

    fn dispatch(&self, scratch: &mut Scratch) -> usize {
        let Scratch { events, ready, .. } = scratch;
        ready.clear();
        {
            let slab = lock(&self.registry);
            for ev in events.iter() {
                if let Some(entry) = slab.get(ev.token) {
                    let io = entry.io.clone().expect("filtered by get");
                    if ev.rearm {
                        if let Some(u) = self.uring() {
                            // Called on the owner's thread: submitted with its next enter.
                            if u.add(entry.fd, ev.token, false).is_err() {
                                ready.push((io.clone(), super::scheduled_io::ERROR));
                            }
                        }
                    }
                    ready.push((io, ev.readiness));
                }
            }
        }
        let n = ready.len();
        for (io, bits) in ready.drain(..) {
            if bits != 0 {
                #[cfg(feature = "tracing")]
                tracing::trace!(
                    target: "zokio::io::driver",
                    op = "readiness",
                    readiness = bits,
                );
                io.set_readiness(bits);
            }
        }
        n
    }

    /// Submits an io_uring operation on this poller's ring (see [`Uring::submit_op`]),
    /// counting it as live until its CQE.
    ///
    /// # Safety
    /// As [`Uring::submit_op`].
    pub(crate) unsafe fn submit_op<T: Send + 'static>(
        &self,
        data: T,
        build: impl FnOnce(&mut T) -> io_uring::squeue::Entry,
        on_cancel: OnCancel,
        owner: bool,
    ) -> Result<u64, (io::Error, T)> {
        let uring = match self.ring() {
            Ok(u) => u,
            Err(e) => return Err((e, data)),
        };
        self.add_live();
        // SAFETY: the caller's contract.
        let r = unsafe { uring.submit_op(data, build, on_cancel, !owner) };
        if r.is_err() {
            self.live.fetch_sub(1, SeqCst);
        }
        r
    }

    /// `(submit calls, SQEs submitted)` on io_uring; zeros on epoll.
    pub(crate) fn submit_stats(&self) -> (u64, u64) {
        self.uring().map_or((0, 0), |u| u.submit_stats())
    }
}

/// A worker's parker: waits in its poller.
#[derive(Debug)]
pub(crate) struct IoPark {
    poller: Arc<Poller>,
    scratch: Scratch,
}

/// Buffers reused by every wait, so reaping events allocates nothing.
#[derive(Debug, Default)]
struct Scratch {
    epoll: EpollScratch,
    events: Vec<Event>,
    /// Sockets found ready, woken after the slab lock is released.
    ready: Vec<(Arc<ScheduledIo>, usize)>,
    /// Wakers of completed operations.
    wake: Vec<Waker>,
}

/// Wakes an [`IoPark`] from any thread.
#[derive(Debug, Clone)]
pub(crate) struct IoUnpark {
    poller: Arc<Poller>,
}

impl IoPark {
    pub(crate) fn new(poller: Arc<Poller>) -> IoPark {
        IoPark {
            poller,
            scratch: Scratch::default(),
        }
    }

    /// Looks for sibling pollers that have sockets or operations but whose owner, not
    /// parked, has not waited on them for [`STALLED_AFTER`]: the owner is not running
    /// (descheduled by the kernel in favour of another thread on its CPU) or is busy in one
    /// long poll. Calls `stalled(index)` for each (its index in [`IoHandle`]'s list, the
    /// worker's), and on epoll reaps its set, so the tasks its sockets wake run on the
    /// caller's queue instead of waiting for that worker. On io_uring nothing is reaped
    /// (see [`Poller::wait_as_sibling`]). Returns the socket events dispatched.
    ///
    /// [`IoHandle`]: super::IoHandle
    pub(crate) fn reap_stalled_siblings(
        &mut self,
        io: &super::IoHandle,
        mut stalled: impl FnMut(usize),
    ) -> usize {
        let pollers = io.pollers();
        if pollers.len() < 2 {
            return 0;
        }
        // Read once, and only if a sibling has something to look at.
        let mut now = None;
        let mut n = 0;
        for (i, q) in pollers.iter().enumerate() {
            if Arc::ptr_eq(q, &self.poller) || q.live() == 0 {
                continue;
            }
            if q.stalled_at(*now.get_or_insert_with(|| io.now_ns())) {
                n += q.wait_as_sibling(&mut self.scratch);
                stalled(i);
            }
        }
        n
    }

    /// Whether this worker's poller has sockets registered or operations in flight, so
    /// that polling it may wake tasks.
    pub(crate) fn has_live_io(&self) -> bool {
        self.poller.live() > 0
    }

    pub(crate) fn unparker(&self) -> IoUnpark {
        IoUnpark {
            poller: self.poller.clone(),
        }
    }

    /// Blocks until unparked or a socket event or completion arrives.
    pub(crate) fn park(&mut self) {
        self.park_inner(None);
    }

    /// As [`park`](Self::park), for at most `timeout`; zero only reaps ready events (and
    /// submits queued io_uring operations) and consumes a pending unpark.
    pub(crate) fn park_timeout(&mut self, timeout: Duration) {
        self.park_inner(Some(timeout));
    }

    /// Reaps ready events and consumes a pending unpark without sleeping; true if either
    /// was there (something may have been woken).
    #[cfg(feature = "test-util")]
    pub(crate) fn poll_woke(&mut self) -> bool {
        let p = &self.poller;
        let notified = p
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok();
        let events = p.wait(&mut self.scratch, Some(Duration::ZERO));
        notified || events > 0
    }

    fn park_inner(&mut self, timeout: Option<Duration>) {
        let p = &self.poller;
        // SAFETY: `sched_getcpu` has no preconditions; it returns -1 on error.
        let cpu = usize::try_from(unsafe { libc::sched_getcpu() }).unwrap_or(usize::MAX);
        // Written only when it changed, and the unpark consumed only if there is one: the
        // siblings read this poller's line (accepted-socket placement, the stall check),
        // and a store or a failed compare-exchange on every poll would take the line from
        // them each time.
        if p.cpu.load(Relaxed) != cpu {
            p.cpu.store(cpu, Relaxed);
        }
        let notified = p.state.load(SeqCst) == NOTIFIED
            && p.state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok();
        if notified || timeout == Some(Duration::ZERO) {
            p.wait(&mut self.scratch, Some(Duration::ZERO));
            return;
        }
        loop {
            if p.live.load(SeqCst) == 0 {
                match p.park_condvar(timeout) {
                    CondvarPark::Returned => return,
                    CondvarPark::SocketRegistered => {}
                }
            }
            match p.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
                Ok(_) => {}
                Err(NOTIFIED) => {
                    p.state.swap(EMPTY, SeqCst);
                    p.wait(&mut self.scratch, Some(Duration::ZERO));
                    return;
                }
                Err(actual) => panic!("inconsistent park state: {actual}"),
            }
            let io_events = p.wait(&mut self.scratch, timeout);
            let prev = p.state.swap(EMPTY, SeqCst);
            // Return on an unpark, a socket event or completion, or the timeout; a stale
            // wake-up (an eventfd write that lost the race with an earlier return) parks
            // again.
            if prev == NOTIFIED || io_events > 0 || timeout.is_some() {
                return;
            }
        }
    }
}

/// How a condvar park ended.
enum CondvarPark {
    /// Unparked, timed out, or woken spuriously: the caller returns.
    Returned,
    /// A socket was registered (or an operation submitted) meanwhile: park in the backend.
    SocketRegistered,
}

impl Poller {
    /// Parks on the condvar while nothing is registered or in flight (the three-state
    /// protocol of `driver/park.rs`, with PARKED_CONDVAR set under the lock).
    fn park_condvar(&self, timeout: Option<Duration>) -> CondvarPark {
        let mut guard = lock_for_condvar(&self.lock);
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return CondvarPark::Returned;
            }
            Err(actual) => panic!("inconsistent park state: {actual}"),
        }
        if self.live.load(SeqCst) > 0 {
            // Registered between the caller's check and our store: the backend, unless
            // already unparked.
            return match self.state.swap(EMPTY, SeqCst) {
                NOTIFIED => CondvarPark::Returned,
                _ => CondvarPark::SocketRegistered,
            };
        }
        loop {
            guard = match timeout {
                None => self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(t) => {
                    let _woken = self
                        .condvar
                        .wait_timeout(guard, t)
                        .unwrap_or_else(|e| e.into_inner());
                    // Timed out or notified: done either way.
                    self.state.swap(EMPTY, SeqCst);
                    return CondvarPark::Returned;
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                // Unparked (a registration's unpark too: the next park goes to the backend).
                return CondvarPark::Returned;
            }
            // Spurious wake-up: wait again.
        }
    }
}

impl IoUnpark {
    pub(crate) fn unpark(&self) {
        self.poller.unpark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The siblings' shared look at a worker's poller: a wait count unchanged for
    /// `STALLED_AFTER` while the owner is not parked is a stall, whichever sibling saw the
    /// count first; a wait by the owner or a park starts the time again.
    #[test]
    fn a_stall_is_an_unchanged_wait_count_for_stalled_after_while_not_parked() {
        let p = Poller::new(IoDriver::Epoll, RingSetup::default()).unwrap();
        let ms = |x: u64| x * 1_000_000;
        let after = STALLED_AFTER.as_nanos() as u64;
        assert!(
            !p.stalled_at(ms(10)),
            "the first look only records the count"
        );
        assert!(!p.stalled_at(ms(10) + after - 1));
        // Another sibling (same shared record) sees the same count later: a stall.
        assert!(p.stalled_at(ms(10) + after));
        // The owner waits: the count moved, the time starts again.
        p.polls.fetch_add(1, Relaxed);
        assert!(!p.stalled_at(ms(20)));
        assert!(!p.stalled_at(ms(20) + after - 1));
        assert!(p.stalled_at(ms(20) + after));
        // Parked: never a stall, and a look refreshes the time once it is SEEN_REFRESH old,
        // so the owner has STALLED_AFTER from about its last sighting parked.
        p.state.store(PARKED_CONDVAR, Relaxed);
        assert!(!p.stalled_at(ms(50)));
        p.state.store(EMPTY, Relaxed);
        assert!(!p.stalled_at(ms(50) + after - 1));
        assert!(p.stalled_at(ms(50) + after));
        // A sibling that read the clock before another's look cannot move the time back.
        p.polls.fetch_add(1, Relaxed);
        assert!(!p.stalled_at(ms(70)));
        p.polls.fetch_add(1, Relaxed);
        assert!(!p.stalled_at(ms(60)), "a stale look records the count...");
        assert!(
            !p.stalled_at(ms(70) + after - 1),
            "...but keeps the later time"
        );
    }
}
