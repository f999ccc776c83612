//! The small controller that reports each connection's health: Ready from a cheap
//! authenticated probe (docs/design.md §2), re-probed periodically and on change.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{Api, Resource, ResourceExt, runtime::controller::Action};
use serde::{Serialize, de::DeserializeOwned};

use crate::context::Context;
use crate::crd::{
    ClusterDashboardConnection, ConnectionMode, ConnectionSettings, ConnectionStatus,
    DashboardConnection, condition, reason,
};
use crate::dashboard::DashboardError;
use crate::reconcile::{ReconcileError, error::chain, plan::Blocker};
use crate::status;

pub const CONTROLLER: &str = "dashboardconnection";

pub async fn reconcile_namespaced(
    c: Arc<DashboardConnection>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = std::time::Instant::now();
    let ns = c.namespace().unwrap_or_default();
    let label = format!("{ns}/{}", c.name_any());
    let secret_ns_ok = crate::connection::own_namespace_secrets(&c.spec.settings, &ns);
    let health = if secret_ns_ok {
        probe(&ctx, &label, &c.spec.settings, &ns, false).await?
    } else {
        Err(Blocker::stalled(
            reason::INVALID_SPEC,
            "a DashboardConnection reads Secrets of its own namespace only; use a ClusterDashboardConnection",
        ))
    };
    let api: Api<DashboardConnection> = Api::namespaced(ctx.client.clone(), &ns);
    finish(
        &ctx,
        &api,
        c.as_ref(),
        c.status.as_ref(),
        Probed {
            label: &label,
            mode: c.spec.settings.mode(),
            health,
        },
        started,
    )
    .await
}

pub async fn reconcile_cluster(
    c: Arc<ClusterDashboardConnection>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let started = std::time::Instant::now();
    let label = format!("cluster/{}", c.name_any());
    let op_ns = ctx.config.operator_namespace.clone();
    let health = probe(&ctx, &label, &c.spec.settings, &op_ns, true).await?;
    let api: Api<ClusterDashboardConnection> = Api::all(ctx.client.clone());
    finish(
        &ctx,
        &api,
        c.as_ref(),
        c.status.as_ref(),
        Probed {
            label: &label,
            mode: c.spec.settings.mode(),
            health,
        },
        started,
    )
    .await
}

async fn probe(
    ctx: &Context,
    label: &str,
    settings: &ConnectionSettings,
    secret_ns: &str,
    cross_ns: bool,
) -> Result<Result<(), Blocker>, ReconcileError> {
    // API-key-only: the key must really be an org admin's, looked up afresh on every probe
    // (one request), and what is found replaces the client's memory, so users see it too.
    let mut resolver = ctx.resolver();
    resolver.fresh_key_owner = true;
    let resolved = match resolver.build(label, settings, secret_ns, cross_ns).await? {
        Ok(r) => r,
        Err(b) => return Ok(Err(b)),
    };
    let blocker = |e: DashboardError| {
        let r = match &e {
            DashboardError::Transient { .. } => reason::DASHBOARD_UNREACHABLE,
            DashboardError::Unauthorized { .. } => reason::UNAUTHORIZED,
            DashboardError::Forbidden { .. } => reason::FORBIDDEN,
            _ => reason::DASHBOARD_ERROR,
        };
        Blocker::retry(r, chain(&e))
    };
    if let Err(e) = resolved.backend.probe().await {
        return Ok(Err(blocker(e)));
    }
    Ok(Ok(()))
}

/// What one probe found about a connection.
struct Probed<'a> {
    label: &'a str,
    mode: Option<ConnectionMode>,
    health: Result<(), Blocker>,
}

async fn finish<K>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    current: Option<&ConnectionStatus>,
    probed: Probed<'_>,
    started: std::time::Instant,
) -> Result<Action, ReconcileError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let Probed {
        label,
        mode,
        health,
    } = probed;
    let generation = obj.meta().generation;
    let existing = current.map(|s| s.conditions.clone()).unwrap_or_default();
    // kstatus (Flux) never reads Ready: without Reconciling/Stalled a broken connection would
    // count as Current, so all three are written, as for users (crate::status).
    let (ready, reconciling, stalled, why, msg) = match &health {
        Ok(()) => (
            "True",
            "False",
            "False",
            "Connected",
            "the dashboard answered an authenticated probe",
        ),
        Err(b) if b.stalled => ("False", "False", "True", b.reason, b.message.as_str()),
        Err(b) => ("False", "True", "False", b.reason, b.message.as_str()),
    };
    let conditions = [
        (condition::READY, ready),
        (condition::RECONCILING, reconciling),
        (condition::STALLED, stalled),
    ]
    .into_iter()
    .map(|(t, st)| condition_of(&existing, generation, t, st, why, msg))
    .collect();
    let new = ConnectionStatus {
        observed_generation: generation,
        mode,
        conditions,
    };
    status::apply(api, obj, current, &new)
        .await
        .map_err(ReconcileError::kube("write connection status"))?;
    let key = format!("connection/{label}");
    let reason = health.as_ref().err().map(|b| b.reason);
    ctx.metrics
        .reconciled(CONTROLLER, started.elapsed(), reason);
    Ok(match health {
        Ok(()) => {
            ctx.succeeded(&key);
            // Reads only; no writes if unchanged.
            Action::requeue(ctx.config.probe_period)
        }
        Err(_) => Action::requeue(ctx.backoff(&key)),
    })
}

fn condition_of(
    existing: &[Condition],
    generation: Option<i64>,
    type_: &str,
    st: &str,
    why: &str,
    msg: &str,
) -> Condition {
    let mut c = Condition {
        type_: type_.into(),
        status: st.into(),
        reason: why.into(),
        message: msg.into(),
        observed_generation: generation,
        last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            jiff::Timestamp::now(),
        ),
    };
    if let Some(old) = existing.iter().find(|o| o.type_ == type_)
        && old.status == st
    {
        c.last_transition_time = old.last_transition_time.clone();
    }
    c
}

pub fn error_policy<K: ResourceExt>(
    obj: Arc<K>,
    err: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    let key = format!("connection/{}", obj.name_any());
    tracing::warn!(connection = %obj.name_any(), error = %chain(err), "connection status update failed");
    Action::requeue(ctx.backoff(&key))
}
