//! GET of one object and of collections: presentation (core/v1 Events, PartialObjectMetadata,
//! Table), selectors, limit/continue over a consistent snapshot (docs/kubernetes-api.md §2.1,
//! §2.10, §2.11).

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use crate::State;
use crate::registry::ResourceType;
use crate::request::{Query, Want, negotiate};
use crate::selectors::{FieldSelector, LabelSelector, field_value};
use crate::server::Ctx;
use crate::status::{ApiError, Cause, json_response};
use crate::store::Objects;

/// A stored object as this endpoint serves it: Events through core/v1 are converted, CRs
/// report the requested version (`conversion: None` only rewrites apiVersion,
/// docs/kubernetes-api.md §2.12).
pub fn present(t: &ResourceType, obj: &Value) -> Value {
    if t.kind == "Event" && t.group.is_empty() {
        return crate::events::to_core(obj);
    }
    let mut o = obj.clone();
    if t.is_custom() {
        o["apiVersion"] = json!(t.api_version());
        crate::schema_hooks::default_on_read(t, &mut o);
    }
    o
}

pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// Whether Table output can be produced (the table module is wired in).
pub const TABLE_SUPPORTED: bool = true;

/// The Table apiVersion we answer with (kubectl lists v1 first).
const TABLE_VERSION: &str = "meta.k8s.io/v1";

/// `?includeObject=` for Table output (docs/kubernetes-api.md §3.3); bad values are a 400 like the
/// apiserver's.
fn include_object(ctx: &Ctx) -> Result<crate::table::IncludeObject, ApiError> {
    crate::table::IncludeObject::parse(ctx.query.get("includeObject"))
        .map_err(ApiError::bad_request)
}

pub fn want(ctx: &Ctx) -> Result<Want, ApiError> {
    negotiate(&ctx.headers, TABLE_SUPPORTED)
}

/// Renders one object in the negotiated form.
pub fn render_one(t: &ResourceType, want: Want, obj: &Value) -> Value {
    match want {
        Want::Meta => partial_metadata(obj),
        // Watch events (`kubectl get -w`): a one-row Table per event, columns included.
        Want::Table => crate::table::table_for_object(
            t,
            TABLE_VERSION,
            &present(t, obj),
            crate::table::IncludeObject::Metadata,
            jiff::Timestamp::now(),
        ),
        Want::Full => present(t, obj),
    }
}

pub fn get(ctx: &Ctx) -> Result<Response, ApiError> {
    let want = want(ctx)?;
    let st = ctx.shared.state.lock();
    let obj = st
        .store
        .get(&ctx.t.store_key(), &ctx.path.namespace, &ctx.path.name)
        .ok_or_else(|| ApiError::not_found(&ctx.t, &ctx.path.name))?;
    if want == Want::Table {
        let body = crate::table::table_for_object(
            &ctx.t,
            TABLE_VERSION,
            &present(&ctx.t, &obj),
            include_object(ctx)?,
            jiff::Timestamp::now(),
        );
        return Ok(json_response(200, &body));
    }
    Ok(json_response(200, &render_one(&ctx.t, want, &obj)))
}

/// Field labels a type accepts in `fieldSelector` (docs/kubernetes-api.md §2.9).
pub fn supported_fields(st: &State, t: &ResourceType) -> Vec<String> {
    let mut f = vec![
        "metadata.name".to_string(),
        "metadata.namespace".to_string(),
    ];
    f.extend(crate::builtins::extra_field_labels(t));
    if t.is_custom() {
        f.extend(crate::crd::selectable_fields(st, t));
    }
    f
}

/// The selectors of a list or watch request.
pub struct Filter {
    pub namespace: String,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub is_event: bool,
}

impl Filter {
    pub fn from_query(
        st: &State,
        t: &ResourceType,
        ns: &str,
        q: &Query,
    ) -> Result<Filter, ApiError> {
        Ok(Filter {
            namespace: ns.to_string(),
            labels: LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(
                q.get("fieldSelector").unwrap_or(""),
                &supported_fields(st, t),
            )?,
            is_event: t.kind == "Event",
        })
    }

    pub fn is_unfiltered(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        if !self.namespace.is_empty()
            && crate::meta::str_at(obj, "/metadata/namespace") != self.namespace
        {
            return false;
        }
        if !self.labels.matches(obj) {
            return false;
        }
        if self.is_event {
            self.fields.matches(|f| crate::events::field(obj, f))
        } else {
            self.fields.matches(|f| field_value(obj, f))
        }
    }
}

fn list_options_invalid(causes: Vec<Cause>) -> ApiError {
    ApiError::invalid_kind(
        "ListOptions.meta.k8s.io",
        "meta.k8s.io",
        "ListOptions",
        "",
        causes,
    )
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": [ns, name]}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(tok: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(tok)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let ns = v["start"][0].as_str().ok_or_else(bad)?.to_string();
    let name = v["start"][1].as_str().ok_or_else(bad)?.to_string();
    Ok((rv, ns, name))
}

pub fn parse_rv(s: &str) -> Result<u64, ApiError> {
    s.parse::<u64>()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))
}

/// How long a read with a future RV waits before 504 (docs/kubernetes-api.md §2.1 "Future RVs").
const FUTURE_RV_WAIT: Duration = Duration::from_secs(3);

