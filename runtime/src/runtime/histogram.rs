//! Bucket layouts for the duration histograms of [`RuntimeMetrics`]: task poll times and
//! task schedule latencies.
//!
//! A layout maps a duration in nanoseconds to a bucket index and back to the range a bucket
//! covers. Two layouts, as Tokio offers them: linear (equal widths) and log (an H2
//! histogram, bounded relative error; the layout is described at
//! <https://iop.systems/blog/h2-histogram/>). Counting is the workers' business
//! (`metrics.rs`): each worker adds to its own buckets and publishes them with its other
//! counters.
//!
//! [`RuntimeMetrics`]: crate::runtime::RuntimeMetrics

use std::fmt;
use std::ops::Range;
use std::time::Duration;

/// Bucket layout of one of the runtime's duration histograms, given to
/// [`Builder::metrics_poll_time_histogram_configuration`] or
/// [`Builder::metrics_schedule_latency_histogram_configuration`].
///
/// The default (when a histogram is enabled without a configuration) is Tokio's: 10 linear
/// buckets of 100 µs, the last one open-ended.
///
/// [`Builder::metrics_poll_time_histogram_configuration`]: crate::runtime::Builder::metrics_poll_time_histogram_configuration
/// [`Builder::metrics_schedule_latency_histogram_configuration`]: crate::runtime::Builder::metrics_schedule_latency_histogram_configuration
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramConfiguration {
    pub(crate) layout: Layout,
}

impl HistogramConfiguration {
    /// `num_buckets` buckets each `bucket_width` wide, starting at zero; the last one also
    /// takes every longer duration.
    ///
    /// A zero width or zero buckets is refused by `Builder::build` (`InvalidInput`).
    pub fn linear(bucket_width: Duration, num_buckets: usize) -> HistogramConfiguration {
        HistogramConfiguration {
            layout: Layout::Linear {
                width: saturating_nanos(bucket_width),
                buckets: num_buckets,
            },
        }
    }

    /// Log-scaled buckets ([`LogHistogram`]): each bucket's width is at most a fixed
    /// fraction of its start, so short and long durations are both resolved.
    pub fn log(configuration: impl Into<LogHistogram>) -> HistogramConfiguration {
        HistogramConfiguration {
            layout: Layout::Log(configuration.into()),
        }
    }
}

impl Default for HistogramConfiguration {
    fn default() -> HistogramConfiguration {
        HistogramConfiguration::linear(Duration::from_micros(100), 10)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Width in ns, bucket count.
    Linear {
        width: u64,
        buckets: usize,
    },
    Log(LogHistogram),
}

/// Most buckets a histogram may have: each worker keeps two copies of each bucket (its own
/// count and the published one), 16 bytes.
pub(crate) const MAX_BUCKETS: usize = 4096;

impl Layout {
    /// Why this layout cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        match *self {
            Layout::Linear { width: 0, .. } => Err("a linear bucket width of zero".into()),
            Layout::Linear { buckets: 0, .. } => Err("zero linear buckets".into()),
            _ if self.num_buckets() > MAX_BUCKETS => Err(format!(
                "{} buckets (at most {MAX_BUCKETS})",
                self.num_buckets()
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn num_buckets(&self) -> usize {
        match *self {
            Layout::Linear { buckets, .. } => buckets,
            Layout::Log(log) => log.num_buckets,
        }
    }

    /// The bucket that counts a duration of `nanos`.
    #[inline]
    pub(crate) fn bucket(&self, nanos: u64) -> usize {
        let last = self.num_buckets() - 1;
        let index = match *self {
            Layout::Linear { width, .. } => nanos / width,
            Layout::Log(log) => h2_index(nanos, log.precision).saturating_sub(log.offset),
        };
        index.min(last as u64) as usize
    }

    /// The durations bucket `bucket` counts, in ns: the first starts at 0, the last ends at
    /// `u64::MAX`.
    ///
    /// # Panics
    /// If `bucket >= num_buckets()`.
    #[track_caller]
    pub(crate) fn range(&self, bucket: usize) -> Range<u64> {
        let buckets = self.num_buckets();
        assert!(
            bucket < buckets,
            "histogram bucket {bucket} out of range (0..{buckets})"
        );
        let Range { start, end } = match *self {
            Layout::Linear { width, .. } => {
                let start = width.saturating_mul(bucket as u64);
                start..start.saturating_add(width)
            }
            Layout::Log(log) => h2_range(bucket as u64 + log.offset, log.precision),
        };
        let start = if bucket == 0 { 0 } else { start };
        let end = if bucket == buckets - 1 { u64::MAX } else { end };
        start..end
    }
}

/// An H2 (log-linear) bucket layout: durations below `2^(p+1)` ns get a bucket each; above
/// that, each power of two `[2^h, 2^(h+1))` is split into `2^p` equal buckets, so a
/// bucket's width is at most `2^-p` of its start (the relative error bound). As Tokio's
/// layout of the same name, the first bucket also takes everything below the minimum value
/// and the last everything above the maximum.
///
/// Build one with [`LogHistogram::builder`]; the default is a minimum of 100 ns, a maximum
/// of 60 s and `p = 2` (25% error), 119 buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogHistogram {
    num_buckets: usize,
    precision: u32,
    /// H2 buckets below this index are folded into bucket 0.
    offset: u64,
}

impl LogHistogram {
    /// A builder with the defaults above.
    pub fn builder() -> LogHistogramBuilder {
        LogHistogramBuilder::default()
    }

