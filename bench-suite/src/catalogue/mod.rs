//! The catalogue of workloads `zbench` runs, one file per group: names, units,
//! parameters (the constants their bodies are called with), claim ids, what each needs of a
//! runtime, and which measuring strategy ([`crate::strategy`]) runs its body on every
//! runtime of the run. Only tables and the bodies' sizes live here.

use crate::rt::Cap;
use crate::suite::Workload;

/// A rate workload on multi-thread runtimes of the run's worker count: `$body` is the body,
/// with `$rt` bound to each runtime in turn (and `$ctx` to the context, in the `with`
/// form). In the `split` form the body's sizes go through `$ctx.share(..)`, so that a
/// thread-per-core runtime runs it as one share per worker thread; otherwise such a runtime
/// runs it whole on one thread (see [`RateBody`](crate::strategy::RateBody)).
macro_rules! multi_rate {
    (|$rt:ident| $body:expr) => {
        multi_rate!(@ false, _ctx, |$rt| $body)
    };
    (with $ctx:ident, |$rt:ident| $body:expr) => {
        multi_rate!(@ false, $ctx, |$rt| $body)
    };
    (split $ctx:ident, |$rt:ident| $body:expr) => {
        multi_rate!(@ true, $ctx, |$rt| $body)
    };
    (@ $split:expr, $ctx:ident, |$rt:ident| $body:expr) => {{
        #[derive(Clone, Copy)]
        struct Body;
        impl RateBody for Body {
            const SPLIT: bool = $split;
            fn run<R: Runtime>(&self, $rt: &R, $ctx: &Ctx) -> Timed {
                let _ = $ctx;
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            strategy::rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &Body).map(Outcome::one)
        }
    }};
}

/// A rate workload on current-thread runtimes.
macro_rules! current_rate {
    (|$rt:ident| $body:expr) => {{
        #[derive(Clone, Copy)]
        struct Body;
        impl RateBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, _ctx: &Ctx) -> Timed {
                Timed::from($body)
            }
        }
        |ctx: &Ctx| strategy::rates(ctx, Flavor::CurrentThread, &Body).map(Outcome::one)
    }};
}

