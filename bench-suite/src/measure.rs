//! The measurement engine: warm-up, then interleaved rounds of paired samples.
//!
//! Method, from `../shared/METHOD.md`: warm every runtime of the run up, then take samples
//! in rounds; each round runs one sample on each runtime, in an order that changes from
//! round to round so that machine drift and order effects hit every runtime alike: none
//! always runs first on a warm cache, and none always runs after the same other runtime
//! ([`round_order`]); duet benchmarking (Bulej et al., ICPE 2020), extended to N sides.
//! Each runtime's ratio to the baseline is computed per round
//! from samples of the same round; comparing medians of paired ratios holds up on noisy
//! machines where absolute times do not (Laaber et al., EMSE 2019). Statistics and
//! intervals are in [`crate::stats`].
//!
//! [`interleave`] is the one loop every measuring strategy (rates, latency histograms,
//! child processes, scaling and parameter sweeps, network load) runs its samples through.
//! A rate sample is one call of a workload body, which returns how many operations it did
//! and, when it measures only one phase of its work itself (with a [`Meter`]), what that
//! phase cost; the sample's figure is operations per second.
//!
//! What a run measures is set once per process ([`set_measure`]): time (the default), or
//! a count per operation ([`Measure::Instructions`] under Callgrind,
//! [`Measure::Allocations`] with zbench's counting allocator). A [`Meter`] reads all of
//! them; [`rate`] turns a call's cost into the sample of the run's measure.

use crate::{callgrind, counting};
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};
pub use zbench_report::schema::Measure;

static MEASURE: AtomicU8 = AtomicU8::new(0);

/// Sets what this process measures, for every [`Meter`] from now on. Counting
/// allocations switches the counting allocator on.
///
/// # Errors
/// [`Measure::Allocations`] in a process whose global allocator is not
/// [`counting::CountingAlloc`] (the zbench binary installs it).
pub fn set_measure(m: Measure) -> Result<(), String> {
    if m == Measure::Allocations && !counting::installed() {
        return Err("allocations cannot be counted: this program's global allocator is not zbench's counting allocator".into());
    }
    counting::set_counting(m == Measure::Allocations);
    MEASURE.store(
        Measure::ALL.iter().position(|x| *x == m).unwrap_or(0) as u8,
        Relaxed,
    );
    Ok(())
}

/// What this process measures ([`Measure::WallClock`] unless [`set_measure`] said
/// otherwise).
pub fn measure() -> Measure {
    Measure::ALL[usize::from(MEASURE.load(Relaxed)) % Measure::ALL.len()]
}

/// How the error of [`wall_clock_only`] starts: the runner records such a workload as not
/// applicable in a run that counts, with the rest of the message as the reason.
pub const NOT_COUNTED: &str = "cannot count ";

/// The error of a strategy that can only measure time, in a run that counts: `what` says
/// what its figure is (a memory figure read from a child's RSS, say).
///
/// # Errors
/// When the run counts instructions or allocations.
pub fn wall_clock_only(what: &str) -> Result<(), String> {
    match measure() {
        Measure::WallClock => Ok(()),
        m => Err(format!("{NOT_COUNTED}{} per operation: {what}", m.name())),
    }
}

/// Runs `f` on this thread with nothing it does counted, in either count (its time is
/// not affected): Callgrind does not collect its instructions
/// ([`callgrind::zbench_uncounted`]) and its allocations are not counted
/// ([`counting::uncounted`]). For the threads of a load generator that shares the process
/// with the server being measured. Threads it starts are counted unless they call this
/// too.
pub fn uncounted<T>(f: impl FnOnce() -> T) -> T {
    let mut f = Some(f);
    let mut out = None;
    counting::uncounted(|| {
        callgrind::zbench_uncounted(&mut || out = f.take().map(|f| f()));
    });
    out.expect("zbench_uncounted calls its closure once")
}

