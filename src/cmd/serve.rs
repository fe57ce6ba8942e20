//! `zbench serve`: the server half of a network workload, for a load from another host.

use crate::UsageError;
use anyhow::Result;
use std::net::SocketAddr;
use std::time::Duration;

/// Serves `workload` on `runtime` at `listen` for `duration`, then exits.
pub(crate) fn serve(
    workload: &str,
    runtime: &str,
    listen: SocketAddr,
    workers: u16,
    duration: Duration,
) -> Result<()> {
    zbench_stress::net::remote::serve(
        workload,
        runtime,
        listen,
        usize::from(workers),
        duration,
        |addr| {
            println!(
                "zbench serve: {workload} on {runtime} listening on {addr} for {}",
                humantime::format_duration(duration)
            )
        },
    )
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => UsageError(e.to_string()).into(),
        _ => anyhow::Error::new(e).context(format!("cannot serve on {listen}")),
    })
}
