//! `--watch-namespaces a,b,c`: one controller fed by one watch per namespace — one queue and
//! one concurrency limit — including a namespace created after the operator started.

use serde_json::json;

use crate::common::{Env, EnvOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_controller_serves_three_namespaces() -> anyhow::Result<()> {
    let mut env = Env::new("namespaces", EnvOptions::default()).await?;
    let b = env.extra_namespace("team-b").await?;
    // Named in the flag, created only once the operator runs: a namespaced list of a missing
    // namespace is an empty list, and the watch then sees the namespace's objects appear.
    let c = env.ns.replace("team-a", "team-c");
    env.create_cluster_connection(&[&b, &c]).await?;
    env.op_cfg.watch_namespaces = vec![
        env.operator_ns.clone(),
        env.ns.clone(),
        b.clone(),
        c.clone(),
    ];
    env.op_cfg.extra_args = vec!["--concurrency".into(), "1".into()];
    env.start_operator().await?;
    env.wait_cluster_connection_ready("True").await?;

    let emulated = env.is_emulated_dashboard();
    if emulated {
        // Every Dashboard call is slow, so reconciles of different namespaces would overlap
        // if each namespace had its own queue.
        env.dashboard.faults(&json!({"latency_ms": 150})).await?;
        env.dashboard.reset_stats().await?;
    }
    env.namespace(&c).await?;
    let namespaces = [env.ns.clone(), b.clone(), c.clone()];
    for ns in &namespaces {
        for name in ["one", "two"] {
            let mut u = env.user(name, &env.email(name));
            u["metadata"]["namespace"] = json!(ns);
            env.apply(&u).await?;
        }
    }
    for ns in &namespaces {
        for name in ["one", "two"] {
            env.wait_ready_in(ns, name).await?;
        }
    }
    if emulated {
        let stats = env.tyk_stats().await?;
        let max = stats.0["max_in_flight"].as_u64().unwrap_or(0);
        anyhow::ensure!(
            max == 1,
            "--concurrency 1 across three namespaces, yet {max} Dashboard requests ran at once"
        );
        env.dashboard.faults(&json!({})).await?;
    }
    if env.is_emulated_cluster() {
        // The users, groups and cluster-connection-status controllers each watch the cluster
        // connections once, however many namespaces there are (a controller per namespace
        // would add one watch per namespace and controller).
        let log = env.kube_requests().await?;
        let cluster_conn_watches = log
            .iter()
            .filter(|e| {
                e["userAgent"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("dashboard-user-operator")
                    && e["verb"] == "watch"
                    && e["resource"] == "clusterdashboardconnections"
            })
            .count();
        anyhow::ensure!(
            (1..=3).contains(&cluster_conn_watches),
            "{cluster_conn_watches} watches of ClusterDashboardConnections"
        );
    }
    env.finish().await
}
