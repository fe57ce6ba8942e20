//! Tokio's own scheduler benchmarks (`benches/rt_multi_threaded.rs`), same shapes and
//! constants, written once for every runtime, so our Tokio figures can be checked against
//! Tokio's published bench and zokio is measured on the identical shape.
//!
//! One deliberate difference, from `../shared/METHOD.md`: Tokio's `spawn_many` spawns from
//! the `block_on` thread, which on the multi-thread flavor is not a worker, so its "local"
//! spawns are really remote. Here every local-spawn shape spawns from a task running on the
//! runtime. And every shape waits for its tasks inside the runtime (the task that spawned
//! them is woken by the last one), never on the bench thread: a thread-per-core runtime
//! runs tasks only while its thread is inside `block_on`, so the same body then runs there
//! too, one share per thread. Each function returns the number of operations it performed
//! (tasks spawned, yields, pings), for throughput figures.

use crate::rt::{OneshotSender, Runtime};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Tokio's `NUM_SPAWN`.
pub const NUM_SPAWN: usize = 10_000;
/// Tokio's `TASKS` for `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// Tokio's `NUM_YIELD`.
pub const NUM_YIELD: usize = 1_000;
/// Tokio's `NUM_PINGS`.
pub const NUM_PINGS: usize = 1_000;
/// Tokio's `ITER` for `chained_spawn`.
pub const CHAIN_LEN: usize = 1_000;

/// Counts finishing tasks down from a number; the last one completes the receiver
/// [`Countdown::new`] returns. A oneshot of the runtime's own, so the task waiting for it
/// is woken the way the runtime wakes any task, and the wait happens inside the runtime
/// (on a thread-per-core runtime tasks run only while its thread is inside `block_on`).
struct Countdown<R: Runtime> {
    left: AtomicUsize,
    done: Mutex<Option<R::OneshotSender<()>>>,
}

impl<R: Runtime> Countdown<R> {
    /// A countdown from `n` (at least 1) and the receiver the last [`done`](Self::done)
    /// completes.
    fn new(n: usize) -> (Arc<Self>, R::OneshotReceiver<()>) {
        assert!(n > 0, "a countdown from 0 never completes");
        let (tx, rx) = R::oneshot();
        let countdown = Countdown {
            left: AtomicUsize::new(n),
            done: Mutex::new(Some(tx)),
        };
        (Arc::new(countdown), rx)
    }

    /// One task finished.
    fn done(&self) {
        if self.left.fetch_sub(1, Relaxed) == 1 {
            let tx = self.done.lock().expect("countdown lock").take();
            tx.expect("the last task signals once")
                .send(())
                .expect("a task waits for the countdown");
        }
    }
}

/// A task spawns `n` empty tasks and waits until they have all run (each counts down; the
/// last one wakes it). Times spawning *and* running them. Ops: `n` tasks.
pub fn spawn_many_local<R: Runtime>(rt: &R, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    rt.run(async move {
        let (count, all_done) = Countdown::<R>::new(n);
        for _ in 0..n {
            let count = count.clone();
            drop(R::spawn_local(async move { count.done() }));
        }
        all_done.await.expect("the last task signals");
    });
    n as u64
}

/// `spawn_many_local` for a current-thread runtime, in the shape of Tokio's benchmark:
/// the `block_on` future itself spawns the tasks and waits for the last one. Ops: `n`
/// tasks.
pub fn spawn_many_current_thread<R: Runtime>(rt: &R, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    rt.block_on(async move {
        let (count, all_done) = Countdown::<R>::new(n);
        for _ in 0..n {
            let count = count.clone();
            drop(R::spawn_local(async move { count.done() }));
        }
        all_done.await.expect("the last task signals");
    });
    n as u64
}

/// The bench thread spawns `n` empty tasks onto an idle runtime, then awaits every join
/// handle. Ops: `n` tasks.
pub fn spawn_many_remote_idle<R: Runtime>(rt: &R, n: usize) -> u64 {
    let handles: Vec<_> = (0..n).map(|_| rt.spawn(async {})).collect();
    rt.block_on(async move {
        for h in handles {
            h.await;
        }
    });
    n as u64
}

