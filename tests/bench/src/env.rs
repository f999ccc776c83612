//! One bench cluster: the Kubernetes API emulator and the Tyk emulator in this process (on
//! a tokio runtime of their own, so their CPU time is theirs: cpu.rs), the CRDs, a
//! `ClusterDashboardConnection/default`, and the operator as a child process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use dashboard_user_operator::crd::{
    self, ClusterDashboardConnection, ClusterDashboardConnectionSpec, DashboardUser,
};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use tyk_dashboard_emulator::{Faults, Settings, TykEmulator};

use crate::Opts;
use crate::operator::Operator;

pub const OPERATOR_NAMESPACE: &str = "default";
/// Users, their password Secrets and the unrelated Secrets live here.
pub const USER_NAMESPACE: &str = "bench";
const ADMIN_SECRET_NAME: &str = "tyk-dashboard-admin";
const USERS_KEY: &str = "userop.dev/dashboardusers";
const USER_GROUP: &str = "userop.dev";
/// Parallel writes the bench itself makes when it applies objects in bulk, like `kubectl
/// apply` of a big directory or a GitOps tool syncing; enough that applying is never what
/// the figures measure.
const APPLY_PARALLELISM: usize = 32;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

pub struct Env {
    pub kube: kube_emulator::Emulator,
    pub tyk: TykEmulator,
    pub client: Client,
    pub org: String,
    pub opts: Opts,
    pub bin: PathBuf,
    pub workdir: PathBuf,
    pub operator: Option<Operator>,
    /// The running operator's `--resync-period`.
    pub resync: Duration,
    /// Users created so far (names `u00000`…).
    pub users: usize,
    /// Kubernetes requests made by the bench itself, by the emulator's key (`"<verb>
    /// <group>/<resource>"`), subtracted from the emulator's counts.
    bench_requests: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Last field, so it is dropped after the emulators it runs.
    _emulator_runtime: EmulatorRuntime,
}

/// The emulators' own tokio runtime (threads named [`crate::cpu::EMULATOR_THREAD`]): their
/// CPU time is then the sum over those threads. Shut down in the background when dropped,
/// which an async context allows (dropping a runtime there would panic).
struct EmulatorRuntime(Option<tokio::runtime::Runtime>);

impl EmulatorRuntime {
    fn new() -> std::io::Result<EmulatorRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .thread_name(crate::cpu::EMULATOR_THREAD)
            // Idle blocking threads would otherwise exit after 10 s, taking their CPU time
            // out of /proc/self/task.
            .thread_keep_alive(Duration::from_secs(7 * 24 * 3600))
            .enable_all()
            .build()?;
        Ok(EmulatorRuntime(Some(rt)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("runtime present until dropped")
            .handle()
    }
}

impl Drop for EmulatorRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Kubernetes request counters, split the way the figures need them.
#[derive(Clone, Debug, Default)]
pub struct KubeCounts {
    /// Writes by the operator (the bench's own subtracted).
    pub writes: u64,
    /// Reads (`get`, `list`; not `watch`) by the operator (the bench's own subtracted).
    pub reads: u64,
    /// `"<verb> <group>/<resource>[/<sub>]"` → count, writes only (the bench's included).
    pub writes_by_kind: BTreeMap<String, u64>,
    /// `"<verb> <group>/<resource>[/<sub>]"` → count, every verb, the operator's only (the
    /// bench's own requests subtracted).
    pub operator_requests: BTreeMap<String, u64>,
}

const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];
const READ_VERBS: [&str; 2] = ["get", "list"];

fn verb_of(key: &str) -> &str {
    key.split(' ').next().unwrap_or("")
}

/// The emulator's request-log key (control.rs `RequestLog::record`).
fn request_key(verb: &str, group: &str, resource: &str) -> String {
    format!("{verb} {group}/{resource}")
}

fn count_request(requests: &Mutex<BTreeMap<String, u64>>, verb: &str, group: &str, res: &str) {
    *requests
        .lock()
        .expect("bench request counts")
        .entry(request_key(verb, group, res))
        .or_default() += 1;
}

