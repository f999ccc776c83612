//! Kubernetes `Status` error bodies. kube 5.0 decides `is_not_found()` and friends on `reason`
//! alone (docs/kubernetes-api.md §1.1, §2.2), so every error carries the exact reason string.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::registry::ResourceType;

/// One `details.causes[]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, field: &str, message: impl Into<String>) -> Cause {
        Cause {
            reason: reason.to_string(),
            message: message.into(),
            field: field.to_string(),
        }
    }

    /// `field.Invalid`: `<field>: Invalid value: <json>: <detail>`.
    pub fn invalid(field: &str, value: &Value, detail: &str) -> Cause {
        Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {}: {detail}", render_value(value)),
        )
    }

    pub fn required(field: &str) -> Cause {
        Cause::new("FieldValueRequired", field, "Required value")
    }

    pub fn forbidden(field: &str, detail: &str) -> Cause {
        Cause::new("FieldValueForbidden", field, format!("Forbidden: {detail}"))
    }
}

/// Go renders strings quoted and everything else as JSON-ish text in field errors.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Object(_) => "\"object\"".to_string(),
        Value::Array(_) => "\"array\"".to_string(),
        other => other.to_string(),
    }
}

/// An API error rendered as a `Status` body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn details(t: &ResourceType, name: &str, kind: &str) -> Value {
    let mut d = serde_json::Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !t.group.is_empty() {
        d.insert("group".into(), json!(t.group));
    }
    d.insert("kind".into(), json!(kind));
    Value::Object(d)
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// docs/kubernetes-api.md §2.2: `details.kind` is the resource plural for NotFound.
    pub fn not_found(t: &ResourceType, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", t.qualified_resource()),
        )
        .with_details(details(t, name, &t.plural))
    }

    pub fn namespace_not_found(ns: &str) -> ApiError {
        ApiError::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
            .with_details(json!({"name": ns, "kind": "namespaces"}))
    }

    pub fn already_exists(t: &ResourceType, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", t.qualified_resource()),
        )
        .with_details(details(t, name, &t.plural))
    }

    /// The store's `OptimisticLockErrorMsg`.
    pub fn conflict(t: &ResourceType, name: &str) -> ApiError {
        ApiError::conflict_msg(
            t,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn conflict_msg(t: &ResourceType, name: &str, msg: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {msg}",
                t.qualified_resource()
            ),
        )
        .with_details(details(t, name, &t.plural))
    }

    /// docs/kubernetes-api.md §2.2: 422 with `details.kind` = Kind and one cause per field error.
    pub fn invalid(t: &ResourceType, name: &str, causes: Vec<Cause>) -> ApiError {
        ApiError::invalid_kind(&t.qualified_kind(), &t.group, &t.kind, name, causes)
    }

    pub fn invalid_kind(
        qualified_kind: &str,
        group: &str,
        kind: &str,
        name: &str,
        causes: Vec<Cause>,
    ) -> ApiError {
        let list: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let summary = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = serde_json::Map::new();
        d.insert("name".into(), json!(name));
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        d.insert("kind".into(), json!(kind));
        d.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect(),
            ),
        );
        ApiError::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {summary}"),
        )
        .with_details(Value::Object(d))
    }

    pub fn forbidden(t: &ResourceType, name: &str, msg: &str) -> ApiError {
        ApiError::new(
            403,
            "Forbidden",
            format!("{} \"{name}\" is forbidden: {msg}", t.qualified_resource()),
        )
        .with_details(details(t, name, &t.plural))
    }

    pub fn method_not_allowed(msg: impl Into<String>) -> ApiError {
        ApiError::new(405, "MethodNotAllowed", msg)
    }

    pub fn unsupported_media_type(ct: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct})"
            ),
        )
    }

    pub fn not_acceptable() -> ApiError {
        ApiError::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml",
        )
    }

    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    /// The `Status` object, as sent in a body or inside a watch ERROR event.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

/// A `Status` with `status: Success` for deletes (docs/kubernetes-api.md §1.7).
pub fn success_status(t: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = details(t, name, &t.plural);
    d["uid"] = json!(uid);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

/// A JSON response with the content type every apiserver response carries.
pub fn json_response(code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        bytes,
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.code, &self.to_status());
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The real server's answer for paths it does not serve at all (docs/kubernetes-api.md §2.2, last
/// bullet).
pub fn page_not_found() -> Response {
    let mut resp = (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn not_found_uses_plural_and_group() {
        let r = Registry::with_builtins();
        let l = r.get("coordination.k8s.io", "v1", "leases").unwrap();
        let s = ApiError::not_found(l, "x").to_status();
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["message"], "leases.coordination.k8s.io \"x\" not found");
        assert_eq!(s["details"]["kind"], "leases");
        assert_eq!(s["details"]["group"], "coordination.k8s.io");
        let sec = r.get("", "v1", "secrets").unwrap();
        let s = ApiError::already_exists(sec, "s").to_status();
        assert_eq!(s["message"], "secrets \"s\" already exists");
        assert!(s["details"].get("group").is_none());
    }

    #[test]
    fn invalid_uses_kind_and_causes() {
        let r = Registry::with_builtins();
        let sec = r.get("", "v1", "secrets").unwrap();
        let e = ApiError::invalid(sec, "s", vec![Cause::required("type")]);
        let s = e.to_status();
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["kind"], "Secret");
        assert_eq!(
            s["message"],
            "Secret \"s\" is invalid: type: Required value"
        );
        assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueRequired");
    }
}
