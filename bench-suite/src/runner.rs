//! Runs workloads and turns their outcomes into result records and the claims audit.

use crate::measure::{self, Measure};
use crate::rt::{self, Cap};
use crate::stats::summarize;
use crate::suite::{Ctx, Point, Series, Workload};
use std::collections::BTreeMap;
use zbench_report::claims::{self, Measured, Rule};
use zbench_report::schema::{ClaimAudit, Comparison, NotApplicable, WorkloadResult};

/// Records of one run.
#[derive(Debug, Default)]
pub struct Records {
    /// One per workload, point and runtime.
    pub results: Vec<WorkloadResult>,
    /// One per workload point and runtime measured beside its baseline.
    pub comparisons: Vec<Comparison>,
    /// One per workload and runtime of the run that lacks what the workload needs.
    pub not_applicable: Vec<NotApplicable>,
}

/// A distinct, reproducible bootstrap seed per statistic, derived from the run's seed.
fn sub_seed(seed: u64, workload: &str, what: &str) -> u64 {
    // FNV-1a over the names, mixed with the run seed: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in workload.bytes().chain([0]).chain(what.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn params_json(w: &Workload, ctx: &Ctx, point: &Point) -> BTreeMap<String, serde_json::Value> {
    let mut params: BTreeMap<String, serde_json::Value> = w
        .params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.json()))
        .collect();
    if w.multi_thread {
        params.insert("workers".into(), ctx.cfg.workers.into());
    }
    for (k, v) in &point.params {
        params.insert((*k).to_owned(), v.clone());
    }
    params
}

/// Adds one workload's outcome to `records`: a result per series, and a comparison of every
/// series with the point's baseline (the run's, unless the point names another) where both
/// have the same number of samples (paired by round). The figures are in the process's
/// [`measure::measure`]: a count per operation (lower is better) in a run that counts.
pub fn record(records: &mut Records, w: &Workload, ctx: &Ctx, points: &[Point], seed: u64) {
    record_as(measure::measure(), records, w, ctx, points, seed);
}

/// [`record`] of figures in `measure`.
fn record_as(
    measure: Measure,
    records: &mut Records,
    w: &Workload,
    ctx: &Ctx,
    points: &[Point],
    seed: u64,
) {
    for point in points {
        let params = params_json(w, ctx, point);
        let tag = serde_json::to_string(&params).unwrap_or_default();
        let seed_of = |what: &str| sub_seed(seed, &format!("{}{tag}", w.name), what);
        let baseline = point.baseline.unwrap_or(ctx.baseline);
        // Measured samples become the reported figure here, in one place, per w.figure
        // (or as measured, for a point with a figure of its own or a count per operation).
        let counted = measure.is_count();
        let report = |xs: &[f64]| -> Vec<f64> {
            if counted || point.figure.is_some() {
                xs.to_vec()
            } else {
                xs.iter().map(|x| w.figure.report(*x)).collect()
            }
        };
        let (unit, higher_is_better) = match point.figure {
            _ if counted => {
                let unit = measure.unit(point.figure.map_or(w.unit, |f| f.unit));
                // The kernel's part of an I/O operation is not counted: the unit says so.
                let io = w.needs.iter().any(|c| {
                    matches!(
                        c,
                        Cap::Tcp | Cap::Files | Cap::IoNop | Cap::SendFile | Cap::Hyper
                    )
                });
                match measure {
                    Measure::Instructions if io => (format!("user-space {unit}"), false),
                    _ => (unit, false),
                }
            }
            Some(f) => (f.unit.to_owned(), f.higher_is_better),
            None => (w.unit.to_owned(), w.figure.higher_is_better()),
        };
        // Under Callgrind a multi-thread runtime's workers run one at a time, which moves
        // their counts from run to run more than a current-thread runtime's: marked.
        let serialised =
            (measure == Measure::Instructions && w.multi_thread).then_some(ctx.cfg.workers as f64);
        let figures: Vec<(&Series, Vec<f64>)> = point
            .series
            .iter()
            .filter(|s| !s.samples.is_empty())
            .map(|s| (s, report(&s.samples)))
            .collect();
        for (series, samples) in &figures {
            records.results.push(WorkloadResult {
                workload: w.name.to_owned(),
                group: w.group().to_owned(),
                claim_ids: w.claims.iter().map(|c| (*c).to_owned()).collect(),
                runtime: series.name.to_owned(),
                params: params.clone(),
                unit: unit.clone(),
                higher_is_better,
                samples: samples.clone(),
                stats: summarize(samples, seed_of(series.name)),
                percentiles: series.percentiles.clone(),
                errors: series.errors,
                no_verdict: series.no_verdict.clone(),
                extra: series
                    .extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), *v))
                    .chain(serialised.map(|n| ("serialised_workers".to_owned(), n)))
                    .collect(),
                measure,
            });
        }
        let Some((base_series, base)) = figures.iter().find(|(s, _)| s.name == baseline) else {
            continue;
        };
        for (series, samples) in &figures {
            if series.name == baseline || samples.len() != base.len() {
                continue;
            }
            let ratios: Vec<f64> = samples.iter().zip(base).map(|(x, b)| x / b).collect();
            // zokio's ratio keeps the seed label of zbench/1 files, so a zokio/Tokio run
            // recomputes the same intervals it always did.
            let label = if series.name == "zokio" {
                "ratio".to_owned()
            } else {
                format!("ratio:{}", series.name)
            };
            records.comparisons.push(Comparison {
                workload: w.name.to_owned(),
                runtime: series.name.to_owned(),
                params: params.clone(),
                baseline: baseline.to_owned(),
                stats: summarize(&ratios, seed_of(&label)),
                no_verdict: series
                    .no_verdict
                    .as_ref()
                    .map(|why| format!("{}: {why}", series.name))
                    .or_else(|| {
                        base_series
                            .no_verdict
                            .as_ref()
                            .map(|why| format!("{}: {why}", base_series.name))
                    }),
                ratios,
                higher_is_better,
                measure,
            });
        }
    }
}