    /// The largest duration, in ns, resolved by a bucket of its own: the end of the
    /// second-to-last bucket (the last one is open-ended).
    pub fn max_value(&self) -> u64 {
        Layout::Log(*self).range(self.num_buckets - 2).end
    }
}

impl Default for LogHistogram {
    fn default() -> LogHistogram {
        LogHistogramBuilder::default().build()
    }
}

/// Largest precision accepted: `2^-10`, about 0.1% error, 1,024 buckets per power of two.
const MAX_PRECISION: u32 = 10;

/// Builds a [`LogHistogram`] from the durations it must resolve and its error bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogHistogramBuilder {
    min_value: Option<Duration>,
    max_value: Option<Duration>,
    precision: Option<u32>,
}

impl LogHistogramBuilder {
    /// The smallest precision whose relative error `2^-p` is at most `max_error` (at least
    /// `p = 2`, at most `p = 10`).
    ///
    /// # Panics
    /// If `max_error` is not in `(0, 1)`.
    pub fn max_error(mut self, max_error: f64) -> LogHistogramBuilder {
        assert!(
            max_error > 0.0 && max_error < 1.0,
            "max_error must be in (0, 1), got {max_error}"
        );
        let mut p = 2;
        while p < MAX_PRECISION && 0.5f64.powi(p as i32) > max_error {
            p += 1;
        }
        self.precision = Some(p);
        self
    }

    /// The precision `p` itself: `2^p` buckets per power of two.
    ///
    /// # Panics
    /// If `p > 10`.
    pub fn precision_exact(mut self, p: u32) -> LogHistogramBuilder {
        assert!(
            p <= MAX_PRECISION,
            "precision must be at most {MAX_PRECISION}, got {p}"
        );
        self.precision = Some(p);
        self
    }

    /// Durations below this share bucket 0 (default 100 ns).
    pub fn min_value(mut self, duration: Duration) -> LogHistogramBuilder {
        self.min_value = Some(duration);
        self
    }

    /// Durations from this on share the last bucket (default 60 s).
    ///
    /// # Panics
    /// If `duration` is zero.
    pub fn max_value(mut self, duration: Duration) -> LogHistogramBuilder {
        assert!(!duration.is_zero(), "max_value must be greater than zero");
        self.max_value = Some(duration);
        self
    }

    /// Builds, refusing a layout of more than `max_buckets` buckets.
    ///
    /// # Errors
    /// [`InvalidHistogramConfiguration::TooManyBuckets`] with the count it would need.
    pub fn max_buckets(
        &mut self,
        max_buckets: usize,
    ) -> Result<LogHistogram, InvalidHistogramConfiguration> {
        let histogram = self.build();
        if histogram.num_buckets > max_buckets {
            return Err(InvalidHistogramConfiguration::TooManyBuckets {
                required_bucket_count: histogram.num_buckets,
            });
        }
        Ok(histogram)
    }

    /// Builds the layout: the fewest buckets that resolve every duration from the minimum
    /// up to the maximum value.
    pub fn build(&self) -> LogHistogram {
        let precision = self.precision.unwrap_or(2);
        let min = saturating_nanos(self.min_value.unwrap_or(Duration::from_nanos(100)));
        let max = saturating_nanos(self.max_value.unwrap_or(Duration::from_secs(60))).max(1);
        // The bucket holding `min` stays a bucket of its own, so the one below it is the
        // last folded into bucket 0 (which therefore covers 0..min at least).
        let offset = h2_index(min, precision).max(1) - 1;
        // Buckets up to the one holding `max - 1`, plus the open-ended last one; at least
        // two, so that `max_value` has a bucket to read.
        let last_resolved = h2_index(max - 1, precision).max(offset);
        LogHistogram {
            num_buckets: (last_resolved - offset + 2) as usize,
            precision,
            offset,
        }
    }
}

impl From<LogHistogramBuilder> for LogHistogram {
    fn from(builder: LogHistogramBuilder) -> LogHistogram {
        builder.build()
    }
}

/// A log histogram layout refused by [`LogHistogramBuilder::max_buckets`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidHistogramConfiguration {
    /// The layout needs more buckets than allowed.
    TooManyBuckets {
        /// Buckets the layout would need.
        required_bucket_count: usize,
    },
}

