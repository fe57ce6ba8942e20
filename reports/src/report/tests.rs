//! The report on synthetic result files: valid SVG with the expected series, pages that
//! link only charts that exist, escaping, history, errors.

use super::*;
use crate::schema::{
    ClaimAudit, Comparison, IoUringStatus, MachineInfo, Percentiles, RunInfo, Stats, Verdict,
    SCHEMA,
};
use serde_json::json;

fn stats(median: f64) -> Stats {
    Stats {
        n: 5,
        median,
        mean: median,
        min: median * 0.9,
        max: median * 1.1,
        mad: median * 0.02,
        ci95_low: median * 0.95,
        ci95_high: median * 1.05,
    }
}

fn result(
    workload: &str,
    runtime: &str,
    params: serde_json::Value,
    unit: &str,
    higher: bool,
    median: f64,
) -> WorkloadResult {
    let params: Params = serde_json::from_value(params).unwrap();
    WorkloadResult {
        workload: workload.into(),
        group: workload.split('.').next().unwrap().into(),
        claim_ids: vec![workload.into()],
        runtime: runtime.into(),
        params,
        unit: unit.into(),
        higher_is_better: higher,
        samples: vec![median; 5],
        stats: stats(median),
        percentiles: None,
        errors: 0,
        no_verdict: None,
        extra: Default::default(),
        measure: Default::default(),
    }
}

fn latency(workload: &str, runtime: &str, params: serde_json::Value, p50: f64) -> WorkloadResult {
    let mut r = result(workload, runtime, params, "ns", false, p50);
    r.percentiles = Some(Percentiles {
        p50,
        p90: p50 * 2.0,
        p99: p50 * 5.0,
        p999: p50 * 20.0,
        max: p50 * 50.0,
    });
    r
}

fn comparison(
    workload: &str,
    baseline: &str,
    params: serde_json::Value,
    ratio: f64,
    higher: bool,
) -> Comparison {
    Comparison {
        workload: workload.into(),
        runtime: "zokio".into(),
        params: serde_json::from_value(params).unwrap(),
        baseline: baseline.into(),
        ratios: vec![ratio; 5],
        stats: stats(ratio),
        no_verdict: None,
        higher_is_better: higher,
        measure: Default::default(),
    }
}

