//! `zbench list`: the workloads, or with `--runtimes` the runtimes.

use crate::catalogue;
use anyhow::Result;

/// Prints the workloads (name, unit, parameters, claims), or the runtimes (name, version,
/// capabilities, and the stand-ins their adapters use).
pub(crate) fn list(runtimes: bool) -> Result<()> {
    if runtimes {
        for name in zbench_suite::rt::NAMES {
            let info = zbench_suite::rt::info(name).expect("registered");
            let caps: Vec<&str> = info.caps.iter().map(|c| c.name()).collect();
            println!("{:<8} {:<10} {}", info.name, info.version, caps.join(","));
            for (what, used) in info.equivalents {
                println!("{:<8} {:<10}   {what}: {used}", "", "");
            }
            for (cap, why) in info.not_yet {
                println!("{:<8} {:<10}   not yet {}: {why}", "", "", cap.name());
            }
        }
        return Ok(());
    }
    for w in catalogue() {
        println!(
            "{:<40} {:<11} {:<40} {}",
            w.name,
            w.unit,
            w.params_text(),
            w.claims.join(",")
        );
    }
    Ok(())
}
