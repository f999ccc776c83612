//! The Dashboard side of a test: a Tyk emulator in process, or a real Dashboard named by
//! `E2E_DASHBOARD_*`. Checks go through the documented Admin/Dashboard APIs wherever they can,
//! so they hold on a real Dashboard too; emulator-only hooks (`/__emulator/*`) say so.

use anyhow::Context;
use serde_json::{Value, json};
use tyk_dashboard_emulator::{Settings, TykEmulator};

pub struct Dashboard {
    pub url: String,
    pub admin_secret: String,
    http: reqwest::Client,
    emulator: Option<TykEmulator>,
}

/// A compact summary of a user for failure messages: never the access key.
pub fn describe(u: &Value) -> String {
    format!(
        "id={} email={} org={} active={} group={} perms={} first={} last={}",
        u["id"],
        u["email_address"],
        u["org_id"],
        u["active"],
        u["group_id"],
        u["user_permissions"],
        u["first_name"],
        u["last_name"]
    )
}

impl Dashboard {
    pub async fn emulator(settings: Settings) -> anyhow::Result<Dashboard> {
        let admin_secret = settings.admin_secret.clone();
        let emu = TykEmulator::start(settings).await?;
        Ok(Dashboard {
            url: emu.url().trim_end_matches('/').to_string(),
            admin_secret,
            http: super::http_client(),
            emulator: Some(emu),
        })
    }

