//! The documented figures of `../shared/CLAIMS.md` as data, and the rules that turn a
//! measured figure into a verdict.
//!
//! Verdict rules (from the harness issue): a documented *bound* ("< 1 µs", "64 bytes",
//! "100K+") is reproduced when met; a documented *rate* is reproduced when reached within a
//! factor of 2, because the documents' machine differs from ours; an approximate per-operation
//! *cost* ("~500 ns") likewise within a factor of 2; "∞" and "0 bytes" are not measurable as
//! stated; a claim whose workload is not built yet is "not yet measured" and gets no number.
//! The verdict is about zokio's figure; Tokio's is shown next to it for scale.

use crate::schema::{ClaimAudit, Verdict};

/// How a documented figure is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// A rate (higher is better): reproduced when the measured figure is at least half.
    Rate {
        /// Documented value.
        value: f64,
        /// Unit of `value`, which the workload must report.
        unit: &'static str,
    },
    /// An approximate cost per operation (lower is better, "~X"): reproduced when the
    /// measured figure is at most twice the documented one.
    Cost {
        /// Documented value.
        value: f64,
        /// Unit.
        unit: &'static str,
    },
    /// An upper bound ("< X", "X bytes"): reproduced when the measured figure is at most it.
    AtMost {
        /// Documented bound.
        value: f64,
        /// Unit.
        unit: &'static str,
    },
    /// A lower bound ("X+"): reproduced when the measured figure is at least it.
    AtLeast {
        /// Documented bound.
        value: f64,
        /// Unit.
        unit: &'static str,
    },
    /// "N times faster than Tokio": reproduced when the measured zokio/Tokio ratio is at
    /// least half of N.
    RatioVsTokio {
        /// Documented ratio.
        value: f64,
    },
    /// A figure that cannot hold as written (∞ ops/s, 0 bytes); the finite measured figure
    /// is still reported.
    NotMeasurable {
        /// Why.
        why: &'static str,
    },
}

impl Rule {
    /// The unit a workload must report to be judged by this rule.
    pub fn unit(&self) -> Option<&'static str> {
        match *self {
            Rule::Rate { unit, .. }
            | Rule::Cost { unit, .. }
            | Rule::AtMost { unit, .. }
            | Rule::AtLeast { unit, .. } => Some(unit),
            Rule::RatioVsTokio { .. } => Some("x"),
            Rule::NotMeasurable { .. } => None,
        }
    }

    fn documented_value(&self) -> Option<f64> {
        match *self {
            Rule::Rate { value, .. }
            | Rule::Cost { value, .. }
            | Rule::AtMost { value, .. }
            | Rule::AtLeast { value, .. }
            | Rule::RatioVsTokio { value } => Some(value),
            Rule::NotMeasurable { .. } => None,
        }
    }
}

/// One documented claim.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// Stable id (CLAIMS.md).
    pub id: &'static str,
    /// The figure as the documents state it.
    pub documented: &'static str,
    /// Seed files stating it, by file-name prefix.
    pub sources: &'static [&'static str],
    /// How it is judged.
    pub rule: Rule,
    /// What a faithful reproduction measures (CLAIMS.md's "workload" column).
    pub measures: &'static str,
}

impl Claim {
    /// The machine the documents published this figure on.
    pub fn published_on(&self) -> &'static str {
        if self.id.starts_with("zsync.") {
            "x86_64 Linux (zsync documents)"
        } else {
            "Apple M1 Pro, 8 cores, macOS 14, Zig 0.14 ReleaseFast (Zokio documents)"
        }
    }
}

const ZOKIO_DOCS: &[&str] = &["001", "004", "000"];
const SCHED_DOCS: &[&str] = &["001", "004"];

