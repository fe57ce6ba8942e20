//! The task state word.
//!
//! One `AtomicUsize` per task. Bit layout (low to high):
//!
//! | bit | name            | set means                                                          |
//! |-----|-----------------|--------------------------------------------------------------------|
//! | 0   | `RUNNING`       | one thread has claimed the task and owns its future (`Stage`)      |
//! | 1   | `COMPLETE`      | the output (or `JoinError`) is stored; the future has been dropped |
//! | 2   | `NOTIFIED`      | exactly one `Notified` exists for the task, or the runner will     |
//! |     |                 | create one when the current poll returns                           |
//! | 3   | `JOIN_INTEREST` | a `JoinHandle` exists; it, not the runtime, will drop the output   |
//! | 4   | `JOIN_WAKER`    | the trailer's waker slot is filled and owned by the runtime side   |
//! | 5   | `CANCELLED`     | the task must be cancelled instead of polled (abort or shutdown)   |
//! | 6   | `UNSYNC_OWNED`  | its owned list is an unsynchronized one (a current-thread core's, |
//! |     |                 | a `LocalSet`'s); set before the task is shared, never changed      |
//! | 7.. | ref count       | references: owned list, `JoinHandle`, `Notified`, runner, wakers   |
//!
//! Invariants:
//! - `RUNNING` and `COMPLETE` are never both set; once `COMPLETE` is set it stays set.
//! - `NOTIFIED` only goes from clear to set while the task is not complete, and a wake only
//!   creates a `Notified` when it makes that change on an idle task, so a task sits in at
//!   most one run queue and "woken while running" re-schedules exactly once, from
//!   `transition_to_idle`. (Cancel and shutdown may leave the bit set on a completed task;
//!   wakes of a completed task do nothing.)
//! - Waker slot ownership: if `JOIN_WAKER` is clear, the `JoinHandle` owns the slot; if set,
//!   the runtime may read it, and only after `COMPLETE`. The `JoinHandle` clears `JOIN_WAKER`
//!   (with a CAS that fails once `COMPLETE` is set) before it touches the slot again.
//! - `JOIN_WAKER` implies `JOIN_INTEREST`, except transiently after the handle is dropped
//!   while complete, where the runtime then drops the waker (`unset_waker_after_complete`).
//!
//! Orderings: every read-modify-write is `AcqRel` and loads are `Acquire`, so whoever
//! observes a transition also observes the writes to the stage and trailer made before it
//! (the output store before `COMPLETE`, the waker store before `JOIN_WAKER`).
//!
//! The design follows Tokio's `runtime/task/state.rs` (same bits, same roles); the code is our
//! own.

use crate::loom::atomic::{AtomicUsize, Ordering::*};

const RUNNING: usize = 0b00_0001;
const COMPLETE: usize = 0b00_0010;
const NOTIFIED: usize = 0b00_0100;
const JOIN_INTEREST: usize = 0b00_1000;
const JOIN_WAKER: usize = 0b01_0000;
const CANCELLED: usize = 0b10_0000;
const UNSYNC_OWNED: usize = 0b100_0000;
const REF_SHIFT: usize = 7;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A new task: three references (owned list, `JoinHandle`, the first `Notified`), a
/// `JoinHandle`, and already notified because it is about to be scheduled.
const INITIAL: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the caller of [`State::transition_to_running`] must do.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Success,
    /// Cancel the task: drop the future and store `JoinError::Cancelled`.
    Cancelled,
    /// The task is running elsewhere or complete; the `Notified` reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the runner must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The runner's reference was dropped; nothing more to do.
    Ok,
    /// Woken during the poll: the runner's reference now backs a new `Notified` to schedule.
    OkNotified,
    /// The runner's reference was the last: deallocate.
    OkDealloc,
    /// Aborted during the poll: still `RUNNING`; cancel and complete the task.
    Cancelled,
}

/// What a waker must do after setting `NOTIFIED`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing: running (the runner re-schedules), already notified, or complete.
    DoNothing,
    /// Schedule a `Notified` backed by one reference (the waker's, or a new one).
    Submit,
    /// The waker's reference was the last: deallocate.
    Dealloc,
}

