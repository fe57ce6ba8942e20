//! On a kernel without io_uring (`ENOSYS`) or with it disabled by policy (`EPERM`: the
//! `kernel.io_uring_disabled` sysctl, or a container runtime's seccomp profile), a default
//! runtime falls back to epoll and serves sockets, files and timers, its metrics say
//! `epoll`, and asking for io_uring explicitly fails `build()` with an error that names
//! io_uring and the likely cause, as does asking for io_uring ring options (SQPOLL, ring
//! sizes) with the default driver. Checked in a child process (this test binary again)
//! whose seccomp filter makes every io_uring system call fail with that error.

#![cfg(not(loom))]

use zokio::runtime::{Builder, IoDriver};

mod support;

/// Set in the child: the errno its io_uring calls fail with (`ENOSYS` or `EPERM`).
const CHILD: &str = "ZOKIO_TEST_IO_URING_DENIED";

#[test]
fn without_io_uring_a_default_runtime_serves_on_epoll_and_io_uring_names_the_cause() {
    for errno in ["ENOSYS", "EPERM"] {
        support::run_ignored_in_child("child_with_io_uring_denied", (CHILD, errno));
    }
}

#[test]
#[ignore = "run by the test above, in a child process under a seccomp filter"]
fn child_with_io_uring_denied() {
    let var = std::env::var(CHILD);
    let Some(denial) = var.as_deref().ok().and_then(no_io_uring::Denial::from_name) else {
        panic!("run by the test above with {CHILD} set, not {var:?}");
    };
    no_io_uring::deny_io_uring(denial).unwrap();
    let errno = denial.errno();
    let mut params = [0u8; 120]; // struct io_uring_params
                                 // SAFETY: the kernel (here, the filter) writes at most the params struct.
    let r = unsafe { libc::syscall(libc::SYS_io_uring_setup, 8, params.as_mut_ptr()) };
    let seen = std::io::Error::last_os_error().raw_os_error();
    assert_eq!((r, seen), (-1, Some(errno)), "the filter is not in force");

    let dir = std::env::temp_dir().join(format!("zokio-io-uring-denied-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for workers in [None, Some(2)] {
        let builder = || match workers {
            None => Builder::new_current_thread(),
            Some(n) => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        };
        let case = format!("{errno}, workers {workers:?}");
        let rt = builder()
            .build()
            .unwrap_or_else(|e| panic!("{case}: no fallback: {e}"));
        assert_eq!(rt.metrics().io_driver(), IoDriver::Epoll, "{case}");
        let path = dir.join(format!("{workers:?}"));
        rt.block_on(async {
            support::echo_once().await;
            zokio::fs::write(&path, b"on epoll").await.unwrap();
            assert_eq!(zokio::fs::read(&path).await.unwrap(), b"on epoll");
            zokio::time::sleep(std::time::Duration::from_millis(1)).await;
        });
        let err = builder()
            .io_driver(IoDriver::IoUring)
            .build()
            .map(drop)
            .expect_err("io_uring was asked for explicitly")
            .to_string();
        assert!(err.contains("io_uring"), "{case}: {err}");
        let cause: &[&str] = if errno == libc::ENOSYS {
            &["no io_uring"]
        } else {
            &["kernel.io_uring_disabled", "seccomp"]
        };
        for c in cause {
            assert!(err.contains(c), "{case}: {err:?} does not say {c:?}");
        }
        // Ring options need io_uring: no silent fallback to epoll, and the error names
        // the option and the cause.
        let err = builder()
            .io_uring_sqpoll(std::time::Duration::from_millis(10))
            .build()
            .map(drop)
            .expect_err("SQPOLL without io_uring")
            .to_string();
        assert!(err.contains("io_uring_sqpoll"), "{case}: {err}");
        for c in cause {
            assert!(err.contains(c), "{case}: {err:?} does not say {c:?}");
        }
        let err = builder()
            .io_uring_entries(256, 1024)
            .build()
            .map(drop)
            .expect_err("ring sizes without io_uring")
            .to_string();
        assert!(err.contains("io_uring"), "{case}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
