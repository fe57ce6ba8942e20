//! zbench's result file and claims audit.
//!
//! - [`schema`]: the serde types that *are* the result-file schema (`"schema": "zbench/1"`),
//!   and atomic reading and writing. Documented with an example in `reports/README.md`.
//! - [`claims`]: the documented figures from `../shared/CLAIMS.md`, as data, and the verdict
//!   rules that compare them with measured figures.
//!
//! This crate depends on no runtime: it only reads and writes results.

#![warn(missing_docs, unreachable_pub)]

pub mod claims;
pub mod schema;
