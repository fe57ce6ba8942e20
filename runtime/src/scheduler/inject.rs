//! The injector: a runtime-wide FIFO of tasks for remote spawns and wakes (from threads that
//! are not workers of the runtime) and for local-queue overflow.
//!
//! A ring buffer of task pointers (`VecDeque`) behind one mutex. It is not intrusive, so a
//! task cell carries no link for it: the 8 bytes would be paid by every task, queued or not,
//! while the ring costs 8 bytes per task only while queued (and keeps its capacity, up to
//! `RETAINED` slots once it empties). Pushing allocates only when the ring grows. `len` is
//! kept in an atomic so workers can skip the lock when the injector is empty, which is the
//! common case. Once closed (shutdown), pushes drop the task's `Notified` reference instead
//! of queueing it; the task itself is cancelled through the owned list.
//!
//! A current-thread runtime that keeps a schedule-latency histogram has no spare word in
//! its task cells for the schedule time, so its injector keeps a second ring beside the
//! first, of when each entry was queued ([`Inject::stamped`]); the two change together,
//! under the lock. Other injectors have none (a null pointer, tested under the lock).

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{lock, Mutex};
use crate::scheduler::stamps::ScheduleStamps;
use crate::task::core::Header;
use crate::task::Notified;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Instant;

/// Slots an emptied ring keeps; a larger one is shrunk to this when it empties, so a burst
/// of remote spawns does not hold its peak memory for the runtime's life.
const RETAINED: usize = 1024;

pub(crate) struct Inject<S: 'static> {
    synced: Mutex<Synced>,
    len: AtomicUsize,
    _scheduler: PhantomData<S>,
}

struct Synced {
    /// Each entry is one `Notified` reference, owned by the injector.
    queue: VecDeque<NonNull<Header>>,
    /// When each entry of `queue` was queued, in the same order, if the injector stamps.
    stamps: Option<Box<ScheduleStamps>>,
    closed: bool,
}

// SAFETY: the entries are task references, which may be sent between threads (tasks are
// Send, their references atomic); they are only touched under the mutex.
unsafe impl Send for Synced {}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Inject<S> {
        Inject::stamped(None)
    }

    /// An injector that, given an `epoch`, records when each task was queued (ns after
    /// `epoch`) for [`pop_stamped`](Self::pop_stamped); with `None`, the same as `new`.
    pub(crate) fn stamped(epoch: Option<Instant>) -> Inject<S> {
        Inject {
            synced: Mutex::new(Synced {
                queue: VecDeque::new(),
                stamps: epoch.map(ScheduleStamps::new),
                closed: false,
            }),
            len: AtomicUsize::new(0),
            _scheduler: PhantomData,
        }
    }

    /// Tasks queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the injector; returns `false` if it already was.
    pub(crate) fn close(&self) -> bool {
        let mut synced = lock(&self.synced);
        !std::mem::replace(&mut synced.closed, true)
    }

    /// Queues one task (dropped if closed).
    pub(crate) fn push(&self, task: Notified<S>) {
        let mut synced = lock(&self.synced);
        if synced.closed {
            drop(synced);
            return drop(task);
        }
        synced.queue.push_back(task.into_raw());
        if let Some(stamps) = &mut synced.stamps {
            stamps.push_now(1);
        }
        self.publish_len(&synced);
    }

    /// Queues a batch in order (dropped if closed).
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut synced = lock(&self.synced);
        if synced.closed {
            drop(synced);
            return tasks.for_each(drop);
        }
        let before = synced.queue.len();
        synced.queue.extend(tasks.map(Notified::into_raw));
        let added = synced.queue.len() - before;
        if let Some(stamps) = &mut synced.stamps {
            stamps.push_now(added);
        }
        self.publish_len(&synced);
    }

    /// Stores the queue's length; called under the lock after a change, so a plain store
    /// suffices. Release makes the queued entries visible to a worker that sees the length.
    fn publish_len(&self, synced: &Synced) {
        self.len.store(synced.queue.len(), Release);
    }

    /// Pops the oldest task.
    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        let mut task = None;
        self.pop_n(1, |t| task = Some(t));
        task
    }

    /// Pops the oldest task with the time it was queued (ns after the epoch given to
    /// [`stamped`](Self::stamped); `None` if the injector does not stamp).
    pub(crate) fn pop_stamped(&self) -> Option<(Notified<S>, Option<u64>)> {
        let mut task = None;
        self.take(1, |t, at| task = Some((t, at)));
        task
    }

    /// Takes up to `n` of the oldest tasks, handing each to `each` in order, under the
    /// injector's lock (so `each` must not use the injector, and callers keep `n` small: a
    /// worker takes at most half a local queue); returns how many. A callback rather than a returned batch: a worker then needs no batch
    /// buffer on its stack (an extra stack page per worker, counted in
    /// `memory.scheduler_per_worker`).
    pub(crate) fn pop_n(&self, n: usize, mut each: impl FnMut(Notified<S>)) -> usize {
        self.take(n, |t, _| each(t))
    }

    /// [`pop_n`](Self::pop_n), handing each task with its stamp (`None` if the injector
    /// does not stamp): the one path every pop takes.
    fn take(&self, n: usize, mut each: impl FnMut(Notified<S>, Option<u64>)) -> usize {
        if n == 0 || self.is_empty() {
            return 0;
        }
        let mut synced = lock(&self.synced);
        let synced = &mut *synced;
        let n = n.min(synced.queue.len());
        for ptr in synced.queue.drain(..n) {
            let at = synced.stamps.as_mut().and_then(|s| s.pop());
            // SAFETY: each entry is a Notified reference the injector owned; now `each`'s.
            each(unsafe { Notified::from_raw(ptr) }, at);
        }
        Self::popped(synced);
        self.publish_len(synced);
        n
    }

    /// After entries were taken: gives back the memory of a ring a burst made large.
    fn popped(synced: &mut Synced) {
        if synced.queue.is_empty() && synced.queue.capacity() > RETAINED {
            synced.queue.shrink_to(RETAINED);
            if let Some(stamps) = &mut synced.stamps {
                stamps.clear(RETAINED);
            }
        }
    }
}

