//! [`Barrier`] (rendezvous of a fixed number of tasks, one leader per generation) and
//! [`WaitGroup`] (Go's `sync.WaitGroup`: wait until a counter falls to zero).

use crate::loom::{lock, Arc, Mutex};
use crate::util::trace::{async_op_state, resource_state, Resource};
use std::fmt;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Makes `n` tasks wait until all `n` have called [`wait`](Barrier::wait), then releases
/// them together; the barrier then starts a new generation and can be reused.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// let barrier = Arc::new(zokio::sync::Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         zokio::spawn(async move { b.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<BarrierState>,
    /// Its `tracing` resource (`util/trace.rs`); nothing without the feature.
    resource: Resource,
}

struct BarrierState {
    arrived: usize,
    generation: u64,
    wakers: Vec<Waker>,
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the generation's leader: exactly one per generation, the last
    /// to arrive.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks. `Barrier::new(0)` behaves as `Barrier::new(1)`: every
    /// `wait` completes at once as leader.
    ///
    /// With the `tracing` feature the barrier is a `tracing` resource as Tokio's is (a
    /// `runtime.resource` span, `concrete_type = "Barrier"`, the caller's location), with
    /// `state_update`s `size` and `arrived` (each arrival adds one; unlike Tokio's, the
    /// leader also sets it back to 0 for the next generation) and an async op
    /// `Barrier::wait` per wait (`async_op::state_update`s `arrived` and `is_leader`).
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        let n = n.max(1);
        let resource = Resource::barrier();
        resource_state!(resource, size = n, size.op = "override");
        resource_state!(resource, arrived = 0, arrived.op = "override");
        Barrier {
            n,
            state: Mutex::new(BarrierState {
                arrived: 0,
                generation: 0,
                wakers: Vec::new(),
            }),
            resource,
        }
    }

    /// Waits for the generation's `n` arrivals.
    ///
    /// Not cancel-safe: the arrival is counted at the first poll, so a task whose wait is
    /// dropped still counts towards the generation it arrived in (as Tokio's barrier).
    pub async fn wait(&self) -> BarrierWaitResult {
        self.resource
            .async_op(self.wait_inner(), "Barrier::wait", "poll")
            .await
    }

    async fn wait_inner(&self) -> BarrierWaitResult {
        let generation = {
            let mut st = lock(&self.state);
            st.arrived += 1;
            resource_state!(self.resource, arrived = 1, arrived.op = "add");
            async_op_state!(arrived = true);
            if st.arrived == self.n {
                async_op_state!(is_leader = true);
                resource_state!(self.resource, arrived = 0, arrived.op = "override");
                st.arrived = 0;
                st.generation += 1;
                let wakers = std::mem::take(&mut st.wakers);
                drop(st);
                wakers.into_iter().for_each(Waker::wake);
                return BarrierWaitResult(true);
            }
            st.generation
        };
        poll_fn(|cx| {
            let mut st = lock(&self.state);
            if st.generation != generation {
                return Poll::Ready(BarrierWaitResult(false));
            }
            if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                st.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &st.arrived)
            .field("generation", &st.generation)
            .finish()
    }
}

/// Go's `sync.WaitGroup`: [`add`](WaitGroup::add) work, [`done`](WaitGroup::done) as it
/// finishes, and [`wait`](WaitGroup::wait) until the count is zero. Clones share the
/// counter.
///
/// ```
/// # zokio::runtime::Runtime::new().unwrap().block_on(async {
/// let wg = zokio::sync::WaitGroup::new();
/// for _ in 0..3 {
///     wg.add(1);
///     let wg = wg.clone();
///     zokio::spawn(async move { wg.done() });
/// }
/// wg.wait().await;
/// assert_eq!(wg.count(), 0);
/// # });
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Mutex<WgState>>,
}

impl Default for WaitGroup {
    fn default() -> WaitGroup {
        WaitGroup::new()
    }
}

#[derive(Default)]
struct WgState {
    count: usize,
    wakers: Vec<Waker>,
}

impl WaitGroup {
    /// A wait group with a count of zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Mutex::new(WgState::default())),
        }
    }

    /// Adds `n` to the count.
    pub fn add(&self, n: usize) {
        let mut st = lock(&self.inner);
        st.count = st.count.checked_add(n).expect("WaitGroup count overflow");
    }

    /// Subtracts one; at zero, wakes every waiter.
    ///
    /// # Panics
    /// If the count is already zero (more `done` than `add`, a bug Go also panics on).
    pub fn done(&self) {
        let wakers = {
            let mut st = lock(&self.inner);
            st.count = st
                .count
                .checked_sub(1)
                .expect("WaitGroup::done called more times than add");
            if st.count == 0 {
                std::mem::take(&mut st.wakers)
            } else {
                Vec::new()
            }
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The current count.
    pub fn count(&self) -> usize {
        lock(&self.inner).count
    }

    /// Waits until the count is zero (at once if it is). Cancel-safe.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            let mut st = lock(&self.inner);
            if st.count == 0 {
                return Poll::Ready(());
            }
            if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                st.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}
