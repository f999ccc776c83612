//! The `/scale` subresource (autoscaling/v1 `Scale`) for Deployments and CRDs that declare
//! `subresources.scale` (docs/kubernetes-api.md §2.12, §6 Should 7). Writes go through the
//! ordinary update pipeline of the parent object, so generation and no-op rules hold.

use axum::response::Response;
use serde_json::{Value, json};

use crate::State;
use crate::meta;
use crate::patch::{json_patch, merge_patch};
use crate::read::present;
use crate::registry::ResourceType;
use crate::server::Ctx;
use crate::status::{ApiError, json_response};
use crate::write::{commit, decode_body, finish_update};

/// Where replicas and the selector live: (spec replicas, status replicas, label selector).
fn paths(st: &State, t: &ResourceType) -> (String, String, String) {
    if !t.is_custom() {
        return (
            ".spec.replicas".into(),
            ".status.replicas".into(),
            String::new(),
        );
    }
    let scale = crate::crd::crd_of(st, t)
        .and_then(|crd| {
            crd.pointer("/spec/versions")?
                .as_array()?
                .iter()
                .find(|v| v["name"] == json!(t.version))
                .and_then(|v| v.pointer("/subresources/scale").cloned())
        })
        .unwrap_or(json!({}));
    let s = |k: &str| scale[k].as_str().unwrap_or("").to_string();
    (
        s("specReplicasPath"),
        s("statusReplicasPath"),
        s("labelSelectorPath"),
    )
}

fn pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |acc, p| format!("{acc}/{p}"))
}

fn selector_string(obj: &Value, t: &ResourceType, selector_path: &str) -> String {
    if t.is_custom() {
        if selector_path.is_empty() {
            return String::new();
        }
        return meta::str_at(obj, &pointer(selector_path)).to_string();
    }
    let labels = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object);
    labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn scale_of(st: &State, t: &ResourceType, obj: &Value) -> Value {
    let (spec_p, status_p, sel_p) = paths(st, t);
    let default = if t.is_custom() { 0 } else { 1 };
    let spec = obj
        .pointer(&pointer(&spec_p))
        .and_then(Value::as_i64)
        .unwrap_or(default);
    let status = obj
        .pointer(&pointer(&status_p))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let m = &obj["metadata"];
    let mut meta = json!({"name": m["name"], "uid": m["uid"], "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]});
    if let Some(ns) = m.get("namespace") {
        meta["namespace"] = ns.clone();
    }
    let mut out = json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta, "spec": {"replicas": spec}, "status": {"replicas": status}});
    let sel = selector_string(obj, t, &sel_p);
    if !sel.is_empty() {
        out["status"]["selector"] = json!(sel);
    }
    out
}

fn set_path(obj: &mut Value, path: &str, v: Value) {
    let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    let mut cur = obj;
    for p in &parts[..parts.len() - 1] {
        if !cur.get(*p).is_some_and(Value::is_object) {
            cur[*p] = json!({});
        }
        cur = &mut cur[*p];
    }
    cur[parts[parts.len() - 1]] = v;
}

pub fn handle(ctx: &mut Ctx) -> Result<Response, ApiError> {
    ctx.query.check_dry_run()?;
    let t = ctx.t.clone();
    let shared = ctx.shared.clone();
    let mut st = shared.state.lock();
    let old = st
        .store
        .get(&t.store_key(), &ctx.path.namespace, &ctx.path.name)
        .ok_or_else(|| ApiError::not_found(&t, &ctx.path.name))?;
    let current = scale_of(&st, &t, &old);
    if ctx.verb == "get" {
        return Ok(json_response(200, &current));
    }
    let wanted = match ctx.verb {
        "update" => decode_body(ctx)?,
        "patch" => {
            let patch: Value = serde_json::from_slice(&ctx.body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = current.clone();
            match ctx.content_type().as_str() {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    merge_patch(&mut doc, &patch)
                }
                "application/json-patch+json" => json_patch(&mut doc, &patch)?,
                other => return Err(ApiError::unsupported_media_type(other)),
            }
            doc
        }
        _ => {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    let rv = meta::str_at(&wanted, "/metadata/resourceVersion");
    if !rv.is_empty() && rv != meta::str_at(&old, "/metadata/resourceVersion") {
        return Err(ApiError::conflict(&t, &ctx.path.name));
    }
    let Some(replicas) = wanted.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return Err(ApiError::invalid_kind(
            "Scale.autoscaling",
            "autoscaling",
            "Scale",
            &ctx.path.name,
            vec![crate::status::Cause::required("spec.replicas")],
        ));
    };
    let (spec_p, _, _) = paths(&st, &t);
    let mut new = present(&t, &old);
    set_path(&mut new, &spec_p, json!(replicas));
    let new = crate::write::to_storage(&t, new)?;
    let mut new = finish_update(&st, ctx, &old, new)?;
    crate::apply::track_update(ctx, Some(&old), &mut new);
    let out = commit(&mut st, ctx, &old, new);
    Ok(json_response(200, &scale_of(&st, &t, &out)))
}
