//! The control API under `/__emulator/` (not part of Tyk): state inspection, statistics,
//! faults and settings for tests and benches. Never subject to faults.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::Faults;
use crate::model::{Permissions, User};
use crate::settings::SettingsPatch;
use crate::state::{AppState, Shared};

/// A user's full state as the control API shows it; no password material.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    pub id: String,
    pub org_id: String,
    pub email_address: String,
    pub first_name: String,
    pub last_name: String,
    pub active: bool,
    pub user_permissions: Permissions,
    pub group_id: String,
    pub access_key: String,
    pub password_set: bool,
    /// Number of previous passwords remembered for the history check.
    pub password_history_len: usize,
    /// Passwords stored so far (each accepted set counts, the same password again too).
    #[serde(default)]
    pub password_sets: u64,
    pub password_max_days: i64,
    pub password_updated: String,
    pub last_login_date: String,
    pub created_at: String,
}

impl From<&User> for UserState {
    fn from(u: &User) -> Self {
        UserState {
            id: u.id.clone(),
            org_id: u.org_id.clone(),
            email_address: u.email_address.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            active: u.active,
            user_permissions: u.user_permissions.clone(),
            group_id: u.group_id.clone(),
            access_key: u.access_key.clone(),
            password_set: u.password.is_some(),
            password_history_len: u.pw_history.len(),
            password_sets: u.password_sets,
            password_max_days: u.password_max_days,
            password_updated: u.password_updated.clone(),
            last_login_date: u.last_login_date.clone(),
            created_at: u.created_at.clone(),
        }
    }
}

/// `GET /__emulator/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// `"<METHOD> <route pattern> <status>"` → count. Injected faults without an answer
    /// use `hang`, `reset` or `dropped` in place of the status.
    pub requests: BTreeMap<String, u64>,
    /// Successful mutating calls on /admin and /api.
    pub writes: u64,
    /// The most /admin and /api requests handled at once since the last stats reset.
    #[serde(default)]
    pub max_in_flight: u64,
    /// Mutating /admin and /api requests being served right now (a hung or dropped one
    /// counts until its connection ends): lets a test kill a client mid-write.
    #[serde(default)]
    pub in_flight_writes: u64,
}

#[derive(Deserialize)]
struct CheckPassword {
    email: String,
    #[serde(default)]
    org_id: String,
    password: String,
}

impl Shared {
    pub fn users_state(&self) -> Vec<UserState> {
        self.store
            .lock()
            .users
            .iter()
            .map(UserState::from)
            .collect()
    }

    /// Whether the user (org_id, lower(email)) exists and has exactly this password.
    pub fn check_password(&self, email: &str, org_id: &str, password: &str) -> bool {
        let email = email.to_lowercase();
        self.store.lock().users.iter().any(|u| {
            u.org_id == org_id
                && u.email_address == email
                && u.password.as_ref().is_some_and(|h| h.matches(password))
        })
    }

