//! Schedule times of queued tasks, for the schedule-latency histogram
//! (`Builder::enable_metrics_schedule_latency_histogram`): the unit (ns after an epoch
//! the scheduler takes when it is built) and, for queues whose tasks have no word of
//! their own for the time, a queue of times kept beside them.

use std::time::Instant;

/// Nanoseconds from `epoch` to now (saturating): the schedule-latency histogram's stamps
/// are kept in this unit, against the epoch the scheduler takes when it is built.
pub(crate) fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds a task stamped `at` (ns after `epoch`) has waited until now: the figure
/// the schedule-latency histogram counts.
pub(crate) fn waited_since(epoch: Instant, at: u64) -> u64 {
    nanos_since(epoch).saturating_sub(at)
}

/// When each task of a queue was queued, in ns after `epoch`, oldest first: kept beside a
/// run queue or an injector whose tasks have no word of their own for it (the
/// current-thread flavor's, with a schedule-latency histogram). Boxed where it is kept, so
/// a queue without it carries one null pointer.
#[derive(Debug)]
pub(crate) struct ScheduleStamps {
    epoch: Instant,
    queue: std::collections::VecDeque<u64>,
}

impl ScheduleStamps {
    /// An empty queue whose stamps count from `epoch`.
    pub(crate) fn new(epoch: Instant) -> Box<ScheduleStamps> {
        Box::new(ScheduleStamps {
            epoch,
            queue: std::collections::VecDeque::new(),
        })
    }

    /// Stamps `n` tasks queued now.
    pub(crate) fn push_now(&mut self, n: usize) {
        let now = nanos_since(self.epoch);
        self.queue.extend(std::iter::repeat_n(now, n));
    }

    /// The oldest stamp, if any.
    pub(crate) fn pop(&mut self) -> Option<u64> {
        self.queue.pop_front()
    }

    /// Drops every stamp and, past `retained` slots, the memory.
    pub(crate) fn clear(&mut self, retained: usize) {
        self.queue.clear();
        self.queue.shrink_to(retained);
    }

    /// Nanoseconds from the stamp `at` to now.
    pub(crate) fn waited(&self, at: u64) -> u64 {
        waited_since(self.epoch, at)
    }
}
