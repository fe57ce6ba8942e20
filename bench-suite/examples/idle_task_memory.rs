//! Resident memory per idle task, one runtime per process (so allocator reuse from one
//! runtime cannot flatter the other):
//!
//! ```text
//! cargo run --release -p zbench-suite --example idle_task_memory -- zokio 1000000
//! cargo run --release -p zbench-suite --example idle_task_memory -- tokio 1000000
//! ```

use zbench_suite::rt::{Runtime, Tokio, Zokio};
use zbench_suite::workloads::memory::idle_task_memory;

fn measure<R: Runtime>(n: usize) {
    let rt = R::multi_thread(2);
    match idle_task_memory(&rt, n) {
        Ok(m) => println!(
            "{}: {} idle tasks, resident +{} bytes, {:.1} bytes/task",
            R::NAME,
            m.tasks,
            m.resident_delta_bytes,
            m.bytes_per_task()
        ),
        Err(e) => {
            eprintln!("error: cannot read /proc/self/smaps: {e}");
            std::process::exit(1);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runtime = args.next().unwrap_or_else(|| "zokio".into());
    let n = match args.next().map(|s| s.parse::<usize>()) {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: the task count must be a positive integer");
            std::process::exit(2);
        }
    };
    match runtime.as_str() {
        "zokio" => measure::<Zokio>(n),
        "tokio" => measure::<Tokio>(n),
        other => {
            eprintln!("error: unknown runtime {other:?} (expected zokio or tokio)");
            std::process::exit(2);
        }
    }
}
