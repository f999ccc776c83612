//! Runs the real operator binary against the Kubernetes and Tyk Dashboard emulators through
//! create → Ready → spec change → Stalled, and records every version of every object it
//! touched (from watches) plus the operator's own API requests (`health_live.rs` judges them).
//!
//! The operator runs as the chart would run it with `watchNamespaces: [team]` and leader
//! election, the configuration the e2e suite leaves unexercised.

use crate::cluster::Cluster;
use crate::support::{parse_documents, workspace};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ADMIN_SECRET: &str = "packaging-health-admin-secret";
pub const OPS: &str = "ops";
const TEAM: &str = "team";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("userop.dev", "v1alpha1", kind),
        plural,
    )
}

fn users_api(c: &kube::Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        c.clone(),
        TEAM,
        &resource("DashboardUser", "dashboardusers"),
    )
}

fn groups_api(c: &kube::Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        c.clone(),
        TEAM,
        &resource("DashboardUserGroup", "dashboardusergroups"),
    )
}

fn conns_api(c: &kube::Client) -> Api<DynamicObject> {
    Api::namespaced_with(
        c.clone(),
        TEAM,
        &resource("DashboardConnection", "dashboardconnections"),
    )
}

fn cluster_conns_api(c: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(
        c.clone(),
        &resource("ClusterDashboardConnection", "clusterdashboardconnections"),
    )
}

fn obj(kind: &str, name: &str, namespace: Option<&str>, spec: Value) -> DynamicObject {
    let mut v = json!({"apiVersion": "userop.dev/v1alpha1", "kind": kind,
                       "metadata": {"name": name}, "spec": spec});
    if let Some(ns) = namespace {
        v["metadata"]["namespace"] = json!(ns);
    }
    serde_json::from_value(v).unwrap()
}

fn condition<'a>(o: &'a Value, ctype: &str) -> Option<&'a Value> {
    o["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ctype)
}

pub fn cond_is(o: &Value, ctype: &str, status: &str) -> bool {
    condition(o, ctype).is_some_and(|c| c["status"] == status)
}

/// The operator's log of the current run, quoted when a wait fails.
static LOG: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);

fn log_tail() -> String {
    let path = LOG.lock().unwrap().clone();
    let text = path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// Polls `api.get(name)` until `done` holds for it (deadline, no fixed sleeps in assertions).
async fn wait_for(api: &Api<DynamicObject>, name: &str, what: &str, done: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(o) = api.get_opt(name).await.unwrap() {
            let v = serde_json::to_value(&o).unwrap();
            if done(&v) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{name}: never {what}; last status {}\noperator log tail:\n{}",
                    v["status"],
                    log_tail()
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Records every version of the objects `api` serves, from a watch, until aborted. A watch
/// the server closes is resumed from the last version seen, so nothing is missed.
fn record(api: Api<DynamicObject>, into: Arc<Mutex<Vec<Value>>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rv = "0".to_string();
        loop {
            let Ok(stream) = api.watch(&WatchParams::default(), &rv).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let mut stream = stream.boxed();
            while let Ok(Some(event)) = stream.try_next().await {
                match event {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                        rv = o.metadata.resource_version.clone().unwrap_or(rv);
                        into.lock().unwrap().push(serde_json::to_value(&o).unwrap());
                    }
                    WatchEvent::Bookmark(b) => rv = b.metadata.resource_version,
                    WatchEvent::Deleted(_) => {}
                    // 410 Gone: history compacted; start over (duplicates are harmless).
                    WatchEvent::Error(_) => rv = "0".to_string(),
                }
            }
        }
    })
}

