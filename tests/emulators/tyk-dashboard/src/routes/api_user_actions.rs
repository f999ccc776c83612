//! Dashboard API user actions and search (docs/tyk-dashboard-api.md §3.6–§3.9).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use bytes::Bytes;
use http::{HeaderMap, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api_users::{caller, legacy_meta, view, visible};
use super::{page, parse};
use crate::auth::{self, Need};
use crate::envelope::{Reply, msg};
use crate::model::{PASSWORD_BODY, SEARCH_BODY, access_key};
use crate::passwords;
use crate::state::AppState;

const OTHERS_DENIED: &str = "You do not have permission to reset the password for other users.";
const OTHERS_DENIED_ADMIN: &str = "You do not have permission to reset the password for other users. As an admin user, this permission can be modified using OPA rules.";
/// docs/tyk-dashboard-api.md §13.4 [?]: the emulator's wording for a missing or wrong
/// `current_password`.
pub const CURRENT_REQUIRED: &str = "Current password is required.";
pub const CURRENT_WRONG: &str = "Current password is incorrect.";
const NO_FILTER: &str = "Could not extract search filter from request body.";

/// Schema `UserPassword`; bootstraps also send `user_permissions`, which is ignored
/// (docs/tyk-dashboard-api.md §3.6).
#[derive(Deserialize)]
struct PasswordBody {
    new_password: Option<String>,
    current_password: Option<String>,
}

/// `POST /api/users/{id}/actions/reset` (docs/tyk-dashboard-api.md §3.6).
pub async fn reset_password(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    // No section rule: OPA decides on self vs others below.
    let (c, s) = match caller(&st, &headers, None, "") {
        Ok(v) => v,
        Err(r) => return r,
    };
    // Only a body Go cannot decode is malformed; a missing `new_password` is "" and fails
    // the password policy like any short one.
    let Ok(PasswordBody {
        new_password,
        current_password,
    }) = parse::<PasswordBody>(&body, &PASSWORD_BODY)
    else {
        return Reply::err(403, msg::MALFORMED_DOT);
    };
    let new = new_password.unwrap_or_default();
    let is_self = id == c.id;
    if !is_self {
        if !c.is_admin() {
            return Reply::err(403, OTHERS_DENIED);
        }
        if !(s.allow_admin_reset_password || c.may_reset_passwords()) {
            return Reply::err(403, OTHERS_DENIED_ADMIN);
        }
    }
    let mut store = st.store.lock();
    let Some(target) = store.user(&id) else {
        // DASH-SW documents 200/401/403/500 only for this route: a user the caller may not
        // reach is its 500 ([I], README).
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    };
    // 5.6.0: only inside the admin's own org; a super user has none to be confined to.
    if !(is_self || c.org_id.is_empty() || c.org_id == target.org_id) {
        return Reply::err(403, OTHERS_DENIED_ADMIN);
    }
    // "To change a current password, you need to know the existing password"
    // (docs/tyk-dashboard-api.md §3.6).
    if let Some(hash) = &target.password
        && (is_self || s.admin_reset_requires_current_password)
    {
        match current_password.as_deref() {
            None | Some("") => return Reply::err(403, CURRENT_REQUIRED),
            Some(cp) if !hash.matches(cp) => return Reply::err(403, CURRENT_WRONG),
            Some(_) => {}
        }
    }
    let mut u = target.clone();
    if let Err(e) = passwords::set(&mut u, &new, &s) {
        return Reply::err(e.status(), &e.message());
    }
    if let Some(slot) = store.user_mut(&id) {
        *slot = u;
    }
    drop(store);
    st.wrote();
    Reply::ok("User password updated", legacy_meta(&s))
}

/// `PUT /api/users/{id}/actions/key/reset` (docs/tyk-dashboard-api.md §3.7): a new uuid4 key, not
/// returned.
pub async fn reset_key(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let (c, s) = match caller(&st, &headers, None, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // 5.8.0 `is_self_key_reset`: anyone may rotate their own key.
    let is_self = c.id == id;
    if !is_self && let Err(r) = auth::rbac(&c, "users", Need::Write, uri.path()) {
        return r;
    }
    let mut store = st.store.lock();
    let Some(u) = store.user_mut(&id) else {
        return Reply::err(404, msg::USER_DETAIL_DOT);
    };
    if !c.sees_org(&u.org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    if !is_self && s.forbid_admin_reset_access_token {
        // TYK-DEMO "Forbid Access Token Reset" asserts a 403 (docs/tyk-dashboard-api.md §3.7).
        return auth::denied(uri.path());
    }
    u.access_key = access_key();
    drop(store);
    st.wrote();
    Reply::ok("User session renewed", Value::Null)
}

/// `PUT /api/users/{id}/actions/revoke` (docs/tyk-dashboard-api.md §3.8): inactive; the key stays,
/// so re-activating restores access (docs/tyk-dashboard-api.md §13.10 [?]).
pub async fn revoke(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let (c, _s) = match caller(&st, &headers, Some(Need::Write), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut store = st.store.lock();
    let Some(u) = store.user_mut(&id) else {
        return Reply::err(400, msg::USER_DETAIL_DOT);
    };
    if !c.sees_org(&u.org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    u.active = false;
    drop(store);
    st.wrote();
    Reply::ok("User revoked", Value::Null)
}

#[derive(Deserialize)]
struct SearchBody {
    filters: Option<SearchFilters>,
}

#[derive(Deserialize)]
struct SearchFilters {
    query: Option<String>,
}

/// `POST /api/users/search?p=` with `{"filters":{"query":".."}}` (docs/tyk-dashboard-api.md §3.9).
pub async fn search_post(
    st: State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<HashMap<String, String>>,
    body: Bytes,
) -> Reply {
    // Only a body Go cannot decode has no filter to extract; a missing query is "", which
    // every email contains ([I], README).
    let query = parse::<SearchBody>(&body, &SEARCH_BODY)
        .map(|b| b.filters.and_then(|f| f.query).unwrap_or_default())
        .ok();
    search(st, headers, uri, q, query)
}

/// `GET /api/users/search?q=&p=`: deprecated since 5.3.1, same answer
/// (docs/tyk-dashboard-api.md §3.9).
pub async fn search_get(
    st: State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<HashMap<String, String>>,
) -> Reply {
    // Go's `Query().Get("q")` is "" when `q` is missing: DASH-SW documents no 400 here.
    let query = Some(q.get("q").cloned().unwrap_or_default());
    search(st, headers, uri, q, query)
}

/// Substring match on the email, case-insensitive since emails are stored lower-cased.
fn search(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
    query: Option<String>,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Some(Need::Read), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(needle) = query.map(|q| q.to_lowercase()) else {
        return Reply::err(400, NO_FILTER);
    };
    let store = st.store.lock();
    let found: Vec<Value> = visible(&store, &c)
        .filter(|u| u.email_address.contains(&needle))
        .map(|u| view(u, &c, &s))
        .collect();
    let (users, pages) = page(found, &q, s.page_size);
    Reply::json(&json!({"pages": pages, "users": users}))
}
