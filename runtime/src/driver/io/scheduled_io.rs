//! Cached readiness of one socket and the tasks waiting on it.

use crate::loom::{lock, Mutex};
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::task::{Context, Poll, Waker};

/// Readiness bits (low bits of the state word); the rest is an event tick.
pub(crate) const READABLE: usize = 0b0_0001;
pub(crate) const WRITABLE: usize = 0b0_0010;
pub(crate) const READ_CLOSED: usize = 0b0_0100;
pub(crate) const WRITE_CLOSED: usize = 0b0_1000;
pub(crate) const ERROR: usize = 0b1_0000;
/// The runtime shut down: every waiter wakes.
pub(crate) const SHUTDOWN: usize = 0b10_0000;
/// Priority data (`POLLPRI`: TCP urgent data, say).
pub(crate) const PRIORITY: usize = 0b100_0000;
const READY_MASK: usize = 0b111_1111;
const TICK_SHIFT: u32 = 8;

/// `poll(2)`/`epoll` event bits as readiness bits. The two share their values (`POLLIN` =
/// `EPOLLIN` = 1, `POLLOUT` = 4, `POLLERR` = 8, `POLLHUP` = 16, `POLLRDHUP` = 0x2000), so
/// epoll events and io_uring poll results go through this one mapping.
pub(crate) fn from_poll_bits(events: u32) -> usize {
    let e = events as libc::c_int;
    let mut r = 0;
    if e & libc::EPOLLIN != 0 {
        r |= READABLE;
    }
    if e & libc::EPOLLOUT != 0 {
        r |= WRITABLE;
    }
    if e & (libc::EPOLLRDHUP | libc::EPOLLHUP) != 0 {
        r |= READ_CLOSED;
    }
    if e & libc::EPOLLHUP != 0 {
        r |= WRITE_CLOSED;
    }
    if e & libc::EPOLLERR != 0 {
        r |= ERROR;
    }
    if e & libc::EPOLLPRI != 0 {
        r |= PRIORITY;
    }
    r
}

// The shared mapping relies on poll's and epoll's bits being equal.
const _: () = assert!(
    libc::POLLIN as i32 == libc::EPOLLIN
        && libc::POLLOUT as i32 == libc::EPOLLOUT
        && libc::POLLERR as i32 == libc::EPOLLERR
        && libc::POLLHUP as i32 == libc::EPOLLHUP
        && libc::POLLRDHUP as i32 == libc::EPOLLRDHUP
        && libc::POLLPRI as i32 == libc::EPOLLPRI
);

/// Which way a task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readable, or the peer closed its write side, or an error.
    Read,
    /// Writable, or the connection closed, or an error.
    Write,
}

impl Direction {
    pub(crate) fn mask(self) -> usize {
        match self {
            // Priority data wakes the readers: a task waiting for it waits as a reader.
            Direction::Read => READABLE | READ_CLOSED | PRIORITY | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// Readiness bits a caller waits for or tries on (`io::Interest` converts into it; the
/// driver knows no public type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadyMask(pub(crate) usize);

/// Readiness observed by a task, with the tick it was observed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    tick: usize,
    ready: usize,
}

impl ReadyEvent {
    /// The readiness bits seen (within the mask asked for).
    pub(crate) fn bits(&self) -> usize {
        self.ready
    }

    /// Whether it saw a hang-up or an error (bits that stay set: waiting again would
    /// return at once).
    pub(crate) fn is_closed_or_error(&self) -> bool {
        self.ready & (READ_CLOSED | WRITE_CLOSED | ERROR) != 0
    }

    /// The same observation restricted to `bits` (to clear only part of it).
    pub(crate) fn only(self, bits: usize) -> ReadyEvent {
        ReadyEvent {
            tick: self.tick,
            ready: self.ready & bits,
        }
    }
}

/// One socket's readiness and waiters.
#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    /// `tick << TICK_SHIFT | readiness bits`.
    state: AtomicUsize,
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    reader: WakerList,
    writer: WakerList,
}

/// The tasks waiting in one direction. Usually one (a socket's reader), kept apart so it
/// needs no allocation; more when tasks share the socket (several accepting on one
/// listener, a `ready` and a read in flight at once): each is woken by the next edge.
/// A task that stopped waiting stays listed until then and is woken once for nothing.
#[derive(Debug, Default)]
struct WakerList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakerList {
    /// Lists `waker` unless a waker that wakes the same way is listed already.
    fn register(&mut self, waker: &Waker) {
        let listed = self.first.iter_mut().chain(self.rest.iter_mut());
        for w in listed {
            if w.will_wake(waker) {
                return;
            }
        }
        match self.first {
            None => self.first = Some(waker.clone()),
            Some(_) => self.rest.push(waker.clone()),
        }
    }

    fn take(&mut self) -> WakerList {
        std::mem::take(self)
    }

    fn wake(self) {
        self.first
            .into_iter()
            .chain(self.rest)
            .for_each(Waker::wake);
    }
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo::default()
    }

    /// Marks the socket readable and writable before any event (the tick unchanged, no
    /// waiter woken): for a socket just returned by `accept`, whose peer has usually
    /// written already, so the first read tries `recv` at once instead of waiting a
    /// driver turn for the event. A first read that finds nothing clears it, as any
    /// stale readiness. As Tokio does for accepted sockets.
    pub(crate) fn assume_ready(&self) {
        self.state.fetch_or(READABLE | WRITABLE, AcqRel);
    }

