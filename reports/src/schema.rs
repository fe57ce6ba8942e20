//! The result file: one JSON document per zbench run.
//!
//! These types are the schema; `reports/README.md` shows an example. Every figure carries
//! its unit and the parameters it was measured with, and every sample is kept, so a reader
//! can recompute any statistic.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The schema identifier written into every result file.
pub const SCHEMA: &str = "zbench/2";

/// The schemas [`read`] accepts: this one, and `zbench/1` (two runtimes, zokio against one
/// baseline), whose missing fields take the values a zbench/1 run had (see the defaults
/// below).
pub const READABLE: &[&str] = &["zbench/1", SCHEMA];

/// What a run's figures measure. One run measures one thing; every figure records it, so
/// that figures of different measures are never compared with each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Time on the wall clock: operations per second, nanoseconds, bytes, as each
    /// workload's unit says (the default, and every file from before `--measure`).
    #[default]
    WallClock,
    /// User-space instructions per operation, counted by Valgrind's Callgrind over the
    /// measured phase only (every thread of the process; the kernel's work is not counted).
    Instructions,
    /// Heap allocations per operation, counted by zbench's global allocator over the
    /// measured phase (every thread of the process); the bytes they asked for beside it.
    Allocations,
}

impl Measure {
    /// Every measure, in the order `--measure` lists them.
    pub const ALL: [Measure; 3] = [
        Measure::WallClock,
        Measure::Instructions,
        Measure::Allocations,
    ];

    /// The name on the command line and in the result file: `wall_clock`, `instructions`,
    /// `allocations`.
    pub fn name(self) -> &'static str {
        match self {
            Measure::WallClock => "wall_clock",
            Measure::Instructions => "instructions",
            Measure::Allocations => "allocations",
        }
    }

    /// Parses [`name`](Self::name) (also `wall-clock`).
    pub fn from_name(s: &str) -> Option<Measure> {
        Measure::ALL
            .into_iter()
            .find(|m| m.name() == s || m.name().replace('_', "-") == s)
    }

    /// Whether figures are counts per operation (instructions, allocations) rather than
    /// the workload's own unit.
    pub fn is_count(self) -> bool {
        self != Measure::WallClock
    }

    /// The unit of a counted figure of a workload whose wall-clock unit is `unit`:
    /// `instructions/task` for `tasks/s`, `allocations/switch` for `ns/switch`,
    /// `instructions/op` for anything else. `unit` unchanged for [`Measure::WallClock`].
    pub fn unit(self, unit: &str) -> String {
        let what = match self {
            Measure::WallClock => return unit.to_owned(),
            Measure::Instructions => "instructions",
            Measure::Allocations => "allocations",
        };
        let op = unit
            .strip_suffix("/s")
            .map(|op| {
                // tasks -> task, switches -> switch, msg -> msg.
                op.strip_suffix("ches")
                    .map(|stem| &op[..stem.len() + 2])
                    .or_else(|| op.strip_suffix('s'))
                    .unwrap_or(op)
            })
            .or_else(|| unit.strip_prefix("ns/"))
            .filter(|op| !op.is_empty())
            .unwrap_or("op");
        format!("{what}/{op}")
    }

    /// A sentence saying what the figures are, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Measure::WallClock => "wall-clock figures in each workload's unit",
            Measure::Instructions => "user-space instructions per operation, counted by Valgrind's Callgrind over the measured phase of every thread but a load generator's (kernel work is not counted: I/O figures are user-space only); not times, and never compared with wall-clock figures",
            Measure::Allocations => "heap allocations per operation, counted by zbench's global allocator over the measured phase of every thread but a load generator's; not times, and never compared with wall-clock figures",
        }
    }
}

fn is_wall_clock(m: &Measure) -> bool {
    *m == Measure::WallClock
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultFile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// How and when the run was made.
    pub run: RunInfo,
    /// The machine it ran on.
    pub machine: MachineInfo,
    /// One record per (workload, runtime).
    pub results: Vec<WorkloadResult>,
    /// Each runtime against the baseline, one per workload point measured on both.
    pub comparisons: Vec<Comparison>,
    /// Runtimes of the run that could not run a workload, with the reason (absent in
    /// zbench/1 files).
    #[serde(default)]
    pub not_applicable: Vec<NotApplicable>,
    /// The claims audit: every claim id of CLAIMS.md, in order.
    pub claims: Vec<ClaimAudit>,
}

