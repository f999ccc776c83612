//! `DashboardUserGroup`: one Tyk Dashboard user group, declared in Kubernetes, so users can
//! name a group (`groupRef`) instead of an id that differs between Dashboards.
// Clippy reads repeated `printcolumn(type_ = ...)` arguments as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AdoptionPolicy, ConnectionKind, ConnectionRef, DeletionPolicy, rules};

/// Desired state of a Tyk Dashboard user group (`/api/usergroups`, docs/tyk-dashboard-api.md §4).
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "userop.dev",
    version = "v1alpha1",
    kind = "DashboardUserGroup",
    namespaced,
    status = "DashboardUserGroupStatus",
    shortname = "dbug",
    category = "dashboard",
    doc = "A Tyk Dashboard user group managed declaratively by dashboard-user-operator.",
    printcolumn(name = "Group", type_ = "string", json_path = ".spec.name"),
    printcolumn(name = "ID", type_ = "string", json_path = ".status.groupId"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        // As for users: the group's identity must not silently move to another Dashboard.
        "rule": "has(self.connectionRef) == has(oldSelf.connectionRef) && (!has(self.connectionRef) || self.connectionRef == oldSelf.connectionRef)",
        "message": "connectionRef is immutable"
    }
]))]
pub struct DashboardUserGroupSpec {
    /// The connection to the Dashboard; omitted → ClusterDashboardConnection `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_ref: Option<ConnectionRef>,
    /// The group's name in the Dashboard. Renaming it updates the same group.
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    /// Tyk organisation id; omitted → the connection's `orgId`. The Dashboard API puts a
    /// group in the API key's org, so another org is reported as InvalidSpec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::tyk_id)]
    pub org_id: Option<String>,
    #[serde(default = "default_true")]
    pub active: bool,
    /// Password expiry in days for the group's members (0 = none); unmanaged when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 36500))]
    pub password_max_days: Option<i64>,
    /// Tyk `user_permissions`: section → read/write/deny. Tyk requires at least one on
    /// update, refuses admin roles for groups since 5.6.0 and ignores `ResetPassword`
    /// (docs/tyk-dashboard-api.md §4).
    #[schemars(transform = rules::group_permissions)]
    pub permissions: BTreeMap<String, String>,
    /// What happens in the Dashboard when this object is deleted (`Deactivate`: `active: false`).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// May an existing Dashboard group with this name be taken over?
    #[serde(default)]
    pub adoption_policy: AdoptionPolicy,
}

fn default_true() -> bool {
    true
}

/// Observed state, written only by the operator through server-side apply.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardUserGroupStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Dashboard group id: the identity of the remote group, used by `groupRef` users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Which Dashboard `groupId` lives in (as for users): claims hold per Dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
    /// Last time the operator changed the Dashboard group or first confirmed it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    /// Recorded before `POST /api/usergroups`: Tyk does not refuse duplicate group names, so
    /// after a crash this marker is what says "a group of this name may be ours".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_intent: Option<GroupCreateIntent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupCreateIntent {
    pub name: String,
    pub time: String,
}

/// `DashboardUser.spec.groupRef`: a `DashboardUserGroup` in the user's namespace.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef {
    #[schemars(transform = rules::object_name)]
    pub name: String,
}

impl DashboardUserGroup {
    /// The connection this group resolves to, with the documented default.
    pub fn connection(&self) -> ConnectionRef {
        self.spec.connection_ref.clone().unwrap_or(ConnectionRef {
            kind: ConnectionKind::ClusterDashboardConnection,
            name: super::DEFAULT_CONNECTION.into(),
        })
    }

    /// `cluster/<name>` or `<namespace>/<name>`, as for users.
    pub fn connection_label(&self) -> String {
        use kube::ResourceExt;
        self.connection()
            .label(&self.namespace().unwrap_or_default())
    }

    /// The recorded Dashboard group id, if any.
    pub fn group_id(&self) -> Option<&str> {
        self.status
            .as_ref()?
            .group_id
            .as_deref()
            .filter(|s| !s.is_empty())
    }
}

impl DashboardUserGroupSpec {
    /// A minimal valid spec; tests refine it.
    pub fn named(name: &str) -> Self {
        Self {
            connection_ref: None,
            name: name.into(),
            description: None,
            org_id: None,
            active: true,
            password_max_days: None,
            permissions: BTreeMap::from([("apis".to_string(), "read".to_string())]),
            deletion_policy: DeletionPolicy::Delete,
            adoption_policy: AdoptionPolicy::Never,
        }
    }
}
