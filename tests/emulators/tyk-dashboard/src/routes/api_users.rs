//! Dashboard API users: list, create, get, update, delete (docs/tyk-dashboard-api.md §3.1–§3.5).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use bytes::Bytes;
use http::{HeaderMap, Uri};
use serde_json::{Value, json};

use super::{BodyError, UserInput, page};
use crate::auth::{self, Caller, Need};
use crate::envelope::{Reply, msg};
use crate::model::{Permissions, Render, User};
use crate::passwords;
use crate::settings::Settings;
use crate::state::{AppState, Store};

pub const EMAIL_TAKEN: &str = "User email already exists for this org.";
const NOT_EXIST: &str = "user does not exist.";
const VALIDATION: &str = "User object validation failed.";

/// A user as a Dashboard API read shows it to `caller` (docs/tyk-dashboard-api.md §3.3, §10.8).
pub fn view(u: &User, caller: &Caller, s: &Settings) -> Value {
    u.to_json(Render {
        pw_history: false,
        blank_password: s.profile.is_legacy(),
        blank_key: s.forbid_admin_view_access_token && u.id != caller.id,
    })
}

/// Authenticates the key and applies the `users` section rule, in one step since every
/// route here starts with both.
pub fn caller(
    st: &AppState,
    headers: &HeaderMap,
    need: Option<Need>,
    path: &str,
) -> Result<(Caller, Settings), Reply> {
    let s = st.settings();
    let c = auth::api_caller(headers, &st.store.lock(), &s)?;
    if let Some(need) = need {
        auth::rbac(&c, "users", need, path)?;
    }
    Ok((c, s))
}

/// The users `caller` may see, in creation order.
pub fn visible<'a>(store: &'a Store, c: &'a Caller) -> impl Iterator<Item = &'a User> + 'a {
    store.users.iter().filter(|u| c.sees_org(&u.org_id))
}

/// `ResetPassword` can only be granted through the Admin API (docs/tyk-dashboard-api.md §3.4, §6):
/// incoming values are dropped and the stored one kept.
fn keep_reset_password(mut incoming: Permissions, stored: &Permissions) -> Permissions {
    incoming.remove("ResetPassword");
    if let Some(v) = stored.get("ResetPassword") {
        incoming.insert("ResetPassword".into(), v.clone());
    }
    incoming
}

/// `GET /api/users?p=` → `{"pages":N,"users":[..]}` (docs/tyk-dashboard-api.md §3.1).
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Some(Need::Read), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let store = st.store.lock();
    let all: Vec<Value> = visible(&store, &c).map(|u| view(u, &c, &s)).collect();
    let (users, pages) = page(all, &q, s.page_size);
    Reply::json(&json!({"pages": pages, "users": users}))
}

/// `POST /api/users` (docs/tyk-dashboard-api.md §3.2). The org is the caller's; a super user may
/// choose it.
pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Some(Need::Write), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // [I] the usual Dashboard handler order: read body, unmarshal, validate.
    let input = match UserInput::parse(&body) {
        Ok(i) => i,
        Err(BodyError::Empty) => {
            return Reply::err(500, "Failed to read response body, body empty.");
        }
        Err(BodyError::Malformed) => return Reply::err(403, msg::MALFORMED_DOT),
    };
    let required = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if !(required(&input.first_name)
        && required(&input.last_name)
        && required(&input.email_address))
    {
        return Reply::err(400, VALIDATION);
    }
    let Some(perms) = input.user_permissions else {
        return Reply::err(400, VALIDATION);
    };
    let email = input.email_address.unwrap_or_default();
    if perms.is_empty() || !email.contains('@') {
        return Reply::err(403, msg::ONE_PERMISSION);
    }
    let org = if c.org_id.is_empty() {
        input.org_id.unwrap_or_default()
    } else {
        c.org_id.clone()
    };
    let mut store = st.store.lock();
    if store.email_taken(&org, &email, None, s.unique_email_globally) {
        return Reply::err(403, EMAIL_TAKEN);
    }
    let mut u = User::new(org, &email);
    u.first_name = input.first_name.unwrap_or_default();
    u.last_name = input.last_name.unwrap_or_default();
    u.active = input.active.unwrap_or(false);
    u.group_id = input.group_id.unwrap_or_default();
    u.password_max_days = input.password_max_days.unwrap_or(0);
    u.user_permissions = keep_reset_password(perms, &Permissions::new());
    // docs/tyk-dashboard-api.md §7 (1): a password given here is hashed and stored, under the
    // policy.
    if let Some(pw) = input.password.filter(|p| !p.is_empty())
        && let Err(e) = passwords::set(&mut u, &pw, &s)
    {
        return Reply::err(e.status(), &e.message());
    }
    let reply = if s.profile.api_create_returns_id() {
        Reply::ok("User and session have been created", json!(u.id))
    } else {
        Reply::ok("User created", json!(""))
    };
    store.users.push(u);
    drop(store);
    st.wrote();
    reply
}

