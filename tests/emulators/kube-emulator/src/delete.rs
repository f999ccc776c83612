//! DELETE and DELETE-collection: finalizers, deletionTimestamp, GC-policy finalizers,
//! preconditions and the response shapes of docs/kubernetes-api.md §2.6/§2.7/§1.7.

use std::sync::Arc;

use axum::response::Response;
use serde_json::{Value, json};

use crate::State;
use crate::meta;
use crate::read::{Filter, render_one, want};
use crate::registry::ResourceType;
use crate::server::Ctx;
use crate::status::{ApiError, json_response, success_status};
use crate::write::meta_mut;

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";
pub const CRD_CLEANUP: &str = "customresourcecleanup.apiextensions.k8s.io";

pub enum Outcome {
    /// Removed from the store; carries the last state with the deletion RV.
    Gone(Arc<Value>),
    /// Still present (finalizers pending); carries the current state.
    Pending(Arc<Value>),
}

/// Whether anything still holds the object: metadata finalizers, or for a Namespace its
/// `spec.finalizers` (the namespace store overrides `ShouldDeleteDuringUpdate`).
pub fn has_pending_finalizers(t: &ResourceType, obj: &Value) -> bool {
    if !meta::finalizers(obj).is_empty() {
        return true;
    }
    is_namespace(t)
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
}

fn is_namespace(t: &ResourceType) -> bool {
    t.group.is_empty() && t.kind == "Namespace"
}

/// Marks or removes one object. `policy` is the request's propagationPolicy, which adds or
/// removes the GC finalizers (docs/kubernetes-api.md §2.7); `None` leaves them as they are.
pub fn delete_object(
    st: &mut State,
    t: &ResourceType,
    old: &Arc<Value>,
    policy: Option<&str>,
    dry_run: bool,
) -> Outcome {
    let mut new = (**old).clone();
    let mut fins = meta::finalizers(&new);
    match policy {
        Some("Foreground") => {
            fins.retain(|f| f != ORPHAN);
            if !fins.iter().any(|f| f == FOREGROUND) {
                fins.push(FOREGROUND.into());
            }
        }
        Some("Orphan") => {
            fins.retain(|f| f != FOREGROUND);
            if !fins.iter().any(|f| f == ORPHAN) {
                fins.push(ORPHAN.into());
            }
        }
        Some("Background") => fins.retain(|f| f != ORPHAN && f != FOREGROUND),
        _ => {}
    }
    if t.kind == "CustomResourceDefinition"
        && !meta::is_deleting(old)
        && !fins.iter().any(|f| f == CRD_CLEANUP)
    {
        fins.push(CRD_CLEANUP.into());
    }
    meta::set_finalizers(&mut new, &fins);
    let key = t.store_key();
    let ns = meta::str_at(old, "/metadata/namespace").to_string();
    let name = meta::str_at(old, "/metadata/name").to_string();
    if !has_pending_finalizers(t, &new) {
        if dry_run {
            return Outcome::Gone(old.clone());
        }
        let gone = st
            .store
            .delete(&key, &ns, &name)
            .unwrap_or_else(|| old.clone());
        crate::crd::on_deleted(st, t, old);
        return Outcome::Gone(gone);
    }
    if !meta::is_deleting(old) {
        let m = meta_mut(&mut new);
        m.insert("deletionTimestamp".into(), json!(meta::now_time()));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        // markAsDeleting bumps generation when the type tracks it.
        if let Some(g) = m
            .get("generation")
            .and_then(Value::as_i64)
            .filter(|g| *g > 0)
        {
            m.insert("generation".into(), json!(g + 1));
        }
        if is_namespace(t) {
            new["status"] = json!({"phase": "Terminating"});
        }
    }
    if dry_run {
        return Outcome::Pending(Arc::new(new));
    }
    Outcome::Pending(st.store.update(&key, old, new))
}

struct DeleteOpts {
    policy: Option<String>,
    uid: Option<String>,
    rv: Option<String>,
    dry_run: bool,
    accepted: bool,
}

