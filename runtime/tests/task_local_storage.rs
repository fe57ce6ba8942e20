//! `task_local!`: values scoped to a future or a closure, following a task across threads
//! and never seen by another task.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use zokio::runtime::{Builder, Runtime};

#[macro_use]
mod support;

zokio::task_local! {
    static NUMBER: u32;
    /// Documented keys and several per invocation work too.
    pub(crate) static NAME: String;
}

use support::panic_message;

rt_test! {
    /// 200 tasks, each with its own value, yielding between reads: on every flavor (and
    /// across workers on the multi-thread one) each task only ever sees its own.
    #[test]
    fn every_task_sees_only_its_own_value() {
        let rt = rt();
        rt.block_on(async {
            let tasks: Vec<_> = (0..200u32)
                .map(|i| {
                    zokio::spawn(NUMBER.scope(i, async move {
                        for _ in 0..10 {
                            assert_eq!(NUMBER.get(), i);
                            zokio::task::yield_now().await;
                        }
                        NUMBER.get()
                    }))
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i as u32);
            }
            // Nothing leaks out of the scopes onto the runtime's threads.
            assert!(NUMBER.try_get().is_err());
        });
    }
}

#[test]
fn scopes_nest_and_shadow() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        assert!(NUMBER.try_with(|_| ()).is_err());
        NUMBER
            .scope(1, async {
                assert_eq!(NUMBER.get(), 1);
                NUMBER
                    .scope(2, async {
                        assert_eq!(NUMBER.get(), 2);
                        NAME.scope("inner".to_string(), async {
                            assert_eq!(NAME.with(|n| n.len()), 5);
                            assert_eq!(NUMBER.get(), 2);
                        })
                        .await;
                    })
                    .await;
                assert_eq!(NUMBER.get(), 1);
                assert!(NAME.try_get().is_err());
            })
            .await;
        assert!(NUMBER.try_get().is_err());
    });
}

#[test]
fn sync_scope_restores_the_outer_value_even_on_panic() {
    assert_eq!(NUMBER.sync_scope(5, || NUMBER.get() * 2), 10);
    NUMBER.sync_scope(1, || {
        let caught = std::panic::catch_unwind(|| NUMBER.sync_scope(2, || panic!("inner")));
        assert!(caught.is_err());
        assert_eq!(NUMBER.get(), 1);
    });
    assert!(NUMBER.try_get().is_err());
}

/// Tokio's panic messages: reading an unset key, entering a scope while the value is
/// borrowed, polling a finished scope.
#[test]
fn misuse_panics_with_tokios_messages() {
    assert_eq!(
        panic_message(|| {
            NUMBER.get();
        }),
        "cannot access a task-local storage value without setting it first"
    );
    assert_eq!(
        panic_message(|| NUMBER.sync_scope(1, || NUMBER.with(|_| NUMBER.sync_scope(2, || ())))),
        "cannot enter a task-local scope while the task-local storage is borrowed"
    );
    let rt = Builder::new_current_thread().build().unwrap();
    let mut scoped = Box::pin(NUMBER.scope(3, async { 4 }));
    assert_eq!(rt.block_on(scoped.as_mut()), 4);
    assert_eq!(scoped.as_mut().take_value(), Some(3));
    assert_eq!(scoped.as_mut().take_value(), None);
    assert_eq!(
        panic_message(|| {
            rt.block_on(scoped.as_mut());
        }),
        "`TaskLocalFuture` polled after completion"
    );
    assert_eq!(
        format!("{:?}", NUMBER.try_get().unwrap_err()),
        "AccessError"
    );
    assert_eq!(
        NUMBER.try_get().unwrap_err().to_string(),
        "task-local value not set"
    );
}

/// A scoped future dropped before it completes drops with its value set (its `Drop` can
/// read it), as in Tokio.
#[test]
fn a_scoped_future_drops_with_its_value_set() {
    struct ReadsOnDrop(Arc<AtomicBool>);
    impl Drop for ReadsOnDrop {
        fn drop(&mut self) {
            self.0.store(NUMBER.try_get() == Ok(9), SeqCst);
        }
    }
    let saw = Arc::new(AtomicBool::new(false));
    let probe = ReadsOnDrop(saw.clone());
    let scoped = NUMBER.scope(9, async move {
        let _probe = probe;
        std::future::pending::<()>().await;
    });
    let rt = Builder::new_current_thread().build().unwrap();
    let task = rt.spawn(scoped);
    rt.block_on(async {
        zokio::task::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert!(saw.load(SeqCst), "the future's drop did not see its value");
}
