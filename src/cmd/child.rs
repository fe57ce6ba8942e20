//! `zbench __child`: one measurement in a fresh process (memory figures), printed on
//! stdout for the parent run.

use crate::UsageError;
use anyhow::Result;

/// Runs child job `job` of size `n` on `runtime` with `workers` workers, zokio on `driver`.
pub(crate) fn child(
    job: &str,
    runtime: &str,
    n: usize,
    workers: usize,
    driver: zokio::runtime::IoDriver,
) -> Result<()> {
    let job = zbench_suite::child::Job::parse(job)
        .ok_or_else(|| UsageError(format!("unknown child job {job:?}")))?;
    println!(
        "{}",
        zbench_suite::child::run_here(job, runtime, n, workers, driver)?
    );
    Ok(())
}
