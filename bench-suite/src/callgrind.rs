//! Instruction counts from Valgrind's Callgrind, for `zbench --measure instructions`.
//!
//! The process measured runs under
//! `valgrind --tool=callgrind --zero-before=zbench_phase_begin --dump-before=zbench_phase_end`
//! ([`valgrind_command`]). Callgrind calls its options on entry to the two marker
//! functions below: entering [`zbench_phase_begin`] zeroes every cost counted so far, on
//! every thread; entering [`zbench_phase_end`] writes everything counted since, on every
//! thread, as the next numbered dump file, `BASE.1`, `BASE.2`, ... (`BASE` is the
//! `--callgrind-out-file`, passed to the process in [`OUT_ENV`]). The dump is complete
//! when `zbench_phase_end` returns, so the process reads its own count back at once
//! ([`Phase::end`]).
//!
//! Callgrind's options rather than client requests: every Rust binding of Valgrind's
//! client requests needs Valgrind's C headers (some also libclang) when zbench is built,
//! which a machine without Valgrind lacks, and zbench must build and run its wall-clock
//! figures there. The markers need nothing at build time. Instrumentation stays on for the
//! whole process (slower than switching it on around the phase, not less exact): only
//! the costs between the markers are counted.
//!
//! A thread inside [`zbench_uncounted`] is not counted (`--toggle-collect`, which Callgrind
//! keeps per thread): a load generator sharing the process with the server it measures
//! runs its threads there, so the count is the server's alone ([`crate::measure::uncounted`]).
//!
//! Callgrind runs one thread at a time (`--fair-sched=yes` hands the CPU round-robin), so
//! a multi-thread runtime's workers run interleaved on one core: its count includes what
//! the workers do under that schedule (spinning, stealing, parking), which varies from run
//! to run where a current-thread runtime's does not.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The environment variable that gives the measured process its `--callgrind-out-file`.
pub const OUT_ENV: &str = "ZBENCH_CALLGRIND_OUT";

/// The marker whose entry zeroes Callgrind's costs.
pub const BEGIN_SYMBOL: &str = "zbench_phase_begin";
/// The marker whose entry dumps Callgrind's costs.
pub const END_SYMBOL: &str = "zbench_phase_end";

/// Written by the markers so that they are never optimised away or merged.
static MARKS: AtomicU64 = AtomicU64::new(0);
/// Dumps written so far in this process (the number of the last one).
static DUMPS: AtomicUsize = AtomicUsize::new(0);

/// Entry zeroes Callgrind's costs (`--zero-before`). Does nothing else.
#[no_mangle]
#[inline(never)]
pub extern "C" fn zbench_phase_begin() {
    MARKS.fetch_add(1, Relaxed);
}

/// Entry dumps Callgrind's costs (`--dump-before`). Does nothing else.
#[no_mangle]
#[inline(never)]
pub extern "C" fn zbench_phase_end() {
    MARKS.fetch_add(1 << 32, Relaxed);
}

/// The function inside which a thread's instructions are not counted.
pub const UNCOUNTED_SYMBOL: &str = "zbench_uncounted";

/// Runs `f`; Callgrind stops counting this thread on entry and starts again on return
/// (`--toggle-collect`). Use [`crate::measure::uncounted`], which also leaves the thread's
/// allocations uncounted.
#[no_mangle]
#[inline(never)]
pub fn zbench_uncounted(f: &mut dyn FnMut()) {
    f();
    // Not a tail call: Callgrind sees the return, and the function is never merged.
    MARKS.fetch_add(1 << 16, Relaxed);
}

/// What the phases measured from now on are, for the dump index.
static LABEL: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Names the phases measured from now on (`zokio measure`, say) in the dump index: each
/// dump's number, label and count go on a line of `BASE.index`, so that a reader finds the
/// dump of a runtime's round to open with `zbench functions`.
pub fn set_label(label: &str) {
    let mut l = LABEL.lock().unwrap_or_else(|e| e.into_inner());
    l.clear();
    l.push_str(label);
}

/// A measured phase in a process running under [`valgrind_command`].
#[derive(Debug)]
pub struct Phase(());

impl Phase {
    /// Starts counting: Callgrind's costs are zeroed.
    pub fn begin() -> Phase {
        zbench_phase_begin();
        Phase(())
    }

    /// Stops counting and reads back the instructions counted since [`begin`](Self::begin)
    /// on every thread.
    ///
    /// # Panics
    /// If the dump cannot be read: the process is not running under
    /// [`valgrind_command`], or [`OUT_ENV`] names another file. A counted run without its
    /// counts cannot go on; the parent reports the child's failure with this message.
    pub fn end(self) -> u64 {
        zbench_phase_end();
        let n = DUMPS.fetch_add(1, Relaxed) + 1;
        let base = std::env::var_os(OUT_ENV).unwrap_or_default();
        let path = dump_path(Path::new(&base), n);
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| instructions(&text))
        {
            Ok(count) => {
                let label = LABEL.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let mut index = base.clone();
                index.push(".index");
                let line = format!("{n}\t{label}\t{count}\n");
                // The index is for readers; a count without its line is still a count.
                let _ = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(index)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
                count
            }
            Err(e) => panic!(
                "no Callgrind count in {} ({e}): is this process running under `zbench --measure instructions`?",
                path.display()
            ),
        }
    }
}

