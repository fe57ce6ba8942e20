//! [`Builder`]: Tokio's `task::Builder`, spawning tasks with a name.

use crate::runtime::Handle;
use crate::task::{JoinHandle, LocalSet};
use crate::util::trace;
use std::future::Future;
use std::io;

/// Spawns a task with options: a name, which the task's `tracing` span carries as
/// `task.name` (with the `tracing` feature; tokio-console shows it). As Tokio's
/// `task::Builder`.
///
/// The `spawn*` methods return `io::Result` for Tokio's signature; zokio's never return
/// an error (a spawn outside a runtime panics, as [`spawn`](crate::spawn) does).
///
/// # Examples
/// ```
/// # let rt = zokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let handle = zokio::task::Builder::new()
///     .name("fetch-config")
///     .spawn(async { 42 })
///     .unwrap();
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// The task's name.
    pub fn name(&self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// As [`spawn`](crate::spawn), with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    ///
    /// # Panics
    /// Outside a zokio runtime context.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let future = trace::task(future, "task", self.name);
        match crate::runtime::context::with_handle(|handle| handle.spawn(future)) {
            Ok(join) => Ok(join),
            Err(_) => panic!(
                "zokio::task::Builder::spawn must be called from the context of a zokio runtime"
            ),
        }
    }

    /// As [`Handle::spawn`], with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(handle.inner.spawn(trace::task(future, "task", self.name)))
    }

    /// As [`spawn_local`](crate::task::spawn_local), with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    ///
    /// # Panics
    /// As `spawn_local`: outside a `LocalSet` or `LocalRuntime` context.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(crate::task::local::spawn_local_traced(trace::task(
            future, "local", self.name,
        )))
    }

    /// As [`LocalSet::spawn_local`], with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    #[track_caller]
    pub fn spawn_local_on<F>(
        self,
        future: F,
        local_set: &LocalSet,
    ) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(local_set.spawn_local_traced(trace::task(future, "local", self.name)))
    }

    /// As [`spawn_blocking`](crate::task::spawn_blocking), with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    ///
    /// # Panics
    /// Outside a zokio runtime context.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match Handle::try_current() {
            Ok(handle) => self.spawn_blocking_on(f, &handle),
            Err(_) => panic!(
                "zokio::task::Builder::spawn_blocking must be called from the context of a zokio runtime"
            ),
        }
    }

    /// As [`Handle::spawn_blocking`], with this builder's options.
    ///
    /// # Errors
    /// None (see the type's docs).
    #[track_caller]
    pub fn spawn_blocking_on<F, R>(self, f: F, handle: &Handle) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        Ok(handle
            .inner
            .blocking_spawner()
            .spawn_blocking_named(&handle.inner, f, self.name))
    }
}
