//! Makes io_uring unavailable to a process the way kernels and container runtimes do: a
//! seccomp filter fails `io_uring_setup`, `io_uring_enter` and `io_uring_register` with
//! `ENOSYS` (a kernel built without io_uring, or older than 5.1) or `EPERM`
//! (`kernel.io_uring_disabled=2`, or a container runtime's seccomp profile). The filter is
//! built with `seccompiler` (rust-vmm) and, once in force, holds for every thread of the
//! process, the threads it starts later, and the programs it executes.

use std::collections::BTreeMap;
use std::io;

/// Why io_uring is unavailable: the errno its system calls fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Denial {
    /// `ENOSYS`: the kernel has no io_uring.
    Enosys,
    /// `EPERM`: io_uring is disabled by policy.
    Eperm,
}

impl Denial {
    /// The errno the io_uring system calls fail with.
    pub fn errno(self) -> i32 {
        match self {
            Denial::Enosys => libc::ENOSYS,
            Denial::Eperm => libc::EPERM,
        }
    }

    /// The denial named `"ENOSYS"` or `"EPERM"` (any case; the command line's names).
    pub fn from_name(name: &str) -> Option<Denial> {
        <Denial as clap::ValueEnum>::from_str(name, true).ok()
    }
}

/// Puts the filter in force for every thread of the calling process (and sets
/// `no_new_privs`, which an unprivileged filter requires). It cannot be lifted.
///
/// # Errors
/// If the filter cannot be built for this architecture or the kernel refuses it (no
/// seccomp, or a thread that cannot be synchronised).
pub fn deny_io_uring(denial: Denial) -> io::Result<()> {
    deny_syscalls(
        &[
            libc::SYS_io_uring_setup,
            libc::SYS_io_uring_enter,
            libc::SYS_io_uring_register,
        ],
        denial,
    )
}

/// As [`deny_io_uring`], for any system calls (by number, `libc::SYS_*`): each fails with
/// `denial`'s errno (`pidfd_open` with `ENOSYS` stands for a kernel older than 5.3).
///
/// # Errors
/// As [`deny_io_uring`].
pub fn deny_syscalls(syscalls: &[i64], denial: Denial) -> io::Result<()> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
        syscalls.iter().map(|&nr| (nr, Vec::new())).collect();
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| io::Error::new(io::ErrorKind::Unsupported, format!("seccomp: {e}")))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(denial.errno() as u32),
        arch,
    )
    .map_err(|e| io::Error::other(format!("seccomp filter: {e}")))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e| io::Error::other(format!("seccomp filter: {e}")))?;
    seccompiler::apply_filter_all_threads(&program)
        .map_err(|e| io::Error::other(format!("seccomp: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_parsed_in_any_case() {
        assert_eq!(Denial::from_name("ENOSYS"), Some(Denial::Enosys));
        assert_eq!(Denial::from_name("eperm"), Some(Denial::Eperm));
        assert_eq!(Denial::from_name("EAGAIN"), None);
    }
}
