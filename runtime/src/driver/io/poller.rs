//! One poller per worker: the registration slab, the park state, and a backend (an epoll
//! set or an io_uring ring) that the worker waits in.

use super::epoll::{Epoll, EpollScratch};
use super::scheduled_io::{ScheduledIo, SHUTDOWN};
use super::sys::{cvt, Event, GENERATION_MASK};
use super::uring::{OnCancel, Uring};
use crate::driver::IoDriver;
use crate::driver::RingConfig;
use crate::driver::SiblingLook;
use crate::loom::{lock, lock_for_condvar, Condvar, CondvarMutex, Mutex};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
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
    /// Entries into and returns from waits on this poller by its owner, wrapping: a sibling
    /// worker that sees it unchanged for [`STALLED_AFTER`] while the owner is not parked
    /// treats the owner as stalled ([`IoPark::reap_stalled_siblings`]). Counted on the way
    /// out too, so that an owner back from a long park is not taken for one that has not
    /// polled since before it.
    polls: AtomicU64,
}

/// How long a poller with sockets may go without a wait by its owner, while the owner is
/// not parked, before a sibling worker treats the owner as stalled. Below the kernel's
/// time slice (3-4 ms), the time a worker descheduled in favour of another thread on its
/// CPU is gone; above the time a busy owner takes between two polls of its own (every
/// `event_interval` task polls, each of which may make system calls), so that siblings do
/// not take sockets, and with them their tasks, from owners that are merely busy.
const STALLED_AFTER: Duration = Duration::from_micros(1000);

/// How often a busy worker looks at its siblings' pollers for a stall, at most: on every
/// driver poll it makes without sleeping once this long has passed since its last look
/// (and before it parks). A stall is then found between [`STALLED_AFTER`] and
/// `STALLED_AFTER + LOOK_EVERY` after the owner's last wait, whatever the looker's poll
/// rate. A look reads the sibling's poller, which its owner writes on every operation and
/// wait, so a look on every poll would move that cache line between the two CPUs on every
/// operation; looking every Nth poll instead sees a stall late when the looker polls
/// rarely.
const LOOK_EVERY: Duration = Duration::from_micros(100);

