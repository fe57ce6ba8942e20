//! Records the version of each measured runtime crate, as `Cargo.lock` pins it, in
//! `ZBENCH_VERSION_<CRATE>` for the adapters' `Runtime::VERSION`.

use std::path::Path;

/// The crates whose versions the adapters report.
const CRATES: &[&str] = &["zokio", "tokio", "smol", "monoio", "compio"];

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for krate in CRATES {
        let version = package_version(&text, krate).unwrap_or_else(|| "unknown".to_owned());
        println!(
            "cargo:rustc-env=ZBENCH_VERSION_{}={version}",
            krate.to_uppercase()
        );
    }
}

/// The `version` of the `[[package]]` named `name` in a Cargo.lock.
fn package_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim();
            return version
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned);
        }
    }
    None
}
