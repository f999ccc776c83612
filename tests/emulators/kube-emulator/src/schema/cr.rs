//! The request-time pipeline of a custom resource against its version's
//! `openAPIV3Schema` (docs/kubernetes-api.md §2.12 steps 3, 4, 6, 7): pruning,
//! null dropping + defaulting, OpenAPI validation and CEL rules.

use serde_json::{Map, Value};
use std::sync::Arc;

/// Fields a `metadata` object keeps after pruning (ObjectMeta's JSON names).
pub const OBJECT_META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// One version's schema, ready to prune, default and validate objects.
#[derive(Clone)]
pub struct CrSchema {
    pub(crate) schema: Value,
    /// Compiled CEL rules, only when the schema has any.
    pub(crate) cel: Option<Arc<kube_cel::CompiledSchema>>,
    /// Whether this is an object's root (apiVersion/kind/metadata implied).
    root: bool,
}

impl std::fmt::Debug for CrSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrSchema")
            .field("schema", &self.schema)
            .finish()
    }
}

impl CrSchema {
    /// Build from a version's `schema.openAPIV3Schema`.
    pub fn new(open_api_v3_schema: &Value) -> Self {
        let has_rules = open_api_v3_schema
            .to_string()
            .contains("\"x-kubernetes-validations\"");
        Self {
            schema: open_api_v3_schema.clone(),
            cel: has_rules.then(|| Arc::new(kube_cel::compile_schema(open_api_v3_schema))),
            root: true,
        }
    }

    /// A non-root node (used to check a `default` against its own schema).
    pub(crate) fn node(schema: Value) -> Self {
        Self {
            schema,
            cel: None,
            root: false,
        }
    }

    /// The raw schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Drop fields the schema does not know, returning their paths (`spec.foo`,
    /// `spec.items[0].x`, `metadata.bogus`) for `fieldValidation` Strict/Warn.
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        let mut unknown = Vec::new();
        prune_value(&self.schema, obj, "", self.root, &mut unknown);
        unknown
    }

    pub(crate) fn prune_node(&self, v: &mut Value) -> Vec<String> {
        self.prune(v)
    }

    /// Drop nulls of non-nullable fields, then insert defaults where the parent
    /// exists, defaulting inserted defaults too (structuraldefaulting.Default).
    pub fn default(&self, obj: &mut Value) {
        default_value(&self.schema, obj);
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn flag(n: &Value, key: &str) -> bool {
    n.get(key).and_then(Value::as_bool) == Some(true)
}

fn prune_value(
    schema: &Value,
    v: &mut Value,
    path: &str,
    resource_root: bool,
    out: &mut Vec<String>,
) {
    match v {
        Value::Object(map) => {
            let embedded = resource_root || flag(schema, "x-kubernetes-embedded-resource");
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
            let mut drop = Vec::new();
            for (k, child) in map.iter_mut() {
                let child_path = join(path, k);
                if embedded && (k == "apiVersion" || k == "kind") {
                    continue;
                }
                if embedded && k == "metadata" {
                    prune_metadata(child, &child_path, out);
                    continue;
                }
                if let Some(prop) = props.and_then(|p| p.get(k)) {
                    prune_value(prop, child, &child_path, false, out);
                } else if let Some(ap @ Value::Object(_)) = additional {
                    prune_value(ap, child, &format!("{path}[{k}]"), false, out);
                } else if preserve || additional == Some(&Value::Bool(true)) {
                    // Kept as-is: unknown fields are allowed here.
                } else {
                    drop.push(k.clone());
                    out.push(child_path);
                }
            }
            map.retain(|k, _| !drop.contains(k));
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item_schema, item, &format!("{path}[{i}]"), false, out);
                }
            }
        }
        _ => {}
    }
}

fn prune_metadata(meta: &mut Value, path: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = meta {
        map.retain(|k, _| {
            let known = OBJECT_META_FIELDS.contains(&k.as_str());
            if !known {
                out.push(join(path, k));
            }
            known
        });
    }
}

fn nullable(schema: &Value) -> bool {
    flag(schema, "nullable")
}

fn default_value(schema: &Value, v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, prop) in props {
                    let default = prop.get("default");
                    match map.get(k) {
                        None => {
                            if let Some(d) = default {
                                map.insert(k.clone(), d.clone());
                            }
                        }
                        Some(Value::Null) if !nullable(prop) => match default {
                            Some(d) => {
                                map.insert(k.clone(), d.clone());
                            }
                            None => {
                                map.shift_remove(k);
                            }
                        },
                        Some(_) => {}
                    }
                }
                for (k, child) in map.iter_mut() {
                    if let Some(prop) = props.get(k) {
                        default_value(prop, child);
                    }
                }
            } else if let Some(ap @ Value::Object(_)) = schema.get("additionalProperties") {
                default_map_values(ap, map);
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items.iter_mut() {
                    if item.is_null()
                        && !nullable(item_schema)
                        && let Some(d) = item_schema.get("default")
                    {
                        *item = d.clone();
                    }
                    default_value(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

fn default_map_values(ap: &Value, map: &mut Map<String, Value>) {
    let mut drop = Vec::new();
    for (k, child) in map.iter_mut() {
        if child.is_null() && !nullable(ap) {
            match ap.get("default") {
                Some(d) => *child = d.clone(),
                None => {
                    drop.push(k.clone());
                    continue;
                }
            }
        }
        default_value(ap, child);
    }
    map.retain(|k, _| !drop.contains(k));
}

#[cfg(test)]
#[path = "cr_tests.rs"]
mod tests;
