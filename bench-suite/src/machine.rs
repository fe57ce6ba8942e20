//! What zbench records about the machine and the run (see METHOD.md: CPU model, logical
//! cores, memory, kernel, io_uring availability, load average, build profile, git commit).

use std::fs;
use zbench_report::schema::{IoUringStatus, MachineInfo};

/// Reads the machine description from `/proc` and a probe of `io_uring_setup`. Fields that
/// cannot be read are recorded as `"unknown"` (or 0 / `None`), never guessed.
pub fn describe() -> MachineInfo {
    MachineInfo {
        cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
        logical_cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_bytes: mem_total().unwrap_or(0),
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into()),
        io_uring: io_uring_status(),
        load_average_1m: fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok())),
    }
}

fn cpu_model() -> Option<String> {
    let text = fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn mem_total() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Tries `io_uring_setup(2)` with one entry: the only reliable test (the sysctl, seccomp
/// profiles and container runtimes can each forbid it).
fn io_uring_status() -> IoUringStatus {
    let disabled = fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_owned())
        .ok();
    // struct io_uring_params is 120 bytes; zeroed means "no flags".
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup reads and writes `params` (valid, 120 bytes, the kernel's
    // struct size) and returns a new fd or -1; no other memory is touched.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 1u32, params.as_mut_ptr()) };
    let sysctl = disabled.map_or(String::new(), |d| format!(", kernel.io_uring_disabled={d}"));
    if fd >= 0 {
        // SAFETY: `fd` is the descriptor the kernel just returned to us.
        unsafe { libc::close(fd as libc::c_int) };
        IoUringStatus {
            available: true,
            detail: format!("io_uring_setup succeeded{sysctl}"),
        }
    } else {
        IoUringStatus {
            available: false,
            detail: format!(
                "io_uring_setup failed: {}{sysctl}",
                std::io::Error::last_os_error()
            ),
        }
    }
}

/// The type of the file system `path` is on (`ext4`, `tmpfs`, ...): that of the longest
/// mount point in `/proc/self/mountinfo` containing the path. `None` if the path or the
/// table cannot be read.
pub fn file_system(path: &std::path::Path) -> Option<String> {
    let path = fs::canonicalize(path).ok()?;
    let table = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mount_of(&table, &path).map(str::to_owned)
}

/// The file system type of the mount in `table` (mountinfo's format, see proc(5)) that
/// holds `path`: the last-listed of the longest mount points containing it (later mounts
/// hide earlier ones at the same point).
fn mount_of<'a>(table: &'a str, path: &std::path::Path) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for line in table.lines() {
        let mut fields = line.split(' ');
        let Some(point) = fields.nth(4) else { continue };
        // After the optional fields, a "-" and then the file system type.
        let Some(kind) = fields.skip_while(|f| *f != "-").nth(1) else {
            continue;
        };
        // Spaces, tabs, newlines and backslashes in mount points are octal escapes.
        let point = point
            .replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\012", "\n")
            .replace("\\134", "\\");
        let depth = std::path::Path::new(&point).components().count();
        if path.starts_with(&point) && best.is_none_or(|(d, _)| depth >= d) {
            best = Some((depth, kind));
        }
    }
    best.map(|(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn describes_this_machine() {
        let m = describe();
        assert!(m.logical_cores >= 1);
        assert!(m.memory_bytes > 0);
        assert_ne!(m.kernel, "unknown");
        assert!(!m.io_uring.detail.is_empty());
    }

    const TABLE: &str = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:26 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw
31 22 0:27 / /mnt/my\\040disk rw - xfs /dev/vdb rw
32 30 0:28 / /tmp rw - btrfs /dev/vdc rw";

    #[test]
    fn the_deepest_and_latest_mount_holding_the_path_wins() {
        assert_eq!(mount_of(TABLE, Path::new("/home/x")), Some("ext4"));
        assert_eq!(mount_of(TABLE, Path::new("/tmp/a/b")), Some("btrfs"));
        assert_eq!(mount_of(TABLE, Path::new("/mnt/my disk/f")), Some("xfs"));
        // A mount point is a whole component: /tmpfoo is not under /tmp.
        assert_eq!(mount_of(TABLE, Path::new("/tmpfoo")), Some("ext4"));
        assert_eq!(mount_of("garbage\n", Path::new("/")), None);
    }
}
