//! Measurements that need a fresh process per runtime: memory figures read RSS, and memory
//! one runtime freed would be reused by the next and flatter it. The parent re-runs its own
//! executable as `zbench __child JOB RUNTIME N`, which prints one number on stdout.

use crate::rt::{Runtime, Tokio, Zokio};
use crate::workloads::memory;
use std::io;
use std::path::Path;
use std::process::Command;

/// A measurement made in a child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Bytes per idle task with `n` tasks alive.
    IdleTaskMemory,
    /// Bytes per worker, comparing runtimes of 1 and `n` workers.
    PerWorkerMemory,
    /// `memory.io_driver`: bytes per driver instance.
    IoDriverMemory,
}

impl Job {
    /// The job's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Job::IdleTaskMemory => "idle-task-memory",
            Job::PerWorkerMemory => "per-worker-memory",
            Job::IoDriverMemory => "io-driver-memory",
        }
    }

    /// Parses a job name.
    pub fn parse(s: &str) -> Option<Job> {
        [
            Job::IdleTaskMemory,
            Job::PerWorkerMemory,
            Job::IoDriverMemory,
        ]
        .into_iter()
        .find(|j| j.name() == s)
    }
}

fn run_on<R: Runtime>(job: Job, n: usize) -> io::Result<f64> {
    match job {
        Job::IdleTaskMemory => {
            Ok(memory::idle_task_memory(&R::multi_thread(2), n)?.bytes_per_task())
        }
        Job::PerWorkerMemory => memory::per_worker_memory::<R>(n),
        Job::IoDriverMemory => memory::io_driver_memory::<R>(n),
    }
}

/// Runs `job` in this process on `runtime` (what the child does).
///
/// # Errors
/// Unknown runtime (`InvalidInput`), or the measurement's own I/O error.
pub fn run_here(job: Job, runtime: &str, n: usize) -> io::Result<f64> {
    match runtime {
        "zokio" => run_on::<Zokio>(job, n),
        "tokio" => run_on::<Tokio>(job, n),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown runtime {other:?}"),
        )),
    }
}

/// Runs `job` in a child process of `exe`, or in this process when `exe` is `None`.
///
/// # Errors
/// The child could not start, failed, or printed something that is not a number.
pub fn measure(exe: Option<&Path>, job: Job, runtime: &str, n: usize) -> io::Result<f64> {
    let Some(exe) = exe else {
        return run_here(job, runtime, n);
    };
    let out = Command::new(exe)
        .args(["__child", job.name(), runtime, &n.to_string()])
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "child `{} __child {} {runtime} {n}` failed ({}): {}",
            exe.display(),
            job.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .map_err(|_| io::Error::other(format!("child printed {text:?}, not a number")))
}
