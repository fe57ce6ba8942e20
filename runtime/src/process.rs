//! Child processes, Tokio's API: [`Command`] spawns a [`Child`] whose exit is awaited
//! ([`Child::wait`]) and whose piped standard streams are Tokio's `AsyncWrite` /
//! `AsyncRead` ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]), on the runtime's own
//! I/O driver (epoll or io_uring).
//!
//! A child is spawned by `std::process::Command`. Its exit is seen through a pidfd
//! (`pidfd_open(2)`, Linux 5.3), readable once the child has exited, registered with the
//! I/O driver; where the kernel has no pidfd, through `SIGCHLD` ([`crate::signal`]), after
//! which every waiting child checks whether it was the one. The exit status is then
//! collected with `waitpid(WNOHANG)` (std's `try_wait`). The pipe ends this process keeps
//! are made non-blocking and registered as [`AsyncFd`]s.
//!
//! As with Tokio:
//! - [`Child::wait`] closes the child's stdin first, so a child reading it sees end of
//!   file instead of waiting forever.
//! - A `Child` dropped before its exit was collected is not killed (unless
//!   [`Command::kill_on_drop`]) and keeps running; its zombie, once it exits, is
//!   collected by a later [`Command::spawn`] or [`Child::wait`] in this process, where
//!   Tokio collects it on the next `SIGCHLD`.

use crate::io::unix::AsyncFd;
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::loom::{lock, Mutex};
use crate::net::unix::pipe::PipeEnd;
use crate::signal::unix::{signal, Signal, SignalKind};
use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::pin::Pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{Context, Poll};

/// A process to spawn: std's `Command` builder, with Tokio's additions
/// ([`kill_on_drop`](Self::kill_on_drop)) and asynchronous [`status`](Self::status) and
/// [`output`](Self::output).
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// A command running `program` (looked up in `PATH` unless it contains a `/`), with no
    /// arguments, this process's environment and working directory, and inherited stdio.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// The std command this one wraps.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std command this one wraps, mutably (for options this type does not repeat).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The std command, dropping the zokio options.
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets one environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables of the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes one variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (`Stdio::piped()` gives [`Child::stdin`]).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (`Stdio::piped()` gives [`Child::stdout`]).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (`Stdio::piped()` gives [`Child::stderr`]).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] before its exit was collected kills it
    /// (`SIGKILL`). Default: `false`, as std and Tokio.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Self::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// The child's user id (`setuid` before `exec`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// The child's group id (`setgid` before `exec`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// The child's `argv[0]`, instead of the program's name.
    pub fn arg0(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg0(arg);
        self
    }

    /// The child's process group (`setpgid`; 0 makes it a group of its own).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`.
    ///
    /// # Safety
    /// As std's `CommandExt::pre_exec`: `f` runs in a forked copy of this process where
    /// only async-signal-safe work is sound (no allocation, no locks).
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: forwarded to the caller.
        unsafe { self.std.pre_exec(f) };
        self
    }

    /// Spawns the child. Must be called inside a zokio runtime, whose I/O driver then
    /// watches its exit and its pipes.
    ///
    /// # Errors
    /// What std's `spawn` returns (`NotFound` for a missing program); outside a runtime
    /// (`Other`: the child is then killed and collected before returning); a failure to
    /// watch the child's exit (the same).
    pub fn spawn(&mut self) -> io::Result<Child> {
        reap_orphans();
        // Listening for SIGCHLD before the fork, where pidfds are missing, so that no
        // exit is missed.
        let fallback = if pidfd_supported() {
            None
        } else {
            Some(signal(SignalKind::child())?)
        };
        let child = self.std.spawn()?;
        Child::watch(child, fallback, self.kill_on_drop).map_err(|(mut child, e)| {
            let _ = child.kill();
            let _ = child.wait();
            e
        })
    }

    /// Spawns the child now (its stdio inherited unless set) and returns a future of its
    /// exit, which does not borrow the command (as Tokio's).
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) (from the future) and [`Child::wait`].
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + 'static {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // Piped streams nobody reads would fill and stall the child: close them.
            child.stdin.take();
            child.stdout.take();
            child.stderr.take();
            child.wait().await
        }
    }

    /// Spawns the child now with stdout and stderr piped, and returns a future that
    /// collects both and its exit; it does not borrow the command (as Tokio's).
    ///
    /// # Errors
    /// As [`spawn`](Self::spawn) (from the future) and [`Child::wait_with_output`].
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + Send + 'static {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
        }
    }
}

