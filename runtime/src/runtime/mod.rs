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

pub(crate) mod affinity;
mod builder;
pub(crate) mod config;
pub(crate) mod context;
mod handle;
pub(crate) mod histogram;
mod local_runtime;
pub(crate) mod metrics;
pub(crate) mod park;
#[allow(clippy::module_inception)]
mod runtime;

pub use crate::driver::IoDriver;
pub use affinity::WorkerAffinity;
pub use builder::Builder;
pub use context::TryCurrentError;
pub use handle::{EnterGuard, Handle, Id};
pub use histogram::{
    HistogramConfiguration, InvalidHistogramConfiguration, LogHistogram, LogHistogramBuilder,
};
pub use local_runtime::{LocalOptions, LocalRuntime};
pub use metrics::RuntimeMetrics;
pub use runtime::{Runtime, RuntimeFlavor};

/// Whether `err` is the error zokio's I/O returns because the runtime whose driver the
/// socket, file or child process was registered with has shut down (Tokio's
/// `is_rt_shutdown_err`). Told by the error's type, not its message.
pub fn is_rt_shutdown_err(err: &std::io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<RuntimeShutdown>())
}

/// The error of an I/O operation whose runtime has shut down (`Other`, "zokio runtime is
/// shut down"); [`is_rt_shutdown_err`] recognises it.
#[cfg_attr(loom, allow(dead_code))] // its callers (I/O) are not built under loom
pub(crate) fn shutdown_error() -> std::io::Error {
    std::io::Error::other(RuntimeShutdown)
}

/// The inner error of [`shutdown_error`].
#[derive(Debug)]
struct RuntimeShutdown;

impl std::fmt::Display for RuntimeShutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("zokio runtime is shut down")
    }
}

impl std::error::Error for RuntimeShutdown {}
