//! Comparing two result files, and the regression gate.
//!
//! Four metrics:
//! - [`Metric::Ratio`] (the default) compares one runtime's ratio to the baseline on each
//!   workload (zokio's, unless [`Options::runtime`] names another), measured in the same run
//!   of each file. A slower CI machine slows both runtimes, so the ratio
//!   survives a change of machine where absolute figures do not (METHOD.md, "CI gating":
//!   Tokio dropped its absolute-time dashboard for its false alarms, tokio PR #4090).
//! - [`Metric::Absolute`] compares each runtime's raw figures: meaningful only between runs
//!   on the same machine.
//! - [`Metric::Instructions`] and [`Metric::Allocations`] compare the ratio as
//!   [`Metric::Ratio`] does, in two files that counted instructions (or allocations) per
//!   operation (`zbench --measure`): counts that do not move with the machine's load, so a
//!   threshold of 1% ([`COUNT_THRESHOLD`]) holds where wall-clock figures need 5%.
//!
//! Figures of different measures are never compared: both files must have measured the
//! same thing (what the metric counts, for the last two), or [`compare`] refuses them.
//!
//! Entries are matched by workload name and parameters (and runtime, for absolute figures).
//! A workload present in both files under different parameters is reported as such and not
//! compared; so is a workload present on one side only, or measured in different units.
//!
//! Each compared entry gets the change `median(new) / median(base) − 1` with a bootstrap
//! 95% interval (both sample sets resampled independently, seeded). The verdict is
//! oriented so that "regressed" always means worse: lower for higher-is-better figures,
//! higher for lower-is-better ones. An entry *regressed* when its change is worse than the
//! threshold and its whole interval lies on the worse side of zero; *improved* symmetrically;
//! anything else (within the threshold, or an interval straddling zero) is *unchanged*.

use crate::schema::{Measure, ResultFile, READABLE};
use crate::stats::{bootstrap_ratio_of_medians_ci, median};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which figures to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// One runtime's ratio to the baseline on each workload (default).
    Ratio,
    /// Each runtime's raw figure.
    Absolute,
    /// The ratio of instructions per operation (`--measure instructions` files).
    Instructions,
    /// The ratio of allocations per operation (`--measure allocations` files).
    Allocations,
}

/// The default threshold of the counted metrics: 1%.
pub const COUNT_THRESHOLD: f64 = 0.01;

/// The default threshold of the wall-clock metrics: 5%.
pub const WALL_CLOCK_THRESHOLD: f64 = 0.05;

impl Metric {
    /// The measure a file must have for this metric.
    pub fn measure(self) -> Option<Measure> {
        match self {
            Metric::Ratio | Metric::Absolute => None,
            Metric::Instructions => Some(Measure::Instructions),
            Metric::Allocations => Some(Measure::Allocations),
        }
    }

    /// The threshold used when none is given.
    pub fn default_threshold(self) -> f64 {
        if self.measure().is_some() {
            COUNT_THRESHOLD
        } else {
            WALL_CLOCK_THRESHOLD
        }
    }

    /// How a report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::Ratio => "ratio to the baseline",
            Metric::Absolute => "absolute",
            Metric::Instructions => "instructions per operation, ratio to the baseline",
            Metric::Allocations => "allocations per operation, ratio to the baseline",
        }
    }
}

/// What [`compare`] was asked.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Relative change that counts, as a fraction (0.05 = 5%). Default 0.05.
    pub threshold: f64,
    /// Default [`Metric::Ratio`].
    pub metric: Metric,
    /// Seed of the bootstrap intervals.
    pub seed: u64,
    /// The runtime whose ratios [`Metric::Ratio`] gates on. Default `zokio`.
    pub runtime: &'static str,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threshold: WALL_CLOCK_THRESHOLD,
            metric: Metric::Ratio,
            seed: 0,
            runtime: "zokio",
        }
    }
}

/// An entry's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Better beyond the threshold, interval clear of zero.
    Improved,
    /// Worse beyond the threshold, interval clear of zero.
    Regressed,
    /// Anything else.
    Unchanged,
}

