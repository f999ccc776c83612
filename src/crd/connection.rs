//! `DashboardConnection` / `ClusterDashboardConnection`: how to reach one Dashboard.
// Clippy reads repeated `printcolumn(type_ = ...)` arguments as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ConnectionPolicy, rules};

/// A Dashboard reachable from users in this namespace. Its Secrets live here too.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "userop.dev",
    version = "v1alpha1",
    kind = "DashboardConnection",
    namespaced,
    status = "ConnectionStatus",
    shortname = "dbc",
    category = "dashboard",
    doc = "Connection to a Tyk Dashboard for DashboardUsers of the same namespace.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgId"),
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
// The type/Secret rules sit on the spec: schemars drops extensions of a flattened struct.
#[schemars(transform = rules::connection_type)]
pub struct DashboardConnectionSpec {
    #[serde(flatten)]
    pub settings: ConnectionSettings,
}

/// A Dashboard shared by the namespaces it allows. Secret refs default to the
/// operator's namespace.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "userop.dev",
    version = "v1alpha1",
    kind = "ClusterDashboardConnection",
    status = "ConnectionStatus",
    shortname = "cdbc",
    category = "dashboard",
    doc = "Cluster-wide connection to a Tyk Dashboard, usable from allowedNamespaces.",
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(name = "Org", type_ = "string", json_path = ".spec.orgId"),
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
#[schemars(transform = rules::connection_type)]
pub struct ClusterDashboardConnectionSpec {
    #[serde(flatten)]
    pub settings: ConnectionSettings,
    /// Namespaces whose DashboardUsers may use this connection. Empty → only the
    /// operator's own namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
}

/// What both connection kinds share.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSettings {
    /// The remote user system: `TykDashboard` (default) or `AdminUsersAPI`.
    #[serde(rename = "type", default)]
    pub type_: ConnectionType,
    /// Base URL, e.g. `http://tyk-dashboard.tyk:3000` (TykDashboard) or `https://example.com/api`
    /// (AdminUsersAPI: the routes are `{url}/admin/users/...`).
    #[schemars(length(min = 1, max = 2048))]
    #[schemars(extend("x-kubernetes-validations" = [
        {
            "rule": "self.startsWith('http://') || self.startsWith('https://')",
            "message": "url must start with http:// or https://"
        },
        {
            "rule": "self.matches('^https?://[^/?#@\\\\s]+([/?#].*)?$')",
            "message": "url needs a host after the scheme, e.g. http://tyk-dashboard.tyk:3000"
        },
        {
            // The client refuses them too: transport errors would print the URL.
            "rule": "!self.matches('^https?://[^/?#]*@')",
            "message": "url must not contain credentials: put the admin secret in adminSecretRef"
        },
        {
            // The base URL is joined with API paths; a query or fragment would swallow them.
            "rule": "!self.contains('?') && !self.contains('#') && !self.matches('\\\\s')",
            "message": "url must not contain a query, a fragment or spaces"
        }
    ]))]
    pub url: String,
    /// TykDashboard: the Dashboard `admin_secret` (sent as `admin-auth`). Without it the
    /// connection is API-key-only: users are managed through the Dashboard API with
    /// `apiKeySecretRef` alone (docs/backends.md "API-key-only connections").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_secret_ref: Option<SecretKeyRef>,
    /// AdminUsersAPI: the Bearer token of an admin (key default `token`). Required (CEL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret_ref: Option<SecretKeyRef>,
    /// An admin user's Dashboard API key: needed to find users by email and to delete them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_ref: Option<SecretKeyRef>,
    /// Default organisation for users that do not set `orgId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::tyk_id)]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSettings>,
    /// Per-request timeout (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 300))]
    pub timeout_seconds: Option<u32>,
    /// Upper bound on parallel requests to this Dashboard (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 256))]
    pub max_concurrent_requests: Option<u32>,
    /// What users and groups may ask of the Dashboard through this connection; every
    /// field defaults to the narrow choice (docs/multi-tenancy.md).
    #[serde(default, skip_serializing_if = "ConnectionPolicy::is_default")]
    pub policy: ConnectionPolicy,
}

/// Which remote user system a connection talks to; each has its own client behind
/// [`crate::backend::Backend`].
#[derive(Deserialize, Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ConnectionType {
    /// The Tyk Dashboard Admin and Dashboard APIs.
    #[default]
    TykDashboard,
    /// An admin users API (`POST {url}/admin/users/` with a Bearer token).
    #[serde(rename = "AdminUsersAPI")]
    AdminUsersApi,
}

impl ConnectionType {
    /// The name as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Self::TykDashboard => "TykDashboard",
            Self::AdminUsersApi => "AdminUsersAPI",
        }
    }
}

/// A key in a Secret. `namespace` is only honoured for cluster connections.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    #[schemars(transform = rules::object_name)]
    pub name: String,
    /// Key inside the Secret. Defaults: `adminSecret`, `apiKey`, `token`, `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::secret_key)]
    pub key: Option<String>,
    /// Cluster connections only; defaults to the operator's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = rules::namespace_name)]
    pub namespace: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.caSecretRef) || !has(self.insecureSkipVerify) || !self.insecureSkipVerify",
    "message": "set tls.caSecretRef or tls.insecureSkipVerify, not both: skipping verification ignores the CA"
}]))]
pub struct TlsSettings {
    /// PEM CA bundle to trust in addition to nothing else (key default `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<SecretKeyRef>,
    /// Skip certificate verification (testing only).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Namespaces allowed to use a cluster connection: listed by name and/or selected by label.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedNamespaces {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend(
        "maxItems" = 256,
        "items" = {"type": "string", "maxLength": 63},
        "x-kubernetes-validations" = [{
            "rule": "self.all(n, n.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))",
            "message": "allowedNamespaces.names must be namespace names: lower-case letters, digits and '-'"
        }]
    ))]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// TykDashboard connections: `Admin` (with the admin secret) or `APIKeyOnly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ConnectionMode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

/// How a Tyk connection reaches users.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ConnectionMode {
    /// `adminSecretRef` given: the Admin API for creates and updates.
    Admin,
    /// No `adminSecretRef`: the Dashboard API alone, with an org admin's key.
    #[serde(rename = "APIKeyOnly")]
    ApiKeyOnly,
}

impl ConnectionSettings {
    /// `None` for backends without modes.
    pub fn mode(&self) -> Option<ConnectionMode> {
        match (self.type_, &self.admin_secret_ref) {
            (ConnectionType::AdminUsersApi, _) => None,
            (ConnectionType::TykDashboard, Some(_)) => Some(ConnectionMode::Admin),
            (ConnectionType::TykDashboard, None) => Some(ConnectionMode::ApiKeyOnly),
        }
    }

    pub fn for_url(url: &str, admin_secret: &str) -> Self {
        Self {
            type_: ConnectionType::TykDashboard,
            url: url.into(),
            admin_secret_ref: Some(SecretKeyRef {
                name: admin_secret.into(),
                key: None,
                namespace: None,
            }),
            token_secret_ref: None,
            api_key_secret_ref: None,
            org_id: None,
            tls: None,
            timeout_seconds: None,
            max_concurrent_requests: None,
            policy: ConnectionPolicy::default(),
        }
    }
}
