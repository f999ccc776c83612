//! Strategic merge patch (`application/strategic-merge-patch+json`) for the
//! built-in kinds the emulator stores. The per-field list semantics Go derives
//! from struct tags (`patchStrategy`, `patchMergeKey`) come from a
//! [`PatchStrategy`] tree instead (see `table.rs`).

use super::PatchError;
use super::order::normalize_order;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";

/// How a list-valued field merges (Go's `patchStrategy` tag).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListStrategy {
    /// No tag: the patch list replaces the live one.
    #[default]
    Replace,
    /// `patchStrategy:"merge" patchMergeKey:"<key>"`: items matched by that key.
    MergeKey(String),
    /// `patchStrategy:"merge"` on a list of scalars: set union.
    MergePrimitive,
}

/// Merge semantics of one node (an object, or a list's items) and its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchStrategy {
    /// Fields of this object; for a list field, the fields of its items.
    pub fields: BTreeMap<String, PatchStrategy>,
    /// How this node merges when it is a list.
    pub list: ListStrategy,
    /// `patchStrategy:"retainKeys"` (Deployment `spec.strategy`, volumes).
    pub retain_keys: bool,
}

impl PatchStrategy {
    /// An empty strategy: maps merge, lists replace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder: add a field's strategy.
    pub fn field(mut self, name: &str, strategy: PatchStrategy) -> Self {
        self.fields.insert(name.to_string(), strategy);
        self
    }

    /// Builder: a list merged by `key`.
    pub fn merge_key(key: &str) -> Self {
        Self {
            list: ListStrategy::MergeKey(key.to_string()),
            ..Self::default()
        }
    }

    /// Builder: a list of scalars merged as a set.
    pub fn merge_primitive() -> Self {
        Self {
            list: ListStrategy::MergePrimitive,
            ..Self::default()
        }
    }

    /// Builder: mark as `retainKeys`.
    pub fn retain_keys(mut self) -> Self {
        self.retain_keys = true;
        self
    }

    /// The strategy of a field, if any.
    pub fn get(&self, name: &str) -> Option<&PatchStrategy> {
        self.fields.get(name)
    }
}

static EMPTY: PatchStrategy = PatchStrategy {
    fields: BTreeMap::new(),
    list: ListStrategy::Replace,
    retain_keys: false,
};

/// Apply a strategic merge patch in place. The apiserver merges with
/// `IgnoreUnmatchedNulls`, so a `null` for an absent key is simply dropped.
pub fn strategic_merge_patch(
    doc: &mut Value,
    patch: &Value,
    strategy: &PatchStrategy,
) -> Result<(), PatchError> {
    let Value::Object(patch_map) = patch else {
        return Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            if patch.is_array() {
                "array"
            } else {
                "non-object"
            }
        )));
    };
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Value::Object(doc_map) = doc else {
        return Ok(());
    };
    if let Some(merged) = merge_map(std::mem::take(doc_map), patch_map, strategy)? {
        *doc_map = merged;
    }
    Ok(())
}

fn bad(msg: String) -> PatchError {
    PatchError::BadRequest(msg)
}

/// Merge `patch` into `original`. `None` means the map is deleted (`$patch: delete`).
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    strategy: &PatchStrategy,
) -> Result<Option<Map<String, Value>>, PatchError> {
    match patch.get(DIRECTIVE) {
        None => {}
        Some(Value::String(d)) if d == "replace" => return Ok(Some(clean_map(patch))),
        // Go returns an empty map, not an absent field.
        Some(Value::String(d)) if d == "delete" => return Ok(Some(Map::new())),
        Some(Value::String(d)) if d == "merge" => {}
        Some(other) => {
            return Err(PatchError::Internal(format!(
                "unknown patch type: {} in map: {}",
                go_v(other),
                go_v(&Value::Object(patch.clone()))
            )));
        }
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys = retain
            .as_array()
            .filter(|keys| keys.iter().all(Value::is_string))
            .ok_or_else(|| bad("invalid patch format of retainKeys".to_string()))?;
        let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        for k in patch.keys().filter(|k| !k.starts_with('$')) {
            if !keys.contains(&k.as_str()) {
                return Err(PatchError::Invalid(
                    "patch content doesn't match retainKeys list".to_string(),
                ));
            }
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_PRIMITIVE) {
            let remove = v
                .as_array()
                .ok_or_else(|| bad("invalid patch format of primitive list".to_string()))?;
            if let Some(Value::Array(items)) = original.get_mut(field) {
                items.retain(|item| !remove.contains(item));
                if items.is_empty() {
                    original.shift_remove(field);
                }
            }
        }
    }
    // Live lists that a `$setElementOrder` will reorder, as they were before merging.
    let server_orders: Vec<(String, Vec<Value>)> = patch
        .keys()
        .filter_map(|k| k.strip_prefix(SET_ORDER))
        .map(|f| {
            let live = original.get(f).and_then(Value::as_array).cloned();
            (f.to_string(), live.unwrap_or_default())
        })
        .collect();
    for (k, v) in patch {
        if k.starts_with('$') {
            continue;
        }
        let field_strategy = strategy.get(k).unwrap_or(&EMPTY);
        if v.is_null() {
            original.shift_remove(k);
            continue;
        }
        let Some(slot) = original.get_mut(k) else {
            if let Some(value) = new_value(v, field_strategy)? {
                original.insert(k.clone(), value);
            }
            continue;
        };
        // Merge in place, so the field keeps its position and unchanged
        // documents serialise byte-identically.
        let merged = match (std::mem::take(slot), v) {
            (Value::Object(orig), Value::Object(p)) => {
                merge_map(orig, p, field_strategy)?.map(Value::Object)
            }
            (Value::Array(orig), Value::Array(p)) => {
                Some(Value::Array(merge_list(orig, p, field_strategy)?))
            }
            (_, v) => new_value(v, field_strategy)?,
        };
        match merged {
            Some(value) => *slot = value,
            None => {
                original.shift_remove(k);
            }
        }
    }
    for (field, server_order) in server_orders {
        let order = patch
            .get(&format!("{SET_ORDER}{field}"))
            .and_then(Value::as_array)
            .ok_or_else(|| bad("invalid patch type of setElementOrder list".to_string()))?;
        let item = strategy.get(&field).unwrap_or(&EMPTY);
        if let Some(Value::Array(items)) = original.get_mut(&field) {
            let merged = std::mem::take(items);
            *items = normalize_order(merged, order, &server_order, &item.list);
        }
    }
    Ok(Some(original))
}

