//! Reconciling `DashboardUser`s: observe, [`plan`], act, write status once.

mod apply;
mod cleanup;
mod create;
pub mod error;
pub mod events;
pub mod fingerprint;
pub mod plan;
mod steps;

use std::sync::Arc;

use kube::{
    Api, ResourceExt,
    runtime::{controller::Action, finalizer},
};
use tracing::{Instrument, info_span};

pub use error::ReconcileError;

use crate::context::Context;
use crate::crd::{DashboardUser, FINALIZER};

pub const CONTROLLER: &str = "dashboarduser";

/// Entry point for the DashboardUser controller.
pub async fn reconcile(
    user: Arc<DashboardUser>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    finalized(user, &ctx, CONTROLLER, |event| async {
        match event {
            finalizer::Event::Apply(u) => apply::apply(&u, &ctx).await,
            finalizer::Event::Cleanup(u) => cleanup::cleanup(&u, &ctx).await,
        }
    })
    .await
}

/// The frame every namespaced kind's reconcile shares: a fresh read, the finalizer, the
/// span and the reconcile metrics. `act` gets the Apply or Cleanup event.
pub(crate) async fn finalized<K, F, Fut>(
    obj: Arc<K>,
    ctx: &Context,
    controller: &'static str,
    act: F,
) -> Result<Action, ReconcileError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    F: FnOnce(finalizer::Event<K>) -> Fut,
    Fut: std::future::Future<Output = Result<Action, ReconcileError>>,
{
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let span = info_span!("reconcile", kind = %K::kind(&()), namespace = %ns, name = %name);
    let started = std::time::Instant::now();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    // The cache can lag behind our own status writes of the previous reconcile; deciding
    // on a stale status would, e.g., re-send a password Tyk then refuses as reused, or take
    // a cleared create intent for a live one. One GET gives a read-your-writes view.
    let obj = match api.get_opt(&name).await {
        Ok(Some(fresh)) => Arc::new(fresh),
        Ok(None) => return Ok(Action::await_change()),
        Err(source) => {
            let e = ReconcileError::Kube {
                op: "read the object",
                source,
            };
            ctx.metrics
                .reconciled(controller, started.elapsed(), Some(e.category()));
            return Err(e);
        }
    };
    let result = finalizer(&api, FINALIZER, obj, act)
        .instrument(span)
        .await
        .map_err(|e| ReconcileError::Finalizer(Box::new(e)));
    let reason = result.as_ref().err().map(ReconcileError::category);
    let took = started.elapsed();
    ctx.metrics.reconciled(controller, took, reason);
    ctx.reconciled(controller, took);
    result
}

/// Errors that escaped the reconcile (status could not be written, finalizer patch
/// failed, cleanup failed): per-object exponential backoff, never a hot loop.
pub fn error_policy(user: Arc<DashboardUser>, err: &ReconcileError, ctx: Arc<Context>) -> Action {
    backoff_after(user.as_ref(), err, &ctx)
}

/// The per-object backoff key: one per object of each kind, shared by the error policy and
/// the reconcile's own success/failure bookkeeping.
pub(crate) fn backoff_key<K: kube::Resource<DynamicType = ()>>(obj: &K) -> String {
    format!(
        "{}/{}/{}",
        K::kind(&()),
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    )
}

/// Logs a failed reconcile of any kind and returns its per-object backoff.
pub(crate) fn backoff_after<K: kube::Resource<DynamicType = ()>>(
    obj: &K,
    err: &ReconcileError,
    ctx: &Context,
) -> Action {
    let kind = K::kind(&());
    let (ns, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let wait = ctx.backoff(&backoff_key(obj));
    tracing::warn!(
        kind = %kind,
        namespace = %ns,
        name = %name,
        reason = err.category(),
        error = %error::chain(err),
        retry_in_ms = wait.as_millis() as u64,
        "reconcile failed"
    );
    Action::requeue(wait)
}

#[cfg(test)]
mod safety_tests;
