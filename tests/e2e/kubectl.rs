//! The real kubectl against our resources: printer columns, short name, and
//! `kubectl wait --for=condition=Ready` (kstatus conditions as kubectl reads them).

use serde_json::json;

use crate::common::{Env, READY, kubectl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_shows_columns_and_wait_works() -> anyhow::Result<()> {
    let env = Env::ready("kubectl").await?;
    let Some(bin) = kubectl::required(&env.test)? else {
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

    // `-o wide` adds User ID, Connection and Last Sync (printer columns of priority 1).
    let (ok, out) = env
        .kubectl(&bin, &["get", "dbu", "-n", &env.ns, "-o", "wide"], None)
        .await?;
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

/// `DashboardUserGroup` columns (`dbug`, category `dashboard`) and `kubectl wait` on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_group_columns() -> anyhow::Result<()> {
    let env = Env::ready("kubectl-group").await?;
    let Some(bin) = kubectl::required(&env.test)? else {
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
    let (ok, out) = env.kubectl(&bin, &args, None).await?;
    anyhow::ensure!(ok && out.contains("condition met"), "kubectl wait: {out}");
    let id = env.wait_group_ready("cli-readers").await?;

    let (ok, out) = env
        .kubectl(&bin, &["get", "dbug", "-n", &env.ns], None)
        .await?;
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
    let (ok, out) = env
        .kubectl(
            &bin,
            &["get", "dashboard", "-n", &env.ns, "-o", "name"],
            None,
        )
        .await?;
    anyhow::ensure!(
        ok && out.contains("dashboardusergroup.userop.dev/cli-readers"),
        "kubectl get dashboard: {out}"
    );
    env.finish().await
}

/// A Dashboard refusal shows in `kubectl describe` as the Ready condition's message, with
/// Tyk's own text (sanitised: a credential echoed by the Dashboard is redacted), and the user
/// returns to Ready once the Dashboard recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_describe_shows_the_last_dashboard_error() -> anyhow::Result<()> {
    let env = Env::ready("kubectl-describe").await?;
    let Some(bin) = kubectl::required(&env.test)? else {
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
    let (ok, out) = env
        .kubectl(&bin, &["describe", "dbu", "desc", "-n", &env.ns], None)
        .await?;
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
