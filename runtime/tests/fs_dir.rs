//! `fs::OpenOptions`, the path and directory functions, `read_dir` and `DirBuilder` on
//! every scheduler flavor and driver.

#![cfg(not(loom))]

use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use zokio::fs::{self, DirBuilder, OpenOptions};
use zokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;
use support::flavors;

#[test]
fn open_options_follow_std() {
    for rt in flavors() {
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let p = dir.path().join("f");
            // create_new: once, then AlreadyExists.
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&p)
                .await
                .unwrap();
            f.write_all(b"hello").await.unwrap();
            f.flush().await.unwrap();
            drop(f);
            assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
            let again = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)
                .await;
            assert_eq!(again.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
            // append adds at the end.
            let mut f = OpenOptions::new().append(true).open(&p).await.unwrap();
            f.write_all(b" world").await.unwrap();
            f.flush().await.unwrap();
            drop(f);
            assert_eq!(std::fs::read(&p).unwrap(), b"hello world");
            // read + write without truncate keeps the contents; truncate empties.
            let mut f = fs::File::options()
                .read(true)
                .write(true)
                .open(&p)
                .await
                .unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).await.unwrap();
            assert_eq!(s, "hello world");
            drop(f);
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&p)
                .await
                .unwrap();
            assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
            // Missing file without create.
            let missing = OpenOptions::new()
                .read(true)
                .open(dir.path().join("nope"))
                .await;
            assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
            // Combinations std refuses, refused the same way on both drivers.
            for bad in [
                OpenOptions::new().clone(),
                OpenOptions::new().read(true).create(true).clone(),
                OpenOptions::new().read(true).truncate(true).clone(),
                OpenOptions::new().append(true).truncate(true).clone(),
            ] {
                let e = bad.open(&p).await.unwrap_err();
                assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {e}");
            }
            // custom_flags: O_NOFOLLOW refuses a symbolic link.
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&p, &link).unwrap();
            let e = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&link)
                .await
                .unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
            // From std's options.
            let mut std_options = std::fs::OpenOptions::new();
            std_options.read(true);
            let mut f = OpenOptions::from(std_options).open(&p).await.unwrap();
            let mut rest = Vec::new();
            f.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        });
    }
}

#[test]
fn directories_links_and_metadata() {
    for rt in flavors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        rt.block_on(async move {
            let a = root.join("a");
            fs::create_dir(&a).await.unwrap();
            let e = fs::create_dir(&a).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
            let e = fs::create_dir(root.join("x/y")).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
            fs::create_dir_all(root.join("x/y/z")).await.unwrap();
            fs::create_dir_all(root.join("x/y/z")).await.unwrap();
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(root.join("m/n"))
                .await
                .unwrap();
            assert_eq!(
                fs::metadata(root.join("m/n")).await.unwrap().mode() & 0o777,
                0o700
            );
            assert!(DirBuilder::new().create(root.join("p/q")).await.is_err());

            let f = a.join("f");
            fs::write(&f, b"data").await.unwrap();
            assert!(fs::try_exists(&f).await.unwrap());
            assert!(!fs::try_exists(root.join("none")).await.unwrap());
            assert_eq!(fs::metadata(&f).await.unwrap().len(), 4);
            assert_eq!(fs::copy(&f, root.join("copy")).await.unwrap(), 4);
            assert_eq!(fs::read(root.join("copy")).await.unwrap(), b"data");
            fs::hard_link(&f, root.join("hard")).await.unwrap();
            assert_eq!(fs::metadata(&f).await.unwrap().nlink(), 2);
            fs::symlink(&f, root.join("soft")).await.unwrap();
            assert_eq!(fs::read_link(root.join("soft")).await.unwrap(), f);
            assert!(fs::symlink_metadata(root.join("soft"))
                .await
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(
                fs::canonicalize(root.join("soft")).await.unwrap(),
                std::fs::canonicalize(&f).unwrap()
            );
            fs::rename(root.join("copy"), root.join("moved"))
                .await
                .unwrap();
            assert!(!fs::try_exists(root.join("copy")).await.unwrap());
            let mut perm = fs::metadata(&f).await.unwrap().permissions();
            perm.set_mode(0o640);
            fs::set_permissions(&f, perm).await.unwrap();
            assert_eq!(std::fs::metadata(&f).unwrap().mode() & 0o777, 0o640);

            let e = fs::remove_dir(&a).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::DirectoryNotEmpty);
            fs::remove_dir(root.join("x/y/z")).await.unwrap();
            fs::remove_dir_all(&a).await.unwrap();
            assert!(!fs::try_exists(&a).await.unwrap());
            let e = fs::remove_dir_all(&a).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
        });
    }
}

#[test]
fn read_dir_lists_every_entry_across_batches() {
    for rt in flavors() {
        let dir = tempfile::tempdir().unwrap();
        // More than two batches of 32, files and directories.
        let mut expected = BTreeSet::new();
        for i in 0..75usize {
            let name = format!("e{i:02}");
            if i.is_multiple_of(5) {
                std::fs::create_dir(dir.path().join(&name)).unwrap();
            } else {
                std::fs::write(dir.path().join(&name), [0u8; 3]).unwrap();
            }
            expected.insert(name);
        }
        let root = dir.path().to_owned();
        rt.block_on(async move {
            let mut entries = fs::read_dir(&root).await.unwrap();
            let mut seen = BTreeSet::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                let name = entry.file_name().into_string().unwrap();
                assert_eq!(entry.path(), root.join(&name));
                let i: usize = name[1..].parse().unwrap();
                let file_type = entry.file_type().await.unwrap();
                assert_eq!(file_type.is_dir(), i.is_multiple_of(5), "{name}");
                let meta = entry.metadata().await.unwrap();
                assert_eq!(meta.ino(), entry.ino());
                if !file_type.is_dir() {
                    assert_eq!(meta.len(), 3);
                }
                assert!(seen.insert(name), "listed twice");
            }
            assert_eq!(seen, expected);
            // Finished stays finished.
            assert!(entries.next_entry().await.unwrap().is_none());
            let e = fs::read_dir(root.join("missing")).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound);
            let e = fs::read_dir(root.join("e01")).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotADirectory);
        });
    }
}
