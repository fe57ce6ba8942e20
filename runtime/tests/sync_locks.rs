//! Semaphore, Mutex and RwLock semantics on every scheduler flavor: counting, FIFO
//! fairness, close, owned permits, cancellation mid-wait (the next waiter must still get
//! its turn), guards held across `.await`, and writer preference without starvation.
//! Queue order is made deterministic by polling futures by hand (`futures::poll!`) from one
//! task, in a known order.

use futures::poll;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::task::{Context, Poll};
use zokio::runtime::{Builder, Runtime};
use zokio::sync::{AcquireError, Mutex, RwLock, Semaphore, TryAcquireError};

#[macro_use]
mod support;
use support::flag_waker;

rt_test! {
    #[test]
    fn semaphore_counts_permits() {
        rt().block_on(async {
            let sem = Semaphore::new(3);
            let a = sem.acquire().await.unwrap();
            let b = sem.acquire_many(2).await.unwrap();
            assert_eq!(b.num_permits(), 2);
            assert_eq!(sem.available_permits(), 0);
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            drop(a);
            assert_eq!(sem.available_permits(), 1);
            b.forget();
            assert_eq!(sem.available_permits(), 1, "forgotten permits never come back");
            sem.add_permits(4);
            assert_eq!(sem.try_acquire_many(5).unwrap().num_permits(), 5);
        });
    }

    #[test]
    fn semaphore_is_fifo_and_a_big_head_blocks_small_followers() {
        rt().block_on(async {
            let sem = Semaphore::new(2);
            let held = sem.acquire_many(2).await.unwrap();
            let mut big = pin!(sem.acquire_many(2));
            let mut small = pin!(sem.acquire());
            assert!(poll!(big.as_mut()).is_pending());
            assert!(poll!(small.as_mut()).is_pending());
            // A newcomer may not overtake the queue even when a permit is free.
            drop(held);
            sem.add_permits(0);
            assert_eq!(sem.available_permits(), 2);
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            // The head takes both; the small one waits for them.
            let big_permit = match poll!(big.as_mut()) {
                Poll::Ready(p) => p.unwrap(),
                Poll::Pending => panic!("the head was not served first"),
            };
            assert!(poll!(small.as_mut()).is_pending());
            drop(big_permit);
            assert!(matches!(poll!(small.as_mut()), Poll::Ready(Ok(_))));
        });
    }

    #[test]
    fn semaphore_cancelled_head_passes_its_turn_on() {
        rt().block_on(async {
            let sem = Semaphore::new(1);
            let held = sem.acquire().await.unwrap();
            let mut first = Box::pin(sem.acquire());
            assert!(poll!(first.as_mut()).is_pending());
            let (woken, waker) = flag_waker();
            let mut second = pin!(sem.acquire());
            let mut cx = Context::from_waker(&waker);
            assert!(second.as_mut().poll(&mut cx).is_pending());
            drop(held); // wakes `first`...
            drop(first); // ...which is cancelled before it claims: `second` is woken instead.
            assert!(woken.load(SeqCst), "the next waiter was not woken");
            assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
        });
    }

    #[test]
    fn semaphore_cancelled_big_head_lets_small_followers_in() {
        rt().block_on(async {
            let sem = Semaphore::new(3);
            let held = sem.acquire().await.unwrap();
            // The head needs all three; two are free, so it waits, and so do the two
            // single-permit followers behind it, although permits are free.
            let mut big = Box::pin(sem.acquire_many(3));
            let mut a = pin!(sem.acquire());
            let mut b = pin!(sem.acquire());
            assert!(poll!(big.as_mut()).is_pending());
            assert!(poll!(a.as_mut()).is_pending());
            assert!(poll!(b.as_mut()).is_pending());
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            // The head gives up: both followers get a permit, in order.
            drop(big);
            let pa = match poll!(a.as_mut()) {
                Poll::Ready(p) => p.unwrap(),
                Poll::Pending => panic!("the first follower was not let in"),
            };
            let pb = match poll!(b.as_mut()) {
                Poll::Ready(p) => p.unwrap(),
                Poll::Pending => panic!("the second follower was not let in"),
            };
            assert_eq!(sem.available_permits(), 0);
            drop((pa, held));
            assert_eq!(sem.available_permits(), 2, "b's permit is still held");
            drop(pb);
            assert_eq!(sem.available_permits(), 3);
        });
    }

    #[test]
    fn uncontended_lock_loop_still_yields_to_other_tasks() {
        // Taking a free lock is ready at once, so without the coop budget a task that
        // does it in a loop would hold its worker: on a current-thread runtime the
        // sibling would never run. Bounded, so a missing yield fails instead of hanging.
        rt().block_on(async {
            let spinner = zokio::spawn(async {
                let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let f = flag.clone();
                // Queued behind the running spinner (on a current-thread runtime, nothing
                // else can run it).
                let sibling = zokio::spawn(async move { f.store(true, SeqCst) });
                let m = Mutex::new(0u64);
                let mut locks = 0u64;
                while !flag.load(SeqCst) && locks < 1_000_000 {
                    *m.lock().await += 1;
                    locks += 1;
                }
                sibling.await.unwrap();
                locks
            });
            let locks = spinner.await.unwrap();
            assert!(
                locks < 1_000_000,
                "a task looping on a free lock never let its sibling run"
            );
        });
    }

    #[test]
    fn semaphore_close_fails_waiters_but_not_holders() {
        rt().block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.clone().acquire_owned().await.unwrap();
            let (woken, waker) = flag_waker();
            let mut waiter = pin!(sem.acquire());
            let mut cx = Context::from_waker(&waker);
            assert!(waiter.as_mut().poll(&mut cx).is_pending());
            sem.close();
            assert!(woken.load(SeqCst), "close did not wake the waiter");
            let err: AcquireError = match waiter.as_mut().poll(&mut cx) {
                Poll::Ready(r) => r.unwrap_err(),
                Poll::Pending => panic!("a closed semaphore kept a waiter waiting"),
            };
            assert_eq!(err.to_string(), "semaphore closed");
            assert!(sem.is_closed());
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
            drop(held);
            assert_eq!(sem.available_permits(), 1);
        });
    }

    #[test]
    fn owned_permits_move_into_tasks() {
        rt().block_on(async {
            let sem = Arc::new(Semaphore::new(2));
            let mut handles = Vec::new();
            let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            for _ in 0..20 {
                let permit = sem.clone().acquire_owned().await.unwrap();
                let (peak, inside) = (peak.clone(), inside.clone());
                handles.push(zokio::spawn(async move {
                    let n = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    peak.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                    zokio::task::yield_now().await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    drop(permit);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
            assert_eq!(sem.available_permits(), 2);
        });
    }

    #[test]
    fn mutex_guard_across_await_keeps_exclusion() {
        let rt = rt();
        let m = Arc::new(Mutex::new((0u64, false)));
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let m = m.clone();
                rt.spawn(async move {
                    for _ in 0..20 {
                        let mut g = m.lock().await;
                        assert!(!g.1, "two guards at once");
                        g.1 = true;
                        zokio::task::yield_now().await;
                        g.0 += 1;
                        g.1 = false;
                    }
                })
            })
            .collect();
        rt.block_on(async {
            for h in handles {
                h.await.unwrap();
            }
            assert_eq!(m.lock().await.0, 1000);
        });
    }

    #[test]
    fn mutex_try_lock_fifo_and_cancellation() {
        rt().block_on(async {
            let m = Mutex::new(Vec::new());
            let g = m.lock().await;
            assert!(m.try_lock().is_err());
            let mut a = pin!(async { m.lock().await.push('a') });
            let mut b = Box::pin(async { m.lock().await.push('b') });
            let mut c = pin!(async { m.lock().await.push('c') });
            assert!(poll!(a.as_mut()).is_pending());
            assert!(poll!(b.as_mut()).is_pending());
            assert!(poll!(c.as_mut()).is_pending());
            drop(g);
            drop(b); // cancelled mid-wait: must not hold up `c`
            assert!(poll!(c.as_mut()).is_pending(), "c overtook a");
            assert!(poll!(a.as_mut()).is_ready());
            assert!(poll!(c.as_mut()).is_ready());
            assert_eq!(*m.lock().await, vec!['a', 'c']);
        });
    }

    #[test]
    fn mutex_owned_guard_is_static() {
        let rt = rt();
        rt.block_on(async {
            let m = Arc::new(Mutex::new(1));
            let g = m.clone().lock_owned().await;
            let h = zokio::spawn(async move {
                let mut g = g;
                *g += 1;
            });
            h.await.unwrap();
            assert_eq!(*m.lock().await, 2);
        });
    }

    #[test]
    fn rwlock_readers_share_and_writer_is_preferred() {
        rt().block_on(async {
            let lock = RwLock::new(0);
            let r1 = lock.read().await;
            let r2 = lock.try_read().expect("readers share");
            let mut w = pin!(async {
                *lock.write().await += 1;
            });
            assert!(poll!(w.as_mut()).is_pending());
            // A writer waits: a new reader queues behind it instead of joining.
            assert!(lock.try_read().is_err());
            let mut r3 = pin!(async { *lock.read().await });
            assert!(poll!(r3.as_mut()).is_pending());
            drop(r1);
            drop(r2);
            assert!(poll!(w.as_mut()).is_ready());
            assert_eq!(poll!(r3.as_mut()), Poll::Ready(1), "the reader saw the write");
        });
    }

    #[test]
    fn rwlock_cancelled_writer_lets_queued_readers_in() {
        rt().block_on(async {
            let lock = RwLock::new(5);
            let r1 = lock.read().await;
            let mut w = Box::pin(async {
                let _g = lock.write().await;
            });
            assert!(poll!(w.as_mut()).is_pending());
            let (woken, waker) = flag_waker();
            let mut r2 = pin!(async { *lock.read().await });
            let mut cx = Context::from_waker(&waker);
            assert!(r2.as_mut().poll(&mut cx).is_pending());
            drop(w);
            assert!(woken.load(SeqCst), "the reader behind the cancelled writer was not woken");
            assert_eq!(r2.as_mut().poll(&mut cx), Poll::Ready(5));
            drop(r1);
            assert!(lock.try_write().is_ok());
        });
    }
}

static STATIC_SEMAPHORE: zokio::sync::Semaphore = zokio::sync::Semaphore::const_new(2);
static STATIC_MUTEX: zokio::sync::Mutex<u32> = zokio::sync::Mutex::const_new(0);
static STATIC_RWLOCK: zokio::sync::RwLock<u32> = zokio::sync::RwLock::const_new(0);
static STATIC_NOTIFY: zokio::sync::Notify = zokio::sync::Notify::const_new();

/// The `const_new` constructors make working primitives in `static`s, as Tokio's.
#[test]
fn const_constructed_primitives_work_from_statics() {
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let a = STATIC_SEMAPHORE.acquire().await.unwrap();
        let b = STATIC_SEMAPHORE.acquire().await.unwrap();
        assert!(STATIC_SEMAPHORE.try_acquire().is_err());
        drop((a, b));
        assert_eq!(STATIC_SEMAPHORE.available_permits(), 2);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                zokio::spawn(async {
                    for _ in 0..100 {
                        *STATIC_MUTEX.lock().await += 1;
                        *STATIC_RWLOCK.write().await += 1;
                        let _ = *STATIC_RWLOCK.read().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*STATIC_MUTEX.lock().await, 800);
        assert_eq!(*STATIC_RWLOCK.read().await, 800);
        STATIC_NOTIFY.notify_one();
        STATIC_NOTIFY.notified().await;
        assert!(zokio::task::coop::has_budget_remaining());
    });
}
