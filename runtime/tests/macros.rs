//! `#[zokio::main]` and `#[zokio::test]` expand to working runtimes of the asked flavor.

use zokio::runtime::{Handle, RuntimeFlavor};

#[zokio::test]
async fn test_defaults_to_current_thread() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    assert_eq!(zokio::spawn(async { 3 }).await.unwrap(), 3);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_multi_thread_with_workers() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 2);
}

#[zokio::test]
async fn test_may_return_result() -> Result<(), std::io::Error> {
    zokio::task::yield_now().await;
    Ok(())
}

#[zokio::main(flavor = "current_thread")]
async fn main_like_current() -> u32 {
    zokio::spawn(async { 20 }).await.unwrap() + 1
}

#[zokio::main(worker_threads = 1)]
async fn main_like_multi() -> RuntimeFlavor {
    Handle::current().runtime_flavor()
}

#[test]
fn main_macro_builds_runtime_and_returns_output() {
    assert_eq!(main_like_current(), 21);
    assert_eq!(main_like_multi(), RuntimeFlavor::MultiThread);
}

#[zokio::test(flavor = "multi_thread", worker_threads = 1, name = "named-by-macro")]
async fn test_names_the_runtime() {
    assert_eq!(
        zokio::runtime::Handle::current().name(),
        Some("named-by-macro")
    );
}

/// `Builder::name` names the runtime (not its threads); unnamed by default, as in Tokio.
#[test]
fn builder_names_the_runtime() {
    let unnamed = zokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(unnamed.handle().name(), None);
    let named = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .name("rt-a")
        .build()
        .unwrap();
    assert_eq!(named.handle().name(), Some("rt-a"));
    let thread = named
        .block_on(async {
            zokio::spawn(async { std::thread::current().name().map(str::to_owned) }).await
        })
        .unwrap();
    assert_eq!(thread.as_deref(), Some("zokio-worker"));
    for blank in ["", "  "] {
        let refused = std::panic::catch_unwind(|| {
            zokio::runtime::Builder::new_current_thread().name(blank);
        });
        assert!(refused.is_err(), "{blank:?} accepted");
    }
}
