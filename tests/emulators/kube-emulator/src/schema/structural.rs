//! Structural-schema rules for `openAPIV3Schema` (apiextensions
//! `structuralschema` + `ValidateCustomResourceDefinitionOpenAPISchema`):
//! a `type` on every node unless int-or-string / preserve-unknown-fields, no
//! `$ref`/`definitions`/`uniqueItems`, `properties` xor `additionalProperties`,
//! list/map markers that make sense, and CEL rules that parse.

use super::field_error::FieldError;
use serde_json::{Value, json};

const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    Property,
    Items,
    AdditionalProperties,
}

pub(crate) fn check(schema: &Value, path: &str, errs: &mut Vec<FieldError>) {
    node(schema, path, Place::Root, errs);
}

fn flag(n: &Value, key: &str) -> bool {
    n.get(key).and_then(Value::as_bool) == Some(true)
}

fn node(n: &Value, path: &str, place: Place, errs: &mut Vec<FieldError>) {
    let Some(map) = n.as_object() else {
        errs.push(FieldError::invalid(
            path,
            n.clone(),
            "must be a schema object",
        ));
        return;
    };
    let child = |k: &str| format!("{path}.{k}");
    for (key, msg) in [
        ("$ref", "$ref is not supported"),
        ("definitions", "definitions are not supported"),
        ("patternProperties", "patternProperties is not supported"),
        ("dependencies", "dependencies is not supported"),
        ("additionalItems", "additionalItems cannot be set to false"),
        ("$schema", "$schema is not supported"),
        ("id", "id is not supported"),
    ] {
        if map.contains_key(key) {
            errs.push(FieldError::forbidden(&child(key), msg));
        }
    }
    if flag(n, "uniqueItems") {
        errs.push(FieldError::forbidden(
            &child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }
    let int_or_string = flag(n, "x-kubernetes-int-or-string");
    let preserve = flag(n, "x-kubernetes-preserve-unknown-fields");
    if map.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(false)) {
        errs.push(FieldError::invalid(
            &child("x-kubernetes-preserve-unknown-fields"),
            json!(false),
            "must be true or undefined",
        ));
    }
    let ty = map.get("type").and_then(Value::as_str).unwrap_or("");
    if ty.is_empty() {
        if !(int_or_string || preserve) {
            let detail = match place {
                Place::Root => "must not be empty at the root",
                Place::Items => "must not be empty for specified array items",
                _ => "must not be empty for specified object fields",
            };
            errs.push(FieldError::required(&child("type"), detail));
        }
    } else if !TYPES.contains(&ty) {
        let valid: Vec<String> = TYPES.iter().map(|t| t.to_string()).collect();
        errs.push(FieldError::not_supported(&child("type"), json!(ty), &valid));
    } else if int_or_string {
        errs.push(FieldError::invalid(
            &child("type"),
            json!(ty),
            "must be empty if x-kubernetes-int-or-string is true",
        ));
    }
    if place == Place::Root && ty != "object" {
        errs.push(FieldError::invalid(
            &child("type"),
            json!(ty),
            "must be object at the root",
        ));
    }
    if place == Place::Root
        && let Some(meta) = n
            .pointer("/properties/metadata/properties")
            .and_then(Value::as_object)
        && meta.keys().any(|k| k != "name" && k != "generateName")
    {
        errs.push(FieldError::forbidden(
                    &format!("{path}.properties[metadata]"),
                    "must not specify anything other than name and generateName, but metadata is implicitly specified",
                ));
    }
    if flag(n, "x-kubernetes-embedded-resource") {
        if ty != "object" {
            errs.push(FieldError::invalid(
                &child("type"),
                json!(ty),
                "must be object if x-kubernetes-embedded-resource is true",
            ));
        }
        if !preserve && !map.contains_key("properties") {
            errs.push(FieldError::required(
                &child("properties"),
                "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
            ));
        }
    }
    match map.get("additionalProperties") {
        Some(Value::Bool(false)) => errs.push(FieldError::forbidden(
            &child("additionalProperties"),
            "additionalProperties cannot be set to false",
        )),
        Some(_) if map.contains_key("properties") => errs.push(FieldError::forbidden(
            &child("additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        )),
        Some(ap @ Value::Object(_)) => node(
            ap,
            &child("additionalProperties"),
            Place::AdditionalProperties,
            errs,
        ),
        _ => {}
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            node(v, &format!("{path}.properties[{k}]"), Place::Property, errs);
        }
    }
    match map.get("items") {
        Some(Value::Array(_)) => errs.push(FieldError::forbidden(
            &child("items"),
            "items must be a schema object and not an array",
        )),
        Some(items) => node(items, &child("items"), Place::Items, errs),
        None if ty == "array" => {
            errs.push(FieldError::required(&child("items"), "must be specified"))
        }
        None => {}
    }
    super::junctors::check(n, path, place == Place::Root, errs);
    list_markers(n, path, ty, errs);
    cel_rules(n, path, errs);
}

fn list_markers(n: &Value, path: &str, ty: &str, errs: &mut Vec<FieldError>) {
    let child = |k: &str| format!("{path}.{k}");
    if let Some(mt) = n.get("x-kubernetes-map-type").and_then(Value::as_str)
        && mt != "granular"
        && mt != "atomic"
    {
        errs.push(FieldError::not_supported(
            &child("x-kubernetes-map-type"),
            json!(mt),
            &["atomic".into(), "granular".into()],
        ));
    }
    let Some(lt) = n.get("x-kubernetes-list-type").and_then(Value::as_str) else {
        if n.get("x-kubernetes-list-map-keys").is_some() {
            errs.push(FieldError::forbidden(
                &child("x-kubernetes-list-map-keys"),
                "must not be specified if x-kubernetes-list-type is not map",
            ));
        }
        return;
    };
    if !["atomic", "set", "map"].contains(&lt) {
        errs.push(FieldError::not_supported(
            &child("x-kubernetes-list-type"),
            json!(lt),
            &["atomic".into(), "set".into(), "map".into()],
        ));
        return;
    }
    if ty != "array" {
        errs.push(FieldError::invalid(
            &child("type"),
            json!(ty),
            "must be array if x-kubernetes-list-type is specified",
        ));
    }
    let items = n.get("items").cloned().unwrap_or(Value::Null);
    let item_ty = items.get("type").and_then(Value::as_str).unwrap_or("");
    if lt == "set"
        && item_ty == "object"
        && items.get("x-kubernetes-map-type") != Some(&json!("atomic"))
    {
        errs.push(FieldError::invalid(
            &child("items.x-kubernetes-map-type"),
            items
                .get("x-kubernetes-map-type")
                .cloned()
                .unwrap_or(json!("granular")),
            "must be atomic as item of a list with x-kubernetes-list-type=set",
        ));
    }
    if lt != "map" {
        return;
    }
    let keys: Vec<&str> = n
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        errs.push(FieldError::required(
            &child("x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
        return;
    }
    if item_ty != "object" {
        errs.push(FieldError::invalid(
            &child("items.type"),
            json!(item_ty),
            "must be object if parent array's x-kubernetes-list-type is map",
        ));
        return;
    }
    let required: Vec<&str> = items
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for key in keys {
        match items.pointer(&format!("/properties/{key}")) {
            None => errs.push(FieldError::invalid(
                &child("x-kubernetes-list-map-keys"),
                json!(key),
                "entries must all be names of item properties",
            )),
            Some(prop) if !required.contains(&key) && prop.get("default").is_none() => {
                errs.push(FieldError::required(
                    &format!("{path}.items.properties[{key}]"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                ))
            }
            Some(_) => {}
        }
    }
}

fn cel_rules(n: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let Some(rules) = n.get("x-kubernetes-validations").and_then(Value::as_array) else {
        return;
    };
    for (i, rule) in rules.iter().enumerate() {
        let base = format!("{path}.x-kubernetes-validations[{i}]");
        let Some(expr) = rule.get("rule").and_then(Value::as_str) else {
            errs.push(FieldError::required(&format!("{base}.rule"), ""));
            continue;
        };
        if let Err(e) = kube_cel::cel::Program::compile(expr) {
            errs.push(FieldError::invalid(
                &format!("{base}.rule"),
                json!(expr),
                &format!("compilation failed: {e}"),
            ));
        }
        if let Some(me) = rule.get("messageExpression").and_then(Value::as_str)
            && let Err(e) = kube_cel::cel::Program::compile(me)
        {
            errs.push(FieldError::invalid(
                &format!("{base}.messageExpression"),
                json!(me),
                &format!("messageExpression compilation failed: {e}"),
            ));
        }
        if let Some(reason) = rule.get("reason").and_then(Value::as_str) {
            let valid = [
                "FieldValueDuplicate",
                "FieldValueForbidden",
                "FieldValueInvalid",
                "FieldValueRequired",
            ];
            if !valid.contains(&reason) {
                let v: Vec<String> = valid.iter().map(|s| s.to_string()).collect();
                errs.push(FieldError::not_supported(
                    &format!("{base}.reason"),
                    json!(reason),
                    &v,
                ));
            }
        }
    }
}
