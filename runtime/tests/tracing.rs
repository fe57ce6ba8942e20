//! With the `tracing` feature, zokio's tasks emit Tokio's instrumentation: a span
//! `runtime.spawn` (target `tokio::task`) per task with its kind, name, id, size and spawn
//! location, entered on every poll and closed when the future is dropped, and waker events
//! (target `tokio::task::waker`) naming the span; sleeps are timer resources; and the I/O
//! driver reports its submissions, completions and readiness events (target
//! `zokio::io::driver`: Tokio's driver has no instrumentation to match). Checked with a
//! subscriber layer that records them, on the current-thread and multi-thread flavors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use zokio::runtime::Builder;

/// What the layer saw of one task span.
#[derive(Debug, Default, Clone)]
struct TaskSpan {
    fields: HashMap<String, String>,
    enters: usize,
    closed: bool,
}

#[derive(Debug, Default)]
struct Seen {
    tasks: HashMap<u64, TaskSpan>,
    /// Waker events: (op, task.id).
    waker_ops: Vec<(String, u64)>,
    /// `runtime.resource` spans: id -> fields.
    resources: HashMap<u64, HashMap<String, String>>,
    /// Resource events (poll ops and state updates): (target, fields, the resource span
    /// they happened in, if any).
    resource_events: Vec<(String, HashMap<String, String>, Option<u64>)>,
    /// I/O driver events (target `zokio::io::driver`): their fields.
    driver_events: Vec<HashMap<String, String>>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

struct Recorder(Arc<Mutex<Seen>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.name() == "runtime.spawn" && meta.target() == "tokio::task" {
            let mut task = TaskSpan::default();
            attrs.record(&mut Fields(&mut task.fields));
            self.0.lock().unwrap().tasks.insert(id.into_u64(), task);
        } else if meta.name() == "runtime.resource" {
            let mut fields = HashMap::new();
            attrs.record(&mut Fields(&mut fields));
            self.0
                .lock()
                .unwrap()
                .resources
                .insert(id.into_u64(), fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some(task) = self.0.lock().unwrap().tasks.get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut task.fields));
        }
    }

    fn on_enter(&self, id: &Id, _: Context<'_, S>) {
        if let Some(task) = self.0.lock().unwrap().tasks.get_mut(&id.into_u64()) {
            task.enters += 1;
        }
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        if let Some(task) = self.0.lock().unwrap().tasks.get_mut(&id.into_u64()) {
            task.closed = true;
        }
    }

    fn on_event(&self, event: &Event<'_>, cx: Context<'_, S>) {
        let target = event.metadata().target();
        if target.starts_with("runtime::resource::") {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            // The resource span the event happened in: the current span or an ancestor.
            let resource = cx.event_scope(event).and_then(|mut scope| {
                scope
                    .find(|span| span.name() == "runtime.resource")
                    .map(|span| span.id().into_u64())
            });
            let mut seen = self.0.lock().unwrap();
            seen.resource_events
                .push((target.to_owned(), fields, resource));
            return;
        }
        if target == "zokio::io::driver" {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().driver_events.push(fields);
            return;
        }
        if target == "tokio::task::waker" {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            let op = fields.remove("op").unwrap_or_default();
            let task = fields
                .get("task.id")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            self.0.lock().unwrap().waker_ops.push((op, task));
        }
    }
}

fn seen() -> &'static Arc<Mutex<Seen>> {
    static SEEN: OnceLock<Arc<Mutex<Seen>>> = OnceLock::new();
    SEEN.get_or_init(|| {
        let seen = Arc::new(Mutex::new(Seen::default()));
        tracing_subscriber::registry()
            .with(Recorder(seen.clone()))
            .init();
        seen
    })
}

/// The span of the task named `name`: (span id, what was seen).
fn task_named(name: &str) -> (u64, TaskSpan) {
    let seen = seen().lock().unwrap();
    let found: Vec<_> = seen
        .tasks
        .iter()
        .filter(|(_, t)| t.fields.get("task.name").map(String::as_str) == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "spans named {name}: {found:?}");
    (*found[0].0, found[0].1.clone())
}

