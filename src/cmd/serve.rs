//! `zbench serve`: the server half of a network workload, for a load from another host.

use crate::UsageError;
use anyhow::Result;
use std::net::SocketAddr;
use std::time::Duration;

/// Serves `workload` on `runtime` at `listen` for `duration`, then exits.
/// Prints one `--stats` line: the runtime's alive tasks, `-` where it does not count them.
fn print_stats(tasks: Option<usize>) {
    let tasks = tasks.map_or_else(|| "-".to_owned(), |n| n.to_string());
    println!("zbench serve: stats alive_tasks={tasks}");
}

pub(crate) fn serve(
    workload: &str,
    runtime: &str,
    listen: SocketAddr,
    workers: u16,
    duration: Duration,
    stats: Option<Duration>,
) -> Result<()> {
    let printer: &mut dyn FnMut(Option<usize>) = &mut print_stats;
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
        stats.map(|every| (every, printer)),
    )
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => UsageError(e.to_string()).into(),
        _ => anyhow::Error::new(e).context(format!("cannot serve on {listen}")),
    })
}
