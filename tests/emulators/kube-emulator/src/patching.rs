//! The PATCH verb: PatchOptions validation (docs/kubernetes-api.md §2.2), the four patch content
//! types (docs/kubernetes-api.md §1.1), and the update pipeline shared with PUT. The patch
//! algorithms live in `patch` and `ssa`.

use axum::response::Response;
use serde_json::{Value, json};

use crate::meta;
use crate::patch::{PatchError, json_patch, merge_patch, strategic_merge_patch, strategy_for};
use crate::read::present;
use crate::server::Ctx;
use crate::status::ApiError;
use crate::write::{check_field_validation, commit, finish_update, respond, to_storage};

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
pub const APPLY: &str = "application/apply-patch+yaml";

impl From<PatchError> for ApiError {
    fn from(e: PatchError) -> ApiError {
        let status = e.status();
        let mut out = ApiError::new(e.code(), e.reason(), e.message());
        out.details = status.get("details").cloned();
        out
    }
}

fn unsupported_patch(ct: &str, custom: bool) -> ApiError {
    let accepted = if custom {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    } else {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
    };
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!(
            "the body of the request was in an unknown format - accepted media types include: {accepted} (got {ct})"
        ),
    )
}

pub fn patch(ctx: &mut Ctx) -> Result<Response, ApiError> {
    ctx.query.check_dry_run()?;
    check_field_validation(ctx)?;
    let t = ctx.t.clone();
    let ct = ctx.content_type();
    let is_apply = ct == APPLY;
    // ValidatePatchOptions (docs/kubernetes-api.md §2.2).
    let force = ctx.query.get("force").map(|v| v == "true");
    crate::ssa::validate_patch_options(is_apply, ctx.query.get("fieldManager"), force)?;
    match ct.as_str() {
        JSON_PATCH | MERGE_PATCH => {}
        STRATEGIC if !t.is_custom() => {}
        APPLY => return crate::apply::apply(ctx),
        other => return Err(unsupported_patch(other, t.is_custom())),
    }
    let patch: Value = serde_json::from_slice(&ctx.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let old = st
        .store
        .get(&t.store_key(), &ctx.path.namespace, &ctx.path.name)
        .ok_or_else(|| ApiError::not_found(&t, &ctx.path.name))?;
    // Patches apply to the object as this endpoint serves it (core/v1 Events included).
    let mut doc = present(&t, &old);
    match ct.as_str() {
        JSON_PATCH => json_patch(&mut doc, &patch)?,
        MERGE_PATCH => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a merge patch must be a JSON object",
                ));
            }
            merge_patch(&mut doc, &patch)
        }
        _ => strategic_merge_patch(&mut doc, &patch, &strategy_for(&t.group, &t.kind))?,
    }
    if !doc.is_object() {
        return Err(ApiError::bad_request(
            "the patched object is not a JSON object",
        ));
    }
    // docs/kubernetes-api.md §1.5: patches never conflict unless they carry a resourceVersion of
    // their own.
    let patched_rv = meta::str_at(&doc, "/metadata/resourceVersion").to_string();
    if !patched_rv.is_empty() && patched_rv != meta::str_at(&old, "/metadata/resourceVersion") {
        return Err(ApiError::conflict(&t, &ctx.path.name));
    }
    if doc.get("metadata").is_none_or(|m| !m.is_object()) {
        doc["metadata"] = json!({});
    }
    let new = to_storage(&t, doc)?;
    let mut new = finish_update(&st, ctx, &old, new)?;
    crate::apply::track_update(ctx, Some(&old), &mut new);
    let out = commit(&mut st, ctx, &old, new);
    respond(&t, ctx, 200, &out)
}