/// Every claim of CLAIMS.md, in its order.
pub const CLAIMS: &[Claim] = &[
    Claim { id: "sched.task_scheduling", documented: "451,875,282 ops/s (\"90.4x\" a 5M target)", sources: ZOKIO_DOCS, rule: Rule::Rate { value: 451_875_282.0, unit: "tasks/s" }, measures: "spawn N small tasks from inside the runtime and run them all to completion; ops = tasks" },
    Claim { id: "sched.work_stealing_queue", documented: "287,356,321 ops/s", sources: ZOKIO_DOCS, rule: Rule::Rate { value: 287_356_321.0, unit: "items/s" }, measures: "the run queue alone: owner push+pop, and a thief stealing while the owner pushes; ops = items moved" },
    Claim { id: "sched.future_polling", documented: "\u{221e} ops/s (10M target)", sources: SCHED_DOCS, rule: Rule::NotMeasurable { why: "an infinite rate means zero time per poll; the finite rate of polling a ready future is reported" }, measures: "poll of an already-ready future through the runtime's Future/Waker machinery" },
    Claim { id: "sched.memory_allocation", documented: "3,512,901 ops/s", sources: SCHED_DOCS, rule: Rule::Rate { value: 3_512_901.0, unit: "ops/s" }, measures: "allocate + free a task-sized block through the runtime's allocation path" },
    Claim { id: "sched.object_pool", documented: "112,220,850 ops/s", sources: SCHED_DOCS, rule: Rule::Rate { value: 112_220_850.0, unit: "ops/s" }, measures: "acquire + release from the runtime's object pool, single thread and contended" },
    Claim { id: "sched.atomic_ops", documented: "566,251,415 ops/s", sources: SCHED_DOCS, rule: Rule::Rate { value: 566_251_415.0, unit: "ops/s" }, measures: "atomic fetch_add, uncontended and contended across all workers" },
    Claim { id: "sched.io_ops", documented: "632,111,251 ops/s", sources: ZOKIO_DOCS, rule: Rule::Rate { value: 632_111_251.0, unit: "ops/s" }, measures: "I/O operations through the runtime's driver: a no-op submission and a small real read" },
    Claim { id: "asyncfn.create", documented: "3.2B ops/s, \"32x faster than Tokio\"", sources: &["000"], rule: Rule::Rate { value: 3.2e9, unit: "ops/s" }, measures: "create an async fn future (not yet polled)" },
    Claim { id: "asyncfn.await", documented: "3.8B ops/s, \"38x faster than Tokio\"", sources: &["000"], rule: Rule::Rate { value: 3.8e9, unit: "ops/s" }, measures: "create + await a trivial async fn inside a running task" },
    Claim { id: "asyncfn.nested", documented: "1.9B ops/s, \"19x faster than Tokio\"", sources: &["000"], rule: Rule::Rate { value: 1.9e9, unit: "ops/s" }, measures: "await a chain of nested async fn calls (depth stated in the result)" },
    Claim { id: "asyncfn.memory", documented: "0 bytes overhead", sources: &["000"], rule: Rule::NotMeasurable { why: "a future that can be suspended needs at least its state; its size is reported" }, measures: "size of the future of a trivial async fn vs the size of its result" },
    Claim { id: "headline.vs_tokio", documented: "\"96x faster task scheduling, 32x faster async/await than Tokio\"", sources: &["000"], rule: Rule::RatioVsTokio { value: 96.0 }, measures: "the ratio zokio/Tokio on sched.task_scheduling (judged) and asyncfn.await (shown), same machine, same run" },
    Claim { id: "latency.task_wakeup", documented: "< 1 \u{b5}s", sources: &["000"], rule: Rule::AtMost { value: 1_000.0, unit: "ns" }, measures: "time from wake() on another thread to the woken task running; p50 judged, p99/p99.9 shown" },
    Claim { id: "latency.context_switch", documented: "< 100 ns", sources: &["000"], rule: Rule::AtMost { value: 100.0, unit: "ns/switch" }, measures: "switch between two ready tasks on one worker (yield ping-pong)" },
    Claim { id: "latency.io_submission", documented: "< 50 ns", sources: &["000"], rule: Rule::AtMost { value: 50.0, unit: "ns" }, measures: "time to submit one I/O operation to the driver (not its completion)" },
    Claim { id: "memory.per_task", documented: "64 bytes per task", sources: &["000"], rule: Rule::AtMost { value: 64.0, unit: "bytes/task" }, measures: "resident bytes per idle spawned task, 1M tasks, RSS delta" },
    Claim { id: "memory.scheduler_per_worker", documented: "4 KB per worker", sources: &["000"], rule: Rule::AtMost { value: 4_096.0, unit: "bytes/worker" }, measures: "memory owned by one worker's scheduler state" },
    Claim { id: "memory.io_driver", documented: "16 KB per driver", sources: &["000"], rule: Rule::AtMost { value: 16_384.0, unit: "bytes" }, measures: "memory owned by one I/O driver instance (ring buffers included)" },
    Claim { id: "scale.workers", documented: "linear up to the core count", sources: &["000", "001"], rule: Rule::Rate { value: 1.0, unit: "efficiency" }, measures: "task scheduling and yield throughput at 1..N workers; efficiency vs 1 worker (1.0 = linear)" },
    Claim { id: "scale.concurrent_tasks", documented: "millions of tasks, constant per-task memory", sources: &["000"], rule: Rule::AtMost { value: 2.0, unit: "growth" }, measures: "10^4..10^6 live tasks; bytes per task at 10^6 over bytes per task at 10^4 (1.0 = constant)" },
    Claim { id: "scale.connections", documented: "100K+ connections", sources: &["000"], rule: Rule::AtLeast { value: 100_000.0, unit: "connections" }, measures: "as many concurrent idle TCP connections as the machine's limits allow; bytes per connection" },
    Claim { id: "stress.task_scheduling", documented: "100,000,000 ops/s, 100% success", sources: &["004"], rule: Rule::Rate { value: 1e8, unit: "tasks/s" }, measures: "sustained spawn/complete under all workers for a fixed time; success = every task ran exactly once" },
    Claim { id: "stress.memory_allocation", documented: "232,558 ops/s, 1.2 GB peak, 100% success, zero leaks", sources: &["004", "001"], rule: Rule::Rate { value: 232_558.0, unit: "ops/s" }, measures: "many tasks allocating and freeing buffers of mixed sizes; peak RSS and leak check" },
    Claim { id: "stress.io_ops", documented: "8,333,333 ops/s, 100% success", sources: &["004"], rule: Rule::Rate { value: 8_333_333.0, unit: "ops/s" }, measures: "sustained small I/O operations across all workers" },
    Claim { id: "net.tcp_connections", documented: "177,935 connections/s, 347 MB/s, 0% errors", sources: &["004"], rule: Rule::Rate { value: 177_935.0, unit: "connections/s" }, measures: "loopback: connect + small exchange + close, many concurrent clients" },
    Claim { id: "net.http_requests", documented: "192,678 requests/s, 94 MB/s, 0% errors", sources: &["004"], rule: Rule::Rate { value: 192_678.0, unit: "requests/s" }, measures: "HTTP/1.1 keep-alive server on each runtime, driven by a load generator" },
    Claim { id: "net.file_transfer", documented: "6,622 files/s, 646 MB/s peak", sources: &["004"], rule: Rule::Rate { value: 6_622.0, unit: "files/s" }, measures: "send files over loopback TCP (zero-copy where the platform has it)" },
    Claim { id: "zsync.context_create", documented: "~500 ns per context", sources: &["002"], rule: Rule::Cost { value: 500.0, unit: "ns/op" }, measures: "create a task context (spawn without running)" },
    Claim { id: "zsync.context_switch", documented: "~50 ns per switch, ~20M switches/s", sources: &["002"], rule: Rule::Rate { value: 20e6, unit: "switches/s" }, measures: "same workload as latency.context_switch, reported as switches/s" },
    Claim { id: "zsync.dispatch_invoke", documented: "~200 ns per call", sources: &["002"], rule: Rule::Cost { value: 200.0, unit: "ns/op" }, measures: "call an async fn through a type-erased registry (boxed future)" },
    Claim { id: "zsync.spawn", documented: "~1 \u{b5}s per future", sources: &["002"], rule: Rule::Cost { value: 1_000.0, unit: "ns/op" }, measures: "spawn + join one future from inside the runtime" },
    Claim { id: "zsync.batch", documented: "64 operations per syscall", sources: &["002"], rule: Rule::Rate { value: 64.0, unit: "ops/syscall" }, measures: "I/O operations per submit syscall under load (driver batching)" },
];

