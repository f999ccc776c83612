//! Crash loop (issue #9 part 1): while users converge — created, then password edits, spec
//! edits and deletions mixed in — SIGKILL the operator at random moments, half of them
//! while a Dashboard write is in flight (the Tyk emulator's in-flight gauge, with a little
//! latency on writes so there is a window to hit), restarting it each time.

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use crate::common::{Env, EnvOptions};
use crate::figures::{Figures, pick};
use crate::workload::Workload;

/// Polls the in-flight gauge; true once a write is being served.
async fn write_in_flight(env: &Env, within: Duration) -> anyhow::Result<bool> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if env.tyk_in_flight_writes().await? > 0 {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_never_duplicates_orphans_or_loses_a_user() -> anyhow::Result<()> {
    // No password history: a password re-sent after a crash is then accepted and counted,
    // instead of being refused (docs/operations/limitations.md lists it).
    let opts = EnvOptions {
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new("crash-loop", opts).await?;
    if !env.needs_emulators("kill timing uses the Tyk emulator's in-flight gauge") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let (users, kills) = (pick(60, 500), pick(10, 100));
    // Writes take 50–150 ms, so a kill can land while one is in flight.
    env.dashboard
        .faults(&json!({"latency_ms": 50, "rules": [
            {"kind": "latency", "method": "POST", "latency_ms": 100},
            {"kind": "latency", "method": "PUT", "latency_ms": 100},
            {"kind": "latency", "method": "DELETE", "latency_ms": 100}
        ]}))
        .await?;
    let mut w = Workload::create(&env, users).await?;
    let mut in_flight = 0;
    for k in 0..kills {
        if k > 0 {
            w.mix(&env, pick(4, 8)).await?;
        }
        if k % 2 == 0 {
            if write_in_flight(&env, Duration::from_secs(10)).await? {
                in_flight += 1;
            }
        } else {
            let ms = rand::rng().random_range(50..1500);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        env.kill_operator().await?;
        env.start_operator().await?;
    }
    let after_last = w
        .converge(&env, Duration::from_secs(pick(180, 900)))
        .await?;
    env.dashboard.faults(&json!({})).await?;
    let counts = w.check(&env).await?;

    let mut f = Figures::new("Crash loop");
    f.row(
        "users (created; live at the end)",
        format!("{users}; {}", w.live().count()),
    )
    .row("SIGKILLs", kills)
    .row("… of them with a Dashboard write in flight", in_flight)
    .row(
        "convergence after the last kill",
        format!("{:.1} s", after_last.as_secs_f64()),
    );
    counts.rows(&mut f);
    f.print();
    anyhow::ensure!(
        counts.problems() == 0,
        "crash loop left problems: {counts:?}"
    );
    anyhow::ensure!(
        in_flight * 4 >= kills,
        "only {in_flight} of {kills} kills hit a write in flight"
    );
    env.finish().await
}
