//! [`LocalSet`] and [`spawn_local`]: tasks whose futures need not be `Send`, run on the one
//! thread that owns the set, as Tokio's `task::LocalSet`.
//!
//! ```text
//! LocalSet (!Send: stays on its owner thread)
//! └── Arc<Shared>   every task holds a LocalHandle (a pointer) to it; the tasks together
//!     │             hold one reference, released by the last task freed after the set
//!     ├── owner     the owner thread's id
//!     ├── local     touched only on the owner thread (checked), no atomics:
//!     │   ├── queue       the run queue
//!     │   ├── owned       every live task (LocalOwnedTasks), so dropping the set cancels them
//!     │   ├── task_cells  the owner's part of the count of task cells
//!     │   └── flags       in a tick, a wake pending, closed
//!     ├── remote         Mutex<wake requests>: wakes and aborts from other threads; None
//!     │                  once the set is gone
//!     ├── foreign_cells  the other part of the count of task cells, and "set gone"
//!     └── waker          the task that polls the set (`run_until`'s, or the set's own)
//! ```
//!
//! A set runs its tasks only while it is polled: [`LocalSet::run_until`] (and
//! [`LocalSet::block_on`], [`crate::runtime::LocalRuntime`]) polls the given future and then
//! up to [`MAX_TASKS_PER_TICK`] tasks, and wakes itself again if more are ready, so the
//! runtime around it keeps running its own tasks too. Tasks use the same cell layout and
//! [`JoinHandle`] as every other task, with their own state protocol (`local_task.rs`): the
//! owner thread updates a task's state without atomic read-modify-writes, and another
//! thread's wake or abort becomes a wake request in the remote queue, which the owner takes
//! in its tick. What makes a `!Send` future sound here is that it is polled only by the
//! set's tick and dropped only by the set's drop, both on the owner thread.

