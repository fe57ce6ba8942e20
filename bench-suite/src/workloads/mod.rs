//! Workload bodies, each generic over [`Runtime`](crate::rt::Runtime). Every function runs
//! one complete sample: when it returns, all the tasks it spawned have finished their work
//! (the pitfall of tokio issue #3904, where unfinished tasks leak into the next sample).

pub mod asyncfn;
pub mod channels;
pub mod io;
pub mod latency;
pub mod memory;
pub mod pool;
pub mod primitives;
pub mod queue;
pub mod scheduler;
pub mod timers;
