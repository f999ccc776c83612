//! The operator's API: `userop.dev/v1alpha1` custom resources (docs/design.md §2).
//!
//! Names that several modules (and the e2e suite) rely on live here once.

mod connection;
mod fixtures;
mod group;
mod policy;
mod rules;
mod user;

pub use connection::*;
pub use group::*;
pub use policy::*;
pub use user::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// API group of every resource this operator serves.
pub const GROUP: &str = "userop.dev";
/// Finalizer that guards Dashboard cleanup (docs/design.md §3.6).
pub const FINALIZER: &str = "userop.dev/cleanup";
/// Field manager for every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "dashboard-user-operator";
/// Annotation whose new value asks for an access-key rotation (docs/design.md §3.4).
pub const ROTATE_ANNOTATION: &str = "userop.dev/rotate-access-key";
/// Label put on every access Secret; the owned-Secret watch filters on it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "dashboard-user-operator";
/// Name of the cluster connection used when `connectionRef` is omitted.
pub const DEFAULT_CONNECTION: &str = "default";
/// `maxConcurrentRequests` when a connection does not set it (docs/operations/performance.md).
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u32 = 8;

/// Condition types (kstatus).
pub mod condition {
    pub const READY: &str = "Ready";
    pub const RECONCILING: &str = "Reconciling";
    pub const STALLED: &str = "Stalled";
}

/// Stable condition reasons (documented in docs/reference/conditions.md).
pub mod reason {
    pub const SYNCED: &str = "Synced";
    pub const PENDING: &str = "Pending";
    pub const CREATING: &str = "Creating";
    pub const UPDATING: &str = "Updating";
    pub const DELETING: &str = "Deleting";
    pub const PASSWORD_SECRET_NOT_FOUND: &str = "PasswordSecretNotFound";
    pub const PASSWORD_SECRET_KEY_MISSING: &str = "PasswordSecretKeyMissing";
    pub const PASSWORD_REJECTED: &str = "PasswordRejected";
    pub const ALREADY_EXISTS: &str = "AlreadyExists";
    pub const CONNECTION_NOT_FOUND: &str = "ConnectionNotFound";
    pub const CONNECTION_NOT_ALLOWED: &str = "ConnectionNotAllowed";
    pub const CONNECTION_NOT_READY: &str = "ConnectionNotReady";
    pub const DASHBOARD_UNREACHABLE: &str = "DashboardUnreachable";
    pub const DASHBOARD_ERROR: &str = "DashboardError";
    pub const FORBIDDEN: &str = "Forbidden";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const KUBERNETES_ERROR: &str = "KubernetesError";
    pub const UNAUTHORIZED: &str = "Unauthorized";
    /// A user's `groupRef` names a group that does not exist or has no Dashboard id yet.
    pub const GROUP_NOT_READY: &str = "GroupNotReady";
    /// A group being deleted is still referenced by users (its finalizer holds).
    pub const GROUP_IN_USE: &str = "GroupInUse";
    /// The Dashboard hides the user's access key (`forbid_admin_view_access_token`) and no
    /// earlier copy was published: the access Secret carries no key.
    pub const ACCESS_KEY_UNAVAILABLE: &str = "AccessKeyUnavailable";
    /// The spec asks for something its connection's `spec.policy` does not allow (a super
    /// user, another org, admin rights, a permission over the ceiling, an adoption).
    pub const NOT_ALLOWED: &str = "NotAllowed";
    /// The access Secret named by the spec exists and is not this object's: it is left as is.
    pub const SECRET_NOT_OWNED: &str = "SecretNotOwned";

    /// The reasons only ever written with Stalled=True: they wait for a change to a watched
    /// object, i.e. for a person (the status writer refuses them as retrying in debug builds,
    /// so the list cannot silently go stale). `ConnectionNotReady` is missing on purpose: it is retried
    /// too. The chart's DashboardUserStalled alert filters on these (tested in metrics.rs).
    pub const STALLED_ONLY: &[&str] = &[
        PASSWORD_SECRET_NOT_FOUND,
        PASSWORD_SECRET_KEY_MISSING,
        PASSWORD_REJECTED,
        ALREADY_EXISTS,
        CONNECTION_NOT_FOUND,
        CONNECTION_NOT_ALLOWED,
        INVALID_SPEC,
        ACCESS_KEY_UNAVAILABLE,
        NOT_ALLOWED,
        SECRET_NOT_OWNED,
    ];

    /// Every reason above: the bounded values of the `reason` metric label.
    pub const ALL: &[&str] = &[
        SYNCED,
        PENDING,
        CREATING,
        UPDATING,
        DELETING,
        PASSWORD_SECRET_NOT_FOUND,
        PASSWORD_SECRET_KEY_MISSING,
        PASSWORD_REJECTED,
        ALREADY_EXISTS,
        CONNECTION_NOT_FOUND,
        CONNECTION_NOT_ALLOWED,
        CONNECTION_NOT_READY,
        DASHBOARD_UNREACHABLE,
        DASHBOARD_ERROR,
        FORBIDDEN,
        INVALID_SPEC,
        KUBERNETES_ERROR,
        UNAUTHORIZED,
        GROUP_NOT_READY,
        GROUP_IN_USE,
        ACCESS_KEY_UNAVAILABLE,
        NOT_ALLOWED,
        SECRET_NOT_OWNED,
    ];
}

/// Every CRD this operator owns, in a stable order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        DashboardUser::crd(),
        DashboardUserGroup::crd(),
        DashboardConnection::crd(),
        ClusterDashboardConnection::crd(),
    ]
}

/// The CRDs as multi-document YAML: the output of `dashboard-user-operator crd`
/// and the content of `crds/`.
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for crd in all_crds() {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `crds/` is generated; this fails when the Rust types moved on without it.
    /// Regenerate with `cargo run -- crd > crds/crds.yaml`.
    #[test]
    fn checked_in_crds_match_generated() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/crds.yaml");
        let on_disk = std::fs::read_to_string(path).expect("crds/crds.yaml exists");
        let generated = crds_yaml().unwrap();
        let first_diff = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b);
        assert!(
            on_disk == generated,
            "crds/crds.yaml is stale (first difference at line {:?}): run `cargo run -- crd > crds/crds.yaml`",
            first_diff.map(|i| i + 1)
        );
    }

    #[test]
    fn crds_have_expected_names() {
        let names: Vec<_> = all_crds()
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "dashboardusers.userop.dev",
                "dashboardusergroups.userop.dev",
                "dashboardconnections.userop.dev",
                "clusterdashboardconnections.userop.dev"
            ]
        );
    }
}
