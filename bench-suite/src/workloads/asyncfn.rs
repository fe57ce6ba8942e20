//! The cost of async functions themselves: creating a future, awaiting it, nesting, its
//! size, and calling one through a type-erased registry.
//!
//! These run inside a task on each runtime, but what they measure is mostly the compiler's
//! state machines: expect ratios near 1. That is the honest answer to "32x faster
//! async/await than Tokio": the runtime is not involved in awaiting a ready async fn.
//! `black_box` keeps the optimizer from deleting the work.

use super::time_in_task;
use crate::measure::Timed;
use crate::rt::Runtime;
use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;

/// Depth of the nested-await chain.
pub const NESTED_DEPTH: usize = 8;

async fn trivial(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

macro_rules! chain {
    ($name:ident, $inner:ident) => {
        async fn $name(x: u64) -> u64 {
            $inner(x).await.wrapping_add(1)
        }
    };
}
chain!(d2, trivial);
chain!(d3, d2);
chain!(d4, d3);
chain!(d5, d4);
chain!(d6, d5);
chain!(d7, d6);
chain!(d8, d7);

/// Creates `n` async fn futures without polling them, inside a task; only the loop is
/// timed. Ops: `n`.
pub fn create<R: Runtime>(rt: &R, n: usize) -> Timed {
    time_in_task(rt, n as u64, async move {
        for i in 0..n as u64 {
            drop(black_box(trivial(i)));
        }
    })
}

/// Creates and awaits `n` trivial async fns inside a task; only the loop is timed. Ops: `n`.
pub fn await_trivial<R: Runtime>(rt: &R, n: usize) -> Timed {
    time_in_task(rt, n as u64, async move {
        let mut acc = 0u64;
        for i in 0..n as u64 {
            acc = acc.wrapping_add(trivial(i).await);
        }
        black_box(acc);
    })
}

/// Awaits `n` chains of [`NESTED_DEPTH`] nested async fns inside a task; only the loop is
/// timed. Ops: `n` chains.
pub fn nested<R: Runtime>(rt: &R, n: usize) -> Timed {
    time_in_task(rt, n as u64, async move {
        let mut acc = 0u64;
        for i in 0..n as u64 {
            acc = acc.wrapping_add(d8(i).await);
        }
        black_box(acc);
    })
}

/// Size in bytes of the future of a trivial `async fn(u64) -> u64`, and of its output.
pub fn future_size() -> (usize, usize) {
    (
        std::mem::size_of_val(&trivial(0)),
        std::mem::size_of::<u64>(),
    )
}

type Handler = Box<dyn Fn(u64) -> Pin<Box<dyn Future<Output = u64> + Send>> + Send + Sync>;

/// Calls an async fn `n` times through a name-keyed registry of boxed handlers returning
/// boxed futures (a dispatch table), inside a task; only the calls are timed. Ops: `n` calls.
pub fn dispatch_invoke<R: Runtime>(rt: &R, n: usize) -> Timed {
    let mut registry: HashMap<&'static str, Handler> = HashMap::new();
    registry.insert("inc", Box::new(|x| Box::pin(trivial(x))));
    registry.insert("nested", Box::new(|x| Box::pin(d2(x))));
    time_in_task(rt, n as u64, async move {
        let mut acc = 0u64;
        for i in 0..n as u64 {
            let name = black_box("inc");
            acc = acc.wrapping_add(registry[name](i).await);
        }
        black_box(acc);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn bodies_run_on_both() {
        for_both(|z, t| {
            assert_eq!(create(z, 10).ops + create(t, 10).ops, 20);
            assert_eq!(await_trivial(z, 10).ops + await_trivial(t, 10).ops, 20);
            assert_eq!(nested(z, 10).ops + nested(t, 10).ops, 20);
            assert_eq!(dispatch_invoke(z, 10).ops + dispatch_invoke(t, 10).ops, 20);
        });
        let (fut, out) = future_size();
        assert!(fut >= out);
    }

    fn for_both(f: impl Fn(&Zokio, &Tokio)) {
        f(&Zokio::multi_thread(1), &Tokio::multi_thread(1));
    }
}
