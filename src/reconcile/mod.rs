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
    let ns = user.namespace().unwrap_or_default();
    let name = user.name_any();
    let span = info_span!("reconcile", namespace = %ns, name = %name);
    let started = std::time::Instant::now();
    let api: Api<DashboardUser> = Api::namespaced(ctx.client.clone(), &ns);
    // The cache can lag behind our own status writes of the previous reconcile; deciding
    // on a stale status would, e.g., re-send a password Tyk then refuses as reused. One
    // GET gives a read-your-writes view.
    let user = match api.get_opt(&name).await {
        Ok(Some(fresh)) => Arc::new(fresh),
        Ok(None) => return Ok(Action::await_change()),
        Err(source) => {
            let e = ReconcileError::Kube {
                op: "read dashboarduser",
                source,
            };
            ctx.metrics
                .reconciled(CONTROLLER, started.elapsed(), Some(e.category()));
            return Err(e);
        }
    };
    let result = finalizer(&api, FINALIZER, user, |event| async {
        match event {
            finalizer::Event::Apply(u) => apply::apply(&u, &ctx).await,
            finalizer::Event::Cleanup(u) => cleanup::cleanup(&u, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| ReconcileError::Finalizer(Box::new(e)));
    let reason = result.as_ref().err().map(ReconcileError::category);
    ctx.metrics
        .reconciled(CONTROLLER, started.elapsed(), reason);
    result
}

/// Errors that escaped the reconcile (status could not be written, finalizer patch
/// failed, cleanup failed): per-object exponential backoff, never a hot loop.
pub fn error_policy(user: Arc<DashboardUser>, err: &ReconcileError, ctx: Arc<Context>) -> Action {
    let key = format!(
        "{}/{}",
        user.namespace().unwrap_or_default(),
        user.name_any()
    );
    let wait = ctx.backoff(&key);
    tracing::warn!(
        namespace = %user.namespace().unwrap_or_default(),
        name = %user.name_any(),
        reason = err.category(),
        error = %error::chain(err),
        retry_in_ms = wait.as_millis() as u64,
        "reconcile failed"
    );
    Action::requeue(wait)
}

#[cfg(test)]
mod safety_tests;
