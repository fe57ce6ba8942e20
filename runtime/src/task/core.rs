//! The memory layout of a task: one heap allocation, `Cell<F, S>`, holding
//!
//! ```text
//! Cell (repr C)
//! ├── Header   state word, vtable, injector link, owned-list links    (48 bytes)
//! ├── Core     scheduler handle S, Stage<F> = future | output | consumed
//! └── Trailer  the JoinHandle's waker slot                            (16 bytes)
//! ```
//!
//! A `NonNull<Header>` is a pointer to the whole cell (`repr(C)`, header first), so the
//! type-erased parts of the runtime (queues, wakers, the owned list) only handle headers and
//! reach the typed parts through the vtable.
//!
//! Who may touch what:
//! - `Header::queue_next`: whoever owns the task's `Notified` (at most one exists), or the
//!   injector while the task is linked into it (under the injector lock).
//! - `Header::owned`: the owned list, under the lock of the task's shard.
//! - `Core::stage`: the thread holding `RUNNING`; after `COMPLETE`, the `JoinHandle` if
//!   `JOIN_INTEREST` was set at completion, else the completing thread.
//! - `Trailer::waker`: see the `JOIN_WAKER` rules in `state.rs`.

use crate::loom::UnsafeCell;
use crate::task::error::JoinError;
use crate::task::state::State;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// The type-erased part of every task, at offset 0 of its cell.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Link for the intrusive injector list.
    pub(crate) queue_next: UnsafeCell<Option<NonNull<Header>>>,
    /// Links for the intrusive owned-task list.
    pub(crate) owned: UnsafeCell<Pointers>,
}

/// Previous/next links of a doubly linked intrusive list.
#[derive(Debug)]
pub(crate) struct Pointers {
    pub(crate) prev: Option<NonNull<Header>>,
    pub(crate) next: Option<NonNull<Header>>,
}

/// Type-specific operations, one static table per `(F, S)` pair.
pub(crate) struct Vtable {
    /// Runs the task: consumes one reference (the `Notified`'s).
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Submits a `Notified` backed by one reference the caller gives up.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell; no references remain.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Reads the output into `*mut Poll<Result<T, JoinError>>` if complete, else stores the
    /// waker. Called only by the `JoinHandle`.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Drops the `JoinHandle`'s interest and its reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Cancels the task for runtime shutdown; consumes one reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// The whole task allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) core: Core<F, S>,
    pub(crate) trailer: Trailer,
}

/// The scheduler handle and the future or its output.
pub(crate) struct Core<F: Future, S> {
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

/// Where the task is in its life.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The `JoinHandle`'s waker slot.
pub(crate) struct Trailer {
    pub(crate) waker: UnsafeCell<Option<Waker>>,
}

impl<F: Future, S> Cell<F, S> {
    /// Allocates a new task in its initial state (see `State::new`).
    pub(crate) fn new(future: F, scheduler: S, vtable: &'static Vtable) -> Box<Cell<F, S>> {
        Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable,
                queue_next: UnsafeCell::new(None),
                owned: UnsafeCell::new(Pointers {
                    prev: None,
                    next: None,
                }),
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
            },
        })
    }
}

impl<F: Future, S> Core<F, S> {
    /// Replaces the stage, dropping the old one (the future or an unread output).
    ///
    /// # Safety
    /// The caller has exclusive access to the stage (see the module docs).
    pub(crate) unsafe fn set_stage(&self, stage: Stage<F>) {
        // SAFETY: exclusive access is the caller's contract.
        self.stage.with_mut(|ptr| unsafe { *ptr = stage });
    }

    /// Takes the output, leaving `Consumed`.
    ///
    /// # Safety
    /// The caller is the `JoinHandle` and the task is complete with join interest.
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: the caller has exclusive access to a completed stage.
        self.stage.with_mut(
            |ptr| match std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after completion"),
            },
        )
    }
}

impl Trailer {
    /// # Safety
    /// The caller owns the waker slot (see `JOIN_WAKER` in `state.rs`).
    pub(crate) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: slot ownership is the caller's contract.
        self.waker.with_mut(|ptr| unsafe { *ptr = waker });
    }

    /// # Safety
    /// The caller owns the slot, or the runtime side reads it after `COMPLETE`.
    pub(crate) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: as above; shared read.
        self.waker
            .with(|ptr| unsafe { (*ptr).as_ref() }.is_some_and(|w| w.will_wake(waker)))
    }

    /// # Safety
    /// Called by the runtime after `COMPLETE` with `JOIN_WAKER` set.
    pub(crate) unsafe fn wake_join(&self) {
        // SAFETY: the runtime side may read the slot after COMPLETE while JOIN_WAKER is set.
        self.waker.with(|ptr| match unsafe { &*ptr } {
            Some(waker) => waker.wake_by_ref(),
            None => panic!("JOIN_WAKER set with an empty waker slot"),
        });
    }
}
