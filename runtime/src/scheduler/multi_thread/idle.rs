//! Which workers are parked and how many are searching for work.
//!
//! `state` packs two counters: the number of *searching* workers (low 16 bits) and the
//! number of *unparked* workers (the rest). `sleepers`, under a mutex, lists the parked
//! workers. Both counters change only together with `sleepers` (under its lock) except the
//! searching count, which a worker also changes on its own when it starts or stops
//! searching.
//!
//! ## The no-lost-wake-up argument
//!
//! A producer pushes a task, then calls [`Idle::worker_to_notify`], which wakes a sleeper
//! only if no worker is searching and some worker is parked. A worker that stops searching
//! and parks decrements the counters with a SeqCst RMW; if it was the *last* searcher it
//! re-checks every queue (`notify_if_work_pending`) after that decrement. Both sides use
//! SeqCst, so either the producer sees zero searchers (and wakes somebody) or the last
//! searcher's re-check sees the task. A worker only parks without searching when another
//! worker is searching, and that one is covered by the same argument. The loom model
//! `loom_park_no_lost_wakeup` checks this protocol.
//!
//! At most half the workers search at once (rounded up), as in Go and Tokio: more searchers
//! only contend on the same victims.

use crate::loom::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Mutex};

const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    /// All `num_workers` start unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCHING_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// If a worker should be woken for new work, returns its index, already counted as
    /// unparked and searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = sleepers.pop()?;
        // One more unparked worker, and it is searching.
        self.state.fetch_add(UNPARKED_ONE | 1, SeqCst);
        Some(worker)
    }

    fn notify_should_wakeup(&self) -> bool {
        // Pairs with the SeqCst RMW in `transition_worker_to_parked`: orders the producer's
        // push before this read.
        fence(SeqCst);
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// The worker parks. Returns `true` if it was the last searching worker, in which case
    /// the caller must re-check all queues.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let dec = UNPARKED_ONE | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        // Pairs with the fence in `notify_should_wakeup`: with a SeqCst fence on both sides
        // of this store-buffering pattern, either the producer reads the decremented state
        // or the caller's re-check of the queues reads the producer's push. (SeqCst
        // accesses alone would also do in the C++ model, but loom proves only fences.)
        fence(SeqCst);
        is_searching && searching(prev) == 1
    }

    /// The worker starts searching; refused when half the workers already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// The worker found work and stops searching. Returns `true` if it was the last
    /// searcher, in which case the caller wakes another worker to keep looking (the work it
    /// found suggests there is more).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Marks a worker woken by something other than a notification (for example its driver)
    /// as unparked, not searching. Returns `false` if it was not parked.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(UNPARKED_ONE, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether `worker` is still listed as parked (a wake-up was spurious).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        lock(&self.sleepers).contains(&worker)
    }

    /// Snapshot: (searching, unparked).
    #[cfg(all(test, loom))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let s = self.state.load(SeqCst);
        (searching(s), unparked(s))
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.load(SeqCst);
        f.debug_struct("Idle")
            .field("searching", &searching(s))
            .field("unparked", &unparked(s))
            .finish()
    }
}