impl State {
    #[inline]
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    /// Marks the task as bound to an unsynchronized owned list (`UnsyncOwnedTasks`).
    ///
    /// # Safety
    /// No other thread can reach the task yet (it is not in any queue, list or handle that
    /// was shared).
    pub(crate) unsafe fn mark_unsync_owned(&self) {
        self.val
            .store(self.val.load(Relaxed) | UNSYNC_OWNED, Relaxed);
    }

    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// Runs `f` in a CAS loop; `f` returns the action and the new value, or `None` to leave
    /// the word unchanged.
    #[inline]
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (action, next) = f(curr);
            let Some(next) = next else { return action };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return action,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Like `fetch_update_action` for transitions that can refuse: `f` returns `None` to
    /// refuse, and the current snapshot is returned as the error.
    #[inline]
    fn fetch_update(
        &self,
        mut f: impl FnMut(Snapshot) -> Option<Snapshot>,
    ) -> Result<Snapshot, Snapshot> {
        let mut curr = self.load();
        loop {
            let Some(next) = f(curr) else {
                return Err(curr);
            };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return Ok(next),
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Runs a transition on the word as its only writer: a plain load and one release
    /// store, no read-modify-write. Only for a local task's owner thread (`local_task.rs`),
    /// where no other thread ever writes the word.
    #[inline]
    fn owner_update_action<T>(&self, f: impl FnOnce(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let (action, next) = f(Snapshot(self.val.load(Relaxed)));
        if let Some(next) = next {
            self.val.store(next.0, Release);
        }
        action
    }

    /// The word as its owner thread sees it (see `owner_update_action`).
    #[inline]
    pub(crate) fn owner_load(&self) -> Snapshot {
        Snapshot(self.val.load(Relaxed))
    }

    /// [`transition_to_running`](Self::transition_to_running) by the owner thread of a
    /// local task that is idle (the caller checked).
    #[inline]
    pub(crate) fn owner_transition_to_running(&self) -> TransitionToRunning {
        self.owner_update_action(|s| {
            debug_assert!(s.is_idle());
            let (action, next) = claim(s);
            (action, Some(next))
        })
    }

    /// [`transition_to_idle`](Self::transition_to_idle) by a local task's owner thread.
    /// The reference count is a wrapping part-count here (see
    /// [`owner_ref_count`](Snapshot::owner_ref_count)), so nothing is deallocated.
    #[inline]
    pub(crate) fn owner_transition_to_idle(&self) -> TransitionToIdle {
        self.owner_update_action(|mut s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            s.0 &= !RUNNING;
            if s.is_notified() {
                // The runner's reference moves into the new Notified.
                return (TransitionToIdle::OkNotified, Some(s));
            }
            s.0 = s.0.wrapping_sub(REF_ONE);
            (TransitionToIdle::Ok, Some(s))
        })
    }

    /// [`transition_to_notified_by_val`](Self::transition_to_notified_by_val) by a local
    /// task's owner thread, for a task that is not complete: `Submit` or `DoNothing`.
    #[inline]
    pub(crate) fn owner_transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.owner_update_action(|mut s| {
            debug_assert!(!s.is_complete());
            if s.is_running() || s.is_notified() {
                s.0 |= NOTIFIED;
                s.0 = s.0.wrapping_sub(REF_ONE);
                (TransitionToNotified::DoNothing, Some(s))
            } else {
                s.0 |= NOTIFIED;
                (TransitionToNotified::Submit, Some(s))
            }
        })
    }

    /// [`transition_to_notified_by_ref`](Self::transition_to_notified_by_ref) by a local
    /// task's owner thread, for a task that is not complete.
    #[inline]
    pub(crate) fn owner_transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.owner_update_action(|s| {
            debug_assert!(!s.is_complete());
            notified_by_ref(s)
        })
    }

    /// [`transition_to_notified_and_cancel`](Self::transition_to_notified_and_cancel) by a
    /// local task's owner thread.
    #[inline]
    pub(crate) fn owner_transition_to_notified_and_cancel(&self) -> bool {
        self.owner_update_action(notified_and_cancel)
    }

    /// [`transition_to_shutdown`](Self::transition_to_shutdown) by a local task's owner
    /// thread.
    #[inline]
    pub(crate) fn owner_transition_to_shutdown(&self) -> bool {
        self.owner_update_action(shutdown)
    }

