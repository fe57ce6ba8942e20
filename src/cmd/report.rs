//! `zbench report`: HTML report pages of result files.

use anyhow::Result;
use std::path::{Path, PathBuf};
use zbench_report::schema;

/// `zbench report`: reads every file first (so a bad one fails before anything is written),
/// then writes the pages.
pub(crate) fn report(
    files: &[PathBuf],
    out: Option<&Path>,
) -> Result<zbench_report::report::Written> {
    use zbench_report::report::{self, Run};
    let mut runs = Vec::with_capacity(files.len());
    for f in files {
        runs.push(Run {
            source: f.clone(),
            file: schema::read(f)?,
        });
    }
    let dir = match out {
        Some(d) => d.to_owned(),
        None => files
            .last()
            .and_then(|f| f.parent())
            .unwrap_or(Path::new("."))
            .join("report"),
    };
    let written = report::write_report(&runs, &dir)?;
    eprintln!(
        "zbench: wrote {} pages and {} charts into {}",
        written.pages.len(),
        written.charts,
        dir.display()
    );
    Ok(written)
}