/// A rate workload with one point per value of a parameter: `$param: $ty = [values]`, the
/// body sees the value as `$v` (and the context as `$ctx` in the `split` form, which
/// divides as [`multi_rate!`]'s does).
macro_rules! sweep_rate {
    ($param:ident: $ty:ty = $values:expr, |$rt:ident, $v:ident| $body:expr) => {
        sweep_rate!(@ false, _ctx, $param: $ty = $values, |$rt, $v| $body)
    };
    (split $ctx:ident, $param:ident: $ty:ty = $values:expr, |$rt:ident, $v:ident| $body:expr) => {
        sweep_rate!(@ true, $ctx, $param: $ty = $values, |$rt, $v| $body)
    };
    (@ $split:expr, $ctx:ident, $param:ident: $ty:ty = $values:expr, |$rt:ident, $v:ident| $body:expr) => {{
        #[derive(Clone, Copy)]
        struct Body($ty);
        impl RateBody for Body {
            const SPLIT: bool = $split;
            fn run<R: Runtime>(&self, $rt: &R, $ctx: &Ctx) -> Timed {
                let _ = $ctx;
                let $v: $ty = self.0;
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            let points = strategy::sweep(ctx, stringify!($param), &$values, Body)?;
            Ok(Outcome { points })
        }
    }};
}

/// A rate workload with one point per worker count, 1 to the machine's cores (`split`: as
/// [`multi_rate!`]'s).
macro_rules! scaling_rate {
    (|$rt:ident| $body:expr) => {
        scaling_rate!(@ false, _ctx, |$rt| $body)
    };
    (split $ctx:ident, |$rt:ident| $body:expr) => {
        scaling_rate!(@ true, $ctx, |$rt| $body)
    };
    (@ $split:expr, $ctx:ident, |$rt:ident| $body:expr) => {{
        #[derive(Clone, Copy)]
        struct Body;
        impl RateBody for Body {
            const SPLIT: bool = $split;
            fn run<R: Runtime>(&self, $rt: &R, $ctx: &Ctx) -> Timed {
                let _ = $ctx;
                Timed::from($body)
            }
        }
        |ctx: &Ctx| {
            let points = strategy::scaling(ctx, &Body)?;
            Ok(Outcome { points })
        }
    }};
}

/// A latency workload: `$body` records `$n` values on `$rt` into a histogram.
macro_rules! latency {
    ($per_round:expr, |$rt:ident, $n:ident| $body:expr) => {{
        struct Body;
        impl HistogramBody for Body {
            fn run<R: Runtime>(&self, $rt: &R, $n: usize) -> hdrhistogram::Histogram<u64> {
                $body
            }
        }
        |ctx: &Ctx| strategy::histograms(ctx, $per_round, &Body).map(Outcome::one)
    }};
}

/// What every multi-thread workload needs.
const MULTI: &[Cap] = &[Cap::MultiThread];
/// What a multi-thread workload needs whose body wakes tasks from a plain thread.
const FOREIGN_WAKE: &[Cap] = &[Cap::MultiThread, Cap::ForeignWake];
/// What every current-thread workload needs.
const CURRENT: &[Cap] = &[Cap::CurrentThread];
/// What a current-thread workload on the `!Send` task path needs.
const LOCAL: &[Cap] = &[Cap::CurrentThread, Cap::LocalTasks];

mod io;
mod memory;
mod scale;
mod sched;
mod sync;
mod timers;
mod tokio_shapes;

pub use io::*;
pub use memory::*;
pub use sched::*;
pub use sync::*;
pub use timers::*;

/// Every workload of the suite, in report order (the stress and network workloads are in
/// the stress crate).
pub fn workloads() -> Vec<Workload> {
    let mut all = sched::scheduler();
    all.extend(sched::building_blocks());
    all.extend(sched::references_and_latency());
    all.extend(memory::memory());
    all.extend(scale::scale());
    all.extend(sync::channels());
    all.extend(timers::timers());
    all.extend(io::io());
    all.extend(tokio_shapes::tokio_shapes());
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::MeasureConfig;
    use crate::rt::{Runtime, Zokio};
    use crate::suite::Ctx;
    use std::time::Duration;

    #[test]
    fn names_are_unique_and_grouped() {
        let all = workloads();
        let mut names: Vec<_> = all.iter().map(|w| w.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().all(|w| w.name.contains('.')));
    }

    #[test]
    fn every_workload_runs_once_on_every_runtime_with_known_claims() {
        let mut ctx = Ctx::new(
            MeasureConfig {
                warmup: crate::measure::WarmUp::None,
                rounds: 1,
                workers: 2,
            },
            crate::rt::NAMES.to_vec(),
            "tokio",
        );
        ctx.stress_duration = Duration::from_millis(300);
        for w in workloads() {
            for claim in w.claims {
                assert!(
                    zbench_report::claims::claim(claim).is_some(),
                    "{}: unknown claim {claim}",
                    w.name
                );
            }
            let (ctx, _) = crate::runner::applicable(&w, &ctx).unwrap();
            let out = (w.run)(&ctx).unwrap_or_else(|e| panic!("{}: {e}", w.name));
            let epoll_only = w.name == "zsync.batch"
                && Zokio::current_thread().metrics().io_driver() == zokio::runtime::IoDriver::Epoll;
            assert!(!out.points.is_empty() || epoll_only, "{}", w.name);
            for p in &out.points {
                let expected: Vec<&str> = match p.baseline {
                    Some(NO_BASELINE) => vec![Zokio::NAME],
                    Some(reference) => vec![Zokio::NAME, reference],
                    None => ctx.runtimes.clone(),
                };
                let names: Vec<&str> = p.series.iter().map(|s| s.name).collect();
                assert_eq!(names, expected, "{}", w.name);
                for s in &p.series {
                    assert!(!s.samples.is_empty(), "{} {}", w.name, s.name);
                    assert!(
                        s.samples.iter().all(|x| x.is_finite() && *x >= 0.0),
                        "{} {}",
                        w.name,
                        s.name
                    );
                }
            }
        }
    }
}