    /// `RUNNING` -> `COMPLETE` and drops `released` references, by a local task's owner
    /// thread. Returns the word after the change.
    #[inline]
    pub(crate) fn owner_transition_to_complete(&self, released: usize) -> Snapshot {
        self.owner_update_action(|s| {
            debug_assert!(s.is_running() && !s.is_complete());
            let next = Snapshot(((s.0 & !RUNNING) | COMPLETE).wrapping_sub(released * REF_ONE));
            (next, Some(next))
        })
    }

    /// The `JoinHandle` of a local task is dropped on the owner thread before completion:
    /// clears `JOIN_INTEREST` and drops its reference.
    #[inline]
    pub(crate) fn owner_drop_join_interest(&self) {
        self.owner_update_action(|s| {
            debug_assert!(s.is_join_interested() && !s.is_complete());
            (
                (),
                Some(Snapshot((s.0 & !JOIN_INTEREST).wrapping_sub(REF_ONE))),
            )
        })
    }

    /// Adds one reference on a local task's owner thread, before completion.
    #[inline]
    pub(crate) fn owner_ref_inc(&self) {
        self.owner_update_action(|s| ((), Some(Snapshot(s.0.wrapping_add(REF_ONE)))))
    }

    /// Drops one reference on a local task's owner thread, before completion.
    #[inline]
    pub(crate) fn owner_ref_dec(&self) {
        self.owner_update_action(|s| ((), Some(Snapshot(s.0.wrapping_sub(REF_ONE)))))
    }

    /// Consumes a `Notified`: claims `RUNNING` and clears `NOTIFIED`. The `Notified`'s
    /// reference becomes the runner's reference on success.
    #[inline]
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut s| {
            if !s.is_idle() {
                // Shutdown claimed it while it sat in a queue: drop the Notified's reference.
                s.ref_dec();
                let action = if s.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(s));
            }
            let (action, next) = claim(s);
            (action, Some(next))
        })
    }

    /// After a `Pending` poll: releases `RUNNING` unless the task was cancelled meanwhile.
    #[inline]
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(idle)
    }

    /// Output stored: `RUNNING` → `COMPLETE`. Returns the snapshot before the change.
    #[inline]
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// `RUNNING` → `COMPLETE` and drops `count` references, in one step: for a task with no
    /// `JoinHandle` left, whose output the runner has already dropped (nobody can read it,
    /// and `JOIN_INTEREST` never comes back). Returns `true` when no reference remains.
    #[inline]
    pub(crate) fn transition_to_complete_and_terminal(&self, count: usize) -> bool {
        let prev = self.fetch_update_action(|s| {
            debug_assert!(s.is_running() && !s.is_complete() && !s.is_join_interested());
            assert!(s.ref_count() >= count, "task reference count underflow");
            let next = Snapshot(((s.0 & !RUNNING) | COMPLETE) - count * REF_ONE);
            (s, Some(next))
        });
        prev.ref_count() == count
    }

    /// Drops `count` references at once after completion. Returns `true` when none remain.
    #[inline]
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// `wake()` (by value): consumes the waker's reference, moving it into a `Notified` when
    /// the task must be submitted.
    #[inline]
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(notified_by_val)
    }

    /// `wake_by_ref()`: adds a reference for the `Notified` when the task must be submitted.
    #[inline]
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(notified_by_ref)
    }

    /// `abort()` from any thread. Returns `true` when the caller must submit a `Notified`
    /// (a reference was added for it) so that a worker cancels the idle task.
    #[inline]
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(notified_and_cancel)
    }

    /// Runtime shutdown: marks the task cancelled and claims `RUNNING` if nobody holds it.
    /// Returns `true` when claimed: the caller must cancel and complete the task.
    #[inline]
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(shutdown)
    }

    /// The `JoinHandle` is dropped. Returns `(drop_output, drop_waker)`: whether the caller
    /// now owns (and must drop) the stored output and the waker slot.
    #[inline]
    pub(crate) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        self.fetch_update_action(|s| {
            debug_assert!(s.is_join_interested());
            let mut next = s;
            next.0 &= !JOIN_INTEREST;
            if !s.is_complete() {
                next.0 &= !JOIN_WAKER;
            }
            let drop_output = s.is_complete();
            let drop_waker = !next.is_join_waker_set();
            ((drop_output, drop_waker), Some(next))
        })
    }

    /// The `JoinHandle` is dropped before completion with no waker handed over, and other
    /// references remain: clears `JOIN_INTEREST` and drops the handle's reference in one
    /// step. Returns `false`, changing nothing, in every other case (then the caller takes
    /// [`transition_to_join_handle_dropped`](Self::transition_to_join_handle_dropped)'s
    /// path). With `JOIN_WAKER` clear and the task not complete, the slot is the handle's
    /// and already empty (see `Harness::can_read_output`), so nothing is left to drop.
    #[inline]
    pub(crate) fn drop_join_handle_fast(&self) -> bool {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() || s.is_join_waker_set() || s.ref_count() < 2 {
                return None;
            }
            Some(Snapshot((s.0 & !JOIN_INTEREST) - REF_ONE))
        })
        .is_ok()
    }

    /// Hands the (already written) waker slot to the runtime side. Fails if the task
    /// completed meanwhile, in which case the caller still owns the slot.
    #[inline]
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return None;
            }
            Some(Snapshot(s.0 | JOIN_WAKER))
        })
    }

    /// Takes the waker slot back from the runtime side to replace the waker. Fails once the
    /// task is complete (the runtime may be reading the slot).
    #[inline]
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                return None;
            }
            Some(Snapshot(s.0 & !JOIN_WAKER))
        })
    }

    /// After waking the join waker on completion: gives the slot back. Returns the snapshot
    /// before the change; if it has no `JOIN_INTEREST`, the handle is gone and the runtime
    /// must drop the waker itself.
    #[inline]
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        prev
    }

    /// Adds one reference (a cloned waker). Aborts the process on overflow, since continuing
    /// would risk a use-after-free (the same policy as `Arc`).
    #[inline]
    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference. Returns `true` when it was the last.
    #[inline]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }
}