/// Names what the next samples measure (`runtime`, warm-up or not) where a run keeps a
/// record of each sample: the dump index of an instruction run ([`callgrind::set_label`]).
pub fn label(runtime: &str, phase: Phase) {
    if measure() == Measure::Instructions {
        let phase = match phase {
            Phase::WarmUp => "warm-up",
            Phase::Measure => "measure",
        };
        callgrind::set_label(&format!("{runtime} {phase}"));
    }
}

/// Measures one phase of work as the run's measure asks: its time always, and its
/// instructions or allocations on every thread when the run counts them. Meters nest (a
/// body's own phase inside the strategy's whole call), and the inner one's cost is the one
/// used; in an instruction run an outer meter that had a phase inside it writes no dump of
/// its own and reads 0 instructions.
#[derive(Debug)]
pub struct Meter {
    start: Instant,
    allocations: counting::Counts,
    /// The Callgrind phase, and the dumps written before it began.
    instructions: Option<(callgrind::Phase, usize)>,
}

/// What a [`Meter`] read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Instructions or allocations, per the run's measure (0 when it measures time).
    pub count: u64,
    /// Bytes the allocations asked for (allocation runs only, else 0).
    pub bytes: u64,
}

impl Meter {
    /// Starts measuring.
    pub fn start() -> Meter {
        let m = measure();
        let allocations = if m == Measure::Allocations {
            counting::snapshot()
        } else {
            counting::Counts::default()
        };
        let instructions =
            (m == Measure::Instructions).then(|| (callgrind::Phase::begin(), callgrind::dumps()));
        Meter {
            start: Instant::now(),
            allocations,
            instructions,
        }
    }

    /// Stops measuring and returns what the phase cost.
    ///
    /// # Panics
    /// In an instruction run, if Callgrind's count cannot be read ([`callgrind::Phase::end`]).
    pub fn stop(self) -> Cost {
        let elapsed = self.start.elapsed();
        match (self.instructions, measure()) {
            // A meter inside this one dumped its phase: nothing of this one's is needed.
            (Some((_, before)), _) if callgrind::dumps() != before => Cost {
                elapsed,
                count: 0,
                bytes: 0,
            },
            (Some((phase, _)), _) => Cost {
                elapsed,
                count: phase.end(),
                bytes: 0,
            },
            (None, Measure::Allocations) => {
                let c = counting::snapshot().since(self.allocations);
                Cost {
                    elapsed,
                    count: c.allocations,
                    bytes: c.bytes,
                }
            }
            (None, _) => Cost {
                elapsed,
                count: 0,
                bytes: 0,
            },
        }
    }
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct MeasureConfig {
    /// How each side is warmed up before measuring (per side).
    pub warmup: WarmUp,
    /// Rounds of paired samples; rounded up to a multiple of the number of sides, so that
    /// each goes first equally often.
    pub rounds: usize,
    /// Worker threads for multi-thread workloads.
    pub workers: usize,
}

impl MeasureConfig {
    /// CI-sized: 0.2 s warm-up, 10 rounds, 2 workers.
    pub const QUICK: MeasureConfig = MeasureConfig {
        warmup: WarmUp::For(Duration::from_millis(200)),
        rounds: 10,
        workers: 2,
    };
    /// Default: 1 s warm-up, 30 rounds, 2 workers.
    pub const FULL: MeasureConfig = MeasureConfig {
        warmup: WarmUp::For(Duration::from_secs(1)),
        rounds: 30,
        workers: 2,
    };
}

/// What one call of a workload body did: operations, and what they cost when the body
/// measured one phase itself with a [`Meter`] (spawning without running, say); `None`
/// means "the whole call".
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// Operations performed.
    pub ops: u64,
    /// Cost of the measured phase, if not the whole call.
    pub phase: Option<Cost>,
}

impl Timed {
    /// `ops` operations whose cost `phase` measured.
    pub fn phase(ops: u64, phase: Cost) -> Timed {
        Timed {
            ops,
            phase: Some(phase),
        }
    }
}

impl From<u64> for Timed {
    fn from(ops: u64) -> Timed {
        Timed { ops, phase: None }
    }
}

