//! I/O through each runtime's driver and file API (127.0.0.1 and temporary files).

use super::MULTI;
use crate::measure::Timed;
use crate::rt::Zokio;
use crate::rt::{Cap, RingOptions, Runtime};
use crate::strategy::{self, Flavor, HistogramBody, RateBody};
use crate::suite::Series;
use crate::suite::{Ctx, Figure, Outcome, Param::*, Point, Workload};

/// Connections and round trips per sample in the TCP echo workloads.
pub const ECHO_CONNECTIONS: usize = 64;
/// Round trips per connection per sample in `net.tcp_echo`.
pub const ECHO_ROUNDS: usize = 200;
/// Round trips per round in `latency.tcp_echo`.
pub const ECHO_LATENCY_PER_ROUND: usize = 3_200;
/// Bytes per message in `latency.tcp_echo_contended`.
pub const CONTENDED_BYTES: usize = 4096;
/// Reads per sample, concurrent tasks and read size in `sched.io_ops`.
pub const IO_READS: usize = 20_000;
/// Tasks issuing reads in `sched.io_ops`.
pub const IO_TASKS: usize = 16;
/// Bytes per read in `sched.io_ops`.
pub const IO_READ_BYTES: usize = 4096;

fn io_ops_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{io_ops, TempFile};
    #[derive(Clone)]
    struct IoOps(std::sync::Arc<TempFile>);
    impl RateBody for IoOps {
        const SPLIT: bool = true;
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            let (tasks, reads) = tasks_share(ctx, IO_TASKS, IO_READS);
            io_ops(rt, &self.0, tasks, reads, IO_READ_BYTES).into()
        }
    }
    let body = IoOps(std::sync::Arc::new(TempFile::new(IO_READ_BYTES)));
    strategy::rates(ctx, Flavor::MultiThread(ctx.cfg.workers), &body).map(Outcome::one)
}

/// Files of `fs.read_64k`, and files read per sample.
pub const FILE_COUNT: usize = 64;
/// Bytes per file in `fs.read_64k`.
pub const FILE_BYTES: usize = 64 * 1024;
/// Files read per sample in `fs.read_64k`.
pub const FILE_READS: usize = 4_096;

fn file_read_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{whole_file_reads, TempFiles};
    #[derive(Clone)]
    struct Reads(std::sync::Arc<TempFiles>, usize);
    impl RateBody for Reads {
        const SPLIT: bool = true;
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            match tasks_share(ctx, self.1, FILE_READS) {
                (0, _) => 0.into(),
                (tasks, reads) => whole_file_reads(rt, &self.0, tasks, reads).into(),
            }
        }
    }
    let files = std::sync::Arc::new(TempFiles::new(FILE_COUNT, FILE_BYTES));
    let points = strategy::sweep(ctx, "tasks", &[1usize, 16], |tasks| {
        Reads(files.clone(), tasks)
    })?;
    Ok(Outcome { points })
}

/// Files written per sample in `fs.write_64k` (32 MiB).
pub const FILE_WRITES: usize = 512;

fn file_write_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{whole_file_writes, WriteDirs};
    #[derive(Clone)]
    struct Writes(std::sync::Arc<WriteDirs>, usize);
    impl RateBody for Writes {
        const SPLIT: bool = true;
        fn prepare(&self, ctx: &Ctx) {
            self.0.prepare(ctx.share.index);
        }
        fn run<R: Runtime>(&self, rt: &R, ctx: &Ctx) -> Timed {
            match tasks_share(ctx, self.1, FILE_WRITES) {
                (0, _) => 0.into(),
                (tasks, writes) => {
                    let shard = ctx.share.index;
                    whole_file_writes(rt, &self.0.dir(), shard, tasks, writes, FILE_BYTES)
                }
            }
        }
    }
    let dirs = std::sync::Arc::new(WriteDirs::new());
    let mut points = strategy::sweep(ctx, "tasks", &[1usize, 16], |tasks| {
        Writes(dirs.clone(), tasks)
    })?;
    let fs = dirs.file_system();
    for p in &mut points {
        p.params.push(("file_system", fs.clone().into()));
    }
    Ok(Outcome { points })
}

/// This call's tasks of `tasks` and its part of `total` operations, each task doing
/// `total / tasks` as when the work is not divided (a thread-per-core shard's part).
fn tasks_share(ctx: &Ctx, tasks: usize, total: usize) -> (usize, usize) {
    let mine = ctx.share(tasks);
    (mine, total / tasks * mine)
}

/// Submissions timed per sample in `latency.io_submission`.
pub const IO_SUBMISSIONS: usize = 1_000;

