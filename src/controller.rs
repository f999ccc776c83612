//! Wiring of the kube-runtime controllers: what is watched and what it triggers
//! (DESIGN §3.7).

use std::sync::Arc;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, ResourceExt,
    core::PartialObjectMeta,
    runtime::{
        Controller,
        controller::{self, Action},
        reflector::{ObjectRef, Store},
        watcher,
    },
};

use crate::connection_status;
use crate::context::Context;
use crate::crd::{
    ClusterDashboardConnection, ConnectionKind, DashboardConnection, DashboardUser,
    MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::reconcile::{self, ReconcileError};
use crate::watch::{self, Scope};

fn users_of_connection(
    store: &Store<DashboardUser>,
    kind: ConnectionKind,
    ns: Option<&str>,
    name: &str,
) -> Vec<ObjectRef<DashboardUser>> {
    store
        .state()
        .iter()
        .filter(|u| {
            let c = u.connection();
            c.kind == kind && c.name == name && (ns.is_none() || u.namespace().as_deref() == ns)
        })
        .map(|u| ObjectRef::from(u.as_ref()))
        .collect()
}

/// The one DashboardUser controller for `scope`: a watch per namespace feeding one store,
/// one queue and one concurrency limit (crate::watch). Returns its store (for readiness and
/// claimed-id checks) and the stream that drives it.
pub fn users(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardUser>, impl Stream<Item = ()> + Send) {
    let client = &ctx.client;
    let (store, users) =
        watch::reflector::<DashboardUser>(client, scope, watcher::Config::default().any_semantic());
    let owned = watch::touched::<Secret>(
        client,
        scope,
        watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")),
    );
    // `PartialObjectMeta` lists and watches metadata only (kube 5): thousands of password
    // Secrets cost little memory and their data never reaches the operator here.
    let password_secrets =
        watch::touched::<PartialObjectMeta<Secret>>(client, scope, watcher::Config::default());
    let conns = watch::touched::<DashboardConnection>(client, scope, watcher::Config::default());
    let cluster_conns: Api<ClusterDashboardConnection> = Api::all(client.clone());

    let controller = Controller::for_stream(users, store.clone());
    let (s1, s2) = (store.clone(), store.clone());
    let index_ctx = ctx.clone();
    let controller = controller
        .owns_stream(owned)
        // The reverse index turns a password Secret event into the users reading it.
        .watches_stream(password_secrets, move |s: PartialObjectMeta<Secret>| {
            let ns = s.namespace().unwrap_or_default();
            index_ctx
                .users_of_password_secret(&ns, &s.name_any())
                .into_iter()
                .map(move |name| ObjectRef::new(&name).within(&ns))
        })
        .watches_stream(conns, move |c: DashboardConnection| {
            users_of_connection(
                &s1,
                ConnectionKind::DashboardConnection,
                c.namespace().as_deref(),
                &c.name_any(),
            )
        })
        .watches(
            cluster_conns,
            watcher::Config::default(),
            move |c: ClusterDashboardConnection| {
                users_of_connection(
                    &s2,
                    ConnectionKind::ClusterDashboardConnection,
                    None,
                    &c.name_any(),
                )
            },
        )
        .with_config(controller::Config::default().concurrency(ctx.config.concurrency))
        .graceful_shutdown_on(shutdown);
    let stream = controller
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .map(log_result::<DashboardUser>);
    (store, stream)
}

fn log_result<K: kube::Resource>(
    r: Result<(ObjectRef<K>, Action), controller::Error<ReconcileError, watcher::Error>>,
) where
    K::DynamicType: std::fmt::Debug,
{
    match r {
        Ok((obj, _)) => tracing::debug!(object = %obj.name, "reconciled"),
        // Reconcile errors were already logged by error_policy with their context.
        Err(controller::Error::ReconcilerFailed(..)) => {}
        Err(e) => tracing::warn!(error = %e, "controller event"),
    }
}

/// Controller keeping `DashboardConnection` status current in `scope` (one for all its
/// namespaces, like the users controller).
pub fn namespaced_connections(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardConnection>, impl Stream<Item = ()> + Send) {
    let (store, conns) =
        watch::reflector::<DashboardConnection>(&ctx.client, scope, watcher::Config::default());
    let c = Controller::for_stream(conns, store.clone()).graceful_shutdown_on(shutdown);
    let stream = c
        .run(
            connection_status::reconcile_namespaced,
            connection_status::error_policy,
            ctx,
        )
        .map(log_result::<DashboardConnection>);
    (store, stream)
}

/// Controller keeping `ClusterDashboardConnection` status current.
pub fn cluster_connections(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (
    Store<ClusterDashboardConnection>,
    impl Stream<Item = ()> + Send,
) {
    let api: Api<ClusterDashboardConnection> = Api::all(ctx.client.clone());
    let c = Controller::new(api, watcher::Config::default()).graceful_shutdown_on(shutdown);
    let store = c.store();
    let stream = c
        .run(
            connection_status::reconcile_cluster,
            connection_status::error_policy,
            ctx,
        )
        .map(log_result::<ClusterDashboardConnection>);
    (store, stream)
}
