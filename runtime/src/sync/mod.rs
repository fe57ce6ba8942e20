//! Synchronisation between tasks.
//!
//! These types rely only on `std::task::Waker`, so they work on any executor:
//! [`oneshot`] for one value, [`mpsc`] for a stream of values from many producers.

pub mod mpsc;
pub mod oneshot;
