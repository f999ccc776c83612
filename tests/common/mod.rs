//! Shared end-to-end harness: a Kubernetes API (emulator, or a real cluster via `KUBECONFIG`),
//! a Tyk Dashboard (emulator, or a real one via `E2E_DASHBOARD_*`), the CRDs, an org with an
//! admin user, the admin Secrets, a connection, and the real operator binary as a child.
//!
//! Usable from any integration test of the root package:
//! `#[path = "../common/mod.rs"] mod common;`
#![allow(dead_code)] // each test binary uses a different subset

pub mod cli;
pub mod control;
pub mod corpus;
pub mod dashboard;
pub mod groups;
pub mod kube;
pub mod kubectl;
pub mod operator;
pub mod teardown;
pub mod users;
pub mod wait;

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};

pub use corpus::Corpus;
pub use dashboard::{Dashboard, TykStats};
pub use operator::{Lines, Operator, OperatorConfig};

/// Names of the Secrets and keys the harness creates in the operator's namespace.
pub const ADMIN_SECRET_NAME: &str = "dashboard-admin";
pub const ADMIN_SECRET_KEY: &str = "adminSecret";
pub const API_KEY_SECRET_NAME: &str = "dashboard-api-key";
pub const API_KEY_SECRET_KEY: &str = "apiKey";
/// Condition types and the label/annotation names of the contract (docs/reference/conditions.md).
pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const ROTATE_ANNOTATION: &str = "userop.dev/rotate-access-key";
pub const FINALIZER: &str = "userop.dev/cleanup";

/// The default resync in tests: short, so drift and steady-state checks see several resyncs.
pub const RESYNC: Duration = Duration::from_secs(2);

/// reqwest is built without a default crypto provider (workspace features); install ring once.
pub fn http_client() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// A random lowercase hex string: names, emails and credentials unique per test and run.
pub fn random_hex(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::new();
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}

/// Deep-merges `patch` into `base` (objects merge, everything else replaces; null removes).
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(&k);
                } else {
                    merge(b.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p,
    }
}

#[derive(Clone, Debug)]
pub struct EnvOptions {
    pub resync: Duration,
    /// Tyk emulator password history (reuse refused); real Dashboards keep their own policy.
    pub password_history: usize,
    pub log_level: String,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            resync: RESYNC,
            password_history: 5,
            // `E2E_LOG_LEVEL` widens the operator's logging while debugging a failure.
            log_level: std::env::var("E2E_LOG_LEVEL")
                .unwrap_or_else(|_| "info,dashboard_user_operator=debug".into()),
        }
    }
}

pub struct Env {
    pub test: String,
    pub client: ::kube::Client,
    kube_emu: Option<kube_emulator::Emulator>,
    pub dashboard: Dashboard,
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    /// Where the operator runs and the cluster connection's Secrets live.
    pub operator_ns: String,
    /// The namespace the test's DashboardUsers live in.
    pub ns: String,
    /// Namespaces created for this test (deleted at the end on a real cluster).
    namespaces: Vec<String>,
    pub org_id: String,
    /// An admin user's Dashboard API key (the connection's `apiKeySecretRef`).
    pub admin_key: String,
    /// `default` on the emulator; unique on a shared real cluster (users then name it).
    pub connection_name: String,
    pub corpus: Corpus,
    pub logs: Lines,
    pub operator: Option<Operator>,
    pub op_cfg: OperatorConfig,
    /// Every DashboardUser version the background watch saw, in order.
    pub history: Arc<Mutex<Vec<Value>>>,
    watchers: Vec<tokio::task::JoinHandle<()>>,
    finished: bool,
}

impl Env {
    /// The usual start: both servers, CRDs, org, admin Secrets, `ClusterDashboardConnection`
    /// allowing the test namespace, and a running operator.
    pub async fn ready(test: &str) -> anyhow::Result<Env> {
        let mut env = Env::new(test, EnvOptions::default()).await?;
        env.create_cluster_connection(&[]).await?;
        env.start_operator().await?;
        Ok(env)
    }

    /// [`Env::ready`] with `spec.policy` on the cluster connection: what the test's users ask
    /// beyond the narrow defaults (e.g. `{"allowSuperUsers": true}`), and nothing more.
    pub async fn ready_with_policy(test: &str, policy: Value) -> anyhow::Result<Env> {
        let mut env = Env::new(test, EnvOptions::default()).await?;
        let mut conn = env.cluster_connection_object(&[]);
        conn["spec"]["policy"] = policy;
        env.apply(&conn).await?;
        env.start_operator().await?;
        Ok(env)
    }

