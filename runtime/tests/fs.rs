//! Files on both scheduler flavors: sizes 0 to 64 MiB written, synced and read back,
//! verified byte for byte; positional and cursor I/O; errors.

#![cfg(not(loom))]

use std::io;
use zokio::fs::{self, File};
use zokio::runtime::Builder;

mod support;
use support::flavors;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + i / 4093) as u8).collect()
}

/// FNV-1a: a checksum to compare without holding two copies of 64 MiB in the messages.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn write_sync_read_back_from_0_bytes_to_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    for (k, rt) in flavors().into_iter().enumerate() {
        let dir = dir.path().to_owned();
        rt.block_on(async move {
            for len in [0, 1, 4096, 1 << 20, 64 << 20] {
                let path = dir.join(format!("f{k}-{len}"));
                let data = pattern(len);
                let sum = fnv(&data);
                let mut f = File::create(&path).await.unwrap();
                let (r, _) = f.write_all_owned(data).await;
                r.unwrap();
                f.sync_all().await.unwrap();
                assert_eq!(f.metadata().await.unwrap().len(), len as u64);
                // Read back in 1 MiB pieces through the cursor.
                let mut f = File::open(&path).await.unwrap();
                let mut all = Vec::with_capacity(len);
                loop {
                    let (r, buf) = f.read_owned(Vec::with_capacity(1 << 20)).await;
                    let n = r.unwrap();
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&buf);
                }
                assert_eq!((all.len(), fnv(&all)), (len, sum), "{len} bytes differ");
                // And whole, through fs::read.
                let whole = fs::read(&path).await.unwrap();
                assert_eq!((whole.len(), fnv(&whole)), (len, sum));
                fs::remove_file(&path).await.unwrap();
            }
        });
    }
}

