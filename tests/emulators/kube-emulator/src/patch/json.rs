//! RFC 6902 JSON patch with the quirks of `gopkg.in/evanphx/json-patch.v4` (the
//! library behind the apiserver's `application/json-patch+json`), and RFC 7386
//! merge patch.
//!
//! Differences from a strict RFC 6902 reading that clients depend on
//! (docs/kubernetes-api.md §1.5):
//! - `test` with `value: null` succeeds when the key is absent (kube-runtime's
//!   finalizer helper sends exactly that);
//! - `replace`/`remove` of a missing key or index fail (422), like a failed `test`;
//! - negative array indices count from the end.

use super::PatchError;
use serde_json::Value;

/// The apiserver refuses JSON patches with more operations (`maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPS: usize = 10_000;

/// Apply an RFC 6902 patch in place. On error `doc` may be partly patched; callers
/// apply to a copy (the apiserver does too).
pub fn json_patch(doc: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops = patch.as_array().ok_or_else(|| {
        PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_json_kind(patch)
        ))
    })?;
    if ops.len() > MAX_JSON_PATCH_OPS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {}, got {}",
            MAX_JSON_PATCH_OPS,
            ops.len()
        )));
    }
    for op in ops {
        if !op.is_object() {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                go_json_kind(op)
            )));
        }
    }
    for op in ops {
        apply_op(doc, op).map_err(PatchError::JsonPatchFailed)?;
    }
    Ok(())
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn str_field<'a>(op: &'a Value, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let kind = str_field(op, "op").unwrap_or("");
    let path = str_field(op, "path");
    // A missing `value` decodes to a nil node in Go, which behaves like null.
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    match kind {
        "add" => {
            let path = path.ok_or("add operation failed to decode path: missing value")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!(
                    "add operation does not apply: doc is missing path: \"{path}\": missing value"
                )
            })?;
            add(parent, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let path = path.ok_or("remove operation failed to decode path: missing value")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!(
                    "remove operation does not apply: doc is missing path: \"{path}\": missing value"
                )
            })?;
            remove(parent, &key)
                .map(|_| ())
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let path = path.ok_or("replace operation failed to decode path: missing value")?;
            let missing = || {
                format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                )
            };
            let (parent, key) = find_parent(doc, path).ok_or_else(missing)?;
            match parent {
                // v4 `replace` requires the key to exist (partialDoc.get fails).
                Value::Object(map) if map.contains_key(&key) => {
                    map.insert(key, value);
                    Ok(())
                }
                Value::Object(_) => Err(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )),
                Value::Array(items) => {
                    let idx = array_index(&key, items.len(), false).map_err(|_| {
                        format!(
                            "replace operation does not apply: doc is missing key: {path}: missing value"
                        )
                    })?;
                    items[idx] = value;
                    Ok(())
                }
                _ => Err(missing()),
            }
        }
        "move" | "copy" => {
            let from = str_field(op, "from")
                .ok_or_else(|| format!("{kind} operation failed to decode from: missing value"))?;
            let path = path.ok_or_else(|| format!("{kind} operation failed to decode path"))?;
            let missing_from = || {
                format!(
                    "{kind} operation does not apply: doc is missing from path: {from}: missing value"
                )
            };
            let (src, src_key) = find_parent(doc, from).ok_or_else(missing_from)?;
            if src.is_object() && src.get(&src_key).is_none() {
                let what = if kind == "move" {
                    format!("error in move for path: '{src_key}'")
                } else {
                    format!("error in copy for from: '{from}'")
                };
                return Err(format!(
                    "{what}: unable to get nonexistent key: {src_key}: missing value"
                ));
            }
            let moved = if kind == "move" {
                remove(src, &src_key)
                    .map_err(|e| format!("error in move for path: '{src_key}': {e}"))?
            } else {
                get(src, &src_key)
                    .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
                    .cloned()
                    .ok_or_else(missing_from)?
            };
            let (dst, dst_key) = find_parent(doc, path).ok_or_else(|| {
                format!(
                    "{kind} operation does not apply: doc is missing destination path: {path}: missing value"
                )
            })?;
            add(dst, &dst_key, moved)
                .map_err(|e| format!("error in {kind} for path: '{path}': {e}"))
        }
        "test" => {
            let path = path.ok_or("test operation failed to decode path: missing value")?;
            let (parent, key) = find_parent(doc, path).ok_or_else(|| {
                format!("test operation does not apply: is missing path: {path}: missing value")
            })?;
            let current =
                get(parent, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
            // evanphx: an absent key (nil node) equals a null test value.
            let equal = match current {
                None => value.is_null(),
                Some(v) => go_equal(v, &value),
            };
            if equal {
                Ok(())
            } else {
                Err(format!("testing value {path} failed: test failed"))
            }
        }
        other => Err(format!("Unexpected kind: {other}: unknown object type")),
    }
}

