//! In a run that counts, a workload's figures are counts only if they came through a
//! counted sample; anything else is recorded as not applicable, never given a count's
//! unit. A test binary of its own: the measure and the allocator are process-wide.

use zbench_suite::counting::CountingAlloc;
use zbench_suite::measure::{self, Measure, MeasureConfig, Timed};
use zbench_suite::rt::{Cap, Runtime};
use zbench_suite::runner;
use zbench_suite::strategy::{self, Flavor, RateBody};
use zbench_suite::suite::{Ctx, Figure, Outcome, Param, Point, Workload};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn workload(run: fn(&Ctx) -> Result<Outcome, String>) -> Workload {
    Workload {
        name: "test.point",
        unit: "tasks/s",
        params: &[("tasks", Param::N(100))],
        claims: &[],
        figure: Figure::Rate,
        multi_thread: false,
        needs: &[Cap::CurrentThread],
        description: "a test point",
        run,
    }
}

#[derive(Clone)]
struct Boxes;

impl RateBody for Boxes {
    fn run<R: Runtime>(&self, _rt: &R, _ctx: &Ctx) -> Timed {
        let boxes: Vec<Box<u64>> = (0..100).map(Box::new).collect();
        assert_eq!(boxes.len(), 100);
        Timed::from(100)
    }
}

#[test]
fn only_counted_samples_become_counts() {
    measure::set_measure(Measure::Allocations).unwrap();
    let ctx = Ctx::new(MeasureConfig::QUICK, vec!["zokio", "tokio"], "tokio");

    // 100 boxes and the vector holding them, per 100 operations: 1.01 allocations each.
    let counted =
        workload(|ctx| strategy::rates(ctx, Flavor::CurrentThread, &Boxes).map(Outcome::one));
    let r = runner::run_one(&counted, &ctx, 1).unwrap();
    assert!(r.not_applicable.is_empty(), "{:?}", r.not_applicable);
    assert_eq!(r.results.len(), 2);
    for x in &r.results {
        assert_eq!(x.unit, "allocations/task");
        assert!((x.stats.median - 1.01).abs() < 1e-9, "{}", x.stats.median);
    }

    // Figures made without a counted sample (a size known at compile time, say).
    let uncounted = workload(|ctx| {
        let each = ctx.runtimes.iter().map(|&n| (n, vec![16.0])).collect();
        Ok(Outcome::one(Point::from_samples(each)))
    });
    let r = runner::run_one(&uncounted, &ctx, 1).unwrap();
    assert!(r.results.is_empty(), "{:?}", r.results);
    assert_eq!(r.not_applicable.len(), 2);
    assert!(
        r.not_applicable[0]
            .reason
            .contains("not measured per operation"),
        "{}",
        r.not_applicable[0].reason
    );

    // A workload that says it cannot be counted.
    let refused = workload(|_| {
        measure::wall_clock_only("a size in bytes")?;
        unreachable!("wall_clock_only lets nothing through in a counted run")
    });
    let r = runner::run_one(&refused, &ctx, 1).unwrap();
    assert_eq!(r.not_applicable.len(), 2);
    assert!(r.not_applicable[0].reason.ends_with("a size in bytes"));
}
