//! The `export`, `plan` and `drift` subcommands of the real binary, run as child processes
//! against the test's cluster and Dashboard. Every byte they print goes into the secret scan.

use std::process::Stdio;

use anyhow::Context;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{Env, http_client, operator};

/// What one run printed, and its exit status.
#[derive(Debug)]
pub struct CliRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(&self.stdout).with_context(|| {
            format!(
                "stdout is not JSON:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Fails with both outputs unless the exit status is `code`.
    pub fn expect(self, code: i32) -> anyhow::Result<CliRun> {
        anyhow::ensure!(
            self.code == code,
            "exit status {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        Ok(self)
    }
}

impl Env {
    /// Runs `dashboard-user-operator <args>` with the test's kubeconfig and operator namespace.
    /// `env` adds variables (e.g. `DASHBOARD_ADMIN_SECRET` for `--url`); `stdin` is piped in.
    pub async fn cli(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> anyhow::Result<CliRun> {
        let mut cmd = Command::new(operator::binary());
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .env("POD_NAMESPACE", &self.operator_ns)
            .env_remove("DASHBOARD_ADMIN_SECRET")
            .env_remove("DASHBOARD_API_KEY")
            .env_remove("DASHBOARD_CA_FILE")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await?;
        }
        let out = tokio::time::timeout(super::wait::default_timeout(), child.wait_with_output())
            .await
            .with_context(|| format!("`{}` did not finish", args.join(" ")))??;
        let run = CliRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let what = args.first().copied().unwrap_or_default();
        self.corpus
            .text(format!("{what} stdout"), run.stdout.clone());
        self.corpus
            .text(format!("{what} stderr"), run.stderr.clone());
        Ok(run)
    }

    /// `GET /__emulator/requests` of the Tyk emulator: `{method, path, route, outcome}` each.
    pub async fn tyk_requests(&self) -> anyhow::Result<Vec<Value>> {
        anyhow::ensure!(
            self.is_emulated_dashboard(),
            "needs the Tyk emulator's request log"
        );
        Ok(http_client()
            .get(format!("{}/__emulator/requests", self.dashboard.url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}
