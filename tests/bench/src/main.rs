//! `cargo run --release -p bench -- <scenario> [options]`: the operator's figures for
//! convergence, steady state, memory and password latency (issue #8). Both emulators run in
//! this process on loopback, on a tokio runtime of their own (env.rs, cpu.rs); the operator
//! is the real release binary, a child process. Nothing here asserts on time: the figures
//! are reported, and `table` prints the table of docs/operations/performance.md from a JSON
//! file.

mod baseline;
mod cpu;
mod env;
mod figures;
mod operator;
mod progress;
mod report;
mod scenarios;
mod svg;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Figures for dashboard-user-operator (issue #8)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// N new users with password Secrets, applied in bulk: time until all are Ready.
    Converge(Opts),
    /// After convergence, two resync periods with nothing changing: writes and reads.
    Steady(Opts),
    /// N users plus unrelated Secrets: operator RSS (optionally over a soak).
    Memory(Opts),
    /// Password Secret edits: time until the Dashboard accepts each new password.
    PasswordLatency(Opts),
    /// The four scenarios in sequence on one cluster; one JSON object, a key per scenario.
    All(Opts),
    /// Prints the Performance table of docs/operations/performance.md (markdown) from a JSON
    /// file `all` wrote.
    Table { json: PathBuf },
}

/// Options every scenario accepts (scenario-specific ones are ignored where they do not apply).
#[derive(Args, Clone, Debug)]
pub struct Opts {
    /// DashboardUsers (each with its own password Secret).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Tyk emulator latency per call.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Operator `--concurrency`; omitted = the operator's default.
    #[arg(long)]
    pub concurrency: Option<u16>,
    /// The connection's `maxConcurrentRequests`; omitted = the CRD's default.
    #[arg(long)]
    pub max_requests: Option<u32>,
    /// Operator `--resync-period` while converging (the operator's default): a short one
    /// would re-reconcile converged users while new ones wait, and measure that.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub converge_resync_period: Duration,
    /// Operator `--resync-period` from `steady` on (short, so it sees two resyncs quickly;
    /// the operator is restarted with it).
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,
    /// Write the figures as one JSON object (and `converge.svg` next to it).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// memory: Secrets no DashboardUser references (default: as many as `--users`).
    #[arg(long)]
    pub unrelated_secrets: Option<usize>,
    /// memory: size of each unrelated Secret's data.
    #[arg(long, default_value_t = 30)]
    pub unrelated_secret_kb: usize,
    /// memory: sample the RSS every minute for this long.
    #[arg(long, default_value_t = 0)]
    pub soak_minutes: u64,
    /// password-latency: Secret edits, spread over the users.
    #[arg(long, default_value_t = 200)]
    pub edits: usize,
    /// password-latency: edits started per second.
    #[arg(long, default_value_t = 20.0)]
    pub edit_rate: f64,
    /// converge: users in the sequential baseline sample; above this it is extrapolated.
    #[arg(long, default_value_t = 500)]
    pub baseline_sample: usize,
    /// The operator binary; default: the release build next to this binary (built first).
    #[arg(long)]
    pub operator_bin: Option<PathBuf>,
}

/// Writes the figures so far to `--json` (if given).
pub fn save(opts: &Opts, figures: &Map<String, Value>) -> anyhow::Result<()> {
    let Some(path) = &opts.json else {
        return Ok(());
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(figures)? + "\n")?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let (name, opts) = match cli.command {
        Command::Table { json } => {
            let v: Value = serde_json::from_slice(&std::fs::read(&json)?)?;
            print!("{}", report::markdown(&v));
            return Ok(());
        }
        Command::Converge(o) => ("converge", o),
        Command::Steady(o) => ("steady", o),
        Command::Memory(o) => ("memory", o),
        Command::PasswordLatency(o) => ("password-latency", o),
        Command::All(o) => ("all", o),
    };
    anyhow::ensure!(opts.users > 0, "--users must be at least 1");
    let bin = operator::binary(opts.operator_bin.clone())?;
    let mut env = env::Env::start(&opts, bin).await?;
    let mut out = Map::new();
    out.insert("machine".into(), figures::machine());
    out.insert("options".into(), figures::options(&opts, &env));
    let result = scenarios::run(name, &mut env, &mut out).await;
    env.shutdown().await;
    result?;
    let value = Value::Object(out);
    print!("{}", report::text(&value));
    if let Some(path) = &opts.json {
        save(&opts, value.as_object().expect("an object"))?;
        let conv = value
            .get("converge")
            .or((name == "converge").then_some(&value));
        if let Some(conv) = conv {
            let svg_path = path.with_file_name("converge.svg");
            std::fs::write(&svg_path, svg::converge(conv))?;
            eprintln!("wrote {} and {}", path.display(), svg_path.display());
        } else {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
