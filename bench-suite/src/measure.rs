//! The measurement engine: warm-up, then interleaved rounds of paired samples.
//!
//! Method, from `../shared/METHOD.md`: warm both runtimes up, then take samples in rounds;
//! each round runs one sample on each runtime, alternating which goes first (A B, B A, …) so
//! that machine drift and order effects hit both alike (duet benchmarking, Bulej et al.,
//! ICPE 2020). The zokio/Tokio ratio is computed per round from the two adjacent samples;
//! comparing medians of paired ratios holds up on noisy machines where absolute times do
//! not (Laaber et al., EMSE 2019). Statistics and intervals are in [`crate::stats`].
//!
//! A sample is one call of a workload body, which returns how many operations it did and,
//! when it times only one phase of its work itself, how long that phase took; the sample's
//! figure is operations per second.

use crate::stats::median;
use std::time::{Duration, Instant};

/// Which sides of a comparison to run (`--runtimes`). The "baseline" side is Tokio, or the
/// workload's other reference (crossbeam-deque for the run queue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sides {
    /// Run zokio.
    pub zokio: bool,
    /// Run the baseline.
    pub baseline: bool,
}

impl Sides {
    /// Both sides (the default).
    pub const BOTH: Sides = Sides {
        zokio: true,
        baseline: true,
    };
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct MeasureConfig {
    /// Time spent running both sides before measuring (per side).
    pub warmup: Duration,
    /// Rounds of paired samples.
    pub rounds: usize,
    /// Worker threads for multi-thread workloads.
    pub workers: usize,
    /// Which sides run.
    pub sides: Sides,
}

impl MeasureConfig {
    /// CI-sized: 0.2 s warm-up, 10 rounds, 2 workers.
    pub const QUICK: MeasureConfig = MeasureConfig {
        warmup: Duration::from_millis(200),
        rounds: 10,
        workers: 2,
        sides: Sides::BOTH,
    };
    /// Default: 1 s warm-up, 30 rounds, 2 workers.
    pub const FULL: MeasureConfig = MeasureConfig {
        warmup: Duration::from_secs(1),
        rounds: 30,
        workers: 2,
        sides: Sides::BOTH,
    };
}

/// Throughput samples of one side, in operations per second.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    /// One entry per round, in ops/s.
    pub ops_per_sec: Vec<f64>,
}

/// Both sides of one workload, measured in the same rounds.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// zokio's samples.
    pub zokio: Samples,
    /// Tokio's samples.
    pub tokio: Samples,
    /// zokio/Tokio throughput ratio per round (above 1: zokio faster).
    pub ratios: Vec<f64>,
}

impl Samples {
    /// Median ops/s.
    pub fn median(&self) -> f64 {
        median(&self.ops_per_sec)
    }
}

impl Comparison {
    /// Median of the per-round ratios.
    pub fn median_ratio(&self) -> f64 {
        median(&self.ratios)
    }
}

/// What one call of a workload body did: operations, and the time they took when the body
/// timed one phase itself (spawning without running, say); `None` means "the whole call".
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Operations performed.
    pub ops: u64,
    /// Time of the measured phase, if not the whole call.
    pub elapsed: Option<Duration>,
}

impl From<u64> for Timed {
    fn from(ops: u64) -> Timed {
        Timed { ops, elapsed: None }
    }
}

fn sample<T: Into<Timed>>(f: &mut dyn FnMut() -> T) -> f64 {
    let start = Instant::now();
    let timed = f().into();
    let elapsed = timed.elapsed.unwrap_or_else(|| start.elapsed());
    timed.ops as f64 / elapsed.as_secs_f64()
}

/// Measures `zokio` and `tokio` in interleaved rounds after a warm-up. Each closure runs
/// one sample and returns its operation count, or a [`Timed`] phase.
pub fn compare<T: Into<Timed>>(
    cfg: &MeasureConfig,
    mut zokio: impl FnMut() -> T,
    mut tokio: impl FnMut() -> T,
) -> Comparison {
    let sides = cfg.sides;
    for (enabled, side) in [
        (sides.zokio, &mut zokio as &mut dyn FnMut() -> T),
        (sides.baseline, &mut tokio),
    ] {
        let start = Instant::now();
        while enabled && start.elapsed() < cfg.warmup {
            side();
        }
    }
    let mut out = Comparison {
        zokio: Samples::default(),
        tokio: Samples::default(),
        ratios: Vec::with_capacity(cfg.rounds),
    };
    for round in 0..cfg.rounds {
        let (z, t) = if round % 2 == 0 {
            let z = sides.zokio.then(|| sample(&mut zokio));
            (z, sides.baseline.then(|| sample(&mut tokio)))
        } else {
            let t = sides.baseline.then(|| sample(&mut tokio));
            (sides.zokio.then(|| sample(&mut zokio)), t)
        };
        out.zokio.ops_per_sec.extend(z);
        out.tokio.ops_per_sec.extend(t);
        if let (Some(z), Some(t)) = (z, t) {
            out.ratios.push(z / t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_pairs_every_round_and_alternates_order() {
        let order = std::cell::RefCell::new(Vec::new());
        let cfg = MeasureConfig {
            warmup: Duration::ZERO,
            rounds: 4,
            workers: 1,
            sides: Sides::BOTH,
        };
        let c = compare(
            &cfg,
            || {
                order.borrow_mut().push('z');
                10u64
            },
            || {
                order.borrow_mut().push('t');
                10u64
            },
        );
        assert_eq!(c.ratios.len(), 4);
        assert_eq!(c.zokio.ops_per_sec.len(), 4);
        assert_eq!(
            order.into_inner(),
            vec!['z', 't', 't', 'z', 'z', 't', 't', 'z']
        );
        assert!(c.ratios.iter().all(|r| r.is_finite() && *r > 0.0));
    }

    #[test]
    fn a_timed_phase_is_used_instead_of_the_whole_call() {
        let cfg = MeasureConfig {
            warmup: Duration::ZERO,
            rounds: 1,
            workers: 1,
            sides: Sides::BOTH,
        };
        let phase = |ms| Timed {
            ops: 1_000,
            elapsed: Some(Duration::from_millis(ms)),
        };
        let c = compare(&cfg, || phase(1), || phase(2));
        assert!((c.zokio.median() - 1e6).abs() < 1e-3);
        assert!((c.tokio.median() - 5e5).abs() < 1e-3);
        assert!((c.median_ratio() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_skipped_side_is_never_run() {
        let cfg = MeasureConfig {
            warmup: Duration::from_millis(1),
            rounds: 3,
            workers: 1,
            sides: Sides {
                zokio: true,
                baseline: false,
            },
        };
        let c = compare(&cfg, || 1u64, || -> u64 { panic!("baseline ran") });
        assert_eq!(
            (
                c.zokio.ops_per_sec.len(),
                c.tokio.ops_per_sec.len(),
                c.ratios.len()
            ),
            (3, 0, 0)
        );
    }
}
