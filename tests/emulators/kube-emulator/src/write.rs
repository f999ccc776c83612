//! Create, update (PUT) and patch: decoding, system metadata (docs/kubernetes-api.md §2.3), status
//! isolation (docs/kubernetes-api.md §2.5), generation (docs/kubernetes-api.md §2.4), optimistic
//! concurrency and the no-op rule (docs/kubernetes-api.md §2.1), and the "update empties finalizers
//! → delete" rule (docs/kubernetes-api.md §2.6).

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use crate::State;
use crate::meta;
use crate::read::{present, render_one, want};
use crate::registry::ResourceType;
use crate::server::Ctx;
use crate::status::{ApiError, Cause, json_response};

pub use crate::decode::{check_field_validation, decode_body, meta_mut, to_storage};

/// Name rules: namespaces are DNS labels, everything else DNS subdomains
/// (docs/kubernetes-api.md §2.3).
fn validate_name(t: &ResourceType, name: &str, causes: &mut Vec<Cause>) {
    let res = if t.kind == "Namespace" && t.group.is_empty() {
        meta::dns1123_label(name)
    } else if t.kind == "CustomResourceDefinition" {
        Ok(())
    } else {
        meta::dns1123_subdomain(name)
    };
    if let Err(e) = res {
        causes.push(Cause::invalid("metadata.name", &json!(name), &e));
    }
}

/// Type-specific preparation and validation shared by create and update.
fn prepare(
    st: &State,
    ctx: &mut Ctx,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let t = ctx.t.clone();
    let mut causes = Vec::new();
    let name = meta::str_at(obj, "/metadata/name").to_string();
    if old.is_none() {
        validate_name(&t, &name, &mut causes);
    }
    if t.is_custom() {
        crate::crd::prepare_cr(
            &t,
            obj,
            old,
            ctx.query.get("fieldValidation").unwrap_or(""),
            &mut ctx.warnings,
            &mut causes,
        )?;
    } else if t.kind == "CustomResourceDefinition" {
        crate::crd::prepare_crd(st, obj, old, &mut causes);
    } else {
        crate::typed::prune_builtin(
            &t,
            obj,
            ctx.query.get("fieldValidation").unwrap_or(""),
            &mut ctx.warnings,
        )?;
        crate::builtins::prepare(&t, obj, old, &mut causes)?;
    }
    if let Some(m) = obj.get("metadata").and_then(Value::as_object) {
        meta::validate_object_meta(m, &mut causes);
        ctx.warnings.extend(meta::finalizer_warnings(m));
    }
    if let Some(old) = old
        && meta::is_deleting(old)
    {
        let before = meta::finalizers(old);
        let added: Vec<String> = meta::finalizers(obj)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        if !added.is_empty() {
            causes.push(Cause::forbidden(
                "metadata.finalizers",
                &format!("no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
            ));
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::invalid(&t, &name, causes));
    }
    Ok(())
}

pub fn create(ctx: &mut Ctx) -> Result<Response, ApiError> {
    ctx.query.check_dry_run()?;
    check_field_validation(ctx)?;
    let body = decode_body(ctx)?;
    create_object(ctx, body, false)
}

/// The create pipeline for a decoded body (POST, or the result of an apply that creates).
/// `applied` bodies already carry their managedFields.
pub fn create_object(ctx: &mut Ctx, body: Value, applied: bool) -> Result<Response, ApiError> {
    ctx.query.check_dry_run()?;
    let want = want(ctx)?;
    let t = ctx.t.clone();
    let mut obj = to_storage(&t, body)?;
    let url_ns = ctx.path.namespace.clone();
    {
        let m = meta_mut(&mut obj);
        if t.namespaced {
            match m.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != url_ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    m.insert("namespace".into(), json!(url_ns));
                }
            }
        } else {
            m.remove("namespace");
        }
        // docs/kubernetes-api.md §2.3: client-supplied system fields are wiped on create.
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
            "generation",
            "selfLink",
        ] {
            m.remove(f);
        }
        if !applied {
            m.remove("managedFields");
        }
        let name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let generate = m
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if generate.is_empty() {
                return Err(ApiError::invalid(
                    &t,
                    "",
                    vec![Cause::new(
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )],
                ));
            }
            m.insert("name".into(), json!(meta::generate_name(&generate)));
        }
    }
    if t.is_custom() && t.has_subresource("status") {
        // docs/kubernetes-api.md §2.4: PrepareForCreate drops status when the status subresource is
        // enabled.
        obj.as_object_mut().expect("object").remove("status");
    }
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    if t.is_custom() && crate::crd::is_terminating(&st, &t) {
        return Err(ApiError::method_not_allowed(
            "create not allowed while custom resource definition is terminating",
        ));
    }
    if t.namespaced {
        crate::namespaces::check_writable(&st, &url_ns, &t, meta::str_at(&obj, "/metadata/name"))?;
    }
    prepare(&st, ctx, &mut obj, None)?;
    let name = meta::str_at(&obj, "/metadata/name").to_string();
    let m = meta_mut(&mut obj);
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(meta::now_time()));
    if crate::builtins::tracks_generation(&t) {
        m.insert("generation".into(), json!(1));
    }

    if !applied {
        crate::apply::track_update(ctx, None, &mut obj);
    }
    meta::drop_empty_meta(meta_mut(&mut obj));
    let key = t.store_key();
    if st.store.get(&key, &url_ns, &name).is_some() {
        return Err(ApiError::already_exists(&t, &name));
    }
    if ctx.query.is_dry_run() {
        return Ok(json_response(201, &render_one(&t, want, &obj)));
    }
    let stored = st.store.create(&key, obj);
    if t.kind == "CustomResourceDefinition" {
        crate::crd::register(&mut st, &stored);
    }
    Ok(json_response(201, &render_one(&t, want, &stored)))
}

