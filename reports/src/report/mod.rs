//! `zbench report`: static HTML pages with SVG charts, readable offline with no JavaScript
//! and no network.
//!
//! From one result file: `index.html` (run and machine, one chart of zokio's ratio to its
//! baseline per workload point with 95% intervals and the parity line, the comparisons and
//! the claims audit) and one page per workload group (`group-sched.html`, ...) with a chart
//! per workload: bars with error bars for throughput, memory and per-operation costs,
//! percentile curves for latency distributions, scaling curves with the ideal-linear line
//! when the worker count varies, and latency against offered rate for open-loop sweeps.
//! From several result files, in the order given, also `history.html`: one line per runtime
//! and workload point across the runs. Charts are SVG files under `charts/`, referenced by
//! `<img>`, so a page and its pictures can be published as they are.
//!
//! The whole site is rendered in memory first and each file is written atomically (a
//! temporary file renamed into place), so a failed run never leaves a half-written page.

pub mod charts;
mod league;
mod pages;

use crate::schema::{ResultFile, WorkloadResult};
use charts::{ChartError, Estimate};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One result file and where it came from.
#[derive(Debug, Clone)]
pub struct Run {
    /// The file's path, as given (shown on the pages).
    pub source: PathBuf,
    /// Its contents.
    pub file: ResultFile,
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The output directory.
    pub dir: PathBuf,
    /// Every HTML page, `index.html` first.
    pub pages: Vec<PathBuf>,
    /// Number of SVG charts.
    pub charts: usize,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No result file was given.
    #[error("no result file given")]
    NoRuns,
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// A file or directory could not be written.
    #[error("cannot write {path}: {cause}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        cause: io::Error,
    },
}

/// A rendered site: relative path → contents.
#[derive(Debug, Default)]
pub struct Site {
    /// Files in writing order; paths are relative to the output directory.
    pub files: Vec<(PathBuf, String)>,
}

impl Site {
    fn add(&mut self, path: impl Into<PathBuf>, contents: String) {
        self.files.push((path.into(), contents));
    }

    /// Adds the chart `svg` at `src` and returns its figure for a page.
    fn add_chart(&mut self, src: String, svg: String, alt: String, caption: String) -> Figure {
        self.add(&src, svg);
        Figure { src, alt, caption }
    }

    /// The pages (`.html`), in order.
    pub fn pages(&self) -> impl Iterator<Item = &Path> {
        self.files
            .iter()
            .map(|(p, _)| p.as_path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
    }

    /// Number of charts (`.svg`).
    pub fn charts(&self) -> usize {
        self.files
            .iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "svg"))
            .count()
    }
}

/// Renders the report of `runs`: pages for the last run, and a history page when there are
/// two or more.
///
/// # Errors
/// [`ReportError::NoRuns`] for an empty slice; [`ReportError::Chart`] if a chart cannot be
/// drawn.
pub fn render(runs: &[Run]) -> Result<Site, ReportError> {
    let last = runs.last().ok_or(ReportError::NoRuns)?;
    let mut site = Site::default();
    let has_history = runs.len() >= 2;
    let groups = groups(&last.file);
    let mut group_pages = Vec::new();
    for (group, results) in &groups {
        let mut workloads = Vec::new();
        for (title, rs) in by_workload(results) {
            let section = workload_section(&last.file, &title, &rs, &mut site)?;
            workloads.push(section);
        }
        let page = pages::GroupPage {
            group: group.clone(),
            workloads,
        };
        group_pages.push(page);
    }
    let ratio_rows = ratio_rows(&last.file);
    let ratio_svg = charts::ratio_chart(
        "zokio against its baseline, per workload point (95% intervals)",
        &ratio_rows,
    )?;
    site.add("charts/ratios.svg", ratio_svg);
    let nav: Vec<(String, usize)> = group_pages
        .iter()
        .map(|g| (g.group.clone(), g.workloads.len()))
        .collect();
    let index = pages::index(
        last,
        &ratio_rows,
        &league::league(&last.file),
        &nav,
        has_history,
    );
    let mut html = vec![(PathBuf::from("index.html"), index)];
    for g in &group_pages {
        html.push((
            PathBuf::from(pages::group_file(&g.group)),
            pages::group(last, g, &nav, has_history),
        ));
    }
    if has_history {
        let history = history(runs, &mut site)?;
        html.push((
            PathBuf::from("history.html"),
            pages::history(runs, &history, &nav),
        ));
    }
    // Pages after their charts, so a reader of a half-copied directory sees no broken page
    // as often; `write` writes every file atomically anyway.
    for (p, c) in html {
        site.add(p, c);
    }
    Ok(site)
}

