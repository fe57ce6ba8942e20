//! `zbench load`: the load half of a network workload, against a server on another host.

use crate::cli::{Client, LoadArgs};
use crate::{prepare_out_dir, run_info, utc_now, UsageError};
use anyhow::{Context, Result};
use zbench_report::schema::{self, ResultFile, RunInfo};
use zbench_suite::machine;

/// `zbench load`: one load run against a remote server, printed and optionally recorded.
pub(crate) fn load_command(a: LoadArgs) -> Result<()> {
    use zbench_stress::net::remote;
    let conns = a
        .connections
        .unwrap_or_else(|| remote::default_connections(&a.workload));
    let dir = a
        .out
        .as_deref()
        .map(|d| prepare_out_dir(Some(d), &utc_now()))
        .transpose()?;
    let started = utc_now();
    let (rate, errors, pct) = match a.client {
        Client::Wrk => {
            if a.workload != "net.http_requests" {
                return Err(UsageError("--client wrk drives net.http_requests only".into()).into());
            }
            let w = remote::wrk(a.target, conns, usize::from(a.client_threads), a.duration)
                .with_context(|| format!("wrk against {}", a.target))?;
            let at = |q: f64| {
                w.latency_ns
                    .iter()
                    .find(|(p, _)| *p == q)
                    .map_or(0.0, |x| x.1)
            };
            println!(
                "{} against {} (wrk, {conns} connections): {:.0} requests/s, p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, {} errors",
                a.workload,
                a.target,
                w.requests_per_sec,
                at(50.0) / 1e3,
                at(90.0) / 1e3,
                at(99.0) / 1e3,
                w.errors
            );
            let p = schema::Percentiles {
                p50: at(50.0),
                p90: at(90.0),
                p99: at(99.0),
                p999: f64::NAN,
                max: f64::NAN,
            };
            (w.requests_per_sec, w.errors, p)
        }
        Client::Builtin => {
            let r = remote::load(
                &a.workload,
                a.target,
                conns,
                usize::from(a.client_threads),
                a.duration,
                a.rate,
            )
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput => UsageError(e.to_string()).into(),
                _ => anyhow::Error::new(e),
            })?;
            let h = &r.latency_ns;
            println!(
                "{} against {} ({conns} connections, {}): {:.0} requests/s, {:.2} MB/s, p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, p99.9 {:.0} us, errors {:?}",
                a.workload,
                a.target,
                a.rate.map_or("closed loop".to_owned(), |r| format!("open loop at {r} requests/s")),
                r.rate(),
                r.mb_per_sec(),
                h.value_at_quantile(0.5) as f64 / 1e3,
                h.value_at_quantile(0.9) as f64 / 1e3,
                h.value_at_quantile(0.99) as f64 / 1e3,
                h.value_at_quantile(0.999) as f64 / 1e3,
                r.errors
            );
            (
                r.rate(),
                r.error_count(),
                zbench_suite::strategy::percentiles(h),
            )
        }
    };
    let Some(dir) = dir else { return Ok(()) };
    let mut params = std::collections::BTreeMap::new();
    params.insert("target".to_owned(), a.target.to_string().into());
    params.insert("server_host".to_owned(), a.target.ip().to_string().into());
    params.insert(
        "load_host".to_owned(),
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default()
            .into(),
    );
    // The address this host reaches the server from (the route's source address; a UDP
    // socket "connected" to the target sends nothing).
    let load_address =
        std::net::UdpSocket::bind((if a.target.is_ipv4() { "0.0.0.0" } else { "::" }, 0))
            .and_then(|u| {
                u.connect(a.target)?;
                u.local_addr()
            })
            .map_or_else(|_| "unknown".to_owned(), |l| l.ip().to_string());
    params.insert("load_address".to_owned(), load_address.into());
    params.insert("connections".to_owned(), conns.into());
    params.insert("generator_threads".to_owned(), a.client_threads.into());
    params.insert(
        "client".to_owned(),
        format!("{:?}", a.client).to_lowercase().into(),
    );
    if let Some(r) = a.rate {
        params.insert("offered_rate".to_owned(), r.into());
    }
    let stats = zbench_report::stats::summarize(&[rate], 0);
    let unit = if a.workload == "net.tcp_connections" {
        "connections/s"
    } else {
        "requests/s"
    };
    let file = ResultFile {
        schema: schema::SCHEMA.to_owned(),
        run: RunInfo {
            rounds: 1,
            ..run_info(started)
        },
        machine: machine::describe(),
        results: vec![schema::WorkloadResult {
            workload: a.workload.clone(),
            group: "net".to_owned(),
            claim_ids: vec![a.workload.clone()],
            runtime: a.server_runtime.clone(),
            params,
            unit: unit.to_owned(),
            higher_is_better: true,
            samples: vec![rate],
            stats,
            percentiles: Some(pct),
            no_verdict: None,
            errors,
            extra: Default::default(),
            measure: schema::Measure::WallClock,
        }],
        comparisons: Vec::new(),
        not_applicable: Vec::new(),
        claims: Vec::new(),
    };
    let path = dir.join("results.json");
    schema::write_atomic(&path, &file)
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}
