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

use crate::measure::{self, interleave, Phase, Sampler, Timed, WarmUp};
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
pub trait RateBody: Sync {
    /// Runs the body once on `rt`; returns its operations (and its timed phase, if any).
    fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed;
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
    type Sample = f64;

    fn make<R: Runtime>(self) -> Sampler<'a, Result<f64, String>> {
        let rt: R = self.flavor.build(&self.ctx.options);
        Box::new(move |_| Ok(measure::rate(|| self.body.run(&rt, self.ctx))))
    }
}

/// Measures `body` on a runtime of `flavor` of each kind in the run: one point, in ops/s.
///
/// # Errors
/// As [`each_runtime`].
pub fn rates<B: RateBody>(ctx: &Ctx, flavor: Flavor, body: &B) -> Result<Point, String> {
    let series = each_runtime(
        ctx,
        WarmUp::For(ctx.cfg.warmup),
        RateSampler { ctx, flavor, body },
    )?;
    Ok(Point::from_samples(series))
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
    type Sample = Histogram<u64>;

    fn make<R: Runtime>(self) -> Sampler<'a, Result<Histogram<u64>, String>> {
        let rt: R = Flavor::MultiThread(self.ctx.cfg.workers).build(&self.ctx.options);
        Box::new(move |phase| {
            let n = match phase {
                Phase::WarmUp => (self.per_round / 4).max(1),
                Phase::Measure => self.per_round,
            };
            Ok(self.body.run(&rt, n))
        })
    }
}

/// A latency workload on multi-thread runtimes: after a quarter round of warm-up per
/// runtime, interleaved rounds of `per_round` values; each round's p50 is one sample, and
/// the percentiles are over every recorded value.
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
    let series = rounds
        .into_iter()
        .map(|(name, hists)| {
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