/// Runs every workload on the runtimes of `ctx` that have what it needs (recording the
/// others as not applicable), calling `progress` before each.
///
/// # Errors
/// The first workload that fails (a child process that could not measure, say), by name.
pub fn run(
    workloads: &[Workload],
    ctx: &Ctx,
    seed: u64,
    mut progress: impl FnMut(&Workload),
) -> Result<Records, String> {
    let mut records = Records::default();
    for w in workloads {
        progress(w);
        records.extend(run_one(w, ctx, seed)?);
    }
    Ok(records)
}

/// Runs one workload as [`run`] does, returning its records alone.
///
/// # Errors
/// As [`run`].
pub fn run_one(w: &Workload, ctx: &Ctx, seed: u64) -> Result<Records, String> {
    let mut records = Records::default();
    let (here, not_applicable) = applicable(w, ctx)?;
    records.not_applicable.extend(not_applicable);
    if here.runtimes.is_empty() {
        return Ok(records);
    }
    let counted_before = measure::counted_samples();
    let result = (w.run)(&here);
    let counts = measure::measure().is_count();
    let uncounted = match result {
        // In a run that counts, a workload whose figure cannot be counted says so, and one
        // whose figures did not come through a counted sample measured something else,
        // whatever unit they would be given: both are not applicable.
        Err(e) if counts && e.starts_with(measure::NOT_COUNTED) => e,
        Ok(outcome)
            if counts
                && measure::counted_samples() == counted_before
                && outcome.points.iter().any(|p| !p.series.is_empty()) =>
        {
            format!(
                "{}{} per operation: its figure is not measured per operation",
                measure::NOT_COUNTED,
                measure::measure().name()
            )
        }
        Ok(outcome) => {
            record(&mut records, w, &here, &outcome.points, seed);
            return Ok(records);
        }
        Err(e) => return Err(format!("workload {} failed: {e}", w.name)),
    };
    records
        .not_applicable
        .extend(here.runtimes.iter().map(|name| NotApplicable {
            workload: w.name.to_owned(),
            runtime: (*name).to_owned(),
            reason: uncounted.clone(),
        }));
    Ok(records)
}

impl Records {
    /// Appends `other`'s records after these.
    pub fn extend(&mut self, other: Records) {
        self.results.extend(other.results);
        self.comparisons.extend(other.comparisons);
        self.not_applicable.extend(other.not_applicable);
    }
}

/// `ctx` narrowed to the runtimes that have what `w` needs, and a record for each of the
/// others.
///
/// # Errors
/// A runtime name of `ctx` that is not registered.
pub fn applicable(w: &Workload, ctx: &Ctx) -> Result<(Ctx, Vec<NotApplicable>), String> {
    let mut here = ctx.clone();
    here.runtimes.clear();
    let mut not_applicable = Vec::new();
    for &name in &ctx.runtimes {
        let info = rt::info(name).ok_or_else(|| format!("unknown runtime {name:?}"))?;
        match info.lacks(w.needs) {
            None => here.runtimes.push(name),
            Some(reason) => not_applicable.push(NotApplicable {
                workload: w.name.to_owned(),
                runtime: name.to_owned(),
                reason,
            }),
        }
    }
    Ok((here, not_applicable))
}

