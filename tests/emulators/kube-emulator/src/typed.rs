//! Unknown-field handling for built-in kinds. The apiserver decodes built-ins into Go
//! structs, so unknown fields vanish (or fail the request under `fieldValidation=Strict`,
//! which kubectl sends by default, docs/kubernetes-api.md §3.2). The emulator gets the same effect
//! by decoding into the k8s-openapi type and diffing the keys that did not survive the round trip.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use k8s_openapi::api::{apps, coordination, core, events, networking, policy, rbac};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use crate::registry::ResourceType;
use crate::schema::{FieldValidation, UnknownFields, check_unknown_fields};
use crate::status::ApiError;

fn round_trip<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(typed).map_err(|e| e.to_string())
}

/// The object as its Go type would keep it, or `None` for kinds without a typed model.
fn typed_view(t: &ResourceType, obj: &Value) -> Option<Result<Value, String>> {
    Some(match (t.group.as_str(), t.kind.as_str()) {
        ("", "Namespace") => round_trip::<core::v1::Namespace>(obj),
        ("", "Secret") => round_trip::<core::v1::Secret>(obj),
        ("", "ConfigMap") => round_trip::<core::v1::ConfigMap>(obj),
        ("", "ServiceAccount") => round_trip::<core::v1::ServiceAccount>(obj),
        ("", "Service") => round_trip::<core::v1::Service>(obj),
        // Events are stored in events.k8s.io/v1 form whichever API wrote them.
        (_, "Event") => round_trip::<events::v1::Event>(obj),
        ("apps", "Deployment") => round_trip::<apps::v1::Deployment>(obj),
        ("rbac.authorization.k8s.io", "Role") => round_trip::<rbac::v1::Role>(obj),
        ("rbac.authorization.k8s.io", "ClusterRole") => round_trip::<rbac::v1::ClusterRole>(obj),
        ("rbac.authorization.k8s.io", "RoleBinding") => round_trip::<rbac::v1::RoleBinding>(obj),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            round_trip::<rbac::v1::ClusterRoleBinding>(obj)
        }
        ("networking.k8s.io", "NetworkPolicy") => round_trip::<networking::v1::NetworkPolicy>(obj),
        ("policy", "PodDisruptionBudget") => round_trip::<policy::v1::PodDisruptionBudget>(obj),
        ("coordination.k8s.io", "Lease") => round_trip::<coordination::v1::Lease>(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            round_trip::<CustomResourceDefinition>(obj)
        }
        _ => return None,
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Paths present in `orig` but dropped by the typed round trip; nulls do not count.
fn dropped(orig: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    match (orig, kept) {
        (Value::Object(o), Value::Object(k)) => {
            for (key, v) in o {
                match k.get(key) {
                    None if !v.is_null() => out.push(join(path, key)),
                    None => {}
                    Some(kv) => dropped(v, kv, &join(path, key), out),
                }
            }
        }
        (Value::Array(o), Value::Array(k)) => {
            for (i, (ov, kv)) in o.iter().zip(k.iter()).enumerate() {
                dropped(ov, kv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn remove_path(obj: &mut Value, path: &str) {
    let mut cur = obj;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let (key, idx) = match part.find('[') {
            Some(p) => (&part[..p], Some(&part[p..])),
            None => (*part, None),
        };
        let last = i == parts.len() - 1;
        if last && idx.is_none() {
            if let Some(m) = cur.as_object_mut() {
                m.remove(key);
            }
            return;
        }
        let Some(next) = cur.get_mut(key) else { return };
        cur = next;
        if let Some(idx) = idx {
            for n in idx.trim_matches(|c| c == '[' || c == ']').split("][") {
                let Some(next) = n.parse::<usize>().ok().and_then(|n| cur.get_mut(n)) else {
                    return;
                };
                cur = next;
            }
        }
    }
}

/// Drops unknown fields of a built-in object; 400 when the object does not decode at all or
/// when `fieldValidation=Strict` finds unknown fields, `Warning:`s under Warn.
pub fn prune_builtin(
    t: &ResourceType,
    obj: &mut Value,
    field_validation: &str,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let Some(view) = typed_view(t, obj) else {
        return Ok(());
    };
    let kept = view.map_err(|e| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {e}",
            t.kind, t.version, t.kind
        ))
    })?;
    let mut unknown = Vec::new();
    dropped(obj, &kept, "", &mut unknown);
    let mode = FieldValidation::parse(field_validation).unwrap_or(FieldValidation::Warn);
    match check_unknown_fields(mode, &unknown) {
        UnknownFields::Ok => {}
        UnknownFields::Warn(w) => warnings.extend(w),
        UnknownFields::Reject(msg) => return Err(ApiError::bad_request(msg)),
    }
    for p in &unknown {
        remove_path(obj, p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    fn secrets() -> ResourceType {
        Registry::with_builtins()
            .get("", "v1", "secrets")
            .unwrap()
            .clone()
    }

    #[test]
    fn unknown_fields_are_pruned_or_rejected() {
        let t = Registry::with_builtins()
            .get("apps", "v1", "deployments")
            .unwrap()
            .clone();
        let obj = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":null},
            "spec":{"replicas":1,"bogus":true,"selector":{"matchLabels":{"a":"b"}},
            "template":{"spec":{"containers":[{"name":"c","image":"i","typo":1}]}}}});
        let mut o = obj.clone();
        let mut w = vec![];
        prune_builtin(&t, &mut o, "", &mut w).unwrap();
        assert_eq!(
            w,
            vec![
                "unknown field \"spec.bogus\"",
                "unknown field \"spec.template.spec.containers[0].typo\""
            ]
        );
        assert!(o["spec"].get("bogus").is_none());
        assert!(
            o["spec"]["template"]["spec"]["containers"][0]
                .get("typo")
                .is_none()
        );
        let mut o = obj.clone();
        let e = prune_builtin(&t, &mut o, "Strict", &mut w).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message
                .starts_with("strict decoding error: unknown field \"spec.bogus\"")
        );
    }

    #[test]
    fn type_errors_are_bad_requests() {
        let mut o =
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"a":1}});
        let e = prune_builtin(&secrets(), &mut o, "", &mut vec![]).unwrap_err();
        assert_eq!(e.code, 400);
        let mut ok = json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"a":"x"},"type":"Opaque"});
        let before = ok.clone();
        prune_builtin(&secrets(), &mut ok, "Strict", &mut vec![]).unwrap();
        assert_eq!(ok, before);
    }
}
