//! Tasks: the unit of work the schedulers run.
//!
//! ## Design
//!
//! A task is one heap allocation (`core.rs`) holding a header (state word, vtable, queue
//! links), the future, and later its output, plus the `JoinHandle`'s waker slot. The state
//! word (`state.rs`) packs the lifecycle bits and a reference count; every owner holds
//! exactly one reference:
//!
//! | owner       | type           | created                          | released                      |
//! |-------------|----------------|----------------------------------|-------------------------------|
//! | owned list  | `Task<S>`      | spawn (bind)                     | completion, or shutdown       |
//! | join handle | `JoinHandle`   | spawn                            | handle dropped                |
//! | run queue   | `Notified<S>`  | spawn, a wake of an idle task    | `run()` turns it into the     |
//! |             |                |                                  | runner's ref, dropped when    |
//! |             |                |                                  | the poll ends                 |
//! | wakers      | `Waker`        | `clone()` of the poll's waker    | `wake()` or drop              |
//!
//! A `LocalSet`'s tasks use the same cell with a different protocol (`local_task.rs`): their
//! owner thread counts references and changes state with plain stores, other threads through
//! a second word, so their type-specific operations (the vtable, chosen by
//! `Schedule::vtable`) include reference counting and abort.
//!
//! Schedulers meet tasks through the small `Schedule` trait (`schedule`, `release`,
//! `yield_now`, `vtable`). The owned list (`list.rs`) holds every live task of a runtime so that
//! shutdown can drop every future, including tasks that no queue holds because they wait on
//! a waker stored somewhere else.
//!
//! Panics in a task's future are caught by the harness (`harness.rs`) and surface as
//! [`JoinError`]; they never unwind into a worker.

mod builder;
pub(crate) mod core;
mod error;
pub(crate) mod harness;
mod id;
mod join;
mod join_set;
pub(crate) mod list;
pub(crate) mod local;
mod local_task;
pub(crate) mod raw;
mod spawn;
pub(crate) mod state;
mod task_local;
mod waker;
mod yield_now;

#[cfg(all(test, loom))]
mod loom_tests;

pub use builder::Builder;
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub use local::{spawn_local, LocalEnterGuard, LocalSet};
pub use spawn::{block_in_place, spawn, spawn_blocking};
pub use task_local::{AccessError, LocalKey};

/// The cooperative budget under Tokio's `task::coop` path: each task poll may make a
/// bounded number of steps through zokio's leaf futures before they return `Pending`.
pub mod coop {
    pub use super::yield_now::{consume_budget, cooperative, unconstrained, Coop, Unconstrained};
    pub use crate::coop::RestoreOnPending;

    /// Spends one unit of the current task's budget for an operation about to be tried, as
    /// Tokio's function of the same name: `Pending` (the task already woken to run again
    /// after the others) when the budget is spent; else a guard that gives the unit back
    /// when dropped, unless [`RestoreOnPending::made_progress`] says the operation made
    /// progress. Outside a task poll no budget applies and it is always ready.
    pub fn poll_proceed(cx: &mut std::task::Context<'_>) -> std::task::Poll<RestoreOnPending> {
        crate::coop::poll_proceed(cx)
    }

    /// Whether the current task poll has budget left (`true` outside a task poll, where
    /// no budget applies).
    pub fn has_budget_remaining() -> bool {
        crate::coop::has_budget_remaining()
    }
}

/// Futures of this module's functions, under Tokio's path.
pub mod futures {
    pub use super::task_local::TaskLocalFuture;
}
pub use yield_now::{consume_budget, unconstrained, yield_now, Unconstrained};

use self::core::Header;
use raw::RawTask;
use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// How a scheduler receives its tasks. Implemented by each flavor's shared handle (an
/// `Arc`), which every task stores.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// What each task of this scheduler keeps after its join waker (`core::Trailer`):
    /// `()` for tasks whose one state word every thread updates atomically; a local task's
    /// second state word (`local_task.rs`).
    type TaskExtra: Default + Send + Sync + 'static;

    /// The task completed: unlink it from the owned list and return the list's reference,
    /// or `None` if it is not (or no longer) in the list.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// Queue a task for polling.
    fn schedule(&self, task: Notified<Self>);

    /// Queue a task that woke itself during its poll; by default like `schedule`. Schedulers
    /// put it behind other work so a task that is always ready cannot starve the others.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The operations of this scheduler's tasks of future `F`: by default the harness's,
    /// whose state word every thread updates atomically.
    fn vtable<F: Future + 'static>() -> &'static core::Vtable {
        harness::vtable::<F, Self>()
    }
}