// Transitions as functions of the word: each maps the current word to the action and the
// new word (`None`: unchanged). `notified_by_ref`, `notified_and_cancel` and `shutdown`
// also serve a local task's owner thread (they only add references, wrapping), whose
// other transitions count references differently.

/// An idle task's `Notified` is consumed: `RUNNING` set, `NOTIFIED` cleared.
fn claim(mut s: Snapshot) -> (TransitionToRunning, Snapshot) {
    s.0 |= RUNNING;
    s.0 &= !NOTIFIED;
    let action = if s.is_cancelled() {
        TransitionToRunning::Cancelled
    } else {
        TransitionToRunning::Success
    };
    (action, s)
}

fn idle(mut s: Snapshot) -> (TransitionToIdle, Option<Snapshot>) {
    debug_assert!(s.is_running());
    if s.is_cancelled() {
        return (TransitionToIdle::Cancelled, None);
    }
    s.0 &= !RUNNING;
    let action = if s.is_notified() {
        // The runner's reference moves into the new Notified.
        TransitionToIdle::OkNotified
    } else {
        s.ref_dec();
        if s.ref_count() == 0 {
            TransitionToIdle::OkDealloc
        } else {
            TransitionToIdle::Ok
        }
    };
    (action, Some(s))
}

fn notified_by_val(mut s: Snapshot) -> (TransitionToNotified, Option<Snapshot>) {
    if s.is_running() {
        s.0 |= NOTIFIED;
        s.ref_dec();
        debug_assert!(s.ref_count() > 0, "the runner holds a reference");
        (TransitionToNotified::DoNothing, Some(s))
    } else if s.is_complete() || s.is_notified() {
        s.ref_dec();
        let action = if s.ref_count() == 0 {
            TransitionToNotified::Dealloc
        } else {
            TransitionToNotified::DoNothing
        };
        (action, Some(s))
    } else {
        s.0 |= NOTIFIED;
        (TransitionToNotified::Submit, Some(s))
    }
}

fn notified_by_ref(mut s: Snapshot) -> (TransitionToNotified, Option<Snapshot>) {
    if s.is_complete() || s.is_notified() {
        (TransitionToNotified::DoNothing, None)
    } else if s.is_running() {
        s.0 |= NOTIFIED;
        (TransitionToNotified::DoNothing, Some(s))
    } else {
        s.0 |= NOTIFIED;
        s.ref_inc_unchecked();
        (TransitionToNotified::Submit, Some(s))
    }
}