/// Rules shared by PUT and patch once the new object is computed: system fields from the old
/// object, status isolation, type validation, generation and managedFields.
pub fn finish_update(
    st: &State,
    ctx: &mut Ctx,
    old: &Value,
    mut new: Value,
) -> Result<Value, ApiError> {
    let t = ctx.t.clone();
    let name = ctx.path.name.clone();
    let body_name = meta::str_at(&new, "/metadata/name");
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if t.namespaced {
        let ns = meta::str_at(&new, "/metadata/namespace");
        if !ns.is_empty() && ns != ctx.path.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    let new_uid = meta::str_at(&new, "/metadata/uid");
    let old_uid = meta::str_at(old, "/metadata/uid");
    if !new_uid.is_empty() && new_uid != old_uid {
        return Err(ApiError::conflict_msg(
            &t,
            &name,
            &format!(
                "Precondition failed: UID in precondition: {new_uid}, UID in object meta: {old_uid}"
            ),
        ));
    }
    let sub = ctx.path.subresource.clone();
    if sub == "status" {
        // docs/kubernetes-api.md §2.5: /status copies the whole old object and takes only status
        // from the request.
        let status = new.get("status").cloned();
        let mf = new.pointer("/metadata/managedFields").cloned();
        new = old.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                new.as_object_mut().expect("object").remove("status");
            }
        }
        if let Some(mf) = mf {
            meta_mut(&mut new).insert("managedFields".into(), mf);
        }
    } else if t.has_subresource("status") {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().expect("object").remove("status");
            }
        }
    }
    {
        let om = old
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let m = meta_mut(&mut new);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
        ] {
            match om.get(f) {
                Some(v) => m.insert(f.into(), v.clone()),
                None => m.remove(f),
            };
        }
        m.remove("selfLink");
        if !m.contains_key("managedFields")
            && let Some(mf) = om.get("managedFields")
        {
            m.insert("managedFields".into(), mf.clone());
        }
    }
    prepare(st, ctx, &mut new, Some(old))?;
    if crate::builtins::tracks_generation(&t) && crate::builtins::generation_changed(&t, old, &new)
    {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta_mut(&mut new).insert("generation".into(), json!(g + 1));
    }
    meta::drop_empty_meta(meta_mut(&mut new));
    Ok(new)
}

/// Persists an update (or deletes the object when its last finalizer went away while it is
/// being deleted, docs/kubernetes-api.md §2.6). Returns the object to send back.
pub fn commit(st: &mut State, ctx: &Ctx, old: &Arc<Value>, new: Value) -> Value {
    let t = &ctx.t;
    let key = t.store_key();
    let dry = ctx.query.is_dry_run();
    if meta::is_deleting(old) && !crate::delete::has_pending_finalizers(t, &new) {
        if !dry {
            st.store.delete(&key, &ctx.path.namespace, &ctx.path.name);
            crate::crd::on_deleted(st, t, old);
            ctx.shared.gc_wake.notify_one();
        }
        return new;
    }
    if dry {
        let mut n = new;
        if let Some(rv) = old.pointer("/metadata/resourceVersion") {
            meta_mut(&mut n).insert("resourceVersion".into(), rv.clone());
        }
        return n;
    }
    let stored = st.store.update(&key, old, new);
    if t.kind == "CustomResourceDefinition" && t.group == "apiextensions.k8s.io" {
        crate::crd::register(st, &stored);
    }
    (*stored).clone()
}

pub fn update(ctx: &mut Ctx) -> Result<Response, ApiError> {
    ctx.query.check_dry_run()?;
    check_field_validation(ctx)?;
    let want = want(ctx)?;
    let t = ctx.t.clone();
    let new = to_storage(&t, decode_body(ctx)?)?;
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let old = st
        .store
        .get(&t.store_key(), &ctx.path.namespace, &ctx.path.name)
        .ok_or_else(|| ApiError::not_found(&t, &ctx.path.name))?;
    let rv = meta::str_at(&new, "/metadata/resourceVersion");
    if rv.is_empty() {
        // CRs disallow unconditional updates (docs/kubernetes-api.md §2.2).
        if t.is_custom() {
            return Err(ApiError::invalid(
                &t,
                &ctx.path.name,
                vec![Cause::new(
                    "FieldValueInvalid",
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )],
            ));
        }
    } else if rv != meta::str_at(&old, "/metadata/resourceVersion") {
        return Err(ApiError::conflict(&t, &ctx.path.name));
    }
    let mut new = finish_update(&st, ctx, &old, new)?;
    crate::apply::track_update(ctx, Some(&old), &mut new);
    let out = commit(&mut st, ctx, &old, new);
    Ok(json_response(200, &render_one(&t, want, &out)))
}

pub fn patch(ctx: &mut Ctx) -> Result<Response, ApiError> {
    crate::patching::patch(ctx)
}

/// Shared by patch: the response body for a written object.
pub fn respond(t: &ResourceType, ctx: &Ctx, code: u16, obj: &Value) -> Result<Response, ApiError> {
    let want = want(ctx)?;
    let _ = present;
    Ok(json_response(code, &render_one(t, want, obj)))
}
