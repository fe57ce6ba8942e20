//! A few named zokio tasks for tokio-console to show: run
//! `cargo run --release --example console_tasks` here, then `tokio-console` (it connects
//! to 127.0.0.1:6669, console-subscriber's default). The tasks tick, sleep and wait on
//! each other for 60 s (or the number of seconds given as the first argument), then the
//! program exits.

use std::time::Duration;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("seconds to run, a whole number"))
        .unwrap_or(60);
    console_subscriber::init();
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build zokio runtime");
    rt.block_on(async move {
        let (tx, mut rx) = zokio::sync::mpsc::channel::<u64>(16);
        let producer = zokio::task::Builder::new()
            .name("producer")
            .spawn(async move {
                for i in 0.. {
                    if tx.send(i).await.is_err() {
                        break;
                    }
                    zokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .unwrap();
        let consumer = zokio::task::Builder::new()
            .name("consumer")
            .spawn(async move {
                let mut sum = 0u64;
                while let Some(i) = rx.recv().await {
                    sum = sum.wrapping_add(i);
                }
                sum
            })
            .unwrap();
        let spinner = zokio::task::Builder::new()
            .name("busy-yielder")
            .spawn(async {
                loop {
                    zokio::task::yield_now().await;
                    zokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .unwrap();
        zokio::task::Builder::new()
            .name("blocking-sleeper")
            .spawn_blocking(|| std::thread::sleep(Duration::from_secs(1)))
            .unwrap()
            .await
            .unwrap();
        zokio::time::sleep(Duration::from_secs(seconds)).await;
        producer.abort();
        spinner.abort();
        let sum = consumer.await.unwrap();
        println!("consumer summed {sum}");
    });
}
