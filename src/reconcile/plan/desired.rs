//! The desired Dashboard user derived from a spec, and drift comparison with
//! normalisation (tyk-dashboard-api.md §10.9, §10.11).

use std::collections::BTreeMap;

use serde_json::Value;

use super::RemoteUser;
use crate::crd::DashboardUserSpec;

/// Permission keys the Admin API adds on its own (§2.1): ignored unless the spec sets them.
const SERVER_ADDED: &[&str] = &["ResetPassword"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredUser {
    /// Lower-cased: Tyk stores emails lower-cased (§1.4).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `""` for a super user.
    pub org_id: String,
    pub active: bool,
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

/// Validates the spec and resolves the organisation. Errors are InvalidSpec messages.
pub fn desired_user(
    spec: &DashboardUserSpec,
    connection_org: Option<&str>,
) -> Result<DesiredUser, String> {
    let email = spec.email.trim().to_lowercase();
    if !valid_email(&email) {
        return Err(format!(
            "email {:?} is not of the form name@domain",
            spec.email
        ));
    }
    for (k, v) in &spec.permissions {
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
        email,
        first_name: spec.first_name.clone().unwrap_or_default(),
        last_name: spec.last_name.clone().unwrap_or_default(),
        org_id,
        active: spec.active,
        group_id: spec.group_id.clone().unwrap_or_default(),
        permissions: (!spec.permissions.is_empty()).then(|| spec.permissions.clone()),
        password_max_days: spec.password_max_days,
    })
}

fn valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !email.chars().any(char::is_whitespace)
}

/// Permissions as compared for drift: `deny` ≡ absent for non-admins (§10.11) and
/// server-added keys the spec does not mention are ignored.
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

impl DesiredUser {
    /// True when the remote user already has every managed field as desired.
    pub fn matches(&self, r: &RemoteUser) -> bool {
        self.diff(r).is_empty()
    }

    /// The managed fields that differ, after the drift normalisation above. `matches` is
    /// defined through this, so the `plan`/`drift` reports cannot disagree with the reconcile.
    pub fn diff(&self, r: &RemoteUser) -> Vec<FieldChange> {
        let mut out = Vec::new();
        let mut field = |name: &str, differs: bool, dashboard: Value, desired: Value| {
            if differs {
                out.push(FieldChange {
                    field: name.to_string(),
                    dashboard,
                    desired,
                });
            }
        };
        field(
            "email",
            !r.email.trim().eq_ignore_ascii_case(&self.email),
            r.email.clone().into(),
            self.email.clone().into(),
        );
        field(
            "firstName",
            r.first_name != self.first_name,
            r.first_name.clone().into(),
            self.first_name.clone().into(),
        );
        field(
            "lastName",
            r.last_name != self.last_name,
            r.last_name.clone().into(),
            self.last_name.clone().into(),
        );
        field(
            "orgId",
            r.org_id != self.org_id,
            r.org_id.clone().into(),
            self.org_id.clone().into(),
        );
        field(
            "active",
            r.active != self.active,
            r.active.into(),
            self.active.into(),
        );
        field(
            "groupId",
            r.group_id != self.group_id,
            r.group_id.clone().into(),
            self.group_id.clone().into(),
        );
        if let Some(want) = &self.permissions {
            let want_n = normalized_permissions(want, want);
            let have_n = normalized_permissions(&r.permissions, want);
            let keys: std::collections::BTreeSet<&String> =
                want_n.keys().chain(have_n.keys()).collect();
            for k in keys {
                let (have, wanted) = (have_n.get(k), want_n.get(k));
                field(
                    &format!("permissions.{k}"),
                    have != wanted,
                    have.map_or(Value::Null, |v| v.clone().into()),
                    wanted.map_or(Value::Null, |v| v.clone().into()),
                );
            }
        }
        if let Some(d) = self.password_max_days {
            field(
                "passwordMaxDays",
                d != r.password_max_days,
                r.password_max_days.into(),
                d.into(),
            );
        }
        out
    }

    /// The permission map to send on a PUT: the spec's, plus server-added keys the
    /// remote has (so a PUT never strips what Tyk itself maintains).
    pub fn permissions_for_put(
        &self,
        remote: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        match &self.permissions {
            None => remote.clone(),
            Some(want) => {
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
        }
    }
}
