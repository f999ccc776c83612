//! The real operator binary as a child process: spawn, capture every output line, stop it
//! gracefully (SIGTERM) or brutally (SIGKILL), and restart it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::wait;

/// Lines the operator printed, shared across restarts so the secret scan sees all of them.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    pub fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn tail(&self, n: usize) -> Vec<String> {
        let v = self.0.lock().unwrap();
        v[v.len().saturating_sub(n)..].to_vec()
    }
}

/// How to start the operator; the harness fills it from the test environment.
#[derive(Clone, Debug)]
pub struct OperatorConfig {
    pub kubeconfig: PathBuf,
    pub home: PathBuf,
    pub operator_namespace: String,
    /// Empty = all namespaces (emulator); a real cluster shared by parallel tests needs a list.
    pub watch_namespaces: Vec<String>,
    /// Short, so drift and steady-state tests see several resyncs quickly.
    pub resync: Duration,
    pub log_level: String,
    pub extra_args: Vec<String>,
}

pub struct Operator {
    child: Child,
    readers: Vec<JoinHandle<()>>,
    pub metrics_addr: SocketAddr,
    pub logs: Lines,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_dashboard-user-operator")
}

/// A free loopback port. The tiny race between closing and the operator binding is harmless
/// in tests (ports are picked from the kernel's ephemeral range).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Operator {
    /// Spawns `dashboard-user-operator run` and waits until `/readyz` answers 200
    /// (caches synced), so the test's next step is seen by a running controller.
    pub async fn spawn(cfg: &OperatorConfig, logs: Lines) -> anyhow::Result<Operator> {
        let mut op = Self::spawn_live(cfg, logs).await?;
        op.wait_for("/readyz").await?;
        Ok(op)
    }

    /// Spawns and waits only for `/livez`: a `--leader-elect` follower is alive but never
    /// ready (its controllers start once it holds the Lease).
    pub async fn spawn_live(cfg: &OperatorConfig, logs: Lines) -> anyhow::Result<Operator> {
        let port = free_port()?;
        let metrics_addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut cmd = Command::new(binary());
        cmd.arg("run")
            .arg("--resync-period")
            .arg(format!("{}ms", cfg.resync.as_millis()))
            .arg("--metrics-addr")
            .arg(metrics_addr.to_string())
            .arg("--log-format")
            .arg("json")
            .arg("--log-level")
            .arg(&cfg.log_level)
            .arg("--operator-namespace")
            .arg(&cfg.operator_namespace);
        if !cfg.watch_namespaces.is_empty() {
            cmd.arg("--watch-namespaces")
                .arg(cfg.watch_namespaces.join(","));
        }
        cmd.args(&cfg.extra_args)
            .env("KUBECONFIG", &cfg.kubeconfig)
            .env("HOME", &cfg.home)
            .env("RUST_BACKTRACE", "1")
            // Flags win, but an inherited env var must not change what the test runs.
            .env_remove("WATCH_NAMESPACES")
            .env_remove("POD_NAMESPACE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(pump(BufReader::new(out), logs.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(pump(BufReader::new(err), logs.clone()));
        }
        let mut op = Operator {
            child,
            readers,
            metrics_addr,
            logs,
        };
        op.wait_for("/livez").await?;
        Ok(op)
    }

    async fn wait_for(&mut self, path: &str) -> anyhow::Result<()> {
        let url = format!("http://{}{path}", self.metrics_addr);
        let http = super::http_client();
        let deadline = tokio::time::Instant::now() + wait::default_timeout();
        loop {
            if let Some(s) = self.exited() {
                anyhow::bail!(
                    "operator exited early ({s}); last log lines:\n{}",
                    self.tail()
                );
            }
            let last = match http.get(&url).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => format!("{path} answered {}", r.status()),
                Err(e) => format!("{path} unreachable: {e}"),
            };
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!(
                    "operator never became ready ({last}); last log lines:\n{}",
                    self.tail()
                );
            }
            tokio::time::sleep(wait::POLL).await;
        }
    }

    pub fn tail(&self) -> String {
        self.logs.tail(40).join("\n")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends a signal by number through `kill(1)`: the crate has no libc binding, and this
    /// is test code, so a short-lived process is fine.
    async fn signal(&self, sig: &str) -> anyhow::Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| anyhow::anyhow!("operator already exited"))?;
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .await?;
        anyhow::ensure!(st.success(), "kill -{sig} {pid} failed: {st}");
        Ok(())
    }

    /// SIGTERM, then wait for the exit (the contract says graceful shutdown exits 0).
    pub async fn terminate(mut self) -> anyhow::Result<ExitStatus> {
        self.signal("TERM").await?;
        let status = tokio::time::timeout(wait::default_timeout(), self.child.wait()).await;
        let status = match status {
            Ok(s) => s?,
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("operator ignored SIGTERM; last log lines:\n{}", self.tail());
            }
        };
        self.drain().await;
        Ok(status)
    }

    /// SIGKILL: no chance to clean up, as in a node crash or an OOM kill.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        self.drain().await;
        Ok(())
    }

    /// Has the process exited on its own (a crash)?
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    async fn drain(&mut self) {
        for r in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
        }
    }

    /// The Prometheus text exposition, for the secret scan (labels must carry no secret).
    pub async fn metrics(&self) -> anyhow::Result<String> {
        let url = format!("http://{}/metrics", self.metrics_addr);
        Ok(super::http_client()
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }
}

fn pump<R>(reader: BufReader<R>, logs: Lines) -> JoinHandle<()>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = reader.lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if std::env::var_os("E2E_ECHO_OPERATOR").is_some() {
                eprintln!("[operator] {line}");
            }
            logs.push(line);
        }
    })
}
