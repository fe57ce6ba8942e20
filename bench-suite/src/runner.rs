//! Runs workloads and turns their samples into result records.

use crate::measure::{Comparison as RawComparison, MeasureConfig};
use crate::stats::summarize;
use crate::suite::Workload;
use std::collections::BTreeMap;
use zbench_report::claims::{self, Measured, Rule};
use zbench_report::schema::ClaimAudit;
use zbench_report::schema::{Comparison, WorkloadResult};

/// Records of one run: per (workload, runtime), and per workload the paired comparison.
#[derive(Debug, Default)]
pub struct Records {
    /// One per workload and runtime.
    pub results: Vec<WorkloadResult>,
    /// One per workload.
    pub comparisons: Vec<Comparison>,
}

/// Derives a distinct, reproducible bootstrap seed for each statistic from the run's seed.
fn sub_seed(seed: u64, workload: &str, what: &str) -> u64 {
    // FNV-1a over the names, mixed with the run seed: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in workload.bytes().chain([0]).chain(what.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn params_json(params: &[(&str, &str)]) -> BTreeMap<String, serde_json::Value> {
    params
        .iter()
        .map(|(k, v)| {
            let value = v
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(*v));
            ((*k).to_owned(), value)
        })
        .collect()
}

/// Adds `workload`'s measured samples to `records`.
pub fn record(records: &mut Records, w: &Workload, raw: &RawComparison, seed: u64) {
    let convert = |xs: &[f64]| -> Vec<f64> { xs.iter().map(|x| w.figure.from_rate(*x)).collect() };
    let zokio = convert(&raw.zokio.ops_per_sec);
    let tokio = convert(&raw.tokio.ops_per_sec);
    for (runtime, samples) in [("zokio", &zokio), ("tokio", &tokio)] {
        records.results.push(WorkloadResult {
            workload: w.name.to_owned(),
            group: w.group().to_owned(),
            claim_ids: w.claims.iter().map(|c| (*c).to_owned()).collect(),
            runtime: runtime.to_owned(),
            params: params_json(w.params),
            unit: w.unit.to_owned(),
            higher_is_better: w.figure.higher_is_better(),
            samples: samples.clone(),
            stats: summarize(samples, sub_seed(seed, w.name, runtime)),
            percentiles: None,
            errors: 0,
        });
    }
    // Ratio of the reported figures, round by round.
    let ratios: Vec<f64> = zokio.iter().zip(&tokio).map(|(z, t)| z / t).collect();
    records.comparisons.push(Comparison {
        workload: w.name.to_owned(),
        stats: summarize(&ratios, sub_seed(seed, w.name, "ratio")),
        ratios,
        higher_is_better: w.figure.higher_is_better(),
    });
}

/// Runs every workload in `workloads` with `cfg`, calling `progress` before each.
pub fn run(
    workloads: &[Workload],
    cfg: &MeasureConfig,
    seed: u64,
    mut progress: impl FnMut(&Workload),
) -> Records {
    let mut records = Records::default();
    for w in workloads {
        progress(w);
        let raw = (w.run)(cfg);
        record(&mut records, w, &raw, seed);
    }
    records
}

/// The claims audit for a run: every claim of CLAIMS.md, judged on the workloads that
/// measured it, "not yet measured" for the rest.
pub fn audit_claims(records: &Records) -> Vec<ClaimAudit> {
    claims::CLAIMS
        .iter()
        .map(|claim| {
            let measured = records
                .results
                .iter()
                .find(|r| r.runtime == "zokio" && r.claim_ids.iter().any(|c| c == claim.id))
                .map(|z| measured_for(claim.rule, z, records));
            claims::audit(claim, measured.as_ref())
        })
        .collect()
}

fn measured_for(rule: Rule, zokio: &WorkloadResult, records: &Records) -> Measured {
    let tokio = records
        .results
        .iter()
        .find(|r| r.runtime == "tokio" && r.workload == zokio.workload)
        .map(|r| r.stats.median);
    let ratio = records
        .comparisons
        .iter()
        .find(|c| c.workload == zokio.workload)
        .map(|c| c.stats.median);
    match (rule, ratio) {
        (Rule::RatioVsTokio { .. }, Some(ratio)) => Measured {
            workload: zokio.workload.clone(),
            unit: "x".into(),
            zokio: ratio,
            tokio: None,
            note: Some(format!(
                "the figure is the median of per-round zokio/Tokio ratios on {}; the async/await half awaits asyncfn.await",
                zokio.workload
            )),
        },
        _ => Measured {
            workload: zokio.workload.clone(),
            unit: zokio.unit.clone(),
            zokio: zokio.stats.median,
            tokio,
            note: None,
        },
    }
}
