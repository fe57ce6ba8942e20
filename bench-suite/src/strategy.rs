//! Measuring strategies: how a workload body becomes a [`Point`] with one series per
//! runtime of the run. Every strategy runs its samples through the one interleaving loop,
//! [`measure::interleave`].
//!
//! A workload body is written once, generic over [`Runtime`]; a strategy builds one runtime
//! of each kind the run asks for (through [`rt::dispatch`]) and hands each a sampler that
//! calls the same body with the same parameters.
//!
//! - [`rates`]: operations per second, one call of the body per sample.
//! - [`histograms`]: latency, one histogram per round; the sample is the round's p50 and
//!   the percentiles are over every recorded value.
//! - [`child_processes`]: one fresh process per sample (memory figures).
//! - [`scaling`] and [`sweep`]: [`rates`] at each worker count or parameter value.

use crate::measure::{self, interleave, Cost, Measure, Meter, Phase, Sampler, Timed, WarmUp};
use crate::rt::{self, RunOptions, Runtime, Visitor};
use crate::suite::{Ctx, Point, Series};
use hdrhistogram::Histogram;
use zbench_report::schema::Percentiles;

/// The kind of runtime a workload runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// A multi-thread runtime with this many workers.
    MultiThread(usize),
    /// A current-thread runtime.
    CurrentThread,
}

impl Flavor {
    /// Builds a runtime of this flavor with the run's `options`.
    pub fn build<R: Runtime>(self, options: &RunOptions) -> R {
        match self {
            Flavor::MultiThread(workers) => R::multi_thread_with(workers, options),
            Flavor::CurrentThread => R::current_thread_with(options),
        }
    }
}

/// Makes the sampler of one runtime; [`each_runtime`] calls it once per runtime of the run.
pub trait MakeSampler<'a>: Copy {
    /// What one sample is.
    type Sample;

    /// Builds what runtime `R` needs and returns its sampler.
    fn make<R: Runtime>(self) -> Sampler<'a, Result<Self::Sample, String>>;
}

struct Make<'a, M>(M, std::marker::PhantomData<&'a ()>);

impl<'a, M: MakeSampler<'a>> Visitor for Make<'a, M> {
    type Output = Sampler<'a, Result<M::Sample, String>>;

    fn visit<R: Runtime>(self) -> Self::Output {
        self.0.make::<R>()
    }
}

