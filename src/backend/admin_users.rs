//! The admin users API behind the [`super::Backend`] seam. The password travels in the
//! create (the API requires it there); updates are partial `PATCH`es of `email`, `role` and
//! `is_active`; later passwords use the password route.

use crate::admin_users::{AdminUser, AdminUsersClient, NewAdminUser, UserPatch};
use crate::dashboard::{DashboardError, Password};
use crate::reconcile::plan::{
    DesiredProfile, DesiredUser, Redacted, RemoteProfile, RemoteUser, effective_role,
};

fn role_of(d: &DesiredUser) -> &'static str {
    match &d.profile {
        DesiredProfile::AdminUsers { role } => role.as_str(),
        DesiredProfile::Tyk(_) => "viewer",
    }
}

pub(super) async fn create(
    c: &AdminUsersClient,
    d: &DesiredUser,
    password: Option<&Password>,
) -> Result<AdminUser, DashboardError> {
    // The plan never creates an AdminUsersAPI user without a password (InvalidSpec).
    let Some(password) = password else {
        return Err(DashboardError::Config {
            op: "create user",
            reason: "the admin users API needs a password to create a user".into(),
        });
    };
    let mut u = c
        .create_user(&NewAdminUser {
            username: d.login.clone(),
            password: password.clone(),
            email: d.email.clone(),
            role: role_of(d).into(),
        })
        .await?;
    // `AdminUserCreate` has no `is_active`: an inactive user is created, then deactivated.
    if !d.active && u.is_active {
        u = c
            .update_user(
                &u.id,
                &UserPatch {
                    is_active: Some(false),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(u)
}

/// Only what differs is sent; the password (if any) goes through its own route after.
pub(super) async fn update(
    c: &AdminUsersClient,
    current: &AdminUser,
    d: Option<&DesiredUser>,
    password: Option<&Password>,
) -> Result<AdminUser, DashboardError> {
    let mut u = current.clone();
    if let Some(d) = d {
        let role = role_of(d);
        let view = view(current);
        let patch = UserPatch {
            email: (!view.email.trim().eq_ignore_ascii_case(&d.email)).then(|| d.email.clone()),
            role: (effective_role(&current.roles).map(|r| r.as_str()) != Some(role))
                .then(|| role.to_string()),
            is_active: (current.is_active != d.active).then_some(d.active),
        };
        if patch != UserPatch::default() {
            u = c.update_user(&current.id, &patch).await?;
        }
    }
    if let Some(pw) = password {
        c.set_password(&current.id, pw).await?;
    }
    Ok(u)
}

pub(super) async fn deactivate(
    c: &AdminUsersClient,
    current: &AdminUser,
) -> Result<bool, DashboardError> {
    if !current.is_active {
        return Ok(false);
    }
    let patch = UserPatch {
        is_active: Some(false),
        ..Default::default()
    };
    c.update_user(&current.id, &patch).await?;
    Ok(true)
}

pub(super) fn view(u: &AdminUser) -> RemoteUser {
    RemoteUser {
        id: u.id.clone(),
        login: u.username.clone(),
        email: u.email.clone(),
        active: u.is_active,
        access_key: Redacted::default(),
        profile: RemoteProfile::AdminUsers {
            roles: u.roles.clone(),
        },
    }
}
