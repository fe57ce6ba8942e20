//! The league table of a run: per workload point, each runtime's figure and its ratio to
//! the baseline, which runtime did best, and per runtime how often it was best or not
//! distinguishable from the best.

use super::{point_label, points_of, Params};
use crate::schema::{ResultFile, Stats, WorkloadResult};

/// One runtime at one point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    /// Median, in the workload's unit.
    pub(crate) median: f64,
    /// The runtime's ratio to the baseline, if one was taken.
    pub(crate) ratio: Option<Stats>,
    /// The best median of the point.
    pub(crate) best: bool,
    /// Not the best, but its 95% interval overlaps the best one's: not distinguishable.
    pub(crate) tied: bool,
}

/// One workload point: a cell per runtime of the run (`None`: not measured there).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) workload: String,
    pub(crate) point: String,
    pub(crate) unit: String,
    pub(crate) higher_is_better: bool,
    pub(crate) cells: Vec<Option<Cell>>,
}

/// The table, and per runtime (in the run's order) the points where it was best and those
/// where it was tied with the best.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct League {
    pub(crate) runtimes: Vec<String>,
    pub(crate) rows: Vec<Row>,
    pub(crate) best: Vec<usize>,
    pub(crate) tied: Vec<usize>,
}

fn overlaps(a: &Stats, b: &Stats) -> bool {
    a.ci95_low <= b.ci95_high && b.ci95_low <= a.ci95_high
}

/// The league of `file`: every point measured on at least two of the run's runtimes.
pub(crate) fn league(file: &ResultFile) -> League {
    let runtimes: Vec<String> = file.run.runtimes.iter().map(|r| r.name.clone()).collect();
    let mut workloads: Vec<&str> = Vec::new();
    for r in &file.results {
        if !workloads.contains(&r.workload.as_str()) {
            workloads.push(&r.workload);
        }
    }
    let mut rows = Vec::new();
    for w in workloads {
        let results: Vec<&WorkloadResult> =
            file.results.iter().filter(|r| r.workload == w).collect();
        let (points, varying) = points_of(results.iter().map(|r| &r.params));
        for params in &points {
            let at: Vec<Option<&WorkloadResult>> = runtimes
                .iter()
                .map(|rt| {
                    results
                        .iter()
                        .copied()
                        .find(|r| &r.runtime == rt && &r.params == params)
                })
                .collect();
            let measured: Vec<&WorkloadResult> = at.iter().flatten().copied().collect();
            if measured.len() < 2 {
                continue;
            }
            let higher = measured[0].higher_is_better;
            let better = |a: f64, b: f64| if higher { a > b } else { a < b };
            let best = measured
                .iter()
                .copied()
                .reduce(|a, b| {
                    if better(b.stats.median, a.stats.median) {
                        b
                    } else {
                        a
                    }
                })
                .expect("two or more");
            let cells = at
                .iter()
                .map(|r| {
                    r.map(|r| {
                        let is_best = std::ptr::eq(r, best);
                        Cell {
                            median: r.stats.median,
                            ratio: ratio_of(file, r, params),
                            best: is_best,
                            tied: !is_best && overlaps(&r.stats, &best.stats),
                        }
                    })
                })
                .collect();
            rows.push(Row {
                workload: w.to_owned(),
                point: point_label(params, &varying),
                unit: best.unit.clone(),
                higher_is_better: higher,
                cells,
            });
        }
    }
    let count = |f: fn(&Cell) -> bool| -> Vec<usize> {
        (0..runtimes.len())
            .map(|i| {
                rows.iter()
                    .filter(|r| r.cells[i].as_ref().is_some_and(f))
                    .count()
            })
            .collect()
    };
    League {
        best: count(|c| c.best),
        tied: count(|c| c.tied),
        runtimes,
        rows,
    }
}

fn ratio_of(file: &ResultFile, r: &WorkloadResult, params: &Params) -> Option<Stats> {
    file.comparisons
        .iter()
        .find(|c| c.runtime == r.runtime && c.workload == r.workload && &c.params == params)
        .map(|c| c.stats.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::RuntimeRecord;

    fn result(workload: &str, runtime: &str, median: f64, spread: f64) -> WorkloadResult {
        let mut r = crate::schema::tests::sample_file().results.remove(0);
        r.workload = workload.into();
        r.runtime = runtime.into();
        r.stats.median = median;
        r.stats.ci95_low = median - spread;
        r.stats.ci95_high = median + spread;
        r
    }

    #[test]
    fn best_and_ties_are_counted_per_runtime() {
        let mut f = crate::schema::tests::sample_file();
        f.run.runtimes = ["zokio", "tokio", "smol"]
            .into_iter()
            .map(|n| RuntimeRecord {
                name: n.into(),
                version: None,
                io_driver: None,
                capabilities: vec![],
                equivalents: Default::default(),
            })
            .collect();
        f.results = vec![
            // a: zokio best; smol's interval reaches zokio's, Tokio's does not.
            result("a", "zokio", 10.0, 1.0),
            result("a", "tokio", 5.0, 1.0),
            result("a", "smol", 8.5, 1.0),
            // b: smol best, zokio distinct; Tokio not measured.
            result("b", "zokio", 3.0, 0.1),
            result("b", "smol", 4.0, 0.1),
            // c: one runtime only: no league row.
            result("c", "zokio", 1.0, 0.1),
        ];
        let l = league(&f);
        assert_eq!(l.rows.len(), 2);
        assert_eq!(l.best, [1, 0, 1]);
        assert_eq!(l.tied, [0, 0, 1]);
        assert!(l.rows[1].cells[1].is_none());
    }
}
