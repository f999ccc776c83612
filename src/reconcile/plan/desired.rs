//! The desired remote user derived from a spec, and drift comparison with
//! normalisation (docs/tyk-dashboard-api.md §10.9, §10.11).
//!
//! Backend-neutral where the concepts match (login name, email, active); the parts only
//! one backend has live in [`DesiredProfile`] (Tyk org/names/group/permissions, the admin
//! users API's role).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{RemoteProfile, RemoteUser};
use crate::crd::{AdminRole, ConnectionType, DashboardUserSpec};
use crate::policy::Ask;

/// Permission keys the Admin API adds on its own (docs/tyk-dashboard-api.md §2.1): ignored unless
/// the spec sets them.
const SERVER_ADDED: &[&str] = &["ResetPassword"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredUser {
    /// The login name: the lower-cased email (Tyk stores emails lower-cased,
    /// docs/tyk-dashboard-api.md §1.4) or the admin users API's `username`.
    pub login: String,
    /// Lower-cased for Tyk; as written (trimmed) for the admin users API.
    pub email: String,
    pub active: bool,
    pub profile: DesiredProfile,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DesiredProfile {
    Tyk(TykProfile),
    AdminUsers { role: AdminRole },
}

/// What only a Tyk Dashboard user has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TykProfile {
    pub first_name: String,
    pub last_name: String,
    /// `""` for a super user.
    pub org_id: String,
    pub group_id: String,
    /// `None`: the spec leaves permissions to the Dashboard (Tyk treats `{}` as admin).
    pub permissions: Option<BTreeMap<String, String>>,
    pub password_max_days: Option<i64>,
}

/// One managed field that differs: spec names (`firstName`, `permissions.apis`), the
/// Dashboard's value and the desired one (`null` = absent), after normalisation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub dashboard: Value,
    pub desired: Value,
}

/// Validates the spec for the connection's backend and resolves the organisation.
/// Errors are InvalidSpec messages that name the offending field.
pub fn desired_user(
    spec: &DashboardUserSpec,
    backend: ConnectionType,
    connection_org: Option<&str>,
) -> Result<DesiredUser, String> {
    let email = spec.email.trim().to_string();
    if !valid_email(&email) {
        return Err(format!(
            "email {:?} is not of the form name@domain",
            spec.email
        ));
    }
    match backend {
        ConnectionType::TykDashboard => tyk_user(spec, email.to_lowercase(), connection_org),
        ConnectionType::AdminUsersApi => admin_user(spec, email),
    }
}

fn tyk_user(
    spec: &DashboardUserSpec,
    email: String,
    connection_org: Option<&str>,
) -> Result<DesiredUser, String> {
    for (field, set) in [
        ("username", spec.username.is_some()),
        ("role", spec.role.is_some()),
    ] {
        if set {
            return Err(format!(
                "{field} applies only to AdminUsersAPI connections; this user's connection is TykDashboard"
            ));
        }
    }
    check_permissions(&spec.permissions)?;
    let non_empty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let org_id = if spec.super_user {
        if non_empty(&spec.org_id).is_some() {
            return Err("superUser users have no organisation: omit orgId".into());
        }
        String::new()
    } else {
        match non_empty(&spec.org_id).or_else(|| non_empty(&connection_org.map(String::from))) {
            Some(org) => org,
            None => {
                return Err("no orgId in the spec or the connection; set superUser: true to create a user without an organisation".into());
            }
        }
    };
    Ok(DesiredUser {
        login: email.clone(),
        email,
        active: spec.active,
        profile: DesiredProfile::Tyk(TykProfile {
            first_name: spec.first_name.clone().unwrap_or_default(),
            last_name: spec.last_name.clone().unwrap_or_default(),
            org_id,
            group_id: spec.group_id.clone().unwrap_or_default(),
            permissions: (!spec.permissions.is_empty()).then(|| spec.permissions.clone()),
            password_max_days: spec.password_max_days,
        }),
    })
}

fn admin_user(spec: &DashboardUserSpec, email: String) -> Result<DesiredUser, String> {
    let tyk_only = [
        ("firstName", spec.first_name.is_some()),
        ("lastName", spec.last_name.is_some()),
        ("orgId", spec.org_id.is_some()),
        ("superUser", spec.super_user),
        ("groupId", spec.group_id.is_some()),
        ("permissions", !spec.permissions.is_empty()),
        ("passwordMaxDays", spec.password_max_days.is_some()),
    ];
    if let Some((field, _)) = tyk_only.iter().find(|(_, set)| *set) {
        return Err(format!(
            "{field} applies only to TykDashboard connections; this user's connection is AdminUsersAPI"
        ));
    }
    let Some(username) = spec.username.as_deref() else {
        return Err("username is required for users of an AdminUsersAPI connection".into());
    };
    // The API's own limits (AdminUserCreate); CEL checks the length too.
    let len = username.chars().count();
    if !(3..=150).contains(&len) {
        return Err(format!(
            "username must be 3 to 150 characters long (it has {len})"
        ));
    }
    if spec.password_secret_ref.is_none() {
        return Err("passwordSecretRef is required for users of an AdminUsersAPI connection: the API needs a password to create a user".into());
    }
    Ok(DesiredUser {
        login: username.to_string(),
        email,
        active: spec.active,
        profile: DesiredProfile::AdminUsers {
            role: spec.role.unwrap_or_default(),
        },
    })
}