/// Writes `site` into `out` (created if missing), each file atomically.
///
/// # Errors
/// [`ReportError::Io`] naming the file or directory that could not be written.
pub fn write(site: &Site, out: &Path) -> Result<Written, ReportError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |cause| ReportError::Io { path, cause }
    };
    for (rel, contents) in &site.files {
        let path = out.join(rel);
        let dir = path.parent().unwrap_or(out);
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        write_atomic(&path, contents.as_bytes()).map_err(io_err(&path))?;
    }
    Ok(Written {
        dir: out.to_owned(),
        pages: site.pages().map(|p| out.join(p)).collect(),
        charts: site.charts(),
    })
}

/// [`render`] then [`write()`].
///
/// # Errors
/// As theirs.
pub fn write_report(runs: &[Run], out: &Path) -> Result<Written, ReportError> {
    write(&render(runs)?, out)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The groups of a run in first-appearance order, each with its results.
fn groups(file: &ResultFile) -> Vec<(String, Vec<&WorkloadResult>)> {
    let mut out: Vec<(String, Vec<&WorkloadResult>)> = Vec::new();
    for r in &file.results {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, v)) => v.push(r),
            None => out.push((r.group.clone(), vec![r])),
        }
    }
    out
}

/// Results grouped by workload name, in first-appearance order.
/// The results of each workload, in order of first appearance; the points of a workload
/// that carry a figure of their own (a `figure` parameter, in their own unit: a network
/// workload's server CPU time) form a section of their own, titled `workload (figure)`,
/// right after the workload's.
fn by_workload<'a>(results: &[&'a WorkloadResult]) -> Vec<(String, Vec<&'a WorkloadResult>)> {
    let mut out: Vec<(String, Vec<&WorkloadResult>)> = Vec::new();
    for r in results {
        let title = match r.params.get("figure") {
            Some(f) => format!("{} ({})", r.workload, value_text(f)),
            None => r.workload.clone(),
        };
        match out.iter_mut().find(|(t, _)| *t == title) {
            Some((_, v)) => v.push(r),
            None => out.push((title, vec![r])),
        }
    }
    out
}

type Params = BTreeMap<String, Value>;

/// Text of a parameter value: strings bare, numbers as JSON.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `k=v, k=v`.
pub(crate) fn params_text(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct parameter sets, in order, and the keys whose values differ among them.
fn points_of<'a>(params: impl Iterator<Item = &'a Params>) -> (Vec<Params>, Vec<String>) {
    let mut points: Vec<Params> = Vec::new();
    for p in params {
        if !points.contains(p) {
            points.push(p.clone());
        }
    }
    let mut varying = Vec::new();
    if let Some(first) = points.first() {
        for p in &points[1..] {
            for (k, v) in p.iter().chain(first.iter()) {
                if (first.get(k) != Some(v) || p.get(k) != first.get(k)) && !varying.contains(k) {
                    varying.push(k.clone());
                }
            }
        }
    }
    varying.sort();
    (points, varying)
}

