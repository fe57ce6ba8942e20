//! Synchronisation between tasks.
//!
//! These types rely only on `std::task::Waker`, so they work on any executor.

pub mod oneshot;
