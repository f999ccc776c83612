//! Create/update-time validation of a CustomResourceDefinition
//! (docs/kubernetes-api.md §2.12 "Validation at create time"): names, versions and
//! the structural-schema rules, defaults checked against their schema, and CEL
//! rules that must parse.

use super::cr::CrSchema;
use super::field_error::FieldError;
use serde_json::{Value, json};

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

pub(crate) fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Validate a CRD body; `Err` carries every problem found, in the order the
/// apiserver reports the common ones.
pub fn validate_crd(crd: &Value) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    let group = str_at(crd, "/spec/group");
    let plural = str_at(crd, "/spec/names/plural");
    let name = str_at(crd, "/metadata/name");
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            json!(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid(
            "spec.group",
            json!(group),
            "should be a domain with at least one dot",
        ));
    }
    match str_at(crd, "/spec/scope") {
        "Cluster" | "Namespaced" => {}
        "" => errs.push(FieldError::required("spec.scope", "")),
        other => errs.push(FieldError::not_supported(
            "spec.scope",
            json!(other),
            &["Cluster".into(), "Namespaced".into()],
        )),
    }
    for (field, required) in [("plural", true), ("singular", false), ("listKind", false)] {
        let value = str_at(crd, &format!("/spec/names/{field}"));
        let path = format!("spec.names.{field}");
        if value.is_empty() {
            if required {
                errs.push(FieldError::required(&path, ""));
            }
        } else if field != "listKind" && !is_dns1123_label(value) {
            errs.push(FieldError::invalid(&path, json!(value), DNS1123_LABEL_MSG));
        }
    }
    if str_at(crd, "/spec/names/kind").is_empty() {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    for (i, short) in crd
        .pointer("/spec/names/shortNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let s = short.as_str().unwrap_or("");
        if !is_dns1123_label(s) {
            errs.push(FieldError::invalid(
                &format!("spec.names.shortNames[{i}]"),
                json!(s),
                DNS1123_LABEL_MSG,
            ));
        }
    }
    validate_versions(crd, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn validate_versions(crd: &Value, errs: &mut Vec<FieldError>) {
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        errs.push(FieldError::required(
            "spec.versions",
            "must have exactly one version marked as storage version",
        ));
        return;
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if storage != 1 {
        errs.push(FieldError::new(
            super::FieldErrorType::Invalid,
            "spec.versions",
            None,
            "must have exactly one version marked as storage version",
        ));
    }
    if !versions
        .iter()
        .any(|v| v.get("served").and_then(Value::as_bool) == Some(true))
    {
        errs.push(FieldError::new(
            super::FieldErrorType::Invalid,
            "spec.versions",
            None,
            "must have at least one version marked as served",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let base = format!("spec.versions[{i}]");
        let name = version.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            errs.push(FieldError::required(&format!("{base}.name"), ""));
        } else if seen.contains(&name) {
            errs.push(FieldError::duplicate(&format!("{base}.name"), json!(name)));
        } else if !is_dns1123_label(name) || name.starts_with(|c: char| c.is_ascii_digit()) {
            errs.push(FieldError::invalid(
                &format!("{base}.name"),
                json!(name),
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ));
        }
        seen.push(name);
        let schema_path = format!("{base}.schema.openAPIV3Schema");
        match version.pointer("/schema/openAPIV3Schema") {
            None => errs.push(FieldError::required(&schema_path, "schemas are required")),
            Some(schema) => {
                let before = errs.len();
                super::structural::check(schema, &schema_path, errs);
                if errs.len() == before {
                    check_defaults(schema, &schema_path, errs);
                }
            }
        }
    }
}

/// Every `default` must survive pruning unchanged and validate against its own
/// node (structuraldefaulting.ValidateDefaults).
fn check_defaults(schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(default) = map.get("default") {
        let node = CrSchema::node(schema.clone());
        let mut pruned = default.clone();
        let unknown = node.prune_node(&mut pruned);
        let dpath = format!("{path}.default");
        if !unknown.is_empty() {
            errs.push(FieldError::invalid(
                &dpath,
                default.clone(),
                "must not have unknown fields",
            ));
        } else {
            errs.extend(node.validate_schema_only(default, &dpath));
        }
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            check_defaults(child, &format!("{path}.properties[{k}]"), errs);
        }
    }
    if let Some(items) = map.get("items") {
        check_defaults(items, &format!("{path}.items"), errs);
    }
    if let Some(ap) = map.get("additionalProperties").filter(|v| v.is_object()) {
        check_defaults(ap, &format!("{path}.additionalProperties"), errs);
    }
}

#[cfg(test)]
#[path = "crd_tests.rs"]
mod tests;
