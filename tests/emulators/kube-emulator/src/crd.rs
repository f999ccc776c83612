//! CustomResourceDefinitions (docs/kubernetes-api.md §2.12): registration checks, conditions,
//! type registration, the CR request pipeline, and cleanup of CRs when a CRD is deleted.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::State;
use crate::delete::{CRD_CLEANUP, delete_object};
use crate::meta;
use crate::registry::{ALL_VERBS, PrinterColumn, ResourceType};
use crate::status::{ApiError, Cause};

pub const CRD_KEY: &str = "apiextensions.k8s.io/customresourcedefinitions";

fn crd_name(t: &ResourceType) -> String {
    format!("{}.{}", t.plural, t.group)
}

/// The CRD object behind a custom type.
pub fn crd_of(st: &State, t: &ResourceType) -> Option<Arc<Value>> {
    st.store.get(CRD_KEY, "", &crd_name(t))
}

/// `spec.versions[].selectableFields` of the type's version, as field-selector labels.
pub fn selectable_fields(st: &State, t: &ResourceType) -> Vec<String> {
    let Some(crd) = crd_of(st, t) else {
        return Vec::new();
    };
    version_of(&crd, &t.version)
        .and_then(|v| v.get("selectableFields"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.get("jsonPath").and_then(Value::as_str))
                .map(|p| p.trim_start_matches('.').to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn version_of<'a>(crd: &'a Value, version: &str) -> Option<&'a Value> {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))
}

pub fn is_terminating(st: &State, t: &ResourceType) -> bool {
    crd_of(st, t).is_some_and(|c| meta::is_deleting(&c))
}

/// Registration validation of a CRD, its defaults and its status conditions.
pub fn prepare_crd(st: &State, obj: &mut Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    crate::schema_hooks::validate_crd_object(obj, causes);
    let group = meta::str_at(obj, "/spec/group").to_string();
    let kind = meta::str_at(obj, "/spec/names/kind").to_string();
    let versions = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("storage") == Some(&json!(true)))
        .collect();
    if old.is_some() && old.map(|o| meta::str_at(o, "/spec/group")) != Some(group.as_str()) {
        causes.push(Cause::invalid(
            "spec.group",
            &json!(group),
            "field is immutable",
        ));
    }
    // The apiextensions controllers accept the names and establish the CRD; the emulator
    // does both at once (README: CRDs are established synchronously).
    let now = meta::now_time();
    let keep_time = |ty: &str| -> String {
        old.and_then(|o| o.pointer("/status/conditions").and_then(Value::as_array))
            .and_then(|cs| cs.iter().find(|c| c["type"] == ty))
            .and_then(|c| c["lastTransitionTime"].as_str().map(String::from))
            .unwrap_or_else(|| now.clone())
    };
    let stored = storage
        .first()
        .and_then(|v| v.get("name").cloned())
        .unwrap_or(json!(""));
    let mut names = obj.pointer("/spec/names").cloned().unwrap_or(json!({}));
    if names.get("singular").is_none_or(|s| s == "") {
        names["singular"] = json!(kind.to_lowercase());
    }
    if names.get("listKind").is_none_or(|s| s == "") {
        names["listKind"] = json!(format!("{kind}List"));
    }
    obj["spec"]["names"] = names.clone();
    if obj.pointer("/spec/conversion").is_none() {
        obj["spec"]["conversion"] = json!({"strategy": "None"});
    }
    let _ = st;
    obj["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": keep_time("NamesAccepted")},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": keep_time("Established")},
        ],
        "acceptedNames": names,
        "storedVersions": [stored],
    });
}