    pub async fn new(test: &str, opts: EnvOptions) -> anyhow::Result<Env> {
        let id = random_hex(6);
        let dir = std::env::temp_dir().join(format!("e2e-{test}-{id}"));
        std::fs::create_dir_all(&dir)?;
        let corpus = Corpus::default();

        // Kubernetes: a real cluster when KUBECONFIG is given, else our emulator.
        let real_cluster = std::env::var_os("KUBECONFIG").is_some();
        let (client, kube_emu, kubeconfig, prefix) = if real_cluster {
            let path = std::env::var("KUBECONFIG")?;
            let first = path.split(':').next().unwrap_or_default().to_string();
            let client = ::kube::Client::try_default().await?;
            (client, None, PathBuf::from(first), format!("e2e-{id}-"))
        } else {
            let emu = kube_emulator::Emulator::start(kube_emulator::Options::default()).await?;
            let path = dir.join("kubeconfig");
            emu.write_kubeconfig(&path)?;
            let client = emu.client().await;
            (client, Some(emu), path, String::new())
        };

        // Dashboard: a real one when E2E_DASHBOARD_URL is given, else the emulator.
        let (dashboard, org_id, admin_key) = match std::env::var("E2E_DASHBOARD_URL") {
            Ok(url) => {
                let secret = std::env::var("E2E_DASHBOARD_ADMIN_SECRET")
                    .context("E2E_DASHBOARD_ADMIN_SECRET")?;
                let key =
                    std::env::var("E2E_DASHBOARD_API_KEY").context("E2E_DASHBOARD_API_KEY")?;
                let org = std::env::var("E2E_DASHBOARD_ORG_ID").context("E2E_DASHBOARD_ORG_ID")?;
                (Dashboard::real(url, secret), org, key)
            }
            Err(_) => {
                let settings = tyk_dashboard_emulator::Settings {
                    admin_secret: format!("admin-{}", random_hex(24)),
                    password_history: opts.password_history,
                    ..Default::default()
                };
                let d = Dashboard::emulator(settings).await?;
                let org = d.create_org(&format!("e2e-{id}")).await?;
                let (_, key) = d
                    .admin_create_user(&json!({
                        "org_id": org, "first_name": "E2E", "last_name": "Admin",
                        "email_address": format!("e2e-admin-{id}@example.com"),
                        "active": true, "user_permissions": {"IsAdmin": "admin"}
                    }))
                    .await?;
                (d, org, key)
            }
        };
        corpus.secret(&dashboard.admin_secret);
        corpus.secret(&admin_key);

        let operator_ns = format!("{prefix}userop-system");
        let ns = format!("{prefix}team-a");
        let op_cfg = OperatorConfig {
            kubeconfig: kubeconfig.clone(),
            home: dir.clone(),
            operator_namespace: operator_ns.clone(),
            watch_namespaces: if real_cluster {
                vec![operator_ns.clone(), ns.clone()]
            } else {
                vec![]
            },
            resync: opts.resync,
            log_level: opts.log_level.clone(),
            extra_args: vec![],
        };
        let mut env = Env {
            test: test.to_string(),
            client,
            kube_emu,
            dashboard,
            dir,
            kubeconfig,
            operator_ns: operator_ns.clone(),
            ns: ns.clone(),
            namespaces: vec![],
            org_id,
            admin_key,
            connection_name: if real_cluster {
                format!("{prefix}default")
            } else {
                "default".into()
            },
            corpus,
            logs: Lines::default(),
            operator: None,
            op_cfg,
            history: Arc::default(),
            watchers: vec![],
            finished: false,
        };
        kube::install_crds(&env.client).await?;
        env.namespace(&operator_ns).await?;
        env.namespace(&ns).await?;
        env.put_secret(
            &operator_ns,
            ADMIN_SECRET_NAME,
            &[(ADMIN_SECRET_KEY, &env.dashboard.admin_secret.clone())],
        )
        .await?;
        env.put_secret(
            &operator_ns,
            API_KEY_SECRET_NAME,
            &[(API_KEY_SECRET_KEY, &env.admin_key.clone())],
        )
        .await?;
        env.watch_statuses().await?;
        Ok(env)
    }

    pub fn is_emulated_cluster(&self) -> bool {
        self.kube_emu.is_some()
    }

    pub fn is_emulated_dashboard(&self) -> bool {
        self.dashboard.is_emulator()
    }

    /// For tests that need emulator-only hooks: `Some(reason)` means "skip, print why".
    pub fn needs_emulators(&self, what: &str) -> bool {
        if self.is_emulated_cluster() && self.is_emulated_dashboard() {
            return true;
        }
        eprintln!(
            "SKIP {}: needs the emulators' control APIs ({what})",
            self.test
        );
        false
    }

    /// Creates (or reuses) a namespace; on a real cluster it is deleted at the end.
    pub async fn namespace(&mut self, name: &str) -> anyhow::Result<String> {
        kube::create_namespace(&self.client, name, &[]).await?;
        if !self.namespaces.iter().any(|n| n == name) {
            self.namespaces.push(name.to_string());
        }
        Ok(name.to_string())
    }

    /// A further test namespace with a unique name on a real cluster.
    pub async fn extra_namespace(&mut self, suffix: &str) -> anyhow::Result<String> {
        let name = self.ns.replace("team-a", suffix);
        self.namespace(&name).await
    }

