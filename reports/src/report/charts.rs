//! The SVG charts of the report pages, drawn with `plotters`' SVG backend.
//!
//! Every chart has a title, axis descriptions with units and a legend; the workload's
//! parameters go under it on the page (the `<figcaption>`), not into the picture. Text stays
//! SVG `<text>` (no font files are read), so the browser renders it with its own sans-serif.
//! Each function returns the SVG document as a string.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::CoordTranslate;
use plotters::prelude::*;
use std::ops::Range;

/// Why a chart could not be drawn (plotters' error, as text).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {title:?}: {message}")]
pub struct ChartError {
    /// The chart's title.
    pub title: String,
    /// What plotters said.
    pub message: String,
}

/// A figure with its 95% interval, in one unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Median.
    pub median: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
}

/// One named line or bar series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<T> {
    /// Legend entry (a runtime name, perhaps with a point's parameters).
    pub name: String,
    /// The values, in the chart's category or x order.
    pub values: Vec<T>,
}

/// A horizontal line of the ratio chart.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioRow {
    /// Axis label: workload and the parameters that tell its points apart.
    pub label: String,
    /// zokio's advantage over the baseline (ratio oriented so that > 1 means zokio is
    /// better), with its interval.
    pub advantage: Estimate,
}

const ZOKIO: RGBColor = RGBColor(31, 119, 180);
const TOKIO: RGBColor = RGBColor(230, 120, 20);
const OTHERS: [RGBColor; 3] = [
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];
const BETTER: RGBColor = RGBColor(30, 140, 60);
const WORSE: RGBColor = RGBColor(200, 40, 40);
const UNCLEAR: RGBColor = RGBColor(120, 120, 120);
const FONT: &str = "sans-serif";

const SMOL: RGBColor = RGBColor(44, 160, 44);
const MONOIO: RGBColor = RGBColor(148, 103, 189);
const COMPIO: RGBColor = RGBColor(214, 39, 40);

/// The colour of a series: one fixed colour per runtime zbench knows (zokio blue, Tokio
/// orange, smol green, monoio purple, compio red), anything else (a reference library) from
/// a fixed palette by position, so a page reads the same way everywhere.
pub fn series_color(name: &str, index: usize) -> RGBColor {
    let base = name.split_whitespace().next().unwrap_or(name);
    match base {
        "zokio" => ZOKIO,
        "tokio" => TOKIO,
        "smol" => SMOL,
        "monoio" => MONOIO,
        "compio" => COMPIO,
        _ => OTHERS[index % OTHERS.len()],
    }
}

fn err(title: &str) -> impl Fn(&dyn std::fmt::Display) -> ChartError + '_ {
    move |e| ChartError {
        title: title.to_owned(),
        message: e.to_string(),
    }
}

macro_rules! tried {
    ($title:expr, $e:expr) => {
        $e.map_err(|e| err($title)(&e))?
    };
}

/// A linear f64 axis whose ticks are exactly the given key points (categories, worker
/// counts, percentiles, run numbers) rather than the "nice" numbers plotters would pick.
#[derive(Debug, Clone)]
struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for Keyed {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = if self.hi > self.lo {
            self.hi - self.lo
        } else {
            1.0
        };
        let frac = (value - self.lo) / span;
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        self.keys.clone()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

fn keyed(range: Range<f64>, keys: Vec<f64>) -> Keyed {
    Keyed {
        lo: range.start,
        hi: range.end,
        keys,
    }
}

/// `0..n` with a key point at every integer, so category labels sit exactly on their bars.
fn categories(n: usize) -> Keyed {
    keyed(
        -0.5..n.max(1) as f64 - 0.5,
        (0..n).map(|i| i as f64).collect(),
    )
}

fn category_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if i < 0.0 || (x - i).abs() > 1e-6 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Padding around `[lo, hi]` for a linear axis that starts at zero for positive data.
fn linear_range(lo: f64, hi: f64) -> Range<f64> {
    let lo = lo.min(0.0);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    // Head room for the legend box, which plotters draws inside the plotting area.
    lo..hi * 1.3
}

/// Padding around `[lo, hi]` on a log axis (both positive).
fn log_range(lo: f64, hi: f64) -> Range<f64> {
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 1e-3 };
    let hi = if hi.is_finite() && hi > lo {
        hi
    } else {
        lo * 10.0
    };
    lo / 1.6..hi * 1.6
}

fn fmt_axis(x: f64) -> String {
    crate::claims::fmt_num(x)
}

