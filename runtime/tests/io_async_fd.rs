//! `io::unix::AsyncFd` on every scheduler flavor and driver, over pipes: readiness guards,
//! `try_io` clearing stale readiness, `async_io` through a full pipe, `into_inner`, and the
//! descriptors it refuses.

#![cfg(not(loom))]

use futures::FutureExt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use zokio::io::unix::AsyncFd;
use zokio::io::{Interest, Ready};

mod support;
use support::flavors;

/// A non-blocking pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `pipe2` writes two descriptors into the array it is given.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Registers a descriptor this process owns.
fn register(fd: OwnedFd) -> AsyncFd<OwnedFd> {
    // SAFETY: an `OwnedFd` keeps its descriptor open and unchanged until dropped.
    unsafe { AsyncFd::register(fd) }.unwrap()
}

fn read_fd(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn write_fd(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes of reads.
    let n = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[test]
fn a_guard_reports_readiness_and_try_io_clears_it_on_would_block() {
    for rt in flavors() {
        rt.block_on(async {
            let (r, w) = pipe();
            // SAFETY: as in `register`.
            let r = unsafe { AsyncFd::register_with_interest(r, Interest::READABLE) }.unwrap();
            assert_eq!(r.interest(), Interest::READABLE);
            let w = register(w);
            assert!(w.writable().await.unwrap().ready().is_writable());
            // Nothing written yet: not readable.
            assert!(r.readable().now_or_never().is_none());
            assert_eq!(write_fd(w.get_ref(), b"hello").unwrap(), 5);
            let mut buf = [0; 16];
            let mut guard = r.readable().await.unwrap();
            assert!(guard.ready().is_readable());
            let n = guard
                .try_io(|fd| read_fd(fd.get_ref(), &mut buf))
                .expect("data was there")
                .unwrap();
            assert_eq!(&buf[..n], b"hello");
            // Empty now: the next attempt finds WouldBlock and clears the readiness.
            assert!(guard.try_io(|fd| read_fd(fd.get_ref(), &mut buf)).is_err());
            assert_eq!(guard.ready(), Ready::EMPTY);

            assert!(r.readable().now_or_never().is_none());
            // A new write is a new event.
            write_fd(w.get_ref(), b"!").unwrap();
            let n = r
                .async_io(Interest::READABLE, |fd| read_fd(fd, &mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"!");
            // try_io: the first attempt may still run on the readiness left by the last
            // read, finds WouldBlock and clears it; after that no attempt calls `f` until
            // an event, and then `f` gets the data.
            let calls = std::cell::Cell::new(0);
            let attempt = |buf: &mut [u8]| {
                r.try_io(Interest::READABLE, |fd| {
                    calls.set(calls.get() + 1);
                    read_fd(fd, buf)
                })
            };
            let e = attempt(&mut buf).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
            let after_clear = calls.get();
            assert_eq!(
                attempt(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            assert_eq!(calls.get(), after_clear, "try_io ran f without readiness");
            write_fd(w.get_ref(), b"?").unwrap();
            r.readable().await.unwrap().retain_ready();
            let n = attempt(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"?");
        });
    }
}

#[test]
fn async_io_moves_a_megabyte_through_a_full_pipe() {
    const TOTAL: usize = 1 << 20;
    for rt in flavors() {
        rt.block_on(async {
            let (r, w) = pipe();
            let mut r = register(r);
            let w = register(w);
            let writer = zokio::spawn(async move {
                let chunk: Vec<u8> = (0..8192u32).map(|i| (i % 251) as u8).collect();
                let mut sent = 0;
                while sent < TOTAL {
                    let at = sent % chunk.len();
                    let want = &chunk[at..at + (chunk.len() - at).min(TOTAL - sent)];
                    sent += w
                        .async_io(Interest::WRITABLE, |fd| write_fd(fd, want))
                        .await
                        .unwrap();
                }
                // Dropping `w` closes the write end: the reader sees end of file.
            });
            let mut got = 0usize;
            let mut buf = vec![0; 4096];
            loop {
                let n = r
                    .async_io_mut(Interest::READABLE, |fd| read_fd(fd, &mut buf))
                    .await
                    .unwrap();
                if n == 0 {
                    break;
                }
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, ((got + k) % 8192 % 251) as u8, "byte {}", got + k);
                }
                got += n;
            }
            writer.await.unwrap();
            assert_eq!(got, TOTAL);
        });
    }
}

#[test]
fn mutable_guards_and_clearing_part_of_the_readiness() {
    for rt in flavors() {
        rt.block_on(async {
            let (r, w) = pipe();
            let mut w = register(w);
            let mut guard = w.writable_mut().await.unwrap();
            assert!(guard.ready().is_writable());
            // Clearing the read side leaves the write readiness.
            guard.clear_ready_matching(Ready::READABLE);
            assert!(guard.ready().is_writable());
            let n = guard
                .try_io(|fd| write_fd(fd.get_ref(), b"x"))
                .unwrap()
                .unwrap();
            assert_eq!(n, 1);
            assert!(guard.get_inner_mut().as_raw_fd() >= 0);

            let mut one = [0; 1];
            assert_eq!(read_fd(&r, &mut one).unwrap(), 1);
        });
    }
}

#[test]
fn into_inner_deregisters_and_keeps_the_descriptor_open() {
    for rt in flavors() {
        rt.block_on(async {
            let (r, w) = pipe();
            let w = register(w);
            let w = w.into_inner();
            assert_eq!(write_fd(&w, b"ok").unwrap(), 2);
            let mut buf = [0; 2];
            assert_eq!(read_fd(&r, &mut buf).unwrap(), 2);
            // It can be registered again.
            let w = register(w);
            w.writable().await.unwrap();
        });
    }
}

#[test]
fn regular_files_and_calls_outside_a_runtime_are_refused() {
    let file = tempfile::tempfile().unwrap();
    for rt in flavors() {
        let file = file.try_clone().unwrap();
        rt.block_on(async move {
            // The deprecated constructor is still Tokio's.
            #[allow(deprecated)]
            let e = AsyncFd::new(file).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
            let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
            // SAFETY: the `File` owns its descriptor.
            let (dir, e) = unsafe { AsyncFd::register(dir) }.unwrap_err().into_parts();
            assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
            // The value came back open.
            dir.metadata().unwrap();
        });
    }
    let (r, _w) = pipe();
    // SAFETY: the `OwnedFd` owns its descriptor.
    let (r, e) = unsafe { AsyncFd::register(r) }.unwrap_err().into_parts();
    assert!(e.to_string().contains("runtime"), "{e}");
    assert!(r.as_raw_fd() >= 0);
}
