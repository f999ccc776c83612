//! The Tyk Dashboard behind the [`super::Backend`] seam: how the neutral operations map
//! onto the Admin API (docs/tyk-dashboard-api.md §2) and the Dashboard API
//! (docs/tyk-dashboard-api.md §3).

use std::collections::BTreeMap;

use crate::dashboard::{DashboardClient, DashboardError, NewUser, Password, User};
use crate::reconcile::plan::{DesiredUser, Redacted, RemoteProfile, RemoteUser, TykRemote};

/// `POST /admin/users` without a password: the admin create may ignore it, so the first
/// password is set afterwards (docs/design.md §3.3). API-key-only: `POST /api/users`, which does
/// store a password sent with it (docs/tyk-dashboard-api.md §3.2, §7), so the first password
/// travels there.
pub(super) async fn create(
    c: &DashboardClient,
    d: &DesiredUser,
    password: Option<&Password>,
) -> Result<User, DashboardError> {
    let t = d.tyk().cloned().unwrap_or_default();
    let new = NewUser {
        org_id: t.org_id,
        first_name: t.first_name,
        last_name: t.last_name,
        email_address: d.login.clone(),
        active: d.active,
        user_permissions: t.permissions.unwrap_or_default(),
        group_id: t.group_id,
        password_max_days: t.password_max_days,
    };
    if !c.has_admin_secret() {
        return c.api_create_user(&new, password).await;
    }
    let created = c.create_user(&new).await?;
    let mut u = created.user;
    if u.access_key.is_empty() {
        u.access_key = created.access_key;
    }
    Ok(u)
}

/// The admin `PUT` of the whole object (docs/tyk-dashboard-api.md §2.3) with the desired fields
/// and/or a password.
pub(super) async fn update(
    c: &DashboardClient,
    current: &User,
    d: Option<&DesiredUser>,
    password: Option<&Password>,
) -> Result<User, DashboardError> {
    let mut u = current.clone();
    if let Some(d) = d
        && let Some(t) = d.tyk()
    {
        u.email_address = d.login.clone();
        u.first_name = t.first_name.clone();
        u.last_name = t.last_name.clone();
        u.org_id = t.org_id.clone();
        u.active = d.active;
        u.group_id = t.group_id.clone();
        u.user_permissions = t.permissions_for_put(&u.user_permissions);
        if let Some(days) = t.password_max_days {
            u.password_max_days = days;
        }
    }
    if c.has_admin_secret() {
        c.update_user(&u, password).await?;
        return Ok(u);
    }
    // API-key-only: fields through `PUT /api/users/{id}`, the password through the admin
    // reset of docs/tyk-dashboard-api.md §3.6, which Tyk allows only with ResetPassword or
    // allow_admin_reset_password.
    if d.is_some() {
        c.api_update_user(&u).await?;
    }
    if let Some(pw) = password {
        c.reset_password_as_admin(&u.id, pw, None)
            .await
            .map_err(name_the_reset_permission)?;
    }
    Ok(u)
}

/// A refused reset says which permission is missing, in the operator's words first.
fn name_the_reset_permission(e: DashboardError) -> DashboardError {
    match e {
        DashboardError::Forbidden {
            op,
            status,
            message,
        } => DashboardError::Forbidden {
            op,
            status,
            message: format!(
                "setting another user's password through the Dashboard API needs ResetPassword on the api key's user or security.allow_admin_reset_password (or an adminSecretRef): {message}"
            ),
        },
        other => other,
    }
}

pub(super) async fn deactivate(
    c: &DashboardClient,
    current: &User,
) -> Result<bool, DashboardError> {
    if !current.active {
        return Ok(false);
    }
    let mut u = current.clone();
    u.active = false;
    if c.has_admin_secret() {
        c.update_user(&u, None).await?;
    } else {
        c.api_update_user(&u).await?;
    }
    Ok(true)
}

/// The fields the plan compares, from the wire object.
pub(super) fn view(u: &User) -> RemoteUser {
    RemoteUser {
        id: u.id.clone(),
        login: u.email_address.clone(),
        email: u.email_address.clone(),
        active: u.active,
        access_key: Redacted(u.access_key.expose().to_string()),
        profile: RemoteProfile::Tyk(TykRemote {
            org_id: u.org_id.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            group_id: u.group_id.clone(),
            permissions: u
                .user_permissions
                .clone()
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            password_max_days: u.password_max_days,
        }),
    }
}
