//! `dashboard-user-operator run`: client, servers, leader election, controllers and
//! graceful shutdown, in that order.

use std::{collections::HashSet, future::Future, net::SocketAddr, sync::Arc};

use futures::{StreamExt, future::join_all};
use http::{HeaderValue, header::USER_AGENT};
use kube::{
    Client, ResourceExt,
    runtime::events::{Recorder, Reporter},
};

use crate::config::Config;
use crate::context::Context;
use crate::controller;
use crate::crd::{
    ClusterDashboardConnection, ConnectionKind, ConnectionRef, DashboardConnection, DashboardUser,
};
use crate::leader::{LeaderElector, LeaderError};
use crate::metrics::Metrics;
use crate::server::{self, Health};
use crate::watch::Scope;

/// The User-Agent every Kubernetes request carries (docs/reference/cli.md).
pub const USER_AGENT_VALUE: &str = concat!("dashboard-user-operator/", env!("CARGO_PKG_VERSION"));
/// Event reporter name.
pub const REPORTER: &str = "dashboard-user-operator";

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no usable kubeconfig or in-cluster configuration")]
    KubeConfig(#[source] kube::config::InferConfigError),
    #[error("building the kubernetes client")]
    Client(#[source] kube::Error),
    #[error("binding the metrics address {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("leadership lost; stopping so a fresh replica can take over")]
    LeaderLost(#[source] LeaderError),
}

/// Runs until SIGTERM/SIGINT.
pub async fn run(config: Config) -> Result<(), RunError> {
    let kube_config = kube::Config::infer().await.map_err(RunError::KubeConfig)?;
    run_with(config, kube_config, shutdown_signal()).await
}

/// Runs with an explicit Kubernetes configuration until `shutdown` resolves (the sandbox
/// and tests run the operator in-process this way).
pub async fn run_with(
    config: Config,
    mut kube_config: kube::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    kube_config
        .headers
        .push((USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE)));
    let client = Client::try_from(kube_config).map_err(RunError::Client)?;

    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let stopped = move || {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let metrics = Arc::new(Metrics::default());
    let health = Health::default();
    let (addr, server) = server::serve(
        config.metrics_addr,
        metrics.clone(),
        health.clone(),
        stopped(),
    )
    .await
    .map_err(|source| RunError::Bind {
        addr: config.metrics_addr,
        source,
    })?;
    tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "serving /metrics, /livez, /readyz");

    let elector = if config.leader_elect {
        let e = LeaderElector::new(
            client.clone(),
            &config.operator_namespace,
            &config.lease_name,
        );
        tracing::info!(identity = e.identity(), lease = %config.lease_name, "waiting for leadership");
        tokio::select! {
            _ = e.acquire() => tracing::info!("leadership acquired"),
            _ = stopped() => {
                let _ = server.await;
                return Ok(());
            }
        }
        Some(e)
    } else {
        None
    };

    let instance = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok();
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: REPORTER.into(),
            instance,
        },
    );
    let ctx = Arc::new(Context::new(client, config.clone(), recorder, metrics));
    let scope = match config.namespaces() {
        None => Scope::All,
        Some(ns) => Scope::Namespaces(ns),
    };

    let mut streams = Vec::new();
    let mut ready_waits: Vec<std::pin::Pin<Box<dyn Future<Output = bool> + Send>>> = Vec::new();
    let (reprobe, reprobe_namespaced, reprobe_cluster) = controller::Reprobe::channels();
    let (store, s) = controller::users(ctx.clone(), &scope, reprobe, stopped());
    let _ = ctx.users.set(store.clone());
    let counted = store.clone();
    ready_waits.push(Box::pin(async move { synced(&store).await }));
    streams.push(s.boxed());
    let (gstore, gs) = controller::groups(ctx.clone(), &scope, stopped());
    let _ = ctx.groups.set(gstore.clone());
    ready_waits.push(Box::pin(async move { synced(&gstore).await }));
    streams.push(gs.boxed());
    let (cstore, cs) =
        controller::namespaced_connections(ctx.clone(), &scope, reprobe_namespaced, stopped());
    let conns = cstore.clone();
    ready_waits.push(Box::pin(async move { synced(&cstore).await }));
    streams.push(cs.boxed());
    let (clstore, cls) = controller::cluster_connections(ctx.clone(), reprobe_cluster, stopped());
    let clusters = clstore.clone();
    ctx.metrics.set_users_source(Box::new(move || {
        let known = known_connections(&clusters.state(), &conns.state());
        users_gauge_rows(&counted.state(), &known)
    }));
    ready_waits.push(Box::pin(async move { synced(&clstore).await }));
    streams.push(cls.boxed());

    let ready_health = health.clone();
    tokio::spawn(async move {
        if join_all(ready_waits).await.into_iter().all(|ok| ok) {
            ready_health.set_ready(true);
            tracing::info!("caches synced; ready");
        }
    });

    let controllers = futures::stream::select_all(streams).for_each(|_| async {});
    ctx.metrics.leader.set(1);
    let result = match &elector {
        None => {
            controllers.await;
            Ok(())
        }
        Some(e) => tokio::select! {
            _ = controllers => Ok(()),
            lost = e.hold() => Err(RunError::LeaderLost(lost)),
        },
    };
    health.set_ready(false);
    ctx.metrics.leader.set(0);
    if let Some(e) = &elector
        && result.is_ok()
    {
        e.release().await;
    }
    let _ = server.await;
    tracing::info!("stopped");
    result
}