/// How many descriptors of a stalled io_uring sibling one look asks `poll(2)` about, at
/// most (a look every [`LOOK_EVERY`] while the stall lasts): its cost stays some
/// microseconds however many sockets the sibling has, and a sibling with more waited
/// descriptors has them polled in turns.
const RESCUE_POLL_MAX: usize = 128;

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
    /// The token of slot `index` in its current generation (what [`Slab::get`] decodes).
    fn token(&self, index: u32) -> u64 {
        (u64::from(self.entries[index as usize].generation) << 32) | u64::from(index)
    }

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
        })
    }

    /// Whether the owner is parked (in the backend or on the condvar).
    fn is_parked(&self) -> bool {
        matches!(self.state.load(Relaxed), PARKED | PARKED_CONDVAR)
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
            slab.token(index)
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
        let polls = self.polls.load(Relaxed);
        self.polls.store(polls.wrapping_add(1), Relaxed);
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
        self.polls.store(polls.wrapping_add(2), Relaxed);
        let n = self.dispatch(scratch);
        for w in scratch.wake.drain(..) {
            w.wake();
        }
        n + ops
    }

    /// A sibling worker's wait on this poller, which its owner has not polled for a while:
    /// finds the sockets that are ready without sleeping and wakes their tasks (onto the
    /// caller's run queue). On epoll it reaps the set, leaving an unpark for the owner. On
    /// io_uring a socket's poll completions are task work of the thread that armed them,
    /// which no other thread can run, so it asks `poll(2)` instead about the registered
    /// descriptors that tasks wait on; the owner's armed polls stay as they are, and the
    /// readiness they report later, when the owner runs, is at worst stale (a read that
    /// finds nothing clears it). Returns the socket events dispatched.
    ///
    /// `cursor` is the caller's own: where in the registry its next `poll(2)` goes on.
    fn wait_as_sibling(&self, scratch: &mut Scratch, cursor: &mut usize) -> usize {
        scratch.events.clear();
        match &self.backend {
            Backend::Epoll(e) => {
                e.wait(
                    &mut scratch.epoll,
                    Some(Duration::ZERO),
                    &mut scratch.events,
                    false,
                );
            }
            Backend::Uring(_) => self.poll_waited(scratch, cursor),
        }
        // Readiness wakes its waiters inside `dispatch`; `scratch.wake` holds only the
        // wakers of io_uring operations.
        self.dispatch(scratch)
    }

    /// Asks `poll(2)`, without sleeping, which registered descriptors with waiting tasks
    /// are ready, and queues them in `scratch.events` (never to be re-armed: the ring and
    /// its polls are the owner's). At most [`RESCUE_POLL_MAX`] descriptors per call, from
    /// the registry slot `cursor` on, which it leaves where the next call goes on.
    fn poll_waited(&self, scratch: &mut Scratch, cursor: &mut usize) {
        let Scratch {
            events,
            pollfds,
            tokens,
            ..
        } = scratch;
        pollfds.clear();
        tokens.clear();
        // Under the registry lock, so no descriptor polled is closed and reused meanwhile
        // (deregistering takes it before the socket is closed).
        let slab = lock(&self.registry);
        let slots = slab.entries.len();
        let start = if *cursor < slots { *cursor } else { 0 };
        for step in 0..slots {
            if pollfds.len() == RESCUE_POLL_MAX {
                break;
            }
            let index = (start + step) % slots;
            *cursor = index + 1;
            let entry = &slab.entries[index];
            let Some(io) = &entry.io else { continue };
            let wanted = io.waited_poll_events();
            if wanted != 0 {
                pollfds.push(libc::pollfd {
                    fd: entry.fd,
                    events: wanted,
                    revents: 0,
                });
                tokens.push(slab.token(index as u32));
            }
        }
        if pollfds.is_empty() {
            return;
        }
        // SAFETY: `pollfds` is a live, initialised array of `pollfds.len()` entries, and
        // poll(2) writes only their `revents`.
        let n = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, 0) };
        drop(slab);
        if n <= 0 {
            return;
        }
        for (fd, &token) in pollfds.iter().zip(tokens.iter()) {
            if fd.revents != 0 && fd.revents & libc::POLLNVAL == 0 {
                events.push(Event {
                    token,
                    readiness: super::scheduled_io::from_poll_bits(fd.revents as u16 as u32),
                    rearm: false,
                });
            }
        }
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
    /// What this worker last saw of each sibling's poller, by worker index: kept here, not
    /// in the sibling's poller, so that a look only reads the sibling's cache line.
    sightings: Vec<Sighting>,
    /// When this worker may look at its siblings again ([`LOOK_EVERY`]), in nanoseconds
    /// since the runtime's [`IoHandle`](super::IoHandle) was made.
    next_look_at: u64,
}

/// A worker's record of one sibling's poller: its wait count when this worker last saw it
/// change (or saw the owner parked), and when.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    polls: u64,
    since: u64,
    /// Where this worker's next `poll(2)` of the sibling's registry goes on (io_uring).
    rescue_cursor: usize,
}

impl Default for Sighting {
    fn default() -> Sighting {
        // No count seen yet: the first look records one.
        Sighting {
            polls: u64::MAX,
            since: 0,
            rescue_cursor: 0,
        }
    }
}

