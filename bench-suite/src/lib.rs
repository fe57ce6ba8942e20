//! zbench's benchmark suite: the runtime adapter trait ([`rt::Runtime`]) that every
//! workload is written against, and the workloads themselves ([`workloads`]).
//!
//! A workload is one generic function body; the same body runs on every runtime through
//! its adapter (static dispatch, no boxing), with identical parameters. That is what makes
//! a zokio/Tokio ratio meaningful.

#![warn(missing_docs, unreachable_pub)]

pub mod callgrind;
pub mod catalogue;
pub mod child;
pub mod counting;
pub mod machine;
pub mod measure;
pub mod placement;
pub mod rt;
pub mod runner;
pub use zbench_report::stats;
pub mod strategy;
pub mod suite;
pub mod workloads;
