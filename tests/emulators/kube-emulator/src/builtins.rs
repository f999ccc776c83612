//! Built-in kinds: stored, validated where tests depend on it, never run by controllers
//! (docs/kubernetes-api.md §2.13).

use serde_json::{Map, Value, json};

use crate::registry::{ResourceType, builtin};
use crate::status::{ApiError, Cause};

pub fn builtin_types() -> Vec<ResourceType> {
    vec![
        builtin(
            "",
            "v1",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            &[],
            &["status"],
        ),
        builtin("", "v1", "Secret", "secrets", true, &[], &[], &[]),
        builtin("", "v1", "ConfigMap", "configmaps", true, &["cm"], &[], &[]),
        builtin(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            true,
            &["sa"],
            &[],
            &[],
        ),
        builtin(
            "",
            "v1",
            "Service",
            "services",
            true,
            &["svc"],
            &["all"],
            &["status"],
        ),
        builtin("", "v1", "Event", "events", true, &["ev"], &[], &[]),
        builtin(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            true,
            &["deploy"],
            &["all"],
            &["status", "scale"],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "Role",
            "roles",
            true,
            &[],
            &[],
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
            &[],
            &[],
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
            &[],
            &[],
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            &[],
            &[],
            &[],
        ),
        builtin(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            &["netpol"],
            &[],
            &[],
        ),
        builtin(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["pdb"],
            &[],
            &["status"],
        ),
        builtin(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            true,
            &[],
            &[],
            &[],
        ),
        builtin(
            "events.k8s.io",
            "v1",
            "Event",
            "events",
            true,
            &["ev"],
            &[],
            &[],
        ),
        builtin(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
            &["api-extensions"],
            &["status"],
        ),
    ]
}

/// Types whose strategy sets `generation` (CRs, and these built-ins) (docs/kubernetes-api.md §2.4).
pub fn tracks_generation(t: &ResourceType) -> bool {
    t.is_custom()
        || matches!(
            t.kind.as_str(),
            "Deployment" | "CustomResourceDefinition" | "NetworkPolicy" | "PodDisruptionBudget"
        )
}

/// Whether a change between `old` and `new` bumps generation (docs/kubernetes-api.md §2.4): CRs
/// bump on any non-metadata change outside an isolated status; built-ins on `spec` changes.
pub fn generation_changed(t: &ResourceType, old: &Value, new: &Value) -> bool {
    if !t.is_custom() {
        return old.get("spec") != new.get("spec");
    }
    let strip = |v: &Value| -> Map<String, Value> {
        let mut m = v.as_object().cloned().unwrap_or_default();
        m.remove("metadata");
        m.remove("apiVersion");
        m.remove("kind");
        if t.has_subresource("status") {
            m.remove("status");
        }
        m
    };
    strip(old) != strip(new)
}

/// The extra field-selector labels a type supports beyond metadata.name/namespace
/// (docs/kubernetes-api.md §2.9).
pub fn extra_field_labels(t: &ResourceType) -> Vec<String> {
    let v: &[&str] = match (t.group.as_str(), t.kind.as_str()) {
        ("", "Secret") => &["type"],
        ("", "Namespace") => &["status.phase"],
        (_, "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reportingController",
        ],
        _ => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

/// Whether DELETE answers with the object instead of a `Status` (`ReturnDeletedObject`).
pub fn returns_deleted_object(t: &ResourceType) -> bool {
    t.group.is_empty() && matches!(t.kind.as_str(), "ServiceAccount" | "Service")
}

/// Type-specific defaulting and validation for built-in writes. `causes` collects 422
/// field errors; other failures return directly.
pub fn prepare(
    t: &ResourceType,
    obj: &mut Value,
    old: Option<&Value>,
    causes: &mut Vec<Cause>,
) -> Result<(), ApiError> {
    match (t.group.as_str(), t.kind.as_str()) {
        ("", "Secret") => crate::datamaps::prepare_secret(obj, old, causes)?,
        ("", "ConfigMap") => crate::datamaps::prepare_configmap(obj, old, causes),
        ("", "Namespace") => {
            // docs/kubernetes-api.md §2.8: namespaces carry the `kubernetes` finalizer and a phase.
            crate::namespaces::label_namespace(obj);
            if old.is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            } else if let Some(old) = old {
                obj["spec"] = old.get("spec").cloned().unwrap_or(json!({}));
                obj["status"] = old.get("status").cloned().unwrap_or(json!({}));
            }
        }
        ("", "Service") => {
            let spec = obj
                .as_object_mut()
                .expect("object")
                .entry("spec")
                .or_insert_with(|| json!({}));
            if spec.get("type").is_none() {
                spec["type"] = json!("ClusterIP");
            }
        }
        ("coordination.k8s.io", "Lease") => {}
        (_, "Event") => crate::events::validate(&t.group, obj, old, causes),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn secret_type() -> ResourceType {
        Registry::with_builtins()
            .get("", "v1", "secrets")
            .unwrap()
            .clone()
    }

    #[test]
    fn string_data_is_merged_and_dropped() {
        let mut s = json!({"metadata":{"name":"s"},"data":{"a":"eA=="},"stringData":{"b":"hi"}});
        let mut c = vec![];
        prepare(&secret_type(), &mut s, None, &mut c).unwrap();
        assert!(c.is_empty());
        assert_eq!(s["data"], json!({"a":"eA==","b":"aGk="}));
        assert!(s.get("stringData").is_none());
        assert_eq!(s["type"], "Opaque");
    }

    #[test]
    fn bad_base64_is_400_and_type_is_immutable() {
        let mut s = json!({"metadata":{"name":"s"},"data":{"a":"!!"}});
        assert_eq!(
            prepare(&secret_type(), &mut s, None, &mut vec![])
                .unwrap_err()
                .code,
            400
        );
        let old = json!({"metadata":{"name":"s"},"type":"Opaque"});
        let mut s = json!({"metadata":{"name":"s"},"type":"kubernetes.io/tls"});
        let mut c = vec![];
        prepare(&secret_type(), &mut s, Some(&old), &mut c).unwrap();
        assert_eq!(c[0].field, "type");
    }

    #[test]
    fn immutable_secret_data_cannot_change() {
        let old =
            json!({"metadata":{"name":"s"},"type":"Opaque","immutable":true,"data":{"a":"eA=="}});
        let mut s = json!({"metadata":{"name":"s"},"immutable":true,"data":{"a":"eQ=="}});
        let mut c = vec![];
        prepare(&secret_type(), &mut s, Some(&old), &mut c).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "data");
    }
}
