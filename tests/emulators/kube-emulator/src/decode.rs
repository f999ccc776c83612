//! Request bodies into storage form: JSON/YAML decoding (415 for anything else,
//! docs/kubernetes-api.md §3.4), apiVersion/kind checks, the Event API mapping
//! (docs/kubernetes-api.md §1.6) and `fieldValidation` values.

use serde_json::{Map, Value, json};

use crate::registry::ResourceType;
use crate::server::Ctx;
use crate::status::ApiError;

/// Decodes a JSON (or YAML) request body into an object; protobuf and others are 415
/// (docs/kubernetes-api.md §3.4).
pub fn decode_body(ctx: &Ctx) -> Result<Value, ApiError> {
    let ct = ctx.content_type();
    let v: Value = match ct.as_str() {
        "" | "application/json" => serde_json::from_slice(&ctx.body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        "application/yaml" | "application/apply-patch+yaml" => serde_yaml::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?,
        // Typed client-go clients (Helm's release storage, `kubectl create secret`)
        // (docs/kubernetes-api.md §3.4).
        crate::protobuf::CONTENT_TYPE => crate::protobuf::decode(&ctx.body)
            .map_err(|e| ApiError::new(415, "UnsupportedMediaType", e))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "Object 'Kind' is missing in request body",
        ));
    }
    Ok(v)
}

/// The apiVersion/kind a client may send for this endpoint.
fn expected_type_meta(t: &ResourceType) -> (String, String) {
    (t.api_version(), t.kind.clone())
}

/// Checks apiVersion/kind when present and converts to storage form (Events via core/v1
/// are stored as events.k8s.io/v1, docs/kubernetes-api.md §1.6).
pub fn to_storage(t: &ResourceType, mut obj: Value) -> Result<Value, ApiError> {
    let (av, kind) = expected_type_meta(t);
    if let Some(got) = obj.get("apiVersion").and_then(Value::as_str)
        && !got.is_empty()
        && got != av
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({got}) does not match the expected API version ({av})"
        )));
    }
    if let Some(got) = obj.get("kind").and_then(Value::as_str)
        && !got.is_empty()
        && got != kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({got}) does not match the expected kind ({kind})"
        )));
    }
    if t.kind == "Event" && t.group.is_empty() {
        obj = crate::events::from_core(&obj);
    } else {
        obj["apiVersion"] = json!(av);
        obj["kind"] = json!(kind);
    }
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    // Keep the apiserver's field order: apiVersion, kind, metadata, then the rest.
    let mut m = obj.as_object().cloned().unwrap_or_default();
    let mut ordered = Map::new();
    for k in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = m.remove(k) {
            ordered.insert(k.to_string(), v);
        }
    }
    ordered.extend(m);
    Ok(Value::Object(ordered))
}

pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"].as_object_mut().expect("metadata object")
}

pub fn check_field_validation(ctx: &Ctx) -> Result<(), ApiError> {
    match ctx.query.get("fieldValidation") {
        None | Some("" | "Ignore" | "Warn" | "Strict") => Ok(()),
        Some(v) => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {v}. Must be one of Ignore, Warn, or Strict"
        ))),
    }
}