/// Run metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Start, RFC 3339 UTC.
    pub started_utc: String,
    /// End, RFC 3339 UTC.
    pub finished_utc: String,
    /// zbench's version.
    pub zbench_version: String,
    /// `git rev-parse HEAD` of the working directory, if available.
    pub git_commit: Option<String>,
    /// `release` or `debug`.
    pub build_profile: String,
    /// Whether `--quick` was given.
    pub quick: bool,
    /// The command line, argument by argument.
    pub command_line: Vec<String>,
    /// Seed of the bootstrap resampling, so every interval can be recomputed exactly.
    pub seed: u64,
    /// Warm-up per runtime per workload, in milliseconds.
    pub warmup_ms: u64,
    /// Interleaved rounds per workload.
    pub rounds: usize,
    /// The I/O driver zokio ran on (`io_uring` or `epoll`); absent in files from before
    /// the io_uring driver.
    #[serde(default)]
    pub zokio_io_driver: Option<String>,
    /// The runtimes measured, in report order (zbench/1: zokio and Tokio).
    #[serde(default = "v1_runtimes")]
    pub runtimes: Vec<RuntimeRecord>,
    /// The runtime every ratio is taken against (zbench/1: `tokio`).
    #[serde(default = "v1_baseline")]
    pub baseline: String,
    /// The parts the run was measured in: one, unless it was killed and finished with
    /// `--resume` (each resumption is a part). Empty in files from before `--resume`.
    #[serde(default)]
    pub parts: Vec<RunPart>,
    /// What every figure of the run measures (absent, and wall clock, in files from before
    /// `--measure`).
    #[serde(default)]
    pub measure: Measure,
    /// Where the workers of multi-thread runtimes ran: `None` where the kernel put them;
    /// `Some("one CPU each: 0,1")` under `--pin-workers` (worker *i* on the *i*-th CPU
    /// listed, wrapping). Absent in files from before `--pin-workers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_placement: Option<String>,
}

/// One part of a run ([`RunInfo::parts`]): when it started and the workloads it measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunPart {
    /// Start of this part, RFC 3339 UTC.
    pub started_utc: String,
    /// The workloads this part measured, in order.
    pub workloads: Vec<String>,
}

fn v1_runtimes() -> Vec<RuntimeRecord> {
    ["zokio", "tokio"]
        .into_iter()
        .map(|name| RuntimeRecord {
            name: name.to_owned(),
            version: None,
            io_driver: None,
            capabilities: Vec::new(),
            equivalents: BTreeMap::new(),
        })
        .collect()
}

fn v1_baseline() -> String {
    "tokio".to_owned()
}

fn v1_runtime() -> String {
    "zokio".to_owned()
}

/// A runtime of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeRecord {
    /// Its name (`zokio`, `tokio`, `smol`, ...).
    pub name: String,
    /// The crate version measured (absent in zbench/1 files).
    pub version: Option<String>,
    /// The I/O driver it ran on (`io_uring`, `epoll`, `mio (epoll)`, ...; absent in
    /// zbench/1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_driver: Option<String>,
    /// What it offers, by capability name (`multi_thread`, `notify`, ...).
    pub capabilities: Vec<String>,
    /// Where the adapter uses something other than the runtime's own primitive, or one that
    /// differs in kind from Tokio's: primitive -> what is used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub equivalents: BTreeMap<String, String>,
}

/// A workload a runtime of the run could not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotApplicable {
    /// Workload name.
    pub workload: String,
    /// The runtime.
    pub runtime: String,
    /// Why: the capability it lacks.
    pub reason: String,
}

/// The machine, as far as it affects the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub logical_cores: usize,
    /// Physical memory, in bytes.
    pub memory_bytes: u64,
    /// Kernel release.
    pub kernel: String,
    /// Whether io_uring can be used, and why not if not.
    pub io_uring: IoUringStatus,
    /// 1-minute load average when the run started.
    pub load_average_1m: Option<f64>,
}

/// io_uring availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoUringStatus {
    /// `io_uring_setup` succeeded.
    pub available: bool,
    /// What was checked, or the error.
    pub detail: String,
}

