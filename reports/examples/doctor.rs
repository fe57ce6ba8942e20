//! Writes a copy of a result file whose zokio/baseline ratios are all `FACTOR` times worse
//! (throughput ratios multiplied by it, lower-is-better ratios divided by it, medians and
//! intervals recomputed), to prove in CI that `zbench compare` catches a regression.
//!
//! ```text
//! cargo run --release -p zbench-report --example doctor -- IN.json OUT.json 0.5
//! ```

use std::path::Path;
use std::process::ExitCode;
use zbench_report::schema;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, factor] = args.as_slice() else {
        eprintln!("usage: doctor IN.json OUT.json FACTOR (e.g. 0.5 for 50% worse)");
        return ExitCode::from(2);
    };
    let factor: f64 = match factor.parse() {
        Ok(f) if f > 0.0 => f,
        _ => {
            eprintln!("doctor: FACTOR must be a positive number, got {factor:?}");
            return ExitCode::from(2);
        }
    };
    let mut file = match schema::read(Path::new(input)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("doctor: {e}");
            return ExitCode::from(1);
        }
    };
    for c in &mut file.comparisons {
        let scale = if c.higher_is_better {
            factor
        } else {
            1.0 / factor
        };
        for r in &mut c.ratios {
            *r *= scale;
        }
        c.stats = zbench_report::stats::summarize(&c.ratios, file.run.seed);
    }
    if let Err(e) = schema::write_atomic(Path::new(output), &file) {
        eprintln!("doctor: cannot write {output}: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