#[test]
fn positional_io_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos");
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async move {
        fs::write(&path, b"hello world".to_vec()).await.unwrap();
        let f = File::open(&path).await.unwrap();
        let (r, buf) = f.read_at(Vec::with_capacity(5), 6).await;
        assert_eq!((r.unwrap(), &buf[..]), (5, &b"world"[..]));
        // A buffer with contents is appended to.
        let mut prefixed = Vec::with_capacity(5);
        prefixed.push(b'>');
        let (r, buf) = f.read_at(prefixed, 0).await;
        assert_eq!((r.unwrap(), &buf[..]), (4, &b">hell"[..]));
        // Reading past the end is end of file.
        let (r, _) = f.read_at(Vec::with_capacity(8), 100).await;
        assert_eq!(r.unwrap(), 0);
        // Writing to a read-only file fails with the OS error.
        let (r, _) = f.write_at(b"x".to_vec(), 0).await;
        assert!(r.is_err());
        let w = File::create(dir.path().join("w")).await.unwrap();
        let (r, _) = w.write_at(b"abc".to_vec(), 3).await;
        assert_eq!(r.unwrap(), 3);
        assert_eq!(fs::read(dir.path().join("w")).await.unwrap(), b"\0\0\0abc");
        let err = File::open(dir.path().join("missing")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = fs::remove_file(dir.path().join("missing"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}

/// Tokio's `AsyncRead`, `AsyncWrite` and `AsyncSeek` on `File` share one position with
/// the cursor operations, on both flavors and drivers: writes larger than the internal
/// buffer, seeks from each end, a write after read-ahead (which must land at the logical
/// position, not after what was read ahead), end of file, and a write error reported by
/// `flush`.
#[test]
fn tokio_io_traits_share_the_files_position() {
    use zokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    for (k, rt) in flavors().into_iter().enumerate() {
        let path = dir.path().join(format!("rw{k}"));
        rt.block_on(async move {
            let std = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .unwrap();
            let mut f = File::from_std(std);
            let data = pattern(3 << 20); // more than the 2 MiB internal buffer
            f.write_all(&data).await.unwrap();
            f.flush().await.unwrap();
            assert_eq!(f.stream_position().await.unwrap(), data.len() as u64);
            f.rewind().await.unwrap();
            let mut back = Vec::new();
            assert_eq!(f.read_to_end(&mut back).await.unwrap(), data.len());
            assert!(back == data, "read back differs");
            assert_eq!(f.read(&mut [0; 8]).await.unwrap(), 0, "past the end");
            // A small read reads ahead; the write after it lands where the read ended.
            f.set_max_buf_size(4096);
            f.seek(io::SeekFrom::Start(10)).await.unwrap();
            let mut five = [0; 5];
            f.read_exact(&mut five).await.unwrap();
            assert_eq!(five, data[10..15]);
            assert_eq!(f.stream_position().await.unwrap(), 15);
            f.write_all(b"XYZ").await.unwrap();
            f.flush().await.unwrap();
            // The cursor operations continue from the same position.
            let (r, buf) = f.read_owned(Vec::with_capacity(2)).await;
            assert_eq!((r.unwrap(), &buf[..]), (2, &data[18..20]));
            let tail = f.seek(io::SeekFrom::End(-3)).await.unwrap();
            assert_eq!(tail, data.len() as u64 - 3);
            let mut last = Vec::new();
            f.read_to_end(&mut last).await.unwrap();
            assert_eq!(last, data[data.len() - 3..]);
            let err = f.seek(io::SeekFrom::Current(-(1 << 40))).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            let mut expected = data.clone();
            expected[15..18].copy_from_slice(b"XYZ");
            assert!(fs::read(&path).await.unwrap() == expected);
            // One operation moves at most max_buf_size bytes; vectored writes gather.
            f.rewind().await.unwrap();
            f.set_max_buf_size(1);
            assert_eq!(f.read(&mut [0; 64]).await.unwrap(), 1);
            f.set_max_buf_size(4);
            let slices = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cdef")];
            assert_eq!(f.write_vectored(&slices).await.unwrap(), 4);
            f.flush().await.unwrap();
            let mut four = [0; 4];
            f.seek(io::SeekFrom::Start(1)).await.unwrap();
            f.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"abcd");
            expected[1..5].copy_from_slice(b"abcd");
            assert!(fs::read(&path).await.unwrap() == expected);
            // Lines through Tokio's BufReader.
            fs::write(&path, "one\ntwo\n").await.unwrap();
            let mut lines = BufReader::new(File::open(&path).await.unwrap()).lines();
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
            assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
            assert_eq!(lines.next_line().await.unwrap(), None);
            assert_eq!(fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
            // A write to a read-only file is accepted into the buffer; flush reports it.
            let mut ro = File::open(&path).await.unwrap();
            assert_eq!(ro.write(b"no").await.unwrap(), 2);
            assert!(
                ro.flush().await.is_err(),
                "the failed write went unreported"
            );
            // A clone and into_std both start where the reader stopped, not past its
            // read-ahead.
            let mut f = File::open(&path).await.unwrap();
            f.set_max_buf_size(128);
            let mut three = [0; 3];
            f.read_exact(&mut three).await.unwrap();
            let mut clone = f.try_clone().await.unwrap();
            // The clone keeps the buffer size too.
            assert_eq!(clone.max_buf_size(), 128);
            let mut from_clone = String::new();
            clone.read_to_string(&mut from_clone).await.unwrap();
            assert_eq!(from_clone, "\ntwo\n");
            let mut std = f.into_std().await;
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut std, &mut rest).unwrap();
            assert_eq!(rest, "\ntwo\n");
        });
    }
}

/// File operations from a thread that does not drive a current-thread runtime (in
/// `Handle::block_on`, or on the blocking pool) complete even though nobody is reaping
/// the runtime's ring: they take the blocking pool. Before, on io_uring, they waited
/// forever for a completion nobody reaped.
#[test]
fn file_operations_outside_a_current_thread_runtimes_driver_complete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, b"contents").unwrap();
    for driver in support::drivers() {
        let path = path.clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = zokio::runtime::Builder::new_current_thread()
                .io_driver(driver)
                .build()
                .unwrap();
            let _enter = rt.enter();
            let handle = zokio::runtime::Handle::current();
            let read = handle.block_on(zokio::fs::read(&path)).unwrap();
            let written = handle.block_on(zokio::fs::write(path.with_extension("copy"), &read));
            let _ = done.send((read, written.is_ok()));
        });
        // Bounded: a hang fails the test instead of stalling the run.
        let (read, written) = finished
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{driver:?}: a file operation never completed"));
        assert_eq!(read, b"contents");
        assert!(written);
    }
}

#[test]
fn set_modified_and_set_times_change_the_file_times() {
    use std::time::{Duration, SystemTime};
    let dir = tempfile::tempdir().unwrap();
    for (k, rt) in flavors().into_iter().enumerate() {
        let path = dir.path().join(format!("times-{k}"));
        rt.block_on(async {
            let file = File::create(&path).await.unwrap();
            let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
            file.set_modified(modified).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().modified().unwrap(), modified);
            let accessed = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000);
            let times = std::fs::FileTimes::new().set_accessed(accessed);
            file.set_times(times).await.unwrap();
            let meta = fs::metadata(&path).await.unwrap();
            assert_eq!(meta.accessed().unwrap(), accessed);
            assert_eq!(meta.modified().unwrap(), modified, "left as it was");
        });
    }
}