/// `GET /api/users/{id}`: bare user; anyone may read themselves (5.8 `is_me`,
/// docs/tyk-dashboard-api.md §3.3).
pub async fn get(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let s = st.settings();
    let store = st.store.lock();
    let c = match auth::api_caller(&headers, &store, &s) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if c.id != id
        && let Err(r) = auth::rbac(&c, "users", Need::Read, uri.path())
    {
        return r;
    }
    match store.user(&id) {
        None => Reply::err(404, msg::USER_DETAIL_DOT),
        Some(u) if !c.sees_org(&u.org_id) => Reply::err(500, msg::UNAUTHORISED_ACCESS),
        Some(u) => Reply::json(&view(u, &c, &s)),
    }
}

/// `PUT /api/users/{id}` (docs/tyk-dashboard-api.md §3.4): fields present are changed (merge, [?]);
/// `password` and `org_id` are ignored; not found and malformed are both 400 "user does not
/// exist.".
pub async fn update(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Some(Need::Write), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(input) = UserInput::parse(&body) else {
        return Reply::err(400, NOT_EXIST);
    };
    let mut store = st.store.lock();
    let Some(current) = store.user(&id) else {
        return Reply::err(400, NOT_EXIST);
    };
    if !c.sees_org(&current.org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    if input
        .user_permissions
        .as_ref()
        .is_some_and(|p| p.is_empty())
        || input
            .email_address
            .as_ref()
            .is_some_and(|e| !e.contains('@'))
    {
        return Reply::err(403, msg::ONE_PERMISSION);
    }
    let mut u = current.clone();
    if let Some(e) = input.email_address {
        // 5.1.0: an email may not collide with another user of the org
        // (docs/tyk-dashboard-api.md §3.4 [I] message).
        if store.email_taken(&u.org_id, &e, Some(&id), s.unique_email_globally) {
            return Reply::err(403, EMAIL_TAKEN);
        }
        u.email_address = e.to_lowercase();
    }
    if let Some(p) = input.user_permissions {
        u.user_permissions = keep_reset_password(p, &u.user_permissions);
    }
    macro_rules! take {
        ($($f:ident),*) => { $( if let Some(v) = input.$f { u.$f = v; } )* };
    }
    take!(first_name, last_name, active, group_id, password_max_days);
    if let Some(slot) = store.user_mut(&id) {
        *slot = u;
    }
    drop(store);
    st.wrote();
    Reply::ok("User updated", Value::Null)
}

/// `DELETE /api/users/{id}` (docs/tyk-dashboard-api.md §3.5).
pub async fn delete(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Reply {
    let (c, s) = match caller(&st, &headers, Some(Need::Write), uri.path()) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut store = st.store.lock();
    let Some(idx) = store.users.iter().position(|u| u.id == id) else {
        return Reply::err(404, msg::USER_DETAIL_DOT);
    };
    if !c.sees_org(&store.users[idx].org_id) {
        return Reply::err(500, msg::UNAUTHORISED_ACCESS);
    }
    store.users.remove(idx);
    drop(store);
    st.wrote();
    Reply::ok("User deleted", legacy_meta(&s))
}

/// `Meta` of the simple success answers: `null` now, `""` in older docs
/// (docs/tyk-dashboard-api.md §1.3).
pub fn legacy_meta(s: &Settings) -> Value {
    if s.profile.is_legacy() {
        json!("")
    } else {
        Value::Null
    }
}