/// The resource types a stored CRD serves.
pub fn types_of(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let s = |p: &str| {
        crd.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v.get("served") != Some(&json!(false)))
        .map(|v| {
            let mut subresources = Vec::new();
            if v.pointer("/subresources/status").is_some() {
                subresources.push("status".to_string());
            }
            if v.pointer("/subresources/scale").is_some() {
                subresources.push("scale".to_string());
            }
            let printer_columns = v["additionalPrinterColumns"]
                .as_array()
                .map(|cols| {
                    cols.iter()
                        .map(|c| PrinterColumn {
                            name: c["name"].as_str().unwrap_or("").into(),
                            type_: c["type"].as_str().unwrap_or("").into(),
                            json_path: c["jsonPath"].as_str().unwrap_or("").into(),
                            description: c["description"].as_str().unwrap_or("").into(),
                            priority: c["priority"].as_i64().unwrap_or(0) as i32,
                            format: c["format"].as_str().unwrap_or("").into(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            ResourceType {
                group: s("/spec/group"),
                version: v["name"].as_str().unwrap_or("").into(),
                kind: s("/spec/names/kind"),
                list_kind: s("/spec/names/listKind"),
                plural: s("/spec/names/plural"),
                singular: s("/spec/names/singular"),
                namespaced: s("/spec/scope") == "Namespaced",
                short_names: strs(&spec["names"]["shortNames"]),
                categories: strs(&spec["names"]["categories"]),
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                subresources,
                printer_columns,
                schema: Some(std::sync::Arc::new(
                    v.pointer("/schema/openAPIV3Schema")
                        .cloned()
                        .unwrap_or(json!({"type": "object"})),
                )),
            }
        })
        .collect()
}

/// (Re-)registers the types of a stored CRD (after create or update).
pub fn register(st: &mut State, crd: &Value) {
    unregister(st, crd);
    for t in types_of(crd) {
        st.registry.insert(t);
    }
}

fn unregister(st: &mut State, crd: &Value) {
    let group = meta::str_at(crd, "/spec/group").to_string();
    let plural = meta::str_at(crd, "/spec/names/plural").to_string();
    let stale: Vec<ResourceType> = st
        .registry
        .all()
        .filter(|t| t.group == group && t.plural == plural && t.is_custom())
        .cloned()
        .collect();
    for t in stale {
        st.registry.remove(&t.group, &t.version, &t.plural);
    }
}

/// Called when any object leaves the store; a gone CRD takes its types with it.
pub fn on_deleted(st: &mut State, t: &ResourceType, obj: &Value) {
    if t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io" {
        unregister(st, obj);
        let key = format!(
            "{}/{}",
            meta::str_at(obj, "/spec/group"),
            meta::str_at(obj, "/spec/names/plural")
        );
        st.store.drop_resource(&key);
    }
}

/// One pass of the CRD finalizer: deletes the CRs of terminating CRDs, then releases them.
pub fn reconcile_cleanup(st: &mut State) -> bool {
    let crd_t = st
        .registry
        .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        .expect("built in")
        .clone();
    let terminating: Vec<Arc<Value>> = st
        .store
        .objects(CRD_KEY)
        .into_values()
        .filter(|c| meta::is_deleting(c) && meta::finalizers(c).iter().any(|f| f == CRD_CLEANUP))
        .collect();
    let mut changed = false;
    for crd in terminating {
        let Some(t) = types_of(&crd).into_iter().next() else {
            continue;
        };
        let crs: Vec<Arc<Value>> = st.store.objects(&t.store_key()).into_values().collect();
        for cr in &crs {
            if !meta::is_deleting(cr) {
                delete_object(st, &t, cr, None, false);
                changed = true;
            }
        }
        if st.store.objects(&t.store_key()).is_empty() {
            crate::gc::remove_finalizer(st, &crd_t, &crd, CRD_CLEANUP);
            changed = true;
        }
    }
    changed
}

/// The CR request pipeline (docs/kubernetes-api.md §2.12): metadata pruning, then schema pruning,
/// defaulting and validation through the schema module.
pub fn prepare_cr(
    t: &ResourceType,
    obj: &mut Value,
    old: Option<&Value>,
    field_validation: &str,
    warnings: &mut Vec<String>,
    causes: &mut Vec<Cause>,
) -> Result<(), ApiError> {
    crate::schema_hooks::process_cr(t, obj, old, field_validation, warnings, causes)
}