/// Dumps this process has written so far: a phase that sees this move while it runs had a
/// phase inside it, which took the count ([`crate::measure::Meter`]).
pub fn dumps() -> usize {
    DUMPS.load(Relaxed)
}

/// The file of dump `n` (from 1) of a run whose `--callgrind-out-file` is `base`.
pub fn dump_path(base: &Path, n: usize) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Which column of a Callgrind dump's cost lines (after the position) holds `Ir`.
///
/// # Errors
/// The text has no `events:` line naming `Ir`.
fn ir_column(text: &str) -> Result<usize, String> {
    let events = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))
        .ok_or("no `events:` line: not a Callgrind dump")?;
    events
        .split_whitespace()
        .position(|e| e == "Ir")
        .ok_or_else(|| format!("no Ir among the events ({})", events.trim()))
}

/// The instructions (`Ir`) of one Callgrind dump: its `summary:` line (the part's total),
/// or its `totals:` line in a file without one.
///
/// # Errors
/// The text has no `events:` line naming `Ir`, or no total.
pub fn instructions(text: &str) -> Result<u64, String> {
    let column = ir_column(text)?;
    let total = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| {
                rest.split_whitespace()
                    .nth(column)
                    .unwrap_or("0")
                    .to_owned()
            })
    };
    let value = total("summary:")
        .or_else(|| total("totals:"))
        .ok_or("no `summary:` or `totals:` line: the dump is incomplete")?;
    value
        .parse()
        .map_err(|_| format!("the total {value:?} is not a count"))
}

/// Every function's own instructions (`Ir`, not counting the functions it calls) in one
/// Callgrind dump, largest first. Reads the format Callgrind writes: `fn=` starts a
/// function's cost lines (`fn=(id) name` or `cfn=(id) name` defines a compressed name,
/// `fn=(id)` reuses it); the cost line after a `calls=` line is that call's inclusive cost
/// and is skipped.
///
/// # Errors
/// No `events:` line naming `Ir`.
pub fn self_costs(text: &str) -> Result<Vec<(String, u64)>, String> {
    let column = ir_column(text)?;
    let mut names: std::collections::HashMap<String, String> = Default::default();
    let mut costs: std::collections::HashMap<String, u64> = Default::default();
    let mut current: Option<String> = None;
    let mut after_call = false;
    // `fn=` and `cfn=` share one table of compressed names.
    let mut name_of = |rest: &str| {
        let rest = rest.trim();
        match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((id, "")) => names.get(id).cloned().unwrap_or_else(|| format!("({id})")),
            Some((id, name)) => {
                names.insert(id.to_owned(), name.trim().to_owned());
                name.trim().to_owned()
            }
            None => rest.to_owned(),
        }
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("fn=") {
            current = Some(name_of(rest));
            after_call = false;
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            name_of(rest);
        } else if line.starts_with("calls=") {
            after_call = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            if std::mem::take(&mut after_call) {
                continue;
            }
            let Some(f) = &current else { continue };
            // A position (or several, with --dump-instr), then the events in order.
            let mut fields = line.split_whitespace();
            let _position = fields.next();
            if let Some(v) = fields.nth(column).and_then(|v| v.parse::<u64>().ok()) {
                *costs.entry(f.clone()).or_default() += v;
            }
        }
    }
    let mut costs: Vec<(String, u64)> = costs.into_iter().collect();
    costs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(costs)
}

/// The Valgrind command line that runs `exe args...` with instructions counted between
/// the markers, the dumps written to `out` (the caller sets [`OUT_ENV`] to `out` as well).
pub fn valgrind_command(out: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg("--quiet")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--zero-before={BEGIN_SYMBOL}"))
        .arg(format!("--dump-before={END_SYMBOL}"))
        // `--toggle-collect` also turns collection off at the start; `--collect-atstart`
        // after it turns it back on, so only what runs inside the function is left out.
        .arg(format!("--toggle-collect={UNCOUNTED_SYMBOL}"))
        .arg("--collect-atstart=yes")
        // Costs per function and line are enough; per-instruction dumps are large.
        .arg("--dump-instr=no")
        // Every dump names its functions itself, so that each opens on its own.
        .arg("--compress-strings=no")
        .arg("--fair-sched=yes")
        // Blocking pools grow to hundreds of threads when every operation runs tens of
        // times slower (Tokio's allows 512); Valgrind's default limit is 500.
        .arg("--max-threads=2000")
        .env(OUT_ENV, out);
    cmd
}

