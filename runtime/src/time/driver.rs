//! The time driver: one timer wheel per worker ("shard"), each behind its own mutex.
//!
//! A timer is registered, on its first poll, in the shard of the worker that polls it (a
//! thread outside the runtime picks a shard by a per-thread hint), so on a busy runtime
//! workers do not contend on one lock. Only a shard's owner advances its wheel: when it
//! parks, when it wakes, and at every maintenance tick (`event_interval` task polls).
//!
//! The owner parks until the earliest timer of its shard at the latest: before parking it
//! records that deadline (`parked_until`) under the shard lock. A registration from another
//! thread, under the same lock, that is earlier than `parked_until` unparks the owner so it
//! re-computes its timeout; the parker remembers an unpark that races ahead of the park, so
//! no early deadline is slept through.
//!
//! Ticks are microseconds since the driver started; a deadline is rounded *up* to a tick and
//! "now" *down*, so a timer never fires before its deadline.

use super::clock::Clock;
use super::wheel::{Key, Wheel, MAX_TICK};
use crate::driver::Unparker;
use crate::loom::{lock, Mutex};
use crate::util::CachePadded;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::task::Waker;
use std::time::{Duration, Instant};

/// The owner is awake: it will look at the wheel before it parks again.
const AWAKE: u64 = 0;
/// Wakers woken per lock hold while advancing a wheel.
const WAKE_BATCH: usize = 256;

/// Timer state shared by every worker of one runtime.
#[derive(Debug)]
pub(crate) struct TimeDriver {
    clock: Clock,
    start: Instant,
    shards: Box<[CachePadded<Shard>]>,
    is_shutdown: AtomicBool,
}

#[derive(Debug)]
struct Shard {
    inner: Mutex<ShardInner>,
    /// Wakes the owning worker.
    unpark: Unparker,
}

#[derive(Debug, Default)]
struct ShardInner {
    wheel: Wheel,
    /// The tick the parked owner will wake at by itself: `AWAKE` while it runs, `u64::MAX`
    /// when it sleeps with no timeout.
    parked_until: u64,
}

/// Where a registered timer lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerRef {
    shard: u32,
    key: Key,
}

impl TimeDriver {
    /// One shard per unparker, in worker order, reading `clock`.
    pub(crate) fn new(unparkers: Vec<Unparker>, clock: Clock) -> TimeDriver {
        assert!(!unparkers.is_empty(), "a time driver needs a shard");
        TimeDriver {
            start: clock.start(),
            clock,
            shards: unparkers
                .into_iter()
                .map(|unpark| {
                    CachePadded(Shard {
                        inner: Mutex::new(ShardInner::default()),
                        unpark,
                    })
                })
                .collect(),
            is_shutdown: AtomicBool::new(false),
        }
    }

