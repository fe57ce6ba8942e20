//! A misuse panic names the caller's line, not zokio's (`#[track_caller]` all the way
//! down), as Tokio's do: nested `block_on`, `block_in_place` on a current-thread runtime,
//! an `RwLock` for no reader, merging permits of two semaphores. One test in its own binary: it installs a panic hook, which is
//! process-wide.

use std::sync::{Arc, Mutex};
use zokio::runtime::Builder;

/// Runs `f`, which must panic, and returns the file the panic was reported in.
fn panic_file(f: impl FnOnce()) -> String {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = seen.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map(|l| l.file().to_string());
        hook_seen.lock().unwrap().get_or_insert(file);
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    assert!(result.is_err(), "did not panic");
    let file = seen.lock().unwrap().take().flatten();
    file.expect("the panic had no location")
}

#[test]
fn nested_block_on_panics_point_at_the_caller() {
    let here = file!();
    let current = Builder::new_current_thread().build().unwrap();
    let multi = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let inner = Builder::new_current_thread().build().unwrap();
    let local = zokio::task::LocalSet::new();
    type Case<'a> = (&'static str, Box<dyn FnOnce() + 'a>);
    let cases: Vec<Case<'_>> = vec![
        (
            "Runtime::block_on in current-thread block_on",
            Box::new(|| current.block_on(async { inner.block_on(async {}) })),
        ),
        (
            "Runtime::block_on in multi-thread block_on",
            Box::new(|| multi.block_on(async { inner.block_on(async {}) })),
        ),
        (
            "LocalSet::block_on in block_on",
            Box::new(|| current.block_on(async { local.block_on(&inner, async {}) })),
        ),
        (
            "Handle::block_on in block_on",
            Box::new(|| {
                let handle = inner.handle().clone();
                current.block_on(async { handle.block_on(async {}) })
            }),
        ),
        (
            "block_in_place on the current-thread runtime",
            Box::new(|| current.block_on(async { zokio::task::block_in_place(|| ()) })),
        ),
        (
            "RwLock::with_max_readers(_, 0)",
            Box::new(|| drop(zokio::sync::RwLock::with_max_readers((), 0))),
        ),
        (
            "SemaphorePermit::merge of another semaphore's permit",
            Box::new(|| {
                let (a, b) = (
                    zokio::sync::Semaphore::new(1),
                    zokio::sync::Semaphore::new(1),
                );
                let mut p = a.try_acquire().unwrap();
                p.merge(b.try_acquire().unwrap());
            }),
        ),
        (
            "OwnedSemaphorePermit::merge of another semaphore's permit",
            Box::new(|| {
                let a = Arc::new(zokio::sync::Semaphore::new(1));
                let b = Arc::new(zokio::sync::Semaphore::new(1));
                let mut p = a.try_acquire_owned().unwrap();
                p.merge(b.try_acquire_owned().unwrap());
            }),
        ),
    ];
    for (what, case) in cases {
        assert_eq!(panic_file(case), here, "{what}");
    }
}