/// A run with one workload of every chart kind, a non-Tokio baseline and a parameter that
/// needs escaping.
fn sample(scale: f64, with_extra: bool) -> ResultFile {
    let mut results = vec![
        result(
            "sched.spawn",
            "zokio",
            json!({"tasks": 1000, "note": "<b>&"}),
            "tasks/s",
            true,
            2e6 * scale,
        ),
        result(
            "sched.spawn",
            "tokio",
            json!({"tasks": 1000, "note": "<b>&"}),
            "tasks/s",
            true,
            1e6,
        ),
        result(
            "sched.pool",
            "zokio",
            json!({"threads": 1}),
            "ops/s",
            true,
            4e7,
        ),
        result(
            "sched.pool",
            "crossbeam-ArrayQueue",
            json!({"threads": 1}),
            "ops/s",
            true,
            4.5e7,
        ),
        result(
            "sched.pool",
            "zokio",
            json!({"threads": 2}),
            "ops/s",
            true,
            7e6,
        ),
        result(
            "sched.pool",
            "crossbeam-ArrayQueue",
            json!({"threads": 2}),
            "ops/s",
            true,
            7.5e6,
        ),
        latency("latency.wakeup", "zokio", json!({"workers": 2}), 8000.0),
        latency("latency.wakeup", "tokio", json!({"workers": 2}), 9000.0),
        result(
            "memory.per_task",
            "zokio",
            json!({"tasks": 1000000}),
            "bytes/task",
            false,
            96.0,
        ),
        result(
            "memory.per_task",
            "tokio",
            json!({"tasks": 1000000}),
            "bytes/task",
            false,
            316.0,
        ),
        result(
            "scale.workers",
            "zokio",
            json!({"workers": 1, "tasks": 10}),
            "tasks/s",
            true,
            1e6,
        ),
        result(
            "scale.workers",
            "tokio",
            json!({"workers": 1, "tasks": 10}),
            "tasks/s",
            true,
            8e5,
        ),
        result(
            "scale.workers",
            "zokio",
            json!({"workers": 2, "tasks": 10}),
            "tasks/s",
            true,
            1.8e6,
        ),
        result(
            "scale.workers",
            "tokio",
            json!({"workers": 2, "tasks": 10}),
            "tasks/s",
            true,
            1.2e6,
        ),
    ];
    // A network workload: its figure is a rate, its percentiles are latencies in ns.
    let open_loop = |runtime: &str, rate: u64, p50: f64| {
        let mut r = latency(
            "net.http_open_loop",
            runtime,
            json!({"offered_rate": rate}),
            p50,
        );
        r.unit = "requests/s".into();
        r.higher_is_better = true;
        r.stats = stats(rate as f64);
        r
    };
    for (rate, p) in [(1000, 100_000.0), (5000, 150_000.0), (20000, 2_000_000.0)] {
        results.push(open_loop("zokio", rate, p));
        results.push(open_loop("tokio", rate, p * 1.3));
    }
    if with_extra {
        results.push(result(
            "sched.extra",
            "zokio",
            json!({}),
            "ops/s",
            true,
            5.0,
        ));
        results.push(result(
            "sched.extra",
            "tokio",
            json!({}),
            "ops/s",
            true,
            4.0,
        ));
    }
    ResultFile {
        schema: SCHEMA.into(),
        run: RunInfo {
            started_utc: "2026-11-21T00:00:00Z".into(),
            finished_utc: "2026-11-21T00:01:00Z".into(),
            zbench_version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef".into()),
            build_profile: "release".into(),
            quick: true,
            command_line: vec!["zbench".into(), "all".into(), "--quick".into()],
            seed: 1,
            warmup_ms: 200,
            rounds: 5,
            zokio_io_driver: Some("epoll".into()),
            runtimes: Vec::new(),
            baseline: "tokio".into(),
            parts: Vec::new(),
            measure: Default::default(),
            worker_placement: Some("one CPU each: 0,1".into()),
        },
        machine: MachineInfo {
            cpu_model: "test cpu".into(),
            logical_cores: 2,
            memory_bytes: 1 << 34,
            kernel: "6.18".into(),
            io_uring: IoUringStatus {
                available: true,
                detail: "ok".into(),
            },
            load_average_1m: None,
        },
        not_applicable: Vec::new(),
        results,
        comparisons: vec![
            comparison(
                "sched.spawn",
                "tokio",
                json!({"tasks": 1000, "note": "<b>&"}),
                2.0 * scale,
                true,
            ),
            comparison(
                "sched.pool",
                "crossbeam-ArrayQueue",
                json!({"threads": 1}),
                0.89,
                true,
            ),
            comparison(
                "sched.pool",
                "crossbeam-ArrayQueue",
                json!({"threads": 2}),
                0.93,
                true,
            ),
            comparison(
                "latency.wakeup",
                "tokio",
                json!({"workers": 2}),
                0.89,
                false,
            ),
            comparison(
                "memory.per_task",
                "tokio",
                json!({"tasks": 1000000}),
                0.30,
                false,
            ),
            comparison(
                "scale.workers",
                "tokio",
                json!({"workers": 1, "tasks": 10}),
                1.25,
                true,
            ),
            comparison(
                "scale.workers",
                "tokio",
                json!({"workers": 2, "tasks": 10}),
                1.0,
                true,
            ),
        ],
        claims: vec![ClaimAudit {
            claim_id: "sched.spawn".into(),
            documented: "451,875,282 ops/s (\"90.4x\" a <5M> target)".into(),
            sources: vec!["001".into()],
            workload: Some("sched.spawn".into()),
            unit: Some("tasks/s".into()),
            zokio: Some(2e6),
            tokio: Some(1e6),
            peers: [("smol".to_owned(), 1.5e6)].into(),
            verdict: Verdict::NotReproduced,
            factor: Some(0.0044),
            explanation: "measured here".into(),
        }],
    }
}

