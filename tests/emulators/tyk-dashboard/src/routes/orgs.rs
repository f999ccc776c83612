//! Admin API organisations (docs/tyk-dashboard-api.md §2.6). An org is the swagger's
//! `OrganisationDocument`: bodies are decoded onto it as the Dashboard's Go handler does
//! (crate::gojson), so wrongly typed members are refused and unknown ones never stored.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::{BodyError, page, parse_json};
use crate::auth;
use crate::envelope::{Reply, msg};
use crate::gojson;
use crate::model::{ORG, object_id, org_json, org_template};
use crate::state::AppState;

const NOT_FOUND: &str = "Could not retrieve org detail";
/// ADMIN-SW's only documented failure of the PUT besides auth and the body: the store's update
/// of an org that is not there fails ([I], see README).
const UPDATE_FAILED: &str = "Failed to update Org object to DB";
/// ADMIN-SW's 403 for the import: saving fails, e.g. on an id already taken ([I]).
const SAVE_FAILED: &str = "Failed to save new Org object to DB";

/// Decodes an org body onto a new org with id `id`; `empty` is the route's own "body empty"
/// wording.
fn org_body(body: &Bytes, id: &str, empty: &str) -> Result<Map<String, Value>, Reply> {
    let input = match parse_json(body) {
        Ok(v) => v,
        Err(BodyError::Empty) => return Err(Reply::err(500, empty)),
        Err(BodyError::Malformed) => return Err(Reply::err(403, msg::MALFORMED)),
    };
    let mut org = Value::Object(org_template(id));
    gojson::decode_onto(&mut org, &input, &ORG).map_err(|_| Reply::err(403, msg::MALFORMED))?;
    match org {
        Value::Object(m) => Ok(m),
        _ => unreachable!("an org is an object"),
    }
}

/// `POST /admin/organisations` → "Org created", Meta = the id.
pub async fn create(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    let mut org = match org_body(&body, "", msg::BODY_EMPTY) {
        Ok(m) => m,
        Err(r) => return r,
    };
    // The server owns the id whatever the body says.
    let id = object_id();
    org.insert("id".into(), json!(id));
    st.store.lock().orgs.push(org);
    st.wrote();
    Reply::ok("Org created", json!(id))
}

/// `POST /admin/organisations/import` → "Org imported", Meta = the id (ADMIN-SW `importOrgs`):
/// the org keeps the id its body gives ("retaining their base IDs"), which tyk-demo's bootstrap
/// relies on; without one the server picks it ([I]). An id already taken cannot be saved:
/// 403 "Failed to save new Org object to DB" ([I]).
pub async fn import(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    if let Err(r) = auth::admin(&headers, &st.settings()) {
        return r;
    }
    let mut org = match org_body(&body, "", msg::BODY_EMPTY) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let id = match org.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => object_id(),
    };
    let mut store = st.store.lock();
    if store.org_index(&id).is_some() {
        return Reply::err(403, SAVE_FAILED);
    }
    org.insert("id".into(), json!(id));
    store.orgs.push(org);
    drop(store);
    st.wrote();
    Reply::ok("Org imported", json!(id))
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
    let all: Vec<Value> = st.store.lock().orgs.iter().map(org_json).collect();
    let (orgs, pages) = page(all, &q, s.page_size);
    Reply::json(&json!({"organisations": orgs, "pages": pages}))
}

/// `GET /admin/organisations/{id}`: the bare org.
pub async fn get(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    get_id(&st, &headers, &id)
}

fn get_id(st: &AppState, headers: &HeaderMap, id: &str) -> Reply {
    if let Err(r) = auth::admin(headers, &st.settings()) {
        return r;
    }
    let store = st.store.lock();
    match store.org_index(id) {
        Some(i) => Reply::json(&org_json(&store.orgs[i])),
        None => Reply::err(404, NOT_FOUND),
    }
}

// `GET`/`PUT`/`DELETE /admin/organisations/import`: Go's router hands the literal `import` to
// the `{id}` routes, and no org has that id.

pub async fn get_import(State(st): State<AppState>, headers: HeaderMap) -> Reply {
    get_id(&st, &headers, "import")
}

pub async fn update_import(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    update_id(&st, &headers, "import", &body)
}

pub async fn delete_import(State(st): State<AppState>, headers: HeaderMap) -> Reply {
    delete_id(&st, &headers, "import")
}

/// `PUT /admin/organisations/{id}`: "replace the existing Organisation details".
pub async fn update(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    update_id(&st, &headers, &id, &body)
}

fn update_id(st: &AppState, headers: &HeaderMap, id: &str, body: &Bytes) -> Reply {
    if let Err(r) = auth::admin(headers, &st.settings()) {
        return r;
    }
    // ADMIN-SW spells this one "request body" (sic, unlike the others).
    let org = match org_body(body, id, "Failed to read request body, body empty") {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut store = st.store.lock();
    let Some(i) = store.org_index(id) else {
        return Reply::err(403, UPDATE_FAILED);
    };
    let mut org = org;
    org.insert("id".into(), json!(id));
    store.orgs[i] = org;
    drop(store);
    st.wrote();
    Reply::ok("Org updated", Value::Null)
}

/// `DELETE /admin/organisations/{id}`. The org's users are kept
/// (docs/tyk-dashboard-api.md §13.13 [?]).
pub async fn delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    delete_id(&st, &headers, &id)
}

fn delete_id(st: &AppState, headers: &HeaderMap, id: &str) -> Reply {
    if let Err(r) = auth::admin(headers, &st.settings()) {
        return r;
    }
    let mut store = st.store.lock();
    let Some(i) = store.org_index(id) else {
        return Reply::err(404, NOT_FOUND);
    };
    store.orgs.remove(i);
    drop(store);
    st.wrote();
    Reply::ok("Org deleted", Value::Null)
}
