//! OpenAPI v3 value validation with kube-openapi's messages, then CEL rules
//! (docs/kubernetes-api.md §2.12 steps 6-7). Ratcheting: a value equal to the old
//! object's value at the same path is not re-validated (on since 1.30).

use super::cr::CrSchema;
use super::field_error::{FieldError, FieldErrorType};
use super::scalars::{in_body, invalid, is_integer, number, string, type_error};
use serde_json::{Value, json};

impl CrSchema {
    /// Schema errors, then CEL errors when none of the schema errors is
    /// blocking (`hasBlockingErr`: a wrong type or an unsupported enum value).
    pub fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        node(&self.schema, obj, old, "", &mut errs);
        let blocking = errs.iter().any(|e| {
            matches!(
                e.type_,
                FieldErrorType::NotSupported | FieldErrorType::TypeInvalid
            )
        });
        if blocking {
            if self.cel.is_some() {
                errs.push(FieldError::invalid(
                    "<nil>",
                    Value::Null,
                    "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
                ));
            }
            return errs;
        }
        if let Some(compiled) = &self.cel
            && let Err(cel_errs) = kube_cel::validate_compiled(compiled, obj, old)
        {
            for e in cel_errs.iter().filter(|e| !ratcheted(e, obj, old)) {
                errs.push(self.cel_error(e));
            }
        }
        errs
    }

    /// Schema validation only (used for CRD `default`s).
    pub(crate) fn validate_schema_only(&self, v: &Value, path: &str) -> Vec<FieldError> {
        let mut errs = Vec::new();
        node(&self.schema, v, None, path, &mut errs);
        errs
    }

    fn cel_error(&self, e: &kube_cel::ValidationError) -> FieldError {
        let ty = schema_type_at(&self.schema, &e.field_path);
        let reason = e
            .reason
            .as_deref()
            .and_then(FieldErrorType::from_cause_reason)
            .unwrap_or(FieldErrorType::Invalid);
        match reason {
            FieldErrorType::Forbidden => FieldError::forbidden(&e.field_path, &e.message),
            FieldErrorType::Required => FieldError::required(&e.field_path, &e.message),
            FieldErrorType::Duplicate => FieldError::duplicate(&e.field_path, json!(ty)),
            _ => FieldError::invalid(&e.field_path, json!(ty), &e.message),
        }
    }
}

/// CRD validation ratcheting (KEP-4008, on since 1.30) also covers CEL: a
/// failing rule that does not use `oldSelf` is ignored when the value at its
/// path is unchanged from the old object.
fn ratcheted(e: &kube_cel::ValidationError, obj: &Value, old: Option<&Value>) -> bool {
    let Some(old) = old else { return false };
    if e.kind != kube_cel::ErrorKind::ValidationFailure || e.rule.contains("oldSelf") {
        return false;
    }
    match (value_at(obj, &e.field_path), value_at(old, &e.field_path)) {
        (Some(new), Some(old)) => new == old,
        _ => false,
    }
}

/// The value at a kube-cel error path (`spec.items[0].name`).
fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            cur = cur.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(cur)
}

/// The `type` of the schema node a CEL error path points at (the apiserver
/// reports it as the "value", e.g. `Invalid value: "object"`).
fn schema_type_at(schema: &Value, path: &str) -> String {
    let mut node = schema;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], part[i..].matches('[').count()),
            None => (part, 0),
        };
        node = match node.pointer(&format!("/properties/{name}")) {
            Some(n) => n,
            None => match node.get("additionalProperties") {
                Some(ap) if ap.is_object() => ap,
                _ => return "object".to_string(),
            },
        };
        for _ in 0..indexes {
            node = node.get("items").unwrap_or(node);
        }
    }
    node.get("type")
        .and_then(Value::as_str)
        .unwrap_or("object")
        .to_string()
}

fn matches(schema: &Value, v: &Value, path: &str) -> bool {
    let mut errs = Vec::new();
    node(schema, v, None, path, &mut errs);
    errs.is_empty()
}

