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
/// No `Debug`: it carries a plaintext password.
#[derive(Default, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(p: &str) -> HashMap<String, String> {
        [("p".to_string(), p.to_string())].into_iter().collect()
    }

    #[test]
    fn pages_are_one_based_and_negative_means_all() {
        let items: Vec<u32> = (1..=5).collect();
        assert_eq!(page(items.clone(), &q("-1"), 2), (items.clone(), 3));
        assert_eq!(page(items.clone(), &q("1"), 2), (vec![1, 2], 3));
        assert_eq!(page(items.clone(), &q("3"), 2), (vec![5], 3));
        assert_eq!(page(items.clone(), &q("4"), 2), (vec![], 3));
        assert_eq!(page(items.clone(), &q("0"), 2), (vec![1, 2], 3));
        assert_eq!(page(items.clone(), &q("x"), 2), (vec![1, 2], 3));
        assert_eq!(page(items, &HashMap::new(), 2), (vec![1, 2], 3));
        assert_eq!(page(Vec::<u32>::new(), &q("-1"), 2), (vec![], 1));
    }

    #[test]
    fn body_parsing_tells_empty_from_malformed() {
        let err = |b: &'static [u8]| UserInput::parse(&Bytes::from_static(b)).err();
        assert_eq!(err(b" \n"), Some(BodyError::Empty));
        assert_eq!(err(b"{"), Some(BodyError::Malformed));
        assert_eq!(err(br#"{"id":"123"}"#), Some(BodyError::Malformed));
        assert_eq!(err(br#"{"active":"yes"}"#), Some(BodyError::Malformed));
        let ok = Bytes::from_static(br#"{"id":"","org_id":null,"extra":1}"#);
        assert!(UserInput::parse(&ok).is_ok());
    }
}
