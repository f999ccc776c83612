//! The real kubectl against our resources: printer columns, short name, and
//! `kubectl wait --for=condition=Ready` (kstatus conditions as kubectl reads them).

use std::path::PathBuf;

use serde_json::json;
use tokio::process::Command;

use crate::common::{Env, READY};

/// kubectl from the Google Cloud SDK (the machine image ships several versions) or PATH.
fn kubectl() -> Option<PathBuf> {
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

async fn run(env: &Env, bin: &PathBuf, args: &[&str]) -> anyhow::Result<(bool, String)> {
    let out = Command::new(bin)
        .args(args)
        .env("KUBECONFIG", &env.kubeconfig)
        // Own HOME: kubectl caches discovery under ~/.kube; tests must not share it.
        .env("HOME", &env.dir)
        .output()
        .await?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_shows_columns_and_wait_works() -> anyhow::Result<()> {
    let env = Env::ready("kubectl").await?;
    let Some(bin) = kubectl() else {
        eprintln!("SKIP kubectl: no kubectl binary");
        return env.finish().await;
    };
    let email = env.email("cli");
    env.apply(&env.user("cli", &email)).await?;

    // Started before the user is Ready: kubectl must wait for the condition, not just read it.
    let (ok, out) = run(
        &env,
        &bin,
        &[
            "wait",
            "--for=condition=Ready",
            "dashboarduser/cli",
            "-n",
            &env.ns,
            "--timeout=60s",
        ],
    )
    .await?;
    anyhow::ensure!(ok, "kubectl wait failed: {out}");
    anyhow::ensure!(out.contains("condition met"), "kubectl wait said: {out}");

    let (ok, out) = run(&env, &bin, &["get", "dashboardusers", "-n", &env.ns]).await?;
    anyhow::ensure!(ok, "kubectl get failed: {out}");
    let mut lines = out.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    anyhow::ensure!(
        header == ["NAME", "EMAIL", "ORG", "READY", "REASON", "AGE"],
        "header {header:?}"
    );
    let row: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    anyhow::ensure!(
        row.len() == 6
            && row[0] == "cli"
            && row[1] == email
            && row[2] == env.org_id
            && row[3] == "True"
            && row[4] == "Synced",
        "row {row:?}"
    );

    // `-o wide` adds User ID, Connection and Last Sync (printer columns of priority 1).
    let (ok, out) = run(&env, &bin, &["get", "dbu", "-n", &env.ns, "-o", "wide"]).await?;
    anyhow::ensure!(ok, "kubectl get -o wide failed: {out}");
    let mut lines = out.lines();
    let header = lines.next().unwrap_or_default();
    anyhow::ensure!(
        header.split_whitespace().collect::<Vec<_>>()
            == [
                "NAME",
                "EMAIL",
                "ORG",
                "READY",
                "REASON",
                "AGE",
                "USER",
                "ID",
                "CONNECTION",
                "LAST",
                "SYNC"
            ],
        "wide header {header:?}"
    );
    let user = env.get_user("cli").await?;
    let row: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let user_id = user["status"]["userId"].as_str().unwrap_or("<none>");
    let connection = format!("cluster/{}", env.connection_name);
    anyhow::ensure!(
        row.len() == 9 && row[6] == user_id && row[7] == connection,
        "wide row {row:?} (userId {user_id}, connection {connection})"
    );
    // A date column prints an age such as `3s`, never `<none>`.
    anyhow::ensure!(
        row[8].ends_with('s') || row[8].ends_with('m'),
        "Last Sync {:?}",
        row[8]
    );

    // Short name and category resolve to the same resource.
    for name in ["dbu", "dashboard"] {
        let (ok, out) = run(&env, &bin, &["get", name, "-n", &env.ns, "-o", "name"]).await?;
        anyhow::ensure!(ok, "kubectl get {name} failed: {out}");
        anyhow::ensure!(
            out.contains("dashboarduser.userop.dev/cli"),
            "kubectl get {name}: {out}"
        );
    }
    env.finish().await
}

/// A Dashboard refusal shows in `kubectl describe` as the Ready condition's message, with
/// Tyk's own text (sanitised: a credential echoed by the Dashboard is redacted), and the user
/// returns to Ready once the Dashboard recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_describe_shows_the_last_dashboard_error() -> anyhow::Result<()> {
    let env = Env::ready("kubectl-describe").await?;
    let Some(bin) = kubectl() else {
        eprintln!("SKIP kubectl-describe: no kubectl binary");
        return env.finish().await;
    };
    if !env.needs_emulators("injects a Dashboard error") {
        return env.finish().await;
    }
    let email = env.email("desc");
    env.apply(&env.user("desc", &email)).await?;
    env.wait_ready("desc").await?;

    // The drift check's GET fails with a 503 whose message echoes the admin secret.
    let tyk_text = "maintenance window: database read-only";
    let message = format!("{tyk_text} (auth {})", env.dashboard.admin_secret);
    env.dashboard
        .faults(&json!({"rules": [{
            "kind": "error", "method": "GET", "route": "/admin/users/{id}",
            "status": 503, "message": message,
        }]}))
        .await?;
    env.wait_condition("desc", READY, "False", "DashboardUnreachable")
        .await?;
    let (ok, out) = run(&env, &bin, &["describe", "dbu", "desc", "-n", &env.ns]).await?;
    anyhow::ensure!(ok, "kubectl describe failed: {out}");
    env.corpus.text("kubectl describe", out.clone());
    let ready_message = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Message:"))
        .find(|l| l.contains("status 503"))
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(
        ready_message.contains(tyk_text) && ready_message.contains("<redacted>"),
        "describe shows no sanitised Dashboard error in a condition message:\n{out}"
    );

    env.dashboard.faults(&json!({})).await?;
    env.wait_ready("desc").await?;
    env.finish().await
}