/// The CRD's email rules (src/crd/user.rs: 3..=254 long, `name@domain`), for the operator
/// and for `userop export`, which must write only emails the CRD and operator take. The
/// length counts characters, as the CRD's maxLength does (a non-ASCII address is longer in
/// bytes). Whitespace is Unicode's, stricter than the CRD's RE2 `\s` (ASCII): an address
/// with, say, a no-break space is not one the Dashboard can be asked to log in with.
pub(crate) fn valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    (3..=254).contains(&email.chars().count())
        && !local.is_empty()
        && !domain.is_empty()
        && !email.chars().any(char::is_whitespace)
}

/// The CRD's permission rules (src/crd/rules.rs `permissions`): at most 64 sections, each
/// named a letter then letters, digits or `_` (≤ 64), taking read/write/deny, with
/// `IsAdmin`/`ResetPassword` taking (only) admin. The operator checks values again on top
/// of admission; `userop export` checks all of it before writing permissions down.
pub(crate) fn check_permissions(perms: &BTreeMap<String, String>) -> Result<(), String> {
    if perms.len() > 64 {
        return Err(format!(
            "{} permission sections, the CRD takes at most 64",
            perms.len()
        ));
    }
    for (k, v) in perms {
        let mut chars = k.chars();
        let name_ok = k.len() <= 64
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return Err(format!(
                "permission {k:?} is not a section name the CRD accepts"
            ));
        }
        let admin_key = k == "IsAdmin" || k == "ResetPassword";
        let ok = if admin_key {
            v == "admin"
        } else {
            matches!(v.as_str(), "read" | "write" | "deny")
        };
        if !ok {
            return Err(format!(
                "permission {k}: {v:?} is not allowed (sections take read/write/deny; IsAdmin and ResetPassword take admin)"
            ));
        }
    }
    Ok(())
}