/// Equality of decoded JSON as Go sees it: every number is a float64, so `1`
/// and `1.0` are equal.
fn go_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| go_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| go_equal(v, w)))
        }
        _ => a == b,
    }
}

/// RFC 6901 token decoding, `~1` before `~0` as the RFC requires.
fn decode_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// evanphx `findObject`: walk all but the last token; `None` when any step is
/// missing, null or not a container. The root path `""` has no parent.
fn find_parent<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let mut tokens: Vec<&str> = path.split('/').collect();
    if tokens.len() < 2 {
        return None;
    }
    let last = decode_token(tokens.pop()?);
    let mut current = doc;
    for token in &tokens[1..] {
        let token = decode_token(token);
        current = match current {
            Value::Object(map) => map.get_mut(&token)?,
            Value::Array(items) => {
                let idx = array_index(&token, items.len(), false).ok()?;
                &mut items[idx]
            }
            _ => return None,
        };
        if !(current.is_object() || current.is_array()) {
            return None;
        }
    }
    if !(current.is_object() || current.is_array()) {
        return None;
    }
    Some((current, last))
}

/// Parse an array index; negative indices count from the end (v4's
/// `SupportNegativeIndices` default). `for_insert` allows `idx == len`.
fn array_index(token: &str, len: usize, for_insert: bool) -> Result<usize, String> {
    let raw: i64 = token
        .parse()
        .map_err(|_| format!("value was not a proper array index: '{token}': strconv.Atoi: parsing \"{token}\": invalid syntax"))?;
    let len_i = len as i64;
    let idx = if raw < 0 {
        if raw < -len_i {
            return Err(format!(
                "Unable to access invalid index: {raw}: invalid index referenced"
            ));
        }
        raw + len_i
    } else {
        raw
    };
    if idx > len_i || (!for_insert && idx == len_i) {
        return Err(format!(
            "Unable to access invalid index: {raw}: invalid index referenced"
        ));
    }
    Ok(idx as usize)
}

fn get<'a>(container: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match container {
        Value::Object(map) => Ok(map.get(key)),
        Value::Array(items) => {
            let idx = array_index(key, items.len(), false)?;
            Ok(items.get(idx))
        }
        _ => Ok(None),
    }
}

fn add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let idx = array_index(key, items.len(), true)?;
            items.insert(idx, value);
            Ok(())
        }
        _ => Err("invalid document".to_string()),
    }
}

fn remove(container: &mut Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Object(map) => map
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Array(items) => {
            let idx = array_index(key, items.len(), false)?;
            Ok(items.remove(idx))
        }
        _ => Err("invalid document".to_string()),
    }
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything
/// else (arrays included) replaces.
pub fn merge_patch(doc: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *doc = patch.clone();
        return;
    };
    if !doc.is_object() {
        *doc = Value::Object(serde_json::Map::new());
    }
    let Value::Object(doc_map) = doc else { return };
    for (key, value) in patch_map {
        if value.is_null() {
            doc_map.shift_remove(key);
        } else {
            merge_patch(doc_map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
