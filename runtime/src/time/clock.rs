//! The clock timers read: the monotonic clock, or, with the `test-util` feature, a clock
//! that a current-thread runtime can pause, advance by hand, and advance by itself when it
//! has nothing to do (Tokio's `time::pause` / `advance` / `resume`).
//!
//! A paused clock stands still at `base`; a running one reads `base + (now - unfrozen)`.
//! Pausing folds the time run since `unfrozen` into `base`, rounded up to a whole
//! microsecond since the clock's start (the timer wheel's tick: a sleep of `d` then an
//! `advance(d)` lands exactly on the sleep's tick), advancing adds to `base`, and resuming
//! starts `unfrozen` again, so the clock never goes backwards. Until some clock of
//! the process is paused, [`now`] reads the monotonic clock after one atomic load.

#[cfg(feature = "test-util")]
pub use paused::{advance, pause, resume};

/// One runtime's clock (held by its time driver).
#[derive(Debug)]
pub(crate) struct Clock {
    #[cfg(feature = "test-util")]
    inner: std::sync::Mutex<paused::Inner>,
}

impl Clock {
    /// `enable_pausing`: whether [`pause`] may stop this clock (current-thread runtimes
    /// only, as in Tokio: a multi-thread runtime's workers could not agree on when all of
    /// them are idle). `start_paused`: stopped from the start.
    ///
    /// # Errors
    /// `start_paused` where pausing is not enabled.
    #[cfg_attr(not(feature = "test-util"), allow(unused_variables))]
    pub(crate) fn new(enable_pausing: bool, start_paused: bool) -> Result<Clock, &'static str> {
        #[cfg(feature = "test-util")]
        {
            let now = std::time::Instant::now();
            let clock = Clock {
                inner: std::sync::Mutex::new(paused::Inner {
                    enable_pausing,
                    start: now,
                    base: now,
                    unfrozen: Some(now),
                    inhibit_auto_advance: 0,
                }),
            };
            if start_paused {
                clock.pause()?;
            }
            Ok(clock)
        }
        #[cfg(not(feature = "test-util"))]
        Ok(Clock {})
    }

    /// The instant the timer wheel counts its ticks from: the clock's time when it was
    /// made.
    pub(crate) fn start(&self) -> std::time::Instant {
        #[cfg(feature = "test-util")]
        return self.lock().start;
        #[cfg(not(feature = "test-util"))]
        std::time::Instant::now()
    }

    /// The clock's current time.
    pub(crate) fn now(&self) -> std::time::Instant {
        #[cfg(feature = "test-util")]
        return self.lock().now();
        #[cfg(not(feature = "test-util"))]
        std::time::Instant::now()
    }
}

/// What `time::Instant::now()` reads: the current runtime's clock if any clock of the
/// process was ever paused (`test-util` only), else the monotonic clock.
pub(crate) fn now() -> std::time::Instant {
    #[cfg(feature = "test-util")]
    if paused::DID_PAUSE_CLOCK.load(std::sync::atomic::Ordering::Acquire) {
        return crate::runtime::context::with_handle(|h| h.driver().time.clock().now())
            .unwrap_or_else(|_| std::time::Instant::now());
    }
    std::time::Instant::now()
}

#[cfg(feature = "test-util")]
mod paused {
    use super::Clock;
    use std::sync::atomic::{AtomicBool, Ordering::Release};
    use std::sync::MutexGuard;
    use std::time::Duration;

    /// Set by the first pause in the process; until then `now()` skips the runtime lookup.
    pub(super) static DID_PAUSE_CLOCK: AtomicBool = AtomicBool::new(false);

    #[derive(Debug)]
    pub(super) struct Inner {
        pub(super) enable_pausing: bool,
        /// When the clock was made (see `Clock::start`).
        pub(super) start: std::time::Instant,
        /// The clock's time when it last stopped or was advanced, or when it started.
        pub(super) base: std::time::Instant,
        /// When the clock last started running; `None` while paused.
        pub(super) unfrozen: Option<std::time::Instant>,
        /// Blocking-pool closures in flight: while any runs, the runtime does not advance
        /// the clock by itself (the closure may be what the runtime waits for).
        pub(super) inhibit_auto_advance: usize,
    }

