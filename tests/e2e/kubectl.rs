//! The real kubectl against our resources: printer columns, short name, and
//! `kubectl wait --for=condition=Ready` (kstatus conditions as kubectl reads them).

use crate::common::{Env, kubectl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_shows_columns_and_wait_works() -> anyhow::Result<()> {
    let env = Env::ready("kubectl").await?;
    let Some(bin) = kubectl::binary() else {
        eprintln!("SKIP kubectl: no kubectl binary");
        return env.finish().await;
    };
    let email = env.email("cli");
    env.apply(&env.user("cli", &email)).await?;

    // Started before the user is Ready: kubectl must wait for the condition, not just read it.
    let (ok, out) = env
        .kubectl(
            &bin,
            &[
                "wait",
                "--for=condition=Ready",
                "dashboarduser/cli",
                "-n",
                &env.ns,
                "--timeout=60s",
            ],
            None,
        )
        .await?;
    anyhow::ensure!(ok, "kubectl wait failed: {out}");
    anyhow::ensure!(out.contains("condition met"), "kubectl wait said: {out}");

    let (ok, out) = env
        .kubectl(&bin, &["get", "dashboardusers", "-n", &env.ns], None)
        .await?;
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
        let (ok, out) = env
            .kubectl(&bin, &["get", name, "-n", &env.ns, "-o", "name"], None)
            .await?;
        anyhow::ensure!(ok, "kubectl get {name} failed: {out}");
        anyhow::ensure!(
            out.contains("dashboarduser.userop.dev/cli"),
            "kubectl get {name}: {out}"
        );
    }
    env.finish().await
}
