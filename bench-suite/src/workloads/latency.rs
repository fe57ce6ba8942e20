//! Wake-up latency: from `wake()` on a foreign thread to the woken task running.
//!
//! A task hands the sending half of a oneshot channel to a plain OS thread and awaits the
//! receiver. The thread waits until the task has certainly gone to sleep (it spins
//! [`PARK_GRACE`] first), stamps `Instant::now()`, and sends the stamp; the task records
//! `stamp.elapsed()` when it runs. The figure therefore includes the runtime's wake path:
//! scheduling the task and unparking the idle worker, which is what "task wakeup" costs a
//! real program. Recorded in an HdrHistogram with 3 significant figures (≤ 0.1% quantisation).

use crate::rt::{OneshotSender, Runtime};
use hdrhistogram::Histogram;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the waking thread waits before each wake so that the task is asleep.
pub const PARK_GRACE: Duration = Duration::from_micros(200);

/// Records `n` wake-ups into a histogram, in nanoseconds.
pub fn task_wakeup<R: Runtime>(rt: &R, n: usize) -> Histogram<u64> {
    let (to_waker, from_task) = mpsc::channel::<R::OneshotSender<Instant>>();
    let waker = std::thread::spawn(move || {
        for tx in from_task {
            let start = Instant::now();
            while start.elapsed() < PARK_GRACE {
                std::hint::spin_loop();
            }
            let _ = tx.send(Instant::now());
        }
    });
    let hist = rt.run(async move {
        let mut hist = super::latency_histogram();
        for _ in 0..n {
            let (tx, rx) = R::oneshot::<Instant>();
            to_waker.send(tx).expect("waker thread alive");
            let sent = rx.await.expect("waker sends");
            hist.saturating_record(sent.elapsed().as_nanos() as u64);
        }
        hist
    });
    waker.join().expect("waker thread");
    hist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::{Tokio, Zokio};

    #[test]
    fn records_every_wakeup_on_both() {
        assert_eq!(task_wakeup(&Zokio::multi_thread(2), 20).len(), 20);
        assert_eq!(task_wakeup(&Tokio::multi_thread(2), 20).len(), 20);
    }
}