/// Summary statistics of a sample set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Lower end of the bootstrap 95% confidence interval of the median.
    pub ci95_low: f64,
    /// Upper end of the bootstrap 95% confidence interval of the median.
    pub ci95_high: f64,
}

/// A latency in nanoseconds as a time: `850 ns`, `12.3 µs`, `4.56 ms`, `1.83 s`.
pub fn fmt_ns(ns: f64) -> String {
    let a = ns.abs();
    if !a.is_finite() {
        "-".to_owned()
    } else if a < 1e3 {
        format!("{ns:.0} ns")
    } else if a < 1e6 {
        format!("{:.1} \u{b5}s", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Latency percentiles, in nanoseconds whatever the workload's unit: a latency workload's
/// figure is in ns too, while a network workload reports a rate (requests/s) as its figure
/// and the latency of its requests here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// 50th percentile.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest value.
    pub max: f64,
}

impl Percentiles {
    /// `p50 671 µs, p99 925 µs, p99.9 2.84 ms`: the percentiles as times.
    pub fn describe(&self) -> String {
        format!(
            "p50 {}, p99 {}, p99.9 {}",
            fmt_ns(self.p50),
            fmt_ns(self.p99),
            fmt_ns(self.p999)
        )
    }
}

/// One workload on one runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadResult {
    /// Workload name, `group.name`.
    pub workload: String,
    /// Report group (`sched`, `asyncfn`, `latency`, `memory`, `scale`, `zsync`, ...).
    pub group: String,
    /// Claims this workload reproduces.
    pub claim_ids: Vec<String>,
    /// `zokio` or `tokio`.
    pub runtime: String,
    /// Parameters (task counts, workers, sizes), identical for every runtime.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Unit of the samples (`tasks/s`, `ns/op`, `bytes/task`, ...).
    pub unit: String,
    /// Whether a larger figure is better (throughput) or worse (latency, memory).
    pub higher_is_better: bool,
    /// Every sample, in measurement order.
    pub samples: Vec<f64>,
    /// Statistics over `samples`.
    pub stats: Stats,
    /// Latency percentiles, for latency workloads.
    pub percentiles: Option<Percentiles>,
    /// Failed operations (0 unless the workload counts failures).
    pub errors: u64,
    /// Why this figure carries no verdict, if so: `generator-bound: ...` when the load
    /// generator, not the runtime, was the bottleneck of a network run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_verdict: Option<String>,
    /// Figures beside the main one, by name with their unit in the name (stress workloads:
    /// `tasks_spawned`, `tasks_ran`, `success_percent`, `peak_rss_bytes`, ...). Absent when
    /// empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
    /// What the samples measure (absent for wall-clock figures).
    #[serde(default, skip_serializing_if = "is_wall_clock")]
    pub measure: Measure,
}

/// One runtime against the baseline (Tokio, unless stated) on one workload point, from
/// samples taken in the same rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Workload name.
    pub workload: String,
    /// The runtime compared (zbench/1: always `zokio`).
    #[serde(default = "v1_runtime")]
    pub runtime: String,
    /// The point's parameters (identical to its two `WorkloadResult`s).
    pub params: BTreeMap<String, serde_json::Value>,
    /// What `runtime` is compared with: the run's baseline, or e.g. `crossbeam-deque`.
    pub baseline: String,
    /// Per round: the runtime's figure divided by the baseline's.
    pub ratios: Vec<f64>,
    /// Statistics of `ratios`.
    pub stats: Stats,
    /// Why the ratio carries no verdict (the runtime's or the baseline's figure has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_verdict: Option<String>,
    /// Whether a ratio above 1 means the runtime is better (throughput) or worse (latency,
    /// memory): copied from the workload.
    pub higher_is_better: bool,
    /// What the compared figures measure (absent for wall-clock figures).
    #[serde(default, skip_serializing_if = "is_wall_clock")]
    pub measure: Measure,
}

