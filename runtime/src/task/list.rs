//! The owned-task list: every live task of one runtime, so that shutdown can find and cancel
//! tasks that no run queue holds (those parked on a waker stored elsewhere).
//!
//! An intrusive doubly linked list through `Header::owned`, split into shards, each behind
//! its own mutex, so that workers spawning and completing tasks at once rarely meet on the
//! same lock. The shard is picked by hashing the task's address, so `release` finds it again
//! without storing anything per task. Once a shard is closed (shutdown), binding a task to it
//! fails and the task is cancelled at once, so nothing spawned during shutdown leaks.

use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::loom::{lock, Mutex};
use crate::task::core::Header;
use crate::task::{new_task_unchecked, JoinHandle, Notified, Schedule, Task};
use crate::util::CacheLine;
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;

pub(crate) struct OwnedTasks<S: 'static> {
    /// A cache line each (a shard is 40 bytes), not the 128 bytes of `CachePadded`: the
    /// multi-thread runtime keeps four shards per worker, so this halves what they add to
    /// a worker's memory (`memory.scheduler_per_worker`).
    shards: Box<[CacheLine<Shard>]>,
    shift: u32,
    _scheduler: PhantomData<S>,
}

struct Shard {
    list: Mutex<List>,
    /// Tasks in `list`; written under the lock, read without it for metrics.
    len: AtomicUsize,
    /// Tasks ever bound to this shard.
    spawned: AtomicUsize,
}

// The figure `OwnedTasks::shards` gives.
#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Shard>() <= 40);

struct List {
    head: Option<NonNull<Header>>,
    closed: bool,
}

// SAFETY: the raw pointers are only followed under the shard lock, and the tasks they point
// to are Send.
unsafe impl Send for List {}

impl<S: Schedule> OwnedTasks<S> {
    /// A list with at least `min_shards` shards (rounded up to a power of two).
    pub(crate) fn new(min_shards: usize) -> OwnedTasks<S> {
        let n = min_shards.max(1).next_power_of_two();
        let shards = (0..n)
            .map(|_| {
                CacheLine(Shard {
                    list: Mutex::new(List {
                        head: None,
                        closed: false,
                    }),
                    len: AtomicUsize::new(0),
                    spawned: AtomicUsize::new(0),
                })
            })
            .collect();
        OwnedTasks {
            shards,
            shift: 64 - n.trailing_zeros(),
            _scheduler: PhantomData,
        }
    }

    fn shard(&self, ptr: NonNull<Header>) -> &Shard {
        if self.shards.len() == 1 {
            return &self.shards[0];
        }
        // Fibonacci hashing of the address (Knuth, TAOCP vol. 3, 6.4): neighbouring
        // allocations land in different shards.
        let h = (ptr.as_ptr() as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.shards[(h >> self.shift) as usize]
    }

    /// Allocates a task and links it into the list. Returns its `JoinHandle` and, unless the
    /// list is closed (in which case the task was cancelled at once), its first `Notified`.
    pub(crate) fn bind<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: the future and its output are `Send`.
        unsafe { self.bind_unchecked(future, scheduler) }
    }

    /// [`bind`](Self::bind) for a future that need not be `Send`.
    ///
    /// # Safety
    /// As `RawTask::new`: the future is polled and dropped only on the calling thread, so
    /// this list is shut down there too, and `S` runs the task nowhere else.
    pub(crate) unsafe fn bind_unchecked<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + 'static,
    {
        // SAFETY: forwarded.
        let (task, notified, join) = unsafe { new_task_unchecked(future, scheduler) };
        let shard = self.shard(task.header_ptr());
        let mut list = lock(&shard.list);
        if list.closed {
            drop(list);
            drop(notified);
            task.shutdown();
            return (join, None);
        }
        let ptr = task.into_raw();
        // SAFETY: we hold the shard lock, which guards `owned` of every task in the shard,
        // and the new task is in no list yet.
        unsafe { push_front(&mut list, ptr) };
        shard.len.store(shard.len.load(Relaxed) + 1, Relaxed);
        shard
            .spawned
            .store(shard.spawned.load(Relaxed) + 1, Relaxed);
        (join, Some(notified))
    }

    /// Binds a new task to this list and hands its first `Notified` to `scheduler`: what
    /// `spawn` means for every scheduler flavor.
    pub(crate) fn spawn<F>(&self, future: F, scheduler: &S) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Clone,
    {
        let (join, notified) = self.bind(future, scheduler.clone());
        if let Some(notified) = notified {
            scheduler.schedule(notified);
        }
        join
    }

