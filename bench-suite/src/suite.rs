//! What a workload is and what it measures: [`Workload`] (name, unit, parameters, claim
//! ids, what it needs of a runtime, how to run it), [`Ctx`] (what it runs with) and
//! [`Outcome`] (its points, a series per runtime). The workloads themselves are in
//! [`crate::catalogue`]; how they are measured, in [`crate::strategy`].

use crate::measure::MeasureConfig;
use crate::rt::{Cap, RunOptions};
use std::path::PathBuf;
use zbench_report::schema::Percentiles;

/// What a workload gets to run with.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Warm-up, rounds, worker count.
    pub cfg: MeasureConfig,
    /// The zbench executable, for workloads that measure in a fresh child process (memory);
    /// `None` runs them in-process (tests only: allocator reuse skews memory figures).
    pub child_exe: Option<PathBuf>,
    /// How long each runtime runs a stress workload (10 s; 2 s with `--quick`).
    pub stress_duration: std::time::Duration,
    /// The runtimes to measure, in report order (registered names, see
    /// [`crate::rt::NAMES`]). The runner passes each workload only those that have what it
    /// [needs](Workload::needs).
    pub runtimes: Vec<&'static str>,
    /// The runtime every ratio is taken against (`tokio` by default).
    pub baseline: &'static str,
    /// Settings every runtime the run builds gets (zokio's I/O driver).
    pub options: RunOptions,
    /// How the network workloads place their servers and load generators
    /// (`--client-threads`, `--pin`).
    pub net: crate::placement::NetOptions,
    /// Which part of the work this call does: all of it, except on the shard threads of a
    /// thread-per-core runtime ([`crate::strategy::RateBody`]).
    pub share: Share,
}

/// Shard `index` of `count`: a body running there does its part of each size
/// ([`Ctx::share`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// This shard, from 0.
    pub index: usize,
    /// Shards in all (1: the whole work).
    pub count: usize,
}

impl Share {
    /// The whole work.
    pub const ALL: Share = Share { index: 0, count: 1 };

    /// This shard's part of `n`: `n` divided among the shards, the remainder going to the
    /// first ones, so the parts add up to `n`.
    pub fn of(self, n: usize) -> usize {
        n / self.count + usize::from(self.index < n % self.count)
    }

    /// Which of `n` numbered items are this shard's: [`of`](Self::of) them, after those
    /// of the shards before it, so the ranges of the shards tile `0..n` in order.
    pub fn range(self, n: usize) -> std::ops::Range<usize> {
        let start = self.index * (n / self.count) + self.index.min(n % self.count);
        start..start + self.of(n)
    }
}

impl Ctx {
    /// A context measuring `runtimes` against `baseline`, with child processes in-process.
    pub fn new(cfg: MeasureConfig, runtimes: Vec<&'static str>, baseline: &'static str) -> Ctx {
        Ctx {
            cfg,
            child_exe: None,
            stress_duration: std::time::Duration::from_secs(10),
            runtimes,
            baseline,
            options: RunOptions::default(),
            net: Default::default(),
            share: Share::ALL,
        }
    }

    /// This call's part of `n` (all of it outside a thread-per-core shard; see
    /// [`Share::of`]).
    pub fn share(&self, n: usize) -> usize {
        self.share.of(n)
    }

    /// Which of `n` numbered items are this call's (`0..n` outside a thread-per-core
    /// shard; see [`Share::range`]).
    pub fn share_range(&self, n: usize) -> std::ops::Range<usize> {
        self.share.range(n)
    }

    /// Whether runtime `name` is measured.
    pub fn runs(&self, name: &str) -> bool {
        self.runtimes.contains(&name)
    }
}

/// One measured point of a workload: a series of samples per runtime (or per
/// implementation, for points that compare zokio's parts with a library), as measured
/// (ops/s for rate workloads; nanoseconds or bytes for the others). The runner converts
/// them to the workload's [`Figure`].
#[derive(Debug, Clone, Default)]
pub struct Point {
    /// Parameters that vary between points (e.g. `workers`), added to the workload's.
    pub params: Vec<(&'static str, serde_json::Value)>,
    /// One series per runtime measured; sample `i` of every series comes from round `i`.
    pub series: Vec<Series>,
    /// The series every ratio is taken against; `None`: the run's baseline runtime.
    pub baseline: Option<&'static str>,
    /// The figure of this point when it is not the workload's (a network point's server
    /// CPU per request beside its requests/s): samples are recorded as measured, in this
    /// unit. Such a point carries a `figure` parameter naming it, and the claims audit
    /// skips it.
    pub figure: Option<OwnFigure>,
}

/// A point's own figure ([`Point::figure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnFigure {
    /// Its unit (e.g. `us/request`).
    pub unit: &'static str,
    /// Whether a larger figure is better.
    pub higher_is_better: bool,
}