impl<S: 'static> Drop for Inject<S> {
    fn drop(&mut self) {
        // Drop the remaining Notified references.
        while self.pop().is_some() {}
    }
}

impl<S: 'static> std::fmt::Debug for Inject<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inject").field("len", &self.len()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::task::{self, Id, JoinHandle, Schedule, Task};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    /// A scheduler whose tasks are only ever queued by the test.
    struct Unscheduled;

    impl Schedule for Unscheduled {
        type TaskExtra = ();

        fn release(&self, _: &Task<Self>) -> Option<Task<Self>> {
            None
        }

        fn schedule(&self, task: Notified<Self>) {
            drop(task);
        }
    }

    /// Pending forever; counts its drops (a drop means the cell was freed or cancelled).
    struct Idle(Arc<AtomicUsize>);

    impl Future for Idle {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    impl Drop for Idle {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// `n` tasks of a test: their `Notified`s, their ids in the same order, and what keeps
    /// them alive (each task's owned-list reference and its `JoinHandle`).
    struct Tasks {
        notified: Vec<Notified<Unscheduled>>,
        ids: Vec<Id>,
        held: Vec<(Task<Unscheduled>, JoinHandle<()>)>,
    }

    fn tasks(n: usize, drops: &Arc<AtomicUsize>) -> Tasks {
        let mut out = Tasks {
            notified: Vec::new(),
            ids: Vec::new(),
            held: Vec::new(),
        };
        for _ in 0..n {
            let (task, note, join) = task::new_task(Idle(drops.clone()), Unscheduled);
            out.ids.push(join.id());
            out.notified.push(note);
            out.held.push((task, join));
        }
        out
    }

    fn id(task: &Notified<Unscheduled>) -> Id {
        Id::of(task.header_ptr())
    }

    #[test]
    fn tasks_leave_in_the_order_they_came_in_one_by_one_and_in_batches() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::<Unscheduled>::new();
        let Tasks {
            notified,
            ids,
            held: _held,
        } = tasks(300, &drops);
        let mut notified = notified.into_iter();
        inject.push(notified.next().unwrap());
        inject.push_batch(notified.by_ref().take(200));
        for task in notified {
            inject.push(task);
        }
        assert_eq!(inject.len(), 300);
        let mut out = Vec::new();
        out.push(id(&inject.pop().unwrap()));
        let taken = inject.pop_n(128, |t| out.push(id(&t)));
        assert_eq!(taken, 128);
        assert_eq!(inject.len(), 300 - 1 - 128);
        assert_eq!(inject.pop_n(100, |t| out.push(id(&t))), 100);
        while let Some(task) = inject.pop() {
            out.push(id(&task));
        }
        assert_eq!(out, ids);
        assert!(inject.is_empty());
        assert_eq!(inject.pop_n(5, |_| panic!("empty")), 0);
        assert_eq!(
            drops.load(SeqCst),
            0,
            "no task may be freed while referenced"
        );
    }

    #[test]
    fn a_stamped_injector_keeps_each_entry_with_the_time_it_was_queued() {
        let drops = Arc::new(AtomicUsize::new(0));
        let epoch = Instant::now();
        let inject = Inject::<Unscheduled>::stamped(Some(epoch));
        let Tasks {
            notified,
            ids,
            held: _held,
        } = tasks(5, &drops);
        let gap = std::time::Duration::from_millis(2);
        let mut notified = notified.into_iter();
        inject.push(notified.next().unwrap());
        std::thread::sleep(gap);
        let batch_after = crate::scheduler::stamps::nanos_since(epoch);
        inject.push_batch(notified.by_ref().take(3));
        std::thread::sleep(gap);
        let last_after = crate::scheduler::stamps::nanos_since(epoch);
        inject.push(notified.next().unwrap());

        let (first, at) = inject.pop_stamped().unwrap();
        assert_eq!(id(&first), ids[0]);
        assert!(at.unwrap() < batch_after);
        // Entries taken by `pop_n`, which hands out no stamps, take theirs with them.
        assert_eq!(inject.pop_n(2, drop), 2);
        let (third, at) = inject.pop_stamped().unwrap();
        assert_eq!(id(&third), ids[3]);
        let at = at.unwrap();
        assert!((batch_after..last_after).contains(&at), "{at}");
        let (last, at) = inject.pop_stamped().unwrap();
        assert_eq!(id(&last), ids[4]);
        assert!(at.unwrap() >= last_after);
        assert!(inject.pop_stamped().is_none());

        let plain = Inject::<Unscheduled>::new();
        let Tasks {
            notified,
            held: _held2,
            ..
        } = tasks(1, &drops);
        plain.push_batch(notified.into_iter());
        let (_, at) = plain.pop_stamped().unwrap();
        assert_eq!(at, None);
    }

    #[test]
    fn a_closed_injector_drops_what_is_pushed_and_drop_releases_what_is_queued() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::<Unscheduled>::new();
        let Tasks { notified, held, .. } = tasks(4, &drops);
        let mut notified = notified.into_iter();
        inject.push(notified.next().unwrap());
        assert!(inject.close());
        assert!(!inject.close());
        inject.push(notified.next().unwrap());
        inject.push_batch(notified);
        assert_eq!(inject.len(), 1, "pushes after close are not queued");
        drop(held);
        assert_eq!(drops.load(SeqCst), 3, "their references were dropped");
        drop(inject);
        assert_eq!(
            drops.load(SeqCst),
            4,
            "the queued reference goes with the injector"
        );
    }

    #[test]
    fn a_ring_grown_by_a_burst_shrinks_when_it_empties() {
        let drops = Arc::new(AtomicUsize::new(0));
        let inject = Inject::<Unscheduled>::new();
        let Tasks {
            notified,
            held: _held,
            ..
        } = tasks(3 * RETAINED, &drops);
        inject.push_batch(notified.into_iter());
        assert!(lock(&inject.synced).queue.capacity() >= 3 * RETAINED);
        while inject.pop_n(128, drop) > 0 {}
        assert!(inject.is_empty());
        assert!(lock(&inject.synced).queue.capacity() <= RETAINED);
    }
}
