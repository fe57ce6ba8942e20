//! `zokio::sync` relies only on `std::task::Waker` (see `sync/mod.rs`), so its channels and
//! locks must work, waiting included, on executors that are not zokio: here on a Tokio
//! multi-thread runtime (2 workers) and on `futures`' single-threaded `LocalPool`, with no
//! zokio runtime anywhere in the process's test.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use zokio::sync::{mpsc, oneshot, Barrier, Mutex, Notify, RwLock, Semaphore, WaitGroup};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Returns `Pending` once (waking itself), whatever the executor.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

/// Runs every primitive through a case that has to wait, spawning tasks with `spawn`.
async fn exercise(spawn: &dyn Fn(BoxFuture)) {
    // Bounded mpsc at capacity: 4 producers push 2,500 messages each through 4 slots.
    let (tx, mut rx) = mpsc::channel::<usize>(4);
    for p in 0..4 {
        let tx = tx.clone();
        spawn(Box::pin(async move {
            for i in 0..2_500 {
                tx.send(p * 2_500 + i).await.expect("receiver alive");
            }
        }));
    }
    drop(tx);
    let mut seen = vec![false; 10_000];
    while let Some(v) = rx.recv().await {
        assert!(!std::mem::replace(&mut seen[v], true), "message {v} twice");
    }
    assert!(seen.iter().all(|&s| s), "a message was lost");

    // Unbounded mpsc and oneshot: a server answers requests carrying a reply sender.
    let (requests, mut inbox) = mpsc::unbounded_channel::<(u32, oneshot::Sender<u32>)>();
    spawn(Box::pin(async move {
        while let Some((x, reply)) = inbox.recv().await {
            reply.send(x * 2).expect("client waits");
        }
    }));
    for x in 0..100 {
        let (tx, rx) = oneshot::channel();
        requests.send((x, tx)).expect("server alive");
        assert_eq!(rx.await, Ok(x * 2));
    }
    drop(requests);

    // Mutex held across a yield, Semaphore limiting concurrency to 2, WaitGroup joining.
    let counter = Arc::new(Mutex::new(0u32));
    let sem = Arc::new(Semaphore::new(2));
    let holders = Arc::new(AtomicUsize::new(0));
    let max_holders = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new();
    wg.add(8);
    for _ in 0..8 {
        let (counter, sem, wg) = (counter.clone(), sem.clone(), wg.clone());
        let (holders, max_holders) = (holders.clone(), max_holders.clone());
        spawn(Box::pin(async move {
            for _ in 0..50 {
                let _permit = sem.acquire().await.expect("never closed");
                let now = holders.fetch_add(1, SeqCst) + 1;
                max_holders.fetch_max(now, SeqCst);
                {
                    let mut guard = counter.lock().await;
                    let before = *guard;
                    yield_once().await;
                    *guard = before + 1;
                }
                holders.fetch_sub(1, SeqCst);
            }
            wg.done();
        }));
    }
    wg.wait().await;
    assert_eq!(*counter.lock().await, 400, "lost increments");
    assert!(
        max_holders.load(SeqCst) <= 2,
        "semaphore let more than 2 in"
    );
    assert_eq!(sem.available_permits(), 2);

    // RwLock: a writer queued behind a reader gets in once the reader leaves.
    let lock = Arc::new(RwLock::new(0u32));
    let reader = lock.read().await;
    let writer = {
        let lock = lock.clone();
        let (done_tx, done_rx) = oneshot::channel();
        spawn(Box::pin(async move {
            *lock.write().await += 1;
            done_tx.send(()).expect("test waits");
        }));
        done_rx
    };
    yield_once().await;
    assert_eq!(*reader, 0);
    drop(reader);
    writer.await.expect("writer finished");
    assert_eq!(*lock.read().await, 1);

    // Notify: a notify_one before the wait is kept; one across tasks wakes the waiter.
    let notify = Arc::new(Notify::new());
    notify.notify_one();
    notify.notified().await;
    let (ack_tx, ack_rx) = oneshot::channel();
    {
        let notify = notify.clone();
        spawn(Box::pin(async move {
            notify.notified().await;
            ack_tx.send(()).expect("test waits");
        }));
    }
    yield_once().await;
    notify.notify_one();
    ack_rx.await.expect("waiter woken");

    // Barrier: 4 parties (3 tasks and this one), exactly one leader.
    let barrier = Arc::new(Barrier::new(4));
    let leaders = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = mpsc::channel::<()>(3);
    for _ in 0..3 {
        let (barrier, leaders, done_tx) = (barrier.clone(), leaders.clone(), done_tx.clone());
        spawn(Box::pin(async move {
            if barrier.wait().await.is_leader() {
                leaders.fetch_add(1, SeqCst);
            }
            done_tx.send(()).await.expect("test waits");
        }));
    }
    drop(done_tx);
    if barrier.wait().await.is_leader() {
        leaders.fetch_add(1, SeqCst);
    }
    while done_rx.recv().await.is_some() {}
    assert_eq!(leaders.load(SeqCst), 1);
}

#[test]
fn sync_works_on_a_tokio_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(exercise(&|f| drop(tokio::spawn(f))));
}

#[test]
fn sync_works_on_a_futures_local_pool() {
    use futures::task::SpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    pool.run_until(exercise(&move |f| {
        spawner.spawn(f).expect("pool alive");
    }));
}
