//! Two replicas (issue #9 part 4): two operator processes with `--leader-elect`; the leader
//! is killed (SIGKILL, and separately SIGTERM) mid-convergence. The follower takes over
//! within the Lease duration (plus its retry period), and no Dashboard write is ever made
//! by both: every write carries its replica in the User-Agent, and the old leader's last
//! request comes before the new leader's first.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, Operator};
use crate::figures::{Figures, pick};
use crate::workload::Workload;

/// `src/leader.rs`: Lease duration and the follower's retry period.
const LEASE: Duration = Duration::from_secs(15);
const RETRY: Duration = Duration::from_secs(2);

fn replica(r: &Value) -> Option<&str> {
    let ua = r["userAgent"].as_str()?;
    ua.strip_prefix("dashboard-user-operator/")?
        .split_once(" (replica ")
        .map(|(_, id)| id.trim_end_matches(')'))
}

async fn handover(graceful: bool) -> anyhow::Result<()> {
    let what = if graceful { "SIGTERM" } else { "SIGKILL" };
    let opts = EnvOptions {
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new(&format!("replicas-{}", what.to_lowercase()), opts).await?;
    if !env.needs_emulators("the Tyk emulator's request log tells replicas apart") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    let base = env.op_cfg.clone();
    let with = |id: &str| {
        let mut c = base.clone();
        c.extra_args
            .extend(["--leader-elect", "--replica-id", id].map(String::from));
        c
    };
    env.op_cfg = with("a");
    env.start_operator().await?; // a holds the Lease once it is ready
    let b = Operator::spawn_live(&with("b"), env.logs.clone()).await?;
    // Slow writes, so the handover lands mid-convergence.
    env.dashboard
        .faults(&json!({"rules": [{"kind": "latency", "method": "POST", "latency_ms": 100}]}))
        .await?;
    let users = pick(30, 200);
    let w = Workload::create(&env, users).await?;
    let started = Instant::now();
    loop {
        let creates = env
            .tyk_requests()
            .await?
            .iter()
            .filter(|r| r["method"] == "POST" && replica(r) == Some("a"))
            .count();
        if creates >= users / 3 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if graceful {
        env.stop_operator().await?; // exit 0 and the Lease released
    } else {
        env.kill_operator().await?;
    }
    env.operator = Some(b);
    let converged = w
        .converge(&env, Duration::from_secs(pick(120, 300)))
        .await?;
    env.dashboard.faults(&json!({})).await?;
    let counts = w.check(&env).await?;

    let log = env.tyk_requests().await?;
    let operator_writes: Vec<&Value> = log
        .iter()
        .filter(|r| r["method"] != "GET")
        .filter(|r| {
            r["userAgent"]
                .as_str()
                .is_some_and(|a| a.starts_with("dashboard-user-operator"))
        })
        .collect();
    let untagged = operator_writes
        .iter()
        .filter(|r| replica(r).is_none())
        .count();
    let at = |id: &str, first: bool| {
        let times = log
            .iter()
            .filter(|r| replica(r) == Some(id))
            .filter_map(|r| r["atMs"].as_u64());
        if first { times.min() } else { times.max() }
    };
    let (a_last, b_first) = (at("a", false), at("b", true));
    let by = |id: &str| {
        operator_writes
            .iter()
            .filter(|r| replica(r) == Some(id))
            .count()
    };
    let takeover = match (a_last, b_first) {
        (Some(a), Some(b)) => Duration::from_millis(b.saturating_sub(a)),
        _ => {
            anyhow::bail!("both replicas must have worked: a last {a_last:?}, b first {b_first:?}")
        }
    };

    let mut f = Figures::new(&format!("Two replicas, leader stopped by {what}"));
    f.row("users", users)
        .row(
            "Dashboard writes by a / by b / untagged",
            format!("{} / {} / {untagged}", by("a"), by("b")),
        )
        .row(
            "a's last request → b's first request",
            format!("{:.1} s", takeover.as_secs_f64()),
        )
        .row(
            "bound (Lease duration + retry period)",
            format!("{} s", (LEASE + RETRY).as_secs()),
        )
        .row(
            "requests of a after b's first (must be 0)",
            log.iter()
                .filter(|r| replica(r) == Some("a") && r["atMs"].as_u64() > b_first)
                .count(),
        )
        .row(
            "convergence after the handover",
            format!("{:.1} s", converged.as_secs_f64()),
        );
    counts.rows(&mut f);
    f.print();
    anyhow::ensure!(
        untagged == 0,
        "{untagged} operator writes without a replica tag"
    );
    anyhow::ensure!(
        a_last < b_first,
        "both replicas were active at once: a's last at {a_last:?} ms, b's first at {b_first:?} ms"
    );
    anyhow::ensure!(takeover <= LEASE + RETRY, "takeover took {takeover:?}");
    anyhow::ensure!(counts.problems() == 0, "after the handover: {counts:?}");
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_takes_over_after_the_leader_is_killed() -> anyhow::Result<()> {
    handover(false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_takes_over_after_the_leader_is_terminated() -> anyhow::Result<()> {
    handover(true).await
}
