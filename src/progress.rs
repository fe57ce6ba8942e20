//! Progress on stderr while a run measures.

/// Progress on stderr: a bar on a terminal (without colour when `NO_COLOR` is set), one
/// plain line per workload otherwise, so logs still show how far a run got.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: std::cell::Cell<usize>,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let template = if colour {
                "{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}"
            } else {
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}"
            };
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            total,
            done: std::cell::Cell::new(0),
        }
    }

    pub(crate) fn start(&self, name: &str) {
        let n = self.done.get();
        self.done.set(n + 1);
        match &self.bar {
            Some(bar) => {
                bar.set_position(n as u64);
                bar.set_message(name.to_owned());
            }
            None => eprintln!("[{}/{}] {name}", n + 1, self.total),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
