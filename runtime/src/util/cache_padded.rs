use std::ops::Deref;

/// Aligns `T` to 128 bytes so that two values never share a cache line (or the adjacent-line
/// prefetch pair on x86_64), which is what keeps per-worker counters from false sharing.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Aligns `T` to one 64-byte cache line: two values never share a line, but neighbours may
/// share the adjacent-line prefetch pair. Half what [`CachePadded`] costs, for values kept
/// several per worker (the owned-task list's shards), where that memory counts.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct CacheLine<T>(pub(crate) T);

impl<T> Deref for CacheLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