impl Verdict {
    /// Lower-case label, as printed.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// One compared figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Workload name.
    pub workload: String,
    /// `"RUNTIME/BASELINE"` for ratios (`zokio/tokio`), the runtime name for absolute
    /// figures.
    pub series: String,
    /// The workload's parameters (identical on both sides).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Unit of `base` and `new` (`"x"` for ratios).
    pub unit: String,
    /// Whether a higher figure is better.
    pub higher_is_better: bool,
    /// Median of the base samples.
    pub base: f64,
    /// Median of the new samples.
    pub new: f64,
    /// `new / base − 1`.
    pub change: f64,
    /// 95% interval of `change`.
    pub change_ci: (f64, f64),
    /// The verdict, oriented so that regressed means worse.
    pub verdict: Verdict,
    /// Whether the verdict can fail the gate: not for a multi-thread point of an
    /// instruction run (`serialised_workers` on its figures), whose count moves between
    /// runs of one build as Callgrind interleaves its workers differently.
    pub gated: bool,
}

/// Something that prevented comparing a workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// In the new file only.
    MissingInBase {
        /// Workload name and series.
        what: String,
    },
    /// In the base file only.
    MissingInNew {
        /// Workload name and series.
        what: String,
    },
    /// In both files, under different parameters.
    ParamsDiffer {
        /// Workload name and series.
        what: String,
        /// The base file's parameter sets that found no match.
        base: Vec<String>,
        /// The new file's parameter sets that found no match.
        new: Vec<String>,
    },
    /// Same workload and parameters, different units.
    UnitDiffers {
        /// Workload name and series.
        what: String,
        /// Base unit.
        base: String,
        /// New unit.
        new: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::MissingInBase { what } => write!(f, "{what}: only in the new file"),
            Problem::MissingInNew { what } => write!(f, "{what}: only in the base file"),
            Problem::ParamsDiffer { what, base, new } => write!(
                f,
                "{what}: parameters differ, not compared (base: {}; new: {})",
                base.join(" | "),
                new.join(" | ")
            ),
            Problem::UnitDiffers { what, base, new } => {
                write!(f, "{what}: units differ ({base} vs {new}), not compared")
            }
        }
    }
}

/// Why two files cannot be compared at all.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A file has a schema version this zbench cannot compare.
    #[error("cannot compare schema versions: base is {base:?}, new is {new:?} (this zbench reads {READABLE:?})")]
    SchemaMismatch {
        /// Base file's schema.
        base: String,
        /// New file's schema.
        new: String,
    },
    /// The files measured different things, or not what the metric compares.
    #[error("{0}")]
    Measure(String),
}

/// The outcome of [`compare`].
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was compared.
    pub metric: Metric,
    /// The threshold, as a fraction.
    pub threshold: f64,
    /// Compared figures, in the new file's order.
    pub rows: Vec<Row>,
    /// Figures that could not be compared.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether any gated figure regressed (the gate fails).
    pub fn regressed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.gated && r.verdict == Verdict::Regressed)
    }
}

/// One side's figure: samples, unit, orientation.
struct Entry {
    workload: String,
    series: String,
    params: BTreeMap<String, serde_json::Value>,
    unit: String,
    higher_is_better: bool,
    samples: Vec<f64>,
    gated: bool,
}

/// Whether the figures of `runtime` at a point are a multi-thread point of an instruction
/// run, which Callgrind runs one worker at a time (`serialised_workers`).
fn serialised(
    file: &ResultFile,
    workload: &str,
    params: &BTreeMap<String, serde_json::Value>,
    runtime: &str,
) -> bool {
    file.results.iter().any(|r| {
        r.workload == workload
            && r.runtime == runtime
            && &r.params == params
            && r.extra.contains_key("serialised_workers")
    })
}

