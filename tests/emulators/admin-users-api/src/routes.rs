//! The API under `/api`: the documented create and the inferred rest (README table), with
//! Starlette's routing answers — 307 between trailing-slash and bare paths, `404 {"detail":
//! "Not Found"}`, `405 {"detail": "Method Not Allowed"}` — and `HTTPBearer` authentication.

// Handlers answer with a Response either way (`Err` is the early answer); boxing it would buy
// nothing on a test server.
#![allow(clippy::result_large_err)]

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::model::{Role, User};
use crate::state::{AppState, RequestRecord};
use crate::validate;

pub const COLLECTION: &str = "/api/admin/users/";
pub const ITEM: &str = "/api/admin/users/{user_id}";
pub const PASSWORD: &str = "/api/admin/users/{user_id}/password";
const PREFIX: &str = "/api/admin/users/";

enum Target {
    Collection,
    Item(String),
    Password(String),
    /// Starlette's `redirect_slashes`: the same path with/without the trailing slash.
    Redirect(String, &'static str),
    Unknown,
}

fn target(path: &str) -> Target {
    if path == "/api/admin/users" {
        return Target::Redirect(COLLECTION.into(), COLLECTION);
    }
    if path == COLLECTION {
        return Target::Collection;
    }
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Target::Unknown;
    };
    let (rest, slash) = match rest.strip_suffix('/') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (parts.as_slice(), slash) {
        ([id], false) if !id.is_empty() => Target::Item(id.to_string()),
        ([id, "password"], false) if !id.is_empty() => Target::Password(id.to_string()),
        ([id], true) if !id.is_empty() => Target::Redirect(format!("{PREFIX}{id}"), ITEM),
        ([id, "password"], true) if !id.is_empty() => {
            Target::Redirect(format!("{PREFIX}{id}/password"), PASSWORD)
        }
        _ => Target::Unknown,
    }
}

fn detail(status: StatusCode, detail: impl Into<Value>) -> Response {
    (status, axum::Json(json!({ "detail": detail.into() }))).into_response()
}

fn unprocessable(errors: Vec<Value>) -> Response {
    detail(StatusCode::UNPROCESSABLE_ENTITY, Value::Array(errors))
}

fn not_allowed(allow: &str) -> Response {
    let mut r = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    if let Ok(v) = HeaderValue::from_str(allow) {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}

fn unauthorized(msg: &str) -> Response {
    let mut r = detail(StatusCode::UNAUTHORIZED, msg);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// `HTTPBearer` plus an admin check: 401 without or with a wrong token, 403 for a token
/// that is not an admin's.
fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized("Not authenticated"));
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(unauthorized("Not authenticated"));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized("Invalid authentication credentials"));
    }
    let s = st.settings.lock();
    if token == s.token {
        Ok(())
    } else if s.viewer_tokens.iter().any(|t| t == token) {
        Err(detail(StatusCode::FORBIDDEN, "Admin privileges required"))
    } else {
        Err(unauthorized("Invalid authentication credentials"))
    }
}

fn auth_kind(headers: &HeaderMap) -> &'static str {
    match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => "none",
        Some(v) if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") => "bearer",
        Some(_) => "other",
    }
}

/// Every `/api` request: faults, routing, the answer, and the log.
pub async fn api(State(st): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let t = target(&path);
    let route = match &t {
        Target::Collection => COLLECTION,
        Target::Item(_) => ITEM,
        Target::Password(_) => PASSWORD,
        Target::Redirect(_, r) => r,
        Target::Unknown => "unmatched",
    };
    let method = parts.method.as_str().to_string();
    let record = |outcome: String| {
        st.stats.lock().record(RequestRecord {
            method: method.clone(),
            path: path.clone(),
            route: route.to_string(),
            outcome,
            auth: auth_kind(&parts.headers).into(),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .into(),
        })
    };
    if let Some(f) = st.fault(&method, route) {
        if f.latency_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(f.latency_ms)).await;
        }
        if f.hang {
            record("hang".into());
            return std::future::pending().await;
        }
        if let Some(code) = f.status {
            record(code.to_string());
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let d = f
                .detail
                .clone()
                .unwrap_or_else(|| "Injected fault (emulator)".into());
            return detail(status, d);
        }
    }
    let resp = answer(
        &st,
        &parts.method,
        &parts.headers,
        parts.uri.query(),
        t,
        &body,
    );
    record(resp.status().as_u16().to_string());
    resp
}

