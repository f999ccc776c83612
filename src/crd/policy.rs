//! `spec.policy` of both connection kinds: what the namespaces a connection admits may ask
//! of the Dashboard through it (docs/multi-tenancy.md). Every field defaults to the narrow
//! choice, so a connection without a policy allows ordinary users of its own org only.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules;

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPolicy {
    /// Tyk super users (`superUser: true`: no organisation, admin of every one).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_super_users: bool,
    /// Admin rights: the `IsAdmin` and `ResetPassword` permissions, a Tyk user without
    /// explicit permissions (Tyk makes it an admin), the AdminUsersAPI `admin` role.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_admin_users: bool,
    /// Taking over existing Dashboard users and groups (`adoptionPolicy: IfExists`). The
    /// connection's own API-key owner is never taken over.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_adoption: bool,
    /// Organisations users and groups may be in besides the connection's `orgId`. A
    /// connection without `orgId` allows only these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 64))]
    #[schemars(transform = rules::tyk_id_list)]
    pub allowed_org_ids: Vec<String>,
    /// The highest level a permission section may have, for users and groups alike:
    /// section → `deny`, `read` or `write`; `*` covers the sections not listed. Sections
    /// covered by neither are not limited.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(transform = rules::permission_ceiling)]
    pub permission_ceiling: BTreeMap<String, PermissionLevel>,
}

impl ConnectionPolicy {
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// A permission level, ordered `deny` < `read` < `write`.
#[derive(
    Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PermissionLevel {
    Deny,
    Read,
    Write,
}

impl PermissionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// The level of a Tyk permission value; `None` for `admin` (IsAdmin, ResetPassword)
    /// and unknown values, which the admin rule covers.
    pub fn of(value: &str) -> Option<Self> {
        match value {
            "deny" => Some(Self::Deny),
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