    impl Inner {
        pub(super) fn now(&self) -> std::time::Instant {
            match self.unfrozen {
                Some(unfrozen) => self.base + unfrozen.elapsed(),
                None => self.base,
            }
        }
    }

    impl Clock {
        pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub(crate) fn pause(&self) -> Result<(), &'static str> {
            let mut inner = self.lock();
            if !inner.enable_pausing {
                return Err(
                    "`time::pause()` requires the `current_thread` Tokio runtime. \
                            This is the default Runtime used by `#[tokio::test].",
                );
            }
            DID_PAUSE_CLOCK.store(true, Release);
            let Some(unfrozen) = inner.unfrozen else {
                return Err("time is already frozen");
            };
            let run = (inner.base + unfrozen.elapsed()).duration_since(inner.start);
            let micros = u64::try_from(run.as_nanos().div_ceil(1_000)).unwrap_or(u64::MAX);
            inner.base = inner.start + Duration::from_micros(micros);
            inner.unfrozen = None;
            Ok(())
        }

        pub(crate) fn resume(&self) -> Result<(), &'static str> {
            let mut inner = self.lock();
            if inner.unfrozen.is_some() {
                return Err("time is not frozen");
            }
            inner.unfrozen = Some(std::time::Instant::now());
            Ok(())
        }

        pub(crate) fn advance(&self, duration: Duration) -> Result<(), &'static str> {
            let mut inner = self.lock();
            if inner.unfrozen.is_some() {
                return Err("time is not frozen");
            }
            inner.base = inner
                .base
                .checked_add(duration)
                .ok_or("the paused clock cannot be advanced that far (overflow)")?;
            Ok(())
        }

        /// Whether the runtime may jump the clock to its next timer when idle.
        pub(crate) fn can_auto_advance(&self) -> bool {
            let inner = self.lock();
            inner.unfrozen.is_none() && inner.inhibit_auto_advance == 0
        }

        pub(crate) fn inhibit_auto_advance(&self) {
            self.lock().inhibit_auto_advance += 1;
        }

        pub(crate) fn allow_auto_advance(&self) {
            let mut inner = self.lock();
            inner.inhibit_auto_advance = inner.inhibit_auto_advance.saturating_sub(1);
        }
    }

    /// The current runtime's time driver, or Tokio's panic message outside one.
    #[track_caller]
    fn current_time() -> std::sync::Arc<crate::time::TimeDriver> {
        crate::runtime::context::with_handle(|h| h.driver().time.clone())
            .unwrap_or_else(|_| panic!("time cannot be frozen from outside the Tokio runtime"))
    }

    /// Pauses the current runtime's clock: `Instant::now()` stands still, and when the
    /// runtime has no task to run (and no blocking-pool closure in flight) it jumps the
    /// clock to its next timer instead of sleeping, so a test that sleeps for an hour runs
    /// in microseconds, its timers firing in deadline order. I/O still takes real time,
    /// and the jump does not wait for it: only I/O that has already completed (or a wake
    /// already sent) holds the clock, so a paused test doing real I/O under a timeout may
    /// see the timeout first (as with Tokio).
    ///
    /// With the `test-util` feature only, as in Tokio.
    ///
    /// # Panics
    /// Outside a runtime; on a multi-thread runtime (current-thread only, as in Tokio);
    /// if the clock is already paused. The messages are Tokio's.
    #[track_caller]
    pub fn pause() {
        if let Err(message) = current_time().clock().pause() {
            panic!("{message}");
        }
    }

    /// Lets the current runtime's paused clock run again, from where it stood.
    ///
    /// # Panics
    /// Outside a runtime, or if the clock is not paused (Tokio's messages).
    #[track_caller]
    pub fn resume() {
        if let Err(message) = current_time().clock().resume() {
            panic!("{message}");
        }
    }

    /// Moves the current runtime's paused clock forward by `duration` in one jump: every
    /// timer due by then fires (at once, in no particular order), then the calling task
    /// yields once. To see timers fire one by one in deadline order, `sleep` instead and
    /// let the runtime advance the clock.
    ///
    /// # Panics
    /// Outside a runtime, if the clock is not paused, or if `duration` overflows the
    /// clock (`Duration::MAX`).
    pub async fn advance(duration: Duration) {
        let time = current_time();
        if let Err(message) = time.clock().advance(duration) {
            panic!("{message}");
        }
        time.process_all();
        crate::task::yield_now().await;
    }
}
