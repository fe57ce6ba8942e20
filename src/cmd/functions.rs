//! `zbench functions DUMP...`: where the instructions of a measured phase went, function by
//! function, from the Callgrind dumps an instruction run keeps.

use anyhow::{Context, Result};
use std::path::PathBuf;
use zbench_suite::callgrind;

/// Prints, for each dump, its total and the `top` functions by their own instructions.
pub(crate) fn functions(dumps: &[PathBuf], top: usize) -> Result<()> {
    for path in dumps {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let total = callgrind::instructions(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let costs =
            callgrind::self_costs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("{}: {total} instructions", path.display());
        for (name, cost) in costs.iter().take(top) {
            println!(
                "{cost:>14} {:>6.2}%  {name}",
                *cost as f64 * 100.0 / total.max(1) as f64
            );
        }
    }
    Ok(())
}
