//! Reconciling `DashboardUserGroup`s: observe, [`plan`], one Dashboard call, status once.
//! The shape follows the user reconcile (crate::reconcile), smaller: a group has no
//! password, no key and no Secret.

mod apply;
mod cleanup;
pub mod plan;

pub use apply::group_blocker;

use std::sync::Arc;

use kube::{
    Api, ResourceExt,
    runtime::{controller::Action, finalizer},
};
use tracing::{Instrument, info_span};

use crate::context::Context;
use crate::crd::{DashboardUserGroup, FINALIZER};
use crate::reconcile::{ReconcileError, error::chain};

pub const CONTROLLER: &str = "dashboardusergroup";

pub async fn reconcile(
    group: Arc<DashboardUserGroup>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    let ns = group.namespace().unwrap_or_default();
    let name = group.name_any();
    let span = info_span!("reconcile", namespace = %ns, group = %name);
    let started = std::time::Instant::now();
    let api: Api<DashboardUserGroup> = Api::namespaced(ctx.client.clone(), &ns);
    // Fresh read, for the same reason as users: the cache can trail our own status writes
    // (a cleared create intent mistaken for a live one would adopt a stranger's group).
    let group = match api.get_opt(&name).await {
        Ok(Some(fresh)) => Arc::new(fresh),
        Ok(None) => return Ok(Action::await_change()),
        Err(source) => {
            let e = ReconcileError::Kube {
                op: "read dashboardusergroup",
                source,
            };
            ctx.metrics
                .reconciled(CONTROLLER, started.elapsed(), Some(e.category()));
            return Err(e);
        }
    };
    let result = finalizer(&api, FINALIZER, group, |event| async {
        match event {
            finalizer::Event::Apply(g) => apply::apply(&g, &ctx).await,
            finalizer::Event::Cleanup(g) => cleanup::cleanup(&g, &ctx).await,
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

pub fn error_policy(
    group: Arc<DashboardUserGroup>,
    err: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    let key = format!(
        "group/{}/{}",
        group.namespace().unwrap_or_default(),
        group.name_any()
    );
    let wait = ctx.backoff(&key);
    tracing::warn!(
        namespace = %group.namespace().unwrap_or_default(),
        group = %group.name_any(),
        reason = err.category(),
        error = %chain(err),
        retry_in_ms = wait.as_millis() as u64,
        "group reconcile failed"
    );
    Action::requeue(wait)
}
