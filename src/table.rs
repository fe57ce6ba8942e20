//! Text tables for the terminal.

use zbench_report::schema::{ClaimAudit, ResultFile, Verdict};

type Params = std::collections::BTreeMap<String, serde_json::Value>;

use zbench_report::claims::fmt_num as human;

/// The per-workload comparison table: a row per workload point and runtime, with the
/// runtime's ratio to the point's baseline and what it means; then the workloads a runtime
/// could not run.
pub(crate) fn print_run(file: &ResultFile) {
    let m = &file.machine;
    let names: Vec<&str> = file.run.runtimes.iter().map(|r| r.name.as_str()).collect();
    println!(
        "zbench {} | {} | {} logical cores | kernel {} | {} build | {} rounds{} | seed {} | {} against {}",
        file.run.zbench_version,
        m.cpu_model,
        m.logical_cores,
        m.kernel,
        file.run.build_profile,
        file.run.rounds,
        if file.run.quick { " (quick)" } else { "" },
        file.run.seed,
        names.join(", "),
        file.run.baseline,
    );
    if file.run.measure.is_count() {
        println!("measure: {}", file.run.measure.describe());
    }
    if let Some(placement) = &file.run.worker_placement {
        println!("workers pinned: {placement}");
    }
    if file.run.parts.len() > 1 {
        let parts: Vec<String> = file
            .run
            .parts
            .iter()
            .map(|p| format!("{} workload(s) from {}", p.workloads.len(), p.started_utc))
            .collect();
        println!("resumed run, {} parts: {}", parts.len(), parts.join("; "));
    }
    println!(
        "{:<38} {:<21} {:>10} {:<11} {:>22}  verdict",
        "workload", "runtime", "median", "unit", "ratio [95% CI]"
    );
    // One group of rows per workload point, in result order.
    let mut seen: Vec<(&str, &Params)> = Vec::new();
    for r in &file.results {
        let params = &r.params;
        if seen.iter().any(|(w, p)| *w == r.workload && *p == params) {
            continue;
        }
        seen.push((&r.workload, params));
    }
    for (workload, params) in seen {
        // Points of multi-point workloads are told apart by the parameters that vary.
        let siblings: Vec<_> = file
            .results
            .iter()
            .filter(|r| r.workload == workload)
            .collect();
        let mut label = workload.to_owned();
        for (k, v) in params
            .iter()
            .filter(|(k, _)| siblings.iter().any(|o| o.params.get(*k) != params.get(*k)))
        {
            label.push_str(&format!(" {k}={v}"));
        }
        for r in file
            .results
            .iter()
            .filter(|r| r.workload == workload && r.params == *params)
        {
            let cmp = file
                .comparisons
                .iter()
                .find(|c| c.runtime == r.runtime && c.workload == workload && c.params == *params);
            let is_baseline = file
                .comparisons
                .iter()
                .any(|c| c.baseline == r.runtime && c.workload == workload && c.params == *params);
            let (ratio, verdict) = match cmp {
                Some(c) if c.no_verdict.is_some() => (
                    format!(
                        "{:>6.2}x [{:.2}, {:.2}]",
                        c.stats.median, c.stats.ci95_low, c.stats.ci95_high
                    ),
                    format!(
                        "no verdict: {}",
                        c.no_verdict.as_deref().unwrap_or_default()
                    ),
                ),
                Some(c) => {
                    let s = &c.stats;
                    // Which way is better, and does the interval exclude "no difference"?
                    let verdict = match (s.ci95_low > 1.0, s.ci95_high < 1.0, c.higher_is_better) {
                        (true, _, true) | (_, true, false) => "better",
                        (_, true, true) | (true, _, false) => "worse",
                        _ => "no clear difference",
                    };
                    (
                        format!("{:>6.2}x [{:.2}, {:.2}]", s.median, s.ci95_low, s.ci95_high),
                        match verdict {
                            "better" | "worse" => format!("{verdict} than {}", c.baseline),
                            _ => format!("{verdict} from {}", c.baseline),
                        },
                    )
                }
                None if is_baseline => ("baseline".to_owned(), String::new()),
                None => ("-".to_owned(), String::new()),
            };
            println!(
                "{label:<38} {:<21} {:>10} {:<11} {ratio:>22}  {verdict}",
                r.runtime,
                human(r.stats.median),
                r.unit
            );
            label.clear();
        }
    }
    for na in &file.not_applicable {
        println!(
            "{:<38} {:<21} not applicable: {}",
            na.workload, na.runtime, na.reason
        );
    }
    println!("figures: medians of interleaved rounds; ratio: median of per-round ratios to the baseline with a bootstrap 95% interval");
}

/// The claims audit table.
pub(crate) fn print_claims(claims: &[ClaimAudit]) {
    println!(
        "{:<28} {:<26} {:>10} {:>10}  verdict",
        "claim", "documented", "zokio", "tokio"
    );
    for c in claims {
        let fig = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), human);
        let mut documented = c.documented.clone();
        if documented.chars().count() > 26 {
            documented = documented.chars().take(25).collect::<String>() + "\u{2026}";
        }
        let mut verdict = match (c.verdict, c.factor) {
            (Verdict::NotReproduced, Some(f)) => {
                format!("{} ({f:.3}x of documented)", c.verdict.label())
            }
            (v, _) => v.label().to_owned(),
        };
        if !c.peers.is_empty() {
            let peers: Vec<String> = c
                .peers
                .iter()
                .map(|(name, x)| format!("{name} {}", human(*x)))
                .collect();
            verdict = format!("{verdict}; {}", peers.join(", "));
        }
        println!(
            "{:<28} {:<26} {:>10} {:>10}  {verdict}",
            c.claim_id,
            documented,
            fig(c.zokio),
            fig(c.tokio)
        );
    }
    let count = |v: Verdict| claims.iter().filter(|c| c.verdict == v).count();
    println!(
        "{} claims: {} reproduced, {} not reproduced, {} not measurable as stated, {} not run, {} not yet measured",
        claims.len(),
        count(Verdict::Reproduced),
        count(Verdict::NotReproduced),
        count(Verdict::NotMeasurableAsStated),
        count(Verdict::NotRun),
        count(Verdict::NotYetMeasured)
    );
}