/// A patch value with no live counterpart: directives and nulls are dropped by
/// merging it into nothing.
fn new_value(v: &Value, strategy: &PatchStrategy) -> Result<Option<Value>, PatchError> {
    Ok(match v {
        Value::Object(p) => merge_map(Map::new(), p, strategy)?.map(Value::Object),
        Value::Array(p) => Some(Value::Array(merge_list(Vec::new(), p, strategy)?)),
        other => Some(other.clone()),
    })
}

fn clean_map(patch: &Map<String, Value>) -> Map<String, Value> {
    patch
        .iter()
        .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn directive_of(v: &Value) -> Option<&str> {
    v.as_object()?.get(DIRECTIVE)?.as_str()
}

fn merge_list(
    mut original: Vec<Value>,
    patch: &[Value],
    strategy: &PatchStrategy,
) -> Result<Vec<Value>, PatchError> {
    let server_order = original.clone();
    // `{"$patch":"replace"}` as a list item replaces the whole list.
    let replace = patch.iter().any(|v| directive_of(v) == Some("replace"));
    let plain: Vec<&Value> = patch.iter().filter(|v| directive_of(v).is_none()).collect();
    if replace || strategy.list == ListStrategy::Replace {
        if strategy.list == ListStrategy::Replace && !replace {
            let mut out = Vec::with_capacity(patch.len());
            for item in patch {
                out.extend(new_value(item, strategy)?);
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        for item in plain {
            out.extend(new_value(item, strategy)?);
        }
        return Ok(out);
    }
    match &strategy.list {
        ListStrategy::MergePrimitive => {
            for item in &plain {
                if item.is_object() || item.is_array() {
                    return Err(bad("invalid patch format of primitive list".to_string()));
                }
                if !original.contains(item) {
                    original.push((*item).clone());
                }
            }
            let order: Vec<Value> = plain.into_iter().cloned().collect();
            Ok(normalize_order(
                original,
                &order,
                &server_order,
                &strategy.list,
            ))
        }
        ListStrategy::MergeKey(key) => {
            for item in patch {
                let Value::Object(p) = item else {
                    return Err(no_merge_key(item, key));
                };
                let Some(kv) = p.get(key) else {
                    if directive_of(item).is_some() {
                        continue;
                    }
                    return Err(no_merge_key(item, key));
                };
                let pos = original.iter().position(|o| o.get(key) == Some(kv));
                if directive_of(item) == Some("delete") {
                    original.retain(|o| o.get(key) != Some(kv));
                    continue;
                }
                match pos {
                    Some(i) => {
                        let Value::Object(orig) = std::mem::take(&mut original[i]) else {
                            original[i] = new_value(item, strategy)?.unwrap_or(Value::Null);
                            continue;
                        };
                        match merge_map(orig, p, strategy)? {
                            Some(m) => original[i] = Value::Object(m),
                            None => {
                                original.remove(i);
                            }
                        }
                    }
                    None => original.extend(new_value(item, strategy)?),
                }
            }
            let order: Vec<Value> = plain.into_iter().cloned().collect();
            Ok(normalize_order(
                original,
                &order,
                &server_order,
                &strategy.list,
            ))
        }
        ListStrategy::Replace => Ok(original),
    }
}

fn no_merge_key(item: &Value, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_v(item)
    ))
}

/// Go's `%v` of a decoded JSON value (`map[k:v ...]` with sorted keys).
fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_v).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_v(v)))
                .collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
