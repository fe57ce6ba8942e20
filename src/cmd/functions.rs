//! `zbench functions DUMP...`: where the instructions of a measured phase went, function by
//! function, from the Callgrind dumps an instruction run keeps.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use zbench_suite::callgrind;

/// The index an instruction run writes beside a workload's dumps: one line per dump,
/// `N<TAB>RUNTIME PHASE<TAB>INSTRUCTIONS`.
const INDEX: &str = "callgrind.out.index";

/// One line of a dump index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Indexed {
    /// The dump's number: its file is `callgrind.out.N`.
    n: usize,
    runtime: String,
    /// `measure` or `warm-up`.
    phase: String,
}

impl Indexed {
    fn label(&self) -> String {
        format!("{} {}", self.runtime, self.phase)
    }
}

/// Reads the index of the dumps in `dir`.
///
/// # Errors
/// It cannot be read, or a line is not `N<TAB>RUNTIME PHASE<TAB>COUNT`.
fn read_index(dir: &Path) -> Result<Vec<Indexed>> {
    let path = dir.join(INDEX);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the dump index {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let mut fields = line.split('\t');
            let parsed = (|| {
                let n = fields.next()?.parse().ok()?;
                let (runtime, phase) = fields.next()?.split_once(' ')?;
                fields.next()?.parse::<u64>().ok()?;
                Some(Indexed {
                    n,
                    runtime: runtime.to_owned(),
                    phase: phase.to_owned(),
                })
            })();
            parsed.with_context(|| {
                format!(
                    "{}:{}: malformed line {line:?} (expected N, RUNTIME PHASE, count, tab-separated)",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

/// The dumps to print for one `DUMP` argument, each with its index line when known: for a
/// directory, the first measured dump of each runtime in `runtimes` (every runtime of the
/// index when empty); for a file, the file, unless `runtimes` is given and the index beside
/// it names another runtime.
///
/// # Errors
/// A directory without an index, a `runtimes` entry with no measured dump there, or a file
/// to select by runtime with no index (or no line for it) beside it.
fn select(arg: &Path, runtimes: &[String]) -> Result<Vec<(PathBuf, Option<Indexed>)>> {
    if arg.is_dir() {
        return select_in_dir(arg, runtimes);
    }
    if runtimes.is_empty() {
        return Ok(vec![(arg.to_owned(), None)]);
    }
    let n = arg
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("callgrind.out."))
        .and_then(|n| n.parse::<usize>().ok())
        .with_context(|| {
            format!(
                "cannot select {} by runtime: not a callgrind.out.N dump",
                arg.display()
            )
        })?;
    let dir = arg.parent().unwrap_or(Path::new("."));
    let line = read_index(dir)?
        .into_iter()
        .find(|l| l.n == n)
        .with_context(|| {
            format!(
                "cannot select {} by runtime: {} has no line for it",
                arg.display(),
                dir.join(INDEX).display()
            )
        })?;
    Ok(if runtimes.contains(&line.runtime) {
        vec![(arg.to_owned(), Some(line))]
    } else {
        Vec::new()
    })
}

/// [`select`] for a workload's dump directory.
fn select_in_dir(dir: &Path, runtimes: &[String]) -> Result<Vec<(PathBuf, Option<Indexed>)>> {
    let index = read_index(dir)?;
    let mut firsts: Vec<Indexed> = Vec::new();
    for line in index.into_iter().filter(|l| l.phase == "measure") {
        if !firsts.iter().any(|f| f.runtime == line.runtime) {
            firsts.push(line);
        }
    }
    if firsts.is_empty() {
        bail!("no measured dump in {}", dir.join(INDEX).display());
    }
    let chosen = if runtimes.is_empty() {
        firsts
    } else {
        let pick = |r: &String| {
            let there: Vec<&str> = firsts.iter().map(|f| f.runtime.as_str()).collect();
            firsts
                .iter()
                .find(|f| &f.runtime == r)
                .cloned()
                .with_context(|| {
                    format!(
                        "no measured dump of {r} in {} (measured there: {})",
                        dir.join(INDEX).display(),
                        there.join(", ")
                    )
                })
        };
        runtimes.iter().map(pick).collect::<Result<_>>()?
    };
    Ok(chosen
        .into_iter()
        .map(|l| {
            (
                callgrind::dump_path(&dir.join("callgrind.out"), l.n),
                Some(l),
            )
        })
        .collect())
}

/// Prints, for each dump selected from `dumps` (see [`select`]), its total and the `top`
/// functions by their own instructions.
pub(crate) fn functions(dumps: &[PathBuf], runtimes: &[String], top: usize) -> Result<()> {
    let mut selected = Vec::new();
    for arg in dumps {
        selected.extend(select(arg, runtimes)?);
    }
    if selected.is_empty() {
        bail!(
            "none of the dumps given is of {} (by the index beside them)",
            runtimes.join(", ")
        );
    }
    for (path, line) in selected {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let total = callgrind::instructions(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let costs =
            callgrind::self_costs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        match line {
            Some(l) => println!("{} ({}): {total} instructions", path.display(), l.label()),
            None => println!("{}: {total} instructions", path.display()),
        }
        for (name, cost) in costs.iter().take(top) {
            println!(
                "{cost:>14} {:>6.2}%  {name}",
                *cost as f64 * 100.0 / total.max(1) as f64
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workload's dump directory as an instruction run leaves it: dumps 1-5 and their
    /// index (two runtimes, warm-ups first).
    fn dump_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let index = "1\tzokio warm-up\t10\n2\ttokio warm-up\t20\n3\ttokio measure\t21\n\
                     4\tzokio measure\t11\n5\tzokio measure\t12\n";
        std::fs::write(dir.path().join(INDEX), index).unwrap();
        for n in 1..=5 {
            std::fs::write(dir.path().join(format!("callgrind.out.{n}")), "").unwrap();
        }
        dir
    }

    fn numbers(selected: &[(PathBuf, Option<Indexed>)]) -> Vec<usize> {
        selected
            .iter()
            .map(|(_, l)| l.as_ref().unwrap().n)
            .collect()
    }

    #[test]
    fn a_directory_gives_the_first_measured_dump_of_each_runtime() {
        let dir = dump_dir();
        let all = select(dir.path(), &[]).unwrap();
        assert_eq!(numbers(&all), [3, 4], "index order, measured phases only");
        assert!(all[1].0.ends_with("callgrind.out.4"));
        let zokio = select(dir.path(), &["zokio".to_owned()]).unwrap();
        assert_eq!(numbers(&zokio), [4]);
        let both = select(dir.path(), &["zokio".to_owned(), "tokio".to_owned()]).unwrap();
        assert_eq!(numbers(&both), [4, 3], "in the order asked");
        let err = select(dir.path(), &["smol".to_owned()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("no measured dump of smol")
                && format!("{err:#}").contains("tokio, zokio"),
            "{err:#}"
        );
    }

    #[test]
    fn a_file_is_kept_or_skipped_by_the_runtime_its_index_line_names() {
        let dir = dump_dir();
        let file = dir.path().join("callgrind.out.5");
        assert_eq!(select(&file, &[]).unwrap(), [(file.clone(), None)]);
        assert_eq!(numbers(&select(&file, &["zokio".to_owned()]).unwrap()), [5]);
        assert!(select(&file, &["tokio".to_owned()]).unwrap().is_empty());
        // Selecting by runtime needs the index: a file elsewhere is an error, not skipped.
        let alone = tempfile::tempdir().unwrap();
        let stray = alone.path().join("callgrind.out.1");
        std::fs::write(&stray, "").unwrap();
        let err = select(&stray, &["zokio".to_owned()]).unwrap_err();
        assert!(format!("{err:#}").contains("dump index"), "{err:#}");
        let odd = dir.path().join("notes.txt");
        assert!(select(&odd, &["zokio".to_owned()]).is_err());
    }

    #[test]
    fn a_malformed_index_line_is_named() {
        let dir = dump_dir();
        std::fs::write(
            dir.path().join(INDEX),
            "1\tzokio measure\t10\n2 zokio measure 11\n",
        )
        .unwrap();
        let err = select(dir.path(), &[]).unwrap_err();
        assert!(format!("{err:#}").contains(":2: malformed line"), "{err:#}");
        let empty = tempfile::tempdir().unwrap();
        let err = select(empty.path(), &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot read the dump index"),
            "{err:#}"
        );
        std::fs::write(empty.path().join(INDEX), "1\tzokio warm-up\t10\n").unwrap();
        let err = select(empty.path(), &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("no measured dump in"),
            "{err:#}"
        );
    }
}
