//! Wiring of the kube-runtime controllers: what is watched and what it triggers
//! (docs/design.md §3.7).

use std::sync::Arc;

use futures::{
    Stream, StreamExt,
    channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded},
};
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
    ClusterDashboardConnection, ConnectionKind, ConnectionRef, DashboardConnection, DashboardUser,
    DashboardUserGroup, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::reconcile::{self, ReconcileError};
use crate::watch::{self, Scope};

/// Hands the labels of connections whose Secrets changed from the users controller's Secret
/// watch to the two connection controllers, so one metadata watch of Secrets serves all three.
pub struct Reprobe {
    namespaced: UnboundedSender<String>,
    cluster: UnboundedSender<String>,
}

impl Reprobe {
    /// The sender, and the receivers for [`namespaced_connections`] and [`cluster_connections`].
    pub fn channels() -> (
        Reprobe,
        UnboundedReceiver<String>,
        UnboundedReceiver<String>,
    ) {
        let (namespaced, rx_ns) = unbounded();
        let (cluster, rx_cl) = unbounded();
        (
            Reprobe {
                namespaced,
                cluster,
            },
            rx_ns,
            rx_cl,
        )
    }

    fn send(&self, labels: &[String]) {
        for l in labels {
            // A closed receiver means its controller has stopped (shutdown): nothing to do.
            let _ = self.namespaced.unbounded_send(l.clone());
            let _ = self.cluster.unbounded_send(l.clone());
        }
    }
}

/// Objects (users or groups) in `store` that use the connection `kind`/`name` (`ns`: the
/// namespaced connection's namespace).
fn users_of_connection<K>(
    store: &Store<K>,
    connection: impl Fn(&K) -> ConnectionRef,
    kind: ConnectionKind,
    ns: Option<&str>,
    name: &str,
) -> Vec<ObjectRef<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store
        .state()
        .iter()
        .filter(|o| {
            let c = connection(o);
            c.kind == kind
                && c.name == name
                && (ns.is_none() || o.meta().namespace.as_deref() == ns)
        })
        .map(|o| ObjectRef::from(o.as_ref()))
        .collect()
}

/// Watches both connection kinds (namespaced ones per namespace of `scope`), requeueing the
/// objects of `store` that use a changed one.
fn on_connections<K>(
    c: Controller<K>,
    scope: &Scope,
    client: &kube::Client,
    store: Store<K>,
    connection: fn(&K) -> ConnectionRef,
) -> Controller<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let conns = watch::touched::<DashboardConnection>(client, scope, watcher::Config::default());
    let cluster_conns: Api<ClusterDashboardConnection> = Api::all(client.clone());
    let s2 = store.clone();
    c.watches_stream(conns, move |c: DashboardConnection| {
        users_of_connection(
            &store,
            connection,
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
                connection,
                ConnectionKind::ClusterDashboardConnection,
                None,
                &c.name_any(),
            )
        },
    )
}

/// The one DashboardUser controller for `scope`: a watch per namespace feeding one store,
/// one queue and one concurrency limit (crate::watch). Returns its store (for readiness and
/// claimed-id checks) and the stream that drives it.
pub fn users(
    ctx: Arc<Context>,
    scope: &Scope,
    reprobe: Reprobe,
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
    // Secrets cost little memory and their data never reaches the operator here. The same
    // watch serves the connections' Secrets (admin secret, API key, CA), which for cluster
    // connections live in the operator's namespace, watched too for that reason.
    let secrets = watch::touched::<PartialObjectMeta<Secret>>(
        client,
        &scope.including(&ctx.config.operator_namespace),
        watcher::Config::default(),
    );
    let groups = watch::touched::<DashboardUserGroup>(client, scope, watcher::Config::default());

    let controller = Controller::for_stream(users, store.clone());
    let (s1, s3) = (store.clone(), store.clone());
    let index_ctx = ctx.clone();
    let controller = controller
        .owns_stream(owned)
        // Reverse indexes turn a Secret event into the users reading it: as their password,
        // or through their connection (whose controllers re-probe it).
        .watches_stream(secrets, move |s: PartialObjectMeta<Secret>| {
            let ns = s.namespace().unwrap_or_default();
            let name = s.name_any();
            let mut users: Vec<ObjectRef<DashboardUser>> = index_ctx
                .users_of_password_secret(&ns, &name)
                .into_iter()
                .map(|user| ObjectRef::new(&user).within(&ns))
                .collect();
            let connections = index_ctx.clients.connections_reading(&ns, &name);
            if !connections.is_empty() {
                tracing::debug!(secret = %format!("{ns}/{name}"), ?connections, "connection secret changed; re-probing and requeueing its users");
                reprobe.send(&connections);
                users.extend(s3.state().iter().filter(|u| connections.contains(&u.connection_label())).map(|u| ObjectRef::from(u.as_ref())));
            }
            users
        })
        // A group getting (or changing) its Dashboard id requeues the users naming it.
        .watches_stream(groups, move |g: DashboardUserGroup| {
            let ns = g.namespace();
            let name = g.name_any();
            s1.state()
                .iter()
                .filter(|u| {
                    u.namespace() == ns && u.spec.group_ref.as_ref().is_some_and(|r| r.name == name)
                })
                .map(|u| ObjectRef::from(u.as_ref()))
                .collect::<Vec<_>>()
        });
    let controller = on_connections(
        controller,
        scope,
        client,
        store.clone(),
        DashboardUser::connection,
    )
    .with_config(controller::Config::default().concurrency(ctx.config.concurrency))
    .graceful_shutdown_on(shutdown);
    let stream = controller
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .map(log_result::<DashboardUser>);
    (store, stream)
}

