//! Steady state makes no writes to either server (docs/design.md §3.1 "write status once, only if
//! it changed"; §3.5 "PUT only if something differs").

use serde_json::{Value, json};

use crate::common::{Env, merge};
use crate::support::let_resyncs_pass;

const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// The operator's mutating Kubernetes requests, from the emulator's request log.
fn operator_writes(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|e| {
            e["userAgent"]
                .as_str()
                .unwrap_or_default()
                .starts_with("dashboard-user-operator")
                && WRITE_VERBS.contains(&e["verb"].as_str().unwrap_or_default())
        })
        .map(|e| {
            format!(
                "{} {}",
                e["verb"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// `(changed, noop)` from the kube emulator's `GET /__emulator/stats`.
fn kube_write_count(stats: &Value) -> (u64, u64) {
    let w = &stats["writes"];
    (
        w["changed"].as_u64().unwrap_or(0),
        w["noop"].as_u64().unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_state_makes_no_writes() -> anyhow::Result<()> {
    // `quiet` is an admin (IsAdmin), which the connection must allow.
    let env = Env::ready_with_policy("steady", json!({"allowAdminUsers": true})).await?;
    if !env.needs_emulators("request log, stats") {
        return env.finish().await;
    }
    // One plain user and one with a password, permissions and a custom access Secret.
    env.apply(&env.user("calm", &env.email("calm"))).await?;
    let pw = env.password();
    env.put_password("quiet-pw", &pw).await?;
    let mut q = env.user("quiet", &env.email("Quiet.Mixed"));
    merge(
        &mut q,
        json!({"spec": {
            "passwordSecretRef": {"name": "quiet-pw"},
            "permissions": {"apis": "read", "IsAdmin": "admin"},
            "accessKeySecret": {"name": "quiet-creds", "labels": {"team": "e2e"}}
        }}),
    );
    env.apply(&q).await?;
    env.wait_ready("calm").await?;
    env.wait_ready("quiet").await?;
    // Let the dust settle (first resync after create).
    let_resyncs_pass(&env, 2).await?;

    let kube_before = operator_writes(&env.kube_requests().await?).len();
    let kube_stats_before = kube_write_count(&env.kube_stats().await?);
    // The setup wrote plenty: zero here would mean the counters are not where we read them.
    anyhow::ensure!(
        kube_stats_before.0 > 0,
        "kube emulator stats show no writes at all"
    );
    let tyk_before = env.tyk_stats().await?.writes();
    // Two resyncs of each of the two users.
    let_resyncs_pass(&env, 4).await?;
    let kube_log = env.kube_requests().await?;
    let kube_writes = operator_writes(&kube_log);
    let tyk_after = env.tyk_stats().await?.writes();
    let kube_stats_after = kube_write_count(&env.kube_stats().await?);

    anyhow::ensure!(
        kube_writes.len() == kube_before,
        "the operator wrote to Kubernetes in steady state: {:?}",
        &kube_writes[kube_before..]
    );
    // The emulator's own counters agree (changed and no-op writes alike; nothing else writes).
    anyhow::ensure!(
        kube_stats_after == kube_stats_before,
        "Kubernetes write counters moved in steady state: {kube_stats_before:?} -> {kube_stats_after:?}"
    );
    anyhow::ensure!(
        tyk_after == tyk_before,
        "{} Dashboard writes in steady state",
        tyk_after - tyk_before
    );
    env.finish().await
}
