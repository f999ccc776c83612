//! `steady`: after convergence, two resync periods with nothing changing. A steady state
//! must write to neither API server and read each user from the Dashboard about once per
//! resync period (docs/behaviour.md "Drift").

use std::time::Duration;

use serde_json::{Value, json};

use super::converge::round3;
use crate::env::{Env, delta};

/// Lets reconciles still queued from convergence finish before the window opens.
const QUIET_BEFORE: Duration = Duration::from_secs(3);

pub async fn run(env: &mut Env) -> anyhow::Result<Value> {
    super::ensure_converged(env).await?;
    // Convergence ran with the operator's default resync: a short one there would have
    // re-reconciled converged users while new ones waited. Now restart with the short one.
    if env.resync != env.opts.resync_period {
        eprintln!(
            "steady: restarting the operator with --resync-period {:?}",
            env.opts.resync_period
        );
        env.restart_operator(env.opts.resync_period).await?;
        env.wait_first_pass("steady").await?;
    }
    tokio::time::sleep(QUIET_BEFORE).await;
    let n = env.users;
    let period = env.opts.resync_period;
    let window = period * 2;
    let (k0, t0) = (env.kube_counts(), env.tyk_counts());
    let mut progress = crate::progress::Progress::new("steady", "users Ready");
    let start = std::time::Instant::now();
    while start.elapsed() < window {
        progress.update(env.ready_users(), n, start.elapsed());
        anyhow::ensure!(env.operator_alive(), "the operator exited during steady");
        tokio::time::sleep(Duration::from_millis(500).min(window)).await;
    }
    progress.done(env.ready_users(), n, start.elapsed());
    let (k1, t1) = (env.kube_counts(), env.tyk_counts());
    // Stretched when the checks would take over half of the slots (docs/behaviour.md "Drift"); the
    // reads per resync below are per *configured* period.
    let in_use = env.operator()?.user_resync_period().await?;
    let reads = t1.reads - t0.reads;
    let user_reads = t1.user_reads - t0.user_reads;
    Ok(json!({
        "users": n,
        "resync_period_seconds": period.as_secs_f64(),
        "resync_period_in_use_seconds": in_use,
        "window_seconds": window.as_secs_f64(),
        "dashboard_writes": t1.writes - t0.writes,
        "dashboard_calls": t1.calls - t0.calls,
        "dashboard_reads": reads,
        "kube_writes": k1.writes - k0.writes,
        "dashboard_calls_by_route": delta(&t0.by_route, &t1.by_route),
        "kube_writes_by_kind": delta(&k0.writes_by_kind, &k1.writes_by_kind),
        "dashboard_user_reads": user_reads,
        // Per user: the drift GETs of user objects; `dashboard_reads` has every GET.
        "dashboard_reads_per_user_per_resync": round3(user_reads as f64 / n as f64 / 2.0),
    }))
}
