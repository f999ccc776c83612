//! Built-in kinds: stored, validated where tests depend on it, never run by controllers
//! (kube-api-emulator.md §2.13).

use base64::Engine;
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

/// Types whose strategy sets `generation` (CRs, and these built-ins) (§2.4).
pub fn tracks_generation(t: &ResourceType) -> bool {
    t.is_custom()
        || matches!(
            t.kind.as_str(),
            "Deployment" | "CustomResourceDefinition" | "NetworkPolicy" | "PodDisruptionBudget"
        )
}

/// Whether a change between `old` and `new` bumps generation (§2.4): CRs bump on any
/// non-metadata change outside an isolated status; built-ins on `spec` changes.
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

/// The extra field-selector labels a type supports beyond metadata.name/namespace (§2.9).
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

fn valid_data_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

const KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// Secret: `stringData` merged into `data` and dropped, base64 checked, `type` defaulted and
/// immutable, `immutable: true` honoured, key rules and 1 MiB limit (§2.13).
fn prepare_secret(
    obj: &mut Value,
    old: Option<&Value>,
    causes: &mut Vec<Cause>,
) -> Result<(), ApiError> {
    let m = obj.as_object_mut().expect("object");
    if let Some(sd) = m.remove("stringData") {
        let sd = sd.as_object().cloned().unwrap_or_default();
        let data = m.entry("data").or_insert_with(|| json!({}));
        if !data.is_object() {
            *data = json!({});
        }
        for (k, v) in sd {
            let s = v.as_str().unwrap_or_default();
            data[&k] = json!(base64::engine::general_purpose::STANDARD.encode(s));
        }
    }
    if m.get("data")
        .is_some_and(|d| d.as_object().is_some_and(Map::is_empty) || d.is_null())
    {
        m.remove("data");
    }
    let mut total = 0usize;
    if let Some(data) = m.get("data").and_then(Value::as_object) {
        for (k, v) in data {
            if !valid_data_key(k) {
                causes.push(Cause::invalid(&format!("data[{k}]"), &json!(k), KEY_MSG));
            }
            let Some(s) = v.as_str() else {
                return Err(ApiError::bad_request(format!(
                    "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data for key {k}"
                )));
            };
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => total += b.len(),
                Err(_) => {
                    return Err(ApiError::bad_request(
                        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 0",
                    ));
                }
            }
        }
    }
    if total > 1024 * 1024 {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "data",
            "Too long: must have at most 1048576 bytes",
        ));
    }
    if m.get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        m.insert("type".into(), json!("Opaque"));
    }
    if let Some(old) = old {
        if old.get("type") != m.get("type") {
            causes.push(Cause::invalid(
                "type",
                m.get("type").unwrap_or(&Value::Null),
                "field is immutable",
            ));
        }
        check_immutable(old, m, &["data"], causes);
    }
    Ok(())
}

/// `immutable: true` forbids changes to data and un-setting the flag.
fn check_immutable(
    old: &Value,
    new: &Map<String, Value>,
    fields: &[&str],
    causes: &mut Vec<Cause>,
) {
    if old.get("immutable") != Some(&json!(true)) {
        return;
    }
    if new.get("immutable") != Some(&json!(true)) {
        causes.push(Cause::forbidden(
            "immutable",
            "field is immutable when `immutable` is set",
        ));
    }
    for f in fields {
        if old.get(*f) != new.get(*f) {
            causes.push(Cause::forbidden(
                f,
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

fn prepare_configmap(obj: &mut Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let m = obj.as_object_mut().expect("object");
    for f in ["data", "binaryData"] {
        if let Some(d) = m.get(f).and_then(Value::as_object) {
            for k in d.keys() {
                if !valid_data_key(k) {
                    causes.push(Cause::invalid(&format!("{f}[{k}]"), &json!(k), KEY_MSG));
                }
            }
        }
    }
    if let Some(old) = old {
        check_immutable(old, m, &["data", "binaryData"], causes);
    }
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
        ("", "Secret") => prepare_secret(obj, old, causes)?,
        ("", "ConfigMap") => prepare_configmap(obj, old, causes),
        ("", "Namespace") => {
            // §2.8: namespaces carry the `kubernetes` finalizer and a phase.
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
