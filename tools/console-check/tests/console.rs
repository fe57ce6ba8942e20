//! tokio-console sees zokio's tasks: zokio (feature `tracing`) runs named tasks with
//! console-subscriber's layer installed; a gRPC client of console's API on 127.0.0.1
//! (console-api's `InstrumentClient`, what the `tokio-console` binary uses) must receive
//! those tasks, with their names, and their poll counts, a sleeping task's timer as a
//! `Sleep` resource, a held `sync::Mutex` as a `Mutex` resource, and a waited-on oneshot
//! channel, barrier and interval as `Sender|Receiver`, `Barrier` and `Interval`.

use console_api::instrument::instrument_client::InstrumentClient;
use console_api::instrument::InstrumentRequest;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing_subscriber::prelude::*;

/// A name field's value as console sends it.
fn field_text(field: &console_api::Field) -> Option<(String, String)> {
    use console_api::field::{Name, Value};
    let name = match field.name.as_ref()? {
        Name::StrName(name) => name.clone(),
        Name::NameIdx(_) => return None,
    };
    let value = match field.value.as_ref()? {
        Value::StrVal(v) | Value::DebugVal(v) => v.clone(),
        Value::U64Val(v) => v.to_string(),
        Value::I64Val(v) => v.to_string(),
        Value::BoolVal(v) => v.to_string(),
    };
    Some((name, value))
}

#[test]
fn tokio_console_lists_zokio_tasks_with_their_polls() {
    // A free port on 127.0.0.1 for console's server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let layer = console_subscriber::ConsoleLayer::builder()
        .server_addr(([127, 0, 0, 1], port))
        .publish_interval(Duration::from_millis(50))
        .spawn();
    tracing_subscriber::registry().with(layer).init();

    // Two named tasks on zokio: each polls a known number of times, then waits, alive,
    // until the check is done.
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (done_tx, done_rx) = zokio::sync::watch::channel(false);
    let mut handles = Vec::new();
    for (name, yields) in [("console-check-a", 5u32), ("console-check-b", 9)] {
        let mut done = done_rx.clone();
        let handle = zokio::task::Builder::new()
            .name(name)
            .spawn_on(
                async move {
                    for _ in 0..yields {
                        zokio::task::yield_now().await;
                    }
                    let _ = done.wait_for(|d| *d).await;
                },
                rt.handle(),
            )
            .unwrap();
        handles.push(handle);
    }

    // A third task sleeping: a timer resource for the console's resources view.
    let sleeper = zokio::task::Builder::new()
        .name("console-check-sleeper")
        .spawn_on(
            async { zokio::time::sleep(Duration::from_secs(60)).await },
            rt.handle(),
        )
        .unwrap();

    // A fourth task holding a zokio Mutex: a sync resource.
    let mutex = std::sync::Arc::new(zokio::sync::Mutex::new(0u32));
    let locker = zokio::task::Builder::new()
        .name("console-check-locker")
        .spawn_on(
            {
                let mutex = mutex.clone();
                let mut done = done_rx.clone();
                async move {
                    let mut held = mutex.lock().await;
                    *held += 1;
                    let _ = done.wait_for(|d| *d).await;
                }
            },
            rt.handle(),
        )
        .unwrap();
    handles.push(locker);

    // A fifth waiting on a oneshot channel, a barrier and an interval's second tick.
    let (oneshot_tx, oneshot_rx) = zokio::sync::oneshot::channel::<()>();
    let waiter = zokio::task::Builder::new()
        .name("console-check-waiter")
        .spawn_on(
            async move {
                let barrier = zokio::sync::Barrier::new(2);
                let mut interval = zokio::time::interval(Duration::from_secs(60));
                interval.tick().await;
                zokio::select! {
                    _ = oneshot_rx => {}
                    _ = barrier.wait() => {}
                    _ = interval.tick() => {}
                }
            },
            rt.handle(),
        )
        .unwrap();
    let wanted = ["Sleep", "Mutex", "Sender|Receiver", "Barrier", "Interval"];

    // The client: console's gRPC API, from a Tokio runtime of its own.
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let polls = client_rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut client = loop {
            match InstrumentClient::connect(format!("http://127.0.0.1:{port}")).await {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("console's server never answered on port {port}: {e}"),
            }
        };
        let mut updates = client
            .watch_updates(InstrumentRequest {})
            .await
            .expect("watch_updates")
            .into_inner();
        // Task span id -> name, and span id -> polls, as updates arrive.
        let mut names: HashMap<u64, String> = HashMap::new();
        let mut polls: HashMap<String, u64> = HashMap::new();
        let mut resources: Vec<String> = Vec::new();
        while Instant::now() < deadline {
            let update = tokio::time::timeout(Duration::from_secs(5), updates.message())
                .await
                .expect("no update within 5 s")
                .expect("update stream")
                .expect("update stream ended");
            if let Some(update) = update.resource_update {
                resources.extend(update.new_resources.into_iter().map(|r| r.concrete_type));
            }
            let Some(tasks) = update.task_update else {
                continue;
            };
            for task in tasks.new_tasks {
                let fields: HashMap<String, String> =
                    task.fields.iter().filter_map(field_text).collect();
                if let (Some(id), Some(name)) = (task.id, fields.get("task.name")) {
                    names.insert(id.id, name.trim_matches('"').to_owned());
                }
            }
            for (id, stats) in tasks.stats_update {
                if let (Some(name), Some(poll)) = (names.get(&id), stats.poll_stats) {
                    polls.insert(name.clone(), poll.polls);
                }
            }
            if polls.get("console-check-a").is_some_and(|&p| p >= 6)
                && polls.get("console-check-b").is_some_and(|&p| p >= 10)
                && wanted.iter().all(|w| resources.iter().any(|r| r == w))
            {
                break;
            }
        }
        (polls, resources)
    });
    let (polls, resources) = polls;
    eprintln!("console saw resources {resources:?}");
    for w in wanted {
        assert!(
            resources.iter().any(|r| r == w),
            "console saw no {w} resource: {resources:?}"
        );
    }
    sleeper.abort();
    drop(oneshot_tx);
    eprintln!("console saw polls {polls:?}");
    // Each task polled once per yield plus its first poll (and it is now waiting).
    assert!(
        polls.get("console-check-a").is_some_and(|&p| p >= 6),
        "console saw {polls:?}"
    );
    assert!(
        polls.get("console-check-b").is_some_and(|&p| p >= 10),
        "console saw {polls:?}"
    );
    done_tx.send(true).unwrap();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
        waiter.await.unwrap();
    });
}
