//! User groups, basic CRUD (docs/tyk-dashboard-api.md §4). Section `user_groups`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use bytes::Bytes;
use http::{HeaderMap, Uri};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{BodyError, page, parse};
use crate::auth::{self, Caller, Need};
use crate::envelope::{Reply, msg};
use crate::model::{GROUP_BODY, Group, Permissions, object_id};
use crate::settings::Settings;
use crate::state::AppState;

const NOT_FOUND: &str = "Could not retrieve user group detail.";
const NO_GROUP: &str = "Group ID does not exist";
/// [I] docs/tyk-dashboard-api.md §4 says a PUT must carry at least one permission but not what
/// answers otherwise.
const NEED_PERMISSION: &str = "You need to specify at least one permission.";

#[derive(Deserialize)]
struct GroupInput {
    org_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    active: Option<bool>,
    password_max_days: Option<i64>,
    user_permissions: Option<Permissions>,
}

fn caller(
    st: &AppState,
    headers: &HeaderMap,
    need: Need,
    path: &str,
) -> Result<(Caller, Settings), Reply> {
    let s = st.settings();
    let c = auth::api_caller(headers, &st.store.lock(), &s)?;
    auth::rbac(&c, "user_groups", need, path)?;
    Ok((c, s))
}

/// `GET /api/usergroups?p=` → `{"groups":[..],"pages":N}`.
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Need::Read, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let all: Vec<Value> = st
        .store
        .lock()
        .groups
        .iter()
        .filter(|g| c.sees_org(&g.org_id))
        .map(Group::to_json)
        .collect();
    let (groups, pages) = page(all, &q, s.page_size);
    Reply::json(&json!({"groups": groups, "pages": pages}))
}

/// `POST /api/usergroups` → "User group created", Meta = the id.
pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Reply {
    let (c, _s) = match caller(&st, &headers, Need::Write, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let g = match parse::<GroupInput>(&body, &GROUP_BODY) {
        Ok(g) => g,
        Err(BodyError::Empty) => {
            return Reply::err(500, "Failed to read response body, body empty.");
        }
        Err(BodyError::Malformed) => return Reply::err(403, msg::MALFORMED_DOT),
    };
    let group = Group {
        id: object_id(),
        // The caller's org applies, as for users (docs/tyk-dashboard-api.md §3); a super user picks
        // one.
        org_id: if c.org_id.is_empty() {
            g.org_id.unwrap_or_default()
        } else {
            c.org_id.clone()
        },
        name: g.name.unwrap_or_default(),
        description: g.description.unwrap_or_default(),
        active: g.active.unwrap_or(false),
        password_max_days: g.password_max_days.unwrap_or(0),
        // Absent or `null`: Go's nil map, rendered `null`.
        user_permissions: g.user_permissions,
    };
    let id = group.id.clone();
    st.store.lock().groups.push(group);
    st.wrote();
    Reply::ok("User group created", json!(id))
}

/// `GET /api/usergroups/{id}`: the bare group.
pub async fn get(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let (c, _s) = match caller(&st, &headers, Need::Read, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match st.store.lock().group(&id) {
        None => Reply::err(404, NOT_FOUND),
        Some(g) if !c.sees_org(&g.org_id) => Reply::err(500, msg::UNAUTHORISED_ACCESS),
        Some(g) => Reply::json(&g.to_json()),
    }
}

/// `PUT /api/usergroups/{id}`: not found and malformed are both 400 "Group ID does not
/// exist"; `ResetPassword` cannot be changed here (docs/tyk-dashboard-api.md §4).
pub async fn update(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let (c, _s) = match caller(&st, &headers, Need::Write, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(input) = parse::<GroupInput>(&body, &GROUP_BODY) else {
        return Reply::err(400, NO_GROUP);
    };
    let mut store = st.store.lock();
    let Some(g) = store.groups.iter_mut().find(|g| g.id == id) else {
        return Reply::err(400, NO_GROUP);
    };
    if !c.sees_org(&g.org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    let Some(mut perms) = input.user_permissions.filter(|p| !p.is_empty()) else {
        return Reply::err(403, NEED_PERMISSION);
    };
    perms.remove("ResetPassword");
    if let Some(v) = g.permissions().get("ResetPassword") {
        perms.insert("ResetPassword".into(), v.clone());
    }
    g.user_permissions = Some(perms);
    if let Some(v) = input.name {
        g.name = v;
    }
    if let Some(v) = input.description {
        g.description = v;
    }
    if let Some(v) = input.active {
        g.active = v;
    }
    if let Some(v) = input.password_max_days {
        g.password_max_days = v;
    }
    drop(store);
    st.wrote();
    Reply::ok("User group updated", Value::Null)
}

/// `DELETE /api/usergroups/{id}`; members lose their `group_id` ([I]).
pub async fn delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let (c, _s) = match caller(&st, &headers, Need::Write, uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut store = st.store.lock();
    let Some(i) = store.groups.iter().position(|g| g.id == id) else {
        // DASH-SW's copy-pasted wording for a missing group (docs/tyk-dashboard-api.md §10.6).
        return Reply::err(404, msg::USER_DETAIL_DOT);
    };
    if !c.sees_org(&store.groups[i].org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    store.groups.remove(i);
    for u in store.users.iter_mut().filter(|u| u.group_id == id) {
        u.group_id.clear();
    }
    drop(store);
    st.wrote();
    Reply::ok("User group deleted", Value::Null)
}
