//! `zbench compare`: two result files, the change of each figure, and the regression gate.

use crate::cli::{CompareFormat, Export};
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;
use zbench_report::schema;

/// `zbench compare`: exit 3 on a regression.
pub(crate) fn compare(
    base: &Path,
    new: &Path,
    opts: zbench_report::compare::Options,
    format: CompareFormat,
    export: Option<Export>,
) -> Result<ExitCode> {
    use zbench_report::compare;
    let threshold = opts.threshold;
    let base_file = schema::read(base)?;
    let new_file = schema::read(new)?;
    let report = compare::compare(&base_file, &new_file, opts)?;
    match (export, format) {
        (Some(Export::Bencher), _) => {
            println!("{:#}", compare::to_bencher(&new_file));
        }
        (Some(Export::GithubActionBenchmark), _) => {
            println!("{:#}", compare::to_github_action_benchmark(&new_file));
        }
        (None, CompareFormat::Table) => print!("{}", report.to_table()),
        (None, CompareFormat::Markdown) => print!("{}", report.to_markdown()),
        (None, CompareFormat::Json) => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if report.regressed() {
        eprintln!(
            "zbench: regression beyond {:.1}% in {} figure(s)",
            threshold * 100.0,
            report
                .rows
                .iter()
                .filter(|r| r.gated && r.verdict == compare::Verdict::Regressed)
                .count()
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