fn run(file: ResultFile, name: &str) -> Run {
    Run {
        source: PathBuf::from(name),
        file,
    }
}

fn svg<'a>(site: &'a Site, name: &str) -> &'a str {
    site.files
        .iter()
        .find(|(p, _)| p == Path::new(name))
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {name} in {:?}",
                site.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

/// Every `<text>` of an SVG document, which must parse as XML with an `<svg>` root.
fn svg_texts(doc: &str) -> Vec<String> {
    let parsed = roxmltree::Document::parse(doc).expect("valid SVG");
    assert_eq!(parsed.root_element().tag_name().name(), "svg");
    parsed
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect()
}

#[test]
fn every_chart_is_valid_svg_with_title_axes_and_series_names() {
    let site = render(&[run(sample(1.0, false), "a.json")]).unwrap();
    assert!(site.charts() >= 7, "{}", site.charts());
    for (path, contents) in &site.files {
        if path.extension().is_some_and(|e| e == "svg") {
            let texts = svg_texts(contents);
            assert!(
                texts.len() >= 4,
                "{}: too little text: {texts:?}",
                path.display()
            );
        }
    }
    let has = |name: &str, wanted: &[&str]| {
        let texts = svg_texts(svg(&site, name));
        for w in wanted {
            assert!(
                texts.iter().any(|t| t == w),
                "{name}: no text {w:?} in {texts:?}"
            );
        }
    };
    // Bars: title, unit on the axis, one legend entry per runtime, category per point.
    has(
        "charts/sched.spawn-bars.svg",
        &[
            "sched.spawn",
            "tasks/s (higher is better)",
            "zokio",
            "tokio",
        ],
    );
    has(
        "charts/sched.pool-bars.svg",
        &[
            "zokio",
            "crossbeam-ArrayQueue",
            "threads=1",
            "threads=2",
            "threads",
        ],
    );
    has(
        "charts/memory.per_task-bars.svg",
        &["bytes/task (lower is better)"],
    );
    // Percentile curves on a log axis, p50 to p99.9.
    has(
        "charts/latency.wakeup-percentiles.svg",
        &[
            "latency.wakeup: latency percentiles",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "zokio",
            "tokio",
            "percentile",
        ],
    );
    // Scaling with the ideal-linear lines.
    has(
        "charts/scale.workers-scaling.svg",
        &[
            "worker threads",
            "zokio",
            "tokio",
            "zokio ideal linear",
            "tokio ideal linear",
        ],
    );
    // Open-loop latency against offered rate.
    has(
        "charts/net.http_open_loop-rate.svg",
        &[
            "zokio p50",
            "zokio p99",
            "zokio p99.9",
            "tokio p99",
            "tokio p99.9",
            "offered rate, requests/s",
            "latency (log scale)",
        ],
    );
    let rate_chart = svg(&site, "charts/net.http_open_loop-rate.svg");
    assert!(
        !rate_chart.contains("latency, requests/s"),
        "latency labelled in the throughput unit"
    );
    // Its latency axis is labelled in times, not in raw nanoseconds ("2.00M").
    let labels = |chart: &str| -> Vec<String> {
        chart
            .split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .map(|t| t.trim().to_owned())
            .collect()
    };
    let rate_labels = labels(rate_chart);
    assert!(
        rate_labels.iter().any(|l| l == "1.00 ms"),
        "{rate_labels:?}"
    );
    assert!(
        !rate_labels.iter().any(|l| l.ends_with('M')),
        "{rate_labels:?}"
    );
    let pc_labels = labels(svg(&site, "charts/latency.wakeup-percentiles.svg"));
    assert!(
        pc_labels.iter().any(|l| l.ends_with(" \u{b5}s")),
        "{pc_labels:?}"
    );
    assert!(!pc_labels.iter().any(|l| l.ends_with('k')), "{pc_labels:?}");
    // The figures table gives the latencies as times, not in the figure's unit.
    let net = svg(&site, "group-net.html");
    assert!(
        net.contains("100.0 \u{b5}s / 500.0 \u{b5}s / 2.00 ms"),
        "{net}"
    );
    assert!(net.contains("2.00 ms / 10.00 ms / 40.00 ms"));
    // The index chart: the parity line and one label per comparison.
    has(
        "charts/ratios.svg",
        &[
            "1.0: parity",
            "zokio better (interval above 1)",
            "zokio worse (interval below 1)",
            "sched.pool [threads=1] vs crossbeam-ArrayQueue",
            "scale.workers [workers=2]",
        ],
    );
}

