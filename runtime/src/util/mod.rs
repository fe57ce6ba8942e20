//! Small helpers shared by the scheduler flavors.

mod cache_padded;
mod rand;
pub(crate) mod thread_group;

pub(crate) use cache_padded::CachePadded;
pub(crate) use rand::FastRand;
