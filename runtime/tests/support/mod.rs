//! Shared by the integration tests: `rt_test!` runs each test body on the current-thread
//! flavor and on the multi-thread flavor with 1 and 2 workers (after Tokio's
//! `tests/rt_common.rs`), on the default I/O driver (io_uring where the kernel allows it),
//! and again on the current-thread and 2-worker flavors with the epoll driver. The
//! including file must import `Builder` and `Runtime`. Also `flag_waker`, for polling
//! futures by hand, and `flavors`/`drivers` for tests that loop over runtimes.

#[allow(unused_macros)] // not every test file that includes this module uses it
macro_rules! rt_test {
    ($($body:tt)*) => {
        mod current_thread {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_current_thread().build().unwrap()
            }
            $($body)*
        }
        mod multi_thread_1 {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_multi_thread().worker_threads(1).build().unwrap()
            }
            $($body)*
        }
        mod multi_thread_2 {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_multi_thread().worker_threads(2).build().unwrap()
            }
            $($body)*
        }
        mod current_thread_epoll {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_current_thread()
                    .io_driver(zokio::runtime::IoDriver::Epoll)
                    .build()
                    .unwrap()
            }
            $($body)*
        }
        mod multi_thread_2_epoll {
            #[allow(unused_imports)]
            use super::*;
            fn rt() -> Runtime {
                Builder::new_multi_thread()
                    .worker_threads(2)
                    .io_driver(zokio::runtime::IoDriver::Epoll)
                    .build()
                    .unwrap()
            }
            $($body)*
        }
    };
}

/// A waker that raises the returned flag when woken, for tests that poll futures by hand
/// and must see that a wake-up was (or was not) passed on.
#[allow(dead_code)] // not every test file that includes this module polls by hand
pub fn flag_waker() -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::task::Waker,
) {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;
    struct Flag(Arc<AtomicBool>);
    impl std::task::Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, SeqCst);
        }
    }
    let flag = Arc::new(AtomicBool::new(false));
    (flag.clone(), std::task::Waker::from(Arc::new(Flag(flag))))
}

/// The I/O drivers to test on: io_uring and epoll, or only epoll (with a note on stderr)
/// where the kernel refuses io_uring (seccomp, `kernel.io_uring_disabled`, old kernels).
/// `ZOKIO_TEST_DRIVERS=epoll` (or `io_uring`) restricts the list: `scripts/leak-check.sh`
/// runs valgrind on epoll only, since valgrind cannot see the kernel write a ring
/// operation's buffer and reports its bytes as uninitialised.
#[allow(dead_code)] // not every test file that includes this module loops over drivers
pub fn drivers() -> Vec<zokio::runtime::IoDriver> {
    use zokio::runtime::{Builder, IoDriver};
    let mut all = match Builder::new_current_thread()
        .io_driver(IoDriver::IoUring)
        .build()
    {
        Ok(_) => vec![IoDriver::IoUring, IoDriver::Epoll],
        Err(e) => {
            eprintln!("io_uring unavailable here ({e}): testing the epoll driver only");
            vec![IoDriver::Epoll]
        }
    };
    if let Ok(only) = std::env::var("ZOKIO_TEST_DRIVERS") {
        let keep: Vec<IoDriver> = only.split(',').filter_map(IoDriver::from_name).collect();
        all.retain(|d| keep.contains(d));
    }
    all
}

/// One runtime of each flavor (current-thread; multi-thread with 2 workers) on each driver
/// of [`drivers`], for tests that loop over runtimes inside one test rather than use
/// `rt_test!`.
#[allow(dead_code)] // not every test file that includes this module loops over flavors
pub fn flavors() -> Vec<zokio::runtime::Runtime> {
    use zokio::runtime::Builder;
    drivers()
        .into_iter()
        .flat_map(|d| {
            [
                Builder::new_current_thread().io_driver(d).build().unwrap(),
                Builder::new_multi_thread()
                    .worker_threads(2)
                    .io_driver(d)
                    .build()
                    .unwrap(),
            ]
        })
        .collect()
}

/// The text of a panic payload (`&str` or `String`; empty for anything else).
#[allow(dead_code)] // not every test file that includes this module catches panics
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `f`, which must panic, and returns the panic's text.
///
/// # Panics
/// If `f` returns.
#[allow(dead_code)] // as `panic_text`
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    panic_text(&*payload)
}

/// A TCP round trip through a listener on 127.0.0.1, served by a spawned task: 5 bytes
/// written, read back and compared.
#[allow(dead_code)] // not every test file that includes this module does network I/O
pub async fn echo_once() {
    use zokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = zokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        s.write_all(&buf).await.unwrap();
    });
    let mut c = zokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(b"hello").await.unwrap();
    let mut back = [0u8; 5];
    c.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hello");
    server.await.unwrap();
}

/// Runs the ignored test `name` of this test binary in a child process with `env` set,
/// and panics (with its output) unless it ran and passed: for a test that must change the
/// whole process (a seccomp filter, say), which the parent test stays out of.
#[allow(dead_code)] // not every test file that includes this module runs a child
pub fn run_ignored_in_child(name: &str, env: (&str, &str)) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env.0, env.1)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} with {env:?}: the child failed:\n{text}"
    );
    // It ran (a filter that matched no test would pass too).
    assert!(
        text.contains("1 passed"),
        "{name} with {env:?}: the child ran nothing:\n{text}"
    );
}