/// The baseline name of a point measured on zokio only (`zsync.batch`).
pub const NO_BASELINE: &str = "none";

fn batch_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    crate::measure::wall_clock_only(
        "its figure is submissions per io_uring_enter, itself a count, not a cost per operation",
    )?;
    use crate::workloads::io::{zokio_batch, TempFile};
    if !ctx.runs(Zokio::NAME) {
        return Ok(Outcome::default());
    }
    let file = TempFile::new(IO_READ_BYTES);
    let z = Zokio::multi_thread(ctx.cfg.workers);
    let Ok(()) = ctx.cfg.warmup.run(|| {
        zokio_batch(&z, &file, IO_TASKS, IO_READS, IO_READ_BYTES);
        Ok::<(), std::convert::Infallible>(())
    });
    let Some(samples) = (0..ctx.cfg.rounds)
        .map(|_| zokio_batch(&z, &file, IO_TASKS, IO_READS, IO_READ_BYTES))
        .collect::<Option<Vec<f64>>>()
    else {
        // epoll has no submission queue: nothing to measure (the audit says "not run").
        eprintln!("zsync.batch: skipped, zokio runs the epoll driver here");
        return Ok(Outcome::default());
    };
    Ok(Outcome {
        points: vec![Point {
            series: vec![Series::new(Zokio::NAME, samples)],
            baseline: Some(NO_BASELINE),
            ..Point::default()
        }],
    })
}

/// `latency.tcp_echo`: one point per message size.
fn echo_latency_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{tcp_echo_latency, ECHO_SIZES};
    struct Body(usize);
    impl HistogramBody for Body {
        fn run<R: Runtime>(&self, rt: &R, n: usize) -> hdrhistogram::Histogram<u64> {
            tcp_echo_latency(rt, ECHO_CONNECTIONS, self.0, n)
        }
    }
    let mut points = Vec::new();
    for bytes in ECHO_SIZES {
        let mut p = strategy::histograms(ctx, ECHO_LATENCY_PER_ROUND, &Body(bytes))?;
        p.params = vec![("bytes", bytes.into())];
        points.push(p);
    }
    Ok(Outcome { points })
}

/// `latency.tcp_echo_contended`: 4 KiB echoes while a spinning thread takes a core.
fn echo_contended_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    use crate::workloads::io::{tcp_echo_latency, with_spinning_thread};
    struct Body;
    impl HistogramBody for Body {
        fn run<R: Runtime>(&self, rt: &R, n: usize) -> hdrhistogram::Histogram<u64> {
            with_spinning_thread(|| tcp_echo_latency(rt, ECHO_CONNECTIONS, CONTENDED_BYTES, n))
        }
    }
    let mut p = strategy::histograms(ctx, ECHO_LATENCY_PER_ROUND, &Body)?;
    p.params = vec![("bytes", CONTENDED_BYTES.into())];
    Ok(Outcome { points: vec![p] })
}

/// `net.tcp_echo`: one point per message size.
fn echo_outcome(ctx: &Ctx) -> Result<Outcome, String> {
    let sweep = sweep_rate!(split ctx, bytes: usize = crate::workloads::io::ECHO_SIZES, |rt, b| crate::workloads::io::tcp_echo(rt, ctx.share(ECHO_CONNECTIONS), b, ECHO_ROUNDS));
    sweep(ctx)
}

/// The ring set-ups the `io_uring.*` workloads compare: each runtime's own, SQPOLL with a
/// 10 ms idle time, and 1,024 submission entries.
pub const RING_SETUPS: [(&str, RingOptions); 3] = [
    (
        "default",
        RingOptions {
            sq_entries: None,
            sqpoll_idle_ms: None,
        },
    ),
    (
        "sqpoll_10ms",
        RingOptions {
            sq_entries: None,
            sqpoll_idle_ms: Some(10),
        },
    ),
    (
        "sq_1024",
        RingOptions {
            sq_entries: Some(1024),
            sqpoll_idle_ms: None,
        },
    ),
];

