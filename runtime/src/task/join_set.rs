use crate::coop;
use crate::runtime::Handle;
use crate::task::{AbortHandle, JoinError, JoinHandle};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// A collection of spawned tasks, awaited in the order they finish: zokio's structured
/// concurrency.
///
/// # Structured concurrency
///
/// zokio's scope is a `JoinSet` (the API Tokio users know) rather than a separate
/// `scope`/nursery function. The set owns its children, and a scope ends with
/// [`join_all`](Self::join_all), or [`try_join_all`](Self::try_join_all) for children that
/// return `Result`:
/// - both await every child;
/// - on a child's panic, both abort the other children, wait until they have finished
///   (their futures dropped), and then resume the first panic in the awaiting task;
/// - on a child's `Err`, `try_join_all` does the same and returns that error.
///
/// So when either returns or unwinds, no child of the set is still running.
///
/// Dropping the set instead (an early return, or cancelling the future that awaits it)
/// aborts every child still in it, but `Drop` cannot wait: a child in the middle of a poll
/// on another worker finishes that poll, and a [`spawn_blocking`](Self::spawn_blocking)
/// closure runs to its end. End a scope with `join_all`, `try_join_all` or
/// [`shutdown`](Self::shutdown) where that matters.
///
/// Children are `'static`: they cannot borrow from the scope. A scope whose children
/// borrowed would have to block its thread in `Drop` until they finished, to stay sound
/// when its future is cancelled or leaked (the "scoped task trilemma"); zokio does not.
///
/// Each task is polled through its own waker that marks it ready, so
/// [`join_next`](Self::join_next) only polls the tasks that finished (O(1) per completion,
/// not O(n) per call).
///
/// # Examples
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut set = zokio::task::JoinSet::new();
///     for i in 0..4u32 {
///         set.spawn(async move { i });
///     }
///     let mut sum = 0;
///     while let Some(res) = set.join_next().await {
///         sum += res.unwrap();
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
pub struct JoinSet<T> {
    entries: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    len: usize,
    shared: Arc<Shared>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Waker,
}

/// Indices of entries whose task may have finished, and the waker of the task awaiting the
/// set. One lock guards both so a completion cannot slip between "nothing ready" and
/// "waker stored".
#[derive(Default)]
struct Shared {
    state: Mutex<ReadyState>,
}

#[derive(Default)]
struct ReadyState {
    ready: Vec<usize>,
    waker: Option<Waker>,
}

struct EntryWaker {
    index: usize,
    shared: Arc<Shared>,
}