impl Point {
    /// A point of plain samples, one series per name.
    pub fn from_samples(series: Vec<(&'static str, Vec<f64>)>) -> Point {
        Point {
            series: series
                .into_iter()
                .map(|(name, samples)| Series::new(name, samples))
                .collect(),
            ..Point::default()
        }
    }

    /// The series of `name`, if measured.
    pub fn series(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }
}

/// One runtime's samples at one point, with what was measured beside them.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The runtime (or implementation) measured.
    pub name: &'static str,
    /// Samples, one per round.
    pub samples: Vec<f64>,
    /// Latency percentiles, for latency workloads.
    pub percentiles: Option<Percentiles>,
    /// Failed operations (stress workloads' accounting).
    pub errors: u64,
    /// Figures beside the main one (see `WorkloadResult::extra`).
    pub extra: Extra,
    /// Why these samples cannot carry a verdict (a network run whose load generator was
    /// the bottleneck), if so.
    pub no_verdict: Option<String>,
}

impl Series {
    /// Plain samples of `name`.
    pub fn new(name: &'static str, samples: Vec<f64>) -> Series {
        Series {
            name,
            samples,
            ..Series::default()
        }
    }
}

/// Named figures beside a point's main one (name with unit, value).
pub type Extra = Vec<(&'static str, f64)>;

/// Everything a workload measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// One or more points (scaling workloads have one per parameter value).
    pub points: Vec<Point>,
}

impl Outcome {
    /// An outcome of one point.
    pub fn one(point: Point) -> Outcome {
        Outcome {
            points: vec![point],
        }
    }
}

/// One workload.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    /// Stable name, `group.name`.
    pub name: &'static str,
    /// Unit of the reported figure.
    pub unit: &'static str,
    /// Fixed parameters, as recorded next to the figure: numbers are the constants the
    /// body is called with.
    pub params: &'static [(&'static str, Param)],
    /// Claim ids (CLAIMS.md) this workload reproduces.
    pub claims: &'static [&'static str],
    /// What the recorded figure is (which way is better).
    pub figure: Figure,
    /// Whether it runs on a multi-thread runtime (then `workers` is recorded).
    pub multi_thread: bool,
    /// What a runtime must offer to run it; any other runtime of the run is recorded as
    /// "not applicable" with the missing capability as the reason.
    pub needs: &'static [Cap],
    /// What one operation is, and anything a reader must know to interpret the figure.
    pub description: &'static str,
    /// Runs it on `ctx.runtimes`.
    pub run: fn(&Ctx) -> Result<Outcome, String>,
}

/// A parameter's value, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// A number (a count or a size).
    N(usize),
    /// A description.
    T(&'static str),
}

impl Param {
    /// As JSON: a number or a string.
    pub fn json(self) -> serde_json::Value {
        match self {
            Param::N(n) => n.into(),
            Param::T(t) => t.into(),
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::N(n) => write!(f, "{n}"),
            Param::T(t) => f.write_str(t),
        }
    }
}

/// How a workload's measured samples become its reported figure (applied by the runner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Operations per second, as measured (higher is better).
    Rate,
    /// Nanoseconds per operation, `1e9 / rate` (lower is better).
    NanosPerOp,
    /// A quantity where lower is better (bytes, nanoseconds of latency).
    LowerIsBetter,
}

impl Figure {
    /// Converts a measured sample into the reported figure: ops/s stay ops/s, or become
    /// nanoseconds per operation; a lower-is-better quantity is kept as is.
    pub fn report(self, measured: f64) -> f64 {
        match self {
            Figure::Rate | Figure::LowerIsBetter => measured,
            Figure::NanosPerOp => 1e9 / measured,
        }
    }

    /// Whether a larger reported figure is better.
    pub fn higher_is_better(self) -> bool {
        self == Figure::Rate
    }
}

impl Workload {
    /// The report group: the name up to the first dot.
    pub fn group(&self) -> &'static str {
        self.name.split('.').next().unwrap_or(self.name)
    }

    /// Parameters as `k=v k=v`.
    pub fn params_text(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
