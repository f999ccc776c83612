//! The progress line (`converge: 812 / 10000 users Ready, 3.1 s`), rewritten in place on a terminal and
//! printed every few seconds otherwise (CI logs stay short).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    label: &'static str,
    /// What is counted: "users Ready", "edits landed", …
    noun: &'static str,
    tty: bool,
    last_print: Option<Instant>,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub fn new(label: &'static str, noun: &'static str) -> Progress {
        Progress {
            label,
            noun,
            tty: std::io::stderr().is_terminal(),
            last_print: None,
        }
    }

    pub fn update(&mut self, ready: usize, total: usize, elapsed: Duration) {
        let line = format!(
            "{}: {ready} / {total} {}, {:.1} s",
            self.label,
            self.noun,
            elapsed.as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        } else if self.last_print.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            let _ = writeln!(err, "{line}");
            self.last_print = Some(Instant::now());
        }
    }

    pub fn done(&mut self, ready: usize, total: usize, elapsed: Duration) {
        self.last_print = None;
        self.update(ready, total, elapsed);
        if self.tty {
            eprintln!();
        }
    }
}
