//! Scenarios for users of an `AdminUsersAPI` connection: the real operator binary against
//! the Kubernetes API (emulator or `KUBECONFIG`) and the admin users emulator (always: no
//! real server of this API is known; its control API proves what the server holds).

mod failures;
mod lifecycle;

use admin_users_emulator::{AdminUsersEmulator, Settings, UserState};
use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, kube, random_hex, wait};

pub const TOKEN_SECRET: &str = "admin-users-token";

pub struct AdminEnv {
    pub env: Env,
    pub api: AdminUsersEmulator,
    /// The ClusterDashboardConnection of type AdminUsersAPI.
    pub conn: String,
    pub token: String,
    /// The connection's `spec.policy` (`Null`: the narrow defaults).
    pub policy: Value,
}

impl AdminEnv {
    /// Kubernetes, the admin users emulator, its token Secret, a cluster connection of type
    /// AdminUsersAPI allowing the test namespace, and a running operator.
    pub async fn ready(test: &str, f: impl FnOnce(&mut Settings)) -> anyhow::Result<AdminEnv> {
        Self::ready_with_policy(test, Value::Null, f).await
    }

    /// [`AdminEnv::ready`] with `spec.policy` on the connection: what the test's users ask
    /// beyond the narrow defaults (e.g. `{"allowAdoption": true}`).
    pub async fn ready_with_policy(
        test: &str,
        policy: Value,
        f: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<AdminEnv> {
        let env = Env::new(test, EnvOptions::default()).await?;
        let token = format!("tok-{}", random_hex(32));
        env.corpus.secret(&token);
        let mut s = Settings {
            token: token.clone(),
            ..Default::default()
        };
        f(&mut s);
        let api = AdminUsersEmulator::start(s).await?;
        env.put_secret(&env.operator_ns, TOKEN_SECRET, &[("token", &token)])
            .await?;
        let conn = env.connection_name.replace("default", "admin-users");
        let mut a = AdminEnv {
            env,
            api,
            conn,
            token,
            policy,
        };
        a.env.apply(&a.connection(TOKEN_SECRET)).await?;
        a.env.start_operator().await?;
        Ok(a)
    }

    pub fn connection(&self, token_secret: &str) -> Value {
        let mut c = json!({
            "apiVersion": kube::API_VERSION, "kind": "ClusterDashboardConnection",
            "metadata": {"name": self.conn},
            "spec": {
                "type": "AdminUsersAPI",
                "url": self.api.api_url(),
                "tokenSecretRef": {"name": token_secret},
                "allowedNamespaces": {"names": [self.env.ns]},
            }
        });
        if !self.policy.is_null() {
            c["spec"]["policy"] = self.policy.clone();
        }
        c
    }

    /// A DashboardUser on the AdminUsersAPI connection with a password Secret `<name>-pw`.
    pub fn user(&self, name: &str, username: &str) -> Value {
        json!({
            "apiVersion": kube::API_VERSION, "kind": "DashboardUser",
            "metadata": {"name": name, "namespace": self.env.ns},
            "spec": {
                "connectionRef": {"kind": "ClusterDashboardConnection", "name": self.conn},
                "email": format!("{username}@example.com"),
                "username": username,
                "passwordSecretRef": {"name": format!("{name}-pw")},
            }
        })
    }

    /// The connection's Ready condition (from its probe) has `status` and `reason`.
    pub async fn wait_connection(&self, status: &str, reason: &str) -> anyhow::Result<()> {
        let ar = kube::cluster_connection_resource();
        wait::until(
            &format!("connection {} Ready={status}/{reason}", self.conn),
            || async {
                let c = kube::get(&self.env.client, &ar, None, &self.conn)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("not found")?;
                match kube::condition(&c, "Ready") {
                    Some((s, r, _)) if s == status && r == reason => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await
    }

    /// The remote user with this username, as the emulator holds it.
    pub fn remote(&self, username: &str) -> Option<UserState> {
        self.api
            .users()
            .into_iter()
            .find(|u| u.username == username)
    }

    pub async fn wait_remote<F>(
        &self,
        username: &str,
        what: &str,
        check: F,
    ) -> anyhow::Result<UserState>
    where
        F: Fn(&UserState) -> bool,
    {
        wait::until(&format!("remote {username}: {what}"), || async {
            match self.remote(username) {
                Some(u) if check(&u) => Ok(u),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// Reads by id the operator made (its drift checks), so far.
    pub fn item_gets(&self) -> usize {
        self.api
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.route == admin_users_emulator::ITEM)
            .count()
    }

    /// Lets at least `n` drift resyncs pass (counted as the operator's GETs by id).
    pub async fn let_resyncs_pass(&self, n: usize) -> anyhow::Result<()> {
        let before = self.item_gets();
        tokio::time::sleep(self.env.op_cfg.resync * n as u32).await;
        wait::until(&format!("{n} resync reads"), || async {
            let now = self.item_gets();
            if now >= before + n {
                Ok(())
            } else {
                Err(format!("{} GETs since", now - before))
            }
        })
        .await
    }

    /// The API itself, as another admin would use it (for drift and remote deletion).
    pub async fn api_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<u16> {
        let mut req = crate::common::http_client()
            .request(method.parse()?, format!("{}{path}", self.api.api_url()))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Ok(req.send().await?.status().as_u16())
    }

    pub async fn finish(self) -> anyhow::Result<()> {
        let AdminEnv { env, api, .. } = self;
        let r = env.finish().await;
        api.shutdown().await;
        r
    }
}