/// Runs `outcome` once per ring set-up of [`RING_SETUPS`] (a `ring` parameter on each of
/// its points), on the runtimes with io_uring rings. zokio is left out when it runs its
/// epoll driver in this run (no ring to set up). Ratios are taken against the run's
/// baseline when it has rings (`--baseline zokio`); Tokio and smol have none.
fn ring_sweep(ctx: &Ctx, outcome: fn(&Ctx) -> Result<Outcome, String>) -> Result<Outcome, String> {
    crate::measure::wall_clock_only(
        "SQPOLL moves submission work to a kernel thread, which user-space counts miss",
    )?;
    let mut ctx = ctx.clone();
    if ctx.runs(Zokio::NAME) {
        let probe = zokio::runtime::Builder::new_current_thread()
            .io_driver(ctx.options.zokio_driver)
            .build()
            .map_err(|e| format!("build zokio runtime: {e}"))?;
        if probe.metrics().io_driver() != zokio::runtime::IoDriver::IoUring {
            eprintln!("zbench: io_uring.*: zokio left out, it runs its epoll driver in this run");
            ctx.runtimes.retain(|&r| r != Zokio::NAME);
        }
    }
    let mut points = Vec::new();
    for (label, ring) in RING_SETUPS {
        ctx.options.ring = ring;
        for mut point in outcome(&ctx)?.points {
            point.params.insert(0, ("ring", label.into()));
            points.push(point);
        }
    }
    Ok(Outcome { points })
}

/// The `io_uring.*` workloads' description of the set-ups (a parameter of each).
const RING_SETUP_TEXT: &str = "ring set-ups: each runtime's own default (zokio SQ 128/CQ 512, monoio and compio SQ 1,024), SQPOLL with a 10 ms idle time (zokio: one polling thread shared by its workers' rings), SQ 1,024 (zokio CQ 4,096); zokio on io_uring only; ratios against the run's baseline where it has rings (--baseline zokio)";

