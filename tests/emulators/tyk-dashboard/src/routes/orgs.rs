//! Admin API organisations (tyk-dashboard-api.md §2.6). Users only need an `org_id`, so an
//! org is kept as the JSON object the client sent, over the documented defaults.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::{BodyError, page, parse};
use crate::auth;
use crate::envelope::{Reply, msg};
use crate::model::{object_id, org_template};
use crate::state::AppState;

const NOT_FOUND: &str = "Could not retrieve org detail";

/// Parses an org body; `empty` is the route's own "body empty" wording.
fn org_body(body: &Bytes, empty: &str) -> Result<Map<String, Value>, Reply> {
    match parse::<Map<String, Value>>(body) {
        Ok(m) => Ok(m),
        Err(BodyError::Empty) => Err(Reply::err(500, empty)),
        Err(BodyError::Malformed) => Err(Reply::err(403, msg::MALFORMED)),
    }
}

/// `POST /admin/organisations` → "Org created", Meta = the id.
pub async fn create(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    let given = match org_body(&body, msg::BODY_EMPTY) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let id = object_id();
    let mut org = org_template(&id);
    org.extend(given);
    // The server owns the id whatever the body says.
    org.insert("id".into(), json!(id));
    st.store.lock().orgs.push(org);
    st.wrote();
    Reply::ok("Org created", json!(id))
}

/// `GET /admin/organisations?p=` → `{"organisations":[..],"pages":N}`.
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let s = st.settings();
    if let Err(r) = auth::admin(&headers, &s) {
        return r;
    }
    let all: Vec<Value> = st
        .store
        .lock()
        .orgs
        .iter()
        .cloned()
        .map(Value::Object)
        .collect();
    let (orgs, pages) = page(all, &q, s.page_size);
    Reply::json(&json!({"organisations": orgs, "pages": pages}))
}

/// `GET /admin/organisations/{id}`: the bare org.
pub async fn get(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    let store = st.store.lock();
    match store.org_index(&id) {
        Some(i) => Reply::json(&Value::Object(store.orgs[i].clone())),
        None => Reply::err(404, NOT_FOUND),
    }
}

/// `PUT /admin/organisations/{id}`: "replace the existing Organisation details".
pub async fn update(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    // ADMIN-SW spells this one "request body" (sic, unlike the others).
    let given = match org_body(&body, "Failed to read request body, body empty") {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut store = st.store.lock();
    let Some(i) = store.org_index(&id) else {
        return Reply::err(404, NOT_FOUND);
    };
    let mut org = org_template(&id);
    org.extend(given);
    org.insert("id".into(), json!(id));
    store.orgs[i] = org;
    drop(store);
    st.wrote();
    Reply::ok("Org updated", Value::Null)
}

/// `DELETE /admin/organisations/{id}`. The org's users are kept (§13.13 [?]).
pub async fn delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    let mut store = st.store.lock();
    let Some(i) = store.org_index(&id) else {
        return Reply::err(404, NOT_FOUND);
    };
    store.orgs.remove(i);
    drop(store);
    st.wrote();
    Reply::ok("Org deleted", Value::Null)
}
