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

    #[test]
    fn acquirer_out_of_coop_budget_keeps_its_place_in_line() {
        use futures::FutureExt;
        rt().block_on(async {
            let m = Mutex::new(0);
            let guard = m.lock().await;
            let mut first = pin!(m.lock());
            while zokio::task::coop::consume_budget().now_or_never().is_some() {}
            // Out of budget: pending, but queued.
            assert!(poll!(first.as_mut()).is_pending());
            zokio::task::yield_now().await; // a fresh budget
            let mut second = pin!(m.lock());
            assert!(poll!(second.as_mut()).is_pending());
            drop(guard);
            assert!(poll!(second.as_mut()).is_pending(), "the later acquirer overtook");
            assert!(poll!(first.as_mut()).is_ready());
            // Out of budget with the lock free: the future yields without taking it, so
            // dropped before its next poll it leaves the lock free.
            let m = Mutex::new(0);
            let mut taker = Box::pin(m.lock());
            while zokio::task::coop::consume_budget().now_or_never().is_some() {}
            assert!(poll!(taker.as_mut()).is_pending());
            drop(taker);
            zokio::task::yield_now().await;
            assert!(m.try_lock().is_ok(), "a cancelled acquirer kept the lock");
        });
    }

    #[test]
    fn semaphore_permits_split_merge_and_forget() {
        rt().block_on(async {
            let sem = Semaphore::new(5);
            let mut a = sem.acquire_many(3).await.unwrap();
            assert!(std::ptr::eq(a.semaphore(), &sem));
            let b = a.split(1).expect("3 permits split into 2 and 1");
            assert_eq!((a.num_permits(), b.num_permits()), (2, 1));
            assert!(a.split(3).is_none(), "split more than held");
            assert_eq!(a.num_permits(), 2, "a failed split moved permits");
            drop(b);
            assert_eq!(sem.available_permits(), 3);
            let c = sem.acquire().await.unwrap();
            a.merge(c);
            assert_eq!(a.num_permits(), 3);
            assert_eq!(sem.available_permits(), 2);
            drop(a);
            assert_eq!(sem.available_permits(), 5, "merged permits all came back");
            // forget_permits removes only free permits, and says how many.
            let held = sem.acquire_many(2).await.unwrap();
            assert_eq!(sem.forget_permits(10), 3);
            assert_eq!(sem.available_permits(), 0);
            drop(held);
            assert_eq!(sem.available_permits(), 2);
            // Owned permits alike.
            let sem = Arc::new(Semaphore::new(4));
            let mut p = sem.clone().try_acquire_many_owned(3).unwrap();
            let q = p.split(2).unwrap();
            p.merge(sem.clone().try_acquire_many_owned(1).unwrap());
            assert_eq!((p.num_permits(), q.num_permits()), (2, 2));
            drop((p, q));
            assert_eq!(sem.available_permits(), 4);
            let other = Arc::new(Semaphore::new(1));
            let mut p = sem.clone().acquire_owned().await.unwrap();
            let foreign = other.clone().acquire_owned().await.unwrap();
            let msg = support::panic_message(|| p.merge(foreign));
            assert!(msg.contains("different semaphore"), "{msg}");
        });
    }

    #[test]
    fn blocking_lock_methods_refuse_a_runtime_thread() {
        rt().block_on(async {
            let sem = Arc::new(Semaphore::new(1));
            let mutex = Arc::new(Mutex::new(0));
            let lock = RwLock::new(0);
            let cases: Vec<Box<dyn FnOnce()>> = vec![
                Box::new(|| drop(sem.blocking_acquire())),
                Box::new(|| drop(sem.blocking_acquire_many(1))),
                Box::new(|| drop(sem.clone().blocking_acquire_owned())),
                Box::new(|| drop(sem.clone().blocking_acquire_many_owned(1))),
                Box::new(|| drop(mutex.blocking_lock())),
                Box::new(|| drop(mutex.clone().blocking_lock_owned())),
                Box::new(|| drop(lock.blocking_read())),
                Box::new(|| drop(lock.blocking_write())),
            ];
            for case in cases {
                let msg = support::panic_message(case);
                assert!(msg.starts_with("Cannot block the current thread"), "{msg}");
            }
            assert_eq!(sem.available_permits(), 1, "a refused call took a permit");
        });
    }

    #[test]
    fn blocking_acquire_waits_for_a_permit_from_a_task() {
        let rt = rt();
        let sem = Arc::new(Semaphore::new(0));
        let mutex = Arc::new(Mutex::new(0));
        let guard = mutex.clone().try_lock_owned().unwrap();
        let waiter = {
            let (sem, mutex) = (sem.clone(), mutex.clone());
            std::thread::spawn(move || {
                let permits = sem.blocking_acquire_many(2).unwrap();
                *mutex.blocking_lock() += permits.num_permits();
            })
        };
        rt.block_on(async {
            sem.add_permits(2);
            zokio::task::yield_now().await;
            drop(guard);
        });
        waiter.join().unwrap();
        assert_eq!(*mutex.try_lock().unwrap(), 2);
        sem.close();
        assert!(sem.blocking_acquire().is_err());
    }

    #[test]
    fn mutex_guards_map_to_a_part_and_keep_the_lock() {
        rt().block_on(async {
            let m = Mutex::new((1, String::from("a")));
            let guard = m.lock().await;
            assert!(std::ptr::eq(zokio::sync::MutexGuard::mutex(&guard), &m));
            let mut part = zokio::sync::MutexGuard::map(guard, |v| &mut v.1);
            part.push('b');
            assert!(m.try_lock().is_err(), "a mapped guard does not hold the lock");
            let guard = zokio::sync::MappedMutexGuard::try_map(part, |_| None::<&mut u8>)
                .expect_err("try_map with None gives the guard back");
            assert!(m.try_lock().is_err());
            drop(guard);
            assert_eq!(m.lock().await.1, "ab");
            let guard = m.lock().await;
            let guard = zokio::sync::MutexGuard::try_map(guard, |_| None::<&mut u8>).unwrap_err();
            drop(guard);
            // Owned guards alike, through an `Arc`, movable into a task.
            let m = Arc::new(m);
            let owned = m.clone().try_lock_owned().unwrap();
            assert!(m.clone().try_lock_owned().is_err());
            let mut num = zokio::sync::OwnedMutexGuard::map(owned, |v| &mut v.0);
            zokio::spawn(async move { *num += 41 }).await.unwrap();
            assert_eq!(m.lock().await.0, 42);
        });
    }

    #[test]
    fn rwlock_with_max_readers_queues_the_extra_reader() {
        rt().block_on(async {
            let lock = RwLock::with_max_readers(7, 2);
            let a = lock.read().await;
            let b = lock.read().await;
            let mut c = pin!(lock.read());
            assert!(poll!(c.as_mut()).is_pending(), "a third reader got in");
            drop(a);
            assert!(poll!(c.as_mut()).is_ready());
            drop(b);
            // A writer takes the lock's permits, however many they are.
            let mut w = lock.write().await;
            *w += 1;
            assert!(lock.try_read().is_err());
            drop(w);
            assert_eq!(*lock.read().await, 8);
            let msg = support::panic_message(|| drop(RwLock::with_max_readers(0, 0)));
            assert_eq!(msg, "a RwLock may not be created with 0 readers");
        });
    }

    #[test]
    fn rwlock_downgrade_lets_readers_in_but_not_writers() {
        use zokio::sync::RwLockWriteGuard;
        rt().block_on(async {
            let lock = RwLock::new((1, 2));
            let w = lock.write().await;
            let mut reader = pin!(async { lock.read().await.0 });
            let mut writer = pin!(async { lock.write().await.0 = 10 });
            assert!(poll!(reader.as_mut()).is_pending());
            assert!(poll!(writer.as_mut()).is_pending());
            // `f` declines: the guard comes back still exclusive.
            let w = RwLockWriteGuard::try_downgrade_map(w, |_| None::<&u8>).unwrap_err();
            assert!(poll!(reader.as_mut()).is_pending());
            let second = RwLockWriteGuard::downgrade_map(w, |v| &v.1);
            assert_eq!(*second, 2);
            assert_eq!(poll!(reader.as_mut()), Poll::Ready(1));
            assert!(poll!(writer.as_mut()).is_pending(), "a writer got past a read guard");
            drop(second);
            assert!(poll!(writer.as_mut()).is_ready());
            // Plain downgrade, and a mapped write guard.
            let w = lock.write().await;
            let r = w.downgrade();
            assert_eq!(r.0, 10);
            assert!(lock.try_read().is_ok() && lock.try_write().is_err());
            drop(r);
            let mut part = RwLockWriteGuard::map(lock.write().await, |v| &mut v.1);
            *part = 20;
            assert!(lock.try_read().is_err());
            drop(part);
            assert_eq!(*lock.read().await, (10, 20));
        });
    }

    #[test]
    fn rwlock_owned_guards_map_downgrade_and_move_into_tasks() {
        use zokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard};
        rt().block_on(async {
            let lock = Arc::new(RwLock::new(vec![1, 2, 3]));
            let w = lock.clone().write_owned().await;
            assert!(lock.clone().try_read_owned().is_err());
            zokio::spawn(async move {
                let mut last = OwnedRwLockWriteGuard::map(w, |v| v.last_mut().unwrap());
                *last = 30;
            })
            .await
            .unwrap();
            let w = lock.clone().try_write_owned().unwrap();
            let r = OwnedRwLockWriteGuard::downgrade_map(w, |v| &v[2]);
            assert_eq!(*r, 30);
            let r2 = lock.clone().read_owned().await;
            let r2 = OwnedRwLockReadGuard::map(r2, |v| &v[0]);
            assert_eq!(*r2, 1);
            assert!(lock.clone().try_write_owned().is_err());
            drop((r, r2));
            assert!(lock.clone().try_write_owned().is_ok());
        });
    }
}