/// I/O through each runtime's driver and file API (127.0.0.1 and a temporary file).
pub(super) fn io() -> Vec<Workload> {
    vec![
        Workload {
            name: "net.tcp_echo",
            unit: "round trips/s",
            params: &[("connections", N(ECHO_CONNECTIONS)), ("bytes", T("64,4096")), ("read_buffer", N(crate::workloads::io::ECHO_READ_BUFFER)), ("round_trips_per_connection", N(ECHO_ROUNDS)), ("peers", T("same runtime"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "64 client tasks each echo requests of 64 B, then 4 KiB, through server tasks (one per connection, reading into a 64 KiB buffer) on 127.0.0.1, one request in flight per connection; both ends on the runtime under test",
            run: echo_outcome,
        },
        Workload {
            name: "latency.tcp_echo",
            unit: "ns",
            params: &[("connections", N(ECHO_CONNECTIONS)), ("bytes", T("64,4096")), ("read_buffer", N(crate::workloads::io::ECHO_READ_BUFFER)), ("round_trips_per_round", N(ECHO_LATENCY_PER_ROUND)), ("peers", T("same runtime")), ("warm_up", T("1 exchange per connection, not recorded"))],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "round-trip time of 64 B, then 4 KiB, echoes over 64 connections on 127.0.0.1; samples are per-round p50s, percentiles over all round trips",
            run: echo_latency_outcome,
        },
        Workload {
            name: "latency.tcp_echo_contended",
            unit: "ns",
            params: &[("connections", N(ECHO_CONNECTIONS)), ("bytes", N(CONTENDED_BYTES)), ("read_buffer", N(crate::workloads::io::ECHO_READ_BUFFER)), ("round_trips_per_round", N(ECHO_LATENCY_PER_ROUND)), ("peers", T("same runtime")), ("competing_threads", T("1, spinning, outside the runtime")), ("warm_up", T("1 exchange per connection, not recorded"))],
            claims: &[],
            figure: Figure::LowerIsBetter,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp],
            description: "latency.tcp_echo with 4 KiB messages while a thread of the same process spins on a CPU for the whole round: with 2 workers on 2 cores, the kernel deschedules a worker for a time slice (a few ms) now and then, and the tail shows what the runtime does meanwhile with the work and the sockets that worker holds; a thread-per-core runtime runs on one thread beside the spinner",
            run: echo_contended_outcome,
        },
        Workload {
            name: "sched.io_ops",
            unit: "ops/s",
            params: &[("tasks", N(IO_TASKS)), ("iterations", N(IO_READS)), ("bytes", N(IO_READ_BYTES)), ("operation", T("no-op + file read_at"))],
            claims: &["sched.io_ops"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files, Cap::IoNop],
            description: "16 tasks each alternate a no-op through the I/O driver and a 4 KiB read at offset 0 of a temporary file; ops = no-ops + reads. zokio on io_uring: IORING_OP_NOP and IORING_OP_READ on the worker's ring; on epoll and on Tokio: blocking-pool round trips (an empty closure, a pread)",
            run: io_ops_outcome,
        },
        Workload {
            name: "fs.read_64k",
            unit: "files/s",
            params: &[("files", N(FILE_COUNT)), ("bytes", N(FILE_BYTES)), ("reads", N(FILE_READS)), ("operation", T("open + read_at to end + close"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files],
            description: "1 task, then 16 tasks, read whole 64 KiB files (page cache warm) through the runtime's file API: open, read_at until end of file, close; every file checked. zokio on io_uring: OPENAT/READ on the ring; on epoll and on Tokio: the blocking pool",
            run: file_read_outcome,
        },
        Workload {
            name: "fs.write_64k",
            unit: "files/s",
            params: &[("bytes", N(FILE_BYTES)), ("writes", N(FILE_WRITES)), ("operation", T("create + write + close from an owned buffer (fs::write; zokio: File::create + write_all_at)")), ("directory", T("/dev/shm (tmpfs) if it has 256 MiB free, else TMPDIR; ZBENCH_WRITE_DIR overrides")), ("page_cache", T("new names in one directory; previous files truncated and moved out, then syncfs(2)"))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files],
            description: "1 task, then 16 tasks, write new 64 KiB files into one directory (on tmpfs when /dev/shm has room: the page cache is the file, no write-back or disk allocator; the file_system param says which) through each runtime's whole-file write from an owned buffer (monoio, compio: fs::write; zokio: File::create + write_all_at, no copy; Tokio, smol: fs::write, which copies) (create, write, close), only the writes timed; before every sample the previous sample's files are truncated and moved out (never deleted: journal-less ext4 slows every create after a deletion for a minute) and the file system flushed (syncfs), so each starts with no dirty pages or write-back pending; every file checked afterwards. zokio on io_uring, monoio and compio: OPENAT/WRITE on their rings (the kernel runs the creating OPENAT on its io-wq threads); on epoll, Tokio and smol: the blocking pool",
            run: file_write_outcome,
        },
        Workload {
            name: "io_uring.tcp_echo",
            unit: "round trips/s",
            params: &[("ring", T("default,sqpoll_10ms,sq_1024")), ("ring_setups", T(RING_SETUP_TEXT)), ("connections", N(ECHO_CONNECTIONS)), ("bytes", T("64,4096")), ("round_trips_per_connection", N(ECHO_ROUNDS))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Tcp, Cap::RingSetup],
            description: "net.tcp_echo under each io_uring ring set-up; 2 workers and the kernel's SQPOLL thread share the machine's cores",
            run: |ctx| ring_sweep(ctx, echo_outcome),
        },
        Workload {
            name: "io_uring.io_ops",
            unit: "ops/s",
            params: &[("ring", T("default,sqpoll_10ms,sq_1024")), ("ring_setups", T(RING_SETUP_TEXT)), ("tasks", N(IO_TASKS)), ("iterations", N(IO_READS)), ("bytes", N(IO_READ_BYTES))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files, Cap::IoNop, Cap::RingSetup],
            description: "sched.io_ops under each io_uring ring set-up",
            run: |ctx| ring_sweep(ctx, io_ops_outcome),
        },
        Workload {
            name: "io_uring.read_64k",
            unit: "files/s",
            params: &[("ring", T("default,sqpoll_10ms,sq_1024")), ("ring_setups", T(RING_SETUP_TEXT)), ("files", N(FILE_COUNT)), ("bytes", N(FILE_BYTES)), ("reads", N(FILE_READS))],
            claims: &[],
            figure: Figure::Rate,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files, Cap::RingSetup],
            description: "fs.read_64k under each io_uring ring set-up",
            run: |ctx| ring_sweep(ctx, file_read_outcome),
        },
        Workload {
            name: "latency.io_submission",
            unit: "ns",
            params: &[("submissions", N(IO_SUBMISSIONS)), ("operation", T("no-op, first poll only"))],
            claims: &["latency.io_submission"],
            figure: Figure::NanosPerOp,
            multi_thread: true,
            needs: &[Cap::MultiThread, Cap::Files, Cap::IoNop],
            description: "time to submit one no-op to the I/O driver, not its completion: 1,000 no-op futures polled once each inside a task, only that loop timed. zokio on io_uring: an SQE pushed on the worker's ring; on epoll and on Tokio: a closure handed to the blocking pool",
            run: multi_rate!(|rt| crate::workloads::io::io_submission(rt, IO_SUBMISSIONS)),
        },
        Workload {
            name: "zsync.batch",
            unit: "ops/syscall",
            params: &[("tasks", N(IO_TASKS)), ("iterations", N(IO_READS)), ("load", T("sched.io_ops loop")), ("baseline", T("none: Tokio has no submission queue"))],
            claims: &["zsync.batch"],
            figure: Figure::Rate,
            multi_thread: true,
            needs: MULTI,
            description: "zokio on io_uring only: SQEs per submitting io_uring_enter while 16 tasks run the sched.io_ops loop, from the runtime's metrics (io_submitted_entries / io_submit_calls)",
            run: batch_outcome,
        },
    ]
}