/// Calls `f` once and returns its sample in the run's measure: operations per second, or
/// instructions or allocations per operation.
pub fn rate<T: Into<Timed>>(f: impl FnOnce() -> T) -> f64 {
    sample(f).value
}

/// One sample of a call: its figure in the run's measure, and in an allocation run the
/// bytes allocated per operation beside it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Operations per second, or instructions or allocations per operation.
    pub value: f64,
    /// Bytes allocated per operation (allocation runs; 0 otherwise).
    pub bytes_per_op: f64,
}

/// Calls `f` once and returns its [`Sample`] (see [`rate`]).
pub fn sample<T: Into<Timed>>(f: impl FnOnce() -> T) -> Sample {
    let meter = Meter::start();
    let timed = f().into();
    let whole = meter.stop();
    per_op(timed.ops, timed.phase.unwrap_or(whole))
}

/// Counted samples taken in this process ([`per_op`] in a run that counts).
static COUNTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many samples [`per_op`] has counted in this process: a workload that took none
/// in a run that counts measured something else, whatever its figures say.
pub fn counted_samples() -> u64 {
    COUNTED.load(Relaxed)
}

/// The sample of `ops` operations that cost `cost`, in the run's measure (see [`rate`]).
pub fn per_op(ops: u64, cost: Cost) -> Sample {
    match measure() {
        Measure::WallClock => Sample {
            value: ops as f64 / cost.elapsed.as_secs_f64(),
            bytes_per_op: 0.0,
        },
        _ => {
            COUNTED.fetch_add(1, Relaxed);
            Sample {
                value: cost.count as f64 / ops as f64,
                bytes_per_op: cost.bytes as f64 / ops as f64,
            }
        }
    }
}

/// Whether a call is warm-up (its result is dropped) or a measured sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Warm-up: the sampler may do less work (a latency round at a quarter size, say).
    WarmUp,
    /// A recorded sample.
    Measure,
}

/// How each side is warmed up before the first round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmUp {
    /// Call the sampler with [`Phase::WarmUp`] until this much time has passed (at least
    /// once when non-zero).
    For(Duration),
    /// Call it once with [`Phase::WarmUp`].
    Once,
    /// No warm-up (each sample is a fresh process, say).
    None,
}

