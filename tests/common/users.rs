//! `Env` methods a scenario uses most: credentials, DashboardUsers and their conditions, the
//! access Secret, the Dashboard's view, and the emulators' control APIs.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

use super::{Env, READY, TykStats, dashboard, http_client, kube, random_hex, wait};

impl Env {
    // ---- credentials ----

    /// A fresh password, registered for the secret scan.
    pub fn password(&self) -> String {
        let p = format!("Pw-{}", random_hex(20));
        self.corpus.secret(&p);
        p
    }

    pub fn email(&self, local: &str) -> String {
        format!("{local}-{}@example.com", random_hex(8))
    }

    pub async fn put_secret(
        &self,
        ns: &str,
        name: &str,
        data: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        kube::put_secret(&self.client, ns, name, data).await
    }

    /// Writes a password Secret (key `password`) in the test namespace.
    pub async fn put_password(&self, name: &str, password: &str) -> anyhow::Result<()> {
        self.corpus.secret(password);
        self.put_secret(&self.ns, name, &[("password", password)])
            .await
    }

    // ---- DashboardUsers ----

    /// A minimal DashboardUser in the test namespace on the default connection. It lists a
    /// permission: a Tyk user without any is an admin, which a connection refuses unless its
    /// `spec.policy.allowAdminUsers` says otherwise (tenancy guardrails).
    pub fn user(&self, name: &str, email: &str) -> Value {
        let mut u = json!({
            "apiVersion": kube::API_VERSION, "kind": "DashboardUser",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {"email": email, "firstName": "Ada", "lastName": "Lovelace",
                     "permissions": {"apis": "read"}}
        });
        if self.connection_name != "default" {
            u["spec"]["connectionRef"] =
                json!({"kind": "ClusterDashboardConnection", "name": self.connection_name});
        }
        u
    }

    pub async fn apply(&self, obj: &Value) -> anyhow::Result<Value> {
        kube::apply(&self.client, obj).await
    }

    pub async fn get_user_in(&self, ns: &str, name: &str) -> anyhow::Result<Option<Value>> {
        kube::get(&self.client, &kube::user_resource(), Some(ns), name).await
    }

    pub async fn get_user(&self, name: &str) -> anyhow::Result<Value> {
        self.get_user_in(&self.ns, name)
            .await?
            .with_context(|| format!("DashboardUser {name} not found"))
    }

    pub async fn patch_user(&self, name: &str, patch: &Value) -> anyhow::Result<()> {
        kube::merge_patch(
            &self.client,
            &kube::user_resource(),
            Some(&self.ns),
            name,
            patch,
        )
        .await
    }

    pub async fn delete_user(&self, name: &str) -> anyhow::Result<()> {
        kube::delete(&self.client, &kube::user_resource(), Some(&self.ns), name).await
    }

    /// Waits until `check` accepts the DashboardUser `ns/name`.
    pub async fn wait_user_in<F>(
        &self,
        ns: &str,
        name: &str,
        what: &str,
        check: F,
    ) -> anyhow::Result<Value>
    where
        F: Fn(&Value) -> Result<(), String>,
    {
        let r = wait::until(&format!("DashboardUser {ns}/{name}: {what}"), || async {
            let u = self
                .get_user_in(ns, name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "not found".to_string())?;
            check(&u).map_err(|e| format!("{e} ({})", kube::conditions_summary(&u)))?;
            Ok(u)
        })
        .await;
        r.map_err(|e| self.with_logs(e))
    }

    pub async fn wait_user<F>(&self, name: &str, what: &str, check: F) -> anyhow::Result<Value>
    where
        F: Fn(&Value) -> Result<(), String>,
    {
        self.wait_user_in(&self.ns.clone(), name, what, check).await
    }

    /// Ready=True, reason Synced, and the current generation observed.
    pub async fn wait_ready(&self, name: &str) -> anyhow::Result<Value> {
        self.wait_ready_in(&self.ns.clone(), name).await
    }

    pub async fn wait_ready_in(&self, ns: &str, name: &str) -> anyhow::Result<Value> {
        self.wait_user_in(ns, name, "Ready=True/Synced, generation observed", |u| {
            let generation = u["metadata"]["generation"].as_i64();
            let seen = u["status"]["observedGeneration"].as_i64();
            match kube::condition(u, READY) {
                Some((s, r, _)) if s == "True" && r == "Synced" && generation == seen => Ok(()),
                _ => Err("not ready yet".into()),
            }
        })
        .await
    }

