//! The blocking thread pool behind `spawn_blocking`.
//!
//! Threads start on demand, up to `max_blocking_threads`; a call that finds an idle thread
//! hands its closure over with one condition-variable signal; a thread idle for
//! `thread_keep_alive` exits. Each closure runs as an unowned task (the same task cell as an
//! async task, polled once), so its `JoinHandle`, `abort` (effective while queued) and panic
//! capture behave exactly like an async task's.
//!
//! Shutdown cancels queued closures and waits (with the runtime's timeout, if any) for the
//! running ones, which cannot be interrupted.

mod pool;

pub(crate) use pool::{BlockingPool, Spawner};