use crate::loom::atomic::{AtomicUsize, Ordering::AcqRel};
use crate::loom::{lock, Mutex};
use crate::task::core::Header;
use crate::task::list::LocalOwnedTasks;
use crate::task::{JoinHandle, Notified, Task};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Tasks run per poll of a set before it yields to the runtime around it (Tokio's
/// `MAX_TASKS_PER_TICK`).
const MAX_TASKS_PER_TICK: usize = 61;

/// Every this many tasks the remote queue is served before the local one, so wakes from
/// other threads are not starved by tasks that keep waking each other (Tokio's
/// `REMOTE_FIRST_INTERVAL`).
const REMOTE_FIRST_INTERVAL: u8 = 31;

type LocalTask = Notified<LocalHandle>;

/// A set of tasks that run on the thread that owns the set, so their futures need not be
/// `Send` (an `Rc`, a `RefCell` may live across an `.await`).
///
/// Spawn with [`LocalSet::spawn_local`], or with [`spawn_local`] from inside
/// [`run_until`](LocalSet::run_until), [`block_on`](LocalSet::block_on) or an
/// [`enter`](LocalSet::enter) guard. The tasks run while the set is driven: by `run_until`
/// (until the given future completes), `block_on`, or by awaiting the set itself (until
/// every task completed). Dropping the set cancels its remaining tasks, dropping their
/// futures on this thread.
///
/// # Examples
/// ```
/// use std::rc::Rc;
/// use zokio::task::LocalSet;
///
/// let rt = zokio::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let shared = Rc::new(5);
/// let out = local.block_on(&rt, async move {
///     let shared2 = shared.clone();
///     zokio::task::spawn_local(async move {
///         zokio::task::yield_now().await;
///         *shared2 + 1
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(out, 6);
/// ```
pub struct LocalSet {
    shared: Arc<Shared>,
    /// Keeps the set on its thread (`!Send`, `!Sync`).
    _not_send: PhantomData<*const ()>,
}

/// The part of a set its tasks and wakers hold.
pub(crate) struct Shared {
    owner: u64,
    /// Only reached through [`Shared::local`], which checks the thread.
    local: LocalState,
    /// Wakes and aborts of the set's tasks from other threads (`local_task.rs`).
    remote: Mutex<Option<VecDeque<WakeRequest>>>,
    /// The other threads' part of the count of task cells, and `CELLS_CLOSED` (see
    /// [`LocalHandle`]).
    foreign_cells: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

struct LocalState {
    queue: RefCell<VecDeque<LocalTask>>,
    owned: LocalOwnedTasks<LocalHandle>,
    /// The owner's part of the count of the set's task cells (see [`LocalHandle`]).
    task_cells: Cell<isize>,
    /// Inside `tick`: a task scheduled now is found by the tick loop, no wake needed.
    in_tick: Cell<bool>,
    /// A wake of the set's waker is pending since its last poll.
    woken: Cell<bool>,
    /// The set was dropped: scheduled tasks are dropped, not queued.
    closed: Cell<bool>,
    tick: Cell<u8>,
}

// SAFETY: `LocalState`'s cells and list are only reached through `Shared::local`, which returns them
// on the owner thread only; everything else in `Shared` is `Sync`.
unsafe impl Sync for LocalState {}

/// Returned by [`LocalSet::enter`]: [`spawn_local`] uses the set until it is dropped.
#[must_use = "the set is entered only while the guard is alive"]
pub struct LocalEnterGuard {
    prev: Option<Arc<Shared>>,
    _not_send: PhantomData<*const ()>,
}

#[cfg(not(loom))]
thread_local! {
    /// The set [`spawn_local`] spawns onto.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
    /// This thread's id for owner checks (0: not assigned yet).
    static THREAD_ID: Cell<u64> = const { Cell::new(0) };
}

// Under loom the same, per modelled thread.
#[cfg(loom)]
loom::thread_local! {
    static CURRENT: RefCell<Option<Arc<Shared>>> = RefCell::new(None);
    static THREAD_ID: Cell<u64> = Cell::new(0);
}

/// A process-unique id for the calling thread, or `None` while its thread-locals are being
/// destroyed (which makes every set's owner check fail there: such a thread wakes tasks
/// through the remote queue).
#[inline]
fn current_thread_id() -> Option<u64> {
    // std's, not the loom facade's: a static needs a const constructor, and handing out
    // ids is no part of any protocol a model checks.
    static NEXT: AtomicU64 = AtomicU64::new(1);
    THREAD_ID
        .try_with(|id| {
            if id.get() == 0 {
                id.set(NEXT.fetch_add(1, Relaxed));
            }
            id.get()
        })
        .ok()
}

/// Spawns a `!Send` future onto the current [`LocalSet`] (or
/// [`LocalRuntime`](crate::runtime::LocalRuntime)); it runs on this thread when the set is
/// driven.
///
/// # Panics
/// Outside a `LocalSet` context: not inside [`LocalSet::run_until`], [`LocalSet::block_on`],
/// a [`LocalSet::enter`] guard or `LocalRuntime::block_on`.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_traced(crate::util::trace::task(future, "local", None))
}

/// [`spawn_local`] of a future already wrapped in its `tracing` span (`util/trace.rs`).
#[track_caller]
pub(crate) fn spawn_local_traced<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // Borrowed, not cloned: a spawn costs no reference count beyond the task's own. A
    // future dropped inside (the set is closed) may spawn again: a second shared borrow.
    let mut future = Some(future);
    let spawned = CURRENT.try_with(|current| {
        let current = current.borrow();
        let shared = current.as_ref()?;
        Some(spawn_onto(shared, future.take()?))
    });
    if let Ok(Some(join)) = spawned {
        return join;
    }
    let future = future.expect("not spawned above");
    // No set entered: the current runtime's, if it is a `LocalRuntime` (its tasks, or a
    // `Handle::enter` guard).
    let local = crate::runtime::context::with_handle(|h| h.local_set().cloned())
        .ok()
        .flatten();
    match local {
        Some(shared) if shared.local().is_some() => spawn_onto(&shared, future),
        Some(_) => panic!(
            "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was created on"
        ),
        None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
        ),
    }
}

#[inline]
fn spawn_onto<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let local = shared
        .local()
        .expect("a LocalSet's tasks are spawned on its own thread");
    let handle = LocalHandle::new(shared, local);
    // SAFETY: the set's tasks are polled only by `tick` and cancelled only by the set's
    // drop, both on the owner thread (`Shared::local` checks it), which is this thread; a
    // wake from elsewhere only queues a wake request for the owner (`local_task.rs`).
    let (join, notified) = unsafe { local.owned.bind_unchecked(future, handle) };
    if let Some(notified) = notified {
        shared.schedule_local(local, notified);
    }
    join
}

