//! Records the commit zbench is built from, for the `git_commit` of every result file.
//!
//! The commit is taken when the binary is built, not when it runs: a run from another
//! directory (or another repository) must not attribute its figures to whatever commit is
//! checked out there. A working tree with uncommitted changes to tracked files gives
//! `<commit>-dirty`, so figures from unrecorded code are never attributed to a commit. Cargo
//! reruns this script whenever a file under a source directory or the repository's HEAD or
//! refs change (a commit, a checkout), so the recorded value follows every rebuild. Without
//! git or a repository the value is empty and result files say `null`.

use std::path::Path;
use std::process::Command;

/// What cargo must watch: every workspace member's sources and the repository's state.
const WATCHED: &[&str] = &[
    "src",
    "runtime",
    "bench-suite",
    "stress",
    "reports",
    "Cargo.toml",
    "Cargo.lock",
    ".git/HEAD",
    ".git/refs",
    ".git/packed-refs",
];

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    println!("cargo:rerun-if-changed=build.rs");
    for path in WATCHED {
        let path = root.join(path);
        // A path that does not exist would make cargo rerun this script on every build.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let commit = git(root, &["rev-parse", "HEAD"]);
    // Not the index: staging changes nothing here, and `git status` may rewrite it.
    let dirty = git(
        root,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    )
    .is_some_and(|changes| !changes.is_empty());
    let value = match commit {
        Some(c) if dirty => format!("{c}-dirty"),
        Some(c) => c,
        None => String::new(),
    };
    println!("cargo:rustc-env=ZBENCH_GIT_COMMIT={value}");
}

/// The trimmed output of `git -C root <args>`, if git ran and succeeded.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
