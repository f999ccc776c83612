//! The tenancy rules of a connection (`spec.policy`, docs/multi-tenancy.md): pure checks
//! of what a user or group asks for against what its connection allows.
//!
//! The plan calls them before deciding anything, and the executors call them again right
//! before each Dashboard write, so nothing a connection forbids is ever sent. A refusal is a
//! message that names the connection field that would allow the request.

use std::collections::BTreeMap;

use crate::crd::{ConnectionPolicy, PermissionLevel};

/// A connection's rules as one reconcile sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `cluster/<name>` or `<namespace>/<name>`, for messages.
    pub connection: String,
    /// The connection's own org: its `orgId`, or on an API-key-only connection the org of
    /// the key's user.
    pub home_org: Option<String>,
    pub rules: ConnectionPolicy,
    /// No connection object stands behind this (the CLI's `--url`, which holds the admin
    /// secret itself): nothing is refused.
    pub unrestricted: bool,
}

/// What a user or group asks of the Dashboard, in the terms the rules speak of.
#[derive(Clone, Debug, Default)]
pub struct Ask<'a> {
    /// A Tyk super user (no org).
    pub super_user: bool,
    /// The Tyk org it is to be in; `None` where the backend has no orgs.
    pub org: Option<&'a str>,
    /// Tyk `user_permissions`; `None` = none given (Tyk makes such a user an admin).
    pub permissions: Option<&'a BTreeMap<String, String>>,
    /// A Tyk user whose permissions Tyk decides: `None` above means an admin.
    pub tyk_user: bool,
    /// The AdminUsersAPI `admin` role.
    pub admin_role: bool,
    /// A literal `groupId`: a group the operator does not manage, whose permissions the
    /// ceiling cannot see.
    pub literal_group: bool,
}

/// Permission keys that carry admin rights (docs/multi-tenancy.md).
const ADMIN_KEYS: &[&str] = &["IsAdmin", "ResetPassword"];
/// The `permissionCeiling` key for every section not listed.
const ANY_SECTION: &str = "*";

impl Policy {
    /// The rules of no connection at all: everything is allowed.
    pub fn unrestricted(connection: &str) -> Self {
        Self {
            connection: connection.to_string(),
            home_org: None,
            rules: ConnectionPolicy::default(),
            unrestricted: true,
        }
    }

    /// Every rule, in the order a reader would check them; the first refusal wins.
    pub fn check(&self, ask: &Ask<'_>) -> Result<(), String> {
        if self.unrestricted {
            return Ok(());
        }
        let r = &self.rules;
        if ask.super_user && !r.allow_super_users {
            return Err(self.refuse(
                "superUser: true",
                "set spec.policy.allowSuperUsers: true on the connection to allow super users",
            ));
        }
        if let Some(org) = ask.org.filter(|_| !ask.super_user) {
            self.check_org(org)?;
        }
        if !r.allow_admin_users {
            if ask.admin_role {
                return Err(self.refuse("role: admin", ALLOW_ADMIN));
            }
            if let Some(k) = ask
                .permissions
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .find(|k| ADMIN_KEYS.contains(k))
            {
                return Err(self.refuse(&format!("permissions.{k}: admin"), ALLOW_ADMIN));
            }
            let none_given = ask.permissions.is_none_or(BTreeMap::is_empty);
            if ask.tyk_user && !ask.super_user && none_given {
                return Err(self.refuse(
                    "a user without permissions (Tyk makes it an admin)",
                    "list its permissions (e.g. apis: read), or set spec.policy.allowAdminUsers: true on the connection",
                ));
            }
        }
        for (section, value) in ask.permissions.into_iter().flatten() {
            let Some(have) = PermissionLevel::of(value) else {
                continue;
            };
            if let Some((key, max)) = self.ceiling(section)
                && have > max
            {
                return Err(self.refuse(
                    &format!("permissions.{section}: {value}"),
                    &format!(
                        "its spec.policy.permissionCeiling allows {key}: {} at most",
                        max.as_str()
                    ),
                ));
            }
        }
        if ask.literal_group && !r.permission_ceiling.is_empty() {
            return Err(self.refuse(
                "a literal groupId",
                "its spec.policy.permissionCeiling cannot see a group's permissions; use groupRef to a DashboardUserGroup",
            ));
        }
        Ok(())
    }

    /// May an existing Dashboard user or group be taken over (`adoptionPolicy: IfExists`)?
    pub fn check_adoption(&self, what: &str) -> Result<(), String> {
        if self.unrestricted || self.rules.allow_adoption {
            return Ok(());
        }
        Err(self.refuse(
            &format!("adopting existing {what}"),
            "set spec.policy.allowAdoption: true on the connection to allow adoption",
        ))
    }

    /// The orgs a user or group may be in, for messages and `plan`.
    pub fn allowed_orgs(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = self.home_org.as_deref().into_iter().collect();
        for o in &self.rules.allowed_org_ids {
            if !orgs.contains(&o.as_str()) {
                orgs.push(o);
            }
        }
        orgs
    }

    fn check_org(&self, org: &str) -> Result<(), String> {
        let orgs = self.allowed_orgs();
        if orgs.contains(&org) {
            return Ok(());
        }
        let allowed = if orgs.is_empty() {
            "it names no org (no orgId, no spec.policy.allowedOrgIds)".to_string()
        } else {
            format!("it allows {}", orgs.join(", "))
        };
        Err(self.refuse(
            &format!("org {org}"),
            &format!("{allowed}; add the org to spec.policy.allowedOrgIds on the connection"),
        ))
    }

    /// The ceiling that applies to `section`, and the key it was written under.
    fn ceiling(&self, section: &str) -> Option<(&str, PermissionLevel)> {
        let c = &self.rules.permission_ceiling;
        c.get_key_value(section)
            .or_else(|| c.get_key_value(ANY_SECTION))
            .map(|(k, v)| (k.as_str(), *v))
    }

    fn refuse(&self, what: &str, fix: &str) -> String {
        format!(
            "{what} is not allowed through connection {}: {fix}",
            self.connection
        )
    }
}

const ALLOW_ADMIN: &str =
    "set spec.policy.allowAdminUsers: true on the connection to allow admin users";

#[cfg(test)]
mod tests;
