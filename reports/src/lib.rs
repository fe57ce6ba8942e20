//! zbench's result file, statistics, comparison, claims audit and report pages.
//!
//! - [`schema`]: the serde types that *are* the result-file schema (`"schema": "zbench/1"`),
//!   and atomic reading and writing. Documented with an example in `reports/README.md`.
//! - [`stats`]: medians, MAD, seeded bootstrap intervals (shared with the measurement
//!   engine, which summarises samples with them).
//! - [`compare`]: `zbench compare`: two result files side by side, the regression gate, and
//!   exports for Bencher and github-action-benchmark.
//! - [`claims`]: the documented figures from `../shared/CLAIMS.md`, as data, and the verdict
//!   rules that compare them with measured figures.
//! - [`report`]: `zbench report`: static HTML pages with SVG charts (plotters), and a
//!   history page across runs.
//!
//! This crate depends on no runtime: it only reads and writes results.

#![warn(missing_docs, unreachable_pub)]

pub mod claims;
pub mod compare;
pub mod report;
pub mod schema;
pub mod stats;