    /// Records every DashboardUser and connection version (for the secret scan and for
    /// checks on the order of statuses, e.g. "status on first sight").
    async fn watch_statuses(&mut self) -> anyhow::Result<()> {
        use ::kube::runtime::watcher;
        for ar in [
            kube::user_resource(),
            kube::group_resource(),
            kube::connection_resource(),
            kube::cluster_connection_resource(),
        ] {
            let api = kube::api(&self.client, &ar, None);
            let corpus = self.corpus.clone();
            let history = self.history.clone();
            let is_user = ar.kind == "DashboardUser";
            let (tx, rx) = tokio::sync::oneshot::channel();
            let mut tx = Some(tx);
            self.watchers.push(tokio::spawn(async move {
                let mut stream = watcher(api, watcher::Config::default()).boxed();
                while let Some(ev) = stream.next().await {
                    match ev {
                        Ok(watcher::Event::InitDone) => {
                            if let Some(tx) = tx.take() {
                                let _ = tx.send(());
                            }
                        }
                        Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => {
                            let v = serde_json::to_value(&o).unwrap_or_default();
                            corpus.text(
                                format!(
                                    "status of {}/{}",
                                    ar.kind,
                                    o.metadata.name.clone().unwrap_or_default()
                                ),
                                v["status"].to_string(),
                            );
                            if is_user {
                                history.lock().unwrap().push(v);
                            }
                        }
                        _ => {}
                    }
                }
            }));
            tokio::time::timeout(wait::default_timeout(), rx)
                .await
                .context("status watch never synced")?
                .ok();
        }
        Ok(())
    }

    // ---- connections ----

    /// The cluster connection the users default to. `allowed` adds namespaces beyond the
    /// test namespace; the test namespace is always allowed.
    pub fn cluster_connection_object(&self, allowed: &[&str]) -> Value {
        let mut names: Vec<String> = vec![self.ns.clone()];
        names.extend(allowed.iter().map(|s| s.to_string()));
        json!({
            "apiVersion": kube::API_VERSION, "kind": "ClusterDashboardConnection",
            "metadata": {"name": self.connection_name},
            "spec": {
                "url": self.dashboard.url,
                "adminSecretRef": {"name": ADMIN_SECRET_NAME, "key": ADMIN_SECRET_KEY},
                "apiKeySecretRef": {"name": API_KEY_SECRET_NAME, "key": API_KEY_SECRET_KEY},
                "orgId": self.org_id,
                "allowedNamespaces": {"names": names},
            }
        })
    }

    pub async fn create_cluster_connection(&self, allowed: &[&str]) -> anyhow::Result<()> {
        kube::apply(&self.client, &self.cluster_connection_object(allowed)).await?;
        Ok(())
    }

    /// Replaces `spec.policy` of the cluster connection `name` (`Value::Null` removes it:
    /// the narrow defaults), as a platform team editing the connection would.
    pub async fn set_cluster_policy(&self, name: &str, policy: Value) -> anyhow::Result<()> {
        let ar = kube::cluster_connection_resource();
        let mut conn = kube::get(&self.client, &ar, None, name)
            .await?
            .with_context(|| format!("ClusterDashboardConnection {name} not found"))?;
        let spec = conn["spec"].as_object_mut().context("connection spec")?;
        if policy.is_null() {
            spec.remove("policy");
        } else {
            spec.insert("policy".into(), policy);
        }
        kube::apply(&self.client, &conn).await?;
        Ok(())
    }

    /// A namespaced connection in `ns` with its own copy of the admin Secrets.
    pub fn connection_object(&self, ns: &str, name: &str) -> Value {
        json!({
            "apiVersion": kube::API_VERSION, "kind": "DashboardConnection",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "url": self.dashboard.url,
                "adminSecretRef": {"name": ADMIN_SECRET_NAME, "key": ADMIN_SECRET_KEY},
                "apiKeySecretRef": {"name": API_KEY_SECRET_NAME, "key": API_KEY_SECRET_KEY},
                "orgId": self.org_id,
            }
        })
    }

    pub async fn put_admin_secrets(&self, ns: &str) -> anyhow::Result<()> {
        self.put_secret(
            ns,
            ADMIN_SECRET_NAME,
            &[(ADMIN_SECRET_KEY, &self.dashboard.admin_secret)],
        )
        .await?;
        self.put_secret(
            ns,
            API_KEY_SECRET_NAME,
            &[(API_KEY_SECRET_KEY, &self.admin_key)],
        )
        .await
    }

    // ---- operator ----

    pub async fn start_operator(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.operator.is_none(), "operator already running");
        self.operator = Some(Operator::spawn(&self.op_cfg, self.logs.clone()).await?);
        Ok(())
    }

    /// SIGTERM and wait; the contract says a graceful shutdown exits 0.
    pub async fn stop_operator(&mut self) -> anyhow::Result<()> {
        if let Some(op) = self.operator.take() {
            let status = op.terminate().await?;
            anyhow::ensure!(
                status.success(),
                "operator exited with {status} after SIGTERM; last log lines:\n{}",
                self.logs.tail(40).join("\n")
            );
        }
        Ok(())
    }

    pub async fn kill_operator(&mut self) -> anyhow::Result<()> {
        if let Some(op) = self.operator.take() {
            op.kill().await?;
        }
        Ok(())
    }

    pub async fn restart_operator(&mut self) -> anyhow::Result<()> {
        self.stop_operator().await?;
        self.start_operator().await
    }
}
