//! Server-side apply requests (docs/kubernetes-api.md §4) and managedFields bookkeeping for
//! ordinary writes. The merge and ownership logic is the pure `ssa` module; this handles
//! the request: options, create-on-apply (201), isolation, validation and the no-op rule.

use axum::response::Response;
use serde_json::{Value, json};

use crate::meta;
use crate::read::present;
use crate::registry::ResourceType;
use crate::server::Ctx;
use crate::ssa::{self, ApplyError, TypeInfo};
use crate::status::ApiError;
use crate::write::{commit, finish_update, meta_mut, respond, to_storage};

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> ApiError {
        let status = e.status();
        let mut out = ApiError::new(e.code(), e.reason(), e.to_string());
        if let Some(m) = status.get("message").and_then(Value::as_str) {
            out.message = m.to_string();
        }
        out.details = status.get("details").cloned();
        out
    }
}

/// The field-ownership shape of a type: its CRD schema, or the built-in table.
pub fn type_info(t: &ResourceType) -> TypeInfo {
    match &t.schema {
        Some(schema) => TypeInfo::from_crd_schema(schema, t.has_subresource("status")),
        None => TypeInfo::builtin(&t.group, &t.kind),
    }
}

fn subresource(ctx: &Ctx) -> Option<&str> {
    (!ctx.path.subresource.is_empty()).then_some(ctx.path.subresource.as_str())
}

/// Records an ordinary write (create, PUT, non-apply patch) as an `Update` entry of the
/// request's manager (docs/kubernetes-api.md §4.1.6). Must run after status/spec isolation.
pub fn track_update(ctx: &Ctx, old: Option<&Value>, new: &mut Value) {
    let ti = type_info(&ctx.t);
    ssa::update_managed_fields(
        old,
        new,
        &ctx.manager(),
        subresource(ctx),
        &ti,
        &meta::now_time(),
    );
}

pub fn apply(ctx: &mut Ctx) -> Result<Response, ApiError> {
    let t = ctx.t.clone();
    let body: Value = serde_yaml::from_slice(&ctx.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !body.is_object() {
        return Err(ApiError::bad_request("apply patch must be an object"));
    }
    ssa::validate_apply_body(&body, &t.api_version(), &ctx.path.name)?;
    let manager = ctx.query.get("fieldManager").unwrap_or("").to_string();
    let force = ctx.query.flag("force");
    let ti = type_info(&t);
    let now = meta::now_time();
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let old = st
        .store
        .get(&t.store_key(), &ctx.path.namespace, &ctx.path.name);
    let Some(old) = old else {
        // docs/kubernetes-api.md §4.1.1: apply creates the object, but only through the main
        // resource.
        if subresource(ctx).is_some() {
            return Err(ApiError::not_found(&t, &ctx.path.name));
        }
        drop(st);
        return create_by_apply(ctx, &body, &manager, force, &ti, &now);
    };
    let rv = meta::str_at(&body, "/metadata/resourceVersion");
    if !rv.is_empty() && rv != meta::str_at(&old, "/metadata/resourceVersion") {
        return Err(ApiError::conflict(&t, &ctx.path.name));
    }
    let live = present(&t, &old);
    let merged = ssa::apply(
        Some(&live),
        &body,
        &manager,
        force,
        subresource(ctx),
        &ti,
        &now,
    )?;
    if merged == live {
        // docs/kubernetes-api.md §2.1: an identical re-apply is not a write.
        st.store.writes.noop += 1;
        return respond(&t, ctx, 200, &old);
    }
    let new = to_storage(&t, merged)?;
    let new = finish_update(&st, ctx, &old, new)?;
    let out = commit(&mut st, ctx, &old, new);
    respond(&t, ctx, 200, &out)
}

/// Apply to a missing object: the merge result goes through the create pipeline (201).
fn create_by_apply(
    ctx: &mut Ctx,
    body: &Value,
    manager: &str,
    force: bool,
    ti: &TypeInfo,
    now: &str,
) -> Result<Response, ApiError> {
    let t = ctx.t.clone();
    let mut applied = body.clone();
    if meta::str_at(&applied, "/metadata/name").is_empty() {
        meta_mut(&mut applied).insert("name".into(), json!(ctx.path.name));
    }
    if t.namespaced {
        let ns = meta::str_at(&applied, "/metadata/namespace");
        if !ns.is_empty() && ns != ctx.path.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta_mut(&mut applied).insert("namespace".into(), json!(ctx.path.namespace));
    }
    let merged = ssa::apply(None, &applied, manager, force, None, ti, now)?;
    crate::write::create_object(ctx, merged, true)
}