/// Each runtime's samples, by name, in the run's order.
pub type PerRuntime<S> = Vec<(&'static str, Vec<S>)>;

/// Builds a sampler for every runtime of `ctx` and runs them through [`interleave`]:
/// each runtime's samples, in the order of `ctx.runtimes`.
///
/// # Errors
/// A sampler's error, or a runtime name that is not registered.
pub fn each_runtime<'a, M: MakeSampler<'a>>(
    ctx: &Ctx,
    warm_up: WarmUp,
    make: M,
) -> Result<PerRuntime<M::Sample>, String> {
    let mut samplers = ctx
        .runtimes
        .iter()
        .map(|name| {
            rt::dispatch(name, Make(make, std::marker::PhantomData))
                .ok_or_else(|| format!("unknown runtime {name:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = interleave(ctx.cfg.rounds, warm_up, &mut samplers)?;
    Ok(ctx.runtimes.iter().copied().zip(out).collect())
}

/// A rate workload's body: one call is one sample.
///
/// On a thread-per-core runtime ([`Runtime::THREAD_PER_CORE`]) an N-worker body runs on
/// one current-thread runtime per shard thread: with [`SPLIT`](Self::SPLIT), on N of them,
/// each with its share of the work ([`Ctx::share`]); without, on one, since the work is one
/// task's (a multi-thread runtime would run it on one worker too).
pub trait RateBody: Clone + Send + Sync + 'static {
    /// Whether the body's work divides among independent runtimes: its sizes go through
    /// [`Ctx::share`], and everything it does happens inside the runtime it is given.
    const SPLIT: bool = false;

    /// Runs the body once on `rt`; returns its operations (and its timed phase, if any).
    fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed;

    /// Readies the machine for the next call of [`run`](Self::run), untimed (files to
    /// write into, say). On a thread-per-core runtime every shard prepares before any shard
    /// starts its call, so that one shard's preparation never overlaps another's measured
    /// work. Nothing by default.
    fn prepare(&self, _ctx: &Ctx) {}
}

/// Shard threads of a thread-per-core run: one current-thread runtime of `R` per thread,
/// built there and kept for the sampler's life, each running one call of the body per
/// sample.
struct Shards {
    jobs: Vec<std::sync::mpsc::Sender<Shot>>,
    results: std::sync::mpsc::Receiver<Result<ShardRun, String>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// One sample's start signal for every shard.
type Shot = std::sync::Arc<std::sync::Barrier>;

/// What one shard did in one sample: its timed window, what the whole call cost, and its
/// operations.
struct ShardRun {
    start: std::time::Instant,
    end: std::time::Instant,
    cost: Cost,
    timed: Timed,
}

impl Shards {
    /// Starts `count` shard threads and waits until each has built its runtime.
    ///
    /// # Errors
    /// A runtime that could not be built (its build panicked); the threads started are
    /// stopped and joined.
    fn new<R: Runtime, B: RateBody>(count: usize, ctx: &Ctx, body: &B) -> Result<Shards, String> {
        let (result_tx, results) = std::sync::mpsc::channel();
        let (ready_tx, ready) = std::sync::mpsc::channel::<Result<(), String>>();
        let mut jobs = Vec::new();
        let mut threads = Vec::new();
        for index in 0..count {
            let (job_tx, job_rx) = std::sync::mpsc::channel::<Shot>();
            let mut ctx = ctx.clone();
            ctx.share = crate::suite::Share { index, count };
            let (body, result_tx, ready_tx) = (body.clone(), result_tx.clone(), ready_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("zbench-shard-{index}"))
                .spawn(move || {
                    ctx.options.pin_worker(index);
                    let built = std::panic::catch_unwind(|| R::current_thread_with(&ctx.options));
                    let Ok(rt) = built else {
                        let _ =
                            ready_tx.send(Err(format!("{} shard {index}: no runtime", R::NAME)));
                        return;
                    };
                    let _ = ready_tx.send(Ok(()));
                    for go in job_rx {
                        let prepared =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                body.prepare(&ctx)
                            }));
                        // Reached even when preparing panicked: the others wait for it.
                        go.wait();
                        let start = std::time::Instant::now();
                        let meter = Meter::start();
                        let run = prepared.and_then(|()| {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                body.run(&rt, &ctx)
                            }))
                        });
                        let cost = meter.stop();
                        let run = run
                            .map(|timed| ShardRun {
                                start,
                                end: std::time::Instant::now(),
                                cost,
                                timed,
                            })
                            .map_err(|_| format!("{} shard {index} panicked", R::NAME));
                        if result_tx.send(run).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawn a shard thread");
            jobs.push(job_tx);
            threads.push(thread);
        }
        let shards = Shards {
            jobs,
            results,
            threads,
        };
        // Every shard must be waiting for jobs before the first sample: a barrier that one
        // missing thread never reaches would hold the others forever.
        for _ in 0..count {
            ready
                .recv()
                .map_err(|_| "a shard thread is gone".to_owned())??;
        }
        Ok(shards)
    }

    /// Runs the body once on every shard at once: total operations over the time from the
    /// first shard's start to the last one's end (or, for bodies that time one phase
    /// themselves, over the longest shard's phase). A run that counts has one shard
    /// ([`shard_count`]): its count over its operations.
    fn sample(&self) -> Result<measure::Sample, String> {
        let go = std::sync::Arc::new(std::sync::Barrier::new(self.jobs.len()));
        for job in &self.jobs {
            job.send(go.clone()).map_err(|_| "a shard thread is gone")?;
        }
        let runs = (0..self.jobs.len())
            .map(|_| {
                self.results
                    .recv()
                    .map_err(|_| "a shard thread is gone".to_owned())?
            })
            .collect::<Result<Vec<ShardRun>, String>>()?;
        let ops: u64 = runs.iter().map(|r| r.timed.ops).sum();
        if measure::measure().is_count() {
            let [run] = &runs[..] else {
                return Err(format!("{} shards in a counted run", runs.len()));
            };
            return Ok(measure::per_op(ops, run.timed.phase.unwrap_or(run.cost)));
        }
        let phases: Vec<_> = runs
            .iter()
            .filter_map(|r| r.timed.phase.map(|p| p.elapsed))
            .collect();
        let elapsed = if phases.is_empty() {
            let start = runs
                .iter()
                .map(|r| r.start)
                .min()
                .expect("one shard at least");
            let end = runs
                .iter()
                .map(|r| r.end)
                .max()
                .expect("one shard at least");
            end - start
        } else {
            phases.into_iter().max().expect("not empty")
        };
        Ok(measure::per_op(
            ops,
            Cost {
                elapsed,
                count: 0,
                bytes: 0,
            },
        ))
    }
}

impl Drop for Shards {
    fn drop(&mut self) {
        self.jobs.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// How many thread-per-core runtimes an N-worker row of `B` runs on (see [`RateBody`]);
/// one in a run that counts instructions or allocations, whose counts are over the whole
/// process and so cannot be told apart between shards running at once.
fn shard_count<B: RateBody>(workers: usize) -> usize {
    if B::SPLIT && !measure::measure().is_count() {
        workers
    } else {
        1
    }
}

struct RateSampler<'a, B> {
    ctx: &'a Ctx,
    flavor: Flavor,
    body: &'a B,
}

impl<B> Clone for RateSampler<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B> Copy for RateSampler<'_, B> {}

impl<'a, B: RateBody> MakeSampler<'a> for RateSampler<'a, B> {
    type Sample = measure::Sample;

    fn make<R: Runtime>(self) -> Sampler<'a, Result<measure::Sample, String>> {
        match self.flavor {
            Flavor::MultiThread(workers) if R::THREAD_PER_CORE => {
                match Shards::new::<R, B>(shard_count::<B>(workers), self.ctx, self.body) {
                    Ok(shards) => Box::new(move |phase| {
                        measure::label(R::NAME, phase);
                        shards.sample()
                    }),
                    Err(e) => Box::new(move |_| Err(e.clone())),
                }
            }
            flavor => {
                let rt: R = flavor.build(&self.ctx.options);
                Box::new(move |phase| {
                    self.body.prepare(self.ctx);
                    measure::label(R::NAME, phase);
                    Ok(measure::sample(|| self.body.run(&rt, self.ctx)))
                })
            }
        }
    }
}

/// Measures `body` on a runtime of `flavor` of each kind in the run: one point, in ops/s
/// (or, in a run that counts, instructions or allocations per operation, with the median
/// bytes allocated per operation as extra `bytes_allocated_per_op` of an allocation run).
/// A thread-per-core runtime's series of an N-worker point records how many runtimes ran
/// it (extra `thread_per_core_runtimes`).
///
/// # Errors
/// As [`each_runtime`].
pub fn rates<B: RateBody>(ctx: &Ctx, flavor: Flavor, body: &B) -> Result<Point, String> {
    let series = each_runtime(ctx, ctx.cfg.warmup, RateSampler { ctx, flavor, body })?;
    let mut point = from_samples(series);
    if let Flavor::MultiThread(workers) = flavor {
        mark_thread_per_core(&mut point, shard_count::<B>(workers));
    }
    Ok(point)
}

/// Records on each thread-per-core runtime's series how many of its runtimes ran the point
/// (extra `thread_per_core_runtimes`).
fn mark_thread_per_core(point: &mut Point, shards: usize) {
    for s in &mut point.series {
        if rt::info(s.name).is_some_and(|i| i.thread_per_core) {
            s.extra.push(("thread_per_core_runtimes", shards as f64));
        }
    }
}

/// A point of [`measure::Sample`]s: their values as samples, and in an allocation run the
/// median bytes per operation of each series as its extra `bytes_allocated_per_op`.
pub fn from_samples(series: PerRuntime<measure::Sample>) -> Point {
    let bytes: Vec<f64> = series
        .iter()
        .map(|(_, samples)| {
            let b: Vec<f64> = samples.iter().map(|s| s.bytes_per_op).collect();
            crate::stats::median(&b)
        })
        .collect();
    let mut point = Point::from_samples(
        series
            .into_iter()
            .map(|(name, samples)| (name, samples.iter().map(|s| s.value).collect()))
            .collect(),
    );
    if measure::measure() == Measure::Allocations {
        for (s, b) in point.series.iter_mut().zip(bytes) {
            s.extra.push(("bytes_allocated_per_op", b));
        }
    }
    point
}

/// One point per worker count from 1 to the machine's cores (at least 2), `workers` in
/// each point's params.
///
/// # Errors
/// As [`each_runtime`].
pub fn scaling<B: RateBody>(ctx: &Ctx, body: &B) -> Result<Vec<Point>, String> {
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    (1..=cores)
        .map(|w| {
            let mut p = rates(ctx, Flavor::MultiThread(w), body)?;
            p.params = vec![("workers", w.into())];
            Ok(p)
        })
        .collect()
}

/// One point per value of `param`, on multi-thread runtimes of `ctx.cfg.workers` workers:
/// `body(value)` is the body of that point, and `param=value` goes into its params.
///
/// # Errors
/// As [`each_runtime`].
pub fn sweep<V, B>(
    ctx: &Ctx,
    param: &'static str,
    values: &[V],
    body: impl Fn(V) -> B,
) -> Result<Vec<Point>, String>
where
    V: Copy + Into<serde_json::Value>,
    B: RateBody,
{
    values
        .iter()
        .map(|&v| {
            let mut p = rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &body(v))?;
            p.params = vec![(param, v.into())];
            Ok(p)
        })
        .collect()
}