/// The index page's chart: one row per workload point, zokio's advantage over its baseline
/// as a dot with its 95% interval, on a log axis with the 1.0 parity line. Green: the
/// interval is above 1 (zokio better); red: below 1 (zokio worse); grey: it spans 1.
///
/// # Errors
/// [`ChartError`] if plotters fails (it should not for finite input).
pub fn ratio_chart(title: &str, rows: &[RatioRow]) -> Result<String, ChartError> {
    let n = rows.len();
    let height = 240 + 22 * n as u32;
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(10);
    let label_area = (longest as u32 * 7 + 20).clamp(120, 460);
    let mut lo = 1.0f64;
    let mut hi = 1.0f64;
    for r in rows {
        for v in [r.advantage.low, r.advantage.high, r.advantage.median] {
            if v.is_finite() && v > 0.0 {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let labels: Vec<String> = rows.iter().rev().map(|r| r.label.clone()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1100, height)).into_drawing_area();
        tried!(title, root.fill(&WHITE));
        let mut chart = tried!(
            title,
            ChartBuilder::on(&root)
                .caption(title, (FONT, 22))
                .margin(12)
                .x_label_area_size(56)
                .y_label_area_size(label_area)
                .build_cartesian_2d(
                    log_range(lo, hi)
                        .log_scale()
                        .with_key_points(powers_of_two(lo, hi)),
                    // Four empty rows under the last one keep the legend off the data.
                    keyed(
                        -4.5..n.max(1) as f64 - 0.5,
                        (0..n).map(|i| i as f64).collect()
                    ),
                )
        );
        tried!(
            title,
            chart
                .configure_mesh()
                .y_label_formatter(&|y| category_label(&labels, *y))
                .x_label_formatter(&|x| {
                    if *x >= 1.0 {
                        format!("{x:.0}x")
                    } else {
                        format!("1/{:.0}x", 1.0 / x)
                    }
                })
                .x_desc("zokio's advantage, x (log scale; > 1: zokio better; time and memory figures inverted)")
                .y_desc("")
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .light_line_style(WHITE)
                .draw()
        );
        let parity = BLACK.stroke_width(2);
        tried!(
            title,
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(1.0, -4.5), (1.0, n as f64 - 0.5)],
                parity,
            )))
        )
        .label("1.0: parity")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], parity));
        let kinds = [
            (BETTER, "zokio better (interval above 1)"),
            (WORSE, "zokio worse (interval below 1)"),
            (UNCLEAR, "no clear difference"),
        ];
        for (color, name) in kinds {
            let points: Vec<(f64, Estimate)> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| verdict_color(r.advantage) == color)
                .map(|(i, r)| ((n - 1 - i) as f64, r.advantage))
                .collect();
            let style = color.filled();
            tried!(
                title,
                chart.draw_series(points.iter().map(|(y, e)| {
                    PathElement::new(
                        vec![(e.low.max(1e-12), *y), (e.high.max(1e-12), *y)],
                        color.stroke_width(2),
                    )
                }))
            );
            tried!(
                title,
                chart.draw_series(points.iter().map(|(y, e)| Circle::new(
                    (e.median.max(1e-12), *y),
                    5,
                    style
                )))
            )
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, style));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight, title)?;
        tried!(title, root.present());
    }
    Ok(svg)
}

/// Tick marks at 1/4x, 1/2x, 1x, 2x, 4x, ... spanning `[lo, hi]` on the log axis.
fn powers_of_two(lo: f64, hi: f64) -> Vec<f64> {
    let range = log_range(lo, hi);
    let (a, b) = (
        range.start.log2().ceil() as i32,
        range.end.log2().floor() as i32,
    );
    (a..=b).map(|k| 2f64.powi(k)).collect()
}

/// Draws the legend box of `chart` at `position`: every chart's legend looks the same.
fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    title: &str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    tried!(
        title,
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .draw()
    );
    Ok(())
}

fn verdict_color(e: Estimate) -> RGBColor {
    if e.low > 1.0 {
        BETTER
    } else if e.high < 1.0 {
        WORSE
    } else {
        UNCLEAR
    }
}

/// Grouped bars: one group per category (a workload's points), one bar per series
/// (runtime), each with its 95% interval as an error bar. `None` leaves a gap.
///
/// # Errors
/// [`ChartError`] if plotters fails.
pub fn bar_chart(
    title: &str,
    y_desc: &str,
    x_desc: &str,
    categories_labels: &[String],
    series: &[Series<Option<Estimate>>],
) -> Result<String, ChartError> {
    let n = categories_labels.len();
    let k = series.len().max(1);
    let hi = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|e| e.high.max(e.median))
        .fold(0.0f64, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
        tried!(title, root.fill(&WHITE));
        let mut chart = tried!(
            title,
            ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(12)
                .x_label_area_size(52)
                .y_label_area_size(90)
                .build_cartesian_2d(categories(n), linear_range(0.0, hi))
        );
        tried!(
            title,
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&|x| category_label(categories_labels, *x))
                .y_label_formatter(&|y| fmt_axis(*y))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .draw()
        );
        let width = 0.8 / k as f64;
        for (j, s) in series.iter().enumerate() {
            let color = series_color(&s.name, j);
            let bars: Vec<(f64, Estimate)> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|e| (i as f64 - 0.4 + width * j as f64, e)))
                .collect();
            tried!(
                title,
                chart.draw_series(bars.iter().map(|(x0, e)| {
                    Rectangle::new(
                        [(*x0 + 0.02, 0.0), (*x0 + width - 0.02, e.median)],
                        color.filled(),
                    )
                }))
            )
            .label(s.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
            tried!(
                title,
                chart.draw_series(bars.iter().map(|(x0, e)| {
                    ErrorBar::new_vertical(
                        x0 + width / 2.0,
                        e.low,
                        e.median,
                        e.high,
                        BLACK.stroke_width(2),
                        10,
                    )
                }))
            );
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, title)?;
        tried!(title, root.present());
    }
    Ok(svg)
}