/// Permissions as compared for drift: `deny` ≡ absent for non-admins
/// (docs/tyk-dashboard-api.md §10.11) and server-added keys the spec does not mention are ignored.
pub fn normalized_permissions(
    perms: &BTreeMap<String, String>,
    spec_keys: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let admin = perms.get("IsAdmin").is_some_and(|v| v == "admin");
    perms
        .iter()
        .filter(|(_, v)| admin || v.as_str() != "deny")
        .filter(|(k, _)| !SERVER_ADDED.contains(&k.as_str()) || spec_keys.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The highest of the roles a `UserResponse` lists (`roles` is an array, e.g.
/// `["admin","editor"]`): the one a single-role `AdminUserCreate.role` maps to (inferred).
pub fn effective_role(roles: &[String]) -> Option<AdminRole> {
    [AdminRole::Admin, AdminRole::Editor, AdminRole::Viewer]
        .into_iter()
        .find(|r| roles.iter().any(|have| have == r.as_str()))
}

impl DesiredUser {
    /// What this user asks of its connection's policy (crate::policy).
    pub fn ask<'a>(&'a self, spec: &DashboardUserSpec) -> Ask<'a> {
        let tyk = self.tyk();
        Ask {
            super_user: spec.super_user,
            org: tyk.map(|t| t.org_id.as_str()),
            permissions: tyk.and_then(|t| t.permissions.as_ref()),
            tyk_user: tyk.is_some(),
            admin_role: matches!(
                self.profile,
                DesiredProfile::AdminUsers {
                    role: AdminRole::Admin
                }
            ),
            literal_group: spec.group_id.is_some(),
        }
    }

    /// The Tyk-only part, when this user is on a Tyk connection.
    pub fn tyk(&self) -> Option<&TykProfile> {
        match &self.profile {
            DesiredProfile::Tyk(t) => Some(t),
            DesiredProfile::AdminUsers { .. } => None,
        }
    }

    /// What the login name is, for messages.
    pub fn login_kind(&self) -> &'static str {
        match self.profile {
            DesiredProfile::Tyk(_) => "email",
            DesiredProfile::AdminUsers { .. } => "username",
        }
    }

    /// The organisation (`""` for super users and for backends without organisations).
    pub fn org_id(&self) -> &str {
        self.tyk().map(|t| t.org_id.as_str()).unwrap_or_default()
    }

    /// True when the remote user already has every managed field as desired.
    pub fn matches(&self, r: &RemoteUser) -> bool {
        self.diff(r).is_empty()
    }

    /// The managed fields that differ, after the drift normalisation above, named as in the
    /// spec. `matches` is defined through this, so the `plan`/`drift` reports cannot
    /// disagree with the reconcile.
    pub fn diff(&self, r: &RemoteUser) -> Vec<FieldChange> {
        let mut out = Changes::default();
        match (&self.profile, &r.profile) {
            (DesiredProfile::Tyk(t), RemoteProfile::Tyk(rt)) => {
                // The login is the email on Tyk: compared ignoring case
                // (docs/tyk-dashboard-api.md §1.4).
                out.text(
                    "email",
                    &r.login,
                    &self.login,
                    !r.login.trim().eq_ignore_ascii_case(&self.login),
                );
                out.text(
                    "firstName",
                    &rt.first_name,
                    &t.first_name,
                    rt.first_name != t.first_name,
                );
                out.text(
                    "lastName",
                    &rt.last_name,
                    &t.last_name,
                    rt.last_name != t.last_name,
                );
                out.text("orgId", &rt.org_id, &t.org_id, rt.org_id != t.org_id);
                out.value("active", r.active.into(), self.active.into());
                out.text(
                    "groupId",
                    &rt.group_id,
                    &t.group_id,
                    rt.group_id != t.group_id,
                );
                if let Some(want) = &t.permissions {
                    let want_n = normalized_permissions(want, want);
                    let have_n = normalized_permissions(&rt.permissions, want);
                    let keys: std::collections::BTreeSet<&String> =
                        want_n.keys().chain(have_n.keys()).collect();
                    for k in keys {
                        let opt = |v: Option<&String>| v.map_or(Value::Null, |v| v.clone().into());
                        out.value(
                            &format!("permissions.{k}"),
                            opt(have_n.get(k)),
                            opt(want_n.get(k)),
                        );
                    }
                }
                if let Some(d) = t.password_max_days {
                    out.value("passwordMaxDays", rt.password_max_days.into(), d.into());
                }
            }
            (DesiredProfile::AdminUsers { role }, RemoteProfile::AdminUsers { roles }) => {
                out.text("username", &r.login, &self.login, r.login != self.login);
                out.text(
                    "email",
                    &r.email,
                    &self.email,
                    !r.email.trim().eq_ignore_ascii_case(&self.email),
                );
                let have = effective_role(roles).map_or(Value::Null, |h| h.as_str().into());
                out.value("role", have, role.as_str().into());
                out.value("active", r.active.into(), self.active.into());
            }
            // A remote object of another backend never matches (cannot happen: one
            // connection has one backend, and its type is immutable).
            _ => out.value(
                "type",
                "other backend".into(),
                "this connection's backend".into(),
            ),
        }
        out.0
    }
}

/// Collects [`FieldChange`]s.
#[derive(Default)]
struct Changes(Vec<FieldChange>);

impl Changes {
    fn value(&mut self, field: &str, dashboard: Value, desired: Value) {
        if dashboard != desired {
            self.0.push(FieldChange {
                field: field.to_string(),
                dashboard,
                desired,
            });
        }
    }

    /// Strings whose comparison is not plain equality (case-insensitive emails).
    fn text(&mut self, field: &str, dashboard: &str, desired: &str, differs: bool) {
        if differs {
            self.0.push(FieldChange {
                field: field.to_string(),
                dashboard: dashboard.into(),
                desired: desired.into(),
            });
        }
    }
}

impl TykProfile {
    /// The permission map to send on a PUT: the spec's, plus server-added keys the
    /// remote has (so a PUT never strips what Tyk itself maintains).
    pub fn permissions_for_put(
        &self,
        remote: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        match &self.permissions {
            None => remote.clone(),
            Some(want) => permissions_for_put(want, remote),
        }
    }
}

/// `want` plus the server-added keys `remote` has and `want` does not mention (users and
/// groups alike: Tyk keeps `ResetPassword` out of the Dashboard API's reach,
/// docs/tyk-dashboard-api.md §3.4, §4).
pub fn permissions_for_put(
    want: &BTreeMap<String, String>,
    remote: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = want.clone();
    for k in SERVER_ADDED {
        if let Some(v) = remote.get(*k)
            && !want.contains_key(*k)
        {
            out.insert((*k).to_string(), v.clone());
        }
    }
    out
}