/// What the probe child runs ([`io_uring_under_callgrind`]): a one-worker zokio runtime on
/// the io_uring driver reads from a socket, so its worker waits in `io_uring_enter` for the
/// completion, and this thread writes the byte it waits for 50 ms later. Where Valgrind
/// keeps its thread lock across a blocking `io_uring_enter` (3.19 does), this thread does
/// not run until the worker's wait times out, if ever, and the probe hangs.
///
/// # Errors
/// The runtime cannot be built (no io_uring here), or the read failed.
pub fn io_uring_probe() -> Result<(), String> {
    use std::io::Write;
    use zokio::io::AsyncReadExt;
    let rt = zokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .io_driver(zokio::runtime::IoDriver::IoUring)
        .build()
        .map_err(|e| e.to_string())?;
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
    theirs.set_nonblocking(true).map_err(|e| e.to_string())?;
    let read = rt.spawn(async move {
        let mut s = zokio::net::UnixStream::from_std(theirs)?;
        let mut byte = [0u8; 1];
        s.read_exact(&mut byte).await.map(|_| byte[0])
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    (&ours).write_all(&[7]).map_err(|e| e.to_string())?;
    match rt.block_on(read) {
        Ok(Ok(7)) => Ok(()),
        other => Err(format!("the probe read gave {other:?}")),
    }
}

/// Whether a thread blocked in `io_uring_enter` lets the others run under Callgrind here:
/// runs `exe __io-uring-probe` ([`io_uring_probe`]) under Valgrind, allowing it `limit`.
///
/// # Errors
/// Why not: the probe hung (killed after `limit`) or failed.
pub fn io_uring_under_callgrind(exe: &Path, limit: std::time::Duration) -> Result<(), String> {
    let mut child = std::process::Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--quiet",
            "--callgrind-out-file=/dev/null",
        ])
        .arg(exe)
        .arg("__io-uring-probe")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return Err(format!(
                    "the probe failed ({status}): {}",
                    err.lines().last().unwrap_or("").trim()
                ));
            }
            Ok(None) if start.elapsed() < limit => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "a thread waiting in io_uring_enter keeps every other thread from running (a probe whose completion needs another thread hung for {} s)",
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("cannot wait for the probe: {e}")),
        }
    }
}

/// Whether `valgrind` runs here, with its version (`valgrind-3.19.0`).
///
/// # Errors
/// A line saying Valgrind is missing (or broken) and how to install it.
pub fn valgrind_version() -> Result<String, String> {
    const INSTALL: &str = "--measure instructions needs Valgrind: install it (Debian, Ubuntu: apt-get install valgrind; Fedora: dnf install valgrind; macOS has none) and run again";
    match std::process::Command::new("valgrind")
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Ok(out) => Err(format!(
            "`valgrind --version` failed ({}); {INSTALL}",
            out.status
        )),
        Err(e) => Err(format!("valgrind not found ({e}); {INSTALL}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../tests/data/callgrind.out.sample");

    #[test]
    fn a_dump_gives_its_summary() {
        assert_eq!(instructions(SAMPLE), Ok(2_408_855));
    }

    #[test]
    fn the_ir_column_is_found_among_several_events() {
        let text = "events: Dr Ir Dw\nsummary: 5 17 9\n";
        assert_eq!(instructions(text), Ok(17));
        let text = "events: Ir\ntotals: 42\n";
        assert_eq!(instructions(text), Ok(42), "totals when no summary");
    }

    #[test]
    fn a_file_that_is_not_a_whole_dump_is_an_error() {
        assert!(instructions("").unwrap_err().contains("events"));
        assert!(instructions("events: Dr\nsummary: 3\n")
            .unwrap_err()
            .contains("no Ir"));
        let half = &SAMPLE[..SAMPLE.find("summary:").unwrap()];
        assert!(instructions(half).unwrap_err().contains("incomplete"));
        assert!(instructions("events: Ir\nsummary: lots\n")
            .unwrap_err()
            .contains("not a count"));
    }

    #[test]
    fn self_costs_add_up_to_the_dump_and_skip_inclusive_call_costs() {
        let costs = self_costs(SAMPLE).unwrap();
        let sum: u64 = costs.iter().map(|(_, c)| c).sum();
        let total = instructions(SAMPLE).unwrap();
        // Every instruction is some function's own, once: the sum is the dump's total.
        assert!(
            sum <= total && sum * 1000 >= total * 999,
            "{sum} of {total}"
        );
        assert!(costs.windows(2).all(|w| w[0].1 >= w[1].1), "largest first");
        // A compressed name and the cost after a call line.
        let text = "events: Ir\nfn=(1) outer\n3 10\ncfn=(2) inner\ncalls=1 5\n4 100\nfn=(2)\n5 100\nfn=(1)\n6 1\n";
        assert_eq!(
            self_costs(text).unwrap(),
            [("inner".to_owned(), 100), ("outer".to_owned(), 11)]
        );
    }

    #[test]
    fn dumps_are_numbered_after_the_base_name() {
        assert_eq!(
            dump_path(Path::new("/tmp/x/cg.out"), 3),
            Path::new("/tmp/x/cg.out.3")
        );
    }
}