    /// The tick of `deadline`, rounded up (a deadline before the start is tick 0).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let nanos = deadline.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos.div_ceil(1_000)).map_or(MAX_TICK, |t| t.min(MAX_TICK))
    }

    /// The tick of `now`, rounded down.
    fn now_tick(&self, now: Instant) -> u64 {
        let micros = now.saturating_duration_since(self.start).as_micros();
        u64::try_from(micros).map_or(MAX_TICK, |t| t.min(MAX_TICK))
    }

    fn tick_instant(&self, tick: u64) -> Instant {
        self.start
            .checked_add(Duration::from_micros(tick))
            .unwrap_or_else(|| self.start + Duration::from_secs(86_400 * 365 * 100))
    }

    /// The clock the timers read (paused and advanced by hand with `test-util`).
    #[cfg(feature = "test-util")]
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(Acquire)
    }

    /// Arms a timer for tick `when` in `shard`. Returns `None` if it is already due.
    pub(crate) fn register(&self, shard: usize, when: u64, waker: Waker) -> Option<TimerRef> {
        let shard_idx = shard;
        let shard = &self.shards[shard];
        let (key, wake_owner) = {
            let mut inner = lock(&shard.inner);
            self.catch_up_if_empty(&mut inner);
            let key = inner.wheel.insert(when, waker)?;
            (key, when < inner.parked_until)
        };
        if wake_owner {
            shard.unpark.unpark();
        }
        Some(TimerRef {
            shard: shard_idx as u32,
            key,
        })
    }

    /// Whether the timer fired, in which case it is also released (one lock for both); if
    /// not, `waker` is stored to be woken when it does.
    pub(crate) fn poll_release(&self, timer: TimerRef, waker: &Waker) -> bool {
        let mut inner = lock(&self.shards[timer.shard as usize].inner);
        let (fired, replaced) = inner.wheel.poll_swap(timer.key, waker);
        let released = if fired {
            inner.wheel.remove(timer.key)
        } else {
            None
        };
        // Wakers drop outside the lock: a waker's drop may drop another timer of this
        // shard (Tokio's `drop_from_waker_drop` test), which takes the lock again.
        drop(inner);
        drop((replaced, released));
        fired
    }

    /// Moves the timer to tick `when`, re-arming it if it fired. Returns `false` if `when` is
    /// already due (the timer is then left fired).
    pub(crate) fn reset(&self, timer: TimerRef, when: u64) -> bool {
        let shard = &self.shards[timer.shard as usize];
        let (armed, wake_owner) = {
            let mut inner = lock(&shard.inner);
            self.catch_up_if_empty(&mut inner);
            let armed = inner.wheel.reset(timer.key, when);
            (armed, armed && when < inner.parked_until)
        };
        if wake_owner {
            shard.unpark.unpark();
        }
        armed
    }

    /// Cancels the timer, fired or not, in O(1).
    pub(crate) fn cancel(&self, timer: TimerRef) {
        let waker = lock(&self.shards[timer.shard as usize].inner)
            .wheel
            .remove(timer.key);
        // Outside the lock, as in `poll_release`.
        drop(waker);
    }

    /// Fires every due timer of `shard`, waking their tasks outside the lock. Returns how
    /// many fired. `buf` is scratch space kept by the caller between calls.
    pub(crate) fn process(&self, shard: usize, buf: &mut Vec<Waker>) -> usize {
        let shard = &self.shards[shard];
        let mut fired = 0;
        loop {
            let mut inner = lock(&shard.inner);
            if inner.wheel.is_empty() {
                // Nothing to fire, so no clock read (a worker parks this way whenever it
                // has no timers): the wheel's `elapsed` stays behind until a timer is
                // armed (`catch_up_if_empty`).
                return fired;
            }
            let now = self.now_tick(self.clock.now());
            let more = inner.wheel.advance(now, buf, WAKE_BATCH);
            drop(inner);
            fired += buf.len();
            buf.drain(..).for_each(Waker::wake);
            if !more {
                return fired;
            }
        }
    }

    /// Called by the owner just before it parks, at most for `limit`: records when it will
    /// wake and returns the timeout to park with (`None`: no timer, no limit).
    pub(crate) fn before_park(&self, shard: usize, limit: Option<Duration>) -> Option<Duration> {
        let mut inner = lock(&self.shards[shard].inner);
        let next = inner.wheel.next_expiration();
        if next.is_none() && limit.is_none() {
            // No timer, no limit: park until woken, with no clock read.
            inner.parked_until = u64::MAX;
            return None;
        }
        let now = self.clock.now();
        let limit_tick = limit.map(|d| self.deadline_tick(now + d));
        let wake_at = match (next, limit_tick) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // Never `AWAKE` (0): the owner must be woken for a timer registered meanwhile.
        inner.parked_until = wake_at.map_or(u64::MAX, |t| t.max(1));
        drop(inner);
        wake_at.map(|tick| self.tick_instant(tick).saturating_duration_since(now))
    }

    /// Brings an empty wheel's `elapsed` to now before a timer is armed in it: `process`
    /// leaves it behind while the wheel is empty, and a timer reckoned from a stale
    /// `elapsed` would land on too high a level (and cascade later) or, already past
    /// due, be armed instead of reported due.
    fn catch_up_if_empty(&self, inner: &mut ShardInner) {
        if inner.wheel.is_empty() {
            let now = self.now_tick(self.clock.now());
            inner.wheel.catch_up(now);
        }
    }

    /// Called by the owner when it wakes up.
    pub(crate) fn after_park(&self, shard: usize) {
        lock(&self.shards[shard].inner).parked_until = AWAKE;
    }

    /// Fires the due timers of every shard (after the paused clock was advanced by hand;
    /// it has one shard, the caller's).
    #[cfg(feature = "test-util")]
    pub(crate) fn process_all(&self) {
        let mut buf = Vec::new();
        for shard in 0..self.shards.len() {
            self.process(shard, &mut buf);
        }
    }

    /// Whether `shard` has a timer armed (for jumping the paused clock to it).
    #[cfg(feature = "test-util")]
    pub(crate) fn has_timers(&self, shard: usize) -> bool {
        lock(&self.shards[shard].inner)
            .wheel
            .next_expiration()
            .is_some()
    }

    /// Wakes every shard's owner, so that it looks at its timers (and the paused clock)
    /// again.
    #[cfg(feature = "test-util")]
    pub(crate) fn unpark_owners(&self) {
        for shard in self.shards.iter() {
            shard.unpark.unpark();
        }
    }

    /// Marks the driver shut down and wakes every pending timer's task (whose `Sleep` then
    /// panics if polled), dropping the wakers so no task is kept alive by a wheel.
    pub(crate) fn shutdown(&self) {
        self.is_shutdown.store(true, Release);
        let mut buf = Vec::new();
        for shard in self.shards.iter() {
            lock(&shard.inner).wheel.drain(&mut buf);
            buf.drain(..).for_each(Waker::wake);
        }
    }

    /// The shard a timer polled on this thread goes to: the worker's own when called on one
    /// of this runtime's workers (`own`), else a per-thread hint spread over the shards.
    pub(crate) fn shard_for_thread(&self, own: Option<usize>) -> usize {
        if let Some(index) = own {
            return index % self.shards.len();
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static HINT: Cell<Option<usize>> = const { Cell::new(None) };
        }
        let hint = HINT
            .try_with(|h| {
                h.get().unwrap_or_else(|| {
                    let v = NEXT.fetch_add(1, Relaxed);
                    h.set(Some(v));
                    v
                })
            })
            .unwrap_or(0);
        hint % self.shards.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::driver::park_thread_for_tests;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn ticks_round_deadlines_up_and_now_down() {
        let (_park, unpark) = park_thread_for_tests();
        let driver = TimeDriver::new(vec![unpark], Clock::new(false, false).unwrap());
        let t = driver.start + Duration::from_nanos(1_500);
        assert_eq!(driver.deadline_tick(t), 2);
        assert_eq!(driver.now_tick(t), 1);
        assert_eq!(driver.deadline_tick(driver.start), 0);
        assert_eq!(
            driver.deadline_tick(driver.start + Duration::from_secs(1)),
            1_000_000
        );
    }

    #[test]
    fn registering_earlier_than_parked_deadline_unparks_owner() {
        let (mut park, unpark) = park_thread_for_tests();
        let driver = TimeDriver::new(vec![unpark], Clock::new(false, false).unwrap());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        // The owner is about to park with no timers: it sleeps with no timeout.
        assert_eq!(driver.before_park(0, None), None);
        let when = driver.deadline_tick(Instant::now() + Duration::from_secs(3600));
        let timer = driver.register(0, when, waker.clone()).expect("not due");
        // The registration left an unpark pending, so this returns at once instead of
        // sleeping for an hour.
        park.park();
        driver.after_park(0);
        // The next park is bounded by the timer.
        let timeout = driver.before_park(0, None).expect("a timer is armed");
        assert!(timeout <= Duration::from_secs(3600));
        assert!(!driver.poll_release(timer, &waker));
        driver.cancel(timer);
        assert_eq!(count.0.load(SeqCst), 0);
    }

    #[test]
    fn shutdown_wakes_pending_timers() {
        let (_park, unpark) = park_thread_for_tests();
        let driver = TimeDriver::new(vec![unpark], Clock::new(false, false).unwrap());
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let far = driver.deadline_tick(Instant::now() + Duration::from_secs(60));
        let timers: Vec<_> = (0..3)
            .map(|_| driver.register(0, far, Waker::from(count.clone())).unwrap())
            .collect();
        driver.shutdown();
        assert!(driver.is_shutdown());
        assert_eq!(count.0.load(SeqCst), 3);
        for t in timers {
            driver.cancel(t);
        }
    }
}
