//! Where a runtime's threads run: [`WorkerAffinity`] for the multi-thread flavor's workers,
//! a CPU set for the blocking pool (`Builder::blocking_affinity`), both applied with
//! `sched_setaffinity(2)` by each thread as it starts.
//!
//! The CPUs asked for are checked when the runtime is built, against the CPUs the building
//! thread may run on (`sched_getaffinity(2)`: the process's cpuset, `taskset`, a container's
//! limit). A worker pins itself before it runs its start hook, so a hook sees (and may
//! change) the placement. Each worker's CPU is kept in its metrics
//! ([`RuntimeMetrics::worker_cpu`](crate::runtime::RuntimeMetrics::worker_cpu)) once the
//! worker has pinned itself.
//!
//! Memory placement (first touch: on a machine with several NUMA nodes a page lands on the
//! node of the thread that first writes it): a worker's run queue and timer wheel are
//! allocated when the runtime is built, by the building thread, so they land on its node,
//! not necessarily the worker's; a worker's io_uring ring is set up by the first thread
//! that does I/O on that worker's poller, usually the pinned worker itself.

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use std::io;
use std::sync::Arc;

/// Where the worker threads of a multi-thread runtime run
/// ([`Builder::worker_affinity`](crate::runtime::Builder::worker_affinity)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WorkerAffinity {
    /// Wherever the kernel schedules them (the default).
    #[default]
    Unpinned,
    /// Worker *i* on the *i*-th CPU the building thread may run on, in ascending order;
    /// with more workers than CPUs, worker *i* shares the CPU of worker *i* − *CPUs*.
    OneCoreEach,
    /// Worker *i* on CPU `cpus[i % cpus.len()]`.
    Cpus(Vec<usize>),
}

/// The CPUs the calling thread may run on, ascending.
///
/// # Errors
/// If `sched_getaffinity` fails.
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(Pid::from_raw(0)).map_err(io::Error::from)?;
    Ok((0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect())
}

/// Restricts the calling thread to `cpus`.
///
/// # Errors
/// If a CPU id is `CPU_SETSIZE` or more, or the kernel refuses the set (`EINVAL`: none of
/// them allowed).
pub(crate) fn pin_current_thread(cpus: &[usize]) -> io::Result<()> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).map_err(io::Error::from)?;
    }
    sched_setaffinity(Pid::from_raw(0), &set).map_err(io::Error::from)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Checks that `cpus` is not empty and that the building thread may run on each of them.
fn check(what: &str, cpus: &[usize], allowed: &[usize]) -> io::Result<()> {
    if cpus.is_empty() {
        return Err(invalid(format!("{what}: the CPU set is empty")));
    }
    match cpus.iter().find(|cpu| !allowed.contains(cpu)) {
        Some(cpu) => Err(invalid(format!(
            "{what}: CPU {cpu} is not one this process may run on ({allowed:?}, from sched_getaffinity)"
        ))),
        None => Ok(()),
    }
}

impl WorkerAffinity {
    /// The CPU of each of `workers` workers (`None`: unpinned), checked against the CPUs
    /// the calling thread may run on.
    ///
    /// # Errors
    /// `InvalidInput` for an empty set or a CPU the process may not run on; the error of
    /// `sched_getaffinity`.
    pub(crate) fn resolve(&self, workers: usize) -> io::Result<Option<Arc<[usize]>>> {
        let cpus = match self {
            WorkerAffinity::Unpinned => return Ok(None),
            WorkerAffinity::OneCoreEach => allowed_cpus()?,
            WorkerAffinity::Cpus(cpus) => {
                check("worker_affinity", cpus, &allowed_cpus()?)?;
                cpus.clone()
            }
        };
        if cpus.is_empty() {
            return Err(invalid(
                "worker_affinity: this process may run on no CPU".to_owned(),
            ));
        }
        Ok(Some((0..workers).map(|i| cpus[i % cpus.len()]).collect()))
    }
}

/// The blocking pool's CPU set, checked as [`WorkerAffinity::resolve`] checks a worker's.
///
/// # Errors
/// As [`WorkerAffinity::resolve`].
pub(crate) fn resolve_blocking(cpus: Option<&[usize]>) -> io::Result<Option<Arc<[usize]>>> {
    let Some(cpus) = cpus else {
        return Ok(None);
    };
    check("blocking_affinity", cpus, &allowed_cpus()?)?;
    let mut cpus = cpus.to_vec();
    cpus.sort_unstable();
    cpus.dedup();
    Ok(Some(cpus.into()))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn workers_take_the_allowed_cpus_in_order_and_wrap() {
        let allowed = allowed_cpus().unwrap();
        assert!(!allowed.is_empty());
        let n = allowed.len() + 1;
        let cpus = WorkerAffinity::OneCoreEach.resolve(n).unwrap().unwrap();
        assert_eq!(&cpus[..allowed.len()], &allowed[..]);
        assert_eq!(cpus[allowed.len()], allowed[0]);
        let one = vec![allowed[allowed.len() - 1]];
        let cpus = WorkerAffinity::Cpus(one.clone())
            .resolve(3)
            .unwrap()
            .unwrap();
        assert_eq!(&cpus[..], &[one[0]; 3]);
        assert_eq!(WorkerAffinity::Unpinned.resolve(3).unwrap(), None);
    }

    #[test]
    fn empty_and_forbidden_sets_are_refused_with_the_reason() {
        let err = WorkerAffinity::Cpus(Vec::new()).resolve(2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("empty"), "{err}");
        let forbidden = CpuSet::count() - 1;
        let err = WorkerAffinity::Cpus(vec![forbidden])
            .resolve(2)
            .unwrap_err();
        assert!(
            err.to_string().contains(&format!("CPU {forbidden} ")),
            "{err}"
        );
        let err = resolve_blocking(Some(&[])).unwrap_err();
        assert!(err.to_string().starts_with("blocking_affinity"), "{err}");
        assert_eq!(resolve_blocking(None).unwrap(), None);
    }
}