/// A spawned child process, from [`Command::spawn`].
#[derive(Debug)]
pub struct Child {
    /// The writing end of the child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    state: State,
    kill_on_drop: bool,
}

#[derive(Debug)]
enum State {
    Running(std::process::Child, Exit),
    Exited(ExitStatus),
}

/// How the exit of a running child is noticed.
#[derive(Debug)]
enum Exit {
    /// Readable once the child has exited.
    Pidfd(AsyncFd<OwnedFd>),
    /// Any child's exit.
    Sigchld(Signal),
}

impl Child {
    /// Takes the std child's pipes and starts watching its exit; on failure gives the
    /// child back (to be killed and collected).
    fn watch(
        mut child: std::process::Child,
        fallback: Option<Signal>,
        kill_on_drop: bool,
    ) -> Result<Child, (std::process::Child, io::Error)> {
        let exit = match fallback {
            Some(sigchld) => Ok(Exit::Sigchld(sigchld)),
            None => match pidfd_open(child.id()) {
                Ok(fd) => AsyncFd::owned(fd, crate::io::Interest::READABLE).map(Exit::Pidfd),
                // Said to be there, then refused (a seccomp filter, say): SIGCHLD. The
                // child may have exited before this listener: `wait` checks first.
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    signal(SignalKind::child()).map(Exit::Sigchld)
                }
                Err(e) => Err(e),
            },
        };
        let exit = match exit {
            Ok(exit) => exit,
            Err(e) => return Err((child, e)),
        };
        let stdin = child.stdin.take().map(ChildStdin::from_std).transpose();
        let stdout = child.stdout.take().map(ChildStdout::from_std).transpose();
        let stderr = child.stderr.take().map(ChildStderr::from_std).transpose();
        match (stdin, stdout, stderr) {
            (Ok(stdin), Ok(stdout), Ok(stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                state: State::Running(child, exit),
                kill_on_drop,
            }),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err((child, e)),
        }
    }

    /// The child's process id; `None` once its exit was collected (the id may belong to
    /// another process by then).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(child, _) => Some(child.id()),
            State::Exited(_) => None,
        }
    }

    /// Sends `SIGKILL` without waiting for the exit; nothing once the exit was collected.
    ///
    /// # Errors
    /// What `kill(2)` returns.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(child, _) => child.kill(),
            // As Tokio's: killing a child whose exit was collected does nothing.
            State::Exited(_) => Ok(()),
        }
    }

    /// Sends `SIGKILL` and waits for the exit.
    ///
    /// # Errors
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// The exit status if the child has exited (collecting it), else `None`, without
    /// waiting.
    ///
    /// # Errors
    /// What `waitpid` returns (`ECHILD` if something else collected it).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.state {
            State::Exited(status) => Ok(Some(*status)),
            State::Running(child, _) => {
                let status = child.try_wait()?;
                if let Some(status) = status {
                    self.state = State::Exited(status);
                }
                Ok(status)
            }
        }
    }

    /// Closes the child's stdin (if piped) and waits for it to exit. Cancel-safe: a
    /// dropped `wait` can be called again.
    ///
    /// # Errors
    /// What `waitpid` returns; `Other` if the runtime whose driver watches the child shut
    /// down.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        reap_orphans();
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            let State::Running(_, exit) = &mut self.state else {
                unreachable!("try_wait returned None for a running child");
            };
            let gone = match exit {
                Exit::Pidfd(fd) => match fd.readable().await {
                    // Readable means exited: the next `try_wait` collects it. Cleared so
                    // that a `waitpid` that still finds nothing (something else collected
                    // the child: it then fails with ECHILD) waits instead of spinning.
                    Ok(mut ready) => {
                        ready.clear_ready();
                        None
                    }
                    Err(e) => Some(e),
                },
                Exit::Sigchld(sigchld) => match sigchld.recv().await {
                    Some(()) => None,
                    None => Some(crate::runtime::shutdown_error()),
                },
            };
            if let Some(e) = gone {
                // The runtime that spawned the child shut down: watch it from this one.
                self.rewatch().map_err(|_| e)?;
            }
        }
    }

    /// Moves the exit watch of a running child to the current runtime's driver.
    fn rewatch(&mut self) -> io::Result<()> {
        let State::Running(_, exit) = &mut self.state else {
            return Ok(());
        };
        *exit = match exit {
            Exit::Pidfd(fd) => {
                let dup = fd.get_ref().try_clone()?;
                Exit::Pidfd(AsyncFd::owned(dup, crate::io::Interest::READABLE)?)
            }
            Exit::Sigchld(_) => Exit::Sigchld(signal(SignalKind::child())?),
        };
        Ok(())
    }

    /// Waits for the exit while reading stdout and stderr (those piped) to their end.
    ///
    /// # Errors
    /// As [`wait`](Self::wait), or a read error.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        use crate::io::AsyncReadExt;
        async fn read_all(stream: Option<impl AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
            let mut out = Vec::new();
            if let Some(mut s) = stream {
                s.read_to_end(&mut out).await?;
            }
            Ok(out)
        }
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let (status, stdout, stderr) =
            tokio::try_join!(self.wait(), read_all(stdout), read_all(stderr))?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let State::Running(child, _) = &mut self.state {
            if self.kill_on_drop {
                let _ = child.kill();
            }
            if let Ok(None) = child.try_wait() {
                let State::Running(child, _) =
                    std::mem::replace(&mut self.state, State::Exited(ExitStatus::default()))
                else {
                    unreachable!()
                };
                lock(&ORPHANS).push(child);
            }
        }
    }
}

