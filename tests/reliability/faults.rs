//! Dashboard faults (issue #9 part 2) and Kubernetes faults (part 3): a fault window while
//! users are created and edited, then recovery, full convergence and the workload checks.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Env, EnvOptions, merge};
use crate::figures::{Figures, pick};
use crate::workload::{Workload, retry};

/// Per-object backoff (docs/reference/conditions.md): 1 s doubling to 60 s, ±10 %. The most
/// reconciles one continuously failing object can get in `window`: the first at once, then
/// one after each (shortest, -10 %) delay.
pub fn backoff_attempts(window: Duration) -> u64 {
    let (mut t, mut delay, mut n) = (0.0, 0.9, 1);
    loop {
        t += delay;
        if t > window.as_secs_f64() {
            return n;
        }
        n += 1;
        delay = (delay * 2.0).min(54.0);
    }
}

/// Dashboard requests one reconcile may make at most: GET, create (or search + adopt),
/// password, key reset and its read-back, PUT.
pub const REQUESTS_PER_RECONCILE: u64 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_faults_cost_a_delay_and_nothing_else() -> anyhow::Result<()> {
    // A long resync keeps drift checks out of the request-rate figure.
    let opts = EnvOptions {
        resync: Duration::from_secs(600),
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new("dashboard-faults", opts).await?;
    if !env.needs_emulators("faults are injected by the Tyk emulator") {
        return env.finish().await;
    }
    // Hangs end at the connection's timeout.
    let mut conn = env.cluster_connection_object(&[]);
    merge(&mut conn, json!({"spec": {"timeoutSeconds": 2}}));
    env.apply(&conn).await?;
    env.start_operator().await?;
    let (users, window) = (pick(20, 60), Duration::from_secs(pick(30, 300)));

    let mutating = |kind: &str, rate: f64| {
        ["POST", "PUT", "DELETE"]
            .map(|m| json!({"kind": kind, "method": m, "rate": rate}))
            .to_vec()
    };
    let mut rules = mutating("commit_then_drop", 0.1);
    rules.extend(mutating("hang", 0.05));
    rules.extend(mutating("reset", 0.05));
    env.dashboard
        .faults(&json!({"error_rate": 0.3, "error_status": 503, "rules": rules}))
        .await?;
    let before = env.tyk_requests().await?.len();
    let started = Instant::now();
    let mut w = Workload::create(&env, users).await?;
    while started.elapsed() < window.mul_f64(0.6) {
        w.mix(&env, 2).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(window.saturating_sub(started.elapsed())).await;
    let during = env.tyk_requests().await?.len() - before;
    env.dashboard.faults(&json!({})).await?;
    let recovered = Instant::now();
    w.converge(&env, Duration::from_secs(pick(180, 600)))
        .await?;
    let convergence = recovered.elapsed();
    let counts = w.check(&env).await?;

    // Every user may be triggered by its creation and by each edit of it; each trigger then
    // backs off on failure. Bound: (users + edits) × attempts × requests per reconcile.
    let edits = w
        .members
        .values()
        .map(|m| m.passwords.len() - 1)
        .sum::<usize>() as u64;
    let triggers = users as u64 + edits + w.members.len() as u64;
    let bound = triggers * backoff_attempts(window) * REQUESTS_PER_RECONCILE;
    let mut f = Figures::new("Dashboard faults");
    f.row("users", users)
        .row("fault window", format!("{} s: 30 % 503, 5 % hang (timeout 2 s), 5 % reset, 10 % commit-then-drop on every mutating route", window.as_secs()))
        .row("Dashboard requests in the window", during)
        .row("… per user per second", format!("{:.2}", during as f64 / users as f64 / window.as_secs_f64()))
        .row("bound from per-object backoff", format!("{bound} ({triggers} triggers × {} attempts × {REQUESTS_PER_RECONCILE} requests)", backoff_attempts(window)))
        .row("convergence after recovery", format!("{:.1} s", convergence.as_secs_f64()));
    counts.rows(&mut f);
    f.print();
    anyhow::ensure!(counts.problems() == 0, "after Dashboard faults: {counts:?}");
    anyhow::ensure!(
        during as u64 <= bound,
        "{during} requests in the window, bound {bound}"
    );
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_faults_converge_without_duplicate_dashboard_writes() -> anyhow::Result<()> {
    let opts = EnvOptions {
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new("kube-faults", opts).await?;
    if !env.needs_emulators("faults are injected by the kube emulator's knobs") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let (users, window) = (pick(20, 60), Duration::from_secs(pick(20, 120)));
    env.kube_knobs(&json!({
        "faultRate": {"409": 0.1, "429": 0.05, "500": 0.05, "503": 0.05},
        "watchCloseEverySecs": 3,
        "force410OnResume": true
    }))
    .await?;
    let started = Instant::now();
    let mut w = Workload::create(&env, users).await?;
    let mut churn = 0;
    while started.elapsed() < window {
        w.mix(&env, 2).await?;
        // Watches closed by the server, and resumes that find their RV compacted away.
        retry("compact", || env.kube_control("compact")).await?;
        retry("drop watches", || env.kube_control("drop-watches")).await?;
        churn += 1;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    env.kube_knobs(
        &json!({"faultRate": {"409": 0.0, "429": 0.0, "500": 0.0, "503": 0.0},
                            "watchCloseEverySecs": 0, "force410OnResume": false}),
    )
    .await?;
    let recovered = Instant::now();
    w.converge(&env, Duration::from_secs(pick(180, 600)))
        .await?;
    let convergence = recovered.elapsed();
    let counts = w.check(&env).await?;
    let creates = env
        .tyk_requests()
        .await?
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["route"] == "/admin/users"
                && r["outcome"] == "200"
                // The harness creates its admin user the same way.
                && r["userAgent"].as_str().is_some_and(|a| a.starts_with("dashboard-user-operator"))
        })
        .count();

    let mut f = Figures::new("Kubernetes faults");
    f.row("users", users)
        .row("fault window", format!("{} s: 10 % 409 on updates, 5 % each 429/500/503, watches closed every 3 s, 410 on every resume", window.as_secs()))
        .row("forced compactions + dropped watches", churn)
        .row("successful Dashboard creates (≤ users, ≥ live users)", format!("{creates} ({} live)", w.live().count()))
        .row("convergence after recovery", format!("{:.1} s", convergence.as_secs_f64()));
    counts.rows(&mut f);
    f.print();
    anyhow::ensure!(
        counts.problems() == 0,
        "after Kubernetes faults: {counts:?}"
    );
    anyhow::ensure!(
        counts.passwords_resent == 0,
        "a Kubernetes fault made a password go twice: {counts:?}"
    );
    // At most one create per user (a user deleted before its turn may have none), and at
    // least one per live user.
    let live = w.live().count();
    anyhow::ensure!(
        creates <= users && creates >= live,
        "{creates} Dashboard creates for {users} users ({live} live)"
    );
    env.finish().await
}

#[test]
fn backoff_bound_counts_attempts() {
    assert_eq!(backoff_attempts(Duration::from_millis(500)), 1);
    // 0, 0.9, 2.7, 6.3, 13.5, 27.9 s
    assert_eq!(backoff_attempts(Duration::from_secs(30)), 6);
}
