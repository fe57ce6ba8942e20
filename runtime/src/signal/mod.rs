//! Asynchronous signal handling, Tokio's API: [`ctrl_c`] and [`unix::signal`].
//!
//! A self-pipe on the runtime's own I/O driver. The first listener of a signal installs a
//! process-wide handler for it (through `signal-hook-registry`, which chains to any handler
//! installed before). The handler does only async-signal-safe work: it marks the signal
//! pending and writes one byte into a non-blocking Unix socket pair shared by every signal
//! (a full socket is left full: it is readable either way). Each [`unix::Signal`] registers
//! a duplicate of the pair's read end with the I/O driver (epoll or io_uring). Whichever
//! listener sees the pair readable first drains it and then delivers every pending
//! signal to all of that signal's listeners (a generation count per signal and their
//! wakers), so a listener whose own readiness event the drain raced away is still woken.
//! The handler marks a signal pending before it writes its byte, and a drainer reads before
//! it looks at the pending marks, so no signal is left undelivered.
//!
//! As with Tokio:
//! - Deliveries coalesce: a listener that has not received since several signals arrived
//!   receives once.
//! - Once installed, the handler stays for the rest of the process, and the signal's
//!   default action (terminating on `SIGINT`, say) no longer happens: the program decides
//!   what a signal means, even after every listener is gone.
//! - `SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE` and `SIGSEGV` cannot be listened for.

pub mod unix;

use std::io;

/// Completes at the next `SIGINT` (Ctrl-C in a terminal) after the call starts waiting.
///
/// The first call installs the handler (see the module docs): from then on a `SIGINT`
/// no longer terminates the process.
///
/// # Errors
/// Outside a zokio runtime; if the handler cannot be installed or the runtime shuts down
/// while waiting.
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    match interrupt.recv().await {
        Some(()) => Ok(()),
        None => Err(crate::runtime::shutdown_error()),
    }
}