fn answer(
    st: &AppState,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    t: Target,
    body: &Bytes,
) -> Response {
    let (delete, password) = {
        let s = st.settings.lock();
        (s.delete_route, s.password_route)
    };
    // Routing comes before authentication, as in Starlette.
    let allowed = |ok: bool, allow: &str| if ok { Ok(()) } else { Err(not_allowed(allow)) };
    let routed = match (&t, method) {
        (Target::Redirect(to, _), _) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            let q = query.map(|q| format!("?{q}")).unwrap_or_default();
            let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("http://{host}{to}{q}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        (Target::Unknown, _) => return detail(StatusCode::NOT_FOUND, "Not Found"),
        (Target::Collection, m) => allowed(*m == Method::GET || *m == Method::POST, "GET, POST"),
        (Target::Item(_), m) => {
            let ok = *m == Method::GET || *m == Method::PATCH || (delete && *m == Method::DELETE);
            allowed(
                ok,
                if delete {
                    "GET, PATCH, DELETE"
                } else {
                    "GET, PATCH"
                },
            )
        }
        (Target::Password(_), m) => allowed(password && *m == Method::PUT, "PUT"),
    };
    if let Err(r) = routed {
        return r;
    }
    if let Err(r) = authenticate(st, headers) {
        return r;
    }
    let result = match t {
        Target::Collection if *method == Method::POST => create(st, body),
        Target::Collection => list(st, query),
        Target::Item(id) => match *method {
            Method::GET => get(st, &id),
            Method::PATCH => update(st, &id, body),
            _ => delete_user(st, &id),
        },
        Target::Password(id) => set_password(st, &id, body),
        Target::Redirect(..) | Target::Unknown => unreachable_answer(),
    };
    result.unwrap_or_else(|r| r)
}

fn unreachable_answer() -> Result<Response, Response> {
    Err(detail(StatusCode::NOT_FOUND, "Not Found"))
}

fn json(status: StatusCode, v: Value) -> Result<Response, Response> {
    Ok((status, axum::Json(v)).into_response())
}

/// `POST /admin/users/` with `AdminUserCreate` (documented).
fn create(st: &AppState, body: &Bytes) -> Result<Response, Response> {
    let b = validate::json_object(body).map_err(unprocessable)?;
    let mut errors = vec![];
    let username = validate::string(&b, "username", true, 3, Some(150), &mut errors);
    let password = validate::string(&b, "password", true, 8, None, &mut errors);
    let email = validate::email(&b, "email", &mut errors);
    let role = validate::role(&b, &mut errors).unwrap_or(Role::Viewer);
    let (Some(username), Some(password)) = (username, password) else {
        return Err(unprocessable(errors));
    };
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    let mut users = st.users.lock();
    if users.iter().any(|u| u.username == username) {
        return Err(detail(StatusCode::CONFLICT, "Username already exists"));
    }
    let u = User::new(username, email, role, &password);
    let resp = u.response();
    users.push(u);
    json(StatusCode::CREATED, resp)
}

/// `GET /admin/users/?username=&skip=&limit=` (inferred): a plain array, FastAPI style.
fn list(st: &AppState, query: Option<&str>) -> Result<Response, Response> {
    let params = query.map(url_pairs).unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut errors = vec![];
    let (max, ignore_filter, ignore_skip) = {
        let s = st.settings.lock();
        (s.max_limit, s.ignore_username_filter, s.ignore_skip)
    };
    let skip = validate::query_int(get("skip"), "skip", 0, 0, None, &mut errors);
    let limit = validate::query_int(
        get("limit"),
        "limit",
        max.min(100),
        1,
        Some(max),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    let users = st.users.lock();
    let page: Vec<Value> = users
        .iter()
        .filter(|u| ignore_filter || get("username").is_none_or(|n| u.username == n))
        .skip(if ignore_skip { 0 } else { skip as usize })
        .take(limit as usize)
        .map(User::response)
        .collect();
    json(StatusCode::OK, Value::Array(page))
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn find<'a>(users: &'a mut [User], raw_id: &str) -> Result<&'a mut User, Response> {
    let id = validate::uuid(raw_id).map_err(unprocessable)?;
    users
        .iter_mut()
        .find(|u| u.id == id)
        .ok_or_else(|| detail(StatusCode::NOT_FOUND, "User not found"))
}

fn get(st: &AppState, id: &str) -> Result<Response, Response> {
    let mut users = st.users.lock();
    let u = find(&mut users, id)?;
    json(StatusCode::OK, u.response())
}

/// `PATCH /admin/users/{user_id}` with `AdminUserUpdate {email, role, is_active}`, all
/// optional (inferred). Unknown fields are ignored, as pydantic does by default.
fn update(st: &AppState, id: &str, body: &Bytes) -> Result<Response, Response> {
    let mut users = st.users.lock();
    // Path before body: FastAPI reports both, but a bad id makes the body moot here.
    find(&mut users, id)?;
    let b = validate::json_object(body).map_err(unprocessable)?;
    let mut errors = vec![];
    let email = validate::email(&b, "email", &mut errors);
    let role = validate::role(&b, &mut errors);
    let active = validate::boolean(&b, "is_active", &mut errors);
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    let u = find(&mut users, id)?;
    if let Some(e) = email {
        u.email = Some(e);
    }
    if let Some(r) = role {
        u.role = r;
    }
    if let Some(a) = active {
        u.is_active = a;
    }
    json(StatusCode::OK, u.response())
}

/// `PUT /admin/users/{user_id}/password` with `{"password": "..."}` → 204 (inferred).
fn set_password(st: &AppState, id: &str, body: &Bytes) -> Result<Response, Response> {
    let mut users = st.users.lock();
    find(&mut users, id)?;
    let b = validate::json_object(body).map_err(unprocessable)?;
    let mut errors = vec![];
    let Some(pw) = validate::string(&b, "password", true, 8, None, &mut errors) else {
        return Err(unprocessable(errors));
    };
    find(&mut users, id)?.set_password(&pw);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /admin/users/{user_id}` → 204 (inferred).
fn delete_user(st: &AppState, id: &str) -> Result<Response, Response> {
    let mut users = st.users.lock();
    let uid = find(&mut users, id)?.id;
    users.retain(|u| u.id != uid);
    Ok(StatusCode::NO_CONTENT.into_response())
}
