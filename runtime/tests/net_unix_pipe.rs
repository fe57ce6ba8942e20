//! `net::unix::pipe` on every scheduler flavor and driver: anonymous pipes, FIFOs opened
//! in either order, the checks on what is opened or wrapped, the readiness API, and the
//! end of a pipe seen from each side.

#![cfg(not(loom))]

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use zokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::unix::pipe;

mod support;
use support::flavors;

fn mkfifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "{}",
        io::Error::last_os_error()
    );
    path
}

fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: `F_GETFL` takes no pointers.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags & libc::O_NONBLOCK != 0
}

#[test]
fn an_anonymous_pipe_carries_a_megabyte_and_ends() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut tx, mut rx) = pipe::pipe().unwrap();
            let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 247) as u8).collect();
            let expected = data.clone();
            let writer = zokio::spawn(async move {
                tx.write_all(&data).await.unwrap();
                // Dropped: the receiver reads end of file.
            });
            let mut got = Vec::new();
            rx.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert!(got == expected, "{} bytes", got.len());

            // A sender whose receiver is gone: BrokenPipe.
            let (mut tx, rx) = pipe::pipe().unwrap();
            drop(rx);
            let e = tx.write_all(b"x").await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        });
    }
}

#[test]
fn fifos_open_in_either_order_and_are_checked() {
    for rt in flavors() {
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let fifo = mkfifo(dir.path(), "f");
            // A write-only sender needs a reader: ENXIO; read-write opens anyway.
            let e = pipe::OpenOptions::new().open_sender(&fifo).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::ENXIO));
            let mut rw = pipe::OpenOptions::new()
                .read_write(true)
                .open_sender(&fifo)
                .unwrap();
            let mut rx = pipe::OpenOptions::new().open_receiver(&fifo).unwrap();
            let mut tx = pipe::OpenOptions::new().open_sender(&fifo).unwrap();
            tx.write_all(b"one ").await.unwrap();
            rw.write_all(b"two").await.unwrap();
            let mut seven = [0; 7];
            rx.read_exact(&mut seven).await.unwrap();
            assert_eq!(&seven, b"one two");

            // try_read / try_write and readiness.
            assert_eq!(
                rx.try_read(&mut [0; 4]).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            tx.writable().await.unwrap();
            assert_eq!(tx.try_write(b"abc").unwrap(), 3);
            rx.readable().await.unwrap();
            let mut buf = [0; 8];
            assert_eq!(rx.try_read(&mut buf).unwrap(), 3);
            assert_eq!(&buf[..3], b"abc");

            // Not a FIFO: refused unless unchecked (then refused by the driver: a
            // regular file cannot be waited on).
            let file = dir.path().join("plain");
            std::fs::write(&file, b"").unwrap();
            let e = pipe::OpenOptions::new().open_receiver(&file).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(pipe::OpenOptions::new()
                .unchecked(true)
                .open_receiver(&file)
                .is_err());

            // Wrapping: the direction is checked, and the end made non-blocking.
            let wrong = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let e = pipe::Receiver::from_file(wrong).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            let read_only = std::fs::OpenOptions::new().read(true).open(&fifo).unwrap();
            assert!(!is_nonblocking(&read_only));
            let wrapped = pipe::Receiver::from_file(read_only).unwrap();
            assert!(is_nonblocking(&wrapped));
            let fd = wrapped.into_blocking_fd().unwrap();
            assert!(!is_nonblocking(&fd));
            let e = pipe::Sender::from_file(std::fs::File::open(&file).unwrap()).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        });
    }
}