impl fmt::Display for InvalidHistogramConfiguration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidHistogramConfiguration::TooManyBuckets {
                required_bucket_count,
            } => write!(
                f,
                "the histogram needs {required_bucket_count} buckets, more than allowed"
            ),
        }
    }
}

impl std::error::Error for InvalidHistogramConfiguration {}

/// The H2 bucket of `value` at precision `p`: the value itself below `2^(p+1)`; above,
/// `2^p` buckets per power of two.
#[inline]
fn h2_index(value: u64, p: u32) -> u64 {
    if value == 0 {
        return 0;
    }
    let high = 63 - value.leading_zeros();
    if high <= p {
        return value;
    }
    let shift = high - p;
    (u64::from(shift) + 1) * (1 << p) + ((value - (1 << high)) >> shift)
}

/// The values H2 bucket `index` holds at precision `p` (inverse of [`h2_index`]).
fn h2_range(index: u64, p: u32) -> Range<u64> {
    if index < 1 << p {
        return index..index + 1;
    }
    let shift = (index >> p) - 1;
    let within = index - ((shift + 1) << p);
    let power = 1u64
        .checked_shl((shift + u64::from(p)) as u32)
        .unwrap_or(u64::MAX);
    let start = power.saturating_add(within << shift);
    start..start.saturating_add(1 << shift)
}

fn saturating_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h2_ranges_invert_the_index() {
        for p in 0..=MAX_PRECISION {
            let mut previous_end = 0;
            for index in 0..(40u64 << p) {
                let range = h2_range(index, p);
                assert_eq!(range.start, previous_end, "p {p} index {index}");
                assert!(range.end > range.start);
                assert_eq!(h2_index(range.start, p), index, "p {p} start of {index}");
                assert_eq!(h2_index(range.end - 1, p), index, "p {p} end of {index}");
                // The relative error bound: width at most 2^-p of the start.
                if range.start >= 1 << (p + 1) {
                    assert!((range.end - range.start) << p <= range.start);
                }
                previous_end = range.end;
            }
        }
    }

    #[test]
    fn linear_buckets_cover_everything_once() {
        let layout = HistogramConfiguration::linear(Duration::from_micros(100), 10).layout;
        assert_eq!(layout.check(), Ok(()));
        assert_eq!(layout.range(0), 0..100_000);
        assert_eq!(layout.range(1), 100_000..200_000);
        assert_eq!(layout.range(9), 900_000..u64::MAX);
        assert_eq!(layout.bucket(0), 0);
        assert_eq!(layout.bucket(99_999), 0);
        assert_eq!(layout.bucket(100_000), 1);
        assert_eq!(layout.bucket(u64::MAX), 9);
        assert!(HistogramConfiguration::linear(Duration::ZERO, 3)
            .layout
            .check()
            .is_err());
        assert!(HistogramConfiguration::linear(Duration::from_nanos(1), 0)
            .layout
            .check()
            .is_err());
    }

    #[test]
    fn log_default_resolves_100ns_to_60s() {
        let log = LogHistogram::default();
        let layout = Layout::Log(log);
        assert_eq!(layout.num_buckets(), 119);
        assert_eq!(layout.range(0).start, 0);
        assert!(layout.range(0).end <= 100, "{:?}", layout.range(0));
        assert!(layout.range(1).start <= 100 && layout.range(1).end > 100);
        assert!(log.max_value() >= 60_000_000_000);
        assert!(layout.range(log.num_buckets - 3).end < 60_000_000_000);
        assert_eq!(layout.range(log.num_buckets - 1).end, u64::MAX);
        let mut end = 0;
        for bucket in 0..layout.num_buckets() {
            let range = layout.range(bucket);
            assert_eq!(range.start, end);
            assert_eq!(layout.bucket(range.start), bucket);
            assert_eq!(layout.bucket(range.end - 1), bucket);
            end = range.end;
        }
        assert_eq!(layout.bucket(u64::MAX), layout.num_buckets() - 1);
    }

    #[test]
    fn log_builder_options() {
        let fine = LogHistogram::builder().max_error(0.01).build();
        assert_eq!(fine.precision, 7);
        assert!(LogHistogram::builder()
            .precision_exact(10)
            .max_buckets(100)
            .is_err());
        let small = LogHistogram::builder()
            .min_value(Duration::from_micros(10))
            .max_value(Duration::from_millis(10))
            .max_buckets(100)
            .unwrap();
        assert!(small.max_value() >= 10_000_000);
        assert!(Layout::Log(small).range(1).start <= 10_000);
        // A maximum below the minimum still leaves a resolved bucket and the open one.
        let tiny = LogHistogram::builder()
            .min_value(Duration::from_millis(1))
            .max_value(Duration::from_nanos(1))
            .build();
        assert!(tiny.num_buckets >= 2);
    }
}