/// The set's own lock; it is never held while user code runs, so poisoning cannot leave
/// the ready list inconsistent.
fn lock(mutex: &Mutex<ReadyState>) -> MutexGuard<'_, ReadyState> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waker = {
            let mut state = lock(&self.shared.state);
            state.ready.push(self.index);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
            shared: Arc::default(),
        }
    }

    /// Tasks in the set (finished but not yet joined ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Aborts every task in the set; they stay in it and join as cancelled (unless they
    /// finished first).
    pub fn abort_all(&self) {
        for entry in self.entries.iter().flatten() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.free.clear();
        self.len = 0;
        lock(&self.shared.state).ready.clear();
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    /// Outside a zokio runtime context.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.insert(handle.spawn(future))
    }

    /// Spawns a `!Send` future on the current [`LocalSet`](crate::task::LocalSet) (see
    /// [`spawn_local`](crate::task::spawn_local)) and adds it to the set.
    ///
    /// # Panics
    /// Outside a `LocalSet` or `LocalRuntime` context.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(crate::task::spawn_local(future))
    }

    /// Spawns a `!Send` future on `local` and adds it to the set; it runs when the set
    /// is driven.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, future: F, local: &crate::task::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local.spawn_local(future))
    }

    /// Runs `f` on the blocking pool and adds it to the set.
    ///
    /// # Panics
    /// Outside a zokio runtime context.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.insert(crate::task::spawn_blocking(f))
    }

    /// The result of a task that has already finished, without waiting: `None` if none
    /// has (or the set is empty). Not limited by the coop budget: it never waits, so a
    /// loop draining a set with it ends once every finished task is taken (as Tokio's).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let polled =
            coop::unconstrained(|| self.poll_join_next(&mut Context::from_waker(Waker::noop())));
        match polled {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = self.free.pop().unwrap_or_else(|| {
            self.entries.push(None);
            self.entries.len() - 1
        });
        let waker = Waker::from(Arc::new(EntryWaker {
            index,
            shared: Arc::clone(&self.shared),
        }));
        self.entries[index] = Some(Entry { handle, waker });
        self.len += 1;
        // Poll it once on the next join_next so its waker gets registered.
        lock(&self.shared.state).ready.push(index);
        abort
    }

    /// Waits for the next task to finish and returns its result; `None` when the set is
    /// empty. Cancel-safe: dropping the future loses no result.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task; see [`join_next`](Self::join_next).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        let ready = {
            let mut state = lock(&self.shared.state);
            if state.ready.is_empty() {
                let replaced = state.waker.replace(cx.waker().clone());
                // Dropped outside the lock: a waker's drop may run anything, including
                // this set's tasks, whose wakes take the lock (Tokio's
                // `replace_parent_waker_drops_outside_lock`).
                drop(state);
                drop(replaced);
                return Poll::Pending;
            }
            std::mem::take(&mut state.ready)
        };
        let mut iter = ready.into_iter();
        while let Some(index) = iter.next() {
            if !coop::has_budget_remaining() {
                // Put the rest back and let other tasks run first.
                lock(&self.shared.state)
                    .ready
                    .extend(Some(index).into_iter().chain(iter));
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let Some(entry) = self.entries.get_mut(index).and_then(Option::as_mut) else {
                continue; // A stale wake for an entry already joined.
            };
            let mut entry_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(result) = Pin::new(&mut entry.handle).poll(&mut entry_cx) {
                self.entries[index] = None;
                self.free.push(index);
                self.len -= 1;
                lock(&self.shared.state).ready.extend(iter);
                return Poll::Ready(Some(result));
            }
        }
        // Nothing finished: every polled handle registered its entry waker. Store ours, and
        // go round again if a wake arrived meanwhile.
        let mut state = lock(&self.shared.state);
        if state.ready.is_empty() {
            let replaced = state.waker.replace(cx.waker().clone());
            drop(state);
            drop(replaced); // Outside the lock, as above.
            Poll::Pending
        } else {
            drop(state);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Aborts every task and waits until all have finished; the set is then empty.
    ///
    /// Cancel safety: every task is aborted at the first poll, so a future dropped after
    /// that leaves no task running on for long (each stops at its next `.await`); the
    /// tasks not yet reaped stay in the set, already aborted, and calling `shutdown` again
    /// waits for them.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order. The set is
    /// consumed: this is the end of its scope, and when it returns (or panics) no task of
    /// the set is still running.
    ///
    /// # Panics
    /// If a task panicked: the remaining tasks are aborted and awaited, then the first
    /// panic resumes here. If a task was cancelled (through an [`AbortHandle`]), the same,
    /// with a panic saying so, since the task has no output to return.
    ///
    /// Cancel safety: dropping the future drops the set, which aborts the remaining tasks
    /// but cannot wait for them (see the type's docs), and loses the outputs collected.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => out.push(value),
                Err(err) => {
                    self.shutdown().await;
                    resume_failure(err, "join_all")
                }
            }
        }
        out
    }
}

impl<T: Send + 'static, E: Send + 'static> JoinSet<Result<T, E>> {
    /// Waits for every task and returns their `Ok` outputs in completion order, or, as soon
    /// as one task returns `Err`, aborts the others, waits for them to finish and returns
    /// that error. Either way no task of the set is still running when it returns.
    ///
    /// # Errors
    /// The first `Err` a task returned (in completion order).
    ///
    /// # Panics
    /// As [`join_all`](Self::join_all): a task's panic (or cancellation) resumes here after
    /// the others are aborted and finished.
    ///
    /// Cancel safety: as [`join_all`](Self::join_all).
    ///
    /// ```
    /// # let rt = zokio::runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let mut set = zokio::task::JoinSet::new();
    ///     for i in 0..4u32 {
    ///         set.spawn(async move {
    ///             if i == 2 {
    ///                 Err(format!("item {i} failed"))
    ///             } else {
    ///                 Ok(i)
    ///             }
    ///         });
    ///     }
    ///     assert_eq!(set.try_join_all().await, Err("item 2 failed".to_owned()));
    /// });
    /// ```
    pub async fn try_join_all(mut self) -> Result<Vec<T>, E> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            match result {
                Ok(Ok(value)) => out.push(value),
                Ok(Err(error)) => {
                    self.shutdown().await;
                    return Err(error);
                }
                Err(err) => {
                    self.shutdown().await;
                    resume_failure(err, "try_join_all")
                }
            }
        }
        Ok(out)
    }
}

/// Resumes a task's panic in the caller, or panics for a task that was cancelled.
fn resume_failure(err: JoinError, method: &str) -> ! {
    if err.is_panic() {
        std::panic::resume_unwind(err.into_panic())
    }
    panic!("JoinSet::{method}: {err}")
}

/// Spawns every future of the iterator on the current runtime into a new set.
///
/// # Panics
/// Outside a zokio runtime context.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future of the iterator on the current runtime into the set.
///
/// # Panics
/// Outside a zokio runtime context.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