    pub fn real(url: String, admin_secret: String) -> Dashboard {
        Dashboard {
            url: url.trim_end_matches('/').to_string(),
            admin_secret,
            http: super::http_client(),
            emulator: None,
        }
    }

    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    pub async fn shutdown(&mut self) {
        if let Some(e) = self.emulator.take() {
            e.shutdown().await;
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn u(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    async fn envelope(resp: reqwest::Response, what: &str) -> anyhow::Result<Value> {
        let status = resp.status();
        let body: Value = resp.json().await.with_context(|| format!("{what}: body"))?;
        anyhow::ensure!(
            status.is_success(),
            "{what}: HTTP {status}: {}",
            body["Message"]
        );
        Ok(body)
    }

    // ---- Admin API (works on a real Dashboard) ----

    pub async fn create_org(&self, name: &str) -> anyhow::Result<String> {
        let body = json!({"owner_name": name, "owner_slug": name, "cname_enabled": false,
                          "hybrid_enabled": false, "event_options": {}});
        let r = self
            .http
            .post(self.u("/admin/organisations"))
            .header("admin-auth", &self.admin_secret)
            .json(&body)
            .send()
            .await?;
        let v = Self::envelope(r, "create org").await?;
        v["Meta"]
            .as_str()
            .map(str::to_string)
            .context("org id in Meta")
    }

    /// `POST /admin/users`; returns (id, access key). docs/tyk-dashboard-api.md §2.1.
    pub async fn admin_create_user(&self, user: &Value) -> anyhow::Result<(String, String)> {
        let r = self
            .http
            .post(self.u("/admin/users"))
            .header("admin-auth", &self.admin_secret)
            .json(user)
            .send()
            .await?;
        let v = Self::envelope(r, "admin create user").await?;
        let id = v["Meta"]["id"].as_str().context("Meta.id")?.to_string();
        let key = v["Message"].as_str().context("Message")?.to_string();
        Ok((id, key))
    }

    /// `GET /admin/users/{id}`; `None` on 404.
    pub async fn admin_get_user(&self, id: &str) -> anyhow::Result<Option<Value>> {
        let r = self
            .http
            .get(self.u(&format!("/admin/users/{id}")))
            .header("admin-auth", &self.admin_secret)
            .send()
            .await?;
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        anyhow::ensure!(
            r.status().is_success(),
            "admin get user: HTTP {}",
            r.status()
        );
        Ok(Some(r.json().await?))
    }

    /// `PUT /admin/users/{id}` with a full object (it replaces; docs/tyk-dashboard-api.md §2.3).
    pub async fn admin_put_user(&self, id: &str, user: &Value) -> anyhow::Result<()> {
        let r = self
            .http
            .put(self.u(&format!("/admin/users/{id}")))
            .header("admin-auth", &self.admin_secret)
            .json(user)
            .send()
            .await?;
        Self::envelope(r, "admin put user").await?;
        Ok(())
    }

    /// `DELETE /api/users/{id}` with an admin's key (the Admin API has none;
    /// docs/tyk-dashboard-api.md §2.5).
    pub async fn api_delete_user(&self, key: &str, id: &str) -> anyhow::Result<()> {
        let r = self
            .http
            .delete(self.u(&format!("/api/users/{id}")))
            .header("authorization", key)
            .send()
            .await?;
        Self::envelope(r, "api delete user").await?;
        Ok(())
    }

    /// `GET /api/users?p=-1` (every page; docs/tyk-dashboard-api.md §3.1) as seen by `key`'s org.
    pub async fn api_list_users(&self, key: &str) -> anyhow::Result<Vec<Value>> {
        let r = self
            .http
            .get(self.u("/api/users?p=-1"))
            .header("authorization", key)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "api list users: HTTP {}",
            r.status()
        );
        let v: Value = r.json().await?;
        Ok(v["users"].as_array().cloned().unwrap_or_default())
    }

    /// `POST /api/usergroups`; returns the group id (docs/tyk-dashboard-api.md §4).
    pub async fn api_create_group(
        &self,
        key: &str,
        name: &str,
        org: &str,
    ) -> anyhow::Result<String> {
        let body = json!({"name": name, "description": "e2e", "org_id": org, "active": true,
                          "user_permissions": {"apis": "read"}});
        let r = self
            .http
            .post(self.u("/api/usergroups"))
            .header("authorization", key)
            .json(&body)
            .send()
            .await?;
        let v = Self::envelope(r, "create group").await?;
        v["Meta"]
            .as_str()
            .map(str::to_string)
            .context("group id in Meta")
    }

    // ---- Emulator-only control API (tests needing these skip on a real Dashboard) ----

    fn require_emulator(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.is_emulator(), "needs the Tyk emulator's control API");
        Ok(())
    }

    /// Every user in every org, including access keys (never password hashes).
    pub async fn emu_users(&self) -> anyhow::Result<Vec<Value>> {
        self.require_emulator()?;
        let v: Value = self
            .http
            .get(self.u("/__emulator/users"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(match v {
            Value::Array(a) => a,
            Value::Object(ref o) if o.contains_key("users") => {
                v["users"].as_array().cloned().unwrap_or_default()
            }
            other => anyhow::bail!("unexpected /__emulator/users shape: {other}"),
        })
    }

    /// Users with this email (case-insensitive), in any org: emulator state when we have it,
    /// otherwise the admin key's org through the Dashboard API.
    pub async fn users_with_email(
        &self,
        admin_key: &str,
        email: &str,
    ) -> anyhow::Result<Vec<Value>> {
        let all = if self.is_emulator() {
            self.emu_users().await?
        } else {
            self.api_list_users(admin_key).await?
        };
        Ok(all
            .into_iter()
            .filter(|u| {
                u["email_address"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect())
    }

    pub async fn check_password(
        &self,
        email: &str,
        org: &str,
        password: &str,
    ) -> anyhow::Result<bool> {
        self.require_emulator()?;
        let v: Value = self
            .http
            .post(self.u("/__emulator/check-password"))
            .json(&json!({"email": email, "org_id": org, "password": password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        v["match"].as_bool().context("check-password: no `match`")
    }

    pub async fn stats(&self) -> anyhow::Result<TykStats> {
        self.require_emulator()?;
        let v: Value = self
            .http
            .get(self.u("/__emulator/stats"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(TykStats(v))
    }

    /// `POST /__emulator/reset-stats`: counters and `max_in_flight` start again from here.
    pub async fn reset_stats(&self) -> anyhow::Result<()> {
        self.require_emulator()?;
        self.http
            .post(self.u("/__emulator/reset-stats"))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    pub async fn faults(&self, body: &Value) -> anyhow::Result<()> {
        self.require_emulator()?;
        let r = self
            .http
            .post(self.u("/__emulator/faults"))
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "faults: HTTP {}: {}",
            r.status(),
            r.text().await?
        );
        Ok(())
    }

    pub async fn settings(&self, body: &Value) -> anyhow::Result<()> {
        self.require_emulator()?;
        let r = self
            .http
            .post(self.u("/__emulator/settings"))
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "settings: HTTP {}: {}",
            r.status(),
            r.text().await?
        );
        Ok(())
    }
}

/// `GET /__emulator/stats`: `{"requests":{"<METHOD> <route pattern> <status>":n},"writes":n}`.
#[derive(Clone, Debug)]
pub struct TykStats(pub Value);

impl TykStats {
    pub fn writes(&self) -> u64 {
        self.0["writes"].as_u64().unwrap_or(0)
    }

    /// Sum of the request counters whose (method, route, status) satisfy `f`.
    pub fn count(&self, f: impl Fn(&str, &str, &str) -> bool) -> u64 {
        let Some(m) = self.0["requests"].as_object() else {
            return 0;
        };
        m.iter()
            .filter(|(k, _)| {
                let mut parts = k.splitn(2, ' ');
                let method = parts.next().unwrap_or("");
                let rest = parts.next().unwrap_or("");
                let (route, status) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                f(method, route, status)
            })
            .map(|(_, v)| v.as_u64().unwrap_or(0))
            .sum()
    }

    /// Calls that can carry a password, whatever their outcome: the self-reset
    /// (`POST /api/users/{id}/actions/reset`, docs/tyk-dashboard-api.md §3.6) and the admin PUT
    /// (docs/tyk-dashboard-api.md §2.3).
    pub fn password_calls(&self) -> u64 {
        self.count(|m, r, _| {
            (m == "POST" && r.starts_with("/api/users/") && r.ends_with("/actions/reset"))
                || (m == "PUT" && is_admin_user_route(r))
        })
    }

    /// `GET /admin/users/{id}`: what a drift resync reads.
    pub fn admin_gets(&self) -> u64 {
        self.count(|m, r, _| m == "GET" && is_admin_user_route(r))
    }

    pub fn admin_creates(&self) -> u64 {
        self.count(|m, r, _| m == "POST" && r.trim_end_matches('/') == "/admin/users")
    }

    /// Lookups of users by email (search, or the full list it falls back to).
    pub fn user_lookups(&self) -> u64 {
        self.count(|m, r, _| {
            (m == "POST" && r == "/api/users/search") || (m == "GET" && r == "/api/users")
        })
    }
}

/// `/admin/users/{id}` whatever placeholder syntax the emulator uses for the id.
fn is_admin_user_route(r: &str) -> bool {
    r.strip_prefix("/admin/users/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}
