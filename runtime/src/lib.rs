//! # zokio
//!
//! A multi-threaded, work-stealing async runtime for Rust whose public API is shaped like
//! Tokio's, so that code written for Tokio ports by renaming the crate.
//!
//! ```
//! let rt = zokio::runtime::Builder::new_multi_thread()
//!     .worker_threads(2)
//!     .build()
//!     .unwrap();
//! let sum = rt.block_on(async {
//!     let handles: Vec<_> = (0..10u64).map(|i| zokio::spawn(async move { i * 2 })).collect();
//!     let mut sum = 0;
//!     for h in handles {
//!         sum += h.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum, 90);
//! ```
//!
//! ## Map of the crate
//!
//! - [`task`]: the task cell (one allocation holding header, future and output), its atomic
//!   state word, the raw waker, [`JoinHandle`](task::JoinHandle), [`JoinSet`](task::JoinSet),
//!   [`yield_now`](task::yield_now) and [`spawn_blocking`](task::spawn_blocking).
//! - `scheduler`: the two flavors, current-thread and multi-thread work-stealing (design
//!   notes in `scheduler/multi_thread/mod.rs`).
//! - [`runtime`]: [`Builder`](runtime::Builder), [`Runtime`](runtime::Runtime),
//!   [`Handle`](runtime::Handle) and [`RuntimeMetrics`](runtime::RuntimeMetrics).
//! - `driver`: what a worker does when it has nothing to run (park): fire due timers, then
//!   sleep until unparked or the next timer; the I/O driver plugs in behind the same seam.
//! - [`time`]: [`sleep`](time::sleep), [`timeout`](time::timeout),
//!   [`interval`](time::interval) and [`Instant`](time::Instant) on a per-worker timer wheel.
//! - [`sync`]: channels, semaphore, locks, `Notify`, `Barrier`, `WaitGroup`.
//! - [`pool`]: [`ObjectPool`](pool::ObjectPool), a bounded lock-free pool with a reset hook.
//!
//! ## Model checking
//!
//! Every atomic and lock in the scheduler and task code goes through `loom.rs`, a facade that
//! swaps `std` for [`loom`](https://docs.rs/loom) under `--cfg loom`; the loom models run with
//! `RUSTFLAGS="--cfg loom" cargo test -p zokio --release --lib loom_`. Adding `--cfg
//! zokio_shuttle` swaps in [shuttle](https://docs.rs/shuttle) instead, whose randomised
//! schedulers run the larger `shuttle_` scenarios.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::undocumented_unsafe_blocks
)]

pub(crate) mod loom;
pub(crate) mod util;

mod blocking;
#[cfg(not(loom))]
pub mod compat;
pub(crate) mod coop;
pub(crate) mod driver;
#[cfg(all(feature = "fault-injection", not(loom)))]
pub mod fault;
#[cfg(not(loom))]
pub mod fs;
#[cfg(not(loom))]
pub mod io;
#[cfg(not(loom))]
pub mod net;
pub mod pool;
#[cfg(not(loom))]
pub mod process;
pub mod runtime;
pub(crate) mod scheduler;
#[cfg(not(loom))]
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

pub use task::spawn;

/// Pins values on the stack, as Tokio's `pin!` does: `pin!(a, b);` shadows each named
/// variable with a `Pin<&mut _>` to its value, and `pin! { let x = expr; }` declares and
/// pins in one step. A pinned future can then be polled by reference, in a loop or a
/// `select`, without being moved. Built on `core::pin::pin!`, so it needs no unsafe code.
///
/// ```
/// # zokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let fut = async { 7 };
/// zokio::pin!(fut);
/// assert_eq!((&mut fut).await, 7);
/// # });
/// ```
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => {
        $(
            #[allow(unused_mut)]
            let mut $x = ::core::pin::pin!($x);
        )*
    };
    ($(let $x:ident = $init:expr;)*) => {
        $(
            let $x = $init;
            $crate::pin!($x);
        )*
    };
}

/// Tokio's declarative `select!`, `join!` and `try_join!`, re-exported: they only poll the
/// futures they are given (with `biased;`, `else`, `if` preconditions and pattern arms, as
/// Tokio documents them) and need no runtime. Their branch order comes from a thread-local
/// generator of Tokio's, and they do not consult zokio's cooperative budget.
pub use tokio::{join, select, try_join};

#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_internals;

#[cfg(feature = "macros")]
pub use zokio_macros::{main, test};
