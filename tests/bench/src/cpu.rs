//! CPU time from `/proc`: `utime + stime` (fields 14 and 15 of `stat`) of the operator
//! process (every thread of it, live or exited) and of the emulators' threads in this
//! process.
//!
//! Both emulators run in this process, on a tokio runtime of their own whose threads are
//! named [`EMULATOR_THREAD`] (env.rs); the bench's own work (its Kubernetes client applying
//! the users, the Ready poll) runs on the main runtime. So the emulators' CPU is the sum
//! over `/proc/self/task/*/stat` of the threads with that name, and what the rest of this
//! process used is the bench driver's. The operator is a child: a child's time reaches
//! `/proc/self/stat` (`cutime`, `cstime`) only once it is reaped, and is not in
//! `utime`/`stime` at all, so the two never mix.

use std::sync::OnceLock;

use anyhow::Context as _;

/// The name of the emulators' runtime threads (at most 15 bytes: Linux truncates `comm`).
pub const EMULATOR_THREAD: &str = "bench-emulator";

/// CPU time at one moment, in clock ticks (`CLK_TCK`, see [`ms`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    pub operator: u64,
    pub emulators: u64,
    /// This whole process (emulators and bench driver).
    pub bench_process: u64,
}

impl Sample {
    pub fn take(operator_pid: u32) -> anyhow::Result<Sample> {
        Ok(Sample {
            operator: process_ticks(&operator_pid.to_string())?,
            emulators: emulator_ticks()?,
            bench_process: process_ticks("self")?,
        })
    }
}

/// `utime + stime` of `/proc/<pid>/stat`: every thread of the process, exited ones
/// included.
pub fn process_ticks(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_stat(&text)
        .map(|(_, ticks)| ticks)
        .with_context(|| format!("malformed {path}"))
}

/// Sum of `utime + stime` over this process's threads named [`EMULATOR_THREAD`]. The
/// emulators' runtime keeps its threads alive for the whole run (env.rs), so no emulator
/// time leaves with an exited thread.
pub fn emulator_ticks() -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").context("reading /proc/self/task")? {
        let path = entry?.path().join("stat");
        // A thread that exited since the listing has nothing to add.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let (comm, ticks) =
            parse_stat(&text).with_context(|| format!("malformed {}", path.display()))?;
        if comm == EMULATOR_THREAD {
            total += ticks;
        }
    }
    Ok(total)
}

/// (`comm`, `utime + stime`) from a `stat` line. `comm` is in parentheses and may itself
/// hold spaces or parentheses, so the fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<(&str, u64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?;
    // After `)`: field 3 (state) first, so field n is at index n − 3.
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let utime: u64 = rest.get(14 - 3)?.parse().ok()?;
    let stime: u64 = rest.get(15 - 3)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, the Linux value, if that fails).
pub fn ticks_per_second() -> u64 {
    static TCK: OnceLock<u64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// Ticks as milliseconds.
pub fn ms(ticks: u64) -> f64 {
    ticks as f64 * 1000.0 / ticks_per_second() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 30 0 0 20 0 3 0 12345 1000 200 18446744073709551615";
        assert_eq!(parse_stat(line), Some(("a (weird) name", 280)));
        assert_eq!(parse_stat("1 (x) S 1"), None);
    }

    #[test]
    fn this_process_and_its_threads_are_readable() {
        assert!(process_ticks("self").is_ok());
        assert!(emulator_ticks().is_ok());
        assert!(ticks_per_second() > 0);
    }
}
