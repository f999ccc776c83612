//! The control API under `/__emulator/` (not part of the emulated API), with the Tyk
//! emulator's habits: state, request log, counters, faults, settings, check-password,
//! seeding and reset. Never subject to faults, never logged.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{Role, User};
use crate::state::{AppState, FaultRule, Settings, Stats};

/// A user's full state; no password material beyond "set" and a change counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub is_active: bool,
    pub status: String,
    /// Password changes after the create (the create's own password is not counted).
    pub password_changes: u64,
    pub created_at: String,
}

impl From<&User> for UserState {
    fn from(u: &User) -> Self {
        UserState {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            role: u.role,
            is_active: u.is_active,
            status: u.status().into(),
            password_changes: u.password_changes,
            created_at: u.created_at.clone(),
        }
    }
}

#[derive(Deserialize)]
struct CheckPassword {
    username: String,
    password: String,
}

/// `POST /__emulator/seed-user`: a user made behind the operator's back.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Seed {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "viewer")]
    pub role: Role,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default = "seed_password")]
    pub password: String,
}

fn viewer() -> Role {
    Role::Viewer
}
fn yes() -> bool {
    true
}
fn seed_password() -> String {
    "seeded-password".into()
}

impl crate::state::Inner {
    pub fn users_state(&self) -> Vec<UserState> {
        self.users.lock().iter().map(UserState::from).collect()
    }

    pub fn check_password(&self, username: &str, password: &str) -> bool {
        self.users
            .lock()
            .iter()
            .any(|u| u.username == username && u.password_matches(password))
    }

    pub fn seed(&self, s: Seed) -> Result<UserState, String> {
        let mut users = self.users.lock();
        if users.iter().any(|u| u.username == s.username) {
            return Err("Username already exists".into());
        }
        let mut u = User::new(s.username, s.email, s.role, &s.password);
        u.is_active = s.is_active;
        let state = UserState::from(&u);
        users.push(u);
        Ok(state)
    }

    pub fn reset(&self) {
        self.users.lock().clear();
        self.faults.lock().clear();
        *self.stats.lock() = Stats::default();
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/users", get(users))
        .route("/__emulator/seed-user", post(seed))
        .route("/__emulator/check-password", post(check_password))
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset-stats", post(reset_stats))
        .route("/__emulator/requests", get(requests))
        .route(
            "/__emulator/faults",
            get(get_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__emulator/settings", get(get_settings).post(set_settings))
        .route("/__emulator/reset", post(reset))
}

fn bad(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

async fn users(State(st): State<AppState>) -> Json<Vec<UserState>> {
    Json(st.users_state())
}

async fn seed(State(st): State<AppState>, b: Bytes) -> Response {
    match serde_json::from_slice::<Seed>(&b) {
        Ok(s) => match st.seed(s) {
            Ok(u) => Json(u).into_response(),
            Err(e) => bad(e),
        },
        Err(e) => bad(e),
    }
}

async fn check_password(State(st): State<AppState>, b: Bytes) -> Response {
    match serde_json::from_slice::<CheckPassword>(&b) {
        Ok(c) => {
            Json(json!({"match": st.check_password(&c.username, &c.password)})).into_response()
        }
        Err(e) => bad(e),
    }
}

async fn stats(State(st): State<AppState>) -> Json<Value> {
    let s = st.stats.lock();
    Json(json!({"requests": s.requests, "writes": s.writes}))
}

async fn reset_stats(State(st): State<AppState>) -> StatusCode {
    *st.stats.lock() = Stats::default();
    StatusCode::NO_CONTENT
}

async fn requests(State(st): State<AppState>) -> Json<Value> {
    Json(json!(st.stats.lock().log))
}

async fn get_faults(State(st): State<AppState>) -> Json<Vec<FaultRule>> {
    Json(st.faults.lock().clone())
}

/// Adds one rule (a JSON object) or several (an array); rules are checked in order.
async fn add_fault(State(st): State<AppState>, b: Bytes) -> Response {
    let rules: Vec<FaultRule> = match serde_json::from_slice::<Value>(&b) {
        Ok(Value::Array(_)) => match serde_json::from_slice(&b) {
            Ok(r) => r,
            Err(e) => return bad(e),
        },
        Ok(_) => match serde_json::from_slice(&b) {
            Ok(r) => vec![r],
            Err(e) => return bad(e),
        },
        Err(e) => return bad(e),
    };
    if let Some(r) = rules
        .iter()
        .find(|r| r.status.is_none() && !r.hang && r.latency_ms == 0)
    {
        return bad(format!("rule does nothing: {r:?}"));
    }
    st.faults.lock().extend(rules);
    Json(st.faults.lock().clone()).into_response()
}

async fn clear_faults(State(st): State<AppState>) -> StatusCode {
    st.faults.lock().clear();
    StatusCode::NO_CONTENT
}

async fn get_settings(State(st): State<AppState>) -> Json<Value> {
    let mut s = json!(*st.settings.lock());
    // The token is a credential: the control API never shows it.
    s["token"] = json!("<hidden>");
    s["viewer_tokens"] = json!(st.settings.lock().viewer_tokens.len());
    Json(s)
}

/// Merges a partial settings object (`{"delete_route": false}`) into the current ones.
async fn set_settings(State(st): State<AppState>, b: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&b) {
        Ok(Value::Object(m)) => Value::Object(m),
        Ok(_) => return bad("settings must be an object"),
        Err(e) => return bad(e),
    };
    let mut current = json!(*st.settings.lock());
    if let (Value::Object(cur), Value::Object(p)) = (&mut current, patch) {
        for (k, v) in p {
            if !cur.contains_key(&k) {
                return bad(format!("unknown setting {k}"));
            }
            cur.insert(k, v);
        }
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(s) => {
            *st.settings.lock() = s;
            get_settings(State(st)).await.into_response()
        }
        Err(e) => bad(e),
    }
}

async fn reset(State(st): State<AppState>) -> StatusCode {
    st.reset();
    StatusCode::NO_CONTENT
}