/// A latency workload's body: one call records `n` latencies into a histogram.
pub trait HistogramBody: Sync {
    /// Records `n` values (nanoseconds) on `rt`.
    fn run<R: Runtime>(&self, rt: &R, n: usize) -> Histogram<u64>;
}

struct HistogramSampler<'a, B> {
    ctx: &'a Ctx,
    per_round: usize,
    body: &'a B,
}

impl<B> Clone for HistogramSampler<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B> Copy for HistogramSampler<'_, B> {}

impl<'a, B: HistogramBody> MakeSampler<'a> for HistogramSampler<'a, B> {
    /// The round's histogram, and its count per recorded value in a run that counts.
    type Sample = (Histogram<u64>, measure::Sample);

    fn make<R: Runtime>(self) -> Sampler<'a, Result<Self::Sample, String>> {
        // A latency body's work is one set of tasks: a thread-per-core runtime runs it on
        // one of its runtimes.
        let rt: R = if R::THREAD_PER_CORE {
            Flavor::CurrentThread.build(&self.ctx.options)
        } else {
            Flavor::MultiThread(self.ctx.cfg.workers).build(&self.ctx.options)
        };
        Box::new(move |phase| {
            let n = match phase {
                Phase::WarmUp => (self.per_round / 4).max(1),
                Phase::Measure => self.per_round,
            };
            measure::label(R::NAME, phase);
            let mut histogram = None;
            let sample = measure::sample(|| {
                histogram = Some(self.body.run(&rt, n));
                n as u64
            });
            let histogram = histogram.ok_or("the latency body recorded nothing")?;
            Ok((histogram, sample))
        })
    }
}