/// `-log10(1 - q)`: p50 → 0.3, p90 → 1, p99 → 2, p99.9 → 3, the usual spacing of a
/// latency percentile plot.
fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// The percentiles drawn by [`percentile_chart`], with their labels.
pub const PERCENTILES: [(f64, &str); 4] =
    [(0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9")];

/// Latency percentile curves: x the percentile (p50 to p99.9, spaced by nines), y the
/// latency on a log axis labelled as times (values in ns), one line per series. Each
/// series holds one value per entry of [`PERCENTILES`].
///
/// # Errors
/// [`ChartError`] if plotters fails.
pub fn percentile_chart(
    title: &str,
    y_desc: &str,
    series: &[Series<f64>],
) -> Result<String, ChartError> {
    let values = series.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = positive_bounds(values);
    let x_keys: Vec<f64> = PERCENTILES.iter().map(|(q, _)| nines(*q)).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
        tried!(title, root.fill(&WHITE));
        let mut chart = tried!(
            title,
            ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(12)
                .x_label_area_size(52)
                .y_label_area_size(90)
                .build_cartesian_2d(keyed(0.15..3.2, x_keys), log_range(lo, hi).log_scale())
        );
        tried!(
            title,
            chart
                .configure_mesh()
                .x_label_formatter(&|x| {
                    PERCENTILES
                        .iter()
                        .find(|(q, _)| (nines(*q) - x).abs() < 1e-6)
                        .map(|(_, l)| (*l).to_owned())
                        .unwrap_or_default()
                })
                .y_label_formatter(&|y| crate::schema::fmt_ns(*y))
                .x_desc("percentile")
                .y_desc(y_desc)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .draw()
        );
        for (j, s) in series.iter().enumerate() {
            let color = series_color(&s.name, j);
            let points: Vec<(f64, f64)> = PERCENTILES
                .iter()
                .zip(&s.values)
                .filter(|(_, v)| **v > 0.0)
                .map(|((q, _), v)| (nines(*q), *v))
                .collect();
            tried!(
                title,
                chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            )
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
            tried!(
                title,
                chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
            );
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, title)?;
        tried!(title, root.present());
    }
    Ok(svg)
}

fn positive_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// A line chart over numeric x values with error bars: scaling curves (ops/s against
/// workers, with `ideal` adding each series' ideal-linear line from its first point) and
/// history lines (x = run number, labelled by `x_labels`).
///
/// # Errors
/// [`ChartError`] if plotters fails.
pub fn line_chart(
    title: &str,
    y_desc: &str,
    x_desc: &str,
    x_labels: &[(f64, String)],
    series: &[Series<(f64, Option<Estimate>)>],
    ideal: bool,
) -> Result<String, ChartError> {
    let xs: Vec<f64> = x_labels.iter().map(|(x, _)| *x).collect();
    let x_lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let x_hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = if x_lo.is_finite() {
        (x_lo, x_hi)
    } else {
        (0.0, 1.0)
    };
    let pad = ((x_hi - x_lo) * 0.08).max(0.3);
    let mut hi = series
        .iter()
        .flat_map(|s| s.values.iter().filter_map(|(_, e)| *e))
        .map(|e| e.high.max(e.median))
        .fold(0.0f64, f64::max);
    // (legend name, colour, points) of each ideal-linear line.
    type IdealLine = (String, RGBColor, Vec<(f64, f64)>);
    let ideal_lines: Vec<IdealLine> = if ideal {
        series
            .iter()
            .enumerate()
            .filter_map(|(j, s)| {
                let (x0, e0) = s.values.iter().find_map(|(x, e)| e.map(|e| (*x, e)))?;
                (x0 > 0.0).then(|| {
                    let line: Vec<(f64, f64)> = xs
                        .iter()
                        .filter(|x| **x >= x0)
                        .map(|x| (*x, e0.median * x / x0))
                        .collect();
                    (
                        format!("{} ideal linear", s.name),
                        series_color(&s.name, j),
                        line,
                    )
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    for (_, _, line) in &ideal_lines {
        hi = line.iter().map(|p| p.1).fold(hi, f64::max);
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
        tried!(title, root.fill(&WHITE));
        let mut chart = tried!(
            title,
            ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(12)
                .x_label_area_size(52)
                .y_label_area_size(90)
                .build_cartesian_2d(
                    keyed(x_lo - pad..x_hi + pad, xs.clone()),
                    linear_range(0.0, hi)
                )
        );
        tried!(
            title,
            chart
                .configure_mesh()
                .x_label_formatter(&|x| {
                    x_labels
                        .iter()
                        .find(|(k, _)| (k - x).abs() < 1e-9)
                        .map(|(_, l)| l.clone())
                        .unwrap_or_default()
                })
                .y_label_formatter(&|y| fmt_axis(*y))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .draw()
        );
        for (j, s) in series.iter().enumerate() {
            let color = series_color(&s.name, j);
            let points: Vec<(f64, Estimate)> = s
                .values
                .iter()
                .filter_map(|(x, e)| e.map(|e| (*x, e)))
                .collect();
            tried!(
                title,
                chart.draw_series(LineSeries::new(
                    points.iter().map(|(x, e)| (*x, e.median)),
                    color.stroke_width(2)
                ))
            )
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
            tried!(
                title,
                chart.draw_series(points.iter().map(|(x, e)| {
                    ErrorBar::new_vertical(*x, e.low, e.median, e.high, color.stroke_width(2), 10)
                }))
            );
            tried!(
                title,
                chart.draw_series(points.iter().map(|(x, e)| Circle::new(
                    (*x, e.median),
                    4,
                    color.filled()
                )))
            );
        }
        for (name, color, line) in ideal_lines {
            let style = color.mix(0.6).stroke_width(1);
            tried!(
                title,
                chart.draw_series(DashedLineSeries::new(line, 6, 4, style))
            )
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 6, y), (x + 10, y), (x + 18, y)], style)
            });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, title)?;
        tried!(title, root.present());
    }
    Ok(svg)
}

/// Open-loop latency against offered rate: x the offered rate, y the latency on a log axis
/// labelled as times (values in ns), a p50, a p99 and a p99.9 line per runtime (thin,
/// thicker, thickest; p99.9 points drawn as crosses). Each series holds
/// `(rate, [p50, p99, p99.9])`.
///
/// # Errors
/// [`ChartError`] if plotters fails.
pub fn rate_chart(
    title: &str,
    y_desc: &str,
    x_desc: &str,
    series: &[Series<(f64, [f64; 3])>],
) -> Result<String, ChartError> {
    let (lo, hi) = positive_bounds(
        series
            .iter()
            .flat_map(|s| s.values.iter().flat_map(|v| v.1)),
    );
    let rates: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().map(|v| v.0))
        .collect();
    let x_hi = rates.iter().copied().fold(0.0f64, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
        tried!(title, root.fill(&WHITE));
        let mut chart = tried!(
            title,
            ChartBuilder::on(&root)
                .caption(title, (FONT, 20))
                .margin(12)
                .x_label_area_size(52)
                .y_label_area_size(90)
                .build_cartesian_2d(linear_range(0.0, x_hi), log_range(lo, hi).log_scale())
        );
        tried!(
            title,
            chart
                .configure_mesh()
                .x_label_formatter(&|x| fmt_axis(*x))
                .y_label_formatter(&|y| crate::schema::fmt_ns(*y))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style((FONT, 13))
                .axis_desc_style((FONT, 15))
                .draw()
        );
        for (j, s) in series.iter().enumerate() {
            let color = series_color(&s.name, j);
            for (k, (which, width)) in [("p50", 1u32), ("p99", 2), ("p99.9", 4)]
                .into_iter()
                .enumerate()
            {
                let points: Vec<(f64, f64)> = s
                    .values
                    .iter()
                    .map(|v| (v.0, v.1[k]))
                    .filter(|p| p.1 > 0.0)
                    .collect();
                let style = color.stroke_width(width);
                tried!(
                    title,
                    chart.draw_series(LineSeries::new(points.clone(), style))
                )
                .label(format!("{} {which}", s.name))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                if k == 2 {
                    tried!(
                        title,
                        chart.draw_series(points.iter().map(|p| Cross::new(
                            *p,
                            4,
                            color.stroke_width(2)
                        )))
                    );
                } else {
                    tried!(
                        title,
                        chart.draw_series(points.iter().map(|p| Circle::new(
                            *p,
                            3,
                            color.filled()
                        )))
                    );
                }
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, title)?;
        tried!(title, root.present());
    }
    Ok(svg)
}