async fn install_crds(c: &kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    let text = std::fs::read_to_string(workspace().join("crds/crds.yaml")).unwrap();
    for doc in parse_documents(&text) {
        let crd: CustomResourceDefinition = serde_json::from_value(doc).unwrap();
        let name = crd.metadata.name.clone().unwrap();
        crds.create(&PostParams::default(), &crd).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = crds.get(&name).await.unwrap();
            let established = got
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never Established"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A Tyk Dashboard emulator with [`ADMIN_SECRET`].
pub async fn start_tyk() -> tyk_dashboard_emulator::TykEmulator {
    tyk_dashboard_emulator::TykEmulator::start(tyk_dashboard_emulator::Settings {
        admin_secret: ADMIN_SECRET.into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

pub async fn create_namespaces(c: &kube::Client, names: &[&str]) {
    let namespaces: Api<Namespace> = Api::all(c.clone());
    for ns in names {
        let n: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        namespaces.create(&PostParams::default(), &n).await.unwrap();
    }
}

pub async fn create_org(tyk_url: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let reply: Value = http
        .post(format!("{tyk_url}/admin/organisations"))
        .header("admin-auth", ADMIN_SECRET)
        .json(
            &json!({"owner_name": "packaging", "owner_slug": "packaging", "cname_enabled": false,
                      "hybrid_enabled": false, "event_options": {}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["Meta"].as_str().expect("org id in Meta").to_string()
}

pub async fn secret(c: &kube::Client, ns: &str, name: &str, data: Value) {
    let s: Secret = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": ns}, "stringData": data}))
    .unwrap();
    Api::<Secret>::namespaced(c.clone(), ns)
        .create(&PostParams::default(), &s)
        .await
        .unwrap();
}

/// Everything the run recorded, by kind, and the operator's own API requests.
pub struct Recorded {
    pub users: Vec<Value>,
    pub groups: Vec<Value>,
    pub connections: Vec<Value>,
    pub cluster_connections: Vec<Value>,
    pub requests: Vec<Value>,
}

/// The chart values the operator is run with here: one watched namespace and leader
/// election, the configuration the e2e suite (cluster-wide, no Lease) leaves unexercised.
pub fn chart_values() -> Value {
    json!({"watchNamespaces": [TEAM], "leaderElection": {"enabled": true}})
}

/// The emulator's request log, reduced to the operator's requests (by its User-Agent).
async fn operator_requests(url: &str) -> Vec<Value> {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let all: Vec<Value> = http
        .get(format!("{url}/__emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all.into_iter()
        .filter(|e| {
            e["userAgent"]
                .as_str()
                .unwrap_or("")
                .starts_with("dashboard-user-operator")
        })
        .collect()
}

/// Runs the operator through the lifecycle and returns every version it (and we) wrote.
pub async fn run_lifecycle() -> Recorded {
    let cluster = Cluster::start("health").await;
    let c = cluster.client.clone();
    let tyk = start_tyk().await;
    install_crds(&c).await;
    create_namespaces(&c, &[OPS, TEAM]).await;
    let org = create_org(&tyk.url()).await;
    // An org admin's key: user groups exist only in the Dashboard API.
    let admin = tyk
        .seed_user(&org, "packaging-admin@example.com", &[], true)
        .unwrap();
    secret(
        &c,
        OPS,
        "tyk-admin",
        json!({"adminSecret": ADMIN_SECRET, "apiKey": admin.access_key}),
    )
    .await;
    secret(&c, TEAM, "tyk-admin", json!({"adminSecret": ADMIN_SECRET})).await;

    let (users, conns, cconns) = (users_api(&c), conns_api(&c), cluster_conns_api(&c));
    let groups = groups_api(&c);
    let seen = [(); 4].map(|_| Arc::new(Mutex::new(Vec::new())));
    let recorders = [
        record(users.clone(), seen[0].clone()),
        record(conns.clone(), seen[1].clone()),
        record(cconns.clone(), seen[2].clone()),
        record(groups.clone(), seen[3].clone()),
    ];

    let pp = PostParams::default();
    let conn_spec = json!({"url": tyk.url(), "orgId": org, "adminSecretRef": {"name": "tyk-admin"},
                           "apiKeySecretRef": {"name": "tyk-admin"},
                           "allowedNamespaces": {"names": [TEAM]}});
    cconns
        .create(
            &pp,
            &obj("ClusterDashboardConnection", "default", None, conn_spec),
        )
        .await
        .unwrap();
    let broken = json!({"url": tyk.url(), "adminSecretRef": {"name": "no-such-secret"}});
    cconns
        .create(
            &pp,
            &obj("ClusterDashboardConnection", "broken", None, broken),
        )
        .await
        .unwrap();
    let team_conn =
        json!({"url": tyk.url(), "orgId": org, "adminSecretRef": {"name": "tyk-admin"}});
    conns
        .create(
            &pp,
            &obj("DashboardConnection", "team-tyk", Some(TEAM), team_conn),
        )
        .await
        .unwrap();
    let team_broken = json!({"url": tyk.url(), "adminSecretRef": {"name": "no-such-secret"}});
    conns
        .create(
            &pp,
            &obj(
                "DashboardConnection",
                "team-broken",
                Some(TEAM),
                team_broken,
            ),
        )
        .await
        .unwrap();
    // Nothing listens on port 9 of the loopback: every request is refused at once.
    let down =
        json!({"url": "http://127.0.0.1:9", "orgId": org, "adminSecretRef": {"name": "tyk-admin"}});
    conns
        .create(
            &pp,
            &obj("DashboardConnection", "team-down", Some(TEAM), down),
        )
        .await
        .unwrap();

    let log_path = cluster.dir.path().join("operator.log");
    let log = std::fs::File::create(&log_path).unwrap();
    *LOG.lock().unwrap() = Some(log_path);
    let mut operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-user-operator"))
        .args([
            "run",
            "--operator-namespace",
            OPS,
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .args([
            "--resync-period",
            "1h",
            "--log-format",
            "text",
            "--watch-namespaces",
            TEAM,
        ])
        // The Lease name the chart renders for release "duo".
        .args([
            "--leader-elect",
            "--lease-name",
            "duo-dashboard-user-operator",
        ])
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("operator binary starts");

    // Ready; then a spec change (a new generation); then two ways to stall. Every user lists
    // permissions: without any Tyk makes it an admin, which the default policy refuses.
    users
        .create(
            &pp,
            &obj(
                "DashboardUser",
                "jane",
                Some(TEAM),
                json!({"email": "jane@example.com", "permissions": {"apis": "read"}}),
            ),
        )
        .await
        .unwrap();
    wait_for(&users, "jane", "Ready", |o| cond_is(o, "Ready", "True")).await;
    let edit = json!({"spec": {"firstName": "Jane"}});
    users
        .patch("jane", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
    wait_for(&users, "jane", "Ready at generation 2", |o| {
        o["status"]["observedGeneration"] == 2 && cond_is(o, "Ready", "True")
    })
    .await;
    let bob = json!({"email": "bob@example.com", "permissions": {"apis": "read"},
                     "passwordSecretRef": {"name": "bob-password"}});
    users
        .create(&pp, &obj("DashboardUser", "bob", Some(TEAM), bob))
        .await
        .unwrap();
    wait_for(&users, "bob", "Stalled", |o| cond_is(o, "Stalled", "True")).await;
    let twin = json!({"email": "jane@example.com", "permissions": {"apis": "read"}});
    users
        .create(&pp, &obj("DashboardUser", "jane-twin", Some(TEAM), twin))
        .await
        .unwrap();
    wait_for(&users, "jane-twin", "Stalled", |o| {
        cond_is(o, "Stalled", "True")
    })
    .await;
    let dora = json!({"email": "dora@example.com", "permissions": {"apis": "read"},
                      "connectionRef": {"kind": "DashboardConnection", "name": "team-down"}});
    users
        .create(&pp, &obj("DashboardUser", "dora", Some(TEAM), dora))
        .await
        .unwrap();
    wait_for(&users, "dora", "not Ready", |o| {
        cond_is(o, "Ready", "False")
    })
    .await;
    // A group that becomes Ready, and one on a connection without an API key (stalled).
    let readers = json!({"name": "readers", "permissions": {"apis": "read"}});
    groups
        .create(
            &pp,
            &obj("DashboardUserGroup", "readers", Some(TEAM), readers),
        )
        .await
        .unwrap();
    wait_for(&groups, "readers", "Ready", |o| cond_is(o, "Ready", "True")).await;
    let keyless = json!({"name": "keyless", "permissions": {"apis": "read"},
                         "connectionRef": {"kind": "DashboardConnection", "name": "team-tyk"}});
    groups
        .create(
            &pp,
            &obj("DashboardUserGroup", "keyless", Some(TEAM), keyless),
        )
        .await
        .unwrap();
    wait_for(&groups, "keyless", "Stalled", |o| {
        cond_is(o, "Stalled", "True")
    })
    .await;
    for (api, name) in [(&cconns, "default"), (&conns, "team-tyk")] {
        wait_for(api, name, "Ready", |o| cond_is(o, "Ready", "True")).await;
    }
    for (api, name) in [
        (&cconns, "broken"),
        (&conns, "team-broken"),
        (&conns, "team-down"),
    ] {
        wait_for(api, name, "not Ready", |o| cond_is(o, "Ready", "False")).await;
    }

    let _ = operator.start_kill();
    let _ = operator.wait().await;
    for r in recorders {
        r.abort();
    }
    let requests = operator_requests(&cluster.emulator.url()).await;
    cluster.stop().await;
    tyk.shutdown().await;
    let take = |i: usize| std::mem::take(&mut *seen[i].lock().unwrap());
    Recorded {
        users: take(0),
        connections: take(1),
        cluster_connections: take(2),
        groups: take(3),
        requests,
    }
}