/// A latency workload on multi-thread runtimes (one runtime of a thread-per-core kind,
/// recorded as `thread_per_core_runtimes`): after a quarter round of warm-up per runtime,
/// interleaved rounds of `per_round` values; each round's p50 is one sample, and the
/// percentiles are over every recorded value. In a run that counts, a round's sample is
/// its instructions or allocations per recorded value, and there are no percentiles.
///
/// # Errors
/// As [`each_runtime`].
pub fn histograms<B: HistogramBody>(
    ctx: &Ctx,
    per_round: usize,
    body: &B,
) -> Result<Point, String> {
    let rounds = each_runtime(
        ctx,
        WarmUp::Once,
        HistogramSampler {
            ctx,
            per_round,
            body,
        },
    )?;
    if measure::measure().is_count() {
        let counted = rounds
            .into_iter()
            .map(|(name, rounds)| (name, rounds.into_iter().map(|(_, s)| s).collect()))
            .collect();
        let mut point = from_samples(counted);
        mark_thread_per_core(&mut point, 1);
        return Ok(point);
    }
    let series = rounds
        .into_iter()
        .map(|(name, rounds)| {
            let hists: Vec<Histogram<u64>> = rounds.into_iter().map(|(h, _)| h).collect();
            let mut all = crate::workloads::latency_histogram();
            for h in &hists {
                all.add(h).map_err(|e| e.to_string())?;
            }
            let mut s = Series::new(
                name,
                hists
                    .iter()
                    .map(|h| h.value_at_quantile(0.5) as f64)
                    .collect(),
            );
            s.percentiles = Some(percentiles(&all));
            if rt::info(name).is_some_and(|i| i.thread_per_core) {
                s.extra.push(("thread_per_core_runtimes", 1.0));
            }
            Ok(s)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Point {
        series,
        ..Point::default()
    })
}

/// p50/p90/p99/p99.9/max of a histogram, as recorded.
pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    Percentiles {
        p50: h.value_at_quantile(0.5) as f64,
        p90: h.value_at_quantile(0.9) as f64,
        p99: h.value_at_quantile(0.99) as f64,
        p999: h.value_at_quantile(0.999) as f64,
        max: h.max() as f64,
    }
}