fn entries(file: &ResultFile, metric: Metric, runtime: &str) -> Vec<Entry> {
    match metric {
        Metric::Ratio | Metric::Instructions | Metric::Allocations => file
            .comparisons
            .iter()
            .filter(|c| c.runtime == runtime)
            .map(|c| Entry {
                workload: c.workload.clone(),
                series: format!("{}/{}", c.runtime, c.baseline),
                params: c.params.clone(),
                unit: "x".to_owned(),
                higher_is_better: c.higher_is_better,
                samples: c.ratios.clone(),
                gated: metric != Metric::Instructions
                    || !(serialised(file, &c.workload, &c.params, &c.runtime)
                        || serialised(file, &c.workload, &c.params, &c.baseline)),
            })
            .collect(),
        Metric::Absolute => file
            .results
            .iter()
            .map(|r| Entry {
                workload: r.workload.clone(),
                series: r.runtime.clone(),
                params: r.params.clone(),
                unit: r.unit.clone(),
                higher_is_better: r.higher_is_better,
                samples: r.samples.clone(),
                gated: true,
            })
            .collect(),
    }
}

fn params_text(params: &BTreeMap<String, serde_json::Value>) -> String {
    params
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compares `new` against `base`.
///
/// # Errors
/// [`CompareError::SchemaMismatch`] if either file's schema is not one zbench reads (a
/// zbench/1 file compares with a zbench/2 one: its ratios are zokio's against Tokio).
pub fn compare(base: &ResultFile, new: &ResultFile, opts: Options) -> Result<Report, CompareError> {
    if !READABLE.contains(&base.schema.as_str()) || !READABLE.contains(&new.schema.as_str()) {
        return Err(CompareError::SchemaMismatch {
            base: base.schema.clone(),
            new: new.schema.clone(),
        });
    }
    let (mb, mn) = (base.run.measure, new.run.measure);
    match opts.metric.measure() {
        Some(wanted) if mb != wanted || mn != wanted => {
            return Err(CompareError::Measure(format!(
                "--metric {} compares two files of `--measure {}` runs; base measured {}, new measured {}",
                wanted.name(),
                wanted.name(),
                mb.name(),
                mn.name()
            )))
        }
        None if mb != mn => {
            return Err(CompareError::Measure(format!(
                "base measured {} and new measured {}: figures of different measures are never compared",
                mb.name(),
                mn.name()
            )))
        }
        _ => {}
    }
    let base_entries = entries(base, opts.metric, opts.runtime);
    let new_entries = entries(new, opts.metric, opts.runtime);
    // Group by (workload, series) to tell "different parameters" from "missing".
    let key = |e: &Entry| (e.workload.clone(), e.series.clone());
    let mut groups: Vec<(String, String)> = Vec::new();
    for e in new_entries.iter().chain(&base_entries) {
        if !groups.contains(&key(e)) {
            groups.push(key(e));
        }
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, (workload, series)) in groups.iter().enumerate() {
        let what = format!("{workload} ({series})");
        let in_group = |e: &&Entry| &e.workload == workload && &e.series == series;
        let b: Vec<&Entry> = base_entries.iter().filter(in_group).collect();
        let n: Vec<&Entry> = new_entries.iter().filter(in_group).collect();
        if b.is_empty() {
            problems.push(Problem::MissingInBase { what });
            continue;
        }
        if n.is_empty() {
            problems.push(Problem::MissingInNew { what });
            continue;
        }
        let mut unmatched_new = Vec::new();
        for ne in &n {
            let Some(be) = b.iter().find(|be| be.params == ne.params) else {
                unmatched_new.push(params_text(&ne.params));
                continue;
            };
            if be.unit != ne.unit {
                problems.push(Problem::UnitDiffers {
                    what: what.clone(),
                    base: be.unit.clone(),
                    new: ne.unit.clone(),
                });
                continue;
            }
            rows.push(row(be, ne, opts, opts.seed.wrapping_add(i as u64)));
        }
        let unmatched_base: Vec<String> = b
            .iter()
            .filter(|be| !n.iter().any(|ne| ne.params == be.params))
            .map(|be| params_text(&be.params))
            .collect();
        if !unmatched_new.is_empty() || !unmatched_base.is_empty() {
            problems.push(Problem::ParamsDiffer {
                what,
                base: unmatched_base,
                new: unmatched_new,
            });
        }
    }
    Ok(Report {
        metric: opts.metric,
        threshold: opts.threshold,
        rows,
        problems,
    })
}

fn row(base: &Entry, new: &Entry, opts: Options, seed: u64) -> Row {
    let (mb, mn) = (median(&base.samples), median(&new.samples));
    let change = mn / mb - 1.0;
    let (lo, hi) = bootstrap_ratio_of_medians_ci(&base.samples, &new.samples, seed);
    let change_ci = (lo - 1.0, hi - 1.0);
    // Orient: `better` > 0 means an improvement.
    let sign = if new.higher_is_better { 1.0 } else { -1.0 };
    let (better, better_lo, better_hi) = {
        let (a, b) = (sign * change_ci.0, sign * change_ci.1);
        (sign * change, a.min(b), a.max(b))
    };
    let verdict = if !change.is_finite() || !better_lo.is_finite() || !better_hi.is_finite() {
        Verdict::Unchanged
    } else if better < -opts.threshold && better_hi < 0.0 {
        Verdict::Regressed
    } else if better > opts.threshold && better_lo > 0.0 {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    Row {
        workload: new.workload.clone(),
        series: new.series.clone(),
        params: new.params.clone(),
        unit: new.unit.clone(),
        higher_is_better: new.higher_is_better,
        base: mb,
        new: mn,
        change,
        change_ci,
        verdict,
        gated: base.gated && new.gated,
    }
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

fn figure(x: f64, unit: &str) -> String {
    if unit == "x" {
        // Enough digits that a small ratio (a latency 100x better) still shows its change.
        if x.abs() >= 0.1 {
            format!("{x:.2}x")
        } else {
            format!("{x:.4}x")
        }
    } else {
        format!("{} {unit}", crate::claims::fmt_num(x))
    }
}

impl Report {
    /// The report as aligned text: one line per figure, then the problems.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<36} {:<12} {:>14} {:>14} {:>24}  {:<9}  params",
            "workload", "series", "base", "new", "change [95% CI]", "verdict"
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:<36} {:<12} {:>14} {:>14} {:>24}  {:<9}  {}",
                r.workload,
                r.series,
                figure(r.base, &r.unit),
                figure(r.new, &r.unit),
                format!(
                    "{} [{}, {}]",
                    pct(r.change),
                    pct(r.change_ci.0),
                    pct(r.change_ci.1)
                ),
                if r.gated {
                    r.verdict.label().to_owned()
                } else {
                    format!("{} (not gated)", r.verdict.label())
                },
                params_text(&r.params)
            );
        }
        self.footer(&mut out, "");
        out
    }

    /// The report as a GitHub-flavoured markdown table, for a pull-request comment.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### zbench compare ({} metric, threshold {})\n",
            self.metric.describe(),
            pct(self.threshold).trim_start_matches('+')
        );
        let _ = writeln!(
            out,
            "| workload | params | series | base | new | change [95% CI] | verdict |"
        );
        let _ = writeln!(out, "|---|---|---|---:|---:|---:|---|");
        for r in &self.rows {
            let mark = match r.verdict {
                Verdict::Regressed if r.gated => "**regressed**".to_owned(),
                v if !r.gated => format!("{} (not gated: multi-thread under Callgrind)", v.label()),
                v => v.label().to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} [{}, {}] | {} |",
                r.workload,
                params_text(&r.params),
                r.series,
                figure(r.base, &r.unit),
                figure(r.new, &r.unit),
                pct(r.change),
                pct(r.change_ci.0),
                pct(r.change_ci.1),
                mark
            );
        }
        self.footer(&mut out, "- ");
        out
    }

    fn footer(&self, out: &mut String, bullet: &str) {
        if !self.problems.is_empty() {
            let _ = writeln!(out, "\nnot compared:");
            for p in &self.problems {
                let _ = writeln!(out, "{bullet}{p}");
            }
        }
        let count = |v| self.rows.iter().filter(|r| r.verdict == v).count();
        let ungated = self.rows.iter().filter(|r| !r.gated).count();
        let _ = writeln!(
            out,
            "\n{} compared: {} regressed, {} improved, {} unchanged; {} not compared{}",
            self.rows.len(),
            count(Verdict::Regressed),
            count(Verdict::Improved),
            count(Verdict::Unchanged),
            self.problems.len(),
            if ungated > 0 {
                format!("; {ungated} multi-thread under Callgrind, shown but not gated")
            } else {
                String::new()
            }
        );
    }
}

