//! `DashboardUser`: one Tyk Dashboard user, declared in Kubernetes.
// Clippy reads repeated `printcolumn(type_ = ...)` arguments as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules;

/// Desired state of a Tyk Dashboard user (docs/design.md §2).
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "userop.dev",
    version = "v1alpha1",
    kind = "DashboardUser",
    namespaced,
    status = "DashboardUserStatus",
    shortname = "dbu",
    category = "dashboard",
    doc = "A Tyk Dashboard user managed declaratively by dashboard-user-operator.",
    printcolumn(name = "Email", type_ = "string", json_path = ".spec.email"),
    printcolumn(name = "Org", type_ = "string", json_path = ".status.orgId"),
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
    ),
    // `-o wide` only (priority 1): what a support request needs without `-o yaml`.
    printcolumn(
        name = "User ID",
        type_ = "string",
        json_path = ".status.userId",
        priority = 1
    ),
    printcolumn(
        name = "Connection",
        type_ = "string",
        json_path = ".status.connection",
        priority = 1
    ),
    printcolumn(
        name = "Last Sync",
        type_ = "date",
        json_path = ".status.lastSyncTime",
        priority = 1
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        // Identity must not silently move to another Dashboard.
        "rule": "has(self.connectionRef) == has(oldSelf.connectionRef) && (!has(self.connectionRef) || self.connectionRef == oldSelf.connectionRef)",
        "message": "connectionRef is immutable"
    },
    {
        // A super user has no org by definition (docs/tyk-dashboard-api.md §2.1). Whether an
        // org-less user *without* superUser is valid depends on the connection's orgId,
        // which CEL cannot see: the reconcile reports that as InvalidSpec.
        "rule": "!has(self.superUser) || !self.superUser || !has(self.orgId)",
        "message": "superUser users have no organisation: omit orgId"
    },
    {
        // One source for the user's group: a literal id, or a DashboardUserGroup by name.
        "rule": "!has(self.groupId) || !has(self.groupRef)",
        "message": "set groupId or groupRef, not both"
    },
    {
        // The admin users API has no documented way to rename a user (docs/backends.md,
        // AdminUsersAPI).
        "rule": "!has(oldSelf.username) || (has(self.username) && self.username == oldSelf.username)",
        "message": "username is immutable once set"
    }
]))]
pub struct DashboardUserSpec {
    /// The connection to the Dashboard; omitted → ClusterDashboardConnection `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_ref: Option<ConnectionRef>,
    /// TykDashboard: the login name, compared case-insensitively (Tyk lower-cases it).
    /// AdminUsersAPI: the user's email.
    #[schemars(extend("x-kubernetes-validations" = [{
        "rule": "self.matches('^[^@\\\\s]+@[^@\\\\s]+$')",
        "message": "email must look like name@domain"
    }]))]
    #[schemars(length(min = 3, max = 254))]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::display_name)]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::display_name)]
    pub last_name: Option<String>,
    /// AdminUsersAPI only (and required there): the login name, unique on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 150))]
    pub username: Option<String>,
    /// AdminUsersAPI only: the user's role; omitted → `viewer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AdminRole>,
    /// Tyk organisation id; omitted → the connection's `orgId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::tyk_id)]
    pub org_id: Option<String>,
    /// Must be true to create a user with no organisation at all (a Tyk super user).
    #[serde(default)]
    pub super_user: bool,
    /// Whether the user may log in and use the Dashboard API.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Tyk user group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::tyk_id)]
    pub group_id: Option<String>,
    /// A `DashboardUserGroup` in this namespace: the user waits (GroupNotReady) until the
    /// group has a Dashboard id, then uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ref: Option<super::GroupRef>,
    /// Tyk `user_permissions`: section → read/write/deny, plus `IsAdmin`/`ResetPassword: admin`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(transform = rules::permissions)]
    pub permissions: BTreeMap<String, String>,
    /// Per-user password expiry in days (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 36500))]
    pub password_max_days: Option<i64>,
    /// Secret (same namespace) holding the password; without it no password is managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret_ref: Option<PasswordSecretRef>,
    /// Where the user's Dashboard API access key is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret: Option<AccessKeySecret>,
    /// What happens in the Dashboard when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// May an existing Dashboard user with this email be taken over?
    #[serde(default)]
    pub adoption_policy: AdoptionPolicy,
}

fn default_true() -> bool {
    true
}

/// The roles of the admin users API (`AdminUserCreate.role`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdminRole {
    Admin,
    Editor,
    #[default]
    Viewer,
}

impl AdminRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

/// Reference to a `DashboardConnection` (same namespace) or `ClusterDashboardConnection`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRef {
    #[serde(default)]
    pub kind: ConnectionKind,
    #[schemars(transform = rules::object_name)]
    pub name: String,
}