impl LocalSet {
    /// An empty set, owned by the calling thread.
    pub fn new() -> LocalSet {
        let owner = current_thread_id().expect("LocalSet::new on a thread being torn down");
        let shared = Arc::new(Shared {
            owner,
            local: LocalState {
                queue: RefCell::new(VecDeque::with_capacity(64)),
                owned: LocalOwnedTasks::new(),
                in_tick: Cell::new(false),
                woken: Cell::new(false),
                closed: Cell::new(false),
                task_cells: Cell::new(0),
                tick: Cell::new(0),
            },
            remote: Mutex::new(Some(VecDeque::new())),
            foreign_cells: AtomicUsize::new(0),
            waker: Mutex::new(None),
        });
        // The reference the task cells hold together (see `LocalHandle`).
        let _ = Arc::into_raw(shared.clone());
        LocalSet {
            shared,
            _not_send: PhantomData,
        }
    }

    /// Makes this the set [`spawn_local`] uses until the guard drops (restoring the one
    /// entered before). Tasks spawned meanwhile run when the set is next driven.
    pub fn enter(&self) -> LocalEnterGuard {
        // While the thread's locals are being destroyed (a set kept in a `thread_local!`),
        // there is nothing to enter; the guard then restores nothing either.
        let prev = CURRENT
            .try_with(|current| current.replace(Some(self.shared.clone())))
            .ok()
            .flatten();
        LocalEnterGuard {
            prev,
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` future onto this set; it runs when the set is driven. Callable
    /// outside any runtime.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_local_traced(crate::util::trace::task(future, "local", None))
    }

    /// [`spawn_local`](Self::spawn_local) of a future already wrapped in its `tracing`
    /// span.
    pub(crate) fn spawn_local_traced<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_onto(&self.shared, future)
    }

    /// Runs `future` on `rt` with this set entered, running the set's tasks meanwhile:
    /// `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    /// As [`Runtime::block_on`](crate::runtime::Runtime::block_on): inside a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Runs `future` to completion, running this set's tasks while it waits; tasks still
    /// unfinished when it completes stay in the set.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        RunUntil {
            set: self,
            future: std::pin::pin!(future),
        }
        .await
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] tasks; true if that many ran (more may be ready).
    fn tick(&self) -> bool {
        let local = self
            .shared
            .local()
            .expect("a LocalSet is polled on its own thread");
        let _in_tick = InTick::enter(local);
        for _ in 0..MAX_TASKS_PER_TICK {
            match self.shared.next_task(local) {
                Some(task) => task.run(),
                None => return false,
            }
        }
        true
    }

