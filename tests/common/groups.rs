//! `DashboardUserGroup`s for the scenarios, and the Dashboard's view of groups through the
//! documented `/api/usergroups` routes (so these hold on a real Dashboard too,
//! docs/tyk-dashboard-api.md §4).

use anyhow::Context;
use serde_json::{Value, json};

use super::{Dashboard, Env, kube, wait};

impl Env {
    /// A DashboardUserGroup in the test namespace on the default connection, whose Dashboard
    /// name is unique per run.
    pub fn group(&self, name: &str, dashboard_name: &str) -> Value {
        let mut g = json!({
            "apiVersion": kube::API_VERSION, "kind": "DashboardUserGroup",
            "metadata": {"name": name, "namespace": self.ns},
            "spec": {"name": dashboard_name, "description": "e2e readers",
                     "permissions": {"apis": "read", "analytics": "read"}}
        });
        if self.connection_name != "default" {
            g["spec"]["connectionRef"] =
                json!({"kind": "ClusterDashboardConnection", "name": self.connection_name});
        }
        g
    }

    pub async fn get_group(&self, name: &str) -> anyhow::Result<Option<Value>> {
        kube::get(&self.client, &kube::group_resource(), Some(&self.ns), name).await
    }

    pub async fn patch_group(&self, name: &str, patch: &Value) -> anyhow::Result<()> {
        let ar = kube::group_resource();
        kube::merge_patch(&self.client, &ar, Some(&self.ns), name, patch).await
    }

    pub async fn delete_group(&self, name: &str) -> anyhow::Result<()> {
        kube::delete(&self.client, &kube::group_resource(), Some(&self.ns), name).await
    }

    /// Waits until `check` accepts the DashboardUserGroup `name`.
    pub async fn wait_group<F>(&self, name: &str, what: &str, check: F) -> anyhow::Result<Value>
    where
        F: Fn(&Value) -> Result<(), String>,
    {
        let r = wait::until(&format!("DashboardUserGroup {name}: {what}"), || async {
            let g = self
                .get_group(name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "not found".to_string())?;
            check(&g).map_err(|e| format!("{e} ({})", kube::conditions_summary(&g)))?;
            Ok(g)
        })
        .await;
        r.map_err(|e| self.with_logs(e))
    }

    /// Ready=True/Synced at the current generation, with a group id; returns the id.
    pub async fn wait_group_ready(&self, name: &str) -> anyhow::Result<String> {
        let g = self
            .wait_group(name, "Ready=True/Synced, generation observed", |g| {
                let seen = g["status"]["observedGeneration"] == g["metadata"]["generation"];
                match kube::condition(g, super::READY) {
                    Some((s, r, _)) if s == "True" && r == "Synced" && seen => Ok(()),
                    _ => Err("not ready yet".into()),
                }
            })
            .await?;
        g["status"]["groupId"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from)
            .context("a Ready group has status.groupId")
    }

    pub async fn wait_group_gone(&self, name: &str) -> anyhow::Result<()> {
        wait::until(&format!("DashboardUserGroup {name} gone"), || async {
            match self.get_group(name).await.map_err(|e| e.to_string())? {
                None => Ok(()),
                Some(g) => Err(format!(
                    "still there, finalizers {}",
                    g["metadata"]["finalizers"]
                )),
            }
        })
        .await
        .map_err(|e| self.with_logs(e))
    }

    /// The Dashboard group `id` as the admin key sees it; `None` when it is gone.
    pub async fn remote_group(&self, id: &str) -> anyhow::Result<Option<Value>> {
        self.dashboard.api_get_group(&self.admin_key, id).await
    }

    /// Waits until the Dashboard group `id` satisfies `check`.
    pub async fn wait_remote_group<F>(&self, id: &str, what: &str, check: F) -> anyhow::Result<()>
    where
        F: Fn(Option<&Value>) -> Result<(), String>,
    {
        wait::until(&format!("dashboard group {id}: {what}"), || async {
            let g = self.remote_group(id).await.map_err(|e| e.to_string())?;
            check(g.as_ref())
        })
        .await
        .map_err(|e| self.with_logs(e))
    }

    /// Dashboard groups named `name` in the admin key's org.
    pub async fn groups_named(&self, name: &str) -> anyhow::Result<Vec<Value>> {
        let all = self.dashboard.api_list_groups(&self.admin_key).await?;
        Ok(all.into_iter().filter(|g| g["name"] == name).collect())
    }
}

impl Dashboard {
    /// `GET /api/usergroups/{id}`: `None` on 404 (docs/tyk-dashboard-api.md §4).
    pub async fn api_get_group(&self, key: &str, id: &str) -> anyhow::Result<Option<Value>> {
        let r = self
            .http()
            .get(format!("{}/api/usergroups/{id}", self.url))
            .header("authorization", key)
            .send()
            .await?;
        if r.status() == 404 {
            return Ok(None);
        }
        anyhow::ensure!(r.status().is_success(), "get group: HTTP {}", r.status());
        Ok(Some(r.json().await?))
    }

    /// `GET /api/usergroups?p=-1`.
    pub async fn api_list_groups(&self, key: &str) -> anyhow::Result<Vec<Value>> {
        let r = self
            .http()
            .get(format!("{}/api/usergroups?p=-1", self.url))
            .header("authorization", key)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "list groups: HTTP {}", r.status());
        let v: Value = r.json().await?;
        Ok(v["groups"].as_array().cloned().unwrap_or_default())
    }

    /// `PUT /api/usergroups/{id}` with the whole group (someone editing it in the UI).
    pub async fn api_put_group(&self, key: &str, id: &str, group: &Value) -> anyhow::Result<()> {
        let r = self
            .http()
            .put(format!("{}/api/usergroups/{id}", self.url))
            .header("authorization", key)
            .json(group)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "put group: HTTP {}", r.status());
        Ok(())
    }

    /// `DELETE /api/usergroups/{id}` (someone deleting it in the UI).
    pub async fn api_delete_group(&self, key: &str, id: &str) -> anyhow::Result<()> {
        let r = self
            .http()
            .delete(format!("{}/api/usergroups/{id}", self.url))
            .header("authorization", key)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "delete group: HTTP {}", r.status());
        Ok(())
    }
}
