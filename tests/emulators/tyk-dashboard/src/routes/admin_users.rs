//! Admin API users (docs/tyk-dashboard-api.md §2.1–§2.4), header `admin-auth`.

use axum::extract::{Path, State};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::json;

use super::{BodyError, UserInput};
use crate::auth;
use crate::envelope::{Reply, msg};
use crate::model::{Render, User};
use crate::passwords;
use crate::state::AppState;

const EMAIL_TAKEN: &str = "User email already exists for this Org";

fn body_error(e: BodyError) -> Reply {
    match e {
        BodyError::Empty => Reply::err(500, msg::BODY_EMPTY),
        // docs/tyk-dashboard-api.md §2.1 [I]: create answers malformed JSON like the PUT does.
        BodyError::Malformed => Reply::err(403, msg::MALFORMED),
    }
}

/// The full user, `PWHistory` included, as in the admin create / allow-reset answers.
fn full(u: &User) -> serde_json::Value {
    u.to_json(Render {
        pw_history: true,
        ..Render::default()
    })
}

/// `POST /admin/users`: Message = the new key, Meta = the user (docs/tyk-dashboard-api.md §2.1).
pub async fn create(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    let s = st.settings();
    if let Err(r) = auth::admin(&headers, &s) {
        return r;
    }
    let input = match UserInput::parse(&body) {
        Ok(i) => i,
        Err(e) => return body_error(e),
    };
    let org = input.org_id.unwrap_or_default();
    let email = input.email_address.unwrap_or_default();
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
    u.user_permissions = match input.user_permissions {
        Some(p) if !p.is_empty() => p,
        // docs/tyk-dashboard-api.md §2.1: omitted or empty permissions come back as admin +
        // ResetPassword.
        _ => [("IsAdmin", "admin"), ("ResetPassword", "admin")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    if s.admin_create_sets_password
        && let Some(pw) = input.password.filter(|p| !p.is_empty())
        && let Err(e) = passwords::set(&mut u, &pw, &s)
    {
        return Reply::err(e.status(), &e.message());
    }
    let reply = Reply::ok(&u.access_key, full(&u));
    store.users.push(u);
    drop(store);
    st.wrote();
    reply
}

/// `GET /admin/users/{id}`: the bare user (docs/tyk-dashboard-api.md §2.2). The key is blanked only
/// if both `forbid_admin_view_access_token` and `forbid_applies_to_admin_get` are on
/// (docs/tyk-dashboard-api.md §13.9 [?]).
pub async fn get(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let s = st.settings();
    if let Err(r) = auth::admin(&headers, &s) {
        return r;
    }
    let store = st.store.lock();
    match store.user(&id) {
        Some(u) => Reply::json(&u.to_json(Render {
            blank_password: s.profile.is_legacy(),
            blank_key: s.forbid_admin_view_access_token && s.forbid_applies_to_admin_get,
            ..Render::default()
        })),
        None => Reply::err(404, msg::USER_DETAIL),
    }
}

/// `PUT /admin/users/{id}` (docs/tyk-dashboard-api.md §2.3). Fields present in the body replace
/// stored ones; absent fields are kept (docs/tyk-dashboard-api.md §13.2 [?]; the 5.8 swagger
/// example keeps permissions the body omits). `access_key` must match the stored key (issue #2223).
pub async fn update(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let s = st.settings();
    if let Err(r) = auth::admin(&headers, &s) {
        return r;
    }
    let input = match UserInput::parse(&body) {
        Ok(i) => i,
        Err(e) => return body_error(e),
    };
    let mut store = st.store.lock();
    let Some(current) = store.user(&id) else {
        return Reply::err(404, "User not found");
    };
    if input.access_key.as_deref() != Some(current.access_key.as_str()) {
        return Reply::err(500, "Could not update API session when update user");
    }
    let org = input.org_id.clone().unwrap_or(current.org_id.clone());
    let email = input
        .email_address
        .as_deref()
        .map(str::to_lowercase)
        .unwrap_or(current.email_address.clone());
    if store.email_taken(&org, &email, Some(&id), s.unique_email_globally) {
        return Reply::err(403, EMAIL_TAKEN);
    }
    let mut u = current.clone();
    u.org_id = org;
    u.email_address = email;
    macro_rules! take {
        ($($f:ident),*) => { $( if let Some(v) = input.$f { u.$f = v; } )* };
    }
    take!(
        first_name,
        last_name,
        active,
        user_permissions,
        group_id,
        password_max_days
    );
    // docs/tyk-dashboard-api.md §2.3: a password in the body (with the access key) sets it, under
    // the same policy.
    if let Some(pw) = input.password.filter(|p| !p.is_empty())
        && let Err(e) = passwords::set(&mut u, &pw, &s)
    {
        return Reply::err(e.status(), &e.message());
    }
    let reply = if s.profile.admin_put_returns_user() {
        // The 5.8 swagger's PUT answer has no `PWHistory`, unlike create.
        Reply::ok(&u.access_key, u.to_json(Render::default()))
    } else {
        Reply::ok("User updated", json!(""))
    };
    if let Some(slot) = store.user_mut(&id) {
        *slot = u;
    }
    drop(store);
    st.wrote();
    reply
}

pub async fn allow_reset(st: State<AppState>, h: HeaderMap, id: Path<String>) -> Reply {
    set_reset_permission(st, h, id, true).await
}

pub async fn disallow_reset(st: State<AppState>, h: HeaderMap, id: Path<String>) -> Reply {
    set_reset_permission(st, h, id, false).await
}

/// `PUT .../actions/(dis)allow_reset_passwords`: add or remove `ResetPassword`
/// (docs/tyk-dashboard-api.md §2.4).
async fn set_reset_permission(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    allow: bool,
) -> Reply {
    let s = st.settings();
    if let Err(r) = auth::admin(&headers, &s) {
        return r;
    }
    let mut store = st.store.lock();
    let Some(u) = store.user_mut(&id) else {
        return Reply::err(404, msg::USER_DETAIL);
    };
    if allow {
        u.user_permissions
            .insert("ResetPassword".into(), "admin".into());
    } else {
        u.user_permissions.remove("ResetPassword");
    }
    let reply = Reply::ok("User updated", full(u));
    drop(store);
    st.wrote();
    reply
}