impl ConnectionRef {
    /// `cluster/<name>` or `<namespace>/<name>` for an object in namespace `ns`: the
    /// connection's metrics label and status/log name.
    pub fn label(&self, ns: &str) -> String {
        match self.kind {
            ConnectionKind::ClusterDashboardConnection => format!("cluster/{}", self.name),
            ConnectionKind::DashboardConnection => format!("{ns}/{}", self.name),
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ConnectionKind {
    DashboardConnection,
    #[default]
    ClusterDashboardConnection,
}

/// A key in a Secret of the user's namespace holding the password.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSecretRef {
    #[schemars(transform = rules::object_name)]
    pub name: String,
    #[serde(default = "default_password_key")]
    #[schemars(transform = rules::secret_key)]
    pub key: String,
}

fn default_password_key() -> String {
    "password".into()
}

/// The Secret the operator writes with the user's access key.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeySecret {
    /// Defaults to `<metadata.name>-dashboard-access`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::object_name)]
    pub name: Option<String>,
    /// Defaults to `accessKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::secret_key)]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(transform = rules::secret_labels)]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(transform = rules::secret_annotations)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the Dashboard user (needs the connection's API key; else deactivate).
    #[default]
    Delete,
    /// Keep the Dashboard user but set `active: false`.
    Deactivate,
    /// Leave the Dashboard user untouched.
    Orphan,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum AdoptionPolicy {
    /// An existing user with this email is reported as AlreadyExists and left alone.
    #[default]
    Never,
    /// An existing user with this email is taken over.
    IfExists,
}

/// Observed state, written only by the operator through server-side apply.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardUserStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The Dashboard user id: the identity of the remote user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The connection in use, `cluster/<name>` or `<namespace>/<name>` (the `-o wide`
    /// column; the same spelling as the metrics' `connection` label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret_name: Option<String>,
    /// Which Dashboard `userId` lives in: the backend type and the normalised URL. A
    /// remote user is claimed per Dashboard, whatever connection object reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
    /// Last time the Dashboard user was confirmed in line with the spec (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    /// Recorded before `POST /admin/users` so a crash after the POST can be told apart
    /// from someone else's user with the same email (docs/design.md §3.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_intent: Option<CreateIntent>,
    /// The last "already exists" answer to a create: retried once per resync period (or
    /// at once after a spec change) instead of on every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_conflict: Option<CreateConflict>,
    /// Keyed HMAC of the last password applied (key in an operator-namespace Secret):
    /// lets the operator tell a real change from a restart without storing the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_fingerprint: Option<String>,
    /// Fingerprint of a password the Dashboard refused: not retried until it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_password_fingerprint: Option<String>,
    /// The last `userop.dev/rotate-access-key` value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIntent {
    /// The login name: the email (TykDashboard) or the username (AdminUsersAPI).
    pub email: String,
    pub time: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateConflict {
    pub generation: i64,
    pub time: String,
}

impl DashboardUser {
    /// The connection this user resolves to, with the documented default.
    pub fn connection(&self) -> ConnectionRef {
        self.spec.connection_ref.clone().unwrap_or(ConnectionRef {
            kind: ConnectionKind::ClusterDashboardConnection,
            name: super::DEFAULT_CONNECTION.into(),
        })
    }

    /// The Ready condition as last written (none before the first status write).
    pub fn ready_condition(&self) -> Option<&Condition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == super::condition::READY)
    }

    /// `cluster/<name>` or `<namespace>/<name>`: how logs, metrics and status name the
    /// connection this user uses.
    pub fn connection_label(&self) -> String {
        use kube::ResourceExt;
        self.connection()
            .label(&self.namespace().unwrap_or_default())
    }

    /// Name of the access Secret this user should have.
    pub fn access_secret_name(&self) -> String {
        use kube::ResourceExt;
        self.spec
            .access_key_secret
            .as_ref()
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| format!("{}-dashboard-access", self.name_any()))
    }

    /// Key inside the access Secret that holds the access key.
    pub fn access_secret_key(&self) -> String {
        self.spec
            .access_key_secret
            .as_ref()
            .and_then(|s| s.key.clone())
            .unwrap_or_else(|| "accessKey".into())
    }

    /// Value of the rotation annotation, if any.
    pub fn rotation_request(&self) -> Option<&str> {
        self.metadata
            .annotations
            .as_ref()?
            .get(super::ROTATE_ANNOTATION)
            .map(String::as_str)
    }
}

impl DashboardUserSpec {
    /// A minimal valid spec; tests and examples refine it.
    pub fn for_email(email: &str) -> Self {
        Self {
            connection_ref: None,
            email: email.into(),
            username: None,
            role: None,
            first_name: None,
            last_name: None,
            org_id: None,
            super_user: false,
            active: true,
            group_id: None,
            group_ref: None,
            permissions: BTreeMap::new(),
            password_max_days: None,
            password_secret_ref: None,
            access_key_secret: None,
            deletion_policy: DeletionPolicy::Delete,
            adoption_policy: AdoptionPolicy::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_fields_are_omitted() {
        let spec: DashboardUserSpec =
            serde_json::from_value(serde_json::json!({"email": "a@b.c"})).unwrap();
        assert!(spec.active);
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        assert_eq!(spec.adoption_policy, AdoptionPolicy::Never);
        let u = DashboardUser::new("alice", spec);
        assert_eq!(u.access_secret_name(), "alice-dashboard-access");
        assert_eq!(u.access_secret_key(), "accessKey");
        assert_eq!(u.connection().name, "default");
        assert_eq!(
            u.connection().kind,
            ConnectionKind::ClusterDashboardConnection
        );
    }

    #[test]
    fn password_key_defaults_to_password() {
        let r: PasswordSecretRef =
            serde_json::from_value(serde_json::json!({"name": "pw"})).unwrap();
        assert_eq!(r.key, "password");
    }
}
