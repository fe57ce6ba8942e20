//! `no-io-uring enosys|eperm COMMAND [ARGS...]`: runs COMMAND with every io_uring system
//! call failing with that errno (see the library). Exits with COMMAND's status; 127 if it
//! cannot be started, 1 if the filter cannot be put in force.

use clap::Parser;
use std::os::unix::process::CommandExt;

/// Runs a command as on a kernel without io_uring (enosys) or with io_uring disabled by
/// policy (eperm).
#[derive(Parser)]
#[command(name = "no-io-uring")]
struct Args {
    /// How io_uring is unavailable.
    #[arg(value_enum)]
    denial: no_io_uring::Denial,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = no_io_uring::deny_io_uring(args.denial) {
        eprintln!("no-io-uring: {e}");
        std::process::exit(1);
    }
    let e = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .exec();
    eprintln!("no-io-uring: cannot run {}: {e}", args.command[0]);
    std::process::exit(127);
}
