//! The multi-thread, work-stealing scheduler.
//!
//! ## Roles
//!
//! N worker threads, each owning a `Core`: a local run queue (`queue.rs`, a 256-slot ring
//! that only its owner pushes to), a LIFO slot, a driver to park on, and counters. Shared
//! by all: the injector (`scheduler/inject.rs`, a mutex-guarded ring of task pointers),
//! the idle tracker (`idle.rs`), each worker's steal handle and unparker, and the
//! owned-task list.
//!
//! ## Where a scheduled task goes
//!
//! - Spawned or woken *on a worker of this runtime* by a running task: into that worker's
//!   LIFO slot; the task previously in the slot moves to the back of the local queue. The
//!   LIFO slot makes message passing (A wakes B, B replies) run B next while A's data is hot
//!   in cache; it is not stealable, so it is capped at 3 consecutive LIFO polls per task
//!   run (Tokio's `MAX_LIFO_POLLS_PER_TICK`) to keep a ping-pong pair from starving the
//!   queue.
//! - A task that woke *itself* while running (`yield_now`, a spent coop budget): to the
//!   back of the local queue, so an always-ready task goes behind its neighbours. An idle
//!   worker is woken for it only if the local queue holds another task too, the LIFO slot
//!   not counted (the worker would otherwise run the task again itself; Tokio wakes one
//!   anyway, and a one-task loop on zokio then paid a futex wake and a park per yield:
//!   `sync.oneshot` ran at 14.6M channels/s with it, 25M without; see `schedule_local`
//!   for the LIFO slot). Such wake-ups back off while they are wasted: a worker woken
//!   for a yield that parks again within 64 polls has taken a task that went back to its
//!   partner (a channel's producer and consumer, each yielding on a spent coop budget,
//!   look to the scheduler exactly like two CPU-bound tasks), and each such waste halves
//!   the share of yields that wake anyone, down to one in 256; one wake-up that runs
//!   longer restores them all. Bounded 1→1 mpsc with 2 workers went from 13.1M to 18.1M
//!   msg/s (1-worker rate: about 20M); two CPU-bound tasks that yield to each other on
//!   one worker still reach an idle sibling, within 256 yields or the next maintenance
//!   pass, which wakes one when the local queue holds stealable work.
//! - From any other thread: the injector, then a parked worker is woken if none is
//!   searching.
//! - A full local queue moves half of itself plus the new task to the injector in one batch.
//!
//! ## Where a worker finds its next task
//!
//! Every `global_queue_interval` ticks (31, Tokio's fixed default before it went adaptive;
//! Go uses 61) the injector first, so remote spawns cannot be starved by a busy local queue.
//! Otherwise: LIFO slot, local queue, then a batch from the injector (its length divided by
//! the worker count, plus one, at most half a local queue). With nothing local, a worker
//! whose poller has sockets or operations live first polls it without blocking: the tasks
//! its own I/O wakes run where their sockets are registered and their data is in cache,
//! rather than another worker's tasks once on a cold CPU (zbench `net.tcp_echo` and
//! `sched.io_ops`; see `driver/mod.rs`, socket placement). Still nothing: it
//! becomes a *searcher* (at most half the workers search at once) and steals half of a
//! random victim's queue, then tries the injector; when a searcher finds work and was the
//! last searcher it wakes another worker, so work spreads one worker at a time. With
//! nothing anywhere it parks; the last searcher to park re-checks every queue first (the
//! no-lost-wake-up argument is in `idle.rs`).
//!
//! Every `event_interval` ticks (61) the worker runs maintenance: publish its counters,
//! check for shutdown, and poll its driver without blocking.
//!
//! ## Cooperative budget
//!
//! Each task poll runs under a budget (`coop.rs`) that zokio's leaf futures spend; a task
//! that is always ready eventually gets `Pending` plus a self-wake and so goes to the back
//! of the queue.
//!
//! ## Blocking in place
//!
//! `task::block_in_place` on a worker moves the worker's `Core` (queues, driver, timer
//! shard, counters) into a slot and starts a new thread on it (`worker::spawn_worker`,
//! counted in the same thread group, running the start and stop hooks); the LIFO slot's
//! task goes to the run queue first, since nobody could steal it meanwhile. The blocking
//! thread keeps its `Context` with no core: its wakes go to the injector, and it claims no
//! timer shard or ring. When the closure returns it takes the core back if the new thread
//! has not (that thread then exits at once); otherwise it finishes the current poll and
//! exits, the run loop seeing the core gone after `run_task`. Inside a `LocalSet` (whose
//! tasks would all stall) and on the current-thread scheduler it panics, as in Tokio.
//!
//! ## Shutdown
//!
//! `Handle::shutdown` closes the injector, sets the shutdown flag and unparks every worker.
//! Each worker finishes the poll it is in, then closes and drains the owned-task list
//! (cancelling every task, which drops its future on that worker, in the runtime context),
//! drops the `Notified` references left in its queues, and exits. The thread dropping the
//! runtime waits for the workers (with `shutdown_timeout`, up to the deadline), then runs
//! the same owned-list shutdown itself as a backstop, so every future is dropped even if
//! some worker is stuck in a blocking poll.

mod handle;
pub(crate) mod idle;
pub(crate) mod queue;
mod worker;

pub(crate) use handle::Handle;
pub(crate) use worker::{block_in_place, launch, Context};

/// Consecutive polls from the LIFO slot allowed after one task run (Tokio's figure).
pub(crate) const MAX_LIFO_POLLS_PER_TICK: usize = 3;

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, loom, zokio_shuttle))]
mod shuttle_tests;