/// Looks a claim up by id.
pub fn claim(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.id == id)
}

/// What was measured for a claim.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The workload that measured it.
    pub workload: String,
    /// Unit of `zokio` and `tokio`; must match the rule's.
    pub unit: String,
    /// zokio's figure.
    pub zokio: f64,
    /// Tokio's figure, if measured.
    pub tokio: Option<f64>,
    /// The other runtimes' figures at the same point, by name (shown, not judged).
    pub peers: std::collections::BTreeMap<String, f64>,
    /// Anything the verdict line should add (depth, percentiles, a second ratio).
    pub note: Option<String>,
}

/// Formats a figure compactly for tables and verdict lines: `1.23G`, `4.56M`, `78.9k`,
/// `123`, `12.3`, `0.46`.
pub fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.1 || a == 0.0 || !a.is_finite() {
        format!("{x:.2}")
    } else {
        // Three significant digits, down to a millionth (allocations per operation).
        let digits = (2 - a.log10().floor() as i32).clamp(3, 6) as usize;
        format!("{x:.digits$}")
    }
}

/// The audit line for a claim whose workload exists but was not selected in this run.
pub fn not_run(claim: &Claim, workload: &str) -> ClaimAudit {
    let mut a = audit(claim, None);
    a.verdict = Verdict::NotRun;
    a.workload = Some(workload.to_owned());
    a.explanation = format!("not selected in this run; `zbench run {workload}` measures it");
    a
}

