//! The blocking thread pool behind `spawn_blocking`.
//!
//! Threads start on demand, up to `max_blocking_threads`; a call that finds an idle thread
//! hands its closure over with one condition-variable signal; a thread idle for
//! `thread_keep_alive` exits. Each closure runs as an unowned task (the same task cell as an
//! async task, polled once), so its `JoinHandle`, `abort` (effective while queued) and panic
//! capture behave exactly like an async task's.
//!
//! Shutdown refuses new closures (their `JoinHandle`s yield a cancelled `JoinError`); the
//! closures already handed over still run, queued ones included, as with Tokio, and the
//! runtime waits for them (with its timeout, if any): they cannot be interrupted.

mod pool;

pub(crate) use pool::{BlockingPool, Spawner};
