//! Text tables for the terminal.

use zbench_report::schema::{ClaimAudit, ResultFile, Verdict};

/// `1234567.0` -> `1.23M`.
pub(crate) fn human(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The per-workload comparison table.
pub(crate) fn print_run(file: &ResultFile) {
    let m = &file.machine;
    println!(
        "zbench {} | {} | {} logical cores | kernel {} | {} build | {} rounds{} | seed {}",
        file.run.zbench_version,
        m.cpu_model,
        m.logical_cores,
        m.kernel,
        file.run.build_profile,
        file.run.rounds,
        if file.run.quick { " (quick)" } else { "" },
        file.run.seed
    );
    println!(
        "{:<38} {:>10} {:>10} {:<11} {:>20}  verdict",
        "workload", "zokio", "tokio", "unit", "zokio/tokio [95% CI]"
    );
    for c in &file.comparisons {
        let median = |rt: &str| {
            file.results
                .iter()
                .find(|r| r.workload == c.workload && r.params == c.params && r.runtime == rt)
                .map(|r| (r.stats.median, r.unit.as_str()))
        };
        let (Some((z, unit)), Some((t, _))) = (median("zokio"), median(&c.baseline)) else {
            continue;
        };
        // Points of multi-point workloads are told apart by the parameter that varies.
        let siblings: Vec<_> = file
            .comparisons
            .iter()
            .filter(|o| o.workload == c.workload)
            .collect();
        let varying = ["workers", "tasks"].into_iter().find(|k| {
            siblings
                .iter()
                .any(|o| o.params.get(*k) != c.params.get(*k))
        });
        let label = match varying.and_then(|k| c.params.get(k).map(|v| (k, v))) {
            Some((k, v)) => format!("{} {k}={v}", c.workload),
            None => c.workload.clone(),
        };
        let vs = if c.baseline == "tokio" {
            String::new()
        } else {
            format!(" (vs {})", c.baseline)
        };
        let s = &c.stats;
        // Which way is better, and does the interval exclude "no difference"?
        let verdict = match (s.ci95_low > 1.0, s.ci95_high < 1.0, c.higher_is_better) {
            (true, _, true) | (_, true, false) => "zokio better",
            (_, true, true) | (true, _, false) => "zokio worse",
            _ => "no clear difference",
        };
        println!(
            "{:<38} {:>10} {:>10} {:<11} {:>6.2}x [{:.2}, {:.2}]  {verdict}{vs}",
            label,
            human(z),
            human(t),
            unit,
            s.median,
            s.ci95_low,
            s.ci95_high
        );
    }
    println!("figures: medians of interleaved rounds; ratio: median of per-round zokio/tokio ratios with a bootstrap 95% interval");
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
        let verdict = match (c.verdict, c.factor) {
            (Verdict::NotReproduced, Some(f)) => {
                format!("{} ({f:.3}x of documented)", c.verdict.label())
            }
            (v, _) => v.label().to_owned(),
        };
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
