//! Secret and ConfigMap rules (docs/kubernetes-api.md §2.13): `stringData` → `data`, base64,
//! key names, size, `type` immutability and `immutable: true`.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::status::{ApiError, Cause};

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
/// immutable, `immutable: true` honoured, key rules and 1 MiB limit (docs/kubernetes-api.md §2.13).
pub fn prepare_secret(
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

pub fn prepare_configmap(obj: &mut Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
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
