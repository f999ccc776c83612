//! The real kubectl against our resources: printer columns, short name, and
//! `kubectl wait --for=condition=Ready` (kstatus conditions as kubectl reads them).

use std::path::PathBuf;

use tokio::process::Command;

use crate::common::Env;

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

/// `DashboardUserGroup` columns (`dbug`, category `dashboard`) and `kubectl wait` on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_group_columns() -> anyhow::Result<()> {
    let env = Env::ready("kubectl-group").await?;
    let Some(bin) = kubectl() else {
        eprintln!("SKIP kubectl-group: no kubectl binary");
        return env.finish().await;
    };
    let dname = format!("e2e-cli-{}", crate::common::random_hex(6));
    env.apply(&env.group("cli-readers", &dname)).await?;
    let target = "dashboardusergroup/cli-readers";
    let args = [
        "wait",
        "--for=condition=Ready",
        target,
        "-n",
        &env.ns,
        "--timeout=60s",
    ];
    let (ok, out) = run(&env, &bin, &args).await?;
    anyhow::ensure!(ok && out.contains("condition met"), "kubectl wait: {out}");
    let id = env.wait_group_ready("cli-readers").await?;

    let (ok, out) = run(&env, &bin, &["get", "dbug", "-n", &env.ns]).await?;
    anyhow::ensure!(ok, "kubectl get dbug failed: {out}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    anyhow::ensure!(
        rows.first().map(Vec::as_slice)
            == Some(&["NAME", "GROUP", "ID", "READY", "REASON", "AGE"][..]),
        "header {:?}",
        rows.first()
    );
    let row = rows.get(1).cloned().unwrap_or_default();
    anyhow::ensure!(
        row.len() == 6
            && row[0] == "cli-readers"
            && row[1] == dname
            && row[2] == id
            && row[3] == "True",
        "row {row:?}"
    );
    let (ok, out) = run(
        &env,
        &bin,
        &["get", "dashboard", "-n", &env.ns, "-o", "name"],
    )
    .await?;
    anyhow::ensure!(
        ok && out.contains("dashboardusergroup.userop.dev/cli-readers"),
        "kubectl get dashboard: {out}"
    );
    env.finish().await
}
