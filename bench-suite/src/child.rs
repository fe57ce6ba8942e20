//! Measurements that need a fresh process per runtime: memory figures read RSS, and memory
//! one runtime freed would be reused by the next and flatter it. The parent re-runs its own
//! executable as `zbench __child JOB RUNTIME N WORKERS DRIVER`, which prints one number on
//! stdout.

use crate::rt::{self, RunOptions, Runtime, Visitor};
use crate::workloads::memory;
use std::io;
use std::path::Path;
use std::process::Command;
use zokio::runtime::IoDriver;

/// A measurement made in a child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Bytes per idle task with `n` tasks alive.
    IdleTaskMemory,
    /// Bytes per task waiting on a oneshot channel of its own, `n` alive.
    OneshotTaskMemory,
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
            Job::OneshotTaskMemory => "oneshot-task-memory",
            Job::PerWorkerMemory => "per-worker-memory",
            Job::IoDriverMemory => "io-driver-memory",
        }
    }

    /// Parses a job name.
    pub fn parse(s: &str) -> Option<Job> {
        [
            Job::IdleTaskMemory,
            Job::OneshotTaskMemory,
            Job::PerWorkerMemory,
            Job::IoDriverMemory,
        ]
        .into_iter()
        .find(|j| j.name() == s)
    }
}

struct RunJob {
    job: Job,
    n: usize,
    workers: usize,
    options: RunOptions,
}

impl Visitor for RunJob {
    type Output = io::Result<f64>;

    fn visit<R: Runtime>(self) -> io::Result<f64> {
        match self.job {
            Job::IdleTaskMemory | Job::OneshotTaskMemory => {
                // A thread-per-core runtime's tasks live on one of its runtimes.
                let rt = if R::THREAD_PER_CORE {
                    R::current_thread_with(&self.options)
                } else {
                    R::multi_thread_with(self.workers, &self.options)
                };
                let measured = if self.job == Job::IdleTaskMemory {
                    memory::idle_task_memory(&rt, self.n)?
                } else {
                    memory::oneshot_waiter_memory(&rt, self.n)?
                };
                Ok(measured.bytes_per_task())
            }
            Job::PerWorkerMemory => memory::per_worker_memory::<R>(self.n),
            Job::IoDriverMemory => memory::io_driver_memory::<R>(self.n),
        }
    }
}

/// Runs `job` of size `n` in this process on `runtime`, with `workers` workers where the
/// job runs a multi-thread runtime and zokio on `driver` (what the child does).
///
/// # Errors
/// Unknown runtime (`InvalidInput`), or the measurement's own I/O error.
pub fn run_here(
    job: Job,
    runtime: &str,
    n: usize,
    workers: usize,
    driver: IoDriver,
) -> io::Result<f64> {
    let options = RunOptions {
        zokio_driver: driver,
        ..RunOptions::default()
    };
    let job = RunJob {
        job,
        n,
        workers,
        options,
    };
    rt::dispatch(runtime, job).unwrap_or_else(|| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown runtime {runtime:?}"),
        ))
    })
}

/// Runs `job` in a child process of `exe` (`zbench __child JOB RUNTIME N WORKERS DRIVER`),
/// or in this process when `exe` is `None`.
///
/// # Errors
/// The child could not start, failed, or printed something that is not a number.
pub fn measure(
    exe: Option<&Path>,
    job: Job,
    runtime: &str,
    n: usize,
    workers: usize,
    driver: IoDriver,
) -> io::Result<f64> {
    let Some(exe) = exe else {
        return run_here(job, runtime, n, workers, driver);
    };
    let args = [
        "__child".to_owned(),
        job.name().to_owned(),
        runtime.to_owned(),
        n.to_string(),
        workers.to_string(),
        driver.name().to_owned(),
    ];
    let out = Command::new(exe).args(&args).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "child `{} {}` failed ({}): {}",
            exe.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .map_err(|_| io::Error::other(format!("child printed {text:?}, not a number")))
}
