//! Loom models of the task state machine, through the real harness and a mock scheduler:
//! wake while running, abort while running, JoinHandle dropped or polled while the task
//! completes, and shutdown racing a wake. Each checks that the future is dropped exactly
//! once, the output is delivered or dropped exactly once, and the cell is freed (the
//! scheduler `Arc` the task holds is released).
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p zokio --release --lib loom_`

use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Arc, Mutex};
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, Schedule, Task};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

struct Mock {
    queue: Mutex<VecDeque<Notified<Arc<Mock>>>>,
    owned: OwnedTasks<Arc<Mock>>,
}

impl Schedule for Arc<Mock> {
    type TaskExtra = ();

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        lock(&self.queue).push_back(task);
    }
}

fn mock() -> Arc<Mock> {
    Arc::new(Mock {
        queue: Mutex::new(VecDeque::new()),
        owned: OwnedTasks::new(1),
    })
}

fn spawn<F>(sched: &Arc<Mock>, f: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    sched.owned.spawn(f, sched)
}

/// Runs queued tasks until the queue is empty; returns how many ran.
fn run_all(sched: &Arc<Mock>) -> usize {
    let mut n = 0;
    loop {
        let next = lock(&sched.queue).pop_front();
        match next {
            Some(task) => {
                task.run();
                n += 1;
            }
            None => return n,
        }
    }
}

fn run_one(sched: &Arc<Mock>) {
    let next = lock(&sched.queue).pop_front();
    if let Some(task) = next {
        task.run();
    }
}

/// Counts drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Pending on the first poll (storing its waker), ready on the second.
struct TwoPolls {
    polls: usize,
    waker: Arc<Mutex<Option<Waker>>>,
    _drop: DropCount,
}

impl Future for TwoPolls {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls += 1;
        if self.polls == 1 {
            *lock(&self.waker) = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Records that it was woken.
struct FlagWaker(AtomicBool);

impl Wake for FlagWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn poll_join<T>(
    join: &mut JoinHandle<T>,
    waker: &Waker,
) -> Poll<Result<T, crate::task::JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

fn assert_freed(sched: Arc<Mock>) {
    // The mock is held by `sched` and by every live task cell.
    assert_eq!(Arc::strong_count(&sched), 1, "a task cell was not freed");
    assert!(lock(&sched.queue).is_empty());
}

#[test]
fn loom_wake_while_running_reschedules_once() {
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let mut join = spawn(
            &sched,
            TwoPolls {
                polls: 0,
                waker: slot.clone(),
                _drop: DropCount(drops.clone()),
            },
        );
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let waker_thread = {
            let slot = slot.clone();
            thread::spawn(move || {
                let waker = lock(&slot).take();
                if let Some(w) = waker {
                    w.wake();
                    true
                } else {
                    false
                }
            })
        };
        runner.join().unwrap();
        let woke = waker_thread.join().unwrap();
        // The wake, if it happened, queued the task exactly once.
        let ran = run_all(&sched);
        assert!(ran <= 1);
        if !woke {
            // The waker thread ran before the first poll stored the waker: wake now.
            let w = lock(&slot).take().expect("first poll stored a waker");
            w.wake();
            assert_eq!(run_all(&sched), 1);
        }
        assert!(poll_join(&mut join, Waker::noop()).is_ready());
        assert_eq!(drops.load(SeqCst), 1);
        drop(join);
        assert_freed(sched);
    });
}

#[test]
fn loom_abort_while_running() {
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = DropCount(drops.clone());
        let mut join = spawn(&sched, async move {
            let _d = d;
            std::future::pending::<()>().await;
        });
        let abort = join.abort_handle();
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let aborter = thread::spawn(move || abort.abort());
        runner.join().unwrap();
        aborter.join().unwrap();
        run_all(&sched);
        match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            other => panic!("expected cancellation, got {:?}", other.map(|r| r.is_ok())),
        }
        assert_eq!(drops.load(SeqCst), 1);
        drop(join);
        assert_freed(sched);
    });
}

#[test]
fn loom_drop_join_handle_while_completing() {
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let join = spawn(&sched, async move { DropCount(d) });
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let dropper = thread::spawn(move || drop(join));
        runner.join().unwrap();
        dropper.join().unwrap();
        // The output was dropped exactly once, by whichever side owned it.
        assert_eq!(drops.load(SeqCst), 1);
        assert_freed(sched);
    });
}

#[test]
fn loom_join_poll_races_completion_without_lost_wakeup() {
    loom::model(|| {
        let sched = mock();
        let mut join = spawn(&sched, async { 5u8 });
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let flag = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let first = poll_join(&mut join, &waker);
        runner.join().unwrap();
        match first {
            Poll::Ready(out) => assert_eq!(out.unwrap(), 5),
            Poll::Pending => {
                // Completion must have woken us, and the output must now be there.
                assert!(flag.0.load(SeqCst), "join waker lost");
                assert_eq!(
                    poll_join(&mut join, &waker).map(Result::unwrap),
                    Poll::Ready(5)
                );
            }
        }
        drop(join);
        assert_freed(sched);
    });
}

#[test]
fn loom_shutdown_races_wake() {
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let join = spawn(
            &sched,
            TwoPolls {
                polls: 0,
                waker: slot.clone(),
                _drop: DropCount(drops.clone()),
            },
        );
        run_one(&sched); // First poll: pending, waker stored.
        let waker = lock(&slot).take().unwrap();
        let waker_thread = thread::spawn(move || waker.wake());
        sched.owned.close_and_shutdown_all(0);
        waker_thread.join().unwrap();
        run_all(&sched);
        // Either the wake ran it to completion first, or shutdown cancelled it.
        assert_eq!(drops.load(SeqCst), 1);
        assert!(join.is_finished());
        drop(join);
        assert_freed(sched);
    });
}

/// Abort racing a task that completes on its first poll: exactly one outcome, the output
/// (if produced) delivered or dropped once, the future dropped once, the cell freed.
#[test]
fn loom_abort_races_completion() {
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let out_drops = Arc::new(AtomicUsize::new(0));
        let (d, od) = (DropCount(drops.clone()), out_drops.clone());
        let mut join = spawn(&sched, async move {
            let _d = d;
            DropCount(od)
        });
        let abort = join.abort_handle();
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let aborter = thread::spawn(move || abort.abort());
        runner.join().unwrap();
        aborter.join().unwrap();
        run_all(&sched);
        match poll_join(&mut join, Waker::noop()) {
            Poll::Ready(Ok(output)) => drop(output),
            Poll::Ready(Err(e)) => assert!(e.is_cancelled()),
            Poll::Pending => panic!("task neither completed nor cancelled"),
        }
        drop(join);
        assert_eq!(drops.load(SeqCst), 1, "future dropped once");
        assert!(out_drops.load(SeqCst) <= 1, "output dropped at most once");
        assert_freed(sched);
    });
}

/// The JoinHandle is polled with one waker, then with another (taking the waker slot back)
/// while the task completes on another thread: the join is never lost.
#[test]
fn loom_join_waker_swap_races_completion() {
    loom::model(|| {
        let sched = mock();
        let mut join = spawn(&sched, async { 9u8 });
        let first = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        let second = std::sync::Arc::new(FlagWaker(AtomicBool::new(false)));
        // Register the first waker before the task can run.
        assert!(poll_join(&mut join, &Waker::from(first.clone())).is_pending());
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || run_one(&sched))
        };
        let second_waker = Waker::from(second.clone());
        let polled = poll_join(&mut join, &second_waker);
        runner.join().unwrap();
        match polled {
            Poll::Ready(out) => assert_eq!(out.unwrap(), 9),
            Poll::Pending => {
                // Completion happened after the swap: it must have woken the second waker.
                assert!(second.0.load(SeqCst), "join wake-up lost after waker swap");
                assert_eq!(
                    poll_join(&mut join, &second_waker).map(Result::unwrap),
                    Poll::Ready(9)
                );
            }
        }
        drop(join);
        assert_freed(sched);
    });
}

#[test]
fn loom_detached_completion_races_a_foreign_waker() {
    // The JoinHandle is dropped first (one-step fast path), so completion takes the
    // one-step detached path; meanwhile another thread wakes and drops the task's waker.
    // The future is dropped once and the cell freed once, whichever side goes last.
    loom::model(|| {
        let sched = mock();
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(Mutex::new(None));
        let fut = TwoPolls {
            polls: 0,
            waker: slot.clone(),
            _drop: DropCount(drops.clone()),
        };
        drop(spawn(&sched, fut));
        assert_eq!(run_all(&sched), 1); // Pending: the waker is in `slot`.
        let waker = lock(&slot).take().expect("first poll stored its waker");
        let waking = thread::spawn(move || {
            waker.wake_by_ref();
            drop(waker);
        });
        let runner = {
            let sched = sched.clone();
            thread::spawn(move || {
                // The wake may not have queued the task yet; run what is there.
                run_all(&sched);
            })
        };
        waking.join().unwrap();
        runner.join().unwrap();
        run_all(&sched);
        assert_eq!(drops.load(SeqCst), 1);
        assert_freed(sched);
    });
}
