//! The memory layout of a task: one heap allocation, `Cell<F, S>`, holding
//!
//! ```text
//! Cell (repr C)
//! ├── Header   owned-list links, injector link, vtable, state word     (40 bytes)
//! ├── Core     scheduler handle S, Stage<F> = future | output | consumed
//! └── Trailer  the JoinHandle's waker slot, 16 bytes of margin        (32 bytes)
//!              (a local task keeps its foreign state word in the margin)
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

use crate::loom::atomic::AtomicUsize;
use crate::loom::UnsafeCell;
use crate::task::error::Repr as Failure;
use crate::task::state::State;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// The type-erased part of every task, at offset 0 of its cell.
///
/// Fields that polls and same-worker wake-ups never touch come first (24 bytes: the
/// owned-list and injector links) and last (the [`Trailer`], 32 bytes). Together they
/// keep the bytes every poll reads or writes (vtable, state word, scheduler handle,
/// future) off the cache lines of the allocations beside the task, often other tasks
/// polled on another worker: with glibc (16-byte alignment, an 8-byte chunk header between
/// allocations), 56 cold bytes between the hot bytes of two neighbouring cells leave no
/// 64-byte line holding both. With the state word first, tasks spawned one after another
/// (side by side in memory, then spread over workers by stealing) made each poll's
/// compare-and-swap share a line with the neighbour's future: `tokio_shapes.yield_many`
/// ran at 0.86x Tokio, 1.4x with this layout, which costs 16 bytes per task. Tried: 128-byte
/// alignment as Tokio does (glibc's `memalign` path halved zokio's spawn rate and made
/// each task 316 bytes), and all 40 cold bytes first with no margin (0.95x). The margin
/// also moved `memory.io_driver` from 21.8k to 25.9k bytes per current-thread runtime,
/// where no task is spawned: a heap layout effect whose cause was not found.
#[repr(C)]
pub(crate) struct Header {
    /// Links for the intrusive owned-task list (written when the task and its list
    /// neighbours are added and removed).
    pub(crate) owned: UnsafeCell<Pointers>,
    /// Link for the intrusive injector list.
    pub(crate) queue_next: UnsafeCell<Option<NonNull<Header>>>,
    pub(crate) vtable: &'static Vtable,
    pub(crate) state: State,
}

/// Previous/next links of a doubly linked intrusive list.
#[derive(Debug)]
pub(crate) struct Pointers {
    pub(crate) prev: Option<NonNull<Header>>,
    pub(crate) next: Option<NonNull<Header>>,
}

/// Type-specific operations, one static table per `(F, S)` pair.
pub(crate) struct Vtable {
    /// Adds one reference (an `AbortHandle`).
    pub(crate) ref_inc: unsafe fn(NonNull<Header>),
    /// Drops one reference, freeing the cell if it was the last.
    pub(crate) ref_dec: unsafe fn(NonNull<Header>),
    /// `abort()` from any thread.
    pub(crate) abort: unsafe fn(NonNull<Header>),
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
    Finished(Result<F::Output, Failure>),
    Consumed,
}

/// The `JoinHandle`'s waker slot, and the end of the cold margin (see [`Header`]).
pub(crate) struct Trailer {
    pub(crate) waker: UnsafeCell<Option<Waker>>,
    /// A local task's second state word, which threads other than its owner update
    /// (`local_task.rs`); part of the margin, untouched, in every other task.
    pub(crate) foreign: AtomicUsize,
    _margin: u64,
}

impl<F: Future, S> Cell<F, S> {
    /// Allocates a new task in its initial state (see `State::new`).
    pub(crate) fn new(future: F, scheduler: S, vtable: &'static Vtable) -> Box<Cell<F, S>> {
        Box::new(Cell {
            header: Header {
                owned: UnsafeCell::new(Pointers {
                    prev: None,
                    next: None,
                }),
                queue_next: UnsafeCell::new(None),
                vtable,
                state: State::new(),
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
                foreign: AtomicUsize::new(0),
                _margin: 0,
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
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, Failure> {
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::error::{JoinError, Repr};
    use std::mem::size_of;

    #[test]
    fn a_stored_failure_is_two_words_without_the_id() {
        // The id is added on read, so the task cell of a small future does not grow:
        // its stage (future | output | consumed) is as wide as without task ids.
        type Small = std::future::Ready<()>;
        #[allow(dead_code)] // only measured
        enum WithIds<F: std::future::Future> {
            Running(F),
            Finished(Result<F::Output, JoinError>),
            Consumed,
        }
        assert_eq!(size_of::<Repr>(), 16);
        assert!(size_of::<Stage<Small>>() < size_of::<WithIds<Small>>());
    }
}
