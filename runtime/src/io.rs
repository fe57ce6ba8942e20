//! Driver-level I/O helpers.
//!
//! [`nop`] measures the submission and completion path of the runtime's I/O driver with no
//! I/O in it (zbench's `sched.io_ops`, `latency.io_submission` and `zsync.batch`).

use std::io;

/// One no-op through the I/O driver's submission and completion path.
///
/// On io_uring: an `IORING_OP_NOP` submitted on the calling worker's ring (batched with
/// its other SQEs), completed through the CQ. On epoll, which has no submission queue,
/// the equivalent path of a file operation: an empty closure round trip through the
/// blocking pool, as `fs` takes there (and as Tokio's `fs` always does).
///
/// # Errors
/// Outside a zokio runtime, or after it shut down (`Other`); a failed submission.
pub async fn nop() -> io::Result<()> {
    if let Some(ring) = crate::driver::io::current_ring() {
        // SAFETY: a NOP carries no pointers and no fd.
        let op = unsafe {
            crate::driver::io::Op::submit(ring, (), crate::driver::io::OnCancel::Nothing, |_| {
                io_uring::opcode::Nop::new().build()
            })
        };
        let (res, ()) = op.map_err(|(e, ())| e)?.await;
        return if res < 0 {
            Err(io::Error::from_raw_os_error(-res))
        } else {
            Ok(())
        };
    }
    crate::runtime::context::with_handle(|_| ())
        .map_err(|_| io::Error::other("zokio I/O must be used inside a zokio runtime"))?;
    crate::task::spawn_blocking(|| ())
        .await
        .map_err(|e| io::Error::other(format!("no-op did not run: {e}")))
}