impl Sighting {
    /// A look at `q` at `now` (nanoseconds): whether its owner, not parked, has not
    /// entered or left a wait on it for [`STALLED_AFTER`] since this worker first saw its
    /// current count.
    fn stalled(&mut self, q: &Poller, now: u64) -> bool {
        let polls = q.polls.load(Relaxed);
        if polls != self.polls || q.is_parked() {
            self.polls = polls;
            self.since = now;
            return false;
        }
        now.saturating_sub(self.since) >= STALLED_AFTER.as_nanos() as u64
    }
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
    /// A sibling's `poll(2)` of an io_uring poller's waited descriptors, and their tokens.
    pollfds: Vec<libc::pollfd>,
    tokens: Vec<u64>,
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
            sightings: Vec::new(),
            next_look_at: 0,
        }
    }

    /// Looks for sibling pollers that have sockets or operations but whose owner, not
    /// parked, has not entered or left a wait on them for [`STALLED_AFTER`]: the owner is
    /// not running (descheduled by the kernel in favour of another thread on its CPU) or is
    /// busy in one long poll. Calls `stalled(index)` for each (its index in [`IoHandle`]'s
    /// list, the worker's) and takes its ready sockets ([`Poller::wait_as_sibling`]), so
    /// the tasks they wake run on the caller's queue instead of waiting for that worker.
    /// With [`SiblingLook::IfDue`], does nothing until [`LOOK_EVERY`] has passed since the
    /// last look. Returns the socket events dispatched.
    ///
    /// [`IoHandle`]: super::IoHandle
    pub(crate) fn reap_stalled_siblings(
        &mut self,
        io: &super::IoHandle,
        when: SiblingLook,
        mut stalled: impl FnMut(usize),
    ) -> usize {
        let pollers = io.pollers();
        if pollers.len() < 2 {
            return 0;
        }
        let now = io.now_ns();
        if when == SiblingLook::IfDue && now < self.next_look_at {
            return 0;
        }
        self.next_look_at = now.saturating_add(LOOK_EVERY.as_nanos() as u64);
        self.sightings.resize(pollers.len(), Sighting::default());
        let mut n = 0;
        for (i, q) in pollers.iter().enumerate() {
            if Arc::ptr_eq(q, &self.poller) || q.live() == 0 {
                continue;
            }
            if self.sightings[i].stalled(q, now) {
                let cursor = &mut self.sightings[i].rescue_cursor;
                n += q.wait_as_sibling(&mut self.scratch, cursor);
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

    /// A worker's look at a sibling's poller: a wait count unchanged for `STALLED_AFTER`
    /// while the owner is not parked is a stall; a wait by the owner or a park starts the
    /// time again.
    #[test]
    fn a_stall_is_an_unchanged_wait_count_for_stalled_after_while_not_parked() {
        let p = Poller::new(IoDriver::Epoll, RingSetup::default()).unwrap();
        let ms = |x: u64| x * 1_000_000;
        let after = STALLED_AFTER.as_nanos() as u64;
        let mut seen = Sighting::default();
        assert!(
            !seen.stalled(&p, ms(10)),
            "the first look only records the count"
        );
        assert!(!seen.stalled(&p, ms(10) + after - 1));
        assert!(seen.stalled(&p, ms(10) + after));
        assert!(seen.stalled(&p, ms(15)), "still stalled on the next look");
        // The owner waits: the count moved, the time starts again.
        let mut scratch = Scratch::default();
        p.wait(&mut scratch, Some(Duration::ZERO));
        assert!(!seen.stalled(&p, ms(20)));
        assert!(!seen.stalled(&p, ms(20) + after - 1));
        assert!(seen.stalled(&p, ms(20) + after));
        // Parked: never a stall, and the time starts again from the last look that saw it
        // parked.
        p.state.store(PARKED_CONDVAR, Relaxed);
        assert!(!seen.stalled(&p, ms(50) + after));
        p.state.store(EMPTY, Relaxed);
        assert!(!seen.stalled(&p, ms(50) + 2 * after - 1));
        assert!(seen.stalled(&p, ms(50) + 2 * after));
        // Another worker's record is its own: its first look only records the count.
        let mut other = Sighting::default();
        assert!(!other.stalled(&p, ms(60)));
    }

    /// A worker whose sibling has sockets, is not parked and has not polled them for
    /// `STALLED_AFTER` serves them: the task waiting on a ready socket of the sibling is
    /// woken by the looking worker, on either driver, without the sibling ever polling
    /// (on io_uring, the sibling never even submitted the socket's poll). A parked sibling
    /// is left alone.
    #[test]
    fn a_worker_serves_the_sockets_of_a_stalled_sibling() {
        use super::super::scheduled_io::{Direction, READABLE};
        use std::os::unix::net::UnixStream;
        use std::task::{Context, Poll};
        for driver in [IoDriver::Epoll, IoDriver::IoUring] {
            let Ok(sibling) = Poller::new(driver, RingSetup::default()) else {
                continue; // No io_uring here.
            };
            let sibling = Arc::new(sibling);
            let me = Arc::new(Poller::new(driver, RingSetup::default()).unwrap());
            let handle = super::super::IoHandle::new(vec![me.clone(), sibling.clone()]);
            let mut park = IoPark::new(me);
            let (sock, mut peer) = UnixStream::pair().unwrap();
            let io = Arc::new(ScheduledIo::new());
            let token = sibling
                .register(sock.as_raw_fd(), io.clone(), Registrant::Owner)
                .unwrap();
            let woken = Arc::new(Flag::default());
            let waker = Waker::from(woken.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
            std::io::Write::write_all(&mut peer, b"x").unwrap();
            let mut found = Vec::new();
            // The first look only records the sibling's wait count.
            assert_eq!(
                park.reap_stalled_siblings(&handle, SiblingLook::Now, |i| found.push(i)),
                0,
                "{driver:?}"
            );
            // Parked for the whole wait: never stalled.
            sibling.state.store(PARKED, Relaxed);
            std::thread::sleep(STALLED_AFTER * 2);
            park.reap_stalled_siblings(&handle, SiblingLook::Now, |i| found.push(i));
            assert!(
                found.is_empty(),
                "{driver:?}: a parked sibling is not stalled"
            );
            assert!(!woken.0.load(Relaxed), "{driver:?}");
            // Awake, and no wait since the last look for STALLED_AFTER: stalled.
            sibling.state.store(EMPTY, Relaxed);
            std::thread::sleep(STALLED_AFTER * 2);
            let events = park.reap_stalled_siblings(&handle, SiblingLook::Now, |i| found.push(i));
            assert_eq!(found, [1], "{driver:?}");
            assert_eq!(events, 1, "{driver:?}");
            assert!(
                woken.0.load(Relaxed),
                "{driver:?}: the waiting task was not woken"
            );
            match io.poll_ready(&mut cx, Direction::Read) {
                Poll::Ready(ev) => assert_ne!(ev.bits() & READABLE, 0, "{driver:?}"),
                Poll::Pending => panic!("{driver:?}: the socket was not marked readable"),
            }
            sibling.deregister(sock.as_raw_fd(), token);
        }
    }

    /// One rescue `poll(2)` asks about at most `RESCUE_POLL_MAX` descriptors, only those
    /// that tasks wait on, and the next one goes on where it stopped, round the registry.
    #[test]
    fn a_rescue_poll_takes_a_bounded_turn_of_the_waited_descriptors() {
        use super::super::scheduled_io::Direction;
        use std::os::unix::net::UnixStream;
        use std::task::Context;
        let Ok(p) = Poller::new(IoDriver::IoUring, RingSetup::default()) else {
            return; // No io_uring here.
        };
        let waker = Waker::from(Arc::new(Flag::default()));
        let mut cx = Context::from_waker(&waker);
        let waited = RESCUE_POLL_MAX + RESCUE_POLL_MAX / 2;
        let mut sockets = Vec::new();
        for i in 0..waited + 10 {
            let (sock, mut peer) = UnixStream::pair().unwrap();
            std::io::Write::write_all(&mut peer, b"x").unwrap();
            let io = Arc::new(ScheduledIo::new());
            let token = p
                .register(sock.as_raw_fd(), io.clone(), Registrant::Owner)
                .unwrap();
            // The last ten have nobody waiting: not polled.
            if i < waited {
                assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
            }
            sockets.push((sock, peer, token));
        }
        let mut scratch = Scratch::default();
        let mut cursor = 0;
        let mut turn = |scratch: &mut Scratch| {
            scratch.events.clear();
            p.poll_waited(scratch, &mut cursor);
            scratch.events.iter().map(|e| e.token).collect::<Vec<_>>()
        };
        let first = turn(&mut scratch);
        assert_eq!(first.len(), RESCUE_POLL_MAX);
        // The rest, then round to the start again.
        let second = turn(&mut scratch);
        assert_eq!(second.len(), RESCUE_POLL_MAX);
        let rest = waited - RESCUE_POLL_MAX;
        assert!(second[..rest].iter().all(|t| !first.contains(t)));
        assert_eq!(second[rest..], first[..RESCUE_POLL_MAX - rest]);
        let idle: Vec<u64> = sockets[waited..].iter().map(|s| s.2).collect();
        assert!(first.iter().chain(&second).all(|t| !idle.contains(t)));
        for (sock, _, token) in &sockets {
            p.deregister(sock.as_raw_fd(), *token);
        }
    }

    #[derive(Default)]
    struct Flag(AtomicBool);

    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Relaxed);
        }
    }

    /// A wait counts twice, on the way in and on the way out: a sibling that saw the count
    /// before a long park does not take the owner, back from it, for stalled.
    #[test]
    fn a_wait_moves_the_count_on_entry_and_on_return() {
        let p = Poller::new(IoDriver::Epoll, RingSetup::default()).unwrap();
        let before = p.polls.load(Relaxed);
        p.wait(&mut Scratch::default(), Some(Duration::ZERO));
        assert_eq!(p.polls.load(Relaxed), before.wrapping_add(2));
    }
}
