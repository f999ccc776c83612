//! The real kubectl as a test client: found in the Google Cloud SDK (the machine image ships
//! several versions) or on PATH, run with the test's kubeconfig and its own HOME.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::Env;

/// kubectl for a test that drives it: an error when the machine has none, since docs/design.md §6
/// drives the suite with the real kubectl and a silent pass would hide the gap. Only with
/// `E2E_ALLOW_NO_KUBECTL=1` is a missing kubectl a `SKIP` (`Ok(None)`).
pub fn required(test: &str) -> anyhow::Result<Option<PathBuf>> {
    let allow = std::env::var("E2E_ALLOW_NO_KUBECTL").is_ok_and(|v| v == "1");
    resolve(binary(), allow, test)
}

/// `required`'s decision, apart from the environment so a unit test can pin it.
fn resolve(found: Option<PathBuf>, allow: bool, test: &str) -> anyhow::Result<Option<PathBuf>> {
    match found {
        Some(bin) => Ok(Some(bin)),
        None if allow => {
            eprintln!("SKIP {test}: no kubectl binary (E2E_ALLOW_NO_KUBECTL=1)");
            Ok(None)
        }
        None => anyhow::bail!(
            "{test}: no kubectl binary (looked in /usr/lib/google-cloud-sdk/bin and PATH); \
             install kubectl or set E2E_ALLOW_NO_KUBECTL=1 to skip"
        ),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_kubectl_fails_unless_explicitly_allowed() {
        let err = resolve(None, false, "t").unwrap_err().to_string();
        assert!(err.contains("E2E_ALLOW_NO_KUBECTL=1"), "{err}");
        assert!(resolve(None, true, "t").unwrap().is_none());
        let bin = PathBuf::from("/x/kubectl");
        assert_eq!(resolve(Some(bin.clone()), false, "t").unwrap(), Some(bin));
    }
}