/// The claims audit: every claim of CLAIMS.md, judged on the workload that measured it
/// (its last point, e.g. the most workers); "not run" for claims whose workload exists but
/// was not selected, "not yet measured" for claims with no workload yet.
///
/// The documented figures are times, rates and sizes: a run that counted instructions or
/// allocations judges none of them ("not run", saying so).
pub fn audit_claims(records: &Records, catalogue: &[Workload]) -> Vec<ClaimAudit> {
    if let Some(m) = records
        .results
        .iter()
        .map(|r| r.measure)
        .find(|m| m.is_count())
    {
        return claims::CLAIMS
            .iter()
            .map(|claim| match catalogue.iter().find(|w| w.claims.contains(&claim.id)) {
                Some(w) => {
                    let mut a = claims::not_run(claim, w.name);
                    a.explanation = format!(
                        "this run counted {} per operation, and the documented figure is not a count; `zbench run {}` measures it",
                        m.name(),
                        w.name
                    );
                    a
                }
                None => claims::audit(claim, None),
            })
            .collect();
    }
    claims::CLAIMS
        .iter()
        .map(|claim| {
            let zokio: Vec<&WorkloadResult> = records
                .results
                .iter()
                .filter(|r| r.runtime == "zokio" && r.claim_ids.iter().any(|c| c == claim.id))
                .filter(|r| !r.params.contains_key("figure"))
                .collect();
            match zokio.last() {
                Some(z) => {
                    let m = measured_for(claim.id, claim.rule, z, &zokio, records);
                    claims::audit(claim, Some(&m))
                }
                None => match catalogue.iter().find(|w| w.claims.contains(&claim.id)) {
                    Some(w) => claims::not_run(claim, w.name),
                    None => claims::audit(claim, None),
                },
            }
        })
        .collect()
}

fn measured_for(
    id: &str,
    rule: Rule,
    zokio: &WorkloadResult,
    points: &[&WorkloadResult],
    records: &Records,
) -> Measured {
    let same_point = |r: &WorkloadResult| r.workload == zokio.workload && r.params == zokio.params;
    let comparison = records.comparisons.iter().find(|c| {
        c.runtime == zokio.runtime && c.workload == zokio.workload && c.params == zokio.params
    });
    let baseline = comparison.and_then(|c| {
        records
            .results
            .iter()
            .find(|r| r.runtime == c.baseline && same_point(r))
    });
    let ratio = comparison.map(|c| c.stats.median);
    let mut m = Measured {
        workload: zokio.workload.clone(),
        unit: zokio.unit.clone(),
        zokio: zokio.stats.median,
        tokio: baseline.map(|b| b.stats.median),
        peers: records
            .results
            .iter()
            .filter(|r| same_point(r) && r.runtime != zokio.runtime)
            .filter(|r| baseline.is_none_or(|b| b.runtime != r.runtime))
            .map(|r| (r.runtime.clone(), r.stats.median))
            .collect(),
        note: baseline.filter(|b| b.runtime != "tokio").map(|b| {
            format!(
                "compared with {}, not Tokio (Tokio's queue is private)",
                b.runtime
            )
        }),
    };
    if let Some(p) = &zokio.percentiles {
        m.note = Some(format!("zokio latency {}", p.describe()));
    }
    match rule {
        Rule::RatioVsTokio { .. } => {
            m.unit = "x".into();
            m.zokio = ratio.unwrap_or(f64::NAN);
            m.tokio = None;
            m.peers = records
                .comparisons
                .iter()
                .filter(|c| {
                    c.runtime != zokio.runtime
                        && c.workload == zokio.workload
                        && c.params == zokio.params
                })
                .map(|c| (c.runtime.clone(), c.stats.median))
                .collect();
            let await_ratio = records
                .comparisons
                .iter()
                .find(|c| c.runtime == "zokio" && c.workload == "asyncfn.await")
                .map_or_else(
                    || "not measured in this run".to_owned(),
                    |c| format!("{:.2}x", c.stats.median),
                );
            m.note = Some(format!(
                "judged on the median of per-round zokio/Tokio ratios on {} (documented 96x); the async/await half (documented 32x) measured {await_ratio} on asyncfn.await",
                zokio.workload
            ));
        }
        // Derived figures, documented in CLAIMS.md's workload column.
        _ if id == "scale.workers" => derive_efficiency(&mut m, points, records),
        _ if id == "scale.concurrent_tasks" => derive_growth(&mut m, points, records),
        _ => {}
    }
    m
}