/// The audit of one documented claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimAudit {
    /// Stable id from CLAIMS.md.
    pub claim_id: String,
    /// The figure as documented.
    pub documented: String,
    /// Seed documents stating it.
    pub sources: Vec<String>,
    /// The workload that measures it, if built.
    pub workload: Option<String>,
    /// Unit of `zokio` and `tokio`.
    pub unit: Option<String>,
    /// zokio's measured figure (median).
    pub zokio: Option<f64>,
    /// Tokio's measured figure (median).
    pub tokio: Option<f64>,
    /// The other runtimes' figures in the same unit, by name: shown beside zokio's, not
    /// judged (absent in zbench/1 files).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub peers: BTreeMap<String, f64>,
    /// The verdict for zokio.
    pub verdict: Verdict,
    /// zokio's figure divided by the documented one, where both are numbers.
    pub factor: Option<f64>,
    /// One line on what was measured and why the verdict.
    pub explanation: String,
}

/// How a documented figure fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A bound was met, or a rate was reached within a factor of 2.
    Reproduced,
    /// Measured, and not within that margin (see `factor`).
    NotReproduced,
    /// The figure cannot hold as written (∞ ops/s, 0 bytes).
    NotMeasurableAsStated,
    /// The workload exists but was not selected in this run (`zbench run PATTERN`).
    NotRun,
    /// The workload is not built yet: no number is given.
    NotYetMeasured,
}

impl Verdict {
    /// Human-readable form.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::NotMeasurableAsStated => "not measurable as stated",
            Verdict::NotRun => "not run",
            Verdict::NotYetMeasured => "not yet measured",
        }
    }
}

/// Why a result file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read result file {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error (part of the message, so not also chained as a source).
        cause: io::Error,
    },
    /// Not valid JSON, or not the expected shape.
    #[error("malformed result file {path}: {cause}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// serde_json's error, with line and column.
        cause: serde_json::Error,
    },
    /// Valid, but of a later schema version than this zbench knows.
    #[error(
        "result file {path} was written by a newer zbench (schema {found:?}; this one reads {READABLE:?}): read it with that zbench or a later one"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// What the file says.
        found: String,
    },
    /// Valid, but of another schema version.
    #[error("result file {path} has schema {found:?}; this zbench reads {READABLE:?}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What the file says.
        found: String,
    },
}

/// The version number of a `zbench/N` schema tag (0 for any other tag).
fn schema_version(tag: &str) -> u32 {
    tag.strip_prefix("zbench/")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Reads and validates a result file.
///
/// # Errors
/// [`ReadError`] if the file is missing, is not JSON of this shape, or has another schema.
pub fn read(path: &Path) -> Result<ResultFile, ReadError> {
    let text = fs::read_to_string(path).map_err(|cause| ReadError::Io {
        path: path.to_owned(),
        cause,
    })?;
    // Check the schema tag first so a file from another version gets that message, not a
    // confusing "missing field".
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        match map.get("schema").and_then(|s| s.as_str()) {
            Some(s) if READABLE.contains(&s) => {}
            Some(other) if schema_version(other) > schema_version(SCHEMA) => {
                return Err(ReadError::Newer {
                    path: path.to_owned(),
                    found: other.to_owned(),
                })
            }
            Some(other) => {
                return Err(ReadError::Schema {
                    path: path.to_owned(),
                    found: other.to_owned(),
                })
            }
            None => {
                return Err(ReadError::Schema {
                    path: path.to_owned(),
                    found: String::from("(none)"),
                })
            }
        }
    }
    serde_json::from_str(&text).map_err(|cause| ReadError::Malformed {
        path: path.to_owned(),
        cause,
    })
}