    /// Registers `waker` as the one to wake when a task is scheduled from outside a tick.
    fn register(&self, waker: &Waker) {
        let local = self
            .shared
            .local()
            .expect("a LocalSet is polled on its own thread");
        local.woken.set(false);
        let mut slot = lock(&self.shared.waker);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` with this set entered, its tasks running (or being dropped): blocking in
    /// place would stall every one of them, so `block_in_place` panics meanwhile.
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _enter = self.enter();
        let _no_blocking = crate::runtime::context::disallow_block_in_place();
        f()
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alive = self.shared.local().map(|local| local.owned.alive());
        f.debug_struct("LocalSet")
            .field("alive_tasks", &alive)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalEnterGuard")
    }
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = prev);
    }
}

/// Awaiting a set runs its tasks until every one of them has completed.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let me = self.get_mut();
        me.register(cx.waker());
        me.with(|| {
            if me.tick() {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else if me.shared.local().is_some_and(|l| l.owned.alive() == 0) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

impl Drop for LocalSet {
    /// Cancels every task still in the set, dropping its future here, with the set entered
    /// (a future's `Drop` may call [`spawn_local`]; what it spawns is cancelled at once).
    fn drop(&mut self) {
        let Some(local) = self.shared.local() else {
            return; // Unreachable: the set is !Send. Leaking is the sound fallback.
        };
        self.with(|| {
            local.owned.close_and_shutdown_all();
            local.closed.set(true);
            let queued: Vec<LocalTask> = local.queue.borrow_mut().drain(..).collect();
            drop(queued);
            let remote = lock(&self.shared.remote).take();
            drop(remote);
        });
        self.shared.close_cells(local);
        lock(&self.shared.waker).take();
    }
}

/// [`LocalSet::run_until`]'s future.
struct RunUntil<'a, F: Future> {
    set: &'a LocalSet,
    future: Pin<&'a mut F>,
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let me = self.get_mut();
        let set = me.set;
        set.register(cx.waker());
        set.with(|| {
            if let Poll::Ready(output) = me.future.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            if set.tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
    }
}

/// Sets `in_tick` for the duration of a tick, restoring it even if a task's poll unwinds.
struct InTick<'a> {
    local: &'a LocalState,
    prev: bool,
}

impl<'a> InTick<'a> {
    fn enter(local: &'a LocalState) -> InTick<'a> {
        let prev = local.in_tick.replace(true);
        InTick { local, prev }
    }
}

impl Drop for InTick<'_> {
    fn drop(&mut self) {
        self.local.in_tick.set(self.prev);
    }
}

impl Shared {
    /// The owner-only state, if this is the owner thread.
    #[inline]
    fn local(&self) -> Option<&LocalState> {
        (current_thread_id() == Some(self.owner)).then_some(&self.local)
    }

    #[inline]
    fn next_task(&self, local: &LocalState) -> Option<LocalTask> {
        let tick = local.tick.get().wrapping_add(1);
        local.tick.set(tick);
        if tick.is_multiple_of(REMOTE_FIRST_INTERVAL) {
            self.take_wake_requests();
        }
        let task = local.queue.borrow_mut().pop_front();
        task.or_else(|| {
            self.take_wake_requests();
            local.queue.borrow_mut().pop_front()
        })
    }

    /// Takes the wake requests from other threads, which queue their tasks (at the back).
    fn take_wake_requests(&self) {
        let requests = lock(&self.remote).as_mut().map(std::mem::take);
        for request in requests.into_iter().flatten() {
            request.take();
        }
    }

    /// Whether the calling thread owns the set.
    #[inline]
    pub(crate) fn is_owner_thread(&self) -> bool {
        current_thread_id() == Some(self.owner)
    }

    /// Queues a wake request from another thread and wakes the set; drops it if the set
    /// is gone (its tasks were cancelled, nothing will run them).
    pub(crate) fn push_wake_request(&self, request: WakeRequest) {
        let mut remote = lock(&self.remote);
        match remote.as_mut() {
            Some(queue) => queue.push_back(request),
            None => {
                drop(remote);
                return drop(request);
            }
        }
        drop(remote);
        self.wake();
    }

    pub(crate) fn schedule(&self, task: LocalTask) {
        // A local task is queued only on the owner thread: other threads queue a wake
        // request instead (`local_task.rs`).
        let local = self
            .local()
            .expect("a LocalSet's task is scheduled on its own thread");
        self.schedule_local(local, task);
    }

    /// [`schedule`](Self::schedule) with the owner-only state at hand (this is the owner
    /// thread).
    #[inline]
    fn schedule_local(&self, local: &LocalState, task: LocalTask) {
        if local.closed.get() {
            return drop(task);
        }
        local.queue.borrow_mut().push_back(task);
        if !local.in_tick.get() && !local.woken.replace(true) {
            self.wake();
        }
    }

    fn wake(&self) {
        let waker = lock(&self.waker).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Shared {
    /// The set is gone: folds the owner's count of task cells into the foreign one and
    /// marks it closed, releasing the cells' shared reference to `Shared` if none is left
    /// (else the last cell's drop releases it).
    fn close_cells(self: &Arc<Shared>, local: &LocalState) {
        let owner = local.task_cells.replace(0);
        let fold = (owner as usize).wrapping_shl(1) | CELLS_CLOSED;
        let prev = self.foreign_cells.fetch_add(fold, AcqRel);
        if (prev.wrapping_add(fold) as isize) >> 1 == 0 {
            // SAFETY: the reference `LocalSet::new` leaked for the cells, released once.
            drop(unsafe { Arc::from_raw(Arc::as_ptr(self)) });
        }
    }
}

/// Set in `Shared::foreign_cells` once the set is gone.
const CELLS_CLOSED: usize = 1;

/// A local task's handle to its set: a pointer, where other schedulers' tasks hold an
/// `Arc`, so spawning and freeing a task changes no atomic reference count.
///
/// The set's task cells together hold one reference to `Shared` (taken in
/// [`LocalSet::new`]), which lives as long as any cell does: the number of cells is
/// counted in two parts, the owner thread's (`task_cells`, plain) while the set exists, and
/// `foreign_cells` (atomic) for cells freed on other threads (a waker dropped there can
/// free a completed task) or after the set is gone. When the set drops, it folds its part
/// in and sets `CELLS_CLOSED`; whoever brings the count to zero after that releases the
/// reference.
pub(crate) struct LocalHandle(NonNull<Shared>);

// SAFETY: a pointer to a `Shared` (Sync) kept alive by the cells' reference; the owner-only
// parts are reached through `Shared::local`, which checks the thread.
unsafe impl Send for LocalHandle {}
// SAFETY: as above.
unsafe impl Sync for LocalHandle {}

impl LocalHandle {
    /// A handle for a new cell, counted on the owner thread (`local` is the set's
    /// owner-only state, so this is that thread).
    #[inline]
    fn new(shared: &Arc<Shared>, local: &LocalState) -> LocalHandle {
        local.task_cells.set(local.task_cells.get() + 1);
        LocalHandle(NonNull::from(&**shared))
    }

    #[inline]
    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: the cells' reference keeps `Shared` alive while this handle exists.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for LocalHandle {
    /// The cell is being freed: uncounts it.
    #[inline]
    fn drop(&mut self) {
        let shared = self.shared();
        if let Some(local) = shared.local() {
            if !local.closed.get() {
                return local.task_cells.set(local.task_cells.get() - 1);
            }
        }
        let prev = shared.foreign_cells.fetch_sub(2, AcqRel);
        if prev & CELLS_CLOSED != 0 && (prev as isize) >> 1 == 1 {
            // SAFETY: the last cell after the set is gone: the cells' reference, released
            // once.
            drop(unsafe { Arc::from_raw(self.0.as_ptr()) });
        }
    }
}

impl Shared {
    /// A task of the set completed: unlinks it from the owned list (see
    /// [`Schedule::release`]).
    #[inline]
    pub(crate) fn release(&self, task: &Task<LocalHandle>) -> Option<Task<LocalHandle>> {
        // Tasks complete only where they run: in the set's tick, on the owner thread.
        let local = self
            .local()
            .expect("a LocalSet's task completed on another thread");
        local.owned.remove(task)
    }
}

/// A wake (or abort) of a local task from another thread, queued for its owner; owns one
/// reference, counted in the foreign word.
pub(crate) struct WakeRequest {
    task: NonNull<Header>,
    take: unsafe fn(NonNull<Header>),
}

// SAFETY: a reference to a task, whose shared parts are atomics; the owner thread alone
// touches the rest (`take`).
unsafe impl Send for WakeRequest {}

impl WakeRequest {
    /// # Safety
    /// The caller hands over one reference to the task `task`, and `take` is its
    /// type's `take_request`.
    pub(crate) unsafe fn new(
        task: NonNull<Header>,
        take: unsafe fn(NonNull<Header>),
    ) -> WakeRequest {
        WakeRequest { task, take }
    }

    /// On the owner thread: clears the request's bits and wakes (or aborts) the task,
    /// queueing it on the set.
    pub(crate) fn take(self) {
        let me = ManuallyDrop::new(self);
        // SAFETY: the request's reference is handed to `take`, on the owner thread.
        unsafe { (me.take)(me.task) }
    }
}

impl Drop for WakeRequest {
    fn drop(&mut self) {
        // SAFETY: the request owns one reference.
        unsafe { crate::task::raw::RawTask::from_raw(self.task) }.drop_reference();
    }
}

/// Model checks of the local-task protocol (`local_task.rs`): the owner thread runs the set
/// while another thread wakes, aborts, joins or drops. Each model ends by checking that
/// every task cell was freed (the cells' reference to `Shared` is gone).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use loom::thread;
    use std::task::Wake;

    /// Runs the set's ready tasks until `done`, letting the other thread in between.
    fn run_until(set: &LocalSet, done: impl Fn() -> bool) {
        let _enter = set.enter();
        loop {
            while set.tick() {}
            if done() {
                return;
            }
            thread::yield_now();
        }
    }

    fn assert_cells_freed(set: LocalSet) {
        let shared = set.shared.clone();
        drop(set);
        assert_eq!(Arc::strong_count(&shared), 1, "a task cell was not freed");
    }

    /// Records that it was woken.
    struct FlagWaker(AtomicBool);

    impl Wake for FlagWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, SeqCst);
        }
    }

    fn poll<T>(
        handle: &mut JoinHandle<T>,
        waker: &Waker,
    ) -> Poll<Result<T, crate::task::JoinError>> {
        Pin::new(handle).poll(&mut Context::from_waker(waker))
    }

    /// Pending until its waker, taken by another thread, wakes it; then ready.
    fn wake_once(slot: crate::loom::Arc<Mutex<Option<Waker>>>) -> impl Future<Output = u32> {
        let mut polled = false;
        std::future::poll_fn(move |cx| {
            if std::mem::replace(&mut polled, true) {
                return Poll::Ready(7);
            }
            *lock(&slot) = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    #[test]
    fn loom_local_wake_from_another_thread_races_completion() {
        loom::model(|| {
            let set = LocalSet::new();
            let slot = crate::loom::Arc::new(Mutex::new(None::<Waker>));
            let handle = set.spawn_local(wake_once(slot.clone()));
            {
                let _enter = set.enter();
                set.tick();
            }
            let waker = lock(&slot).take().expect("polled once");
            let other = thread::spawn(move || {
                let clone = waker.clone();
                waker.wake();
                clone.wake_by_ref();
                drop(clone);
            });
            run_until(&set, || handle.is_finished());
            other.join().unwrap();
            let mut handle = handle;
            let noop = Waker::noop();
            assert!(matches!(poll(&mut handle, noop), Poll::Ready(Ok(7))));
            drop(handle);
            assert_cells_freed(set);
        });
    }

    #[test]
    fn loom_local_join_from_another_thread_races_completion() {
        loom::model(|| {
            let set = LocalSet::new();
            let handle = set.spawn_local(async { 5u32 });
            let joiner = thread::spawn(move || {
                let mut handle = handle;
                let flag = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
                let waker = Waker::from(flag.clone());
                let first = poll(&mut handle, &waker).map(|out| out.unwrap());
                (handle, flag, waker, first)
            });
            {
                let _enter = set.enter();
                while set.tick() {}
            }
            let (mut handle, flag, waker, first) = joiner.join().unwrap();
            if first.is_pending() {
                // Completion must have woken the joiner, and the output must be there.
                assert!(flag.0.load(SeqCst), "join waker lost");
                assert!(matches!(poll(&mut handle, &waker), Poll::Ready(Ok(5))));
            } else {
                assert_eq!(first, Poll::Ready(5));
            }
            drop(handle);
            assert_cells_freed(set);
        });
    }

    #[test]
    fn loom_local_join_handle_dropped_elsewhere_races_completion() {
        struct Counted(crate::loom::Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        loom::model(|| {
            let set = LocalSet::new();
            let drops = crate::loom::Arc::new(AtomicUsize::new(0));
            let d = drops.clone();
            let handle = set.spawn_local(async move { Counted(d) });
            let dropper = thread::spawn(move || drop(handle));
            {
                let _enter = set.enter();
                while set.tick() {}
            }
            dropper.join().unwrap();
            assert_eq!(drops.load(SeqCst), 1, "the output is dropped once");
            assert_cells_freed(set);
        });
    }

    #[test]
    fn loom_local_abort_from_another_thread_races_the_poll() {
        loom::model(|| {
            let set = LocalSet::new();
            let slot = crate::loom::Arc::new(Mutex::new(None::<Waker>));
            let handle = set.spawn_local(wake_once(slot.clone()));
            let abort = handle.abort_handle();
            let other = thread::spawn(move || abort.abort());
            run_until(&set, || handle.is_finished() || lock(&slot).is_some());
            other.join().unwrap();
            run_until(&set, || handle.is_finished());
            let mut handle = handle;
            match poll(&mut handle, Waker::noop()) {
                Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
                other => panic!("aborted task ended with {:?}", other.map(|r| r.map(|_| ()))),
            }
            drop(handle);
            drop(lock(&slot).take());
            assert_cells_freed(set);
        });
    }
}
