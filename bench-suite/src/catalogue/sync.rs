//! Channels and locks: message passing and waiting through each runtime's own primitives.

use super::MULTI;
use crate::measure::Timed;
use crate::rt::{Cap, Runtime};
use crate::strategy::{self, Flavor, RateBody};
use crate::suite::{Ctx, Figure, Outcome, Param::*, Workload};

/// Round trips per sample in `sync.notify_ping_pong`.
pub const NOTIFY_ROUNDS: usize = 100_000;

/// Lock operations per sample in the mutex and semaphore workloads.
pub const LOCK_OPS: usize = 200_000;

/// Capacity of the bounded mpsc channels.
pub const MPSC_CAPACITY: usize = 1024;

/// Messages per sample in the channel workloads.
pub const CHANNEL_MESSAGES: usize = 1_000_000;

/// Round trips per sample in `sync.oneshot_request_reply`.
pub const REQUESTS: usize = 100_000;

/// Message passing through each runtime's own channels.
pub(super) fn channels() -> Vec<Workload> {
    use crate::workloads::channels::{mpsc, mpsc_unbounded};
    vec![
        Workload {
            name: "sync.mpsc_bounded_1to1",
            unit: "msg/s",
            params: &[("producers", N(1)), ("capacity", N(MPSC_CAPACITY)), ("messages", N(CHANNEL_MESSAGES))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "one producer task, one consumer task, each runtime's bounded mpsc",
            run: multi_rate!(|rt| mpsc(rt, 1, CHANNEL_MESSAGES, MPSC_CAPACITY)),
        },
        Workload {
            name: "sync.mpsc_bounded_4to1",
            unit: "msg/s",
            params: &[("producers", N(4)), ("capacity", N(MPSC_CAPACITY)), ("messages", N(CHANNEL_MESSAGES))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "four producer tasks, one consumer task, each runtime's bounded mpsc",
            run: multi_rate!(|rt| mpsc(rt, 4, CHANNEL_MESSAGES, MPSC_CAPACITY)),
        },
        Workload {
            name: "sync.mpsc_unbounded_1to1",
            unit: "msg/s",
            params: &[("producers", N(1)), ("messages", N(CHANNEL_MESSAGES))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "one producer task, one consumer task, each runtime's unbounded mpsc",
            run: multi_rate!(|rt| mpsc_unbounded(rt, 1, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.mpsc_unbounded_4to1",
            unit: "msg/s",
            params: &[("producers", N(4)), ("messages", N(CHANNEL_MESSAGES))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "four producer tasks, one consumer task, each runtime's unbounded mpsc",
            run: multi_rate!(|rt| mpsc_unbounded(rt, 4, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.oneshot",
            unit: "channels/s",
            params: &[("channels", N(CHANNEL_MESSAGES)), ("tasks", N(1))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "one task creates a oneshot channel, sends through it and awaits the value, 1,000,000 times",
            run: multi_rate!(|rt| crate::workloads::channels::oneshot_create_send_recv(rt, CHANNEL_MESSAGES)),
        },
        Workload {
            name: "sync.oneshot_request_reply",
            unit: "round trips/s",
            params: &[("requests", N(REQUESTS)), ("in_flight", N(1))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "a client task sends requests carrying a oneshot sender over an unbounded mpsc to a server task and awaits each reply",
            run: multi_rate!(|rt| crate::workloads::channels::oneshot_request_reply(rt, REQUESTS)),
        },
        Workload {
            name: "sync.mutex_contended",
            unit: "locks/s",
            params: &[("ops", N(LOCK_OPS)), ("tasks", T("2,3,4,5,6,7,8"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Mutex],
            description: "2 to 8 tasks take turns on one async mutex (lock, increment, unlock); every increment is counted. With 2 tasks a round either starts them on two workers, where they contend and the fair lock hands over on every unlock (a convoy, one task switch per lock), or on one, where they never contend (each runs a coop budget's worth of locks per turn). A runtime's rounds may split between the two regimes, so its median depends on which was more frequent in that run: read the samples, not only the median",
            run: sweep_rate!(tasks: usize = [2, 3, 4, 5, 6, 7, 8], |rt, n| crate::workloads::channels::mutex(rt, n, LOCK_OPS)),
        },
        Workload {
            name: "sync.mutex_uncontended",
            unit: "locks/s",
            params: &[("flavor", T("current_thread")), ("ops", N(LOCK_OPS)), ("tasks", N(1))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: false,
            needs: &[Cap::CurrentThread, Cap::Mutex],
            description: "one task on a current-thread runtime locks, increments and unlocks one async mutex in a loop: the lock never waits, so the figure is the cost of an uncontended lock and unlock (a fast path every lock runs first), which the contended workloads hide behind task switches",
            run: current_rate!(|rt| crate::workloads::channels::mutex(rt, 1, LOCK_OPS)),
        },
        Workload {
            name: "sync.semaphore",
            unit: "acquires/s",
            params: &[("ops", N(LOCK_OPS)), ("tasks", N(4)), ("permits", N(2)), ("held_across", T("none,yield"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Semaphore],
            description: "4 tasks acquire and release one permit of a 2-permit semaphore in a loop. held_across=none: a task releases its permit before its next .await, so on 2 workers at most two permits are ever held and nobody waits; the figure is acquire and release on a count both workers share. held_across=yield: each task yields once while it holds its permit, so two tasks are always queued for one and every acquire waits for a release to grant it (enqueue, wake, hand-over)",
            run: sweep_rate!(held_across: &'static str = ["none", "yield"], |rt, held| crate::workloads::channels::semaphore(rt, 4, 2, LOCK_OPS, held == "yield")),
        },
        Workload {
            name: "sync.notify_ping_pong",
            unit: "round trips/s",
            params: &[("rounds", N(NOTIFY_ROUNDS))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Notify],
            description: "two tasks pass the turn back and forth through two Notify (notify_one, notified)",
            run: multi_rate!(|rt| crate::workloads::channels::notify_ping_pong(rt, NOTIFY_ROUNDS)),
        },
    ]
}
