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
    ClusterDashboardConnection, ConnectionKind, ConnectionRef, DashboardConnection, DashboardUser,
    DashboardUserGroup, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::reconcile::{self, ReconcileError};

/// Which namespaces a controller instance covers: one, or all.
#[derive(Clone, Debug)]
pub enum Scope {
    All,
    Namespace(String),
}

impl Scope {
    fn api<K>(&self, client: &kube::Client) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match self {
            Scope::All => Api::all(client.clone()),
            Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
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

/// Watches both connection kinds, requeueing the objects of `store` that use a changed one.
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
    let conns: Api<DashboardConnection> = scope.api(client);
    let cluster_conns: Api<ClusterDashboardConnection> = Api::all(client.clone());
    let s2 = store.clone();
    c.watches(
        conns,
        watcher::Config::default(),
        move |c: DashboardConnection| {
            users_of_connection(
                &store,
                connection,
                ConnectionKind::DashboardConnection,
                c.namespace().as_deref(),
                &c.name_any(),
            )
        },
    )
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

/// The DashboardUser controller for one scope. Returns its store (for readiness and
/// claimed-id checks) and the stream that drives it.
pub fn users(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardUser>, impl Stream<Item = ()> + Send) {
    let client = &ctx.client;
    let users: Api<DashboardUser> = scope.api(client);
    let owned: Api<Secret> = scope.api(client);
    // `Api<PartialObjectMeta<_>>` lists and watches metadata only (kube 5): thousands of
    // password Secrets cost little memory and their data never reaches the operator here.
    let password_secrets: Api<PartialObjectMeta<Secret>> = scope.api(client);
    let groups: Api<DashboardUserGroup> = scope.api(client);

    let controller = Controller::new(users, watcher::Config::default().any_semantic());
    let store = controller.store();
    let s1 = store.clone();
    let index_ctx = ctx.clone();
    let controller = controller
        .owns(
            owned,
            watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}")),
        )
        // The reverse index turns a password Secret event into the users reading it.
        .watches(
            password_secrets,
            watcher::Config::default(),
            move |s: PartialObjectMeta<Secret>| {
                let ns = s.namespace().unwrap_or_default();
                index_ctx
                    .users_of_password_secret(&ns, &s.name_any())
                    .into_iter()
                    .map(move |name| ObjectRef::new(&name).within(&ns))
            },
        )
        // A group getting (or changing) its Dashboard id requeues the users naming it.
        .watches(
            groups,
            watcher::Config::default(),
            move |g: DashboardUserGroup| {
                let ns = g.namespace();
                let name = g.name_any();
                s1.state()
                    .iter()
                    .filter(|u| {
                        u.namespace() == ns
                            && u.spec.group_ref.as_ref().is_some_and(|r| r.name == name)
                    })
                    .map(|u| ObjectRef::from(u.as_ref()))
                    .collect::<Vec<_>>()
            },
        );
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

/// The DashboardUserGroup controller for one scope.
pub fn groups(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardUserGroup>, impl Stream<Item = ()> + Send) {
    let client = &ctx.client;
    let groups: Api<DashboardUserGroup> = scope.api(client);
    let users: Api<DashboardUser> = scope.api(client);
    let controller = Controller::new(groups, watcher::Config::default().any_semantic());
    let store = controller.store();
    let s1 = store.clone();
    // A held deletion (users still name the group) is re-checked when any user of that
    // namespace changes: the user's previous groupRef is not known after its update.
    let controller = controller.watches(
        users,
        watcher::Config::default(),
        move |u: DashboardUser| {
            let ns = u.namespace();
            s1.state()
                .iter()
                .filter(|g| g.namespace() == ns && g.metadata.deletion_timestamp.is_some())
                .map(|g| ObjectRef::from(g.as_ref()))
                .collect::<Vec<_>>()
        },
    );
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

/// Controller keeping `DashboardConnection` status current in one scope.
pub fn namespaced_connections(
    ctx: Arc<Context>,
    scope: &Scope,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) -> (Store<DashboardConnection>, impl Stream<Item = ()> + Send) {
    let api: Api<DashboardConnection> = scope.api(&ctx.client);
    let c = Controller::new(api, watcher::Config::default()).graceful_shutdown_on(shutdown);
    let store = c.store();
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