/// `file`'s figures in Bencher Metric Format (`{bench: {measure: {value, lower_value,
/// upper_value}}}`, <https://bencher.dev/docs/reference/bencher-metric-format/>): one
/// benchmark per workload and parameter set, with a measure per runtime (median and its
/// interval, in the workload's unit) and a `RUNTIME_ratio_vs_BASELINE` measure for each
/// runtime's ratio (`ratio_vs_BASELINE` for zokio's, the name zbench/1 exports used).
pub fn to_bencher(file: &ResultFile) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let bench_name =
        |w: &str, p: &BTreeMap<String, serde_json::Value>| format!("{w} [{}]", params_text(p));
    let measure = |s: &crate::schema::Stats| serde_json::json!({"value": s.median, "lower_value": s.ci95_low, "upper_value": s.ci95_high});
    for r in &file.results {
        let entry = out
            .entry(bench_name(&r.workload, &r.params))
            .or_insert_with(|| serde_json::json!({}));
        entry[r.runtime.as_str()] = measure(&r.stats);
    }
    for c in &file.comparisons {
        let entry = out
            .entry(bench_name(&c.workload, &c.params))
            .or_insert_with(|| serde_json::json!({}));
        let name = if c.runtime == "zokio" {
            format!("ratio_vs_{}", c.baseline)
        } else {
            format!("{}_ratio_vs_{}", c.runtime, c.baseline)
        };
        entry[name.as_str()] = measure(&c.stats);
    }
    serde_json::Value::Object(out)
}