/// The verdict for `claim` given what was measured (`None`: workload not built).
///
/// # Panics
/// If the measured unit differs from the rule's: that is a bug in the workload table, and
/// comparing figures in different units would be a lie.
pub fn audit(claim: &Claim, measured: Option<&Measured>) -> ClaimAudit {
    let base = ClaimAudit {
        claim_id: claim.id.to_owned(),
        documented: claim.documented.to_owned(),
        sources: claim.sources.iter().map(|s| (*s).to_owned()).collect(),
        workload: None,
        unit: None,
        zokio: None,
        tokio: None,
        peers: Default::default(),
        verdict: Verdict::NotYetMeasured,
        factor: None,
        explanation: format!(
            "workload not built yet; it will measure: {}",
            claim.measures
        ),
    };
    let Some(m) = measured else { return base };
    if let Some(unit) = claim.rule.unit() {
        assert_eq!(
            m.unit, unit,
            "claim {} is judged in {unit}, workload {} reports {}",
            claim.id, m.workload, m.unit
        );
    }
    let (verdict, why) = judge(&claim.rule, m.zokio);
    let factor = claim
        .rule
        .documented_value()
        .filter(|v| *v != 0.0)
        .map(|v| m.zokio / v);
    let mut explanation = format!("measures {}; {why}", claim.measures);
    if let Some(note) = &m.note {
        explanation.push_str("; ");
        explanation.push_str(note);
    }
    ClaimAudit {
        workload: Some(m.workload.clone()),
        unit: Some(m.unit.clone()),
        zokio: Some(m.zokio),
        tokio: m.tokio,
        peers: m.peers.clone(),
        verdict,
        factor,
        explanation,
        ..base
    }
}