#[test]
fn task_spans_and_waker_events_carry_tokio_names() {
    let seen = seen().clone();
    for (flavor, rt) in [
        ("current", Builder::new_current_thread().build().unwrap()),
        (
            "multi",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ] {
        let name = format!("yielder-{flavor}");
        let (id, line) = rt.block_on(async {
            let yielder = async {
                for _ in 0..3 {
                    zokio::task::yield_now().await;
                }
            };
            let builder = zokio::task::Builder::new().name(&name);
            #[rustfmt::skip]
            let (handle, line) = (builder.spawn(yielder).unwrap(), line!());
            let id = handle.id();
            handle.await.unwrap();
            (id, line)
        });
        let (span, task) = task_named(&name);
        let f = &task.fields;
        assert_eq!(f["kind"], "task", "{flavor}");
        assert_eq!(f["task.id"], id.to_string(), "{flavor}");
        assert!(
            f["loc.file"].ends_with("tests/tracing.rs"),
            "{flavor}: {f:?}"
        );
        assert_eq!(f["loc.line"], line.to_string(), "{flavor}");
        assert!(f["size.bytes"].parse::<usize>().unwrap() > 0, "{flavor}");
        // Three yields: four polls, each inside the span; closed once the task is done.
        assert!(task.enters >= 4, "{flavor}: {} enters", task.enters);
        assert!(task.closed, "{flavor}: span still open");
        // yield_now wakes the task through its waker: events name the span.
        let ops: Vec<String> = seen
            .lock()
            .unwrap()
            .waker_ops
            .iter()
            .filter(|(_, task)| *task == span)
            .map(|(op, _)| op.clone())
            .collect();
        assert!(
            ops.iter()
                .any(|op| op == "waker.wake_by_ref" || op == "waker.wake"),
            "{flavor}: waker ops {ops:?}"
        );

        // Blocking tasks and local tasks, named the same way.
        let blocking = format!("blocking-{flavor}");
        rt.block_on(async {
            zokio::task::Builder::new()
                .name(&blocking)
                .spawn_blocking(|| 1)
                .unwrap()
                .await
                .unwrap()
        });
        assert_eq!(task_named(&blocking).1.fields["kind"], "blocking");
        let local = format!("local-{flavor}");
        let set = zokio::task::LocalSet::new();
        set.block_on(&rt, async {
            zokio::task::Builder::new()
                .name(&local)
                .spawn_local(async {
                    zokio::task::yield_now().await;
                    std::rc::Rc::new(1)
                })
                .unwrap()
                .await
                .unwrap()
        });
        let (local_span, local_task) = task_named(&local);
        assert_eq!(local_task.fields["kind"], "local");
        assert!(
            local_task.enters >= 2 && local_task.closed,
            "{local_task:?}"
        );
        assert!(
            seen.lock()
                .unwrap()
                .waker_ops
                .iter()
                .any(|(_, task)| *task == local_span),
            "{flavor}: no waker event names the local task's span"
        );
    }
    // Unnamed tasks have an empty name, as Tokio's.
    let rt = Builder::new_current_thread().build().unwrap();
    let (id, line) = rt.block_on(async {
        #[rustfmt::skip]
        let (handle, line) = (zokio::spawn(async {}), line!());
        let id = handle.id();
        handle.await.unwrap();
        (id, line)
    });
    // Ids are addresses, reused once a task is gone: the spawn line tells this one apart.
    let seen = seen.lock().unwrap();
    let unnamed = seen
        .tasks
        .values()
        .find(|t| {
            t.fields.get("task.id") == Some(&id.to_string())
                && t.fields.get("loc.line") == Some(&line.to_string())
        })
        .expect("the unnamed task's span");
    assert_eq!(unnamed.fields["task.name"], "");
    assert_eq!(unnamed.fields["kind"], "task");
}

#[test]
fn sleeps_are_timer_resources_with_their_polls() {
    let seen = seen().clone();
    for rt in [
        Builder::new_current_thread().build().unwrap(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ] {
        let line = rt.block_on(async {
            #[rustfmt::skip]
            let (sleep, line) = (zokio::time::sleep(std::time::Duration::from_millis(20)), line!());
            sleep.await;
            line
        });
        let seen = seen.lock().unwrap();
        let (&resource, fields) = seen
            .resources
            .iter()
            .find(|(_, f)| f.get("loc.line") == Some(&line.to_string()))
            .expect("a runtime.resource span at the sleep's line");
        assert_eq!(fields["concrete_type"], "Sleep");
        assert_eq!(fields["kind"], "timer");
        let events: Vec<_> = seen
            .resource_events
            .iter()
            .filter(|(_, _, r)| *r == Some(resource))
            .collect();
        // Armed for 20 ms, then polled: pending, then ready (the timer fired).
        assert!(
            events
                .iter()
                .any(|(t, f, _)| t == "runtime::resource::state_update"
                    && f.get("duration")
                        .is_some_and(|d| d.parse::<u64>().is_ok_and(|d| d <= 20))
                    && f.get("duration.unit").map(String::as_str) == Some("ms")),
            "{events:?}"
        );
        let polls: Vec<&str> = events
            .iter()
            .filter(|(t, f, _)| {
                t == "runtime::resource::poll_op"
                    && f.get("op_name").map(String::as_str) == Some("poll_elapsed")
            })
            .map(|(_, f, _)| f["is_ready"].as_str())
            .collect();
        assert_eq!(polls.first(), Some(&"false"), "{polls:?}");
        assert_eq!(polls.last(), Some(&"true"), "{polls:?}");
    }
}

#[test]
fn block_on_futures_have_their_own_span() {
    // The subscriber first: this test may run before any other installed it.
    let seen = seen().clone();
    let rt = Builder::new_current_thread().build().unwrap();
    #[rustfmt::skip]
    let (value, line) = (rt.block_on(async { zokio::task::yield_now().await; 7 }), line!());
    assert_eq!(value, 7);
    let seen = seen.lock().unwrap();
    let span = seen
        .tasks
        .values()
        .find(|t| {
            t.fields.get("kind").map(String::as_str) == Some("block_on")
                && t.fields.get("loc.line") == Some(&line.to_string())
        })
        .unwrap_or_else(|| panic!("a block_on span at line {line}: {:?}", seen.tasks));
    assert!(span.enters >= 2, "{span:?}");
    assert!(span.closed, "{span:?}");
}

#[test]
fn the_io_driver_reports_submissions_completions_and_readiness() {
    let seen = seen().clone();
    let mut drivers = vec![zokio::runtime::IoDriver::Epoll];
    if Builder::new_current_thread()
        .io_driver(zokio::runtime::IoDriver::IoUring)
        .build()
        .is_ok()
    {
        drivers.push(zokio::runtime::IoDriver::IoUring);
    }
    let dir = std::env::temp_dir().join(format!("zokio-trace-{}", std::process::id()));
    std::fs::write(&dir, b"traced bytes").unwrap();
    for driver in drivers {
        seen.lock().unwrap().driver_events.clear();
        let rt = Builder::new_current_thread()
            .io_driver(driver)
            .build()
            .unwrap();
        let read = rt.block_on(async {
            use zokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = zokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = zokio::spawn(async move {
                let mut s = zokio::net::TcpStream::connect(addr).await.unwrap();
                s.write_all(b"x").await.unwrap();
            });
            let (mut s, _) = listener.accept().await.unwrap();
            let mut byte = [0u8; 1];
            s.read_exact(&mut byte).await.unwrap();
            client.await.unwrap();
            zokio::fs::read(&dir).await.unwrap()
        });
        assert_eq!(read, b"traced bytes");
        let events = std::mem::take(&mut seen.lock().unwrap().driver_events);
        let ops = |op: &str| {
            events
                .iter()
                .filter(|f| f.get("op").map(String::as_str) == Some(op))
                .count()
        };
        assert!(ops("readiness") > 0, "{driver:?}: {events:?}");
        if driver == zokio::runtime::IoDriver::IoUring {
            // The sockets' polls and the file's operations go through the ring.
            assert!(ops("submit") > 0 && ops("complete") > 0, "{events:?}");
            // Each completion of an operation carries the kernel's result.
            assert!(
                events
                    .iter()
                    .filter(|f| f.get("op").map(String::as_str) == Some("complete"))
                    .all(|f| f.contains_key("result") && f.contains_key("user_data")),
                "{events:?}"
            );
        }
    }
    std::fs::remove_file(&dir).unwrap();
}

#[test]
fn mutexes_and_semaphores_are_sync_resources_with_their_state() {
    let seen = seen().clone();
    let rt = Builder::new_current_thread().build().unwrap();
    #[rustfmt::skip]
    let (mutex_line, sem_line) = rt.block_on(async {
        let (m, mutex_line) = (std::sync::Arc::new(zokio::sync::Mutex::new(0)), line!());
        let (s, sem_line) = (zokio::sync::Semaphore::new(2), line!());
        // Contended: the second lock waits (a pending poll), then gets it.
        let held = m.lock().await;
        let waiter = zokio::spawn({
            let m = m.clone();
            async move { *m.lock().await += 1 }
        });
        zokio::task::yield_now().await;
        drop(held);
        waiter.await.unwrap();
        let permit = s.acquire().await.unwrap();
        drop(permit);
        (mutex_line, sem_line)
    });
    let seen = seen.lock().unwrap();
    let resource_at = |line: u32| {
        let (&id, fields) = seen
            .resources
            .iter()
            .find(|(_, f)| f.get("loc.line") == Some(&line.to_string()))
            .unwrap_or_else(|| panic!("a runtime.resource span at line {line}"));
        assert_eq!(fields["kind"], "Sync");
        (id, fields["concrete_type"].clone())
    };
    let events_of = |id: u64| -> Vec<(String, HashMap<String, String>)> {
        seen.resource_events
            .iter()
            .filter(|(_, _, r)| *r == Some(id))
            .map(|(t, f, _)| (t.clone(), f.clone()))
            .collect()
    };

    let (mutex, kind) = resource_at(mutex_line);
    assert_eq!(kind, "Mutex");
    let events = events_of(mutex);
    let locked: Vec<&str> = events
        .iter()
        .filter(|(t, _)| t == "runtime::resource::state_update")
        .filter_map(|(_, f)| f.get("locked").map(String::as_str))
        .collect();
    // Created unlocked; locked and unlocked twice (the holder, then the waiter).
    assert_eq!(
        locked,
        ["false", "true", "false", "true", "false"],
        "{events:?}"
    );
    let polls: Vec<&str> = events
        .iter()
        .filter(|(t, f)| t == "runtime::resource::poll_op" && f["op_name"] == "poll")
        .map(|(_, f)| f["is_ready"].as_str())
        .collect();
    assert!(
        polls.contains(&"false") && polls.last() == Some(&"true"),
        "{polls:?}"
    );

    let (sem, kind) = resource_at(sem_line);
    assert_eq!(kind, "Semaphore");
    let permits: Vec<(String, String)> = events_of(sem)
        .iter()
        .filter(|(t, f)| t == "runtime::resource::state_update" && f.contains_key("permits"))
        .map(|(_, f)| (f["permits"].clone(), f["permits.op"].clone()))
        .collect();
    let expected = [("2", "override"), ("1", "sub"), ("1", "add")]
        .map(|(n, op)| (n.to_owned(), op.to_owned()));
    assert_eq!(permits, expected);
}

#[test]
fn rwlocks_are_sync_resources_with_their_readers_and_writer() {
    let seen = seen().clone();
    let rt = Builder::new_current_thread().build().unwrap();
    #[rustfmt::skip]
    let line = rt.block_on(async {
        let (lock, line) = (std::sync::Arc::new(zokio::sync::RwLock::new(0)), line!());
        let reader = lock.read().await;
        // The writer waits for the reader (a pending poll), then writes.
        let writer = zokio::spawn({
            let lock = lock.clone();
            async move { *lock.write().await += 1 }
        });
        zokio::task::yield_now().await;
        drop(reader);
        writer.await.unwrap();
        line
    });
    let seen = seen.lock().unwrap();
    let (&id, fields) = seen
        .resources
        .iter()
        .find(|(_, f)| f.get("loc.line") == Some(&line.to_string()))
        .expect("a runtime.resource span at the lock's line");
    assert_eq!(fields["concrete_type"], "RwLock");
    let updates = events_in(&seen, id, "runtime::resource::state_update");
    let expected = [
        format!("max_readers={}", u32::MAX >> 3),
        "write_locked=false".to_owned(),
        "current_readers=0".to_owned(),
        "current_readers.op=add current_readers=1".to_owned(),
        "current_readers.op=sub current_readers=1".to_owned(),
        "write_locked.op=override write_locked=true".to_owned(),
        "write_locked.op=override write_locked=false".to_owned(),
    ];
    assert_eq!(updates, expected);
}

/// The events of `target` that happened in resource span `id`, each as its fields,
/// `name=value` sorted and joined by spaces (`"locked.op=override locked=true"`).
fn events_in(seen: &Seen, id: u64, target: &str) -> Vec<String> {
    seen.resource_events
        .iter()
        .filter(|(t, _, r)| t == target && *r == Some(id))
        .map(|(_, f, _)| {
            let mut kv: Vec<_> = f.iter().map(|(k, v)| format!("{k}={v}")).collect();
            kv.sort();
            kv.join(" ")
        })
        .collect()
}

/// The resource span created at `line` with `concrete_type`: its id and its `kind`.
fn resource_at(seen: &Seen, line: u32, concrete_type: &str) -> (u64, String) {
    let (&id, fields) = seen
        .resources
        .iter()
        .find(|(_, f)| {
            f.get("loc.line") == Some(&line.to_string())
                && f.get("concrete_type").map(String::as_str) == Some(concrete_type)
        })
        .unwrap_or_else(|| panic!("a {concrete_type} resource span at line {line}"));
    (id, fields["kind"].clone())
}

#[test]
fn oneshots_are_sync_resources_with_their_state() {
    let seen = seen().clone();
    let rt = Builder::new_current_thread().build().unwrap();
    #[rustfmt::skip]
    let (sent, dropped, closed) = rt.block_on(async {
        // Received by a task that waited for it (a pending poll first).
        let ((tx, rx), sent) = (zokio::sync::oneshot::channel::<u32>(), line!());
        let receiver = zokio::spawn(rx);
        zokio::task::yield_now().await;
        tx.send(7).unwrap();
        assert_eq!(receiver.await.unwrap(), Ok(7));
        // Both halves dropped unused.
        let ((tx, rx), dropped) = (zokio::sync::oneshot::channel::<u32>(), line!());
        drop(tx);
        drop(rx);
        // The sender waits in `closed` until the receiver goes.
        let ((mut tx, rx), closed) = (zokio::sync::oneshot::channel::<u32>(), line!());
        let dropper = zokio::spawn(async move {
            zokio::task::yield_now().await;
            drop(rx);
        });
        tx.closed().await;
        dropper.await.unwrap();
        (sent, dropped, closed)
    });
    let seen = seen.lock().unwrap();
    let created = [
        "tx_dropped.op=override tx_dropped=false",
        "rx_dropped.op=override rx_dropped=false",
        "value_sent.op=override value_sent=false",
        "value_received.op=override value_received=false",
    ];
    let updates = |line| {
        let (id, kind) = resource_at(&seen, line, "Sender|Receiver");
        assert_eq!(kind, "Sync");
        let all = events_in(&seen, id, "runtime::resource::state_update");
        assert_eq!(all[..4], created, "{all:?}");
        (id, all[4..].to_vec())
    };

    let (id, after) = updates(sent);
    assert_eq!(
        after,
        [
            "value_sent.op=override value_sent=true",
            "value_received.op=override value_received=true"
        ]
    );
    assert_eq!(
        events_in(&seen, id, "runtime::resource::poll_op"),
        [
            "is_ready=false op_name=poll_recv",
            "is_ready=true op_name=poll_recv"
        ]
    );

    let (_, after) = updates(dropped);
    assert_eq!(
        after,
        [
            "tx_dropped.op=override tx_dropped=true",
            "rx_dropped.op=override rx_dropped=true"
        ]
    );

    let (id, after) = updates(closed);
    assert_eq!(
        after,
        [
            "rx_dropped.op=override rx_dropped=true",
            "tx_dropped.op=override tx_dropped=true"
        ]
    );
    let polls = events_in(&seen, id, "runtime::resource::poll_op");
    assert_eq!(
        polls.first().map(String::as_str),
        Some("is_ready=false op_name=poll_closed")
    );
    assert_eq!(
        polls.last().map(String::as_str),
        Some("is_ready=true op_name=poll_closed")
    );
}

#[test]
fn barriers_are_sync_resources_with_their_arrivals() {
    let seen = seen().clone();
    let rt = Builder::new_current_thread().build().unwrap();
    #[rustfmt::skip]
    let line = rt.block_on(async {
        let (barrier, line) = (std::sync::Arc::new(zokio::sync::Barrier::new(2)), line!());
        // The first to arrive waits (a pending poll); the second leads.
        let first = zokio::spawn({
            let barrier = barrier.clone();
            async move { barrier.wait().await.is_leader() }
        });
        zokio::task::yield_now().await;
        assert!(barrier.wait().await.is_leader());
        assert!(!first.await.unwrap());
        line
    });
    let seen = seen.lock().unwrap();
    let (id, kind) = resource_at(&seen, line, "Barrier");
    assert_eq!(kind, "Sync");
    assert_eq!(
        events_in(&seen, id, "runtime::resource::state_update"),
        [
            "size.op=override size=2",
            "arrived.op=override arrived=0",
            "arrived.op=add arrived=1",
            "arrived.op=add arrived=1",
            "arrived.op=override arrived=0",
        ]
    );
    assert_eq!(
        events_in(&seen, id, "runtime::resource::async_op::state_update"),
        ["arrived=true", "arrived=true", "is_leader=true"]
    );
    assert_eq!(
        events_in(&seen, id, "runtime::resource::poll_op"),
        [
            "is_ready=false op_name=poll",
            "is_ready=true op_name=poll",
            "is_ready=true op_name=poll"
        ]
    );
}

#[test]
fn intervals_are_timer_resources_whose_ticks_are_async_ops() {
    let seen = seen().clone();
    let rt = Builder::new_current_thread().enable_time().build().unwrap();
    #[rustfmt::skip]
    let line = rt.block_on(async {
        let (mut interval, line) = (zokio::time::interval(std::time::Duration::from_millis(1)), line!());
        interval.tick().await;
        interval.tick().await;
        line
    });
    let seen = seen.lock().unwrap();
    let (id, kind) = resource_at(&seen, line, "Interval");
    assert_eq!(kind, "timer");
    let ticks = events_in(&seen, id, "runtime::resource::poll_op");
    // The first tick is due at once; the second may or may not wait.
    assert_eq!(
        ticks.first().map(String::as_str),
        Some("is_ready=true op_name=poll_tick")
    );
    assert_eq!(
        ticks.last().map(String::as_str),
        Some("is_ready=true op_name=poll_tick")
    );
    assert!(
        ticks.iter().all(|t| t.ends_with("op_name=poll_tick")),
        "{ticks:?}"
    );
    // Its sleep is a timer resource of its own, created at the same call.
    let (_, kind) = resource_at(&seen, line, "Sleep");
    assert_eq!(kind, "timer");
}