/// A task spawns `tasks` tasks that each yield `yields` times, and waits until they have
/// all finished. Ops: `tasks * yields` yields.
pub fn yield_many<R: Runtime>(rt: &R, tasks: usize, yields: usize) -> u64 {
    if tasks == 0 {
        return 0;
    }
    rt.run(async move {
        let (count, all_done) = Countdown::<R>::new(tasks);
        for _ in 0..tasks {
            let count = count.clone();
            drop(R::spawn_local(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
                count.done();
            }));
        }
        all_done.await.expect("the last task signals");
    });
    (tasks * yields) as u64
}

/// `pings` times: a task spawns a partner and they exchange one message each way through
/// oneshot channels (the message-passing shape the LIFO slot exists for); a task spawns
/// the `pings` pingers and waits until all are done. Ops: `pings`.
pub fn ping_pong<R: Runtime>(rt: &R, pings: usize) -> u64 {
    if pings == 0 {
        return 0;
    }
    rt.run(async move {
        let (count, all_done) = Countdown::<R>::new(pings);
        for _ in 0..pings {
            let count = count.clone();
            drop(R::spawn_local(async move {
                let (tx1, rx1) = R::oneshot::<()>();
                let (tx2, rx2) = R::oneshot::<()>();
                drop(R::spawn_local(async move {
                    rx1.await.expect("ping sent");
                    tx2.send(()).expect("pinger waiting");
                }));
                tx1.send(()).expect("ponger waiting");
                rx2.await.expect("pong sent");
                count.done();
            }));
        }
        all_done.await.expect("the last ping signals");
    });
    pings as u64
}

/// Each task spawns the next, `len` deep; the task that starts the chain waits for its
/// end. Ops: `len` tasks.
pub fn chained_spawn<R: Runtime>(rt: &R, len: usize) -> u64 {
    fn link<R: Runtime>(done: R::OneshotSender<()>, n: usize) {
        if n == 0 {
            done.send(()).expect("the chain's start waits");
        } else {
            drop(R::spawn_local(async move { link::<R>(done, n - 1) }));
        }
    }
    rt.run(async move {
        let (tx, end) = R::oneshot();
        link::<R>(tx, len);
        end.await.expect("the chain's end signals");
    });
    len as u64
}

/// From inside a task, `n` times: spawn an empty task and await it. Ops: `n` spawn+join.
pub fn spawn_join<R: Runtime>(rt: &R, n: usize) -> u64 {
    rt.run(async move {
        for _ in 0..n {
            R::spawn_local(async {}).await;
        }
    });
    n as u64
}

/// Two tasks on a current-thread runtime take turns, each yielding `yields` times, so
/// every yield switches to the other task. Ops: `2 * yields` switches.
pub fn yield_ping_pong<R: Runtime>(rt: &R, yields: usize) -> u64 {
    rt.block_on(async move {
        let a = R::spawn_local(async move {
            for _ in 0..yields {
                R::yield_now().await;
            }
        });
        let b = R::spawn_local(async move {
            for _ in 0..yields {
                R::yield_now().await;
            }
        });
        a.await;
        b.await;
    });
    (2 * yields) as u64
}

/// [`Countdown`] for one thread: the count is an `Rc<Cell<_>>`, so the tasks that hold it
/// are not `Send` and must take the runtime's local-task path.
struct LocalCountdown<R: Runtime> {
    left: Cell<usize>,
    done: Cell<Option<R::OneshotSender<()>>>,
}

impl<R: Runtime> LocalCountdown<R> {
    fn new(n: usize) -> (Rc<Self>, R::OneshotReceiver<()>) {
        assert!(n > 0, "a countdown from 0 never completes");
        let (tx, rx) = R::oneshot();
        let countdown = LocalCountdown {
            left: Cell::new(n),
            done: Cell::new(Some(tx)),
        };
        (Rc::new(countdown), rx)
    }

    fn done(&self) {
        let left = self.left.get() - 1;
        self.left.set(left);
        if left == 0 {
            let tx = self.done.take().expect("the last task signals once");
            tx.send(()).expect("a task waits for the countdown");
        }
    }
}