    pub fn stats_snapshot(&self) -> StatsSnapshot {
        let s = self.stats.lock();
        StatsSnapshot {
            requests: s.requests.clone(),
            writes: s.writes,
            max_in_flight: s.max_in_flight,
            in_flight_writes: self
                .in_flight_writes
                .load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    pub fn set_faults(&self, f: Faults) -> Result<(), String> {
        f.validate()?;
        *self.faults.lock() = f;
        Ok(())
    }

    pub fn patch_settings(&self, p: SettingsPatch) -> Result<(), String> {
        let mut s = self.settings.write();
        let mut next = s.clone();
        next.apply(p)?;
        *s = next;
        Ok(())
    }

    /// Adds an active-or-not user directly, as `POST /admin/users` would (empty permissions
    /// get the admin defaults), without counting a request or a write.
    pub fn seed_user(
        &self,
        org_id: &str,
        email: &str,
        permissions: &[(&str, &str)],
        active: bool,
    ) -> Result<UserState, String> {
        let global = self.settings().unique_email_globally;
        let mut store = self.store.lock();
        if store.email_taken(org_id, email, None, global) {
            return Err("User email already exists for this Org".into());
        }
        let mut u = User::new(org_id.to_string(), email);
        u.active = active;
        let perms: &[(&str, &str)] = if permissions.is_empty() {
            &[("IsAdmin", "admin"), ("ResetPassword", "admin")]
        } else {
            permissions
        };
        u.user_permissions = perms
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let state = UserState::from(&u);
        store.users.push(u);
        Ok(state)
    }

    /// Adds an organisation directly; returns its id.
    pub fn seed_org(&self, owner_name: &str) -> String {
        let id = crate::model::object_id();
        let mut org = crate::model::org_template(&id);
        org.insert("owner_name".into(), json!(owner_name));
        self.store.lock().orgs.push(org);
        id
    }

    /// Adds an active user group directly; returns its id.
    pub fn seed_group(&self, org_id: &str, name: &str, permissions: &[(&str, &str)]) -> String {
        let g = crate::model::Group {
            id: crate::model::object_id(),
            org_id: org_id.to_string(),
            name: name.to_string(),
            description: String::new(),
            active: true,
            password_max_days: 0,
            user_permissions: Some(
                permissions
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        };
        let id = g.id.clone();
        self.store.lock().groups.push(g);
        id
    }

    /// Forgets all users, orgs, groups, statistics and faults; settings stay.
    pub fn reset(&self) {
        *self.store.lock() = Default::default();
        self.stats.lock().reset();
        *self.faults.lock() = Faults::default();
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/users", get(users))
        .route("/__emulator/orgs", get(orgs))
        .route("/__emulator/groups", get(groups))
        .route("/__emulator/check-password", post(check_password))
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/reset-stats", post(reset_stats))
        .route("/__emulator/in-flight", get(in_flight))
        .route("/__emulator/requests", get(requests))
        .route(
            "/__emulator/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/__emulator/settings", get(get_settings).post(set_settings))
        .route("/__emulator/reset", post(reset))
}

fn bad(e: impl std::fmt::Display) -> Box<Response> {
    Box::new(bad_response(e))
}

fn bad_response(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

/// Parses a control body; an empty body counts as `{}`.
fn body<T: serde::de::DeserializeOwned>(b: &Bytes) -> Result<T, Box<Response>> {
    let b: &[u8] = if b.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        b
    };
    serde_json::from_slice(b).map_err(bad)
}

async fn users(State(st): State<AppState>) -> Json<Vec<UserState>> {
    Json(st.users_state())
}

async fn orgs(State(st): State<AppState>) -> Json<Value> {
    let orgs = st
        .store
        .lock()
        .orgs
        .iter()
        .map(crate::model::org_json)
        .collect();
    Json(Value::Array(orgs))
}

async fn groups(State(st): State<AppState>) -> Json<Value> {
    let gs = st.store.lock().groups.iter().map(|g| g.to_json()).collect();
    Json(Value::Array(gs))
}

async fn check_password(State(st): State<AppState>, b: Bytes) -> Response {
    match body::<CheckPassword>(&b) {
        Ok(c) => {
            let m = st.check_password(&c.email, &c.org_id, &c.password);
            Json(json!({"match": m})).into_response()
        }
        Err(r) => *r,
    }
}

async fn stats(State(st): State<AppState>) -> Json<Value> {
    Json(st.stats.lock().to_json())
}

async fn in_flight(State(st): State<AppState>) -> Json<Value> {
    let n = st
        .in_flight_writes
        .load(std::sync::atomic::Ordering::SeqCst);
    Json(serde_json::json!({ "writes": n }))
}

async fn reset_stats(State(st): State<AppState>) -> StatusCode {
    st.stats.lock().reset();
    StatusCode::NO_CONTENT
}

async fn requests(State(st): State<AppState>) -> Json<Value> {
    Json(json!(st.stats.lock().log))
}

async fn get_faults(State(st): State<AppState>) -> Json<Faults> {
    Json(st.faults.lock().clone())
}

async fn set_faults(State(st): State<AppState>, b: Bytes) -> Response {
    let f = match body::<Faults>(&b) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    match st.set_faults(f.clone()) {
        Ok(()) => Json(f).into_response(),
        Err(e) => bad_response(e),
    }
}

async fn clear_faults(State(st): State<AppState>) -> StatusCode {
    *st.faults.lock() = Faults::default();
    StatusCode::NO_CONTENT
}

async fn get_settings(State(st): State<AppState>) -> Json<Value> {
    Json(json!(st.settings()))
}

async fn set_settings(State(st): State<AppState>, b: Bytes) -> Response {
    let p = match body::<SettingsPatch>(&b) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match st.patch_settings(p) {
        Ok(()) => Json(json!(st.settings())).into_response(),
        Err(e) => bad_response(e),
    }
}

async fn reset(State(st): State<AppState>) -> StatusCode {
    st.reset();
    StatusCode::NO_CONTENT
}
