//! `kube-emulator --port <n|0> --kubeconfig <path>`: serve until SIGTERM/SIGINT.

use std::path::PathBuf;

use clap::Parser;
use kube_emulator::{Emulator, Knobs, Options};

#[derive(Parser, Debug)]
#[command(
    name = "kube-emulator",
    about = "In-memory Kubernetes API server for tests"
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write a kubeconfig pointing at the emulator.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Extra latency per API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Close every watch after this many seconds (0 = never).
    #[arg(long, default_value_t = 0)]
    watch_close_every_secs: u64,
    /// Answer watch resumes and list continues with 410 Expired.
    #[arg(long)]
    force_410_on_resume: bool,
    /// Injected error rates, e.g. `409=0.1,500=0.01,429=0.05`.
    #[arg(long, default_value = "")]
    fault_rate: String,
    /// Delay before the garbage collector acts, in milliseconds.
    #[arg(long, default_value_t = 0)]
    gc_delay_ms: u64,
    /// Watch events kept for resumes.
    #[arg(long, default_value_t = 20_000)]
    history_size: usize,
}

fn knobs(a: &Args) -> anyhow::Result<Knobs> {
    let mut k = Knobs {
        latency_ms: a.latency_ms,
        watch_close_every_secs: a.watch_close_every_secs,
        force_410_on_resume: a.force_410_on_resume,
        gc_delay_ms: a.gc_delay_ms,
        ..Knobs::default()
    };
    let mut rates = serde_json::Map::new();
    for part in a.fault_rate.split(',').filter(|p| !p.is_empty()) {
        let (code, rate) = part
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad --fault-rate entry {part:?}"))?;
        rates.insert(
            code.trim().to_string(),
            serde_json::json!(rate.trim().parse::<f64>()?),
        );
    }
    k.apply(&serde_json::json!({"faultRate": rates}))
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(k)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let opts = Options {
        port: args.port,
        knobs: knobs(&args)?,
        history_size: args.history_size,
    };
    let emu = Emulator::start(opts).await?;
    if let Some(path) = &args.kubeconfig {
        emu.write_kubeconfig(path)?;
    }
    println!("listening on {}", emu.url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    emu.shutdown().await;
    Ok(())
}