/// [`spawn_many_current_thread`] on the runtime's path for `!Send` tasks
/// ([`Runtime::block_on_local`]): the tasks share an `Rc` count. Ops: `n` tasks.
pub fn spawn_many_not_send<R: Runtime>(rt: &R, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    rt.block_on_local(async move {
        let (count, all_done) = LocalCountdown::<R>::new(n);
        for _ in 0..n {
            let count = count.clone();
            drop(R::spawn_not_send(async move { count.done() }));
        }
        all_done.await.expect("the last task signals");
    });
    n as u64
}

/// [`chained_spawn`] on the local-task path: each `!Send` task (it holds an `Rc`) spawns
/// the next, `len` deep. Ops: `len` tasks.
pub fn chained_spawn_not_send<R: Runtime>(rt: &R, len: usize) -> u64 {
    fn link<R: Runtime>(done: Rc<Cell<Option<R::OneshotSender<()>>>>, n: usize) {
        if n == 0 {
            let tx = done.take().expect("the chain ends once");
            tx.send(()).expect("the chain's start waits");
        } else {
            drop(R::spawn_not_send(async move { link::<R>(done, n - 1) }));
        }
    }
    rt.block_on_local(async move {
        let (tx, end) = R::oneshot();
        link::<R>(Rc::new(Cell::new(Some(tx))), len);
        end.await.expect("the chain's end signals");
    });
    len as u64
}

/// [`ping_pong`] on the local-task path: `!Send` pingers (they hold the `Rc` count) each
/// spawn a partner and exchange one message each way through the runtime's oneshot.
/// Ops: `pings`.
pub fn ping_pong_not_send<R: Runtime>(rt: &R, pings: usize) -> u64 {
    if pings == 0 {
        return 0;
    }
    rt.block_on_local(async move {
        let (count, all_done) = LocalCountdown::<R>::new(pings);
        for _ in 0..pings {
            let count = count.clone();
            drop(R::spawn_not_send(async move {
                let (tx1, rx1) = R::oneshot::<()>();
                let (tx2, rx2) = R::oneshot::<()>();
                drop(R::spawn_not_send(async move {
                    rx1.await.expect("ping sent");
                    tx2.send(()).expect("pinger waiting");
                }));
                tx1.send(()).expect("ponger waiting");
                rx2.await.expect("pong sent");
                count.done();
            }));
        }
        all_done.await.expect("the last ping signals");
    });
    pings as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    fn all_shapes<R: Runtime>(rt: &R) {
        assert_eq!(spawn_many_local(rt, 100), 100);
        assert_eq!(spawn_many_remote_idle(rt, 100), 100);
        assert_eq!(yield_many(rt, 4, 10), 40);
        assert_eq!(ping_pong(rt, 50), 50);
        assert_eq!(chained_spawn(rt, 50), 50);
        assert_eq!(spawn_join(rt, 50), 50);
    }

    #[test]
    fn yield_ping_pong_runs_on_both() {
        assert_eq!(yield_ping_pong(&Zokio::current_thread(), 10), 20);
        assert_eq!(yield_ping_pong(&Tokio::current_thread(), 10), 20);
    }

    #[test]
    fn current_thread_shape_runs_on_both() {
        assert_eq!(
            spawn_many_current_thread(&Zokio::current_thread(), 100),
            100
        );
        assert_eq!(
            spawn_many_current_thread(&Tokio::current_thread(), 100),
            100
        );
    }

    #[test]
    fn local_task_shapes_run_on_both() {
        fn shapes<R: Runtime>(rt: &R) {
            assert_eq!(spawn_many_not_send(rt, 100), 100);
            assert_eq!(chained_spawn_not_send(rt, 100), 100);
            assert_eq!(ping_pong_not_send(rt, 50), 50);
        }
        shapes(&Zokio::current_thread());
        shapes(&Tokio::current_thread());
    }

    #[test]
    fn shapes_run_on_zokio() {
        all_shapes(&Zokio::multi_thread(2));
    }

    #[test]
    fn shapes_run_on_tokio() {
        all_shapes(&Tokio::multi_thread(2));
    }
}
