//! The memory layout of a task: one heap allocation, `Cell<F, S>`, holding
//!
//! ```text
//! Cell (repr C)
//! ├── Header   owned-list links, vtable, state word                      (32 bytes)
//! ├── Core     scheduler handle S, Stage<F> = future | output | failure | consumed
//! └── Trailer  the JoinHandle's waker slot, then S::TaskExtra: nothing, a local task's
//!              foreign state word, or the multi-thread scheduler's 8-byte [`Margin`]
//! ```
//!
//! A task of a two-word future with a niche is a 72-byte cell (80 on a multi-thread
//! runtime). The injector is not intrusive (`scheduler/inject.rs`), so the header has no
//! queue link.
//!
//! A `NonNull<Header>` is a pointer to the whole cell (`repr(C)`, header first), so the
//! type-erased parts of the runtime (queues, wakers, the owned list) only handle headers and
//! reach the typed parts through the vtable.
//!
//! Who may touch what:
//! - `Header::owned`: the owned list, under the lock of the task's shard.
//! - `Core::stage`: the thread holding `RUNNING`; after `COMPLETE`, the `JoinHandle` if
//!   `JOIN_INTEREST` was set at completion, else the completing thread.
//! - `Trailer::waker`: see the `JOIN_WAKER` rules in `state.rs`.

use crate::loom::UnsafeCell;
use crate::task::error::Repr as Failure;
use crate::task::state::State;
use crate::task::Schedule;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// The type-erased part of every task, at offset 0 of its cell.
///
/// Fields that polls and same-worker wake-ups never touch come first (the owned-list
/// links, 16 bytes) and last (the [`Trailer`], 16 bytes or more). Together with glibc's
/// 8-byte chunk header they keep the bytes every poll reads or writes (vtable, state word,
/// scheduler handle, future) off the cache lines of the cells beside the task, often
/// other tasks polled on another worker: tasks spawned one after another lie side by side
/// in memory and are then spread over workers by stealing. With the state word first, or
/// with no margin, neighbouring tasks' polls share lines, and `tokio_shapes.yield_many`
/// and `scale.workers_yield` on two workers lose much of their rate (the figures are in
/// the commits that set this layout). The [`Margin`] is the price: 8 bytes per task of a
/// multi-thread runtime, which for a small future decide between glibc's 80- and 96-byte
/// chunks; a current-thread runtime or a `LocalSet` polls its tasks on one thread and
/// pays nothing. Tried: 128-byte alignment as Tokio does (glibc's `memalign` path halved
/// zokio's spawn rate and made each task 316 bytes).
#[repr(C)]
pub(crate) struct Header {
    /// Links for the intrusive owned-task list (written when the task and its list
    /// neighbours are added and removed).
    pub(crate) owned: UnsafeCell<Pointers>,
    pub(crate) vtable: &'static Vtable,
    pub(crate) state: State,
    /// The id of the task's `runtime.spawn` span (`util/trace.rs`), for waker events;
    /// written once, before the task is shared.
    #[cfg(feature = "tracing")]
    pub(crate) tracing_id: Option<std::num::NonZeroU64>,
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
    /// Bytes from the header to the trailer's `extra` ([`Cell::EXTRA_OFFSET`]).
    pub(crate) extra_offset: usize,
}

/// The whole task allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S: Schedule> {
    pub(crate) header: Header,
    pub(crate) core: Core<F, S>,
    pub(crate) trailer: Trailer<S::TaskExtra>,
}

/// The scheduler handle and the future or its output.
pub(crate) struct Core<F: Future, S> {
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

/// Where the task is in its life.
///
/// The output and the failure are two variants, not one `Result`, and a failure is one
/// word: so both fit beside a niche of the future (a `bool`, an `Option`'s or an enum's
/// tag), and the stage of such a future whose output is no wider than the rest of it is as
/// wide as the future itself, with no separate tag. (An `async` block's state byte is no
/// niche to rustc: its stage is one word wider than the block.)
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(F::Output),
    Failed(Failure),
    Consumed,
}

impl<F: Future> Stage<F> {
    /// The stage holding a task's result.
    pub(crate) fn finished(output: Result<F::Output, Failure>) -> Stage<F> {
        match output {
            Ok(output) => Stage::Finished(output),
            Err(failure) => Stage::Failed(failure),
        }
    }
}

/// The `JoinHandle`'s waker slot and the scheduler's per-task extra.
pub(crate) struct Trailer<E> {
    pub(crate) waker: UnsafeCell<Option<Waker>>,
    /// What the scheduler keeps per task ([`Schedule::TaskExtra`]): nothing, a local task's
    /// second state word, which threads other than its owner update (`local_task.rs`), or
    /// a [`Margin`].
    pub(crate) extra: E,
}