/// `close` takes the waiters out of the queue and wakes them after unlocking: a waker
/// that, when woken or dropped, gives a permit back (taking the semaphore's lock) neither
/// deadlocks nor is woken twice.
#[test]
fn semaphore_close_wakes_and_drops_waiters_outside_its_lock() {
    use std::task::Wake;
    struct ReleaseOnWake(Arc<Semaphore>);
    impl Wake for ReleaseOnWake {
        fn wake(self: Arc<Self>) {
            self.0.add_permits(1);
        }
    }
    struct ReleaseOnDrop(#[allow(dead_code)] zokio::sync::OwnedSemaphorePermit);
    impl Wake for ReleaseOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    let sem = Arc::new(Semaphore::new(0));
    let mut acquire = Box::pin(sem.acquire());
    let waker = std::task::Waker::from(Arc::new(ReleaseOnWake(sem.clone())));
    assert!(acquire
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    sem.close();
    assert_eq!(
        sem.available_permits(),
        1,
        "the waiter was woken other than once"
    );
    drop(acquire);

    let sem = Arc::new(Semaphore::new(1));
    let mut acquire = Box::pin(sem.acquire_many(2));
    let holder = sem.clone().try_acquire_owned().unwrap();
    let waker = std::task::Waker::from(Arc::new(ReleaseOnDrop(holder)));
    assert!(acquire
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker); // the queue holds the last reference
    sem.close();
    assert_eq!(sem.available_permits(), 1);
    drop(acquire);
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