    /// Unlinks `task` if it is in the list, returning the list's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let ptr = task.header_ptr();
        let shard = self.shard(ptr);
        let mut list = lock(&shard.list);
        // SAFETY: under the shard lock; `ptr` is alive (the caller holds a reference).
        let removed = unsafe { unlink(&mut list, ptr) };
        if !removed {
            return None;
        }
        shard.len.store(shard.len.load(Relaxed) - 1, Relaxed);
        // SAFETY: the list owned one reference, now handed to the caller.
        Some(unsafe { Task::from_raw(ptr) })
    }

    /// Closes every shard (later binds fail) and shuts down every task in the list. Safe to
    /// call from several threads at once; `start` spreads them over different shards.
    pub(crate) fn close_and_shutdown_all(&self, start: usize) {
        let n = self.shards.len();
        for i in 0..n {
            let shard = &self.shards[(start + i) % n];
            lock(&shard.list).closed = true;
            // Pop one task at a time: shutting a task down runs user destructors and calls
            // `remove`, which takes this same lock.
            while let Some(task) = self.pop(shard) {
                task.shutdown();
            }
        }
    }

    fn pop(&self, shard: &Shard) -> Option<Task<S>> {
        let mut list = lock(&shard.list);
        let ptr = list.head?;
        // SAFETY: under the shard lock; `ptr` is linked into this shard.
        unsafe { unlink(&mut list, ptr) };
        shard.len.store(shard.len.load(Relaxed) - 1, Relaxed);
        // SAFETY: the list's reference moves to the caller.
        Some(unsafe { Task::from_raw(ptr) })
    }

    /// Tasks currently in the list (spawned and not yet completed); a relaxed snapshot.
    pub(crate) fn alive(&self) -> usize {
        self.shards.iter().map(|s| s.len.load(Relaxed)).sum()
    }

    /// Tasks ever bound to this list; a relaxed snapshot.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.spawned.load(Relaxed) as u64)
            .sum()
    }
}

impl<S: 'static> std::fmt::Debug for OwnedTasks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl<S: 'static> Drop for OwnedTasks<S> {
    fn drop(&mut self) {
        // Every runtime shuts its list down before dropping it; a task still here would leak.
        if !std::thread::panicking() {
            for shard in self.shards.iter() {
                debug_assert!(lock(&shard.list).head.is_none(), "owned task leaked");
            }
        }
    }
}

/// An owned list without a lock, for whoever has `&mut` access to it: the core of a
/// current-thread runtime (which one thread holds at a time, and every task of the list
/// runs, completes and is shut down only under it), or, inside a `RefCell`, a `LocalSet` on
/// its owner thread ([`LocalOwnedTasks`]). Binding and releasing touch no atomic.
pub(crate) struct UnsyncOwnedTasks<S: 'static> {
    list: List,
    len: usize,
    spawned: usize,
    _scheduler: PhantomData<S>,
}

/// What [`UnsyncOwnedTasks::bind_unchecked`] made of a new task.
pub(crate) enum Bind<S: 'static, T> {
    /// Linked into the list: schedule the `Notified`.
    Bound(JoinHandle<T>, Notified<S>),
    /// The list is closed: the caller must [`Rejected::cancel`] the task once it no longer
    /// borrows the list (cancelling runs the future's destructor, which may spawn).
    Closed(JoinHandle<T>, Rejected<S>),
}

/// A new task refused by a closed list.
pub(crate) struct Rejected<S: 'static>(Task<S>, Notified<S>);

impl<S: 'static> Rejected<S> {
    /// Cancels the task: its `JoinHandle` yields `JoinError::Cancelled`.
    pub(crate) fn cancel(self) {
        drop(self.1);
        self.0.shutdown();
    }
}

impl<S: Schedule> UnsyncOwnedTasks<S> {
    pub(crate) fn new() -> UnsyncOwnedTasks<S> {
        UnsyncOwnedTasks {
            list: List {
                head: None,
                closed: false,
            },
            len: 0,
            spawned: 0,
            _scheduler: PhantomData,
        }
    }

    /// Allocates a task and links it into the list, unless the list is closed.
    ///
    /// # Safety
    /// As `RawTask::new`: unless the future and its output are `Send`, the future is polled
    /// and dropped only on the calling thread, the one this list is used on.
    #[inline]
    pub(crate) unsafe fn bind_unchecked<F>(&mut self, future: F, scheduler: S) -> Bind<S, F::Output>
    where
        F: Future + 'static,
    {
        // SAFETY: forwarded.
        let (task, notified, join) = unsafe { new_task_unchecked(future, scheduler) };
        if self.list.closed {
            return Bind::Closed(join, Rejected(task, notified));
        }
        let ptr = task.into_raw();
        // SAFETY: nothing shared the task yet; `&mut self` is the only access to the list
        // and its links, and the new task is in no list yet.
        unsafe {
            ptr.as_ref().state.mark_unsync_owned();
            push_front(&mut self.list, ptr);
        }
        self.len += 1;
        self.spawned += 1;
        Bind::Bound(join, notified)
    }

    /// Unlinks `task` if it is in the list, returning the list's reference.
    ///
    /// # Safety
    /// `task` was bound to no list but this one, if to any.
    #[inline]
    pub(crate) unsafe fn remove(&mut self, task: &Task<S>) -> Option<Task<S>> {
        let ptr = task.header_ptr();
        // SAFETY: `&mut self` is the only access to the list; `ptr` is alive (the caller
        // holds a reference) and was only ever linked into this list (the caller's word).
        if !unsafe { unlink(&mut self.list, ptr) } {
            return None;
        }
        self.len -= 1;
        // SAFETY: the list owned one reference, now handed to the caller.
        Some(unsafe { Task::from_raw(ptr) })
    }

