//! Where threads run: sets of CPUs (`sched_setaffinity(2)`), the split of a machine's CPUs
//! between a server under test and its load generator (`--pin`).

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use std::fmt;
use std::io;

/// A set of CPU ids (below `CPU_SETSIZE`, 1,024 on Linux), as `sched_setaffinity` takes it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cpus(CpuSet);

impl Cpus {
    /// The CPUs `ids`.
    ///
    /// # Panics
    /// If an id is `CPU_SETSIZE` or more.
    pub fn of(ids: &[usize]) -> Cpus {
        let mut set = CpuSet::new();
        for &id in ids {
            set.set(id).expect("CPU id below CPU_SETSIZE");
        }
        Cpus(set)
    }

    /// The CPUs the calling thread may run on (its affinity mask).
    ///
    /// # Errors
    /// If `sched_getaffinity` fails.
    pub fn of_current_thread() -> io::Result<Cpus> {
        sched_getaffinity(Pid::from_raw(0))
            .map(Cpus)
            .map_err(io::Error::from)
    }

    /// Restricts the calling thread to these CPUs.
    ///
    /// # Errors
    /// If the set is empty or holds no CPU the thread is allowed (`EINVAL`).
    pub fn pin_current_thread(&self) -> io::Result<()> {
        sched_setaffinity(Pid::from_raw(0), &self.0).map_err(io::Error::from)
    }

    /// The ids in the set, ascending.
    pub fn ids(&self) -> Vec<usize> {
        (0..CpuSet::count())
            .filter(|&i| self.0.is_set(i).unwrap_or(false))
            .collect()
    }

    /// How many CPUs the set holds.
    pub fn len(&self) -> usize {
        self.ids().len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kernel's CPU list format: `0-3,6`.
impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = self.ids();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < ids.len() {
            let mut j = i;
            while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
                j += 1;
            }
            parts.push(if i == j {
                ids[i].to_string()
            } else {
                format!("{}-{}", ids[i], ids[j])
            });
            i = j + 1;
        }
        f.write_str(&parts.join(","))
    }
}

impl fmt::Debug for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cpus({self})")
    }
}

/// How the network workloads place the server under test and the load generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Worker threads of the server's runtime.
    pub server_workers: usize,
    /// The CPUs every thread of the server's runtime is pinned to (`None`: not pinned).
    pub server_cpus: Option<Cpus>,
    /// Load-generator threads, each with its own event loop and share of the connections.
    pub generator_threads: usize,
    /// The CPUs the generator's threads are pinned to, one CPU each in turn (`None`: not
    /// pinned).
    pub generator_cpus: Option<Cpus>,
}

/// The network options of a run: `--client-threads` and `--pin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetOptions {
    /// Load-generator threads; `None`: as many as the run leaves free (the CPUs this
    /// process may use minus the server's workers), at least 1.
    pub client_threads: Option<usize>,
    /// Pin the server's threads and the generator's threads to disjoint CPUs.
    pub pin: bool,
}

impl NetOptions {
    /// The placement for a server of `workers` workers on the CPUs this process may use.
    ///
    /// Not pinned: `workers` server workers and `client_threads` (default: the CPUs left
    /// over, at least 1) generator threads, all placed by the kernel. Pinned: the last
    /// `client_threads` CPUs (default: those left over by `workers`, at least 1) go to the
    /// generator, and the server gets the others, at most `workers` of them, with one worker
    /// per CPU; on a 2-core machine that is 1 worker against 1 generator thread.
    ///
    /// # Errors
    /// `client_threads` of 0; with `pin`, fewer than 2 CPUs, or `client_threads` leaving
    /// none for the server.
    pub fn placement(&self, workers: usize) -> Result<Placement, String> {
        if self.client_threads == Some(0) {
            return Err("--client-threads must be at least 1".into());
        }
        let allowed = Cpus::of_current_thread()
            .map_err(|e| format!("cannot read this process's CPUs: {e}"))?
            .ids();
        let free = allowed.len().saturating_sub(workers).max(1);
        let threads = self.client_threads.unwrap_or(free);
        if !self.pin {
            return Ok(Placement {
                server_workers: workers,
                server_cpus: None,
                generator_threads: threads,
                generator_cpus: None,
            });
        }
        if allowed.len() < 2 {
            return Err(format!(
                "--pin needs at least 2 CPUs (one for the server, one for the load generator); this process may use {}",
                allowed.len()
            ));
        }
        if threads >= allowed.len() {
            return Err(format!(
                "--client-threads {threads} with --pin leaves none of this process's {} CPUs for the server",
                allowed.len()
            ));
        }
        let split = allowed.len() - threads;
        let server = &allowed[..split.min(workers)];
        Ok(Placement {
            server_workers: server.len(),
            server_cpus: Some(Cpus::of(server)),
            generator_threads: threads,
            generator_cpus: Some(Cpus::of(&allowed[split..])),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_print_as_the_kernel_prints_them() {
        assert_eq!(Cpus::of(&[0, 1, 2, 3, 6]).to_string(), "0-3,6");
        assert_eq!(Cpus::of(&[1]).to_string(), "1");
        assert_eq!(Cpus::of(&[]).to_string(), "");
        assert_eq!(Cpus::of(&[5, 2]).ids(), vec![2, 5]);
    }

    #[test]
    fn a_pinned_placement_splits_the_cpus_and_bad_values_are_refused() {
        let n = Cpus::of_current_thread().unwrap().len();
        let zero = NetOptions {
            client_threads: Some(0),
            pin: false,
        };
        assert!(zero.placement(2).is_err());
        let unpinned = NetOptions::default().placement(2).unwrap();
        assert_eq!(unpinned.server_workers, 2);
        assert_eq!(unpinned.generator_threads, n.saturating_sub(2).max(1));
        let pinned = NetOptions {
            client_threads: None,
            pin: true,
        };
        if n < 2 {
            assert!(pinned.placement(2).is_err());
            return;
        }
        let p = pinned.placement(2).unwrap();
        let (server, generator) = (p.server_cpus.unwrap(), p.generator_cpus.unwrap());
        assert!(server.ids().iter().all(|c| !generator.ids().contains(c)));
        assert_eq!(p.server_workers, server.len());
        assert!(p.server_workers >= 1 && p.server_workers <= 2);
        assert_eq!(p.generator_threads, generator.len());
        let greedy = NetOptions {
            client_threads: Some(n),
            pin: true,
        };
        assert!(greedy.placement(2).unwrap_err().contains("leaves none"));
    }

    #[test]
    fn a_thread_pinned_to_one_cpu_reports_that_cpu() {
        let first = Cpus::of_current_thread().unwrap().ids()[0];
        let seen = std::thread::Builder::new()
            .name("placement-test".into())
            .spawn(move || {
                Cpus::of(&[first]).pin_current_thread().unwrap();
                Cpus::of_current_thread().unwrap()
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(seen.ids(), vec![first]);
        assert_eq!(seen.to_string(), first.to_string());
        assert!(Cpus::of(&[]).pin_current_thread().is_err());
    }
}
