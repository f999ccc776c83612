//! The Cleanup side: what deleting a DashboardUser does in the Dashboard (docs/design.md §3.6).

use kube::{Api, ResourceExt, runtime::controller::Action};

use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{Cleanup, ConnectionView, desired_user, plan_cleanup, unanswered_create};
use crate::backend::Backend;
use crate::connection::Resolved;
use crate::context::Context;
use crate::crd::{DashboardUser, reason};
use crate::secrets;
use crate::status::{self, Outcome};

pub async fn cleanup(user: &DashboardUser, ctx: &Context) -> Result<Action, ReconcileError> {
    let ns = user.namespace().unwrap_or_default();
    let api: Api<DashboardUser> = Api::namespaced(ctx.client.clone(), &ns);
    ctx.index_password_secret(user);
    ctx.forget_confirmation(&user.uid().unwrap_or_default());
    let mut st = user.status.clone().unwrap_or_default();
    st.conditions = status::conditions(
        &st.conditions,
        user.metadata.generation,
        &Outcome::Progressing {
            reason: reason::DELETING,
            message: format!(
                "deletionPolicy {:?} is being applied",
                user.spec.deletion_policy
            ),
        },
    );
    // The object may already be gone from under us; that is fine.
    let _ = status::apply(&api, user, user.status.as_ref(), &st).await;

    // A connection that is gone (or its Secrets, or this namespace's permission) must
    // never keep the finalizer forever: release (docs/design.md §3.6). A failed *read* of it is
    // different: retry rather than orphan a Dashboard user over a blip.
    let resolved = ctx.resolver().for_user(user).await?;
    let view = match &resolved {
        Ok(r) => r.view(),
        Err(b) => ConnectionView::Unavailable(b.clone()),
    };
    match plan_cleanup(user, &view) {
        Cleanup::Nothing { note } => {
            if let Some(note) = note {
                tracing::info!(user = %user.name_any(), note, "nothing to clean up in the dashboard");
            }
        }
        Cleanup::Release { warning } => {
            publish(
                ctx,
                user,
                Note::warning("FinalizerReleased", "Delete", &warning),
            )
            .await;
        }
        Cleanup::Delete => {
            let r = resolved.as_ref().expect("planned with a connection");
            let backend = &r.backend;
            let Some(id) = target_id(user, r).await? else {
                return finish(ctx, user).await;
            };
            if let Some(why) = not_ours(ctx, user, r, &id).await? {
                return release(ctx, user, &why).await;
            }
            match backend.delete(&id).await {
                Ok(()) => {
                    publish(
                        ctx,
                        user,
                        Note::normal("Deleted", "Delete", "dashboard user deleted"),
                    )
                    .await
                }
                Err(e) if e.is_not_found() => {}
                // The delete route is inferred for the admin users API; a server without
                // it (405) gets the next best thing, said in a Warning.
                Err(e) if e.status() == Some(405) => {
                    deactivate_instead(
                        ctx,
                        user,
                        "the server has no delete route (405 Method Not Allowed)",
                    )
                    .await;
                    deactivate(ctx, user, backend, &id).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Cleanup::Deactivate { fallback } => {
            let r = resolved.as_ref().expect("planned with a connection");
            let backend = &r.backend;
            let Some(id) = target_id(user, r).await? else {
                return finish(ctx, user).await;
            };
            if let Some(why) = not_ours(ctx, user, r, &id).await? {
                return release(ctx, user, &why).await;
            }
            if fallback {
                deactivate_instead(
                    ctx,
                    user,
                    "deletionPolicy Delete needs the connection's apiKeySecretRef",
                )
                .await;
            }
            deactivate(ctx, user, backend, &id).await?;
        }
    }
    finish(ctx, user).await
}

/// Why the Dashboard user `id` must not be deleted or deactivated through this object:
/// an earlier DashboardUser records it, or it holds the connection's own API key.
async fn not_ours(
    ctx: &Context,
    user: &DashboardUser,
    r: &Resolved,
    id: &str,
) -> Result<Option<String>, ReconcileError> {
    if ctx.user_id_held_before(user, &r.dashboard) {
        return Ok(Some(
            "an earlier DashboardUser manages the same dashboard user".into(),
        ));
    }
    if r.backend.owns_credential(id).await? {
        return Ok(Some(format!(
            "the dashboard user holds the API key of connection {}",
            r.label
        )));
    }
    Ok(None)
}

/// Lets the object go without touching the Dashboard user, and says why in a Warning.
async fn release(ctx: &Context, user: &DashboardUser, why: &str) -> Result<Action, ReconcileError> {
    let warning = format!("finalizer released without touching the dashboard user: {why}");
    publish(
        ctx,
        user,
        Note::warning("FinalizerReleased", "Delete", &warning),
    )
    .await;
    finish(ctx, user).await
}

/// The access Secret is owned and garbage-collected; deleting it now also covers
/// clusters (and emulators) without a garbage collector.
async fn finish(ctx: &Context, user: &DashboardUser) -> Result<Action, ReconcileError> {
    let name = user.access_secret_name();
    secrets::delete_owned_secret(&ctx.client, user, &name).await?;
    Ok(Action::await_change())
}

/// The Dashboard user to clean up: the recorded id or, when a create's answer was lost
/// (docs/design.md §3.2), the user found by the login that create sent. `None`: nothing exists.
async fn target_id(user: &DashboardUser, r: &Resolved) -> Result<Option<String>, ReconcileError> {
    if let Some(id) = user.status.as_ref().and_then(|s| s.user_id.clone()) {
        return Ok(Some(id));
    }
    let Some(login) = unanswered_create(user) else {
        return Ok(None);
    };
    let org = r.org_id.as_deref().or(r.key_org.as_deref());
    let mut d = match desired_user(&user.spec, r.backend.kind(), org) {
        Ok(d) => d,
        Err(msg) => {
            // The spec was valid when the create went out; it no longer says where to
            // look, and deletion must not wait forever on it.
            tracing::warn!(user = %user.name_any(), login, %msg, "cannot search for the user an unanswered create may have left");
            return Ok(None);
        }
    };
    d.login = login.to_string();
    let found = r.backend.find_by_login(&d).await?;
    if found.is_none() {
        tracing::info!(user = %user.name_any(), login, "the unanswered create committed nothing");
    }
    Ok(found.map(|u| u.id().to_string()))
}

/// Sets the remote user inactive (a user already gone or inactive is done).
async fn deactivate(
    ctx: &Context,
    user: &DashboardUser,
    backend: &Backend,
    id: &str,
) -> Result<(), ReconcileError> {
    match backend.get(id).await {
        Ok(u) => match backend.deactivate(&u).await {
            Ok(true) => {
                publish(
                    ctx,
                    user,
                    Note::normal("Deactivated", "Delete", "dashboard user deactivated"),
                )
                .await
            }
            Ok(false) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        },
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// The Warning for a `Delete` that could only deactivate, saying why.
async fn deactivate_instead(ctx: &Context, user: &DashboardUser, why: &str) {
    let note = format!("{why}; the user was deactivated instead");
    publish(
        ctx,
        user,
        Note::warning("DeactivatedInsteadOfDeleted", "Delete", &note),
    )
    .await;
}
