//! Reconciling `DashboardUserGroup`s: observe, [`plan`], one Dashboard call, status once.
//! The shape follows the user reconcile (crate::reconcile), smaller: a group has no
//! password, no key and no Secret.

mod apply;
mod cleanup;
pub mod plan;

pub use apply::group_blocker;

use kube::{Api, ResourceExt};

use crate::crd::DashboardUser;
use crate::reconcile::plan::{Blocker, GroupView};

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

/// `spec.groupRef` → the group's Dashboard id, read fresh from the API server (the group's
/// status is what a user waits for, and a cached copy could trail it).
pub async fn observe_group(
    client: &kube::Client,
    user: &DashboardUser,
) -> Result<GroupView, kube::Error> {
    let Some(r) = &user.spec.group_ref else {
        return Ok(GroupView::Literal);
    };
    let ns = user.namespace().unwrap_or_default();
    let g = Api::<DashboardUserGroup>::namespaced(client.clone(), &ns)
        .get_opt(&r.name)
        .await?;
    Ok(match g {
        Some(g) if g.connection() != user.connection() => GroupView::Waiting(Blocker::stalled(
            crate::crd::reason::INVALID_SPEC,
            format!(
                "groupRef {} uses connection {}, this user {}: a group id means nothing on another Dashboard",
                r.name,
                g.connection().label(&ns),
                user.connection().label(&ns)
            ),
        )),
        Some(g) if g.group_id().is_some() => {
            GroupView::Resolved(g.group_id().unwrap_or_default().to_string())
        }
        g => GroupView::Waiting(group_blocker(&r.name, g.as_ref())),
    })
}