/// Dashboard request counters.
#[derive(Clone, Debug, Default)]
pub struct TykCounts {
    pub calls: u64,
    pub reads: u64,
    /// `GET /admin/users/{id}`: the per-user drift check (the connection probe is not).
    pub user_reads: u64,
    pub writes: u64,
    /// `"<METHOD> <route> <status>"` → count.
    pub by_route: BTreeMap<String, u64>,
}

/// `after − before` per key, dropping keys that did not move.
pub fn delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0).min(*v)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

impl Env {
    pub async fn start(opts: &Opts, bin: PathBuf) -> anyhow::Result<Env> {
        // Per run: two benches at once must not share a kubeconfig (a restarted operator
        // would talk to the other run's cluster) or an operator log.
        let workdir = crate::operator::workspace_root()
            .join("target/bench")
            .join(format!("run-{}", std::process::id()));
        std::fs::create_dir_all(&workdir)?;
        let emulator_runtime = EmulatorRuntime::new()?;
        // Started on their runtime: every task they spawn (servers, connections, watches,
        // the garbage collector) runs there.
        let kube = emulator_runtime
            .handle()
            .spawn(kube_emulator::Emulator::start(kube_emulator::Options {
                // Every object is written several times; a short history would turn the
                // operator's watch resumes into re-lists and measure those instead.
                history_size: 200_000,
                ..Default::default()
            }))
            .await??;
        kube.write_kubeconfig(&workdir.join("kubeconfig"))?;
        let admin_secret = format!("bench-{:016x}", random_u64());
        let tyk = emulator_runtime
            .handle()
            .spawn(TykEmulator::start_with_faults(
                Settings {
                    admin_secret: admin_secret.clone(),
                    ..Default::default()
                },
                Faults {
                    latency_ms: opts.latency_ms,
                    ..Default::default()
                },
            ))
            .await??;
        let org = tyk.seed_org("Bench");
        let admin = tyk.seed_user(&org, "bench-admin@example.com", &[], true)?;
        // On the main runtime: the bench's own requests are not the emulators' work.
        let client = kube.client().await;
        let mut env = Env {
            kube,
            tyk,
            client,
            org,
            opts: opts.clone(),
            bin,
            workdir,
            operator: None,
            resync: opts.converge_resync_period,
            users: 0,
            bench_requests: Arc::default(),
            _emulator_runtime: emulator_runtime,
        };
        env.install(&admin_secret, &admin.access_key).await?;
        env.start_operator().await?;
        Ok(env)
    }

