//! Adapters that let other crates' async code run on zokio.
//!
//! - `hyper` (feature `hyper`): hyper 1.x's runtime traits (`rt::Executor`, `rt::Timer`,
//!   `rt::Read`, `rt::Write`) for zokio, so hyper's servers and clients run on it.

#[cfg(feature = "hyper")]
pub mod hyper;