/// Owns one reference to a task (the owned list's). Dropping it drops the reference.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A task that must be polled: owns the reference that backs its `NOTIFIED` bit.
pub(crate) struct Notified<S: 'static>(pub(crate) Task<S>);

// SAFETY: a Task is a counted pointer to a cell whose future and output are Send.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as above; shared use only touches atomics.
unsafe impl<S> Sync for Task<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    /// `ptr` is the header of a live task of scheduler `S`; the caller hands over one
    /// reference.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            // SAFETY: forwarded.
            raw: unsafe { RawTask::from_raw(ptr) },
            _scheduler: PhantomData,
        }
    }

    /// Gives up ownership of the reference without dropping it.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.raw.header_ptr();
        std::mem::forget(self);
        ptr
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.raw.header_ptr()
    }

    /// The task's state word.
    pub(crate) fn state(&self) -> &state::State {
        &self.raw.header().state
    }

    /// The scheduler's per-task extra ([`Schedule::TaskExtra`]).
    pub(crate) fn extra(&self) -> &S::TaskExtra
    where
        S: Schedule,
    {
        let header = self.raw.header();
        // SAFETY: a task of scheduler `S` is a `core::Cell<_, S>` whose vtable holds the
        // offset of its `trailer.extra`, an `S::TaskExtra`; the reference `self` owns keeps
        // the cell alive for the borrow, and the pointer came from the cell's allocation.
        unsafe {
            &*self
                .header_ptr()
                .as_ptr()
                .cast::<u8>()
                .add(header.vtable.extra_offset)
                .cast::<S::TaskExtra>()
        }
    }

    /// Cancels the task for runtime shutdown (see `RawTask::shutdown`); consumes `self`.
    pub(crate) fn shutdown(self) {
        let raw = self.raw;
        std::mem::forget(self);
        raw.shutdown();
    }
}

impl<S: 'static> Notified<S> {
    /// Polls the task (or cancels it, if aborted). The reference becomes the runner's.
    pub(crate) fn run(self) {
        let raw = self.0.raw;
        std::mem::forget(self);
        raw.poll();
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.0.header_ptr()
    }

    /// # Safety
    /// As [`Task::from_raw`], and the reference backs the task's `NOTIFIED` bit.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified<S> {
        // SAFETY: forwarded.
        Notified(unsafe { Task::from_raw(ptr) })
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        self.0.into_raw()
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> std::fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Task({:p})", self.header_ptr())
    }
}

impl<S: 'static> std::fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({:p})", self.header_ptr())
    }
}

/// Allocates a task: returns the owned list's `Task`, the first `Notified` and the
/// `JoinHandle` (three references).
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the future and its output are `Send`.
    unsafe { new_task_unchecked(future, scheduler) }
}

/// [`new_task`] for a future that need not be `Send`.
///
/// # Safety
/// As `RawTask::new`: the future is polled and dropped only on the calling thread.
pub(crate) unsafe fn new_task_unchecked<F, S>(
    future: F,
    scheduler: S,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: forwarded.
    let raw = unsafe { RawTask::new(future, scheduler) };
    let task = Task {
        raw,
        _scheduler: PhantomData,
    };
    let notified = Notified(Task {
        raw,
        _scheduler: PhantomData,
    });
    (task, notified, JoinHandle::new(raw))
}

/// A task that belongs to no owned list (blocking tasks): returns its `Notified` and
/// `JoinHandle`; `release` must return `None` for it.
pub(crate) fn unowned<F, S>(future: F, scheduler: S) -> (Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let (task, notified, join) = new_task(future, scheduler);
    drop(task);
    (notified, join)
}
