//! The desired Dashboard user derived from a spec, and drift comparison with
//! normalisation (tyk-dashboard-api.md §10.9, §10.11).

use std::collections::BTreeMap;

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
        let perms_ok = match &self.permissions {
            None => true,
            Some(want) => {
                normalized_permissions(want, want) == normalized_permissions(&r.permissions, want)
            }
        };
        r.email.trim().eq_ignore_ascii_case(&self.email)
            && r.first_name == self.first_name
            && r.last_name == self.last_name
            && r.org_id == self.org_id
            && r.active == self.active
            && r.group_id == self.group_id
            && perms_ok
            && self
                .password_max_days
                .is_none_or(|d| d == r.password_max_days)
    }

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
/// groups alike: Tyk keeps `ResetPassword` out of the Dashboard API's reach, §3.4, §4).
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