    /// Closes the list: later binds are refused.
    pub(crate) fn close(&mut self) {
        self.list.closed = true;
    }

    /// Unlinks the first task, handing over the list's reference (for shutdown, which
    /// shuts each one down with the list no longer borrowed).
    pub(crate) fn pop(&mut self) -> Option<Task<S>> {
        let ptr = self.list.head?;
        // SAFETY: `ptr` is linked into this list, which `&mut self` gives us alone.
        unsafe { unlink(&mut self.list, ptr) };
        self.len -= 1;
        // SAFETY: the list's reference moves to the caller.
        Some(unsafe { Task::from_raw(ptr) })
    }

    /// Tasks currently in the list (bound and not yet completed).
    pub(crate) fn alive(&self) -> usize {
        self.len
    }

    /// Tasks ever bound to the list.
    pub(crate) fn spawned(&self) -> usize {
        self.spawned
    }
}

impl<S: 'static> Drop for UnsyncOwnedTasks<S> {
    fn drop(&mut self) {
        // Every owner shuts its list down before dropping it; a task still here would leak.
        if !std::thread::panicking() {
            debug_assert!(self.list.head.is_none(), "owned task leaked");
        }
    }
}

/// The owned list of a `LocalSet`: an [`UnsyncOwnedTasks`] in a `RefCell`, for a set whose
/// tasks are all bound, released and shut down on its owner thread. It is neither `Send`
/// nor `Sync`; the set reaches it only on that thread.
pub(crate) struct LocalOwnedTasks<S: 'static> {
    tasks: RefCell<UnsyncOwnedTasks<S>>,
}

impl<S: Schedule> LocalOwnedTasks<S> {
    pub(crate) fn new() -> LocalOwnedTasks<S> {
        LocalOwnedTasks {
            tasks: RefCell::new(UnsyncOwnedTasks::new()),
        }
    }

    /// [`OwnedTasks::bind_unchecked`] without the lock.
    ///
    /// # Safety
    /// As `RawTask::new`: the future is polled and dropped only on the calling thread, the
    /// one this list is used on.
    pub(crate) unsafe fn bind_unchecked<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + 'static,
    {
        // SAFETY: forwarded.
        let bound = unsafe { self.tasks.borrow_mut().bind_unchecked(future, scheduler) };
        match bound {
            Bind::Bound(join, notified) => (join, Some(notified)),
            Bind::Closed(join, rejected) => {
                rejected.cancel();
                (join, None)
            }
        }
    }

    /// Unlinks `task` if it is in the list, returning the list's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        // SAFETY: the set's tasks are bound to this list only.
        unsafe { self.tasks.borrow_mut().remove(task) }
    }

    /// Closes the list (later binds fail) and shuts down every task in it.
    pub(crate) fn close_and_shutdown_all(&self) {
        self.tasks.borrow_mut().close();
        // One at a time, with the list released: shutting a task down runs user
        // destructors, which may spawn (failing, as closed) or complete other tasks.
        loop {
            let task = self.tasks.borrow_mut().pop();
            match task {
                Some(task) => task.shutdown(),
                None => break,
            }
        }
    }

    /// Tasks currently in the list (spawned and not yet completed).
    pub(crate) fn alive(&self) -> usize {
        self.tasks.borrow().alive()
    }
}

/// # Safety
/// The caller holds the lock guarding `list`, and `ptr` is in no list.
unsafe fn push_front(list: &mut List, ptr: NonNull<Header>) {
    let old = list.head;
    // SAFETY: `ptr` is alive and ours to link.
    unsafe {
        ptr.as_ref().owned.with_mut(|p| {
            (*p).prev = None;
            (*p).next = old;
        });
    }
    if let Some(old) = old {
        // SAFETY: `old` is linked into this list, guarded by the lock we hold.
        unsafe { old.as_ref().owned.with_mut(|p| (*p).prev = Some(ptr)) };
    }
    list.head = Some(ptr);
}

/// Unlinks `ptr`; returns `false` if it was not linked (already removed).
///
/// # Safety
/// The caller holds the lock guarding `list`, and `ptr` is alive and was only ever linked
/// into this list.
unsafe fn unlink(list: &mut List, ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's contract; links are only touched under the lock.
    let (prev, next) = unsafe { ptr.as_ref().owned.with(|p| ((*p).prev, (*p).next)) };
    match prev {
        // SAFETY: linked neighbours are alive and guarded by the same lock.
        Some(prev) => unsafe { prev.as_ref().owned.with_mut(|p| (*p).next = next) },
        None if list.head == Some(ptr) => list.head = next,
        None => return false,
    }
    if let Some(next) = next {
        // SAFETY: as above.
        unsafe { next.as_ref().owned.with_mut(|p| (*p).prev = prev) };
    }
    // SAFETY: as above.
    unsafe {
        ptr.as_ref().owned.with_mut(|p| {
            (*p).prev = None;
            (*p).next = None;
        });
    }
    true
}