/// `tasks=2` from a point, showing only the varying keys.
fn point_label(params: &Params, varying: &[String]) -> String {
    varying
        .iter()
        .filter_map(|k| params.get(k).map(|v| format!("{k}={}", value_text(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A point's label under a chart's bars, kept short enough to sit under them: an
/// open-loop step is named by its share of the peak rate alone (`10% of peak`; the rate
/// itself is in the table), other parameters as in [`point_label`].
fn bar_label(params: &Params, varying: &[String]) -> String {
    let share = params.get("offered_share_of_peak").and_then(Value::as_f64);
    varying
        .iter()
        .filter(|k| share.is_none() || k.as_str() != "offered_rate")
        .filter_map(|k| match (k.as_str(), share) {
            ("offered_share_of_peak", Some(f)) => Some(format!("{:.0}% of peak", f * 100.0)),
            _ => params.get(k).map(|v| format!("{k}={}", value_text(v))),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn estimate(stats: &crate::schema::Stats) -> Estimate {
    Estimate {
        median: stats.median,
        low: stats.ci95_low,
        high: stats.ci95_high,
    }
}

/// zokio's advantage: the ratio, inverted for lower-is-better figures so > 1 is better.
fn advantage(c: &crate::schema::Comparison) -> Estimate {
    let e = estimate(&c.stats);
    if c.higher_is_better {
        e
    } else {
        let inv = |x: f64| if x > 0.0 { 1.0 / x } else { f64::INFINITY };
        Estimate {
            median: inv(e.median),
            low: inv(e.high),
            high: inv(e.low),
        }
    }
}

/// One row per comparison of zokio with its baseline, labelled by workload and its varying
/// parameters.
fn ratio_rows(file: &ResultFile) -> Vec<charts::RatioRow> {
    let mut rows = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let zokio: Vec<&crate::schema::Comparison> = file
        .comparisons
        .iter()
        .filter(|c| c.runtime == "zokio")
        .collect();
    for c in &zokio {
        if !names.contains(&c.workload.as_str()) {
            names.push(&c.workload);
        }
    }
    for name in names {
        let comps: Vec<_> = zokio.iter().filter(|c| c.workload == name).collect();
        let (_, varying) = points_of(comps.iter().map(|c| &c.params));
        for c in comps {
            let point = point_label(&c.params, &varying);
            let mut label = c.workload.clone();
            if !point.is_empty() {
                label = format!("{label} [{point}]");
            }
            if c.baseline != file.run.baseline {
                label = format!("{label} vs {}", c.baseline);
            }
            rows.push(charts::RatioRow {
                label,
                advantage: advantage(c),
            });
        }
    }
    rows
}

/// One chart of a workload section.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    pub(crate) src: String,
    pub(crate) alt: String,
    pub(crate) caption: String,
}

/// One workload's part of a group page.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadSection {
    pub(crate) name: String,
    pub(crate) unit: String,
    pub(crate) higher_is_better: bool,
    pub(crate) claim_ids: Vec<String>,
    pub(crate) figures: Vec<Figure>,
    /// (point label, runtime, result).
    pub(crate) rows: Vec<(String, WorkloadResult)>,
    /// (point label, comparison).
    pub(crate) comparisons: Vec<(String, crate::schema::Comparison)>,
    /// (runtime, reason) of the runtimes that could not run it.
    pub(crate) not_applicable: Vec<(String, String)>,
}

fn runtimes_of(rs: &[&WorkloadResult]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rs {
        if !out.contains(&r.runtime) {
            out.push(r.runtime.clone());
        }
    }
    out
}

/// A chart's caption: the fixed and varying parameters, then `what` and the rounds its
/// points ran (taken from the results, which may differ from the run's: an open-loop step
/// runs fewer).
fn caption(
    file: &ResultFile,
    rs: &[&WorkloadResult],
    points: &[Params],
    varying: &[String],
    what: &str,
) -> String {
    let fixed: Params = points
        .first()
        .map(|p| {
            p.iter()
                .filter(|(k, _)| !varying.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut text = format!("Parameters: {}", params_text(&fixed));
    if fixed.is_empty() {
        text = String::from("Parameters: none");
    }
    if !varying.is_empty() {
        text.push_str(&format!("; varies: {}", varying.join(", ")));
    }
    let least = rs
        .iter()
        .map(|r| r.stats.n)
        .min()
        .unwrap_or(file.run.rounds);
    let most = rs
        .iter()
        .map(|r| r.stats.n)
        .max()
        .unwrap_or(file.run.rounds);
    let rounds = if least == most {
        format!("{most}")
    } else {
        format!("{least} to {most}")
    };
    text.push_str(&format!(
        ". {what} {rounds} rounds{}.",
        if file.run.quick { " (quick run)" } else { "" },
    ));
    text
}

const RATE_KEYS: [&str; 2] = ["offered_rate", "rate"];

fn workload_section(
    file: &ResultFile,
    name: &str,
    rs: &[&WorkloadResult],
    site: &mut Site,
) -> Result<WorkloadSection, ReportError> {
    let first = rs[0];
    let (points, varying) = points_of(rs.iter().map(|r| &r.params));
    let runtimes = runtimes_of(rs);
    let find = |rt: &str, p: &Params| {
        rs.iter()
            .find(|r| r.runtime == rt && &r.params == p)
            .copied()
    };
    let y_desc = format!(
        "{} ({} is better)",
        first.unit,
        if first.higher_is_better {
            "higher"
        } else {
            "lower"
        }
    );
    let mut figures = Vec::new();
    let has_percentiles = rs.iter().any(|r| r.percentiles.is_some());
    let rate_key = RATE_KEYS
        .iter()
        .find(|k| varying.iter().any(|v| v == *k))
        .copied();
    let file_stem = name.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_',
        "-",
    );
    if let (true, Some(key)) = (has_percentiles, rate_key) {
        let series: Vec<charts::Series<(f64, [f64; 3])>> = runtimes
            .iter()
            .map(|rt| charts::Series {
                name: rt.clone(),
                values: points
                    .iter()
                    .filter_map(|p| {
                        let r = find(rt, p)?;
                        let pc = r.percentiles.as_ref()?;
                        Some((p.get(key)?.as_f64()?, [pc.p50, pc.p99, pc.p999]))
                    })
                    .collect(),
            })
            .collect();
        let src = format!("charts/{file_stem}-rate.svg");
        let svg = charts::rate_chart(
            &format!("{name}: latency against offered rate"),
            "latency (log scale)",
            &format!("offered rate, {}", first.unit),
            &series,
        )?;
        figures.push(site.add_chart(
            src,
            svg,
            format!("{name}: p50, p99 and p99.9 latency per runtime against the offered rate"),
            caption(
                file,
                rs,
                &points,
                &varying,
                "Open loop, latency from the intended send time;",
            ),
        ));
    } else if has_percentiles {
        let mut series = Vec::new();
        for p in &points {
            for rt in &runtimes {
                let Some(pc) = find(rt, p).and_then(|r| r.percentiles.clone()) else {
                    continue;
                };
                let label = point_label(p, &varying);
                series.push(charts::Series {
                    name: if label.is_empty() {
                        rt.clone()
                    } else {
                        format!("{rt} {label}")
                    },
                    values: vec![pc.p50, pc.p90, pc.p99, pc.p999],
                });
            }
        }
        let src = format!("charts/{file_stem}-percentiles.svg");
        let svg = charts::percentile_chart(
            &format!("{name}: latency percentiles"),
            "latency (log scale)",
            &series,
        )?;
        figures.push(site.add_chart(
            src,
            svg,
            format!("{name}: p50 to p99.9 latency per runtime"),
            caption(
                file,
                rs,
                &points,
                &varying,
                "Percentiles of every sample pooled over",
            ),
        ));
    } else if varying.iter().any(|k| k == "workers") && varying.len() == 1 {
        let x_of = |p: &Params| p.get("workers").and_then(Value::as_f64);
        let mut x_labels: Vec<(f64, String)> = points
            .iter()
            .filter_map(|p| x_of(p).map(|x| (x, format!("{x}"))))
            .collect();
        x_labels.sort_by(|a, b| a.0.total_cmp(&b.0));
        let series: Vec<charts::Series<(f64, Option<Estimate>)>> = runtimes
            .iter()
            .map(|rt| {
                let mut values: Vec<(f64, Option<Estimate>)> = points
                    .iter()
                    .filter_map(|p| Some((x_of(p)?, find(rt, p).map(|r| estimate(&r.stats)))))
                    .collect();
                values.sort_by(|a, b| a.0.total_cmp(&b.0));
                charts::Series {
                    name: rt.clone(),
                    values,
                }
            })
            .collect();
        let src = format!("charts/{file_stem}-scaling.svg");
        let svg = charts::line_chart(
            &format!("{name}: scaling with workers"),
            &y_desc,
            "worker threads",
            &x_labels,
            &series,
            first.higher_is_better,
        )?;
        figures.push(site.add_chart(
            src,
            svg,
            if first.higher_is_better {
                format!(
                    "{name}: median per runtime against worker threads, with ideal-linear lines"
                )
            } else {
                format!("{name}: median per runtime against worker threads")
            },
            caption(
                file,
                rs,
                &points,
                &varying,
                "Medians with 95% bootstrap intervals over",
            ),
        ));
    } else {
        let labels: Vec<String> = points.iter().map(|p| bar_label(p, &varying)).collect();
        let series: Vec<charts::Series<Option<Estimate>>> = runtimes
            .iter()
            .map(|rt| charts::Series {
                name: rt.clone(),
                values: points
                    .iter()
                    .map(|p| find(rt, p).map(|r| estimate(&r.stats)))
                    .collect(),
            })
            .collect();
        let src = format!("charts/{file_stem}-bars.svg");
        let x_desc = if varying.is_empty() {
            String::from("runtime (see the legend)")
        } else {
            varying.join(", ")
        };
        let svg = charts::bar_chart(name, &y_desc, &x_desc, &labels, &series)?;
        figures.push(site.add_chart(
            src,
            svg,
            format!("{name}: median per runtime with 95% interval"),
            caption(
                file,
                rs,
                &points,
                &varying,
                "Bars: medians; error bars: 95% bootstrap intervals over",
            ),
        ));
    }
    let rows = points
        .iter()
        .flat_map(|p| {
            runtimes
                .iter()
                .filter_map(|rt| find(rt, p))
                .map(|r| (point_label(p, &varying), r.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // This section's comparisons: its workload's, with or without a figure of their own
    // as its results are.
    let own_figure = first.params.get("figure");
    let comparisons = file
        .comparisons
        .iter()
        .filter(|c| c.workload == first.workload && c.params.get("figure") == own_figure)
        .map(|c| (point_label(&c.params, &varying), c.clone()))
        .collect();
    Ok(WorkloadSection {
        name: name.to_owned(),
        unit: first.unit.clone(),
        higher_is_better: first.higher_is_better,
        claim_ids: first.claim_ids.clone(),
        figures,
        rows,
        comparisons,
        not_applicable: file
            .not_applicable
            .iter()
            .filter(|n| n.workload == first.workload && own_figure.is_none())
            .map(|n| (n.runtime.clone(), n.reason.clone()))
            .collect(),
    })
}

/// One history chart: a workload point across runs.
#[derive(Debug, Clone)]
pub(crate) struct HistoryChart {
    pub(crate) title: String,
    pub(crate) figure: Figure,
}

fn history(runs: &[Run], site: &mut Site) -> Result<Vec<HistoryChart>, ReportError> {
    // Every (workload, params) in first-appearance order over all runs.
    let mut keys: Vec<(String, Params, String, bool)> = Vec::new();
    for run in runs {
        for r in &run.file.results {
            if !keys
                .iter()
                .any(|(w, p, _, _)| *w == r.workload && *p == r.params)
            {
                keys.push((
                    r.workload.clone(),
                    r.params.clone(),
                    r.unit.clone(),
                    r.higher_is_better,
                ));
            }
        }
    }
    let x_labels: Vec<(f64, String)> = (1..=runs.len())
        .map(|i| (i as f64, format!("#{i}")))
        .collect();
    let mut out = Vec::new();
    for (i, (workload, params, unit, higher)) in keys.iter().enumerate() {
        let mut runtimes: Vec<String> = Vec::new();
        for run in runs {
            for r in run
                .file
                .results
                .iter()
                .filter(|r| r.workload == *workload && r.params == *params)
            {
                if !runtimes.contains(&r.runtime) {
                    runtimes.push(r.runtime.clone());
                }
            }
        }
        let series: Vec<charts::Series<(f64, Option<Estimate>)>> = runtimes
            .iter()
            .map(|rt| charts::Series {
                name: rt.clone(),
                values: runs
                    .iter()
                    .enumerate()
                    .map(|(j, run)| {
                        let e = run
                            .file
                            .results
                            .iter()
                            .find(|r| {
                                r.workload == *workload && r.params == *params && r.runtime == *rt
                            })
                            .map(|r| estimate(&r.stats));
                        ((j + 1) as f64, e)
                    })
                    .collect(),
            })
            .collect();
        let all_points: Vec<Params> = keys
            .iter()
            .filter(|(w, ..)| w == workload)
            .map(|(_, p, ..)| p.clone())
            .collect();
        let (_, varying) = points_of(all_points.iter());
        let point = point_label(params, &varying);
        let title = if point.is_empty() {
            workload.clone()
        } else {
            format!("{workload} [{point}]")
        };
        let src = format!("charts/history-{i:03}.svg");
        let svg = charts::line_chart(
            &format!("{title} across runs"),
            &format!(
                "{unit} ({} is better)",
                if *higher { "higher" } else { "lower" }
            ),
            "run (see the table above)",
            &x_labels,
            &series,
            false,
        )?;
        let figure = site.add_chart(
            src,
            svg,
            format!("{title}: median per runtime in each run"),
            format!(
                "Parameters: {}. Medians with 95% bootstrap intervals; a gap means the run did not measure this point.",
                params_text(params)
            ),
        );
        out.push(HistoryChart { title, figure });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
