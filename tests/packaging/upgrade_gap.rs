//! `helm upgrade` without a gap: `ClusterDashboardConnection/default` is an ordinary release
//! object (a post-install hook only on the very first install, adopted by the next upgrade),
//! so install, upgrades with and without changed values, rollbacks and uninstall through real
//! Helm 4 never delete it — with the real operator running, its user never leaves Ready=True.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::core::GroupVersionKind;
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::live_run::{ADMIN_SECRET, create_namespaces, create_org, secret, start_tyk};
use crate::support::chart_dir;

const NS: &str = "userop-system";
const TEAM: &str = "team";

fn api(c: &kube::Client, kind: &str, plural: &str, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("userop.dev", "v1alpha1", kind),
        plural,
    );
    match ns {
        Some(ns) => Api::namespaced_with(c.clone(), ns, &ar),
        None => Api::all_with(c.clone(), &ar),
    }
}

/// The connection names no `orgId`; its policy allows jane's org (rendered by the chart and
/// honoured by the operator: without it jane would be `NotAllowed`).
fn values(url: &str, org: &str, timeout: u32) -> Value {
    json!({"defaultConnection": {"create": true, "url": url, "timeoutSeconds": timeout,
        "adminSecret": {"name": "tyk-admin"}, "allowedNamespaces": {"names": [TEAM]},
        "policy": {"allowedOrgIds": [org]}}})
}

fn step(op: &str, values: Value) -> Value {
    json!({"op": op, "chart": chart_dir(), "name": "duo", "namespace": NS, "values": values,
           "create_namespace": true})
}

fn ready(o: &Value) -> bool {
    o["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Every watch event on `api` as (kind of event, object), until aborted.
fn record(
    api: Api<DynamicObject>,
    into: Arc<Mutex<Vec<(String, Value)>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default()).boxed();
        while let Some(e) = events.next().await {
            let (what, o) = match e {
                Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => ("apply", o),
                Ok(watcher::Event::Delete(o)) => ("delete", o),
                _ => continue,
            };
            into.lock()
                .unwrap()
                .push((what.into(), serde_json::to_value(&o).unwrap()));
        }
    })
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_and_rollbacks_never_remove_the_default_connection() {
    let cluster = Cluster::start("upgrade-gap").await;
    let c = cluster.client.clone();
    let tyk = start_tyk().await;
    let org = create_org(&tyk.url()).await;
    create_namespaces(&c, &[NS, TEAM]).await;
    secret(&c, NS, "tyk-admin", json!({"adminSecret": ADMIN_SECRET})).await;

    // First install: CRDs and the connection (as the one-time hook) come with the release.
    let url = tyk.url();
    cluster
        .helm(vec![step("install", values(&url, &org, 10))])
        .await[0]
        .expect_ok("install");
    let conns = api(
        &c,
        "ClusterDashboardConnection",
        "clusterdashboardconnections",
        None,
    );
    let conn = conns
        .get("default")
        .await
        .expect("default connection installed");
    let uid = conn.metadata.uid.clone().unwrap();

    let log = std::fs::File::create(cluster.dir.path().join("operator.log")).unwrap();
    let _operator = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-user-operator"))
        .args([
            "run",
            "--operator-namespace",
            NS,
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .args(["--resync-period", "1h", "--log-format", "text"])
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("operator binary starts");
    let users = api(&c, "DashboardUser", "dashboardusers", Some(TEAM));
    let user: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "userop.dev/v1alpha1", "kind": "DashboardUser",
        "metadata": {"name": "jane", "namespace": TEAM},
        "spec": {"email": "jane@example.com", "orgId": org, "permissions": {"apis": "read"}}}))
    .unwrap();
    users.create(&PostParams::default(), &user).await.unwrap();
    wait_until("jane Ready", async || {
        users
            .get("jane")
            .await
            .ok()
            .is_some_and(|u| ready(&serde_json::to_value(&u).unwrap()))
    })
    .await;

    let user_events = Arc::new(Mutex::new(Vec::new()));
    let conn_events = Arc::new(Mutex::new(Vec::new()));
    let recorders = [
        record(users.clone(), user_events.clone()),
        record(conns.clone(), conn_events.clone()),
    ];

    // Upgrade with the same values, then with a changed one, then roll back to the first
    // revision (the hook's) and forward again.
    let results = cluster
        .helm(vec![
            step("upgrade", values(&url, &org, 10)),
            step("upgrade", values(&url, &org, 20)),
            json!({"op": "rollback", "name": "duo", "namespace": NS, "version": 1}),
            json!({"op": "rollback", "name": "duo", "namespace": NS, "version": 3}),
        ])
        .await;
    for (r, what) in results.iter().zip([
        "upgrade",
        "upgrade with a change",
        "rollback to 1",
        "rollback to 3",
    ]) {
        r.expect_ok(what);
    }
    let conn = conns.get("default").await.expect("connection kept");
    assert_eq!(
        conn.metadata.uid.as_deref(),
        Some(uid.as_str()),
        "never recreated"
    );
    assert_eq!(
        conn.data["spec"]["timeoutSeconds"], 20,
        "the changed value applied in place"
    );
    let labels = conn.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("Helm")
    );

    // A resync's worth of time for the operator to notice anything, then the verdict.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let gone = conn_events
        .lock()
        .unwrap()
        .iter()
        .any(|(e, _)| e == "delete");
    assert!(
        !gone,
        "the connection was deleted during upgrades or rollbacks"
    );
    let lost: Vec<Value> = user_events
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, u)| !ready(u))
        .map(|(_, u)| u["status"]["conditions"].clone())
        .collect();
    assert!(lost.is_empty(), "the user left Ready=True: {lost:?}");

    // Uninstall keeps it (helm.sh/resource-policy: keep), like the CRDs.
    cluster
        .helm(vec![
            json!({"op": "uninstall", "name": "duo", "namespace": NS}),
        ])
        .await[0]
        .expect_ok("uninstall");
    assert!(
        conns.get_opt("default").await.unwrap().is_some(),
        "kept on uninstall"
    );
    for r in recorders {
        r.abort();
    }
    cluster.stop().await;
}
