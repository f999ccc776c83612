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
use serde_json::Value;

use crate::gojson::{self, Ty};
use crate::model::{Permissions, USER_BODY};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        // docs/tyk-dashboard-api.md §2: Admin API users. A trailing slash is accepted on
        // collections (docs/tyk-dashboard-api.md §1.1).
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
        // docs/tyk-dashboard-api.md §2.6: organisations.
        .route("/admin/organisations", get(orgs::list).post(orgs::create))
        .route("/admin/organisations/", get(orgs::list).post(orgs::create))
        .route(
            "/admin/organisations/import",
            post(orgs::import)
                .get(orgs::get_import)
                .put(orgs::update_import)
                .delete(orgs::delete_import),
        )
        .route(
            "/admin/organisations/{id}",
            get(orgs::get).put(orgs::update).delete(orgs::delete),
        )
        // docs/tyk-dashboard-api.md §3: Dashboard API users.
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
        // docs/tyk-dashboard-api.md §4: user groups.
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
    /// No bytes at all: the Dashboard's "body empty" 500 (docs/tyk-dashboard-api.md §10.5).
    Empty,
    /// Not JSON (whitespace only included), or a member Go's `encoding/json` refuses for its
    /// field: "Request body malformed" (docs/tyk-dashboard-api.md §10.5).
    Malformed,
}

/// Parses the body as JSON whatever the Content-Type says (docs/tyk-dashboard-api.md §1.1).
/// Invalid UTF-8 inside strings becomes U+FFFD, as Go's decoder does.
pub fn parse_json(body: &Bytes) -> Result<Value, BodyError> {
    if body.is_empty() {
        return Err(BodyError::Empty);
    }
    serde_json::from_str(&String::from_utf8_lossy(body)).map_err(|_| BodyError::Malformed)
}

/// Decodes the body as the Dashboard's Go handler decodes it into `ty` (crate::gojson), then
/// into `T`, whose `Option` fields are the members the body set (a `null` member that Go
/// ignores counts as not set).
pub fn parse<T: DeserializeOwned>(body: &Bytes, ty: &Ty) -> Result<T, BodyError> {
    let present =
        gojson::decode_present(&parse_json(body)?, ty).map_err(|_| BodyError::Malformed)?;
    Ok(serde_json::from_value(Value::Object(present)).expect("a decoded body fits its type"))
}

/// The writable fields of a user, as the Dashboard unmarshals them (`USER_BODY`). Unknown
/// fields are ignored; a wrong type is a malformed body; a `null` map counts as not set.
/// No `Debug`: it carries a plaintext password.
#[derive(Default, Deserialize)]
pub struct UserInput {
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
    /// docs/tyk-dashboard-api.md §1.4: an `id` that is not 24 hex, `""` or `null` fails to
    /// unmarshal, like any member of the wrong type.
    pub fn parse(body: &Bytes) -> Result<UserInput, BodyError> {
        parse(body, &USER_BODY)
    }
}

/// `?p=`: negative returns everything (docs/tyk-dashboard-api.md §3.1). Pages are 1-based; a
/// missing, unparsable or zero `p` means the first page (docs/tyk-dashboard-api.md §13.7 [?],
/// documented in the README).
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
        assert_eq!(err(b""), Some(BodyError::Empty));
        // Go reads " \n" as a body, which then fails to unmarshal.
        assert_eq!(err(b" \n"), Some(BodyError::Malformed));
        assert_eq!(err(b"{"), Some(BodyError::Malformed));
        assert_eq!(err(br#"{"id":"123"}"#), Some(BodyError::Malformed));
        assert_eq!(err(br#"{"active":"yes"}"#), Some(BodyError::Malformed));
        assert_eq!(err(br#"{"Active":"yes"}"#), Some(BodyError::Malformed));
        assert_eq!(
            err(br#"{"password_max_days":1.0}"#),
            Some(BodyError::Malformed)
        );
        assert_eq!(
            err(br#"{"created_at":"today"}"#),
            Some(BodyError::Malformed)
        );
        let ok = Bytes::from_static(br#"{"id":"","org_id":null,"extra":1}"#);
        assert!(UserInput::parse(&ok).is_ok());
        // `null` body: Go's Unmarshal leaves the struct as it is.
        let u = UserInput::parse(&Bytes::from_static(b"null")).ok().unwrap();
        assert!(u.first_name.is_none());
        let u = UserInput::parse(&Bytes::from_static(br#"{"FIRST_NAME":"A","active":null}"#))
            .ok()
            .unwrap();
        assert_eq!((u.first_name.as_deref(), u.active), (Some("A"), None));
    }
}
