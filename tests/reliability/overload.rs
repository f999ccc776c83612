//! Resync overload (the long crash loop's finding): a resync period that more users than the
//! reconcile slots can serve must cost drift-check frequency, never new work. kube-runtime
//! holds expired requests in a hash set while every slot is busy and takes the next one in
//! hash order, so under sustained overload the same objects win every free slot and others
//! wait forever; the operator paces its resyncs to keep that overload from building up.

use std::time::Duration;

use serde_json::json;

use crate::common::{Env, EnvOptions};
use crate::figures::{Figures, pick};
use crate::workload::{Workload, retry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_overload_never_starves_new_work() -> anyhow::Result<()> {
    // 1 s resync, 2 slots, 100 ms per Dashboard request: ~18 reconciles/s of capacity
    // against 60 (long: 300) asked for every second by the resyncs alone.
    let opts = EnvOptions {
        resync: Duration::from_secs(1),
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new("resync-overload", opts).await?;
    if !env.needs_emulators("Dashboard latency comes from the Tyk emulator's fault rules") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    env.op_cfg.extra_args = vec!["--concurrency".into(), "2".into()];
    env.start_operator().await?;
    env.dashboard.faults(&json!({"latency_ms": 100})).await?;
    let users = pick(60, 300);
    let w = Workload::create(&env, users).await?;
    let created = w.converge(&env, Duration::from_secs(180)).await?;

    // New work while the resyncs keep the slots busy: every user's spec changes.
    for m in w.live() {
        let patch = json!({"spec": {"lastName": "Edited"}});
        retry("spec edit", || env.patch_user(&m.name, &patch)).await?;
    }
    let edited = w.converge(&env, Duration::from_secs(180)).await?;
    let metrics = env.operator.as_ref().expect("running").metrics().await?;
    let period = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                "dashboard_user_operator_resync_period_seconds{controller=\"dashboarduser\"}",
            )
        })
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or_default();
    env.dashboard.faults(&json!({})).await?;
    let remote = env.dashboard.emu_users().await?;
    let stale = remote
        .iter()
        .filter(|u| {
            !u["email_address"]
                .as_str()
                .unwrap_or("")
                .starts_with("e2e-admin-")
        })
        .filter(|u| u["last_name"] != "Edited")
        .count();
    let counts = w.check(&env).await?;

    let mut f = Figures::new("Resync overload");
    f.row("users", users)
        .row("resync asked / slots", "1 s / 2")
        .row("resync period in use", format!("{period:.1} s"))
        .row(
            "all Ready after creation",
            format!("{:.1} s", created.as_secs_f64()),
        )
        .row(
            "all edits applied after",
            format!("{:.1} s", edited.as_secs_f64()),
        )
        .row("Dashboard users without the edit", stale);
    counts.rows(&mut f);
    f.print();
    // The pacing is what made room: 60 users × ~0.1 s over 2 slots × ½ is ≥ 6 s.
    anyhow::ensure!(period > 2.0, "resync period not stretched: {period} s");
    anyhow::ensure!(stale == 0, "{stale} Dashboard users lack the edit");
    anyhow::ensure!(counts.problems() == 0, "overload left problems: {counts:?}");
    env.finish().await
}
