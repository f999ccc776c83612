//! The user operations the reconciler needs (docs/design.md §3), one method per Dashboard call.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Auth, Call, DashboardClient};
use super::error::{CallKind, DashboardError};
use super::secret::{AccessKey, Password};
use super::wire::{
    CreatedUser, Envelope, NewUser, User, created_user_from_envelope, decode_user, looks_like_key,
    normalize_id,
};

/// An id no Dashboard can hold (ObjectId timestamp 0), used to probe credentials cheaply.
const PROBE_ID: &str = "000000000000000000000000";

impl DashboardClient {
    /// Checks reachability and credentials: the admin secret, and the API key when one is
    /// configured. Looks up a user id that cannot exist; "not found" proves authentication.
    pub async fn probe(&self) -> Result<(), DashboardError> {
        if self.has_admin_secret() {
            let call = self.call(
                "probe admin api",
                Method::GET,
                "/admin/users/{id}",
                format!("/admin/users/{PROBE_ID}"),
                Auth::Admin,
            );
            accept_not_found(self.execute(call).await)?;
        }
        if let Some(key) = &self.inner.api_key {
            let call = self.call(
                "probe dashboard api",
                Method::GET,
                "/api/users/{id}",
                format!("/api/users/{PROBE_ID}"),
                Auth::Key(key.expose()),
            );
            accept_not_found(self.execute(call).await)?;
        }
        Ok(())
    }

    /// `POST /admin/users` (docs/tyk-dashboard-api.md §2.1). Returns the stored user and its access
    /// key.
    ///
    /// The pre-2019 answer (`"User created"`, `Meta:""`) names nothing; the user is then found
    /// by email, which needs the connection's API key or a key in `Message`.
    pub async fn create_user(&self, new: &NewUser) -> Result<CreatedUser, DashboardError> {
        const OP: &str = "create user";
        if new.email_address.trim().is_empty() {
            return Err(DashboardError::config(OP, "email address is empty"));
        }
        let mut call = self.call(
            OP,
            Method::POST,
            "/admin/users",
            "/admin/users".into(),
            Auth::Admin,
        );
        call.body = Some(to_body(new));
        let answer = self.execute(call).await?;
        let status = answer.status;
        let env = Envelope::from_slice(&answer.body)
            .ok_or_else(|| unexpected(OP, status, "answer is not a status envelope"))?;
        if let Some(created) = created_user_from_envelope(&env) {
            let created = created.map_err(|e| decode_error(OP, status, &e))?;
            if created.user.id.is_empty() {
                return Err(unexpected(OP, status, "created user has no id"));
            }
            return Ok(created);
        }
        // Older shapes: Message may be the key, Meta may be the id (docs/tyk-dashboard-api.md §1.3,
        // §10.3).
        let key = looks_like_key(&env.message).then(|| AccessKey::new(env.message.clone()));
        let user = match env.meta_id() {
            Some(id) => Some(self.get_user(&id).await?),
            None => {
                self.find_after_create(&new.email_address, &new.org_id, key.as_ref())
                    .await?
            }
        };
        let user = user.ok_or_else(|| {
            unexpected(OP, status, "the dashboard created the user without identifying it and it could not be found by email (configure an api key)")
        })?;
        let access_key = key.unwrap_or_else(|| user.access_key.clone());
        Ok(CreatedUser { user, access_key })
    }

    async fn find_after_create(
        &self,
        email: &str,
        org_id: &str,
        key: Option<&AccessKey>,
    ) -> Result<Option<User>, DashboardError> {
        let org = (!org_id.is_empty()).then_some(org_id);
        if self.inner.api_key.is_some() {
            return self.find_user_by_email(email, org).await;
        }
        match key {
            // The old bootstrap pattern: list with the new user's own key
            // (docs/tyk-dashboard-api.md §11.2).
            Some(k) => self.find_with_key(email, org, k.expose()).await,
            None => Ok(None),
        }
    }

    /// `GET /admin/users/{id}`: the bare user object (docs/tyk-dashboard-api.md §2.2).
    /// On an API-key-only connection: `GET /api/users/{id}` with the API key instead.
    pub async fn get_user(&self, id: &str) -> Result<User, DashboardError> {
        const OP: &str = "get user";
        if !self.has_admin_secret() {
            return self.api_get_user(id).await;
        }
        let id = checked_id(OP, id)?;
        let call = self.call(
            OP,
            Method::GET,
            "/admin/users/{id}",
            format!("/admin/users/{id}"),
            Auth::Admin,
        );
        let answer = self.execute(call).await?;
        let user = decode_user(&answer.body).map_err(|e| decode_error(OP, answer.status, &e))?;
        if user.id.is_empty() {
            return Err(unexpected(OP, answer.status, "user has no id"));
        }
        Ok(user)
    }

    /// `PUT /admin/users/{id}` with the whole object (docs/tyk-dashboard-api.md §2.3: a replace; it
    /// must carry `access_key`), optionally with a new `password`. Accepts both the old `"User
    /// updated"` answer and the 5.8+ key-and-user answer.
    pub async fn update_user(
        &self,
        user: &User,
        password: Option<&Password>,
    ) -> Result<(), DashboardError> {
        const OP: &str = "update user";
        let id = checked_id(OP, &user.id)?;
        let mut body = serde_json::to_value(user)
            .map_err(|_| DashboardError::config(OP, "user does not serialise"))?;
        if let (Some(pw), Value::Object(map)) = (password, &mut body) {
            map.insert("password".into(), Value::String(pw.expose().to_owned()));
        }
        let mut call = self.call(
            OP,
            Method::PUT,
            "/admin/users/{id}",
            format!("/admin/users/{id}"),
            Auth::Admin,
        );
        call.body = Some(body.to_string().into_bytes());
        call.secrets.push(user.access_key.expose());
        if let Some(pw) = password {
            call.kind = CallKind::SetsPassword;
            call.secrets.push(pw.expose());
        }
        self.execute(call).await.map(drop)
    }