    /// Marks the socket writable before any event, as [`assume_ready`](Self::assume_ready)
    /// does: for one end of a fresh socket pair, whose send buffer is empty (and whose
    /// peer has not written yet).
    pub(crate) fn assume_writable(&self) {
        self.state.fetch_or(WRITABLE, AcqRel);
    }

    /// An event arrived (on the poller's thread): set `ready` bits, advance the tick, and
    /// wake the tasks waiting in the directions that became ready.
    pub(crate) fn set_readiness(&self, ready: usize) {
        let _ = self.state.fetch_update(AcqRel, Acquire, |cur| {
            let tick = (cur >> TICK_SHIFT).wrapping_add(1);
            Some((tick << TICK_SHIFT) | (cur & READY_MASK) | ready)
        });
        let (reader, writer) = {
            let mut w = lock(&self.waiters);
            let r = if ready & Direction::Read.mask() != 0 {
                w.reader.take()
            } else {
                WakerList::default()
            };
            let wr = if ready & Direction::Write.mask() != 0 {
                w.writer.take()
            } else {
                WakerList::default()
            };
            (r, wr)
        };
        reader.wake();
        writer.wake();
    }

    /// The `poll(2)` events the tasks listed here wait for: `POLLIN | POLLPRI | POLLRDHUP`
    /// with a reader listed, `POLLOUT` with a writer, 0 with neither.
    pub(crate) fn waited_poll_events(&self) -> libc::c_short {
        let w = lock(&self.waiters);
        let mut events = 0;
        if w.reader.first.is_some() {
            events |= libc::POLLIN | libc::POLLPRI | libc::POLLRDHUP;
        }
        if w.writer.first.is_some() {
            events |= libc::POLLOUT;
        }
        events
    }

    /// Ready in `dir` now, or the task is stored to be woken when it is.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        self.poll_ready_mask(cx, dir.mask())
    }

    /// Ready for any bit of `mask` now, or the task is stored to be woken when it is: as
    /// the reader if `mask` has read bits (or has neither read nor write bits: an error
    /// wakes the reader), as the writer if it has write bits, or both.
    pub(crate) fn poll_ready_mask(&self, cx: &mut Context<'_>, mask: usize) -> Poll<ReadyEvent> {
        if let Some(ev) = self.ready_now(mask) {
            return Poll::Ready(ev);
        }
        let write = mask & (WRITABLE | WRITE_CLOSED) != 0;
        let read = mask & (READABLE | READ_CLOSED) != 0 || !write;
        let mut guard = lock(&self.waiters);
        let w = &mut *guard;
        for (wanted, list) in [(read, &mut w.reader), (write, &mut w.writer)] {
            if wanted {
                list.register(cx.waker());
            }
        }
        // An event may have come between the load and storing the waker: the event's
        // waker take happens under the same lock, so checking again here cannot miss it.
        match self.ready_now(mask) {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
    }

    /// The readiness within `mask` now, if any.
    pub(crate) fn ready_now(&self, mask: usize) -> Option<ReadyEvent> {
        let cur = self.state.load(Acquire);
        (cur & mask != 0).then_some(ReadyEvent {
            tick: cur >> TICK_SHIFT,
            ready: cur & mask,
        })
    }

    /// The operation found the socket not ready after all (`WouldBlock`): clear what `ev`
    /// saw, unless a newer event arrived since (then the next attempt may succeed). Closed,
    /// error and shutdown bits stay set.
    pub(crate) fn clear(&self, ev: ReadyEvent) {
        let clear = ev.ready & (READABLE | WRITABLE | PRIORITY);
        let _ = self.state.fetch_update(AcqRel, Acquire, |cur| {
            ((cur >> TICK_SHIFT) == ev.tick).then_some(cur & !clear)
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// Every task waiting in a direction is woken by its next event (several tasks
    /// accepting on one listener), once each, however often each polled.
    #[test]
    fn every_waiter_of_a_direction_is_woken() {
        let io = ScheduledIo::new();
        let counts: Vec<Arc<Count>> = (0..3)
            .map(|_| Arc::new(Count(AtomicUsize::new(0))))
            .collect();
        let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(c.clone())).collect();
        for _ in 0..2 {
            for w in &wakers {
                let mut cx = Context::from_waker(w);
                assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
            }
        }
        io.set_readiness(WRITABLE);
        assert!(
            counts.iter().all(|c| c.0.load(SeqCst) == 0),
            "woken by a write event"
        );
        io.set_readiness(READABLE);
        for c in &counts {
            assert_eq!(c.0.load(SeqCst), 1);
        }
        // The list was emptied: the next event wakes nobody.
        io.set_readiness(READABLE);
        assert!(counts.iter().all(|c| c.0.load(SeqCst) == 1));
    }

    #[test]
    fn an_event_between_observe_and_clear_is_not_lost() {
        let io = ScheduledIo::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        io.set_readiness(READABLE);
        assert_eq!(count.0.load(SeqCst), 1, "the reader was woken");
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable");
        };
        // A new edge arrives before the reader's WouldBlock clears what it saw.
        io.set_readiness(READABLE);
        io.clear(seen);
        assert!(
            io.poll_ready(&mut cx, Direction::Read).is_ready(),
            "edge kept"
        );
        let Poll::Ready(now) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable");
        };
        io.clear(now);
        assert!(
            io.poll_ready(&mut cx, Direction::Read).is_pending(),
            "cleared"
        );
        // Writers are not woken by read events; hang-ups wake both and stay set.
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        io.set_readiness(READ_CLOSED | WRITE_CLOSED);
        let Poll::Ready(closed) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("hung up");
        };
        io.clear(closed);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        assert!(io.poll_ready(&mut cx, Direction::Write).is_ready());
    }
}