fn notified_and_cancel(mut s: Snapshot) -> (bool, Option<Snapshot>) {
    if s.is_cancelled() || s.is_complete() {
        (false, None)
    } else if s.is_running() || s.is_notified() {
        // The runner, or whoever runs the queued Notified, sees CANCELLED.
        s.0 |= NOTIFIED | CANCELLED;
        (false, Some(s))
    } else {
        s.0 |= NOTIFIED | CANCELLED;
        s.ref_inc_unchecked();
        (true, Some(s))
    }
}

fn shutdown(mut s: Snapshot) -> (bool, Option<Snapshot>) {
    let claimed = s.is_idle();
    if claimed {
        s.0 |= RUNNING;
    }
    s.0 |= CANCELLED;
    (claimed, Some(s))
}

impl Snapshot {
    #[inline]
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }

    #[inline]
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    /// Neither running nor complete.
    #[inline]
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }

    #[inline]
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }

    #[inline]
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }

    #[inline]
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    #[inline]
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }

    #[inline]
    pub(crate) fn is_unsync_owned(self) -> bool {
        self.0 & UNSYNC_OWNED != 0
    }

    /// A local task's owner part of its reference count: references added minus those
    /// dropped through this word, which may be negative while other threads hold the rest
    /// (`local_task.rs`).
    #[inline]
    pub(crate) fn owner_ref_count(self) -> isize {
        (self.0 as isize) >> REF_SHIFT
    }

    #[inline]
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }

    #[inline]
    fn ref_dec(&mut self) {
        assert!(self.ref_count() > 0, "task reference count underflow");
        self.0 -= REF_ONE;
    }

    /// Adds one reference without the overflow check (the callers' counts are far from
    /// it); wrapping, since a local task's owner part may be negative.
    #[inline]
    fn ref_inc_unchecked(&mut self) {
        self.0 = self.0.wrapping_add(REF_ONE);
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("ref_count", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn wake_while_running_reschedules_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        // Two wakes by ref during the poll set NOTIFIED once and add no reference.
        assert_eq!(
            state.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(
            state.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(state.load().ref_count(), 3);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::OkNotified);
        // Still notified: a third wake does nothing.
        assert_eq!(
            state.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(state.load().ref_count(), 2);
        // Idle now: a wake submits and adds a reference.
        assert_eq!(
            state.transition_to_notified_by_ref(),
            TransitionToNotified::Submit
        );
        assert_eq!(state.load().ref_count(), 3);
    }

    #[test]
    fn abort_of_idle_task_submits_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
        assert!(state.transition_to_notified_and_cancel());
        assert!(!state.transition_to_notified_and_cancel());
        assert_eq!(
            state.transition_to_running(),
            TransitionToRunning::Cancelled
        );
    }

    #[test]
    fn join_waker_refused_after_complete() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        let prev = state.transition_to_complete();
        assert!(prev.is_join_interested());
        assert!(state.set_join_waker().is_err());
        let (drop_output, drop_waker) = state.transition_to_join_handle_dropped();
        assert!(drop_output && drop_waker);
    }

    #[test]
    fn a_local_tasks_owner_part_may_go_negative_and_back() {
        // Three references counted by the owner (list, handle, Notified), all three
        // dropped on the owner thread; then the runner's, created by the Notified.
        let state = State::new();
        for _ in 0..3 {
            state.owner_ref_dec();
        }
        assert_eq!(state.owner_load().owner_ref_count(), 0);
        assert_eq!(
            state.owner_transition_to_running(),
            TransitionToRunning::Success
        );
        assert_eq!(state.owner_transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(state.owner_load().owner_ref_count(), -1);
        // Transitions that add a reference wrap through zero instead of overflowing.
        assert!(state.owner_transition_to_notified_and_cancel());
        assert_eq!(state.owner_load().owner_ref_count(), 0);
        assert_eq!(
            state.owner_transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        state.owner_ref_inc();
        assert_eq!(
            state.owner_transition_to_running(),
            TransitionToRunning::Cancelled
        );
        let after = state.owner_transition_to_complete(1);
        assert!(after.is_complete() && !after.is_running());
        assert_eq!(after.owner_ref_count(), 0);
    }

    #[test]
    fn shutdown_claims_only_idle_tasks() {
        let state = State::new();
        assert!(state.transition_to_shutdown());
        let other = State::new();
        assert_eq!(other.transition_to_running(), TransitionToRunning::Success);
        assert!(!other.transition_to_shutdown());
        assert_eq!(other.transition_to_idle(), TransitionToIdle::Cancelled);
    }
}
