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
