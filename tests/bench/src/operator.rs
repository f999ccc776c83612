//! The real operator binary as a child process, and what the bench reads from it: RSS (and,
//! through cpu.rs, CPU time) from `/proc` and the reconcile counter from `/metrics`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// The operator binary to run. Without `--operator-bin`, the release build in the same
/// target directory as this binary, built first (a no-op when fresh): `cargo run -p bench` builds only this
/// package, and a stale operator would measure old code.
pub fn binary(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        anyhow::ensure!(p.is_file(), "--operator-bin {} does not exist", p.display());
        return Ok(p);
    }
    let me = std::env::current_exe()?;
    let dir = me.parent().context("bench binary has no directory")?;
    let profile_release = dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    // `-p bench` too, so features unify as in the `cargo run -p bench` that started us:
    // the operator alone would resolve other features and rebuild half the dependencies.
    cmd.args([
        "build",
        "--locked",
        "-p",
        "bench",
        "-p",
        "dashboard-user-operator",
    ]);
    if profile_release {
        cmd.arg("--release");
    }
    // `cargo run` gave us the bench package's CARGO_PKG_*/CARGO_MANIFEST_* variables. Build
    // scripts (ring's, for one) list them as rerun-if-env-changed, so passing them on would
    // rebuild those crates and everything above them on every run.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || matches!(
                &*k,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR"
            )
        {
            cmd.env_remove(&*k);
        }
    }
    eprintln!("building the operator binary ({})", dir.display());
    let st = cmd
        .current_dir(workspace_root())
        .status()
        .context("running cargo build for the operator")?;
    anyhow::ensure!(st.success(), "cargo build of the operator failed: {st}");
    let bin = dir.join("dashboard-user-operator");
    anyhow::ensure!(bin.is_file(), "no operator binary at {}", bin.display());
    if !profile_release {
        eprintln!("warning: not a release build; figures will be much slower than release");
    }
    Ok(bin)
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Operator {
    child: Child,
    pid: u32,
    pub metrics_addr: SocketAddr,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Operator {
    /// Spawns `run` with the bench's flags and waits for `/readyz` (caches synced).
    pub async fn spawn(
        bin: &Path,
        kubeconfig: &Path,
        log: &Path,
        concurrency: Option<u16>,
        resync: Duration,
    ) -> anyhow::Result<Operator> {
        let metrics_addr: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut cmd = Command::new(bin);
        cmd.arg("run")
            .args(["--resync-period", &format!("{}ms", resync.as_millis())])
            .args(["--metrics-addr", &metrics_addr.to_string()])
            .args(["--log-format", "json", "--log-level", "warn"])
            .args(["--operator-namespace", crate::env::OPERATOR_NAMESPACE]);
        if let Some(c) = concurrency {
            cmd.args(["--concurrency", &c.to_string()]);
        }
        cmd.env("KUBECONFIG", kubeconfig)
            .env_remove("WATCH_NAMESPACES")
            .env_remove("POD_NAMESPACE")
            .env_remove("RUST_LOG")
            .env_remove("CONCURRENCY")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let child = cmd.spawn().context("spawning the operator")?;
        let pid = child.id().context("operator pid")?;
        let mut op = Operator {
            child,
            pid,
            metrics_addr,
        };
        op.wait_ready(log).await?;
        Ok(op)
    }

    async fn wait_ready(&mut self, log: &Path) -> anyhow::Result<()> {
        let url = format!("http://{}/readyz", self.metrics_addr);
        let http = crate::env::http();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(st) = self.child.try_wait()? {
                anyhow::bail!("operator exited early ({st}); see {}", log.display());
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "operator never became ready; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// (current RSS, peak RSS) in bytes, from `/proc/<pid>/status` (`VmRSS`, `VmHWM`).
    pub fn rss(&self) -> anyhow::Result<(u64, u64)> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .context("reading the operator's /proc status")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = text
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("no {name} in /proc status"))?;
            let kb: u64 = line
                .split_whitespace()
                .nth(1)
                .context("malformed /proc status line")?
                .parse()?;
            Ok(kb * 1024)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    async fn metrics(&self) -> anyhow::Result<String> {
        Ok(crate::env::http()
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// The DashboardUser controller's resync period in use (stretched under load).
    pub async fn user_resync_period(&self) -> anyhow::Result<f64> {
        let text = self.metrics().await?;
        text.lines()
            .find(|l| {
                l.starts_with("dashboard_user_operator_resync_period_seconds{")
                    && l.contains("controller=\"dashboarduser\"")
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .context("no resync_period_seconds gauge in /metrics")
    }

    /// Sum of `reconciles_total` for the DashboardUser controller (both results).
    pub async fn user_reconciles(&self) -> anyhow::Result<u64> {
        let text = self.metrics().await?;
        Ok(text
            .lines()
            .filter(|l| {
                l.starts_with("dashboard_user_operator_reconciles_total{")
                    && l.contains("controller=\"dashboarduser\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64)
    }

    /// SIGTERM through `kill(1)` (no libc binding here), then wait; SIGKILL after 30 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(r) => {
                r?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}
