//! Time: [`sleep`], [`sleep_until`], [`timeout`], [`interval`] and [`Instant`], on a
//! hierarchical timer wheel.
//!
//! ## Design
//!
//! - **Wheel** (`wheel.rs`): nine levels of 64 slots ticking in microseconds; insert and
//!   cancel are O(1), finding the next deadline is a bit scan per level, and a timer
//!   cascades at most once per level on its way down. A sleep is never rounded up to a
//!   millisecond: its deadline is rounded up to the next microsecond, no more.
//! - **Shards** (`driver.rs`): one wheel per worker, each behind its own mutex. A sleep is
//!   registered, on its first poll, in the wheel of the worker polling it; only the owner
//!   advances a wheel, so firing needs no cross-worker coordination.
//! - **Parking**: a worker with no tasks parks until its wheel's next deadline (exactly,
//!   to the microsecond); a registration from another thread that is earlier than that
//!   unparks it. Worker threads ask the kernel for a 1 µs timer slack (Linux's default is
//!   50 µs), which is what brings a 1 ms sleep within tens of microseconds of its deadline.
//!   A worker busy with tasks fires its due timers every `event_interval` task polls.
//! - **Paused clock** (`clock.rs`, feature `test-util`): a current-thread runtime's clock
//!   can be paused and advanced by hand; with it paused, a park that would wait for a
//!   timer first polls I/O without sleeping and, if nothing came in, moves the clock to
//!   that timer instead (Tokio's auto-advance). A blocking-pool closure in flight holds
//!   the clock back.
//! - **Shutdown**: dropping the runtime wakes every pending timer's task and drops the
//!   wakers; a `Sleep` polled after that panics.
//!
//! 1,000,000 concurrent sleeps cost 40 bytes each in the wheels (a slab entry) plus the
//! `Sleep` itself (40 bytes on x86_64) in its task.

mod clock;
mod driver;
mod elapsed;
mod instant;
mod interval;
mod sleep;
mod sleep_trace;
mod timeout;
mod wheel;

pub(crate) use clock::Clock;
#[cfg(feature = "test-util")]
pub use clock::{advance, pause, resume};
pub(crate) use driver::TimeDriver;
pub use elapsed::Elapsed;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Timeout};

/// `std::time::Duration`, re-exported where Tokio users find it (`tokio::time::Duration`).
pub use std::time::Duration;

/// Errors returned by the time utilities.
pub mod error {
    pub use super::Elapsed;
}
