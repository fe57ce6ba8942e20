//! Building and running a runtime.
//!
//! ```
//! use zokio::runtime::Builder;
//!
//! let rt = Builder::new_multi_thread().worker_threads(2).build()?;
//! let out = rt.block_on(async { zokio::spawn(async { 40 + 2 }).await.unwrap() });
//! assert_eq!(out, 42);
//! # Ok::<(), std::io::Error>(())
//! ```

mod builder;
pub(crate) mod config;
pub(crate) mod context;
mod handle;
mod local_runtime;
pub(crate) mod metrics;
pub(crate) mod park;
#[allow(clippy::module_inception)]
mod runtime;

pub use crate::driver::IoDriver;
pub use builder::Builder;
pub use context::TryCurrentError;
pub use handle::{EnterGuard, Handle, Id};
pub use local_runtime::{LocalOptions, LocalRuntime};
pub use metrics::RuntimeMetrics;
pub use runtime::{Runtime, RuntimeFlavor};