fn param_u64(r: &WorkloadResult, key: &str) -> u64 {
    r.params
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Efficiency at the most workers: rate(N) / (N * rate(1)), for zokio and the baseline.
fn derive_efficiency(m: &mut Measured, points: &[&WorkloadResult], records: &Records) {
    let eff = |runtime: &str| -> Option<f64> {
        let rs: Vec<&WorkloadResult> = records
            .results
            .iter()
            .filter(|r| r.runtime == runtime && points.iter().any(|p| p.workload == r.workload))
            .collect();
        let one = rs.iter().find(|r| param_u64(r, "workers") == 1)?;
        let most = rs.iter().max_by_key(|r| param_u64(r, "workers"))?;
        Some(most.stats.median / (param_u64(most, "workers") as f64 * one.stats.median))
    };
    m.unit = "efficiency".into();
    m.zokio = eff("zokio").unwrap_or(f64::NAN);
    m.tokio = eff("tokio");
    for (peer, value) in m.peers.iter_mut() {
        *value = eff(peer).unwrap_or(f64::NAN);
    }
    m.note = Some(
        "efficiency = throughput at the most workers / (workers x throughput at 1 worker)".into(),
    );
}

/// Growth of bytes per task from the fewest to the most live tasks.
fn derive_growth(m: &mut Measured, points: &[&WorkloadResult], records: &Records) {
    let growth = |runtime: &str| -> Option<f64> {
        let rs: Vec<&WorkloadResult> = records
            .results
            .iter()
            .filter(|r| r.runtime == runtime && points.iter().any(|p| p.workload == r.workload))
            .collect();
        let few = rs.iter().min_by_key(|r| param_u64(r, "tasks"))?;
        let many = rs.iter().max_by_key(|r| param_u64(r, "tasks"))?;
        Some(many.stats.median / few.stats.median)
    };
    m.unit = "growth".into();
    m.zokio = growth("zokio").unwrap_or(f64::NAN);
    m.tokio = growth("tokio");
    for (peer, value) in m.peers.iter_mut() {
        *value = growth(peer).unwrap_or(f64::NAN);
    }
    m.note = Some(
        "growth = bytes per task at the most live tasks / bytes per task at the fewest".into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::MeasureConfig;
    use crate::rt::Cap;
    use crate::suite::{Figure, Outcome};

    fn ctx(runtimes: Vec<&'static str>) -> Ctx {
        Ctx::new(MeasureConfig::QUICK, runtimes, "tokio")
    }

    fn workload(needs: &'static [Cap], run: fn(&Ctx) -> Result<Outcome, String>) -> Workload {
        Workload {
            name: "test.point",
            unit: "ops/s",
            params: &[("size", crate::suite::Param::N(3))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs,
            description: "a test point",
            run,
        }
    }

    /// One point whose series are the context's runtimes, each sample `1 + index` of the
    /// runtime in the run, so every ratio is known.
    fn series_of_the_run(ctx: &Ctx) -> Result<Outcome, String> {
        let series = ctx
            .runtimes
            .iter()
            .enumerate()
            .map(|(i, &name)| (name, vec![(i + 1) as f64; 4]))
            .collect();
        Ok(Outcome::one(Point::from_samples(series)))
    }

    #[test]
    #[cfg(feature = "peers")]
    fn three_runtimes_give_three_series_and_two_ratios_per_point() {
        let w = workload(&[Cap::MultiThread], series_of_the_run);
        let records = run(&[w], &ctx(vec!["zokio", "tokio", "smol"]), 1, |_| {}).unwrap();
        let names: Vec<&str> = records.results.iter().map(|r| r.runtime.as_str()).collect();
        assert_eq!(names, ["zokio", "tokio", "smol"]);
        let ratios: Vec<(&str, &str, f64)> = records
            .comparisons
            .iter()
            .map(|c| (c.runtime.as_str(), c.baseline.as_str(), c.stats.median))
            .collect();
        // zokio's samples are 1, Tokio's 2, smol's 3.
        assert_eq!(ratios, [("zokio", "tokio", 0.5), ("smol", "tokio", 1.5)]);
        assert!(records.results.iter().all(|r| r.params["workers"] == 2));
        assert!(records.not_applicable.is_empty());
    }

    #[test]
    #[cfg(feature = "peers")]
    fn another_baseline_takes_the_ratios() {
        let w = workload(&[Cap::MultiThread], series_of_the_run);
        let mut c = ctx(vec!["zokio", "tokio", "smol"]);
        c.baseline = "smol";
        let records = run(&[w], &c, 1, |_| {}).unwrap();
        let ratios: Vec<(&str, &str)> = records
            .comparisons
            .iter()
            .map(|c| (c.runtime.as_str(), c.baseline.as_str()))
            .collect();
        assert_eq!(ratios, [("zokio", "smol"), ("tokio", "smol")]);
    }

    #[test]
    #[cfg(feature = "peers")]
    fn a_runtime_lacking_a_capability_is_not_applicable_and_never_run() {
        let w = workload(&[Cap::MultiThread, Cap::Notify], |ctx| {
            assert!(
                !ctx.runs("smol"),
                "the body ran on a runtime without Notify"
            );
            series_of_the_run(ctx)
        });
        let records = run(&[w], &ctx(vec!["zokio", "smol", "tokio"]), 1, |_| {}).unwrap();
        assert_eq!(
            records.not_applicable,
            [NotApplicable {
                workload: "test.point".into(),
                runtime: "smol".into(),
                reason: "smol has no Notify with a stored permit".into(),
            }]
        );
        assert!(records.results.iter().all(|r| r.runtime != "smol"));
        assert_eq!(records.comparisons.len(), 1);
    }

    #[test]
    #[cfg(feature = "peers")]
    fn the_claims_audit_judges_zokio_and_shows_the_peers_beside_it() {
        let mut w = workload(&[Cap::MultiThread], series_of_the_run);
        w.claims = &["zsync.spawn"];
        w.unit = "ns/op";
        let records = run(&[w], &ctx(vec!["zokio", "tokio", "smol"]), 1, |_| {}).unwrap();
        let audit = audit_claims(&records, &[w]);
        let spawn = audit.iter().find(|a| a.claim_id == "zsync.spawn").unwrap();
        assert_eq!((spawn.zokio, spawn.tokio), (Some(1.0), Some(2.0)));
        assert_eq!(spawn.peers, [("smol".to_owned(), 3.0)].into());
    }

    #[test]
    fn counted_figures_are_per_operation_lower_is_better_and_io_is_user_space() {
        let c = ctx(vec!["zokio", "tokio"]);
        let points = series_of_the_run(&c).unwrap().points;
        let mut w = workload(&[Cap::MultiThread], series_of_the_run);
        w.unit = "tasks/s";
        w.figure = Figure::NanosPerOp;
        let mut records = Records::default();
        record_as(Measure::Instructions, &mut records, &w, &c, &points, 1);
        let r = &records.results[0];
        assert_eq!(r.unit, "instructions/task");
        assert!(!r.higher_is_better);
        assert_eq!(r.measure, Measure::Instructions);
        // Samples are kept as counted, not turned into nanoseconds per operation.
        assert_eq!(r.samples, vec![1.0; 4]);
        assert_eq!(records.comparisons[0].measure, Measure::Instructions);
        assert_eq!(
            r.extra["serialised_workers"], 2.0,
            "multi-thread under Callgrind"
        );
        assert!(!records.comparisons[0].higher_is_better);

        w.needs = &[Cap::MultiThread, Cap::Tcp];
        w.unit = "round trips/s";
        let mut records = Records::default();
        record_as(Measure::Instructions, &mut records, &w, &c, &points, 1);
        assert_eq!(
            records.results[0].unit,
            "user-space instructions/round trip"
        );
        let mut records = Records::default();
        record_as(Measure::Allocations, &mut records, &w, &c, &points, 1);
        assert_eq!(records.results[0].unit, "allocations/round trip");
    }

    #[test]
    fn a_series_without_a_verdict_takes_the_verdict_from_its_ratio() {
        let w = workload(&[Cap::MultiThread], |ctx| {
            let mut o = series_of_the_run(ctx)?;
            o.points[0].series[1].no_verdict = Some("generator-bound: busy 97%".into());
            Ok(o)
        });
        let records = run(&[w], &ctx(vec!["zokio", "tokio"]), 1, |_| {}).unwrap();
        assert_eq!(
            records.results[1].no_verdict.as_deref(),
            Some("generator-bound: busy 97%")
        );
        assert_eq!(
            records.comparisons[0].no_verdict.as_deref(),
            Some("tokio: generator-bound: busy 97%")
        );
    }
}
