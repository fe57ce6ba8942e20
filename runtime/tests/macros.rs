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
