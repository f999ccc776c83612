//! The Cleanup side of a group: held while users still name it, then its deletion policy.

use kube::{Api, ResourceExt, runtime::controller::Action};

use super::plan::{Cleanup, plan_cleanup};
use crate::context::Context;
use crate::crd::{DashboardUserGroup, reason};
use crate::reconcile::ReconcileError;
use crate::reconcile::events::{Note, publish};
use crate::reconcile::plan::{Blocker, ConnectionView};
use crate::status::{self, Outcome};

pub async fn cleanup(g: &DashboardUserGroup, ctx: &Context) -> Result<Action, ReconcileError> {
    let ns = g.namespace().unwrap_or_default();
    let api: Api<DashboardUserGroup> = Api::namespaced(ctx.client.clone(), &ns);
    let users = ctx.users_of_group(&ns, &g.name_any());
    let resolved = ctx.resolver().for_ref(&ns, &g.connection()).await?;
    let view = match &resolved {
        Ok(r) => r.view(),
        Err(b) => ConnectionView::Unavailable(b.clone()),
    };
    let plan = match (plan_cleanup(g, &view, users), &resolved) {
        // Two objects came to record one group id: the first keeps it (crate::claims).
        (Cleanup::Delete | Cleanup::Deactivate, Ok(r))
            if ctx.group_id_held_before(g, &r.dashboard) =>
        {
            Cleanup::Release {
                warning: "finalizer released without touching the dashboard group: an earlier DashboardUserGroup manages it".into(),
            }
        }
        (p, _) => p,
    };
    let outcome = match &plan {
        // Retried with backoff; a user that moves away (or is deleted) requeues us at once.
        Cleanup::Hold { users } => Outcome::Blocked(Blocker::retry(
            reason::GROUP_IN_USE,
            format!(
                "deletion held: still referenced by DashboardUser {}; move them to another group or remove their groupRef",
                users.join(", ")
            ),
        )),
        _ => Outcome::Progressing {
            reason: reason::DELETING,
            message: format!(
                "deletionPolicy {:?} is being applied",
                g.spec.deletion_policy
            ),
        },
    };
    let mut st = g.status.clone().unwrap_or_default();
    st.conditions = status::conditions(&st.conditions, g.metadata.generation, &outcome);
    // The object may be gone from under us; that is fine.
    let _ = status::apply(&api, g, g.status.as_ref(), &st).await;
    let id = g.group_id().unwrap_or_default().to_string();
    match plan {
        Cleanup::Hold { .. } => {
            let Outcome::Blocked(b) = outcome else {
                unreachable!()
            };
            publish(ctx, g, Note::warning(b.reason, "Delete", &b.message)).await;
            return Err(ReconcileError::Blocked(b));
        }
        Cleanup::Nothing => {}
        Cleanup::Release { warning } => {
            publish(
                ctx,
                g,
                Note::warning("FinalizerReleased", "Delete", &warning),
            )
            .await;
        }
        Cleanup::Delete => {
            let client = tyk_client(&resolved);
            match client.delete_group(&id).await {
                Ok(()) => {
                    publish(
                        ctx,
                        g,
                        Note::normal("Deleted", "Delete", "dashboard group deleted"),
                    )
                    .await
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Cleanup::Deactivate => {
            let client = tyk_client(&resolved);
            match client.get_group(&id).await {
                Ok(mut remote) if remote.active => {
                    remote.active = false;
                    client.update_group(&remote).await?;
                    publish(
                        ctx,
                        g,
                        Note::normal("Deactivated", "Delete", "dashboard group deactivated"),
                    )
                    .await;
                }
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(Action::await_change())
}

fn tyk_client(
    resolved: &Result<crate::connection::Resolved, Blocker>,
) -> &crate::dashboard::DashboardClient {
    resolved
        .as_ref()
        .ok()
        .and_then(|r| r.backend.tyk())
        .expect("planned only with a Tyk connection")
}