/// Writes `file` as pretty JSON to `path` atomically: to a temporary file in the same
/// directory, flushed to disk, then renamed over `path`, so a reader never sees half a file
/// and an interrupted run leaves no half-written result.
///
/// # Errors
/// Any I/O error creating, writing, syncing or renaming the file; the temporary file is
/// removed on failure.
pub fn write_atomic(path: &Path, file: &ResultFile) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "result path has no file name")
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut f, file)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_file() -> ResultFile {
        let stats = Stats {
            n: 3,
            median: 2.0,
            mean: 2.0,
            min: 1.0,
            max: 3.0,
            mad: 1.0,
            ci95_low: 1.0,
            ci95_high: 3.0,
        };
        ResultFile {
            schema: SCHEMA.into(),
            run: RunInfo {
                started_utc: "2026-11-20T00:00:00Z".into(),
                finished_utc: "2026-11-20T00:01:00Z".into(),
                zbench_version: "0.1.0".into(),
                git_commit: None,
                build_profile: "release".into(),
                quick: true,
                command_line: vec!["zbench".into(), "all".into()],
                seed: 7,
                warmup_ms: 200,
                rounds: 3,
                zokio_io_driver: Some("io_uring".into()),
                runtimes: v1_runtimes(),
                baseline: "tokio".into(),
                parts: Vec::new(),
                measure: Measure::WallClock,
                worker_placement: None,
            },
            machine: MachineInfo {
                cpu_model: "test cpu".into(),
                logical_cores: 2,
                memory_bytes: 1 << 30,
                kernel: "6.0".into(),
                io_uring: IoUringStatus {
                    available: false,
                    detail: "not checked".into(),
                },
                load_average_1m: Some(0.5),
            },
            results: vec![WorkloadResult {
                workload: "sched.task_scheduling".into(),
                group: "sched".into(),
                claim_ids: vec!["sched.task_scheduling".into()],
                runtime: "zokio".into(),
                params: BTreeMap::from([("workers".into(), serde_json::json!(2))]),
                unit: "tasks/s".into(),
                higher_is_better: true,
                samples: vec![1.0, 2.0, 3.0],
                stats: stats.clone(),
                percentiles: None,
                errors: 0,
                no_verdict: None,
                extra: Default::default(),
                measure: Measure::WallClock,
            }],
            not_applicable: vec![],
            comparisons: vec![Comparison {
                workload: "sched.task_scheduling".into(),
                runtime: "zokio".into(),
                params: BTreeMap::new(),
                baseline: "tokio".into(),
                ratios: vec![1.0, 2.0, 3.0],
                stats,
                no_verdict: None,
                higher_is_better: true,
                measure: Measure::WallClock,
            }],
            claims: vec![],
        }
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        let file = sample_file();
        write_atomic(&path, &file).unwrap();
        assert_eq!(read(&path).unwrap(), file);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_zbench1_file_still_reads_as_zokio_against_tokio() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zbench1-example.json");
        let file = read(&path).unwrap();
        assert_eq!(file.schema, "zbench/1");
        assert_eq!(file.run.baseline, "tokio");
        let names: Vec<&str> = file.run.runtimes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["zokio", "tokio"]);
        assert!(!file.comparisons.is_empty());
        assert!(file.comparisons.iter().all(|c| c.runtime == "zokio"));
        assert!(file.not_applicable.is_empty());
    }

    #[test]
    fn counted_units_name_the_operation() {
        assert_eq!(Measure::Instructions.unit("tasks/s"), "instructions/task");
        assert_eq!(Measure::Allocations.unit("ns/switch"), "allocations/switch");
        assert_eq!(Measure::Instructions.unit("ns/op"), "instructions/op");
        assert_eq!(Measure::Instructions.unit("ns"), "instructions/op");
        assert_eq!(Measure::Allocations.unit("msg/s"), "allocations/msg");
        assert_eq!(
            Measure::Allocations.unit("switches/s"),
            "allocations/switch"
        );
        assert_eq!(
            Measure::Instructions.unit("round trips/s"),
            "instructions/round trip"
        );
        assert_eq!(Measure::WallClock.unit("tasks/s"), "tasks/s");
        assert_eq!(Measure::from_name("wall-clock"), Some(Measure::WallClock));
        assert_eq!(Measure::from_name("cycles"), None);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = read(Path::new("/nonexistent/zbench/results.json")).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }), "{err}");
    }

    #[test]
    fn truncated_json_is_malformed_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let text = serde_json::to_string(&sample_file()).unwrap();
        fs::write(&path, &text[..text.len() / 2]).unwrap();
        let err = read(&path).unwrap_err();
        assert!(matches!(err, ReadError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains("line"), "{err}");
    }

    #[test]
    fn other_schema_version_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        fs::write(&path, r#"{"schema": "zbench/99"}"#).unwrap();
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("zbench/99"), "{err}");
    }

    #[test]
    fn write_to_missing_directory_fails_and_leaves_nothing() {
        let err =
            write_atomic(Path::new("/nonexistent/dir/results.json"), &sample_file()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