    /// The cluster connection the users default to has `Ready` = `status`.
    pub async fn wait_cluster_connection_ready(&self, status: &str) -> anyhow::Result<()> {
        wait::until(
            &format!("the cluster connection Ready={status}"),
            || async {
                let c = kube::get(
                    &self.client,
                    &kube::cluster_connection_resource(),
                    None,
                    &self.connection_name,
                )
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no connection")?;
                match kube::condition(&c, READY) {
                    Some((s, _, _)) if s == status => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await
    }

    /// The condition `type_` has `status` and `reason`.
    pub async fn wait_condition(
        &self,
        name: &str,
        type_: &str,
        status: &str,
        reason: &str,
    ) -> anyhow::Result<Value> {
        self.wait_condition_in(&self.ns.clone(), name, type_, status, reason)
            .await
    }

    pub async fn wait_condition_in(
        &self,
        ns: &str,
        name: &str,
        type_: &str,
        status: &str,
        reason: &str,
    ) -> anyhow::Result<Value> {
        self.wait_user_in(
            ns,
            name,
            &format!("{type_}={status}/{reason}"),
            |u| match kube::condition(u, type_) {
                Some((s, r, _)) if s == status && r == reason => Ok(()),
                _ => Err("condition not there yet".into()),
            },
        )
        .await
    }

    /// Waits until the DashboardUser is gone (finalizer released).
    pub async fn wait_user_gone(&self, name: &str) -> anyhow::Result<()> {
        wait::until(&format!("DashboardUser {name} deleted"), || async {
            match self.get_user(name).await {
                Err(_) => Ok(()),
                Ok(u) => Err(format!(
                    "still there, finalizers {}",
                    u["metadata"]["finalizers"]
                )),
            }
        })
        .await
        .map_err(|e| self.with_logs(e))
    }

    pub(crate) fn with_logs(&self, e: anyhow::Error) -> anyhow::Error {
        anyhow::anyhow!(
            "{e}\n--- last operator log lines ---\n{}",
            self.logs.tail(30).join("\n")
        )
    }

    // ---- the access Secret ----

    pub async fn secret(&self, name: &str) -> anyhow::Result<Option<Secret>> {
        kube::get_secret(&self.client, &self.ns, name).await
    }

    /// Waits for the Secret `name` to hold `key`, accepted by `check`; returns all its data
    /// as strings. Values read here are registered for the secret scan.
    pub async fn wait_secret<F>(
        &self,
        name: &str,
        what: &str,
        check: F,
    ) -> anyhow::Result<BTreeMap<String, String>>
    where
        F: Fn(&BTreeMap<String, String>, &Secret) -> Result<(), String>,
    {
        let r = wait::until(&format!("Secret {name}: {what}"), || async {
            let s = self
                .secret(name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "not found".to_string())?;
            let data: BTreeMap<String, String> = s
                .data
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                .collect();
            if let Some(k) = data.get("accessKey") {
                self.corpus.secret(k);
            }
            check(&data, &s)?;
            Ok(data)
        })
        .await;
        r.map_err(|e| self.with_logs(e))
    }

    // ---- the Dashboard ----

    /// The Dashboard's view of a user (admin GET), failing if absent.
    pub async fn remote(&self, id: &str) -> anyhow::Result<Value> {
        let u = self
            .dashboard
            .admin_get_user(id)
            .await?
            .with_context(|| format!("Dashboard user {id} not found"))?;
        if let Some(k) = u["access_key"].as_str() {
            self.corpus.secret(k);
        }
        Ok(u)
    }

    /// Waits until the Dashboard's copy of `id` satisfies `check`.
    pub async fn wait_remote<F>(&self, id: &str, what: &str, check: F) -> anyhow::Result<Value>
    where
        F: Fn(&Value) -> Result<(), String>,
    {
        let r = wait::until(&format!("Dashboard user {id}: {what}"), || async {
            let u = self
                .dashboard
                .admin_get_user(id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "not found".to_string())?;
            if let Some(k) = u["access_key"].as_str() {
                self.corpus.secret(k);
            }
            check(&u).map_err(|e| format!("{e} ({})", dashboard::describe(&u)))?;
            Ok(u)
        })
        .await;
        r.map_err(|e| self.with_logs(e))
    }

    pub async fn users_with_email(&self, email: &str) -> anyhow::Result<Vec<Value>> {
        let users = self
            .dashboard
            .users_with_email(&self.admin_key, email)
            .await?;
        for u in &users {
            if let Some(k) = u["access_key"].as_str() {
                self.corpus.secret(k);
            }
        }
        Ok(users)
    }

    pub async fn check_password(&self, email: &str, password: &str) -> anyhow::Result<bool> {
        self.dashboard
            .check_password(email, &self.org_id, password)
            .await
    }

    /// Waits until the Dashboard accepts `password` for `email` (emulator hook).
    pub async fn wait_password(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let r = wait::until(&format!("password accepted for {email}"), || async {
            match self.check_password(email, password).await {
                Ok(true) => Ok(()),
                Ok(false) => Err("Dashboard does not accept it yet".to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        r.map_err(|e| self.with_logs(e))
    }

    // ---- the kube emulator's control API ----

    fn kube_emu_url(&self) -> anyhow::Result<String> {
        Ok(self
            .kube_emu
            .as_ref()
            .context("needs the kube emulator's control API")?
            .url())
    }

    /// `GET /__emulator/requests`: every API request since the emulator started.
    pub async fn kube_requests(&self) -> anyhow::Result<Vec<Value>> {
        let url = format!("{}/__emulator/requests", self.kube_emu_url()?);
        Ok(http_client()
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    pub async fn kube_stats(&self) -> anyhow::Result<Value> {
        let url = format!("{}/__emulator/stats", self.kube_emu_url()?);
        Ok(http_client()
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    pub async fn tyk_stats(&self) -> anyhow::Result<TykStats> {
        self.dashboard.stats().await
    }
}