    async fn install(&self, admin_secret: &str, api_key: &str) -> anyhow::Result<()> {
        let crds: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        for c in crd::all_crds() {
            crds.create(&PostParams::default(), &c).await?;
        }
        let users: Api<DashboardUser> = Api::all(self.client.clone());
        let mut served = false;
        for _ in 0..100 {
            if users.list(&ListParams::default().limit(1)).await.is_ok() {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::ensure!(served, "CRDs never became available");
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": USER_NAMESPACE}}))?;
        Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &ns)
            .await?;
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(ADMIN_SECRET_NAME.into()),
                ..Default::default()
            },
            string_data: Some(
                [
                    ("adminSecret".to_string(), admin_secret.to_string()),
                    ("apiKey".to_string(), api_key.to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        };
        Api::<Secret>::namespaced(self.client.clone(), OPERATOR_NAMESPACE)
            .create(&PostParams::default(), &secret)
            .await?;
        let mut spec = json!({
            "url": self.tyk.url(),
            "orgId": self.org,
            "adminSecretRef": {"name": ADMIN_SECRET_NAME, "key": "adminSecret"},
            "apiKeySecretRef": {"name": ADMIN_SECRET_NAME, "key": "apiKey"},
            "allowedNamespaces": {"names": [USER_NAMESPACE]},
        });
        if let Some(m) = self.opts.max_requests {
            spec["maxConcurrentRequests"] = json!(m);
        }
        let spec: ClusterDashboardConnectionSpec = serde_json::from_value(spec)?;
        Api::<ClusterDashboardConnection>::all(self.client.clone())
            .create(
                &PostParams::default(),
                &ClusterDashboardConnection::new(crd::DEFAULT_CONNECTION, spec),
            )
            .await?;
        Ok(())
    }

    pub fn log_path(&self) -> PathBuf {
        self.workdir.join("operator.log")
    }

    pub async fn start_operator(&mut self) -> anyhow::Result<()> {
        let op = Operator::spawn(
            &self.bin,
            &self.workdir.join("kubeconfig"),
            &self.log_path(),
            self.opts.concurrency,
            self.resync,
        )
        .await?;
        self.operator = Some(op);
        Ok(())
    }

    pub fn operator(&mut self) -> anyhow::Result<&mut Operator> {
        self.operator.as_mut().context("operator not running")
    }

    /// The process is still there (a zombie has no `VmRSS`, so it counts as gone).
    pub fn operator_alive(&self) -> bool {
        self.operator.as_ref().is_some_and(|op| op.rss().is_ok())
    }

    /// Restarts the operator (with `resync` as its `--resync-period`): a fresh process, so
    /// its peak RSS is its own.
    pub async fn restart_operator(&mut self, resync: Duration) -> anyhow::Result<()> {
        if let Some(op) = self.operator.take() {
            op.stop().await?;
        }
        self.resync = resync;
        self.start_operator().await
    }

    /// After a start every user is reconciled once; waits until that pass is over.
    pub async fn wait_first_pass(&mut self, label: &'static str) -> anyhow::Result<()> {
        let n = self.users;
        let start = std::time::Instant::now();
        let deadline = start + crate::scenarios::converge_timeout(n);
        let mut progress =
            crate::progress::Progress::new(label, "users reconciled after the restart");
        loop {
            let done = self.operator()?.user_reconciles().await? as usize;
            progress.update(done.min(n), n, start.elapsed());
            if done >= n {
                progress.done(n, n, start.elapsed());
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{label}: only {done} of {n} users reconciled after the restart"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn shutdown(mut self) {
        if let Some(op) = self.operator.take() {
            let _ = op.stop().await;
        }
        self.tyk.shutdown().await;
        self.kube.shutdown().await;
    }

    pub fn user_name(i: usize) -> String {
        format!("u{i:05}")
    }

    pub fn email(i: usize) -> String {
        format!("u{i:05}@bench.example.com")
    }

    /// The password user `i` has after `edit` edits.
    pub fn password(i: usize, edit: u32) -> String {
        format!("bench-pw-{i:05}-{edit}")
    }

    /// Creates users `first..first + count`, each with its password Secret, in bulk (the
    /// caller records them in `users` once done).
    pub async fn create_users(&self, first: usize, count: usize) -> anyhow::Result<()> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), USER_NAMESPACE);
        let users: Api<DashboardUser> = Api::namespaced(self.client.clone(), USER_NAMESPACE);
        let requests = self.bench_requests.clone();
        futures::stream::iter(first..first + count)
            .map(|i| {
                let (secrets, users, requests) = (secrets.clone(), users.clone(), requests.clone());
                async move {
                    let name = Env::user_name(i);
                    let secret = Secret {
                        metadata: ObjectMeta {
                            name: Some(format!("{name}-password")),
                            ..Default::default()
                        },
                        string_data: Some([("password".to_string(), Env::password(i, 0))].into()),
                        ..Default::default()
                    };
                    secrets.create(&PostParams::default(), &secret).await?;
                    count_request(&requests, "create", "", "secrets");
                    let user: DashboardUser = serde_json::from_value(json!({
                        "apiVersion": "userop.dev/v1alpha1",
                        "kind": "DashboardUser",
                        "metadata": {"name": name},
                        "spec": {
                            "email": Env::email(i),
                            "firstName": "Bench",
                            "lastName": name,
                            "passwordSecretRef": {"name": format!("{name}-password")},
                            // Without permissions Tyk makes a user an admin, which the
                            // connection's default policy refuses (docs/multi-tenancy.md).
                            "permissions": {"apis": "read"},
                        },
                    }))?;
                    users.create(&PostParams::default(), &user).await?;
                    count_request(&requests, "create", USER_GROUP, "dashboardusers");
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(APPLY_PARALLELISM)
            .try_collect::<()>()
            .await
    }

    /// Sets user `i`'s password Secret to the password of edit `edit` (a merge patch).
    pub async fn edit_password(&self, i: usize, edit: u32) -> anyhow::Result<()> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), USER_NAMESPACE);
        let patch = json!({"stringData": {"password": Env::password(i, edit)}});
        secrets
            .patch(
                &format!("{}-password", Env::user_name(i)),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        count_request(&self.bench_requests, "patch", "", "secrets");
        Ok(())
    }

    /// Creates `count` Secrets of `kb` KB each that no DashboardUser references.
    pub async fn create_unrelated_secrets(&self, count: usize, kb: usize) -> anyhow::Result<()> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), USER_NAMESPACE);
        let requests = self.bench_requests.clone();
        // Printable filler: the size is what matters, not the content.
        let filler: String = (0..kb * 1024)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        futures::stream::iter(0..count)
            .map(|i| {
                let (secrets, requests, filler) =
                    (secrets.clone(), requests.clone(), filler.clone());
                async move {
                    let secret = Secret {
                        metadata: ObjectMeta {
                            name: Some(format!("unrelated-{i:05}")),
                            labels: Some([("app".to_string(), "unrelated".to_string())].into()),
                            ..Default::default()
                        },
                        string_data: Some([("blob".to_string(), filler)].into()),
                        ..Default::default()
                    };
                    secrets.create(&PostParams::default(), &secret).await?;
                    count_request(&requests, "create", "", "secrets");
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(APPLY_PARALLELISM)
            .try_collect::<()>()
            .await
    }

    /// Users whose `Ready` condition is `True`, read straight from the emulator's store
    /// (a watch from here would cost the machine as much CPU as the operator's own).
    pub fn ready_users(&self) -> usize {
        let shared = self.kube.shared();
        let st = shared.state.lock();
        st.store
            .objects_ref(USERS_KEY)
            .map(|objs| objs.values().filter(|u| is_ready(u)).count())
            .unwrap_or(0)
    }

    /// The Kubernetes emulator's request counts (its request log's per-key counters, which
    /// unlike the log itself are never truncated). The bench reads Ready from the store,
    /// not over HTTP, so its only requests are the writes it counts itself.
    pub fn kube_counts(&self) -> KubeCounts {
        let all = self.kube.shared().log.lock().counts().clone();
        let bench = self
            .bench_requests
            .lock()
            .expect("bench request counts")
            .clone();
        let writes_by_kind: BTreeMap<String, u64> = all
            .iter()
            .filter(|(k, _)| WRITE_VERBS.contains(&verb_of(k)))
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        let operator_requests: BTreeMap<String, u64> = all
            .iter()
            .map(|(k, n)| {
                (
                    k.clone(),
                    n.saturating_sub(bench.get(k).copied().unwrap_or(0)),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let sum = |verbs: &[&str]| -> u64 {
            operator_requests
                .iter()
                .filter(|(k, _)| verbs.contains(&verb_of(k)))
                .map(|(_, n)| n)
                .sum()
        };
        KubeCounts {
            writes: sum(&WRITE_VERBS),
            reads: sum(&READ_VERBS),
            writes_by_kind,
            operator_requests,
        }
    }

    pub fn tyk_counts(&self) -> TykCounts {
        let s = self.tyk.stats();
        let calls = s.requests.values().sum();
        let reads = s
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("GET "))
            .map(|(_, n)| n)
            .sum();
        let user_reads = s
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("GET /admin/users/{id} "))
            .map(|(_, n)| n)
            .sum();
        TykCounts {
            calls,
            reads,
            user_reads,
            writes: s.writes,
            by_route: s.requests,
        }
    }
}

fn is_ready(u: &Value) -> bool {
    u.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
