//! Exercises every way a task can end (completes, panics, is aborted, is cancelled by
//! shutdown, is detached) on both flavors, then shuts down. Run under a leak checker:
//!
//! ```text
//! cargo build --release -p zokio --example spawn_abort_shutdown
//! RUST_BACKTRACE=0 valgrind --fair-sched=yes --leak-check=full \
//!     --errors-for-leak-kinds=definite,indirect --error-exitcode=1 target/release/examples/spawn_abort_shutdown
//! ```
//!
//! A task cell that is never freed, or a future never dropped, shows up as a definite leak.

use std::time::Duration;
use zokio::runtime::{Builder, Runtime};

fn exercise(rt: &Runtime) -> usize {
    rt.block_on(async {
        let mut finished = 0;
        // Completes and is joined.
        finished += zokio::spawn(async { vec![1u8; 64] }).await.unwrap().len();
        // Panics.
        let err = zokio::spawn(async { panic!("expected panic") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        // Aborted while pending, holding heap memory.
        let pending = zokio::spawn(async {
            let _buf = vec![0u8; 4096];
            std::future::pending::<()>().await;
        });
        zokio::task::yield_now().await;
        pending.abort();
        assert!(pending.await.unwrap_err().is_cancelled());
        // Detached: JoinHandle dropped before and after completion.
        drop(zokio::spawn(async { String::from("detached") }));
        let (tx, rx) = zokio::sync::oneshot::channel();
        let done = zokio::spawn(async move {
            let _ = tx.send(());
            Box::new(5u64)
        });
        // The task has run (it may or may not have completed yet: both drop paths are fine).
        rx.await.unwrap();
        drop(done);
        // A JoinSet dropped with children still pending.
        let mut set = zokio::task::JoinSet::new();
        for _ in 0..16 {
            set.spawn(std::future::pending::<()>());
        }
        set.spawn(async {});
        let _ = set.join_next().await;
        drop(set);
        // Blocking pool.
        finished += zokio::task::spawn_blocking(|| 1usize).await.unwrap();
        // Timers: one completes, one times out (its future dropped), one is aborted.
        zokio::time::sleep(Duration::from_micros(200)).await;
        let slow = zokio::time::timeout(Duration::from_micros(200), std::future::pending::<()>());
        assert!(slow.await.is_err());
        let sleeper = zokio::spawn(zokio::time::sleep(Duration::from_secs(3600)));
        zokio::task::yield_now().await;
        sleeper.abort();
        // Left pending for shutdown to cancel: a task asleep on a timer...
        drop(zokio::spawn(async {
            let _buf = vec![0u8; 256];
            zokio::time::sleep(Duration::from_secs(3600)).await;
        }));
        // ...and one on a oneshot whose sender is never used.
        let (_tx, rx) = zokio::sync::oneshot::channel::<Vec<u8>>();
        drop(zokio::spawn(rx));
        finished
    })
}

fn main() {
    let current = Builder::new_current_thread().build().expect("runtime");
    let a = exercise(&current);
    drop(current);
    let multi = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let b = exercise(&multi);
    multi.shutdown_timeout(Duration::from_secs(5));
    println!("spawn_abort_shutdown: ok ({a} + {b})");
}
