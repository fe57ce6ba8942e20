//! `OnceCell` on every scheduler flavor: one initializer however many callers race, a
//! cancelled or failed initializer hands over to the next caller, `set` while another
//! initialises, `take`, statics, and the value dropped exactly once.

use futures::poll;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use zokio::runtime::{Builder, Runtime};
use zokio::sync::{OnceCell, SetError};

#[macro_use]
mod support;

static STATIC_CELL: OnceCell<u32> = OnceCell::const_new();

rt_test! {
    #[test]
    fn racing_callers_run_one_initializer() {
        rt().block_on(async {
            let cell = Arc::new(OnceCell::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    zokio::spawn(async move {
                        *cell
                            .get_or_init(|| async move {
                                runs.fetch_add(1, SeqCst);
                                zokio::task::yield_now().await;
                                i
                            })
                            .await
                    })
                })
                .collect();
            let mut seen = Vec::new();
            for t in tasks {
                seen.push(t.await.unwrap());
            }
            assert_eq!(runs.load(SeqCst), 1);
            assert!(seen.iter().all(|v| *v == seen[0]), "{seen:?}");
            assert_eq!(cell.get(), Some(&seen[0]));
        });
    }

    #[test]
    fn a_cancelled_or_failed_initializer_hands_over() {
        rt().block_on(async {
            let cell = OnceCell::new();
            {
                let mut first = pin!(cell.get_or_init(std::future::pending::<u32>));
                assert!(poll!(first.as_mut()).is_pending());
                // Someone is initialising: set refuses, a second caller waits in line.
                assert!(cell.set(9).unwrap_err().is_initializing_err());
            } // the first initializer is dropped
            let failed: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("no") }).await;
            assert_eq!(failed, Err("no"));
            assert!(!cell.initialized());
            assert_eq!(*cell.get_or_init(|| async { 3 }).await, 3);
            assert_eq!(cell.set(4), Err(SetError::AlreadyInitializedError(4)));
            assert_eq!(*STATIC_CELL.get_or_init(|| async { 7 }).await, 7);
        });
    }
}

/// `take` empties the cell and makes it settable again; the value is dropped exactly once
/// whichever way the cell ends.
#[test]
fn values_are_taken_and_dropped_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let mut cell = OnceCell::new();
    assert!(cell.set(Counted(drops.clone())).is_ok());
    let taken = cell.take().expect("set");
    assert!(!cell.initialized());
    assert!(
        cell.set(Counted(drops.clone())).is_ok(),
        "not settable after take"
    );
    drop(taken);
    assert_eq!(drops.load(SeqCst), 1);
    drop(cell);
    assert_eq!(drops.load(SeqCst), 2);
    let cell = OnceCell::from(Counted(drops.clone()));
    assert!(cell.into_inner().is_some());
    assert_eq!(drops.load(SeqCst), 3);
    let a = OnceCell::new_with(Some(1));
    assert_eq!(a.clone(), a);
    assert_ne!(a, OnceCell::new());
}

mod set_once {
    use super::*;

    static STATIC_SET_ONCE: zokio::sync::SetOnce<u32> = zokio::sync::SetOnce::const_new();

    rt_test! {
        #[test]
        fn set_once_wakes_every_waiter_and_refuses_a_second_value() {
            use zokio::sync::{SetOnce, SetOnceError};
            rt().block_on(async {
                let once = Arc::new(SetOnce::new());
                let waiters: Vec<_> = (0..8)
                    .map(|_| {
                        let once = once.clone();
                        zokio::spawn(async move { *once.wait().await })
                    })
                    .collect();
                // Each waiter is waiting (or has not run yet: either way it must see the value).
                zokio::task::yield_now().await;
                assert!(!once.initialized());
                assert_eq!(once.get(), None);
                once.set(5).unwrap();
                assert_eq!(once.set(6), Err(SetOnceError(6)));
                for w in waiters {
                    assert_eq!(w.await.unwrap(), 5);
                }
                // After it is set, `wait` returns at once.
                {
                    let mut wait = pin!(once.wait());
                    assert!(matches!(poll!(&mut wait), std::task::Poll::Ready(5)));
                }
                assert_eq!(Arc::try_unwrap(once).unwrap().into_inner(), Some(5));
                assert_eq!(SetOnce::from(3).get(), Some(&3));
                assert_eq!(SetOnce::new_with(None::<u8>).clone(), SetOnce::new());
                assert!(STATIC_SET_ONCE.set(1).is_ok() || STATIC_SET_ONCE.get() == Some(&1));
                assert_eq!(*STATIC_SET_ONCE.wait().await, 1);
            });
        }
    }
}