    /// `POST /api/users/{id}/actions/reset` signed with the user's own key: the self-reset of
    /// Tyk's bootstrap (docs/tyk-dashboard-api.md §3.6). `current` is required once the user has a
    /// password.
    pub async fn reset_password_as_user(
        &self,
        id: &str,
        own_key: &AccessKey,
        new: &Password,
        current: Option<&Password>,
    ) -> Result<(), DashboardError> {
        self.reset_password("reset password", id, own_key.expose(), new, current)
            .await
    }

    /// `POST /api/users/{id}/actions/reset` signed with the connection's API key: needs
    /// `ResetPassword` or `allow_admin_reset_password` (docs/tyk-dashboard-api.md §3.6 (c)).
    pub async fn reset_password_as_admin(
        &self,
        id: &str,
        new: &Password,
        current: Option<&Password>,
    ) -> Result<(), DashboardError> {
        const OP: &str = "reset password as admin";
        let key = self.api_key(OP)?.clone();
        self.reset_password(OP, id, key.expose(), new, current)
            .await
    }

    async fn reset_password(
        &self,
        op: &'static str,
        id: &str,
        key: &str,
        new: &Password,
        current: Option<&Password>,
    ) -> Result<(), DashboardError> {
        let id = checked_id(op, id)?;
        let mut body = json!({ "new_password": new.expose() });
        if let Some(c) = current {
            body["current_password"] = Value::String(c.expose().to_owned());
        }
        let mut call = self.call(
            op,
            Method::POST,
            "/api/users/{id}/actions/reset",
            format!("/api/users/{id}/actions/reset"),
            Auth::Key(key),
        );
        call.body = Some(body.to_string().into_bytes());
        call.kind = CallKind::SetsPassword;
        call.secrets.extend([key, new.expose()]);
        if let Some(c) = current {
            call.secrets.push(c.expose());
        }
        self.execute(call).await.map(drop)
    }

    /// `PUT /api/users/{id}/actions/key/reset` signed with the given key (the user's own key is
    /// always allowed since 5.8, docs/tyk-dashboard-api.md §3.7). The answer has no key: GET the
    /// user to read the new one.
    pub async fn reset_access_key(&self, id: &str, key: &AccessKey) -> Result<(), DashboardError> {
        const OP: &str = "reset access key";
        let id = checked_id(OP, id)?;
        let mut call = self.call(
            OP,
            Method::PUT,
            "/api/users/{id}/actions/key/reset",
            format!("/api/users/{id}/actions/key/reset"),
            Auth::Key(key.expose()),
        );
        call.secrets.push(key.expose());
        self.execute(call).await.map(drop)
    }

    /// Resets the key with the user's own key, then reads the new key through the Admin API.
    pub async fn rotate_access_key(
        &self,
        id: &str,
        key: &AccessKey,
    ) -> Result<AccessKey, DashboardError> {
        self.reset_access_key(id, key).await?;
        let user = self.get_user(id).await?;
        if user.access_key.is_empty() {
            return Err(unexpected(
                "rotate access key",
                200,
                "the dashboard did not reveal the new access key",
            ));
        }
        Ok(user.access_key)
    }

    /// `DELETE /api/users/{id}` with the connection's API key (the Admin API cannot delete,
    /// docs/tyk-dashboard-api.md §2.5). A 404 is returned as `NotFound`; callers treat it as done
    /// (docs/tyk-dashboard-api.md §3.5).
    pub async fn delete_user(&self, id: &str) -> Result<(), DashboardError> {
        const OP: &str = "delete user";
        let key = self.api_key(OP)?.clone();
        let id = checked_id(OP, id)?;
        let call = self.call(
            OP,
            Method::DELETE,
            "/api/users/{id}",
            format!("/api/users/{id}"),
            Auth::Key(key.expose()),
        );
        self.execute(call).await.map(drop)
    }

    pub(super) fn call<'a>(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        path: String,
        auth: Auth<'a>,
    ) -> Call<'a> {
        // Reads answer bare objects (and search a bare list); every write answers an
        // envelope (docs/tyk-dashboard-api.md §2–§3).
        let envelope_answer = matches!(method, Method::PUT | Method::DELETE)
            || route == "/admin/users"
            || route.contains("/actions/");
        Call {
            op,
            method,
            route,
            path,
            auth,
            body: None,
            kind: CallKind::Plain,
            secrets: Vec::new(),
            envelope_answer,
        }
    }
}

fn accept_not_found(
    r: Result<super::client::Answer, DashboardError>,
) -> Result<(), DashboardError> {
    match r {
        Ok(_) | Err(DashboardError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Ids go into URL paths: only hex (and the 48-hex form, normalised,
/// docs/tyk-dashboard-api.md §1.4) is accepted.
pub(super) fn checked_id(op: &'static str, id: &str) -> Result<String, DashboardError> {
    let id = normalize_id(id);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DashboardError::config(op, "user id is empty or not an id"));
    }
    Ok(id)
}

fn to_body<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and maps cannot fail to serialise.
    serde_json::to_vec(value).unwrap_or_default()
}

fn unexpected(op: &'static str, status: u16, detail: &str) -> DashboardError {
    DashboardError::Unexpected {
        op,
        status,
        detail: detail.to_owned(),
    }
}

/// serde_json messages quote the offending value, which may be a key: keep only its position.
pub(crate) fn decode_error(op: &'static str, status: u16, e: &serde_json::Error) -> DashboardError {
    unexpected(
        op,
        status,
        &format!(
            "answer did not decode ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    )
}