fn judge(rule: &Rule, x: f64) -> (Verdict, String) {
    let pass = |ok: bool| {
        if ok {
            Verdict::Reproduced
        } else {
            Verdict::NotReproduced
        }
    };
    match *rule {
        Rule::Rate { value, unit } => (
            pass(x >= value / 2.0),
            format!(
                "{} {unit} against {} documented (reproduced at half or more)",
                fmt_num(x),
                fmt_num(value)
            ),
        ),
        Rule::Cost { value, unit } => (
            pass(x <= value * 2.0),
            format!(
                "{} {unit} against ~{} documented (reproduced at twice or less)",
                fmt_num(x),
                fmt_num(value)
            ),
        ),
        Rule::AtMost { value, unit } => (
            pass(x <= value),
            format!(
                "{} {unit} against a bound of {} {unit}",
                fmt_num(x),
                fmt_num(value)
            ),
        ),
        Rule::AtLeast { value, unit } => (
            pass(x >= value),
            format!(
                "{} {unit} against at least {} {unit}",
                fmt_num(x),
                fmt_num(value)
            ),
        ),
        Rule::RatioVsTokio { value } => (
            pass(x >= value / 2.0),
            format!(
                "zokio/Tokio = {x:.2}x against {value}x documented (reproduced at half or more)"
            ),
        ),
        Rule::NotMeasurable { why } => (Verdict::NotMeasurableAsStated, why.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(unit: &str, zokio: f64) -> Measured {
        Measured {
            workload: "w".into(),
            unit: unit.into(),
            zokio,
            tokio: Some(1.0),
            peers: Default::default(),
            note: None,
        }
    }

    #[test]
    fn ids_are_unique_and_match_claims_md() {
        let mut ids: Vec<_> = CLAIMS.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 32);
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 32);
        // Every id in the shared CLAIMS.md table is here, when the file is beside us.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/CLAIMS.md");
        if let Ok(text) = std::fs::read_to_string(path) {
            let in_doc: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("| "))
                .filter_map(|l| l.split(" |").next())
                .filter(|id| id.contains('.') && !id.contains(' '))
                .collect();
            assert_eq!(in_doc.len(), 32, "{in_doc:?}");
            for id in in_doc {
                assert!(claim(id).is_some(), "claim {id} of CLAIMS.md is missing");
            }
        }
    }

    #[test]
    fn unmeasured_claim_has_no_number() {
        let a = audit(claim("sched.io_ops").unwrap(), None);
        assert_eq!(a.verdict, Verdict::NotYetMeasured);
        assert!(a.zokio.is_none() && a.tokio.is_none() && a.factor.is_none());
    }

    #[test]
    fn rate_within_factor_two() {
        let c = claim("sched.task_scheduling").unwrap();
        let half = 451_875_282.0 / 2.0;
        assert_eq!(
            audit(c, Some(&m("tasks/s", half))).verdict,
            Verdict::Reproduced
        );
        let a = audit(c, Some(&m("tasks/s", 4.5e6)));
        assert_eq!(a.verdict, Verdict::NotReproduced);
        assert!((a.factor.unwrap() - 4.5e6 / 451_875_282.0).abs() < 1e-12);
    }

    #[test]
    fn bounds_and_costs() {
        let wake = claim("latency.task_wakeup").unwrap();
        assert_eq!(
            audit(wake, Some(&m("ns", 999.0))).verdict,
            Verdict::Reproduced
        );
        assert_eq!(
            audit(wake, Some(&m("ns", 1_001.0))).verdict,
            Verdict::NotReproduced
        );
        let spawn = claim("zsync.spawn").unwrap();
        assert_eq!(
            audit(spawn, Some(&m("ns/op", 2_000.0))).verdict,
            Verdict::Reproduced
        );
        assert_eq!(
            audit(spawn, Some(&m("ns/op", 2_001.0))).verdict,
            Verdict::NotReproduced
        );
        let conns = claim("scale.connections").unwrap();
        assert_eq!(
            audit(conns, Some(&m("connections", 99_999.0))).verdict,
            Verdict::NotReproduced
        );
    }

    #[test]
    fn infinite_and_zero_are_not_measurable_but_keep_the_figure() {
        let a = audit(
            claim("sched.future_polling").unwrap(),
            Some(&m("polls/s", 5e8)),
        );
        assert_eq!(a.verdict, Verdict::NotMeasurableAsStated);
        assert_eq!(a.zokio, Some(5e8));
        assert!(a.factor.is_none());
        let b = audit(claim("asyncfn.memory").unwrap(), Some(&m("bytes", 16.0)));
        assert_eq!(b.verdict, Verdict::NotMeasurableAsStated);
    }

    #[test]
    #[should_panic(expected = "is judged in tasks/s")]
    fn unit_mismatch_is_a_bug_not_a_verdict() {
        audit(
            claim("sched.task_scheduling").unwrap(),
            Some(&m("ns/op", 1.0)),
        );
    }
}
