//! The Dashboard's /admin and /api routes, and helpers they share.

mod admin_users;
mod api_user_actions;
mod api_users;
mod groups;
mod orgs;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post, put};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::{Permissions, is_object_id};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        // §2: Admin API users. A trailing slash is accepted on collections (§1.1).
        .route("/admin/users", post(admin_users::create))
        .route("/admin/users/", post(admin_users::create))
        .route(
            "/admin/users/{id}",
            get(admin_users::get).put(admin_users::update),
        )
        .route(
            "/admin/users/{id}/actions/allow_reset_passwords",
            put(admin_users::allow_reset),
        )
        .route(
            "/admin/users/{id}/actions/disallow_reset_passwords",
            put(admin_users::disallow_reset),
        )
        // §2.6: organisations.
        .route("/admin/organisations", get(orgs::list).post(orgs::create))
        .route("/admin/organisations/", get(orgs::list).post(orgs::create))
        .route(
            "/admin/organisations/{id}",
            get(orgs::get).put(orgs::update).delete(orgs::delete),
        )
        // §3: Dashboard API users.
        .route("/api/users", get(api_users::list).post(api_users::create))
        .route("/api/users/", get(api_users::list).post(api_users::create))
        .route(
            "/api/users/search",
            get(api_user_actions::search_get).post(api_user_actions::search_post),
        )
        .route(
            "/api/users/{id}",
            get(api_users::get)
                .put(api_users::update)
                .delete(api_users::delete),
        )
        .route(
            "/api/users/{id}/actions/reset",
            post(api_user_actions::reset_password),
        )
        .route(
            "/api/users/{id}/actions/key/reset",
            put(api_user_actions::reset_key),
        )
        .route(
            "/api/users/{id}/actions/revoke",
            put(api_user_actions::revoke),
        )
        // §4: user groups.
        .route("/api/usergroups", get(groups::list).post(groups::create))
        .route("/api/usergroups/", get(groups::list).post(groups::create))
        .route(
            "/api/usergroups/{id}",
            get(groups::get).put(groups::update).delete(groups::delete),
        )
}

/// Why a request body could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// No bytes (or only whitespace): the Dashboard's "body empty" 500 (§10.5).
    Empty,
    /// Not JSON, or a field of the wrong type: "Request body malformed" (§10.5).
    Malformed,
}

/// Parses the body as JSON whatever the Content-Type says (§1.1).
pub fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Empty);
    }
    serde_json::from_slice(body).map_err(|_| BodyError::Malformed)
}

/// The writable fields of a user, as the Dashboard unmarshals them. Unknown fields are
/// ignored (Go's encoding/json); a wrong type is a malformed body.
#[derive(Debug, Default, Deserialize)]
pub struct UserInput {
    pub id: Option<String>,
    pub org_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub active: Option<bool>,
    pub user_permissions: Option<Permissions>,
    pub group_id: Option<String>,
    pub access_key: Option<String>,
    pub password: Option<String>,
    pub password_max_days: Option<i64>,
}

impl UserInput {
    /// §1.4: an `id` that is not 24 hex, `""` or `null` fails to unmarshal.
    pub fn parse(body: &Bytes) -> Result<UserInput, BodyError> {
        let u: UserInput = parse(body)?;
        match u.id.as_deref() {
            None | Some("") => Ok(u),
            Some(id) if is_object_id(id) => Ok(u),
            Some(_) => Err(BodyError::Malformed),
        }
    }
}

/// `?p=`: negative returns everything (§3.1). Pages are 1-based; a missing, unparsable or
/// zero `p` means the first page (§13.7 [?], documented in the README).
pub fn page<T>(items: Vec<T>, query: &HashMap<String, String>, size: usize) -> (Vec<T>, usize) {
    let size = size.max(1);
    let pages = items.len().div_ceil(size).max(1);
    let p: i64 = query
        .get("p")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1);
    if p < 0 {
        return (items, pages);
    }
    let start = (p.max(1) as usize - 1).saturating_mul(size);
    (items.into_iter().skip(start).take(size).collect(), pages)
}
