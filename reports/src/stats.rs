//! Summary statistics and bootstrap confidence intervals.
//!
//! The interval is a percentile bootstrap of the median (Efron & Tibshirani, "An
//! Introduction to the Bootstrap", 1993, ch. 13): resample the samples with replacement,
//! take each resample's median, and report the 2.5th and 97.5th percentiles of those
//! medians. Resamples: 10,000 (criterion uses 100,000; with 10–30 samples per workload the
//! interval's ends move by well under 1% between 10k and 100k, at a tenth of the time). The
//! RNG is seeded, and the seed is recorded in the result file, so every interval can be
//! recomputed exactly (criterion seeds from the clock and cannot be replayed).

use crate::schema::Stats;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 10_000;

/// The median of `xs` (mean of the middle two for an even count); NaN when empty.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    median_sorted(&v)
}

fn median_sorted(v: &[f64]) -> f64 {
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Median absolute deviation from the median (unscaled).
pub fn mad(xs: &[f64]) -> f64 {
    let m = median(xs);
    let dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
    median(&dev)
}

/// The `q` quantile (0..=1) of sorted values, by linear interpolation between ranks.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Percentile-bootstrap 95% interval of the median, with `seed`.
pub fn bootstrap_median_ci(xs: &[f64], seed: u64) -> (f64, f64) {
    if xs.len() < 2 {
        let m = median(xs);
        return (m, m);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut resample = vec![0.0; xs.len()];
    let mut medians = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for slot in resample.iter_mut() {
            *slot = xs[rng.random_range(0..xs.len())];
        }
        resample.sort_by(f64::total_cmp);
        medians.push(median_sorted(&resample));
    }
    medians.sort_by(f64::total_cmp);
    (
        quantile_sorted(&medians, 0.025),
        quantile_sorted(&medians, 0.975),
    )
}

/// Percentile-bootstrap 95% interval of `median(new) / median(base)`, resampling the two
/// sample sets independently (they come from different runs, so they are not paired), with
/// `seed`. With fewer than two samples on either side the interval is the point estimate.
pub fn bootstrap_ratio_of_medians_ci(base: &[f64], new: &[f64], seed: u64) -> (f64, f64) {
    let point = median(new) / median(base);
    if base.len() < 2 || new.len() < 2 {
        return (point, point);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rb = vec![0.0; base.len()];
    let mut rn = vec![0.0; new.len()];
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for slot in rb.iter_mut() {
            *slot = base[rng.random_range(0..base.len())];
        }
        for slot in rn.iter_mut() {
            *slot = new[rng.random_range(0..new.len())];
        }
        rb.sort_by(f64::total_cmp);
        rn.sort_by(f64::total_cmp);
        ratios.push(median_sorted(&rn) / median_sorted(&rb));
    }
    ratios.sort_by(f64::total_cmp);
    (
        quantile_sorted(&ratios, 0.025),
        quantile_sorted(&ratios, 0.975),
    )
}

/// All of [`Stats`] for `xs`, with the interval seeded by `seed`.
pub fn summarize(xs: &[f64], seed: u64) -> Stats {
    let (ci95_low, ci95_high) = bootstrap_median_ci(xs, seed);
    let n = xs.len();
    Stats {
        n,
        median: median(xs),
        mean: if n == 0 {
            f64::NAN
        } else {
            xs.iter().sum::<f64>() / n as f64
        },
        min: xs.iter().copied().fold(f64::INFINITY, f64::min),
        max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mad: mad(xs),
        ci95_low,
        ci95_high,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_on_known_samples() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
        // |x - 3| = 2,1,0,1,6 -> median 1
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 9.0]), 1.0);
    }

    #[test]
    fn ratio_interval_brackets_the_ratio_and_separates_a_real_shift() {
        let base: Vec<f64> = (0..20).map(|i| 100.0 + f64::from(i % 5)).collect();
        let same: Vec<f64> = (0..20).map(|i| 100.0 + f64::from((i + 2) % 5)).collect();
        let (lo, hi) = bootstrap_ratio_of_medians_ci(&base, &same, 7);
        assert!(lo <= 1.0 && 1.0 <= hi, "({lo}, {hi})");
        let half: Vec<f64> = base.iter().map(|x| x / 2.0).collect();
        let (lo, hi) = bootstrap_ratio_of_medians_ci(&base, &half, 7);
        assert!(hi < 0.6 && lo > 0.4, "({lo}, {hi})");
        assert_eq!(
            bootstrap_ratio_of_medians_ci(&base, &half, 7),
            bootstrap_ratio_of_medians_ci(&base, &half, 7)
        );
    }

    #[test]
    fn interval_brackets_the_median_and_is_reproducible() {
        let xs: Vec<f64> = (1..=31).map(f64::from).collect();
        let (lo, hi) = bootstrap_median_ci(&xs, 42);
        assert!(lo <= 16.0 && 16.0 <= hi, "({lo}, {hi})");
        assert!(lo >= 10.0 && hi <= 22.0, "too wide: ({lo}, {hi})");
        assert_eq!((lo, hi), bootstrap_median_ci(&xs, 42));
    }

    #[test]
    fn constant_samples_give_a_zero_width_interval() {
        let s = summarize(&[5.0; 10], 1);
        assert_eq!((s.ci95_low, s.ci95_high, s.mad), (5.0, 5.0, 0.0));
        assert_eq!((s.min, s.max, s.mean, s.n), (5.0, 5.0, 5.0, 10));
    }

    #[test]
    fn interval_of_two_separated_clusters_excludes_neither_wrongly() {
        // Ratios all near 2: the interval must exclude 1 (a clear difference).
        let xs = [1.9, 2.0, 2.1, 2.05, 1.95, 2.02, 1.98, 2.01, 1.99, 2.03];
        let (lo, hi) = bootstrap_median_ci(&xs, 9);
        assert!(lo > 1.5 && hi < 2.5);
    }
}
