//! Structural rules for `allOf`/`anyOf`/`oneOf`/`not` (apiextensions
//! `structuralschema` `validateNestedValueValidation`): inside a junctor only
//! value validations are allowed, never generic fields or Kubernetes extensions,
//! except the `anyOf: [{type: integer}, {type: string}]` idiom of
//! `x-kubernetes-int-or-string`.

use super::field_error::FieldError;
use serde_json::{Value, json};

/// Check the junctors of schema node `n` (at `path`).
pub(crate) fn check(n: &Value, path: &str, root: bool, errs: &mut Vec<FieldError>) {
    let skip_any_of = int_or_string_idiom(n, n.get("anyOf"));
    junctors_of(n, path, root, skip_any_of, errs);
}

/// `anyOf: [{type: integer}, {type: string}]` under `x-kubernetes-int-or-string`.
fn int_or_string_idiom(n: &Value, any_of: Option<&Value>) -> bool {
    n.get("x-kubernetes-int-or-string") == Some(&json!(true))
        && any_of == Some(&json!([{"type": "integer"}, {"type": "string"}]))
}

fn junctors_of(n: &Value, path: &str, root: bool, skip_any_of: bool, errs: &mut Vec<FieldError>) {
    for junctor in ["allOf", "anyOf", "oneOf"] {
        if junctor == "anyOf" && skip_any_of {
            continue;
        }
        let items = n
            .get(junctor)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for (i, sub) in items.enumerate() {
            // The idiom may also sit in allOf[0].anyOf.
            let skip = junctor == "allOf" && i == 0 && int_or_string_idiom(n, sub.get("anyOf"));
            nested(sub, &format!("{path}.{junctor}[{i}]"), root, skip, errs);
        }
    }
    if let Some(not) = n.get("not") {
        nested(not, &format!("{path}.not"), root, false, errs);
    }
}

fn nested(v: &Value, path: &str, root: bool, skip_any_of: bool, errs: &mut Vec<FieldError>) {
    let Some(map) = v.as_object() else { return };
    let child = |k: &str| format!("{path}.{k}");
    for (key, detail) in [
        ("type", "must be empty to be structural"),
        ("additionalProperties", "must be undefined to be structural"),
        ("default", "must be undefined to be structural"),
        ("title", "must be empty to be structural"),
        ("description", "must be empty to be structural"),
        (
            "x-kubernetes-preserve-unknown-fields",
            "must be undefined to be structural",
        ),
        (
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        ),
        (
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        ),
        (
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        ),
    ] {
        if map.contains_key(key) {
            errs.push(FieldError::forbidden(&child(key), detail));
        }
    }
    for (key, detail) in [
        ("nullable", "must be false to be structural"),
        (
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        ),
        (
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        ),
    ] {
        if map.get(key) == Some(&json!(true)) {
            errs.push(FieldError::forbidden(&child(key), detail));
        }
    }
    if root
        && map
            .get("properties")
            .is_some_and(|p| p.get("metadata").is_some())
    {
        errs.push(FieldError::forbidden(
            &format!("{path}.properties[metadata]"),
            "must not be specified in a nested context",
        ));
    }
    if let Some(items) = map.get("items") {
        nested(items, &child("items"), false, false, errs);
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (k, p) in props {
            nested(p, &format!("{path}.properties[{k}]"), false, false, errs);
        }
    }
    junctors_of(v, path, root, skip_any_of, errs);
}
