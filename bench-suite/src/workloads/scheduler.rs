//! Tokio's own scheduler benchmarks (`benches/rt_multi_threaded.rs`), same shapes and
//! constants, written once for every runtime, so our Tokio figures can be checked against
//! Tokio's published bench and zokio is measured on the identical shape.
//!
//! One deliberate difference, from `../shared/METHOD.md`: Tokio's `spawn_many` spawns from
//! the `block_on` thread, which on the multi-thread flavor is not a worker, so its "local"
//! spawns are really remote. Here every local-spawn shape spawns from a task running on the
//! runtime. Each function returns the number of operations it performed (tasks spawned,
//! yields, pings), for throughput figures.

use crate::rt::{OneshotSender, Runtime};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};

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

/// A task spawns `n` empty tasks (each decrements a counter; the last signals the bench
/// thread). Times spawning *and* running them. Ops: `n` tasks.
pub fn spawn_many_local<R: Runtime>(rt: &R, n: usize) -> u64 {
    let (tx, rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(n));
    rt.run(async move {
        for _ in 0..n {
            let tx = tx.clone();
            let rem = rem.clone();
            drop(R::spawn_local(async move {
                if rem.fetch_sub(1, Relaxed) == 1 {
                    tx.send(()).expect("bench thread waiting");
                }
            }));
        }
    });
    rx.recv().expect("last task signals");
    n as u64
}

/// `spawn_many_local` for a current-thread runtime: tasks only run inside `block_on`, so
/// the last task signals the `block_on` future through the runtime's oneshot instead of
/// the bench thread. Ops: `n` tasks.
pub fn spawn_many_current_thread<R: Runtime>(rt: &R, n: usize) -> u64 {
    let rem = Arc::new(AtomicUsize::new(n));
    let (tx, rx) = R::oneshot::<()>();
    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
    rt.block_on(async move {
        for _ in 0..n {
            let rem = rem.clone();
            let tx = tx.clone();
            drop(R::spawn_local(async move {
                if rem.fetch_sub(1, Relaxed) == 1 {
                    let tx = tx.lock().expect("signal lock").take();
                    tx.expect("signalled once")
                        .send(())
                        .expect("block_on waiting");
                }
            }));
        }
        rx.await.expect("last task signals");
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

/// `tasks` tasks each yield `yields` times. Ops: `tasks * yields` yields.
pub fn yield_many<R: Runtime>(rt: &R, tasks: usize, yields: usize) -> u64 {
    let (tx, rx) = mpsc::sync_channel(tasks);
    rt.run(async move {
        for _ in 0..tasks {
            let tx = tx.clone();
            drop(R::spawn_local(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
                tx.send(()).expect("bench thread waiting");
            }));
        }
    });
    for _ in 0..tasks {
        rx.recv().expect("every task signals");
    }
    (tasks * yields) as u64
}

/// `pings` times: a task spawns a partner and they exchange one message each way through
/// oneshot channels (the message-passing shape the LIFO slot exists for). Ops: `pings`.
pub fn ping_pong<R: Runtime>(rt: &R, pings: usize) -> u64 {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(pings));
    rt.run(async move {
        for _ in 0..pings {
            let rem = rem.clone();
            let done_tx = done_tx.clone();
            drop(R::spawn_local(async move {
                let (tx1, rx1) = R::oneshot::<()>();
                let (tx2, rx2) = R::oneshot::<()>();
                drop(R::spawn_local(async move {
                    rx1.await.expect("ping sent");
                    tx2.send(()).expect("pinger waiting");
                }));
                tx1.send(()).expect("ponger waiting");
                rx2.await.expect("pong sent");
                if rem.fetch_sub(1, Relaxed) == 1 {
                    done_tx.send(()).expect("bench thread waiting");
                }
            }));
        }
    });
    done_rx.recv().expect("last ping signals");
    pings as u64
}

/// Each task spawns the next, `len` deep. Ops: `len` tasks.
pub fn chained_spawn<R: Runtime>(rt: &R, len: usize) -> u64 {
    fn link<R: Runtime>(done: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done.send(()).expect("bench thread waiting");
        } else {
            drop(R::spawn_local(async move { link::<R>(done, n - 1) }));
        }
    }
    let (tx, rx) = mpsc::sync_channel(1);
    rt.run(async move { link::<R>(tx, len) });
    rx.recv().expect("chain end signals");
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
    fn shapes_run_on_zokio() {
        all_shapes(&Zokio::multi_thread(2));
    }

    #[test]
    fn shapes_run_on_tokio() {
        all_shapes(&Tokio::multi_thread(2));
    }
}