/// Rounds of child-process measurements: 3 per runtime (more when the run has more
/// runtimes, so that each goes first equally often), whatever the run size, because a
/// single RSS reading can be off by a few KiB.
pub const CHILD_ROUNDS: usize = 3;

/// One fresh child process per runtime and round, interleaved, measuring `job` of size
/// `n` with the run's workers and the runtime's name.
///
/// # Errors
/// A child that could not start, failed, or printed no number.
pub fn child_processes(
    ctx: &Ctx,
    job: crate::child::Job,
    n: usize,
    params: Vec<(&'static str, serde_json::Value)>,
) -> Result<Point, String> {
    measure::wall_clock_only("a memory figure, read from a fresh process's resident memory")?;
    let exe = ctx.child_exe.as_deref();
    let (workers, driver) = (ctx.cfg.workers, ctx.options.zokio_driver);
    let mut samplers: Vec<Sampler<'_, Result<f64, String>>> = ctx
        .runtimes
        .iter()
        .map(|&name| -> Sampler<'_, Result<f64, String>> {
            Box::new(move |_| {
                crate::child::measure(exe, job, name, n, workers, driver).map_err(|e| e.to_string())
            })
        })
        .collect();
    let out = interleave(CHILD_ROUNDS, WarmUp::None, &mut samplers)?;
    let mut point = Point::from_samples(ctx.runtimes.iter().copied().zip(out).collect());
    point.params = params;
    Ok(point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::MeasureConfig;
    use crate::suite::Share;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn shares_add_up_to_the_whole() {
        let mut ctx = Ctx::new(MeasureConfig::QUICK, vec!["tokio"], "tokio");
        assert_eq!(ctx.share(1001), 1001);
        for count in 1..=5 {
            for n in [0, 1, 2, 7, 1001] {
                let parts: Vec<usize> = (0..count)
                    .map(|index| {
                        ctx.share = Share { index, count };
                        ctx.share(n)
                    })
                    .collect();
                assert_eq!(parts.iter().sum::<usize>(), n, "{n} over {count}");
                assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
                // The ranges tile 0..n in shard order, each as long as its share.
                let mut next = 0;
                for (index, part) in parts.iter().enumerate() {
                    ctx.share = Share { index, count };
                    assert_eq!(ctx.share_range(n), next..next + part, "{n} over {count}");
                    next += part;
                }
                assert_eq!(next, n);
            }
        }
    }

    /// Work done and threads used by the bodies below.
    static SPLIT_WORK: AtomicUsize = AtomicUsize::new(0);
    static SPLIT_THREADS: Mutex<Vec<std::thread::ThreadId>> = Mutex::new(Vec::new());
    static WHOLE_WORK: AtomicUsize = AtomicUsize::new(0);
    static WHOLE_THREADS: Mutex<Vec<std::thread::ThreadId>> = Mutex::new(Vec::new());

    const WORK: usize = 1001;

    #[derive(Clone, Copy)]
    struct Split;

    impl RateBody for Split {
        const SPLIT: bool = true;
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            let n = ctx.share(WORK);
            rt.block_on(R::yield_now());
            SPLIT_WORK.fetch_add(n, Relaxed);
            SPLIT_THREADS
                .lock()
                .unwrap()
                .push(std::thread::current().id());
            Timed::from(n as u64)
        }
    }

    #[derive(Clone, Copy)]
    struct Whole;

    impl RateBody for Whole {
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            let n = ctx.share(WORK);
            rt.run(async {});
            WHOLE_WORK.fetch_add(n, Relaxed);
            WHOLE_THREADS
                .lock()
                .unwrap()
                .push(std::thread::current().id());
            Timed::from(n as u64)
        }
    }

    #[cfg(feature = "peers")]
    #[test]
    fn thread_per_core_rows_run_one_runtime_per_worker_each_with_its_share() {
        let ctx = Ctx::new(
            MeasureConfig {
                warmup: WarmUp::None,
                rounds: 2,
                workers: 3,
            },
            vec![crate::rt::Monoio::NAME],
            crate::rt::Monoio::NAME,
        );
        let p = rates(&ctx, Flavor::MultiThread(3), &Split).unwrap();
        assert_eq!(
            SPLIT_WORK.load(Relaxed),
            WORK * 2,
            "every call did the whole work"
        );
        let threads: HashSet<_> = SPLIT_THREADS.lock().unwrap().iter().copied().collect();
        assert_eq!(threads.len(), 3, "one thread per worker");
        assert!(!threads.contains(&std::thread::current().id()));
        assert_eq!(p.series[0].extra, vec![("thread_per_core_runtimes", 3.0)]);
        assert_eq!(p.series[0].samples.len(), 2);

        let p = rates(&ctx, Flavor::MultiThread(3), &Whole).unwrap();
        assert_eq!(WHOLE_WORK.load(Relaxed), WORK * 2, "one runtime did it all");
        let threads: HashSet<_> = WHOLE_THREADS.lock().unwrap().iter().copied().collect();
        assert_eq!(threads.len(), 1);
        assert_eq!(p.series[0].extra, vec![("thread_per_core_runtimes", 1.0)]);
    }

    /// What the body below did, in order: `true` for a prepare, `false` for a run.
    static ORDER: Mutex<Vec<bool>> = Mutex::new(Vec::new());

    #[derive(Clone, Copy)]
    struct Prepared {
        /// Shard whose prepare panics, if any.
        panics: Option<usize>,
    }

    impl RateBody for Prepared {
        const SPLIT: bool = true;
        fn prepare(&self, ctx: &Ctx) {
            assert!(self.panics != Some(ctx.share.index), "prepare failed");
            // The first shard prepares slowly: the others must still wait for it.
            if ctx.share.index == 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
            ORDER.lock().unwrap().push(true);
        }
        fn run<R: Runtime>(&self, rt: &R, _: &Ctx) -> Timed {
            rt.run(async {});
            ORDER.lock().unwrap().push(false);
            Timed::from(1)
        }
    }

    #[cfg(feature = "peers")]
    #[test]
    fn every_shard_prepares_before_any_shard_runs() {
        let ctx = Ctx::new(
            MeasureConfig {
                warmup: WarmUp::None,
                rounds: 3,
                workers: 3,
            },
            vec![crate::rt::Monoio::NAME],
            crate::rt::Monoio::NAME,
        );
        let body = Prepared { panics: None };
        rates(&ctx, Flavor::MultiThread(3), &body).unwrap();
        let order = std::mem::take(&mut *ORDER.lock().unwrap());
        // Three shards per call: three prepares, then three runs.
        assert!(order.len() >= 3 * 6, "{} steps", order.len());
        for call in order.chunks(6) {
            assert_eq!(call, [true, true, true, false, false, false]);
        }

        // A prepare that panics fails the point instead of holding the other shards.
        let e = rates(&ctx, Flavor::MultiThread(3), &Prepared { panics: Some(1) });
        assert!(e.is_err());
    }
}
