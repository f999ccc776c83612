//! The real kubectl as a test client: found in the Google Cloud SDK (the machine image ships
//! several versions) or on PATH, run with the test's kubeconfig and its own HOME.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::Env;

/// kubectl from the Google Cloud SDK or PATH; `None` when the machine has none.
pub fn binary() -> Option<PathBuf> {
    let sdk = PathBuf::from("/usr/lib/google-cloud-sdk/bin/kubectl");
    if sdk.exists() {
        return Some(sdk);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|f| f.exists())
    })
}

impl Env {
    /// Runs kubectl with `args` (and `stdin`, for `apply -f -`); returns (success, stdout+stderr).
    pub async fn kubectl(
        &self,
        bin: &PathBuf,
        args: &[&str],
        stdin: Option<&str>,
    ) -> anyhow::Result<(bool, String)> {
        let mut child = Command::new(bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            // Own HOME: kubectl caches discovery under ~/.kube; tests must not share it.
            .env("HOME", &self.dir)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await?;
            drop(pipe);
        }
        let out = child.wait_with_output().await?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.success(), text))
    }
}
