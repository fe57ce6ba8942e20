use crate::runtime::Handle;
use crate::task::JoinHandle;
use std::future::Future;

/// Spawns a task on the current runtime and returns a handle to its output.
///
/// Called from a worker of a multi-thread runtime, the task goes to that worker's LIFO slot
/// (then its local run queue); from elsewhere it goes to the runtime's injector.
///
/// # Panics
/// If called outside a zokio runtime context (a worker thread, `block_on`, or a
/// [`Runtime::enter`](crate::runtime::Runtime::enter) guard).
///
/// # Examples
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = zokio::spawn(async { 1 + 1 });
///     assert_eq!(handle.await.unwrap(), 2);
/// });
/// ```
///
/// The future must be `Send`, since any worker may run it; holding an `Rc` across an
/// `.await` does not compile:
///
/// ```compile_fail
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     zokio::spawn(async {
///         let rc = std::rc::Rc::new(1);
///         zokio::task::yield_now().await;
///         drop(rc);
///     });
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let future = crate::util::trace::task(future, "task", None);
    match crate::runtime::context::with_handle(|handle| handle.spawn(future)) {
        Ok(join) => join,
        Err(_) => panic!("zokio::spawn must be called from the context of a zokio runtime"),
    }
}

/// Runs a blocking closure on the runtime's blocking thread pool and returns a handle to
/// its result.
///
/// The pool starts threads on demand up to
/// [`max_blocking_threads`](crate::runtime::Builder::max_blocking_threads) (default 512);
/// further calls queue. A thread idle for
/// [`thread_keep_alive`](crate::runtime::Builder::thread_keep_alive) (default 10 s) exits.
/// A closure that has started cannot be aborted; one still queued at shutdown is cancelled.
///
/// # Panics
/// If called outside a zokio runtime context.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(f),
        Err(_) => {
            panic!("zokio::task::spawn_blocking must be called from the context of a zokio runtime")
        }
    }
}

/// Runs `f`, which may block, on this thread without stalling the runtime's other tasks.
///
/// On a worker of a multi-thread runtime, the worker's queues, I/O driver and timers are
/// first handed to a new worker thread, which goes on running the other tasks while `f`
/// blocks this thread (the thread count of the runtime is unchanged: this thread leaves
/// the worker once the current task's poll returns, unless `f` returned before the new
/// thread started, in which case it takes the worker back). Inside a multi-thread
/// runtime's `block_on`, in a blocking-pool closure, inside `f` itself, or outside any
/// runtime, `f` just runs. Tasks spawned from the calling task wait in the run queues,
/// not in the LIFO slot, while `f` runs.
///
/// `f` runs outside the runtime context: it may start and drop runtimes and call
/// `Handle::block_on`; [`spawn`] and `Handle::current` still see the runtime. No coop
/// budget applies to it. Prefer [`spawn_blocking`] where the closure can be `'static`
/// and `Send`: `block_in_place` costs a thread start per call on a worker.
///
/// # Panics
/// On the current-thread scheduler (its `block_on`, its tasks, a `LocalRuntime`), with
/// Tokio's message: there is no other thread to run its tasks. A panic in `f` propagates
/// to the caller (the task), as in Tokio.
///
/// # Examples
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let answer = zokio::spawn(async {
///     zokio::task::block_in_place(|| {
///         std::thread::sleep(std::time::Duration::from_millis(1)); // a blocking call
///         42
///     })
/// });
/// assert_eq!(answer.await.unwrap(), 42);
/// # });
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::scheduler::multi_thread::block_in_place(f)
}
