//! Reconciling `DashboardUserGroup`s: observe, [`plan`], one Dashboard call, status once.
//! The shape follows the user reconcile (crate::reconcile), smaller: a group has no
//! password, no key and no Secret.

mod apply;
mod cleanup;
pub mod plan;

pub use apply::group_blocker;

use std::sync::Arc;

use kube::runtime::{controller::Action, finalizer};

use crate::context::Context;
use crate::crd::DashboardUserGroup;
use crate::reconcile::ReconcileError;

pub const CONTROLLER: &str = "dashboardusergroup";

pub async fn reconcile(
    group: Arc<DashboardUserGroup>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    crate::reconcile::finalized(group, &ctx, CONTROLLER, |event| async {
        match event {
            finalizer::Event::Apply(g) => apply::apply(&g, &ctx).await,
            finalizer::Event::Cleanup(g) => cleanup::cleanup(&g, &ctx).await,
        }
    })
    .await
}

pub fn error_policy(
    group: Arc<DashboardUserGroup>,
    err: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    crate::reconcile::backoff_after(group.as_ref(), err, &ctx)
}