fn node(schema: &Value, v: &Value, old: Option<&Value>, path: &str, errs: &mut Vec<FieldError>) {
    // Ratcheting: unchanged values are not re-validated.
    if old == Some(v) {
        return;
    }
    if v.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(is_integer(v) || v.is_string()) {
            type_error(path, v, "integer,string", errs);
            return;
        }
    } else if !ty.is_empty() {
        let ok = match ty {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => is_integer(v),
            "number" => v.is_number(),
            _ => true,
        };
        if !ok {
            type_error(path, v, ty, errs);
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let names: Vec<String> = allowed
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.to_string())
            })
            .collect();
        errs.push(FieldError::not_supported(path, v.clone(), &names));
    }
    match v {
        Value::Number(_) => number(schema, v, path, errs),
        Value::String(s) => string(schema, v, s, path, errs),
        Value::Array(items) => array(schema, v, items, old, path, errs),
        Value::Object(map) => object(schema, v, map, old, path, errs),
        _ => {}
    }
    junctors(schema, v, path, errs);
}

fn array(
    schema: &Value,
    v: &Value,
    items: &[Value],
    old: Option<&Value>,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    let n = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && n < min
    {
        invalid(
            path,
            v,
            format!("{} should have at least {min} items", in_body(path)),
            errs,
        );
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && n > max
    {
        errs.push(FieldError::too_many(path, n as i64, max as i64));
    }
    let old_items = old.and_then(Value::as_array);
    if let Some(item_schema) = schema.get("items") {
        for (i, item) in items.iter().enumerate() {
            let old_item = old_items.and_then(|o| o.get(i));
            node(item_schema, item, old_item, &format!("{path}[{i}]"), errs);
        }
    }
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    errs.push(FieldError::duplicate(&format!("{path}[{i}]"), item.clone()));
                }
            }
        }
        Some("map") => {
            let keys: Vec<&str> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let key_of = |item: &Value| -> Value {
                let mut m = serde_json::Map::new();
                for k in &keys {
                    if let Some(x) = item.get(*k) {
                        m.insert(k.to_string(), x.clone());
                    }
                }
                Value::Object(m)
            };
            for (i, item) in items.iter().enumerate() {
                let key = key_of(item);
                if items[..i].iter().any(|prev| key_of(prev) == key) {
                    errs.push(FieldError::duplicate(&format!("{path}[{i}]"), key));
                }
            }
        }
        _ => {}
    }
}

fn object(
    schema: &Value,
    v: &Value,
    map: &serde_json::Map<String, Value>,
    old: Option<&Value>,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    let n = map.len() as u64;
    if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
        && n < min
    {
        invalid(
            path,
            v,
            format!("{} should have at least {min} properties", in_body(path)),
            errs,
        );
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && n > max
    {
        errs.push(FieldError::too_many(path, n as i64, max as i64));
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    for req in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = req.as_str()
            && !map.contains_key(k)
        {
            errs.push(FieldError::required(&join(k), ""));
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    for (k, child) in map {
        let old_child = old.and_then(|o| o.get(k));
        if let Some(prop) = props.and_then(|p| p.get(k)) {
            node(prop, child, old_child, &join(k), errs);
        } else if let Some(ap) = additional {
            node(ap, child, old_child, &join(k), errs);
        }
    }
}

fn junctors(schema: &Value, v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        node(sub, v, None, path, errs);
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| matches(s, v, path))
    {
        invalid(
            path,
            v,
            format!(
                "{} must validate at least one schema (anyOf)",
                in_body(path)
            ),
            errs,
        );
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array)
        && one.iter().filter(|s| matches(s, v, path)).count() != 1
    {
        invalid(
            path,
            v,
            format!(
                "{} must validate one and only one schema (oneOf)",
                in_body(path)
            ),
            errs,
        );
    }
    if let Some(not) = schema.get("not")
        && matches(not, v, path)
    {
        invalid(
            path,
            v,
            format!("{} must not validate the schema (not)", in_body(path)),
            errs,
        );
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