#[test]
fn ratio_rows_orient_lower_is_better_figures() {
    let file = sample(1.0, false);
    let rows = ratio_rows(&file);
    assert_eq!(rows.len(), file.comparisons.len());
    let mem = rows
        .iter()
        .find(|r| r.label.starts_with("memory.per_task"))
        .unwrap();
    // bytes/task ratio 0.30 (zokio uses less): an advantage of 1/0.30.
    assert!((mem.advantage.median - 1.0 / 0.30).abs() < 1e-9);
    assert!(mem.advantage.low < mem.advantage.median && mem.advantage.median < mem.advantage.high);
    let spawn = rows
        .iter()
        .find(|r| r.label.starts_with("sched.spawn"))
        .unwrap();
    assert_eq!(spawn.advantage.median, 2.0);
}

fn img_sources(html: &str) -> Vec<String> {
    html.split("<img src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[test]
fn written_pages_link_only_charts_that_exist_and_every_chart_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_report(&[run(sample(1.0, false), "a.json")], dir.path()).unwrap();
    assert_eq!(written.pages[0], dir.path().join("index.html"));
    let names: Vec<_> = written
        .pages
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for g in [
        "group-sched.html",
        "group-latency.html",
        "group-memory.html",
        "group-scale.html",
        "group-net.html",
    ] {
        assert!(names.iter().any(|n| n == g), "{g} missing from {names:?}");
    }
    let mut shown = Vec::new();
    for page in &written.pages {
        let html = fs::read_to_string(page).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", page.display());
        assert!(
            !html.contains("<script"),
            "no JavaScript: {}",
            page.display()
        );
        for src in img_sources(&html) {
            assert!(
                dir.path().join(&src).is_file(),
                "{} links missing {src}",
                page.display()
            );
            shown.push(src);
        }
    }
    let charts: Vec<_> = fs::read_dir(dir.path().join("charts"))
        .unwrap()
        .map(|e| format!("charts/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    assert_eq!(charts.len(), written.charts);
    for c in &charts {
        assert!(shown.contains(c), "{c} is on no page");
    }
    // No temporary files are left behind.
    assert!(charts.iter().all(|c| !c.contains(".tmp-")));
}

#[test]
fn a_counted_run_says_what_its_figures_are() {
    let mut f = sample(1.0, false);
    f.run.measure = crate::schema::Measure::Instructions;
    let site = render(&[run(f, "a.json")]).unwrap();
    let index = svg(&site, "index.html");
    assert!(index.contains("Measure: instructions"), "{index}");
    assert!(index.contains("counted by Valgrind"), "{index}");
    // A wall-clock run has no such banner.
    let site = render(&[run(sample(1.0, false), "a.json")]).unwrap();
    assert!(!svg(&site, "index.html").contains("Measure: "));
}

#[test]
fn index_has_summary_machine_comparisons_and_claims_with_text_escaped() {
    let site = render(&[run(sample(1.0, false), "a.json")]).unwrap();
    let index = svg(&site, "index.html");
    for wanted in [
        "test cpu",
        "0123456789abcdef",
        "zbench all --quick",
        "charts/ratios.svg",
        "sched.spawn",
        "not reproduced",
        "4 zokio better",
        "2 zokio worse",
        "1 no clear difference",
        "group-latency.html",
        "Stress: no workloads in this run",
        "451,875,282 ops/s (&quot;90.4x&quot; a &lt;5M&gt; target)",
        "note=&lt;b&gt;&amp;",
        "smol 1.50M",
    ] {
        assert!(index.contains(wanted), "index lacks {wanted:?}");
    }
    assert!(!index.contains("<b>&"), "unescaped parameter text");
    assert!(
        !index.contains("history.html"),
        "no history page for one run"
    );
    // The group page shows the parameters under the chart and the table of figures.
    let sched = svg(&site, "group-sched.html");
    assert!(sched.contains("<figcaption>Parameters: note=&lt;b&gt;&amp;, tasks=1000."));
    assert!(sched.contains("crossbeam-ArrayQueue"));
}

#[test]
fn history_has_one_line_per_runtime_across_runs_in_order() {
    let runs = [
        run(sample(1.0, false), "old.json"),
        run(sample(1.5, true), "new.json"),
    ];
    let site = render(&runs).unwrap();
    let history = svg(&site, "history.html");
    let old_at = history.find("old.json").unwrap();
    let new_at = history.find("new.json").unwrap();
    assert!(old_at < new_at, "runs in the order given");
    let index = svg(&site, "index.html");
    assert!(index.contains("history.html"));
    assert!(
        index.contains("new.json"),
        "the pages describe the last run"
    );
    let charts: Vec<&str> = img_sources(history)
        .into_iter()
        .map(|s| svg(&site, &s))
        .collect();
    // One chart per workload point across both runs, including the one only the new run has.
    let points = 1 + 2 + 1 + 1 + 2 + 3 + 1;
    assert_eq!(charts.len(), points);
    let first = svg_texts(charts[0]);
    for w in ["zokio", "tokio", "#1", "#2"] {
        assert!(first.iter().any(|t| t == w), "{w} not in {first:?}");
    }
    assert!(history.contains("sched.extra"));
}

#[test]
fn no_runs_and_unwritable_output_are_errors() {
    assert!(matches!(render(&[]), Err(ReportError::NoRuns)));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let err = write_report(&[run(sample(1.0, false), "a.json")], &file).unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }), "{err}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn empty_run_still_renders() {
    let mut file = sample(1.0, false);
    file.results.clear();
    file.comparisons.clear();
    let site = render(&[run(file, "empty.json")]).unwrap();
    assert_eq!(site.pages().count(), 1);
    svg_texts(svg(&site, "charts/ratios.svg"));
}

#[test]
fn three_runtimes_get_a_league_table_their_ratios_and_not_applicable_cells() {
    use crate::schema::{NotApplicable, RuntimeRecord};
    let mut file = sample(1.0, false);
    file.run.runtimes = ["zokio", "tokio", "smol"]
        .into_iter()
        .map(|n| RuntimeRecord {
            name: n.into(),
            version: Some("1.0".into()),
            io_driver: Some("epoll".into()),
            capabilities: vec!["multi_thread".into()],
            equivalents: Default::default(),
        })
        .collect();
    let params = json!({"tasks": 1000, "note": "<b>&"});
    file.results.push(result(
        "sched.spawn",
        "smol",
        params.clone(),
        "tasks/s",
        true,
        3e6,
    ));
    let mut smol = comparison("sched.spawn", "tokio", params, 3.0, true);
    smol.runtime = "smol".into();
    file.comparisons.push(smol);
    file.not_applicable.push(NotApplicable {
        workload: "sync.notify_ping_pong".into(),
        runtime: "smol".into(),
        reason: "smol has no Notify with a stored permit".into(),
    });
    for (rt, rate) in [("zokio", 2e6), ("tokio", 1e6)] {
        file.results.push(result(
            "sync.notify_ping_pong",
            rt,
            json!({}),
            "round trips/s",
            true,
            rate,
        ));
    }
    let site = render(&[run(file, "three.json")]).unwrap();
    let index = svg(&site, "index.html");
    for wanted in [
        "League table",
        // smol's 3M is the best of sched.spawn, zokio's 2M and Tokio's 1M are not.
        "<td class=\"num best\">3.00M",
        "3.00x [2.85, 3.15]",
        "smol better",
        "not applicable: smol has no Notify with a stored permit",
        // In the league table, smol's cell of that workload says so.
        "<td class=\"num unclear\" title=\"smol has no Notify with a stored permit\">n/a</td>",
    ] {
        assert!(index.contains(wanted), "index lacks {wanted:?}");
    }
    // The ratio chart stays zokio's: smol's comparison adds no row to it.
    let chart = svg(&site, "charts/ratios.svg");
    assert!(!chart.contains("smol"), "smol in zokio's ratio chart");
}

#[test]
fn a_point_with_a_figure_of_its_own_gets_its_own_section_in_its_unit() {
    let mut file = sample(1.0, false);
    for (rt, rate, cpu) in [("zokio", 140_000.0, 7.0), ("tokio", 142_000.0, 6.9)] {
        file.results
            .push(result("net.echo", rt, json!({}), "requests/s", true, rate));
        let mut twin = result(
            "net.echo",
            rt,
            json!({"figure": "server CPU time"}),
            "us/request",
            false,
            cpu,
        );
        twin.higher_is_better = false;
        file.results.push(twin);
    }
    let site = render(&[run(file, "twin.json")]).unwrap();
    let page = site
        .files
        .iter()
        .find(|(_, c)| c.contains("id=\"net.echo\""))
        .map(|(_, c)| c.as_str())
        .expect("a page with net.echo");
    let rate = page.find("id=\"net.echo\"").unwrap();
    let twin = page
        .find("id=\"net.echo (server CPU time)\"")
        .expect("the twin's own section");
    assert!(rate < twin, "the twin follows its workload");
    let twin_section = &page[twin..];
    assert!(twin_section.contains("Unit: us/request (lower is better)"));
    let rate_section = &page[rate..twin];
    assert!(rate_section.contains("Unit: requests/s (higher is better)"));
    assert!(!rate_section.contains("us/request"));
    svg_texts(svg(&site, "charts/net.echo--server-CPU-time--bars.svg"));
}

#[test]
fn open_loop_steps_are_labelled_by_their_share_under_bars() {
    let varying = vec![
        "offered_rate".to_owned(),
        "offered_share_of_peak".to_owned(),
    ];
    let mut p = super::Params::new();
    p.insert("offered_rate".into(), json!(11658.0));
    p.insert("offered_share_of_peak".into(), json!(0.1));
    assert_eq!(super::bar_label(&p, &varying), "10% of peak");
    let mut q = super::Params::new();
    q.insert("body_bytes".into(), json!(13));
    assert_eq!(
        super::bar_label(&q, &["body_bytes".to_owned()]),
        "body_bytes=13"
    );
}

#[test]
fn a_caption_gives_the_rounds_its_points_ran() {
    let mut file = sample(1.0, false);
    for (rt, n) in [("zokio", 4), ("tokio", 4)] {
        let mut r = result("net.steps", rt, json!({}), "requests/s", true, 10.0);
        r.stats.n = n;
        file.results.push(r);
    }
    assert_eq!(file.run.rounds, 5);
    let site = render(&[run(file, "rounds.json")]).unwrap();
    let page = site
        .files
        .iter()
        .find(|(_, c)| c.contains("id=\"net.steps\""))
        .map(|(_, c)| c.as_str())
        .unwrap();
    let section = &page[page.find("id=\"net.steps\"").unwrap()..];
    assert!(
        section.contains("over 4 rounds"),
        "the run's 5 rounds were printed instead"
    );
}