pub async fn list(ctx: &Ctx) -> Result<Response, ApiError> {
    let want = want(ctx)?;
    let q = &ctx.query;
    let rv = q.get("resourceVersion").filter(|s| !s.is_empty());
    let rv_match = q.get("resourceVersionMatch").filter(|s| !s.is_empty());
    let cont = q.get("continue").filter(|s| !s.is_empty());
    if q.get("sendInitialEvents").is_some() {
        return Err(list_options_invalid(vec![Cause::forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
        )]));
    }
    match rv_match {
        None | Some("NotOlderThan") | Some("Exact") => {}
        Some(other) => {
            return Err(list_options_invalid(vec![Cause::new(
                "FieldValueNotSupported",
                "resourceVersionMatch",
                format!(
                    "Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\", \"\""
                ),
            )]));
        }
    }
    if rv_match.is_some() && cont.is_some() {
        return Err(list_options_invalid(vec![Cause::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden when continue is provided",
        )]));
    }
    if rv_match.is_some() && rv.is_none() {
        return Err(list_options_invalid(vec![Cause::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        )]));
    }
    if rv_match == Some("Exact") && rv == Some("0") {
        return Err(list_options_invalid(vec![Cause::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        )]));
    }
    let rv_num = rv.map(parse_rv).transpose()?;
    let limit: usize = match q.get("limit").filter(|s| !s.is_empty()) {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?
            .max(0) as usize,
        None => 0,
    };
    if let Some(n) = rv_num.filter(|n| *n > 0) {
        wait_for_rv(ctx, n).await?;
    }
    let force410 = ctx.shared.knobs.lock().force_410_on_resume;
    let st = ctx.shared.state.lock();
    let filter = Filter::from_query(&st, &ctx.t, &ctx.path.namespace, q)?;
    let key = ctx.t.store_key();
    let current = st.store.rv();
    // Pick the snapshot: a continue token's RV, an exact RV, or the latest state.
    let (snap_rv, start): (u64, Option<(String, String)>) = if let Some(tok) = cont {
        let (rv, ns, name) = decode_continue(tok)?;
        (rv, Some((ns, name)))
    } else if let Some(n) = rv_num
        .filter(|n| *n > 0 && (rv_match == Some("Exact") || (rv_match.is_none() && limit > 0)))
    {
        (n, None)
    } else {
        (current, None)
    };
    let forced = force410 && cont.is_some();
    let owned: Objects;
    let empty = Objects::new();
    let objs: &Objects = if snap_rv == current && !forced {
        st.store.objects_ref(&key).unwrap_or(&empty)
    } else {
        match (forced, st.store.snapshot(&key, snap_rv)) {
            (false, Some(o)) => {
                owned = o;
                &owned
            }
            _ => {
                let e = if cont.is_some() {
                    ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    )
                } else {
                    ApiError::expired(format!(
                        "too old resource version: {snap_rv} ({})",
                        st.store.compacted_rv()
                    ))
                };
                return Err(e);
            }
        }
    };
    let after = match &start {
        Some(s) => {
            objs.range::<(String, String), _>((Bound::Excluded(s.clone()), Bound::Unbounded))
        }
        None => objs.range::<(String, String), _>(..),
    };
    let matching: Vec<&Arc<Value>> = after
        .map(|(_, v)| v)
        .filter(|v| filter.matches(v))
        .collect();
    let take = if limit > 0 {
        limit.min(matching.len())
    } else {
        matching.len()
    };
    let page = &matching[..take];
    let mut meta = serde_json::Map::new();
    meta.insert("resourceVersion".into(), json!(snap_rv.to_string()));
    if take < matching.len() {
        let last = page
            .last()
            .map(|o| {
                (
                    crate::meta::str_at(o, "/metadata/namespace").to_string(),
                    crate::meta::str_at(o, "/metadata/name").to_string(),
                )
            })
            .unwrap_or_default();
        meta.insert(
            "continue".into(),
            json!(encode_continue(snap_rv, &last.0, &last.1)),
        );
        if filter.is_unfiltered() {
            meta.insert("remainingItemCount".into(), json!(matching.len() - take));
        }
    }
    let body = match want {
        Want::Meta => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "items": page.iter().map(|o| partial_metadata(o)).collect::<Vec<_>>(),
        }),
        Want::Table => crate::table::table(
            &ctx.t,
            TABLE_VERSION,
            &page.iter().map(|o| present(&ctx.t, o)).collect::<Vec<_>>(),
            Value::Object(meta),
            include_object(ctx)?,
            jiff::Timestamp::now(),
        ),
        Want::Full => json!({
            "kind": ctx.t.list_kind,
            "apiVersion": ctx.t.api_version(),
            "metadata": meta,
            "items": page.iter().map(|o| present(&ctx.t, o)).collect::<Vec<_>>(),
        }),
    };
    Ok(json_response(200, &body))
}

/// docs/kubernetes-api.md §2.1: a read at an RV the store has not reached waits briefly, then 504.
pub async fn wait_for_rv(ctx: &Ctx, rv: u64) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + FUTURE_RV_WAIT;
    loop {
        let cur = ctx.shared.state.lock().store.rv();
        if cur >= rv {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::new(504, "Timeout", format!("Too large resource version: {rv}, current: {cur}"))
                .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