/// The one DashboardUserGroup controller for `scope` (like the users controller).
pub fn groups(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardUserGroup>, impl Stream<Item = ()> + Send) {
    let client = &ctx.client;
    let (store, groups) = watch::reflector::<DashboardUserGroup>(
        client,
        scope,
        watcher::Config::default().any_semantic(),
    );
    let users = watch::touched::<DashboardUser>(client, scope, watcher::Config::default());
    let controller = Controller::for_stream(groups, store.clone());
    let s1 = store.clone();
    // A held deletion (users still name the group) is re-checked when any user of that
    // namespace changes: the user's previous groupRef is not known after its update.
    let controller = controller.watches_stream(users, move |u: DashboardUser| {
        let ns = u.namespace();
        s1.state()
            .iter()
            .filter(|g| g.namespace() == ns && g.metadata.deletion_timestamp.is_some())
            .map(|g| ObjectRef::from(g.as_ref()))
            .collect::<Vec<_>>()
    });
    let controller = on_connections(
        controller,
        scope,
        client,
        store.clone(),
        DashboardUserGroup::connection,
    )
    .with_config(controller::Config::default().concurrency(ctx.config.concurrency))
    .graceful_shutdown_on(shutdown);
    let stream = controller
        .run(crate::group::reconcile, crate::group::error_policy, ctx)
        .map(log_result::<DashboardUserGroup>);
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
    secret_changed: UnboundedReceiver<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardConnection>, impl Stream<Item = ()> + Send) {
    let (store, conns) =
        watch::reflector::<DashboardConnection>(&ctx.client, scope, watcher::Config::default());
    let known = store.clone();
    let reprobe = secret_changed.filter_map(move |label| {
        // `<namespace>/<name>`; a cluster label (`cluster/<name>`) matches no object here
        // unless a namespace is called `cluster`, which then costs one extra probe.
        let r = label
            .split_once('/')
            .map(|(ns, name)| ObjectRef::<DashboardConnection>::new(name).within(ns))
            .filter(|r| known.get(r).is_some());
        std::future::ready(r)
    });
    let c = Controller::for_stream(conns, store.clone())
        .reconcile_on(reprobe)
        .graceful_shutdown_on(shutdown);
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
    secret_changed: UnboundedReceiver<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (
    Store<ClusterDashboardConnection>,
    impl Stream<Item = ()> + Send,
) {
    let api: Api<ClusterDashboardConnection> = Api::all(ctx.client.clone());
    let c = Controller::new(api, watcher::Config::default());
    let store = c.store();
    let known = store.clone();
    let reprobe = secret_changed.filter_map(move |label| {
        let r = label
            .strip_prefix("cluster/")
            .map(ObjectRef::<ClusterDashboardConnection>::new)
            .filter(|r| known.get(r).is_some());
        std::future::ready(r)
    });
    let c = c.reconcile_on(reprobe).graceful_shutdown_on(shutdown);
    let stream = c
        .run(
            connection_status::reconcile_cluster,
            connection_status::error_policy,
            ctx,
        )
        .map(log_result::<ClusterDashboardConnection>);
    (store, stream)
}
