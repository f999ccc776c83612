//! Server-side apply and managedFields (docs/kubernetes-api.md §4), I/O free.
//!
//! Division of work with the server: [`apply`] applies the *reset fields* itself
//! (status dropped on the main resource of kinds with a status subresource,
//! everything but status dropped on `/status`), so ownership is never recorded
//! for them. [`update_managed_fields`] diffs the old object against the object
//! the server is about to store, so the server must call it *after* its own
//! status/spec isolation. The server still copies the old status/spec back for
//! PUTs and non-apply patches.

mod fieldset;
mod managed;
mod typeinfo;
mod walk;

pub use fieldset::{FieldSet, PathElement, path_string};
pub use typeinfo::{ListType, TypeInfo, TypeNode};
pub use walk::{Comparison, compare, merge, to_field_set};

use crate::schema::{FieldError, go_quote, invalid_status};
use serde_json::{Value, json};

/// Why an apply (or apply request) was refused; each variant is one HTTP answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// 409 with `FieldManagerConflict` causes: (manager as printed, field path).
    #[error("{}", conflict_message(.0))]
    Conflict(Vec<(String, String)>),
    /// 400 BadRequest.
    #[error("{0}")]
    BadRequest(String),
    /// 422 on `PatchOptions.meta.k8s.io ""`.
    #[error("{}", invalid_status("meta.k8s.io", "PatchOptions", "", .0)["message"].as_str().unwrap_or(""))]
    InvalidOptions(Vec<FieldError>),
    /// 500 reason `Unknown`: the object does not fit its type (e.g. a list-map
    /// item without its key); the apiserver passes that error through unconverted.
    #[error("{0}")]
    Internal(String),
}

/// `getConflictMessage` of apimachinery's conflict.go.
fn conflict_message(conflicts: &[(String, String)]) -> String {
    if let [(manager, path)] = conflicts {
        return format!("Apply failed with 1 conflict: conflict with {manager}: {path}");
    }
    let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}"));
        for (_, p) in conflicts.iter().filter(|(cm, _)| cm == m) {
            lines.push(format!("- {p}"));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

impl ApplyError {
    pub fn code(&self) -> u16 {
        match self {
            ApplyError::Conflict(_) => 409,
            ApplyError::BadRequest(_) => 400,
            ApplyError::InvalidOptions(_) => 422,
            ApplyError::Internal(_) => 500,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            ApplyError::Conflict(_) => "Conflict",
            ApplyError::BadRequest(_) => "BadRequest",
            ApplyError::InvalidOptions(_) => "Invalid",
            ApplyError::Internal(_) => "Unknown",
        }
    }

    /// The complete `Status` body (docs/kubernetes-api.md §2.2).
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.to_string(), "reason": self.reason(),
        });
        match self {
            ApplyError::Conflict(c) => {
                let causes: Vec<Value> = c
                    .iter()
                    .map(|(m, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": p}))
                    .collect();
                status["details"] = json!({"causes": causes});
            }
            ApplyError::InvalidOptions(errs) => {
                return invalid_status("meta.k8s.io", "PatchOptions", "", errs);
            }
            ApplyError::Internal(_) | ApplyError::BadRequest(_) => {}
        }
        status["code"] = json!(self.code());
        status
    }
}

/// Server-side apply of `applied` onto `live` (`None` = create) by `manager`.
/// Returns the object to store, with `metadata.managedFields` updated. An
/// identical re-apply returns `live` unchanged byte for byte (docs/kubernetes-api.md §2.1 no-ops).
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    subresource: Option<&str>,
    ti: &TypeInfo,
    now: &str,
) -> Result<Value, ApplyError> {
    managed::apply(live, applied, manager, force, subresource, ti, now)
}

/// Record an ordinary write (PUT, merge/JSON/strategic patch, create) in
/// `new`'s managedFields as an `Update` by `manager` (see [`manager_name`]).
/// Never conflicts. Only changed fields move to `manager`; its `time` changes
/// only if something changed. An object that does not fit `ti` (a list-map
/// item without its key) is left without ownership changes.
pub fn update_managed_fields(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    ti: &TypeInfo,
    now: &str,
) {
    let before = new.clone();
    if managed::update(old, new, manager, subresource, ti, now).is_err() {
        *new = before;
    }
}

/// `managerOrUserAgent`: the fieldManager parameter, else the User-Agent up to
/// its first `/`, else empty (kube-rs sends neither by default).
pub fn manager_name(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
    match field_manager {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => user_agent
            .map(|ua| ua.split('/').next().unwrap_or("").to_string())
            .unwrap_or_default(),
    }
}

/// `ValidatePatchOptions`: fieldManager required (and ≤ 128 bytes) for apply,
/// `force` only for apply.
pub fn validate_patch_options(
    is_apply: bool,
    field_manager: Option<&str>,
    force: Option<bool>,
) -> Result<(), ApplyError> {
    let mut errs = Vec::new();
    let fm = field_manager.unwrap_or("");
    if is_apply {
        if fm.is_empty() {
            errs.push(FieldError::required(
                "fieldManager",
                "is required for apply patch",
            ));
        }
    } else if force.is_some() {
        errs.push(FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        ));
    }
    if fm.len() > 128 {
        errs.push(FieldError::too_long("fieldManager", json!(fm), 128));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::InvalidOptions(errs))
    }
}

/// Checks the apiserver makes on an apply body before merging (docs/kubernetes-api.md §4.1.2).
pub fn validate_apply_body(
    body: &Value,
    endpoint_api_version: &str,
    url_name: &str,
) -> Result<(), ApplyError> {
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        return Err(ApplyError::BadRequest(format!(
            "Object 'Kind' is missing in '{body}'"
        )));
    }
    if api_version != endpoint_api_version {
        return Err(ApplyError::BadRequest(format!(
            "Incorrect version specified in apply patch. Specified patch version: {api_version}, expected: {endpoint_api_version}"
        )));
    }
    if body
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    // An apply body without a name (kube's `patch_status` sends none) takes the URL's.
    if !url_name.is_empty() && !name.is_empty() && name != url_name {
        return Err(ApplyError::BadRequest(format!(
            "the name of the object ({name}) does not match the name on the URL ({url_name})"
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "ssa_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "builtin_tests.rs"]
mod builtin_tests;