/// `file`'s ratios of every runtime to the baseline for github-action-benchmark's
/// `customBiggerIsBetter` tool (`[{name, unit, value, range, extra}]`): each ratio oriented
/// so that bigger is better (a lower-is-better workload reports baseline/runtime), so one
/// tool setting fits all. zokio's keep the names zbench/1 exports had.
pub fn to_github_action_benchmark(file: &ResultFile) -> serde_json::Value {
    let items: Vec<serde_json::Value> = file
        .comparisons
        .iter()
        .map(|c| {
            let orient = |x: f64| if c.higher_is_better { x } else { 1.0 / x };
            let (a, b) = (orient(c.stats.ci95_low), orient(c.stats.ci95_high));
            let who = if c.runtime == "zokio" {
                String::new()
            } else {
                format!("{} ", c.runtime)
            };
            serde_json::json!({
                "name": format!("{} [{}] {who}speed-up vs {}", c.workload, params_text(&c.params), c.baseline),
                "unit": "x",
                "value": orient(c.stats.median),
                "range": format!("{:.3} to {:.3}", a.min(b), a.max(b)),
                "extra": format!("{}/{} ratio {:.3} ({} is better)", c.runtime, c.baseline, c.stats.median,
                    if c.higher_is_better { "higher" } else { "lower" }),
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Comparison, Stats};

    fn stats(xs: &[f64]) -> Stats {
        crate::stats::summarize(xs, 1)
    }

    fn comparison(workload: &str, workers: u64, hib: bool, ratios: &[f64]) -> Comparison {
        Comparison {
            workload: workload.to_owned(),
            runtime: "zokio".to_owned(),
            params: BTreeMap::from([("workers".to_owned(), workers.into())]),
            baseline: "tokio".to_owned(),
            ratios: ratios.to_vec(),
            no_verdict: None,
            stats: stats(ratios),
            higher_is_better: hib,
            measure: Measure::WallClock,
        }
    }

    /// A file of a `--measure m` run holding `comparisons` of that measure.
    fn counted(m: Measure, mut comparisons: Vec<Comparison>) -> ResultFile {
        for c in &mut comparisons {
            c.measure = m;
            c.higher_is_better = false;
        }
        let mut f = file(comparisons);
        f.run.measure = m;
        f
    }

    #[test]
    fn instruction_ratios_gate_at_one_percent() {
        let opts = Options {
            metric: Metric::Instructions,
            threshold: Metric::Instructions.default_threshold(),
            ..Options::default()
        };
        // Counts barely move: 0.5x, then 0.5075x (1.5% more instructions relative to
        // Tokio) and 0.503x (0.6% more, within the threshold).
        let base = counted(
            Measure::Instructions,
            vec![
                comparison("a", 2, false, &[0.5; 4]),
                comparison("b", 2, false, &[0.5; 4]),
            ],
        );
        let new = counted(
            Measure::Instructions,
            vec![
                comparison("a", 2, false, &[0.5075; 4]),
                comparison("b", 2, false, &[0.503; 4]),
            ],
        );
        let r = compare(&base, &new, opts).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Regressed);
        assert_eq!(r.rows[1].verdict, Verdict::Unchanged);
        assert!(r.regressed());
        let r = compare(&new, &base, opts).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Improved);
        assert!(compare(&base, &base, opts)
            .unwrap()
            .rows
            .iter()
            .all(|r| r.verdict == Verdict::Unchanged));
        assert!(r.to_markdown().contains("instructions per operation"));

        // A multi-thread point of an instruction run is shown but does not gate.
        let mut serial_new = new.clone();
        let mut result = serial_new.results[0].clone();
        result.workload = "a".into();
        result.runtime = "zokio".into();
        result.params = serial_new.comparisons[0].params.clone();
        result.extra.insert("serialised_workers".into(), 2.0);
        serial_new.results = vec![result];
        let r = compare(&base, &serial_new, opts).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Regressed);
        assert!(!r.rows[0].gated);
        assert!(!r.regressed(), "only a point that is not gated regressed");
        assert!(r.to_table().contains("not gated"), "{}", r.to_table());
    }

    #[test]
    fn figures_of_different_measures_are_never_compared() {
        let wall = file(vec![comparison("a", 2, true, &noisy(1.0))]);
        let instr = counted(
            Measure::Instructions,
            vec![comparison("a", 2, false, &[0.5; 4])],
        );
        let alloc = counted(
            Measure::Allocations,
            vec![comparison("a", 2, false, &[0.5; 4])],
        );
        let with = |metric| Options {
            metric,
            ..Options::default()
        };
        // A counted metric on files that did not count it.
        let e = compare(&wall, &wall, with(Metric::Instructions)).unwrap_err();
        assert!(e.to_string().contains("measured wall_clock"), "{e}");
        let e = compare(&instr, &alloc, with(Metric::Allocations)).unwrap_err();
        assert!(e.to_string().contains("base measured instructions"), "{e}");
        // Two files of different measures, whatever the metric.
        let e = compare(&wall, &instr, Options::default()).unwrap_err();
        assert!(e.to_string().contains("never compared"), "{e}");
        assert!(compare(&alloc, &alloc, with(Metric::Allocations)).is_ok());
    }

    fn file(comparisons: Vec<Comparison>) -> ResultFile {
        let mut f = crate::schema::tests::sample_file();
        f.comparisons = comparisons;
        f
    }

    fn noisy(center: f64) -> Vec<f64> {
        (0..15)
            .map(|i| center * (1.0 + 0.01 * f64::from(i % 5) - 0.02))
            .collect()
    }

    #[test]
    fn identical_files_are_unchanged() {
        let f = file(vec![comparison("a", 2, true, &noisy(2.0))]);
        let r = compare(&f, &f, Options::default()).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].verdict, Verdict::Unchanged);
        assert!(!r.regressed());
        assert!(r.problems.is_empty());
    }

    #[test]
    fn halved_throughput_ratio_regresses_and_doubled_improves() {
        let base = file(vec![
            comparison("a", 2, true, &noisy(2.0)),
            comparison("b", 2, true, &noisy(2.0)),
        ]);
        let new = file(vec![
            comparison("a", 2, true, &noisy(1.0)),
            comparison("b", 2, true, &noisy(4.0)),
        ]);
        let r = compare(&base, &new, Options::default()).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Regressed);
        assert!((r.rows[0].change + 0.5).abs() < 1e-9);
        assert_eq!(r.rows[1].verdict, Verdict::Improved);
        assert!(r.regressed());
    }

    #[test]
    fn lower_is_better_is_oriented() {
        // A latency ratio that doubles is a regression.
        let base = file(vec![comparison("lat", 2, false, &noisy(0.5))]);
        let new = file(vec![comparison("lat", 2, false, &noisy(1.0))]);
        let r = compare(&base, &new, Options::default()).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Regressed);
        let r = compare(&new, &base, Options::default()).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Improved);
    }

    #[test]
    fn noise_within_the_interval_is_unchanged() {
        // Medians 8% apart, but samples spread ±40%: the interval straddles zero.
        let wide =
            |c: f64| -> Vec<f64> { (0..10).map(|i| c * (0.6 + 0.08 * f64::from(i))).collect() };
        let base = file(vec![comparison("a", 2, true, &wide(1.0))]);
        let new = file(vec![comparison("a", 2, true, &wide(0.92))]);
        let r = compare(&base, &new, Options::default()).unwrap();
        assert!(r.rows[0].change < -0.05);
        assert!(r.rows[0].change_ci.0 < 0.0 && r.rows[0].change_ci.1 > 0.0);
        assert_eq!(r.rows[0].verdict, Verdict::Unchanged);
    }

    #[test]
    fn below_threshold_is_unchanged_even_if_certain() {
        let base = file(vec![comparison("a", 2, true, &[2.0; 10])]);
        let new = file(vec![comparison("a", 2, true, &[1.96; 10])]);
        let r = compare(&base, &new, Options::default()).unwrap();
        assert_eq!(r.rows[0].verdict, Verdict::Unchanged);
    }

    #[test]
    fn missing_workloads_and_param_changes_are_reported_not_compared() {
        let base = file(vec![
            comparison("gone", 2, true, &noisy(1.0)),
            comparison("w", 2, true, &noisy(1.0)),
        ]);
        let new = file(vec![
            comparison("added", 2, true, &noisy(1.0)),
            comparison("w", 4, true, &noisy(0.1)),
        ]);
        let r = compare(&base, &new, Options::default()).unwrap();
        assert!(r.rows.is_empty(), "nothing comparable: {:?}", r.rows);
        assert!(!r.regressed());
        assert!(r.problems.contains(&Problem::MissingInBase {
            what: "added (zokio/tokio)".into()
        }));
        assert!(r.problems.contains(&Problem::MissingInNew {
            what: "gone (zokio/tokio)".into()
        }));
        assert!(r.problems.contains(&Problem::ParamsDiffer {
            what: "w (zokio/tokio)".into(),
            base: vec!["workers=2".into()],
            new: vec!["workers=4".into()],
        }));
        let text = r.to_table();
        assert!(text.contains("parameters differ"), "{text}");
    }

    #[test]
    fn schema_mismatch_is_an_error() {
        let base = file(vec![]);
        let mut new = file(vec![]);
        new.schema = "zbench/999".into();
        let err = compare(&base, &new, Options::default()).unwrap_err();
        assert!(err.to_string().contains("zbench/999"), "{err}");
    }

    #[test]
    fn exports_have_the_documented_shapes() {
        let f = file(vec![comparison("lat", 2, false, &noisy(0.5))]);
        let bmf = to_bencher(&f);
        let bench = &bmf["lat [workers=2]"]["ratio_vs_tokio"];
        assert!(bench["value"].as_f64().unwrap() > 0.0);
        assert!(bench["lower_value"].as_f64().unwrap() <= bench["upper_value"].as_f64().unwrap());
        let gab = to_github_action_benchmark(&f);
        let item = &gab[0];
        assert_eq!(item["unit"], "x");
        // Lower-is-better ratio 0.5 is reported as a 2x speed-up.
        assert!((item["value"].as_f64().unwrap() - 1.0 / median(&noisy(0.5))).abs() < 1e-9);
        let md = compare(&f, &f, Options::default()).unwrap().to_markdown();
        assert!(md.contains("| lat | workers=2 | zokio/tokio |"), "{md}");
    }
}