/// Children dropped before their exit was collected.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Collects the exits of orphans that have exited.
fn reap_orphans() {
    let mut orphans = lock(&ORPHANS);
    if !orphans.is_empty() {
        orphans.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
    }
}

/// Whether this kernel has `pidfd_open` (Linux 5.3), asked once.
fn pidfd_supported() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        // SAFETY: `getpid` has no preconditions.
        let me = unsafe { libc::getpid() };
        match pidfd_open(me as u32) {
            Ok(_) => true,
            Err(e) => e.raw_os_error() != Some(libc::ENOSYS),
        }
    })
}

/// A pidfd of process `pid` (close-on-exec, as the kernel makes it).
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

macro_rules! child_pipe {
    ($name:ident, $std:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name {
            pipe: PipeEnd,
        }

        impl $name {
            /// Takes std's pipe end, making it non-blocking and registering it with the
            /// current runtime's I/O driver.
            ///
            /// # Errors
            /// Outside a zokio runtime; what `fcntl` or the driver's registration return.
            pub fn from_std(inner: $std) -> io::Result<$name> {
                Ok($name {
                    pipe: PipeEnd::new(OwnedFd::from(inner))?,
                })
            }

            /// The pipe end, deregistered and blocking again (to hand to another process
            /// as its stdio, say).
            ///
            /// # Errors
            /// What `fcntl` returns.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.pipe.into_owned_fd(true)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.fd().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.fd()
            }
        }

        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            /// The pipe end as another child's stdio (blocking, as children expect).
            fn try_from(value: $name) -> io::Result<Stdio> {
                value.into_owned_fd().map(Stdio::from)
            }
        }
    };
}

child_pipe!(
    ChildStdin,
    std::process::ChildStdin,
    "The writing end of a child's stdin: Tokio's `AsyncWrite`. Dropping it closes it (the \
     child then reads end of file)."
);
child_pipe!(
    ChildStdout,
    std::process::ChildStdout,
    "The reading end of a child's stdout: Tokio's `AsyncRead`."
);
child_pipe!(
    ChildStderr,
    std::process::ChildStderr,
    "The reading end of a child's stderr: Tokio's `AsyncRead`."
);

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered on this side of the pipe.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // As Tokio's: the pipe closes when the value is dropped.
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.pipe.poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.pipe.poll_read(cx, buf)
    }
}
