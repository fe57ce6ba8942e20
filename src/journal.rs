//! The run journal: `journal.jsonl` in the output directory, one JSON object per line.
//! The first line holds the run's settings; each finished workload appends its records,
//! written and `fsync`ed before the next workload starts, so a run that is killed (or
//! whose machine goes down) loses at most the workload in progress. `zbench all --resume
//! DIR` reads the settings back, measures the workloads the journal lacks, and writes the
//! result file with every workload once; each resumption is a part of the run
//! ([`RunPart`]). A line cut short by the kill is dropped (and cut off the file) on resume.
//! The journal is removed once the result file is written.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use zbench_report::schema::{Comparison, NotApplicable, RunPart, WorkloadResult};
use zbench_suite::runner::Records;

/// The journal's file name within the output directory.
pub(crate) const FILE: &str = "journal.jsonl";

/// The format written on the first line, checked on resume.
const FORMAT: &str = "zbench-journal/1";

/// Everything a resumed run needs to measure as the killed one did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Settings {
    /// The workloads of the run, in order.
    pub(crate) workloads: Vec<String>,
    pub(crate) quick: bool,
    pub(crate) seed: u64,
    pub(crate) runtimes: Vec<String>,
    pub(crate) baseline: String,
    pub(crate) workers: u16,
    /// zokio's driver as given (`io_uring`, `epoll` or `auto`).
    pub(crate) zokio_driver: String,
    pub(crate) client_threads: Option<u16>,
    pub(crate) pin: bool,
    /// `--pin-workers` (false in journals from before it).
    #[serde(default)]
    pub(crate) pin_workers: bool,
    /// What the run measures (wall clock in journals from before `--measure`).
    #[serde(default)]
    pub(crate) measure: zbench_report::schema::Measure,
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
enum Line {
    /// The first line.
    Header {
        format: String,
        started_utc: String,
        settings: Settings,
    },
    /// A resumption began.
    Part { started_utc: String },
    /// A workload finished.
    Workload(Entry),
}

/// A finished workload's records.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) workload: String,
    /// The part of the run that measured it (0: the first).
    pub(crate) part: usize,
    results: Vec<WorkloadResult>,
    comparisons: Vec<Comparison>,
    not_applicable: Vec<NotApplicable>,
}

impl Entry {
    pub(crate) fn new(workload: &str, part: usize, records: Records) -> Entry {
        Entry {
            workload: workload.to_owned(),
            part,
            results: records.results,
            comparisons: records.comparisons,
            not_applicable: records.not_applicable,
        }
    }

    pub(crate) fn into_records(self) -> Records {
        Records {
            results: self.results,
            comparisons: self.comparisons,
            not_applicable: self.not_applicable,
        }
    }
}

/// An open journal, appended to as workloads finish.
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    /// The part being measured now.
    pub(crate) part: usize,
}

/// What a journal held when a run resumed from it.
pub(crate) struct Resumed {
    pub(crate) journal: Journal,
    pub(crate) settings: Settings,
    /// Finished workloads, in the order they finished.
    pub(crate) done: Vec<Entry>,
    /// When each part started, the first run's first.
    pub(crate) part_starts: Vec<String>,
}

impl Journal {
    /// Starts the journal of a new run in `dir`.
    ///
    /// # Errors
    /// If `dir` already holds a journal (an unfinished run: resume it or choose another
    /// directory), or the file cannot be written.
    pub(crate) fn create(dir: &Path, started_utc: &str, settings: &Settings) -> Result<Journal> {
        let path = dir.join(FILE);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    anyhow::anyhow!(
                        "{} holds the journal of an unfinished run: finish it with `zbench all --resume {}`, or choose another --out",
                        dir.display(),
                        dir.display()
                    )
                } else {
                    anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
                }
            })?;
        let mut journal = Journal {
            file,
            path,
            part: 0,
        };
        journal.write(&Line::Header {
            format: FORMAT.to_owned(),
            started_utc: started_utc.to_owned(),
            settings: settings.clone(),
        })?;
        Ok(journal)
    }

    /// Opens the journal in `dir` to resume its run, starting a new part at
    /// `started_utc`.
    ///
    /// # Errors
    /// No journal in `dir`; a first line that is not a zbench journal header; a line
    /// other than the last that does not parse; the file cannot be written.
    pub(crate) fn resume(dir: &Path, started_utc: &str) -> Result<Resumed> {
        let path = dir.join(FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot resume from {}: no journal there", dir.display()))?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // A kill mid-write leaves a prefix of the last line without its newline (the
        // newline is written last): that part is dropped. Every line ending in a newline
        // was written whole, so one that does not parse is an error.
        let good_end = text.rfind('\n').map_or(0, |i| i + 1);
        let mut lines = Vec::new();
        for (k, line) in text[..good_end].lines().enumerate() {
            let parsed: Line = serde_json::from_str(line).with_context(|| {
                format!("{}: line {} is not a journal entry", path.display(), k + 1)
            })?;
            lines.push(parsed);
        }
        let good_end = good_end as u64;
        let mut lines = lines.into_iter();
        let (first_start, settings) = match lines.next() {
            Some(Line::Header {
                format,
                started_utc,
                settings,
            }) if format == FORMAT => (started_utc, settings),
            Some(Line::Header { format, .. }) => {
                bail!(
                    "{}: journal format {format:?}; this zbench reads {FORMAT:?}",
                    path.display()
                )
            }
            _ => bail!(
                "{} is not a zbench journal (no header line)",
                path.display()
            ),
        };
        let mut part_starts = vec![first_start];
        let mut done = Vec::new();
        for line in lines {
            match line {
                Line::Part { started_utc } => part_starts.push(started_utc),
                Line::Workload(entry) => done.push(entry),
                Line::Header { .. } => bail!("{}: a second header line", path.display()),
            }
        }
        // Cut off a torn last line, so that appends start on a line of their own.
        file.set_len(good_end)?;
        file.seek(std::io::SeekFrom::End(0))?;
        let mut journal = Journal {
            file,
            path,
            part: part_starts.len(),
        };
        part_starts.push(started_utc.to_owned());
        journal.write(&Line::Part {
            started_utc: started_utc.to_owned(),
        })?;
        Ok(Resumed {
            journal,
            settings,
            done,
            part_starts,
        })
    }

    /// Appends a finished workload, durably.
    ///
    /// # Errors
    /// If the line cannot be written or synced.
    pub(crate) fn append(&mut self, entry: &Entry) -> Result<()> {
        // Serialised by reference: the records are moved into the result afterwards.
        #[derive(Serialize)]
        #[serde(tag = "line", rename = "workload")]
        struct Borrowed<'a> {
            #[serde(flatten)]
            entry: &'a Entry,
        }
        self.write_json(&Borrowed { entry })
    }

    fn write(&mut self, line: &Line) -> Result<()> {
        self.write_json(line)
    }

    fn write_json(&mut self, value: &impl Serialize) -> Result<()> {
        let mut text = serde_json::to_string(value)?;
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Removes the journal: the result file now holds the whole run.
    pub(crate) fn finish(self) -> Result<()> {
        std::fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))
    }
}

/// The parts of a run: when each started and which workloads it measured, in run order.
pub(crate) fn parts(part_starts: &[String], entries: &[(usize, String)]) -> Vec<RunPart> {
    part_starts
        .iter()
        .enumerate()
        .map(|(k, started)| RunPart {
            started_utc: started.clone(),
            workloads: entries
                .iter()
                .filter(|(part, _)| *part == k)
                .map(|(_, w)| w.clone())
                .collect(),
        })
        .collect()
}