impl WarmUp {
    /// Calls `f` as this warm-up says: until the time has passed (at least once when
    /// non-zero), once, or never.
    ///
    /// # Errors
    /// The first error `f` returns; it is not called again.
    pub fn run<E>(self, mut f: impl FnMut() -> Result<(), E>) -> Result<(), E> {
        match self {
            WarmUp::None => Ok(()),
            WarmUp::Once => f(),
            WarmUp::For(d) if d.is_zero() => Ok(()),
            WarmUp::For(d) => {
                let start = Instant::now();
                loop {
                    f()?;
                    if start.elapsed() >= d {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The warm-up's duration, for the result file: zero unless time-based.
    pub fn duration(self) -> Duration {
        match self {
            WarmUp::For(d) => d,
            WarmUp::Once | WarmUp::None => Duration::ZERO,
        }
    }
}

/// One side of an interleaved measurement: called once per round (and for warm-up).
pub type Sampler<'a, S> = Box<dyn FnMut(Phase) -> S + 'a>;

/// The order in which `sides` sides run in round `round`: row `round % period` of a
/// Williams design (E. J. Williams, "Experimental designs balanced for the estimation of
/// residual effects of treatments", Australian Journal of Scientific Research, 1949), whose
/// `period` is `sides` for an even number of sides and `2 × sides` for an odd one.
///
/// Over one period each side runs first equally often *and* each side runs right after
/// every other side equally often (once per ordered pair with an even count, twice with an
/// odd one), so what one runtime leaves behind (threads the kernel has placed, sockets
/// closing, caches) falls on every runtime alike. A plain rotation (A B C, B C A, …) gives
/// the first of these but not the second: every runtime always follows the same one. Row
/// `i` is the sequence `0, 1, n-1, 2, n-2, …` plus `i` (mod `n`); the second half of an
/// odd design runs the first half's rows backwards. What runs last in one round and first
/// in the next is not balanced.
pub fn round_order(round: usize, sides: usize) -> impl Iterator<Item = usize> {
    let n = sides.max(1);
    let row = round % period(n);
    let (shift, backwards) = (row % n, row >= n);
    (0..n).map(move |j| {
        let j = if backwards { n - 1 - j } else { j };
        // 0, 1, n-1, 2, n-2, ...: odd positions count up from 1, even ones down from n.
        let base = if j % 2 == 1 {
            j.div_ceil(2)
        } else {
            (n - j / 2) % n
        };
        (base + shift) % n
    })
}

/// The rounds after which [`round_order`]'s orders repeat: `sides` for an even number (and
/// one side), `2 × sides` for an odd number from three.
pub fn period(sides: usize) -> usize {
    match sides {
        0 | 1 => 1,
        n if n % 2 == 0 => n,
        n => 2 * n,
    }
}

/// The rounds a run of `sides` sides makes: `rounds` rounded up to a multiple of `sides`,
/// so that each side runs first equally often. (A whole [`period`] of an odd count is
/// twice that; the default 30 rounds and the quick run's 10, so rounded, are whole
/// periods for 2 to 5 sides, and an instruction run's counts carry nothing from one side
/// to the next.)
pub fn rounds_for(rounds: usize, sides: usize) -> usize {
    rounds.div_ceil(sides.max(1)) * sides.max(1)
}

/// Warms every sampler up, then runs [`rounds_for`]`(rounds, n)` rounds, each calling every
/// sampler once in [`round_order`] order. Returns each side's samples, in round order; sample
/// `i` of every side comes from round `i`.
///
/// # Errors
/// The first error a sampler returns; no later sample is taken.
pub fn interleave<S, E>(
    rounds: usize,
    warm_up: WarmUp,
    samplers: &mut [Sampler<'_, Result<S, E>>],
) -> Result<Vec<Vec<S>>, E> {
    for sampler in samplers.iter_mut() {
        warm_up.run(|| sampler(Phase::WarmUp).map(drop))?;
    }
    let n = samplers.len();
    let rounds = rounds_for(rounds, n);
    let mut out: Vec<Vec<S>> = (0..n).map(|_| Vec::with_capacity(rounds)).collect();
    for round in 0..rounds {
        for side in round_order(round, n) {
            out[side].push(samplers[side](Phase::Measure)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::convert::Infallible;

    fn recorder<'a>(
        order: &'a RefCell<Vec<char>>,
        name: char,
    ) -> Sampler<'a, Result<f64, Infallible>> {
        Box::new(move |phase| {
            if phase == Phase::Measure {
                order.borrow_mut().push(name);
            }
            Ok(1.0)
        })
    }

    #[test]
    fn two_sides_alternate_which_goes_first() {
        let order = RefCell::new(Vec::new());
        let mut sides = vec![recorder(&order, 'z'), recorder(&order, 't')];
        let out = interleave(4, WarmUp::None, &mut sides).unwrap();
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4]);
        drop(sides);
        assert_eq!(order.into_inner(), ['z', 't', 't', 'z', 'z', 't', 't', 'z']);
    }

    #[test]
    fn each_of_three_sides_goes_first_equally_often() {
        let order = RefCell::new(Vec::new());
        let mut sides = vec![
            recorder(&order, 'a'),
            recorder(&order, 'b'),
            recorder(&order, 'c'),
        ];
        // 10 rounds become 12, a multiple of 3.
        let out = interleave(10, WarmUp::None, &mut sides).unwrap();
        assert!(out.iter().all(|s| s.len() == 12));
        drop(sides);
        let order = order.into_inner();
        let firsts: Vec<char> = order.chunks(3).map(|r| r[0]).collect();
        for side in ['a', 'b', 'c'] {
            assert_eq!(
                firsts.iter().filter(|&&f| f == side).count(),
                4,
                "{firsts:?}"
            );
        }
        // Every round runs every side exactly once.
        assert!(order.chunks(3).all(|r| {
            let mut r = r.to_vec();
            r.sort_unstable();
            r == ['a', 'b', 'c']
        }));
    }

    #[test]
    fn each_side_follows_every_other_equally_often() {
        for n in 1..=7 {
            let rows: Vec<Vec<usize>> = (0..period(n))
                .map(|r| round_order(r, n).collect())
                .collect();
            let mut first = vec![0; n];
            let mut after = vec![vec![0; n]; n];
            for row in &rows {
                let mut sorted = row.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "{n} sides: {row:?}");
                first[row[0]] += 1;
                for w in row.windows(2) {
                    after[w[0]][w[1]] += 1;
                }
            }
            assert!(first.iter().all(|&f| f == first[0]), "{n} sides: {first:?}");
            let times = if n % 2 == 0 { 1 } else { 2 };
            for (a, row) in after.iter().enumerate() {
                for (b, &count) in row.iter().enumerate() {
                    let want = if a == b || n == 1 { 0 } else { times };
                    assert_eq!(count, want, "{n} sides: {b} after {a} in {rows:?}");
                }
            }
        }
        // The period's orders repeat.
        assert!(round_order(10, 5).eq(round_order(0, 5)));
        // Five runtimes as a run lists them: zokio no longer always follows compio.
        let mut before_zokio: Vec<usize> = (0..10)
            .map(|r| {
                let row: Vec<usize> = round_order(r, 5).collect();
                let at = row.iter().position(|&s| s == 0).expect("zokio runs");
                if at == 0 {
                    usize::MAX
                } else {
                    row[at - 1]
                }
            })
            .filter(|&s| s != usize::MAX)
            .collect();
        before_zokio.sort_unstable();
        before_zokio.dedup();
        assert_eq!(before_zokio, [1, 2, 3, 4]);
    }

    #[test]
    fn warm_up_samples_are_not_recorded() {
        let calls = RefCell::new((0, 0));
        let mut sides: Vec<Sampler<'_, Result<u32, Infallible>>> = vec![Box::new(|phase| {
            let mut c = calls.borrow_mut();
            match phase {
                Phase::WarmUp => c.0 += 1,
                Phase::Measure => c.1 += 1,
            }
            Ok(7)
        })];
        let out = interleave(3, WarmUp::Once, &mut sides).unwrap();
        drop(sides);
        assert_eq!(out, [vec![7, 7, 7]]);
        assert_eq!(calls.into_inner(), (1, 3));
    }

    #[test]
    fn a_timed_warm_up_calls_at_least_once_unless_zero() {
        for (d, at_least, at_most) in [(Duration::ZERO, 0, 0), (Duration::from_nanos(1), 1, 1)] {
            let calls = RefCell::new(0);
            let mut sides: Vec<Sampler<'_, Result<u32, Infallible>>> = vec![Box::new(|phase| {
                if phase == Phase::WarmUp {
                    // Long enough that a nanosecond has passed after the first call.
                    std::thread::sleep(Duration::from_micros(10));
                    *calls.borrow_mut() += 1;
                }
                Ok(0)
            })];
            interleave(1, WarmUp::For(d), &mut sides).unwrap();
            drop(sides);
            let calls = calls.into_inner();
            assert!(
                (at_least..=at_most).contains(&calls),
                "{d:?}: {calls} calls"
            );
        }
    }

    #[test]
    fn a_sampler_error_stops_the_measurement() {
        let mut sides: Vec<Sampler<'_, Result<u32, String>>> = vec![
            Box::new(|_| Ok(1)),
            Box::new(|_| Err("child failed".to_owned())),
        ];
        assert_eq!(
            interleave(3, WarmUp::None, &mut sides).unwrap_err(),
            "child failed"
        );
    }

    #[test]
    fn a_timed_phase_is_used_instead_of_the_whole_call() {
        let r = rate(|| {
            Timed::phase(
                1_000,
                Cost {
                    elapsed: Duration::from_millis(2),
                    count: 0,
                    bytes: 0,
                },
            )
        });
        assert!((r - 5e5).abs() < 1e-3);
    }
}
