//! The HTML of the report pages, written with `maud` (which escapes every interpolated
//! string). No JavaScript, no external resources: one inline style sheet per page.

use super::league::League;
use super::{charts::RatioRow, params_text, Figure, HistoryChart, Run, WorkloadSection};
use crate::claims::fmt_num;
use crate::schema::{fmt_ns, Comparison, Verdict};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A group page's contents.
#[derive(Debug, Clone)]
pub(crate) struct GroupPage {
    pub(crate) group: String,
    pub(crate) workloads: Vec<WorkloadSection>,
}

/// The groups the issue names; those without workloads in a run are listed as such.
const EXPECTED_GROUPS: [&str; 7] = [
    "sched", "asyncfn", "latency", "memory", "scale", "stress", "net",
];

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fafafa;line-height:1.45}
header{background:#1f3b57;color:#fff;padding:14px 28px}
header a{color:#cfe3ff;margin-right:14px;text-decoration:none}
header a.here{color:#fff;font-weight:600;text-decoration:underline}
header h1{margin:0 0 6px 0;font-size:1.5em}
main{max-width:1180px;margin:0 auto;padding:8px 28px 40px 28px}
h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}
figure{margin:12px 0 20px 0;background:#fff;border:1px solid #ddd;padding:8px}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:.9em;color:#444;margin-top:6px}
table{border-collapse:collapse;margin:8px 0 16px 0;font-size:.92em;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f6}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.better{color:#1e7a3c;font-weight:600}
.worse{color:#b42323;font-weight:600}
.unclear{color:#666}
td.best{font-weight:700}
td.tied{text-decoration:underline}
span.best{font-weight:700}
span.tied{text-decoration:underline}
span.small{font-size:.85em;color:#555}
div.wide{overflow-x:auto}
table.league{font-size:.82em}
table.league td{padding:3px 5px}
span.swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #999;vertical-align:middle}
.v-reproduced{color:#1e7a3c}
.v-not_reproduced{color:#b42323}
.v-not_measurable_as_stated{color:#8a5a00}
.v-not_yet_measured,.v-not_run{color:#666}
.note{color:#555;font-size:.92em}
code{background:#eef2f6;padding:0 3px}
";

pub(crate) fn group_file(group: &str) -> String {
    format!("group-{group}.html")
}

fn group_title(group: &str) -> String {
    match group {
        "sched" => "Scheduling",
        "asyncfn" => "async fn",
        "latency" => "Latency",
        "memory" => "Memory",
        "scale" => "Scalability",
        "stress" => "Stress",
        "net" => "Network",
        "zsync" => "zsync rows (second document)",
        "sync" => "Channels and locks",
        "timers" => "Timers",
        "tokio_shapes" => "Tokio's own benchmark shapes",
        other => other,
    }
    .to_owned()
}

fn page(
    title: &str,
    here: &str,
    nav: &[(String, usize)],
    has_history: bool,
    body: Markup,
) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (title) }
                    nav {
                        a href="index.html" class=[(here == "index").then_some("here")] { "Summary" }
                        @for (g, _) in nav {
                            a href=(group_file(g)) class=[(here == g).then_some("here")] { (group_title(g)) }
                        }
                        @if has_history {
                            a href="history.html" class=[(here == "history").then_some("here")] { "History" }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    markup.into_string()
}

fn figure(f: &Figure) -> Markup {
    html! {
        figure {
            img src=(f.src) alt=(f.alt);
            figcaption { (f.caption) }
        }
    }
}

/// "better" / "worse" / "unclear" for a comparison, from its interval, and the reading
/// ("smol worse").
fn reading(c: &Comparison) -> (&'static str, String) {
    if let Some(why) = &c.no_verdict {
        return ("unclear", format!("no verdict: {why}"));
    }
    let better_if_above = c.higher_is_better;
    let class = if c.stats.ci95_low > 1.0 {
        if better_if_above {
            "better"
        } else {
            "worse"
        }
    } else if c.stats.ci95_high < 1.0 {
        if better_if_above {
            "worse"
        } else {
            "better"
        }
    } else {
        "unclear"
    };
    let text = match class {
        "unclear" => "no clear difference".to_owned(),
        _ => format!("{} {class}", c.runtime),
    };
    (class, text)
}

/// The chart colour of runtime `name` as CSS.
fn swatch(name: &str, runtimes: &[crate::schema::RuntimeRecord]) -> String {
    let index = runtimes.iter().position(|r| r.name == name).unwrap_or(0);
    let c = super::charts::series_color(name, index);
    format!("rgb({},{},{})", c.0, c.1, c.2)
}

fn ratio_text(c: &Comparison) -> String {
    let f = |x: f64| {
        if x.abs() >= 0.1 {
            format!("{x:.2}")
        } else {
            format!("{x:.4}")
        }
    };
    format!(
        "{}x [{}, {}]",
        f(c.stats.median),
        f(c.stats.ci95_low),
        f(c.stats.ci95_high)
    )
}

pub(crate) fn index(
    run: &Run,
    rows: &[RatioRow],
    league: &League,
    nav: &[(String, usize)],
    has_history: bool,
) -> String {
    let f = &run.file;
    let zokio_points = f
        .comparisons
        .iter()
        .filter(|c| c.runtime == "zokio")
        .count();
    let counts =
        f.comparisons
            .iter()
            .filter(|c| c.runtime == "zokio")
            .fold((0, 0, 0), |(b, w, u), c| match reading(c).0 {
                "better" => (b + 1, w, u),
                "worse" => (b, w + 1, u),
                _ => (b, w, u + 1),
            });
    let missing: Vec<&str> = EXPECTED_GROUPS
        .iter()
        .filter(|g| !nav.iter().any(|(n, _)| n == *g))
        .copied()
        .collect();
    let verdicts = [
        Verdict::Reproduced,
        Verdict::NotReproduced,
        Verdict::NotMeasurableAsStated,
        Verdict::NotRun,
        Verdict::NotYetMeasured,
    ];
    let verdict_counts: Vec<(Verdict, usize)> = verdicts
        .iter()
        .map(|v| (*v, f.claims.iter().filter(|c| c.verdict == *v).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let body = html! {
        @if f.run.measure.is_count() {
            p.measure {
                strong { "Measure: " (f.run.measure.name()) ". " }
                "Every figure of this run is " (f.run.measure.describe()) "."
            }
        }
        p {
            "Runtimes " (f.run.runtimes.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", "))
            ", each against " (f.run.baseline) " (or the named reference), measured in the same run with interleaved rounds. "
            "zokio, of " (zokio_points) " workload points: "
            span.better { (counts.0) " zokio better" } ", "
            span.worse { (counts.1) " zokio worse" } ", "
            span.unclear { (counts.2) " no clear difference" }
            " (judged by whether the 95% interval of the per-round ratio excludes 1)."
        }
        h2 { "Run" }
        table {
            tr { th { "source" } td { code { (run.source.display()) } } }
            tr { th { "started / finished (UTC)" } td { (f.run.started_utc) " / " (f.run.finished_utc) } }
            tr { th { "zbench" } td { (f.run.zbench_version) ", " (f.run.build_profile) " build, commit " (f.run.git_commit.as_deref().unwrap_or("unknown")) } }
            tr { th { "zokio I/O driver" } td { (f.run.zokio_io_driver.as_deref().unwrap_or("not recorded")) } }
            tr { th { "measure" } td { (f.run.measure.name()) } }
            tr { th { "worker placement" } td { (f.run.worker_placement.as_deref().unwrap_or("where the kernel put them")) } }
            tr { th { "rounds, warm-up" } td { (f.run.rounds) " interleaved rounds per workload, " (f.run.warmup_ms) " ms warm-up per runtime" @if f.run.quick { " (quick run)" } } }
            tr { th { "bootstrap seed" } td { (f.run.seed) } }
            tr { th { "command" } td { code { (f.run.command_line.join(" ")) } } }
        }
        h2 { "Runtimes" }
        table {
            tr { th { "runtime" } th { "version" } th { "I/O driver" } th { "capabilities" } th { "stand-ins and differences" } }
            @for r in &f.run.runtimes {
                tr {
                    td { span.swatch style=(format!("background:{}", swatch(&r.name, &f.run.runtimes))) {} " " (r.name) @if r.name == f.run.baseline { " (baseline)" } }
                    td { (r.version.as_deref().unwrap_or("not recorded")) }
                    td { (r.io_driver.as_deref().unwrap_or("not recorded")) }
                    td { (r.capabilities.join(", ")) }
                    td { @for (k, v) in &r.equivalents { (k) ": " (v) br; } }
                }
            }
        }
        @if league.runtimes.len() >= 2 && !league.rows.is_empty() {
            h2 { "League table" }
            p {
                "Per workload point, each runtime's median and its ratio to " (f.run.baseline) " with the 95% interval. "
                span.best { "Bold" } ": the best median of the point; "
                span.tied { "underlined" } ": not the best, but its 95% interval overlaps the best one's (not distinguishable)."
            }
            table {
                tr { th { "runtime" } th { "best" } th { "tied with the best" } th { "points measured" } }
                @for (i, name) in league.runtimes.iter().enumerate() {
                    tr {
                        td { (name) }
                        td.num { (league.best[i]) }
                        td.num { (league.tied[i]) }
                        td.num { (league.rows.iter().filter(|r| r.cells[i].is_some()).count()) }
                    }
                }
            }
            div.wide { table.league {
                tr {
                    th { "workload" } th { "point" } th { "unit" }
                    @for name in &league.runtimes { th { (name) } }
                }
                @for row in &league.rows {
                    tr {
                        td { (row.workload) }
                        td { (if row.point.is_empty() { "-" } else { row.point.as_str() }) }
                        td { (row.unit) @if !row.higher_is_better { " (lower is better)" } }
                        @for (i, cell) in row.cells.iter().enumerate() {
                            @match cell {
                                Some(c) => td class=(if c.best { "num best" } else if c.tied { "num tied" } else { "num" }) {
                                    (fmt_num(c.median))
                                    @if let Some(r) = &c.ratio { br; span.small { (format!("{:.2}x [{:.2}, {:.2}]", r.median, r.ci95_low, r.ci95_high)) } }
                                },
                                None => @match not_applicable(f, &row.workload, &league.runtimes[i]) {
                                    Some(why) => td.num.unclear title=(why) { "n/a" },
                                    None => td.num.unclear { "-" },
                                },
                            }
                        }
                    }
                }
            } }
            p { "n/a: not applicable on that runtime (the reasons are listed below); -: not measured there." }
        }
        @if !f.not_applicable.is_empty() {
            h2 { "Not applicable" }
            table {
                tr { th { "workload" } th { "runtime" } th { "why" } }
                @for na in &f.not_applicable {
                    tr { td { (na.workload) } td { (na.runtime) } td { "not applicable: " (na.reason) } }
                }
            }
        }
        h2 { "Machine" }
        table {
            tr { th { "CPU" } td { (f.machine.cpu_model) ", " (f.machine.logical_cores) " logical cores" } }
            tr { th { "memory" } td { (fmt_num(f.machine.memory_bytes as f64 / (1u64 << 30) as f64)) " GiB" } }
            tr { th { "kernel" } td { (f.machine.kernel) } }
            tr { th { "io_uring" } td { @if f.machine.io_uring.available { "available" } @else { "not available" } ": " (f.machine.io_uring.detail) } }
            tr { th { "load average (1 min) at start" } td { @match f.machine.load_average_1m { Some(l) => (format!("{l:.2}")), None => "unknown" } } }
        }
        h2 { "zokio against its baseline" }
        (figure(&Figure {
            src: "charts/ratios.svg".into(),
            alt: "zokio's advantage per workload point with 95% intervals and the parity line".into(),
            caption: format!(
                "{} workload points. Each dot is the median of the per-round ratios zokio/baseline, each line its 95% bootstrap interval; \
                 for time and memory figures (lower is better) the ratio is inverted so that right of 1.0 always means zokio is better. \
                 The table below gives the raw ratios.",
                rows.len()
            ),
        }))
        h2 { "Groups" }
        ul {
            @for (g, n) in nav {
                li { a href=(group_file(g)) { (group_title(g)) } " (" (n) " workloads)" }
            }
            @for g in &missing {
                li.unclear { (group_title(g)) ": no workloads in this run (not built yet, or not selected)" }
            }
            @if has_history { li { a href="history.html" { "History" } " across the result files given" } }
        }
        h2 { "Comparisons" }
        table {
            tr { th { "workload" } th { "parameters" } th { "runtime" } th { "baseline" } th { "ratio runtime/baseline [95%]" } th { "reading" } }
            @for c in &f.comparisons {
                @let (class, text) = reading(c);
                tr {
                    td { (c.workload) }
                    td { (params_text(&c.params)) }
                    td { (c.runtime) }
                    td { (c.baseline) }
                    td.num { (ratio_text(c)) }
                    td class=(class) { (text) @if !c.higher_is_better { " (lower is better)" } }
                }
            }
        }
        h2 { "Claims audit" }
        p {
            "Every figure of the reference documents (../shared/CLAIMS.md), against what zokio and Tokio measured here: "
            @for (i, (v, n)) in verdict_counts.iter().enumerate() {
                @if i > 0 { ", " }
                span class=(format!("v-{}", verdict_key(*v))) { (n) " " (v.label()) }
            }
            "."
        }
        table {
            tr { th { "claim" } th { "documented" } th { "zokio" } th { "Tokio" } th { "other runtimes" } th { "unit" } th { "verdict" } th { "explanation" } }
            @for c in &f.claims {
                tr {
                    td { (c.claim_id) }
                    td { (c.documented) }
                    td.num { (c.zokio.map(fmt_num).unwrap_or_else(|| "-".into())) }
                    td.num { (c.tokio.map(fmt_num).unwrap_or_else(|| "-".into())) }
                    td.num { @for (i, (name, x)) in c.peers.iter().enumerate() { @if i > 0 { br; } (name) " " (fmt_num(*x)) } }
                    td { (c.unit.as_deref().unwrap_or("")) }
                    td class=(format!("v-{}", verdict_key(c.verdict))) { (c.verdict.label()) }
                    td { (c.explanation) }
                }
            }
        }
    };
    page("zbench report", "index", nav, has_history, body)
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Reproduced => "reproduced",
        Verdict::NotReproduced => "not_reproduced",
        Verdict::NotMeasurableAsStated => "not_measurable_as_stated",
        Verdict::NotRun => "not_run",
        Verdict::NotYetMeasured => "not_yet_measured",
    }
}

pub(crate) fn group(
    run: &Run,
    g: &GroupPage,
    nav: &[(String, usize)],
    has_history: bool,
) -> String {
    let body = html! {
        p.note {
            "Run of " (run.file.run.started_utc) " on " (run.file.machine.cpu_model) " (" (run.file.machine.logical_cores) " cores). "
            "Every workload ran on each runtime with the same parameters, in interleaved rounds; figures are medians with 95% bootstrap intervals."
        }
        @for w in &g.workloads {
            h2 id=(w.name) { (w.name) }
            p.note {
                "Unit: " (w.unit) " (" @if w.higher_is_better { "higher" } @else { "lower" } " is better)."
                @if !w.claim_ids.is_empty() { " Claims: " (w.claim_ids.join(", ")) "." }
            }
            @for f in &w.figures { (figure(f)) }
            @for (rt, why) in &w.not_applicable {
                p.unclear { (rt) ": not applicable: " (why) }
            }
            table {
                tr { th { "point" } th { "runtime" } th { "median" } th { "95% interval" } th { "rounds" } th { "errors" } th { "latency p50 / p99 / p99.9" } }
                @for (point, r) in &w.rows {
                    tr {
                        td { (if point.is_empty() { "-" } else { point }) }
                        td { (r.runtime) }
                        td.num { (fmt_num(r.stats.median)) " " (r.unit) }
                        td.num { (fmt_num(r.stats.ci95_low)) " .. " (fmt_num(r.stats.ci95_high)) }
                        td.num { (r.stats.n) }
                        td.num { (r.errors) }
                        td.num { @if let Some(p) = &r.percentiles { (fmt_ns(p.p50)) " / " (fmt_ns(p.p99)) " / " (fmt_ns(p.p999)) } @else { "-" } }
                    }
                }
            }
            @if w.rows.iter().any(|(_, r)| !r.extra.is_empty()) {
                table {
                    tr { th { "point" } th { "runtime" } th { "accounting and other figures" } }
                    @for (point, r) in w.rows.iter().filter(|(_, r)| !r.extra.is_empty()) {
                        tr {
                            td { (if point.is_empty() { "-" } else { point }) }
                            td { (r.runtime) }
                            td { @for (i, (k, v)) in r.extra.iter().enumerate() { @if i > 0 { ", " } (k) " " (fmt_num(*v)) } }
                        }
                    }
                }
            }
            @if !w.comparisons.is_empty() {
                table {
                    tr { th { "point" } th { "runtime" } th { "baseline" } th { "ratio runtime/baseline [95%]" } th { "reading" } }
                    @for (point, c) in &w.comparisons {
                        @let (class, text) = reading(c);
                        tr {
                            td { (if point.is_empty() { "-" } else { point }) }
                            td { (c.runtime) }
                            td { (c.baseline) }
                            td.num { (ratio_text(c)) }
                            td class=(class) { (text) }
                        }
                    }
                }
            }
        }
    };
    page(
        &format!("zbench: {}", group_title(&g.group)),
        &g.group,
        nav,
        has_history,
        body,
    )
}

pub(crate) fn history(runs: &[Run], charts: &[HistoryChart], nav: &[(String, usize)]) -> String {
    let body = html! {
        p.note {
            "One line per runtime for every workload point, across the result files in the order given. "
            "Absolute figures move with the machine and its load; for a verdict between two runs use "
            code { "zbench compare" } ", which compares the zokio/Tokio ratios measured in the same run."
        }
        table {
            tr { th { "run" } th { "file" } th { "started (UTC)" } th { "commit" } th { "kind" } th { "machine" } }
            @for (i, r) in runs.iter().enumerate() {
                tr {
                    td { "#" (i + 1) }
                    td { code { (r.source.display()) } }
                    td { (r.file.run.started_utc) }
                    td { (r.file.run.git_commit.as_deref().map(|c| &c[..c.len().min(10)]).unwrap_or("unknown")) }
                    td { @if r.file.run.quick { "quick" } @else { "full" } ", " (r.file.run.rounds) " rounds" }
                    td { (r.file.machine.cpu_model) ", " (r.file.machine.logical_cores) " cores" }
                }
            }
        }
        @for c in charts {
            h2 { (c.title) }
            (figure(&c.figure))
        }
    };
    page("zbench: history", "history", nav, true, body)
}

/// Why `workload` was not applicable on `runtime` in `f`, if it was not.
fn not_applicable<'a>(
    f: &'a crate::schema::ResultFile,
    workload: &str,
    runtime: &str,
) -> Option<&'a str> {
    f.not_applicable
        .iter()
        .find(|n| n.workload == workload && n.runtime == runtime)
        .map(|n| n.reason.as_str())
}