/// Labels (`cluster/<name>`, `<ns>/<name>`) of the connections that exist in the caches.
fn known_connections(
    clusters: &[Arc<ClusterDashboardConnection>],
    namespaced: &[Arc<DashboardConnection>],
) -> HashSet<String> {
    let cluster = clusters.iter().map(|c| ConnectionRef {
        kind: ConnectionKind::ClusterDashboardConnection,
        name: c.name_any(),
    });
    let cluster = cluster.map(|r| r.label(""));
    let namespaced = namespaced.iter().map(|c| {
        ConnectionRef {
            kind: ConnectionKind::DashboardConnection,
            name: c.name_any(),
        }
        .label(&c.namespace().unwrap_or_default())
    });
    cluster.chain(namespaced).collect()
}

/// The users gauge's (connection, Ready reason) per user. A user's connectionRef is
/// tenant-written and unbounded (docs/reference/metrics.md: metric labels stay bounded), so only a connection that exists keeps its
/// label; any other reference counts as `connection="unresolved"`.
fn users_gauge_rows(
    users: &[Arc<DashboardUser>],
    known: &HashSet<String>,
) -> Vec<(String, Option<String>)> {
    users
        .iter()
        .map(|u| {
            let label = u.connection_label();
            let label = if known.contains(&label) {
                label
            } else {
                UNRESOLVED_CONNECTION.to_string()
            };
            (label, u.ready_condition().map(|c| c.reason.clone()))
        })
        .collect()
}

/// The users gauge's connection label for a reference to no existing connection.
const UNRESOLVED_CONNECTION: &str = "unresolved";

/// Waits until a controller's cache has synced. The store's readiness signal wakes only
/// its most recent waiter and the controller itself waits on it too, so poll it again
/// periodically instead of trusting one wake-up.
async fn synced<K>(store: &kube::runtime::reflector::Store<K>) -> bool
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    loop {
        if let Ok(r) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            store.wait_until_ready(),
        )
        .await
        {
            return r.is_ok();
        }
    }
}

/// Resolves on SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(ns: &str, connection: serde_json::Value) -> Arc<DashboardUser> {
        let mut spec = serde_json::json!({"email": "a@example.com"});
        if !connection.is_null() {
            spec["connectionRef"] = connection;
        }
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "userop.dev/v1alpha1",
                "kind": "DashboardUser",
                "metadata": {"name": "u", "namespace": ns},
                "spec": spec,
            }))
            .expect("a valid DashboardUser"),
        )
    }

    #[test]
    fn users_gauge_labels_only_existing_connections() {
        let cluster: ClusterDashboardConnection = serde_json::from_value(serde_json::json!({
            "apiVersion": "userop.dev/v1alpha1", "kind": "ClusterDashboardConnection",
            "metadata": {"name": "default"},
            "spec": {"url": "http://127.0.0.1:1", "adminSecretRef": {"name": "a", "namespace": "s"}},
        }))
        .expect("a valid ClusterDashboardConnection");
        let own: DashboardConnection = serde_json::from_value(serde_json::json!({
            "apiVersion": "userop.dev/v1alpha1", "kind": "DashboardConnection",
            "metadata": {"name": "own", "namespace": "team-a"},
            "spec": {"url": "http://127.0.0.1:1", "apiKeySecretRef": {"name": "k"}},
        }))
        .expect("a valid DashboardConnection");
        let known = known_connections(&[Arc::new(cluster)], &[Arc::new(own)]);
        let users = [
            user("team-a", serde_json::Value::Null),
            user(
                "team-a",
                serde_json::json!({"kind": "DashboardConnection", "name": "own"}),
            ),
            // The same name in another namespace is another, missing, connection.
            user(
                "team-b",
                serde_json::json!({"kind": "DashboardConnection", "name": "own"}),
            ),
            user("team-a", serde_json::json!({"name": "made-up-0001"})),
            user(
                "team-a",
                serde_json::json!({"kind": "DashboardConnection", "name": "x9"}),
            ),
        ];
        let labels: Vec<String> = users_gauge_rows(&users, &known)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            labels,
            [
                "cluster/default",
                "team-a/own",
                "unresolved",
                "unresolved",
                "unresolved"
            ]
        );
    }
}
