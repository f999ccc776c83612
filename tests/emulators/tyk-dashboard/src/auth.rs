//! Authentication and the built-in RBAC (docs/tyk-dashboard-api.md §1.2, §6).

use http::HeaderMap;

use crate::envelope::{Reply, msg};
use crate::model::Permissions;
use crate::settings::Settings;
use crate::state::Store;

/// `/admin/*`: `admin-auth` must equal the secret, else 401 "Not authorised"
/// (docs/tyk-dashboard-api.md §1.2).
pub fn admin(headers: &HeaderMap, s: &Settings) -> Result<(), Reply> {
    let given = headers.get("admin-auth").and_then(|v| v.to_str().ok());
    match given {
        Some(v) if !s.admin_secret.is_empty() && v == s.admin_secret => Ok(()),
        _ => Err(Reply::err(401, msg::NOT_AUTHORISED)),
    }
}

/// The Dashboard API user making a request, with the permissions that apply to it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    /// `""` for a super user, who sees every org (docs/tyk-dashboard-api.md §3, §8.1).
    pub org_id: String,
    pub perms: Permissions,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        // "If it contains no properties, the user is assumed to be an admin"
        // (docs/tyk-dashboard-api.md §6).
        self.perms.is_empty() || self.perms.get("IsAdmin").map(String::as_str) == Some("admin")
    }

    pub fn may_reset_passwords(&self) -> bool {
        self.perms.get("ResetPassword").map(String::as_str) == Some("admin")
    }

    /// Whether `org_id` is visible to the caller.
    pub fn sees_org(&self, org_id: &str) -> bool {
        self.org_id.is_empty() || self.org_id == org_id
    }
}

/// `/api/*`: the raw key in `Authorization`, or `Bearer <key>` (docs/tyk-dashboard-api.md §1.2 [?]:
/// accept both).
pub fn api_caller(headers: &HeaderMap, store: &Store, s: &Settings) -> Result<Caller, Reply> {
    let raw = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let key = match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    };
    let Some(user) = store.user_by_key(key) else {
        return Err(Reply::err(401, msg::NOT_AUTHORISED));
    };
    if !user.active {
        // docs/tyk-dashboard-api.md §8.3: `active:false` blocks the API; status is [?] (setting).
        return Err(Reply::err(s.inactive_key_status, msg::USER_NOT_ACTIVE));
    }
    let mut perms = user.user_permissions.clone();
    // docs/tyk-dashboard-api.md §8.7 [?]: a group supplies the section permissions;
    // IsAdmin/ResetPassword stay the user's own, since 5.6.0 admin roles cannot come from a group.
    if let Some(g) = (!user.group_id.is_empty())
        .then(|| store.group(&user.group_id))
        .flatten()
    {
        let own: Permissions = perms
            .into_iter()
            .filter(|(k, _)| k == "IsAdmin" || k == "ResetPassword")
            .collect();
        perms = g.permissions();
        perms.retain(|k, _| k != "IsAdmin" && k != "ResetPassword");
        perms.extend(own);
    }
    Ok(Caller {
        id: user.id.clone(),
        org_id: user.org_id.clone(),
        perms,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

/// Section check of the built-in rules (docs/tyk-dashboard-api.md §6): read is met by
/// read/write/admin, write by write/admin; admins pass unless the section is explicitly "deny".
pub fn rbac(c: &Caller, section: &str, need: Need, path: &str) -> Result<(), Reply> {
    let v = c.perms.get(section).map(String::as_str);
    let ok = if c.is_admin() {
        v != Some("deny")
    } else {
        match need {
            Need::Read => matches!(v, Some("read" | "write" | "admin")),
            Need::Write => matches!(v, Some("write" | "admin")),
        }
    };
    if ok { Ok(()) } else { Err(denied(path)) }
}

/// The built-in RBAC denial, double space included (docs/tyk-dashboard-api.md §1.2).
pub fn denied(path: &str) -> Reply {
    Reply::err(
        403,
        &format!("access denied: You do not have permission to access  {path}"),
    )
}
