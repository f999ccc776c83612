//! The statuses the operator really writes, read by both GitOps health models: the real
//! operator binary runs against the Kubernetes and Tyk Dashboard emulators through
//! create → Ready → spec change → Stalled, every version of every object is recorded from a
//! watch, and each one is judged by the Argo CD Lua checks and by the kstatus rules.
//!
//! With `UPDATE_PACKAGING=1` the run also refreshes the captured fixtures in
//! `health/argocd/userop.dev/<Kind>/testdata/` (and their `health_test.yaml`).

use crate::cluster::Cluster;
use crate::health::{Health, argo_health};
use crate::health_fixtures::Verdict;
use crate::kstatus::{KStatus, compute};
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

const ADMIN_SECRET: &str = "packaging-health-admin-secret";
const OPS: &str = "ops";
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

fn cond_is(o: &Value, ctype: &str, status: &str) -> bool {
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

async fn create_org(tyk_url: &str) -> String {
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

async fn secret(c: &kube::Client, ns: &str, name: &str, data: Value) {
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
    let tyk = tyk_dashboard_emulator::TykEmulator::start(tyk_dashboard_emulator::Settings {
        admin_secret: ADMIN_SECRET.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    install_crds(&c).await;
    let namespaces: Api<Namespace> = Api::all(c.clone());
    for ns in [OPS, TEAM] {
        let n: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        namespaces.create(&PostParams::default(), &n).await.unwrap();
    }
    let org = create_org(&tyk.url()).await;
    secret(&c, OPS, "tyk-admin", json!({"adminSecret": ADMIN_SECRET})).await;
    secret(&c, TEAM, "tyk-admin", json!({"adminSecret": ADMIN_SECRET})).await;

    let (users, conns, cconns) = (users_api(&c), conns_api(&c), cluster_conns_api(&c));
    let seen = [(); 3].map(|_| Arc::new(Mutex::new(Vec::new())));
    let recorders = [
        record(users.clone(), seen[0].clone()),
        record(conns.clone(), seen[1].clone()),
        record(cconns.clone(), seen[2].clone()),
    ];

    let pp = PostParams::default();
    let conn_spec = json!({"url": tyk.url(), "orgId": org, "adminSecretRef": {"name": "tyk-admin"},
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

    // Ready; then a spec change (a new generation); then two ways to stall.
    users
        .create(
            &pp,
            &obj(
                "DashboardUser",
                "jane",
                Some(TEAM),
                json!({"email": "jane@example.com"}),
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
    let bob = json!({"email": "bob@example.com", "passwordSecretRef": {"name": "bob-password"}});
    users
        .create(&pp, &obj("DashboardUser", "bob", Some(TEAM), bob))
        .await
        .unwrap();
    wait_for(&users, "bob", "Stalled", |o| cond_is(o, "Stalled", "True")).await;
    let twin = json!({"email": "jane@example.com"});
    users
        .create(&pp, &obj("DashboardUser", "jane-twin", Some(TEAM), twin))
        .await
        .unwrap();
    wait_for(&users, "jane-twin", "Stalled", |o| {
        cond_is(o, "Stalled", "True")
    })
    .await;
    let dora = json!({"email": "dora@example.com",
                      "connectionRef": {"kind": "DashboardConnection", "name": "team-down"}});
    users
        .create(&pp, &obj("DashboardUser", "dora", Some(TEAM), dora))
        .await
        .unwrap();
    wait_for(&users, "dora", "not Ready", |o| {
        cond_is(o, "Ready", "False")
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
        requests,
    }
}

/// Argo CD and kstatus must tell the same story, apart from the one documented difference:
/// an error being retried (Ready=False, Reconciling=True) is Degraded for Argo CD and still
/// in progress for kstatus.
fn assert_consistent(kind: &str, o: &Value, argo: &Health, k: KStatus) {
    let name = o["metadata"]["name"].as_str().unwrap_or("?");
    let ctx = format!(
        "{kind}/{name} status {}: argo {argo:?}, kstatus {k:?}",
        o["status"]
    );
    if o["status"].is_null() || o["status"]["conditions"].is_null() {
        // Before the operator's first write; kstatus would call it Current, which is why the
        // operator writes Ready=Unknown/Reconciling=True on first sight.
        assert_eq!(argo.status, "Progressing", "{ctx}");
        return;
    }
    match argo.status.as_str() {
        "Healthy" => assert_eq!(k, KStatus::Current, "{ctx}"),
        "Progressing" => assert_eq!(k, KStatus::InProgress, "{ctx}"),
        "Degraded" => assert!(
            k == KStatus::Failed || (k == KStatus::InProgress && cond_is(o, "Ready", "False")),
            "{ctx}"
        ),
        other => panic!("unexpected Argo CD health {other}: {ctx}"),
    }
    if k == KStatus::Failed {
        assert_eq!(argo.status, "Degraded", "{ctx}");
    }
}

fn verdicts(kind: &str, versions: &[Value]) -> Vec<Verdict> {
    versions
        .iter()
        .map(|o| {
            let argo = argo_health(kind, o);
            let (k, _) = compute(o);
            assert_consistent(kind, o, &argo, k);
            (o.clone(), argo, k)
        })
        .collect()
}

fn of<'a>(v: &'a [Verdict], name: &'a str) -> impl Iterator<Item = &'a Verdict> + 'a {
    v.iter()
        .filter(move |(o, _, _)| o["metadata"]["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_statuses_read_alike_in_argo_cd_and_kstatus_through_the_lifecycle() {
    let rec = run_lifecycle().await;
    let users = verdicts("DashboardUser", &rec.users);
    let conns = verdicts("DashboardConnection", &rec.connections);
    let cconns = verdicts("ClusterDashboardConnection", &rec.cluster_connections);

    // jane: progressing from the first status write until Ready, and Ready at the end.
    let jane: Vec<_> = of(&users, "jane")
        .filter(|(o, _, _)| !o["status"]["conditions"].is_null())
        .collect();
    let first = jane.first().expect("jane got a status");
    assert_eq!(
        (first.1.status.as_str(), first.2),
        ("Progressing", KStatus::InProgress),
        "first sight: {}",
        first.0["status"]
    );
    let last = jane.last().unwrap();
    assert_eq!(
        (last.1.status.as_str(), last.2),
        ("Healthy", KStatus::Current),
        "{}",
        last.0["status"]
    );
    // The spec change: a version whose status is one generation behind reads as progressing.
    let stale = jane
        .iter()
        .find(|(o, _, _)| {
            o["metadata"]["generation"] == 2 && o["status"]["observedGeneration"] == 1
        })
        .expect("the edit was seen before the operator caught up");
    assert_eq!(
        (stale.1.status.as_str(), stale.2),
        ("Progressing", KStatus::InProgress)
    );

    // bob and jane-twin: stalled, so Degraded and Failed, with the operator's reason.
    for (name, reason) in [
        ("bob", "PasswordSecretNotFound"),
        ("jane-twin", "AlreadyExists"),
    ] {
        let (o, argo, k) = of(&users, name).last().unwrap();
        assert_eq!(
            (argo.status.as_str(), *k),
            ("Degraded", KStatus::Failed),
            "{name}: {}",
            o["status"]
        );
        assert!(argo.message.starts_with(reason), "{name}: {}", argo.message);
    }
    // dora's connection cannot reach its Dashboard: not Ready, not Healthy, never Current.
    let (o, argo, k) = of(&users, "dora").last().unwrap();
    assert_ne!(argo.status, "Healthy", "{}", o["status"]);
    assert_ne!(*k, KStatus::Current, "{}", o["status"]);
    for (set, good, bad) in [
        (&conns, "team-tyk", "team-broken"),
        (&conns, "team-tyk", "team-down"),
        (&cconns, "default", "broken"),
    ] {
        assert_eq!(of(set, good).last().unwrap().1.status, "Healthy", "{good}");
        assert_eq!(of(set, bad).last().unwrap().1.status, "Degraded", "{bad}");
    }

    // Every request it made is one the chart grants in this configuration (namespaced Roles,
    // the cluster-scoped kinds, the Lease). Minimality is the e2e log's job (rbac.rs).
    let mut step = crate::support::render_step(chart_values(), OPS);
    step["name"] = json!("duo");
    let rendered = tokio::task::spawn_blocking(move || crate::support::helm(vec![step]))
        .await
        .unwrap();
    let rules = crate::rbac::rules(&crate::support::Rendered::from_step(&rendered[0]));
    let requests = rec
        .requests
        .iter()
        .filter_map(crate::rbac::Request::from_log)
        .collect();
    assert!(
        rec.requests.iter().any(|r| r["resource"] == "leases"),
        "the operator took its Lease; it made {} requests: {:?}",
        rec.requests.len(),
        rec.requests
            .iter()
            .map(|r| format!("{} {}", r["verb"], r["resource"]))
            .collect::<std::collections::BTreeSet<_>>()
    );
    let own = std::collections::BTreeSet::from([OPS.to_string()]);
    let (denied, _) = crate::rbac::evaluate(&requests, &rules, &own, OPS);
    assert!(denied.is_empty(), "namespaced RBAC denies: {denied:#?}");

    if std::env::var_os("UPDATE_PACKAGING").is_some() {
        crate::health_fixtures::write(&users, &conns, &cconns);
    }
}