/// The multi-thread scheduler's per-task extra: eight bytes that widen the cold gap between
/// the hot bytes of neighbouring cells (see [`Header`]). Nobody touches them unless the
/// runtime keeps a schedule-latency histogram, which stores here when the task was last
/// scheduled (written by the scheduling thread, read by the polling one after it took the
/// task from a queue, which orders the two).
#[derive(Default)]
pub(crate) struct Margin {
    /// Nanoseconds from the runtime's metrics epoch to the task's last schedule, plus one;
    /// 0: never stamped. A plain `std` atomic under loom too: it carries a figure, never
    /// synchronisation.
    scheduled_at: std::sync::atomic::AtomicU64,
}

impl Margin {
    /// Records that the task was scheduled `nanos` after the metrics epoch.
    pub(crate) fn set_scheduled_at(&self, nanos: u64) {
        self.scheduled_at.store(
            nanos.saturating_add(1),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// When the task was last scheduled, in ns after the metrics epoch; `None` if never.
    pub(crate) fn scheduled_at(&self) -> Option<u64> {
        self.scheduled_at
            .load(std::sync::atomic::Ordering::Relaxed)
            .checked_sub(1)
    }
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Bytes from the header (the cell's start) to the trailer's `extra`, so schedulers can
    /// reach it through a type-erased task.
    pub(crate) const EXTRA_OFFSET: usize = std::mem::offset_of!(Cell<F, S>, trailer)
        + std::mem::offset_of!(Trailer<S::TaskExtra>, extra);
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Allocates a new task in its initial state (see `State::new`).
    pub(crate) fn new(future: F, scheduler: S, vtable: &'static Vtable) -> Box<Cell<F, S>> {
        Box::new(Cell {
            header: Header {
                owned: UnsafeCell::new(Pointers {
                    prev: None,
                    next: None,
                }),
                vtable,
                state: State::new(),
                #[cfg(feature = "tracing")]
                tracing_id: None,
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
                extra: S::TaskExtra::default(),
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

    /// Stores a result into a `Consumed` stage (which has nothing to drop).
    ///
    /// # Safety
    /// As [`set_stage`](Self::set_stage), and the stage is `Consumed`.
    pub(crate) unsafe fn store_into_consumed(&self, stage: Stage<F>) {
        // SAFETY: exclusive access is the caller's contract; overwriting `Consumed` without
        // dropping it leaks nothing.
        self.stage.with_mut(|ptr| unsafe {
            debug_assert!(matches!(*ptr, Stage::Consumed));
            ptr.write(stage)
        });
    }

    /// Whether the stage is `Consumed` (nothing left to drop).
    ///
    /// # Safety
    /// As [`set_stage`](Self::set_stage).
    pub(crate) unsafe fn is_consumed(&self) -> bool {
        // SAFETY: exclusive access is the caller's contract.
        self.stage
            .with(|ptr| matches!(unsafe { &*ptr }, Stage::Consumed))
    }

    /// Takes the output, leaving `Consumed`.
    ///
    /// # Safety
    /// The caller is the `JoinHandle` and the task is complete with join interest.
    pub(crate) unsafe fn take_output(&self) -> Result<F::Output, Failure> {
        // SAFETY: the caller has exclusive access to a completed stage.
        self.stage.with_mut(
            |ptr| match std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => Ok(output),
                Stage::Failed(failure) => Err(failure),
                _ => panic!("JoinHandle polled after completion"),
            },
        )
    }
}

impl<E> Trailer<E> {
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

/// A future shaped like the idle task of `memory.per_task`, for layout tests here and in
/// the schedulers.
#[cfg(all(test, not(loom)))]
pub(crate) mod test_support {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    /// A shared pointer and a flag (a niche); pending forever.
    pub(crate) struct Waiter {
        pub(crate) _shared: Arc<()>,
        pub(crate) _registered: bool,
    }

    impl Future for Waiter {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::test_support::Waiter;
    use super::*;
    use crate::task::error::Repr;
    use std::mem::size_of;
    use std::sync::Arc;

    fn stage_overhead<F: Future>(_: &F) -> usize {
        size_of::<Stage<F>>() - size_of::<F>()
    }

    #[test]
    fn a_stored_failure_is_one_word_without_the_id() {
        // The id is added on read, and a panic payload is boxed once more.
        assert_eq!(size_of::<Repr>(), size_of::<usize>());
    }

    #[test]
    fn the_stage_of_a_future_with_a_niche_is_no_wider_than_the_future() {
        let waiter = Waiter {
            _shared: Arc::new(()),
            _registered: false,
        };
        assert_eq!(stage_overhead(&waiter), 0);
        // rustc gives an `async` block's state no niche (Rust 1.95), so its stage needs a
        // tag of its own, as does a future with no niche.
        let shared = Arc::new(());
        let block = async move {
            let _shared = shared;
            std::future::pending::<()>().await;
        };
        assert_eq!(stage_overhead(&block), size_of::<usize>());
    }
}
