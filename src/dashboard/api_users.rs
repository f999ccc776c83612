//! Users through the Dashboard API alone (docs/tyk-dashboard-api.md §3), signed with the
//! connection's API key: what an API-key-only connection (no `admin_secret`) has.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Auth, DashboardClient};
use super::error::{CallKind, DashboardError};
use super::secret::Password;
use super::users::{checked_id, decode_error};
use super::wire::{Envelope, NewUser, User, decode_user};

/// How long a failed key-owner lookup is answered from memory before it is tried again.
pub const KEY_OWNER_RETRY: Duration = Duration::from_secs(30);

impl DashboardClient {
    /// The user the API key belongs to, looked up once per client: `GET /api/users?p=-1`
    /// and the entry whose key is ours (a user always sees its own key,
    /// docs/tyk-dashboard-api.md §3.3 / 5.8.0). A failure is answered again for
    /// [`KEY_OWNER_RETRY`]: every user of the connection asks on each backoff round, and each
    /// lookup lists all users.
    pub async fn key_owner(&self) -> Result<User, DashboardError> {
        // Held across the lookup: callers waiting behind a failed lookup get the cached
        // failure, not a list each.
        let mut owner = self.inner.key_owner.lock().await;
        if let Some(o) = &*owner {
            return Ok(o.clone());
        }
        if let Some((at, e)) = &*self.key_owner_failure()
            && at.elapsed() < KEY_OWNER_RETRY
        {
            return Err(e.replay());
        }
        let found = self.find_key_owner().await;
        self.remember_key_owner(&mut owner, &found);
        found
    }

    /// The same lookup, made afresh (one request), and its answer replaces what
    /// [`Self::key_owner`] remembers: the connection probe calls this every time, so a
    /// promoted, demoted or replaced key's user reaches the user reconciles too.
    pub async fn refresh_key_owner(&self) -> Result<User, DashboardError> {
        let mut owner = self.inner.key_owner.lock().await;
        let found = self.find_key_owner().await;
        self.remember_key_owner(&mut owner, &found);
        found
    }

    fn remember_key_owner(&self, owner: &mut Option<User>, found: &Result<User, DashboardError>) {
        let mut failure = self.key_owner_failure();
        match found {
            Ok(u) => {
                *owner = Some(u.clone());
                *failure = None;
            }
            Err(e) => {
                *owner = None;
                *failure = Some((Instant::now(), e.replay()));
            }
        }
    }

    fn key_owner_failure(&self) -> std::sync::MutexGuard<'_, Option<(Instant, DashboardError)>> {
        self.inner
            .key_owner_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The lookup itself, uncached and unremembered.
    pub async fn find_key_owner(&self) -> Result<User, DashboardError> {
        const OP: &str = "identify the api key's user";
        let key = self.api_key(OP)?.clone();
        let users = self.list_users().await?;
        users
            .into_iter()
            .find(|u| !u.access_key.is_empty() && u.access_key.expose() == key.expose())
            .ok_or_else(|| DashboardError::Forbidden {
                op: OP,
                status: 403,
                message:
                    "no user the api key can list holds this key: the key needs users read access"
                        .into(),
            })
    }

    /// `GET /api/users/{id}` with the API key: the bare user; `access_key` is `""` when
    /// `security.forbid_admin_view_access_token` hides other users' keys
    /// (docs/tyk-dashboard-api.md §3.3, §10.8).
    pub(crate) async fn api_get_user(&self, id: &str) -> Result<User, DashboardError> {
        const OP: &str = "get user (dashboard api)";
        let key = self.api_key(OP)?.clone();
        let id = checked_id(OP, id)?;
        let mut call = self.call(
            OP,
            Method::GET,
            "/api/users/{id}",
            format!("/api/users/{id}"),
            Auth::Key(key.expose()),
        );
        call.secrets.push(key.expose());
        let answer = self.execute(call).await?;
        let user = decode_user(&answer.body).map_err(|e| decode_error(OP, answer.status, &e))?;
        if user.id.is_empty() {
            return Err(DashboardError::Unexpected {
                op: OP,
                status: answer.status,
                detail: "user has no id".into(),
            });
        }
        Ok(user)
    }

    /// `POST /api/users` (docs/tyk-dashboard-api.md §3.2): the key's org applies, `ResetPassword`
    /// is dropped, and a `password` is hashed and stored (so a new user gets its first password
    /// here). The answer names the id in `Meta` (3.2.1+); older ones are found by email.
    pub async fn api_create_user(
        &self,
        new: &NewUser,
        password: Option<&Password>,
    ) -> Result<User, DashboardError> {
        const OP: &str = "create user (dashboard api)";
        let key = self.api_key(OP)?.clone();
        let mut body = serde_json::to_value(new)
            .map_err(|_| DashboardError::config(OP, "user does not serialise"))?;
        if let (Some(pw), Value::Object(map)) = (password, &mut body) {
            map.insert("password".into(), Value::String(pw.expose().to_owned()));
        }
        let mut call = self.call(
            OP,
            Method::POST,
            "/api/users",
            "/api/users".into(),
            Auth::Key(key.expose()),
        );
        call.body = Some(body.to_string().into_bytes());
        call.secrets.push(key.expose());
        if let Some(pw) = password {
            call.kind = CallKind::SetsPassword;
            call.secrets.push(pw.expose());
        }
        let answer = self.execute(call).await?;
        match Envelope::from_slice(&answer.body).and_then(|e| e.meta_id()) {
            Some(id) => self.api_get_user(&id).await,
            None => {
                let org = (!new.org_id.is_empty()).then_some(new.org_id.as_str());
                self.find_user_by_email(&new.email_address, org)
                    .await?
                    .ok_or_else(|| DashboardError::Unexpected {
                        op: OP,
                        status: answer.status,
                        detail: "the dashboard created the user without naming it, and it could not be found by email".into(),
                    })
            }
        }
    }

    /// `PUT /api/users/{id}` with every field the Dashboard API takes
    /// (docs/tyk-dashboard-api.md §3.4): names, email, `active`, permissions, group,
    /// `password_max_days`. Not the org, the password or `ResetPassword`, which only the Admin API
    /// sets.
    pub async fn api_update_user(&self, user: &User) -> Result<(), DashboardError> {
        const OP: &str = "update user (dashboard api)";
        let key = self.api_key(OP)?.clone();
        let id = checked_id(OP, &user.id)?;
        let body = json!({
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email_address": user.email_address,
            "active": user.active,
            "user_permissions": user.user_permissions,
            "group_id": user.group_id,
            "password_max_days": user.password_max_days,
        });
        let mut call = self.call(
            OP,
            Method::PUT,
            "/api/users/{id}",
            format!("/api/users/{id}"),
            Auth::Key(key.expose()),
        );
        call.body = Some(body.to_string().into_bytes());
        call.secrets.push(key.expose());
        self.execute(call).await.map(drop)
    }
}