fn parse_opts(ctx: &Ctx) -> Result<DeleteOpts, ApiError> {
    ctx.query.check_dry_run()?;
    let body: Value = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else if ctx.content_type() == crate::protobuf::CONTENT_TYPE {
        // client-go typed clients send DeleteOptions as protobuf (docs/kubernetes-api.md §3.4).
        crate::protobuf::decode(&ctx.body)
            .map_err(|e| ApiError::new(415, "UnsupportedMediaType", e))?
    } else {
        serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let mut policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(String::from);
    if policy.is_none() {
        policy = ctx.query.get("propagationPolicy").map(String::from);
    }
    let orphan = body
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or_else(|| ctx.query.get("orphanDependents").map(|v| v == "true"));
    if policy.is_none() {
        policy = orphan.map(|o| {
            if o {
                "Orphan".to_string()
            } else {
                "Background".to_string()
            }
        });
    }
    if let Some(p) = &policy
        && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::invalid_kind(
            "DeleteOptions.meta.k8s.io",
            "meta.k8s.io",
            "DeleteOptions",
            "",
            vec![crate::status::Cause::new(
                "FieldValueNotSupported",
                "propagationPolicy",
                format!(
                    "Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
                ),
            )],
        ));
    }
    let dry_body = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    Ok(DeleteOpts {
        policy,
        uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        dry_run: ctx.query.is_dry_run() || dry_body,
        accepted: orphan == Some(false),
    })
}

fn check_preconditions(t: &ResourceType, obj: &Value, o: &DeleteOpts) -> Result<(), ApiError> {
    let name = meta::str_at(obj, "/metadata/name");
    if let Some(uid) = &o.uid {
        let have = meta::str_at(obj, "/metadata/uid");
        if uid != have {
            return Err(ApiError::conflict_msg(
                t,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                ),
            ));
        }
    }
    if let Some(rv) = &o.rv {
        let have = meta::str_at(obj, "/metadata/resourceVersion");
        if rv != have {
            return Err(ApiError::conflict_msg(
                t,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have}"
                ),
            ));
        }
    }
    Ok(())
}

pub fn delete(ctx: &mut Ctx) -> Result<Response, ApiError> {
    let opts = parse_opts(ctx)?;
    let want = want(ctx)?;
    let t = ctx.t.clone();
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let old = st
        .store
        .get(&t.store_key(), &ctx.path.namespace, &ctx.path.name)
        .ok_or_else(|| ApiError::not_found(&t, &ctx.path.name))?;
    check_preconditions(&t, &old, &opts)?;
    let outcome = delete_object(&mut st, &t, &old, opts.policy.as_deref(), opts.dry_run);
    drop(st);
    shared.gc_wake.notify_one();
    Ok(match outcome {
        Outcome::Gone(obj) => {
            if crate::builtins::returns_deleted_object(&t) {
                json_response(200, &render_one(&t, want, &obj))
            } else {
                json_response(
                    200,
                    &success_status(&t, &ctx.path.name, meta::str_at(&obj, "/metadata/uid")),
                )
            }
        }
        Outcome::Pending(obj) => json_response(
            if opts.accepted { 202 } else { 200 },
            &render_one(&t, want, &obj),
        ),
    })
}

pub fn delete_collection(ctx: &mut Ctx) -> Result<Response, ApiError> {
    let opts = parse_opts(ctx)?;
    let want = want(ctx)?;
    let t = ctx.t.clone();
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let filter = Filter::from_query(&st, &t, &ctx.path.namespace, &ctx.query)?;
    let targets: Vec<Arc<Value>> = st
        .store
        .objects(&t.store_key())
        .into_values()
        .filter(|o| filter.matches(o))
        .collect();
    let mut items = Vec::new();
    for old in targets {
        let obj = match delete_object(&mut st, &t, &old, opts.policy.as_deref(), opts.dry_run) {
            Outcome::Gone(o) | Outcome::Pending(o) => o,
        };
        items.push(render_one(&t, want, &obj));
    }
    let rv = st.store.rv();
    drop(st);
    shared.gc_wake.notify_one();
    Ok(json_response(
        200,
        &json!({
            "kind": t.list_kind,
            "apiVersion": t.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    ))
}
