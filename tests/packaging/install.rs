//! The chart installed for real: Helm 4 (`helm-python-sdk`) against the Kubernetes API
//! emulator — install, upgrade, uninstall, CRDs kept when asked, the ServiceMonitor only
//! where its API exists, and the default connection created after the CRDs.

use crate::cluster::Cluster;
use crate::support::chart_dir;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

const NS: &str = "userop-system";
const NAME: &str = "duo-dashboard-user-operator";
const CRDS: [&str; 4] = [
    "dashboardusers.userop.dev",
    "dashboardusergroups.userop.dev",
    "dashboardconnections.userop.dev",
    "clusterdashboardconnections.userop.dev",
];

fn step(op: &str, values: Value) -> Value {
    json!({"op": op, "chart": chart_dir(), "name": "duo", "namespace": NS, "values": values,
           "create_namespace": true})
}

async fn present<K>(api: &Api<K>, name: &str) -> bool
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.expect("get").is_some()
}

fn dynamic(
    client: &kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(&gvk, plural),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_upgrade_uninstall_keeps_the_crds() {
    let cluster = Cluster::start("install").await;
    let c = &cluster.client;
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), NS);
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(c.clone(), NS);
    let roles: Api<Role> = Api::namespaced(c.clone(), NS);
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());

    let installed = cluster.helm(vec![step("install", json!({}))]).await;
    let release = installed[0].expect_ok("install");
    assert_eq!(release["revision"], 1);
    assert_eq!(release["status"], "deployed");
    assert!(
        release["notes"].as_str().unwrap().contains("Next step"),
        "NOTES shown"
    );
    let dep = deployments.get(NAME).await.expect("Deployment installed");
    assert_eq!(dep.spec.unwrap().replicas, Some(1));
    assert!(present(&Api::<ServiceAccount>::namespaced(c.clone(), NS), NAME).await);
    assert!(present(&Api::<ClusterRole>::all(c.clone()), NAME).await);
    for crd in CRDS {
        let got = crds.get(crd).await.unwrap_or_else(|e| panic!("{crd}: {e}"));
        let keep = got.metadata.annotations.unwrap_or_default();
        assert_eq!(
            keep.get("helm.sh/resource-policy").map(String::as_str),
            Some("keep")
        );
    }
    // Helm keeps its release record in a Secret of the release namespace.
    let secrets: Api<Secret> = Api::namespaced(c.clone(), NS);
    let records = secrets
        .list(&ListParams::default().labels("owner=helm,name=duo"))
        .await
        .unwrap();
    assert_eq!(records.items.len(), 1, "one release record");

    // Upgrade to two replicas: leader election, its Role and a PDB appear.
    let up = cluster
        .helm(vec![step("upgrade", json!({"replicas": 2}))])
        .await;
    assert_eq!(up[0].expect_ok("upgrade")["revision"], 2);
    let dep = deployments.get(NAME).await.unwrap();
    let spec = dep.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    let args = spec.template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert!(args.contains(&"--leader-elect".to_string()), "{args:?}");
    assert!(present(&pdbs, NAME).await);
    assert!(present(&roles, &format!("{NAME}-leader-election")).await);

    // And back: what is no longer rendered is removed. (Values are explicit: an upgrade
    // given none reuses the previous release's.)
    let down = cluster
        .helm(vec![step("upgrade", json!({"replicas": 1}))])
        .await;
    down[0].expect_ok("upgrade back");
    assert!(
        !present(&pdbs, NAME).await,
        "PDB removed with the second replica"
    );
    assert!(!present(&roles, &format!("{NAME}-leader-election")).await);

    let gone = cluster
        .helm(vec![
            json!({"op": "uninstall", "name": "duo", "namespace": NS}),
        ])
        .await;
    gone[0].expect_ok("uninstall");
    assert!(!present(&deployments, NAME).await, "Deployment removed");
    assert!(!present(&Api::<ClusterRole>::all(c.clone()), NAME).await);
    for crd in CRDS {
        assert!(present(&crds, crd).await, "{crd} kept on uninstall");
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_go_with_the_release_when_not_kept() {
    let cluster = Cluster::start("unkept").await;
    let crds: Api<CustomResourceDefinition> = Api::all(cluster.client.clone());
    let values = json!({"crds": {"keep": false}});
    let results = cluster
        .helm(vec![
            step("install", values),
            json!({"op": "uninstall", "name": "duo", "namespace": NS}),
        ])
        .await;
    results[0].expect_ok("install");
    results[1].expect_ok("uninstall");
    for crd in CRDS {
        // A deleted CRD may linger while its instances are cleaned up; none exist here.
        let left = crds.get_opt(crd).await.unwrap();
        assert!(
            left.is_none_or(|c| c.metadata.deletion_timestamp.is_some()),
            "{crd} should be deleted with the release"
        );
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_monitor_and_default_connection_when_the_apis_exist() {
    let cluster = Cluster::start("monitor").await;
    let c = &cluster.client;
    // The Prometheus Operator's API, reduced to what the ServiceMonitor needs.
    cluster
        .serve_monitoring_kind("ServiceMonitor", "servicemonitors")
        .await;

    let values = json!({
        "metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prom"}}},
        "defaultConnection": {"create": true, "url": "http://tyk-dashboard.tyk:3000",
                              "adminSecret": {"name": "tyk-admin"},
                              "apiKeySecret": {"name": "tyk-admin", "key": "apiKey"},
                              "orgId": "org-1",
                              "allowedNamespaces": {"names": ["team-a"]},
                              "policy": {"allowAdoption": true, "allowedOrgIds": ["org-2"],
                                         "permissionCeiling": {"users": "deny", "*": "write"}}},
    });
    let results = cluster.helm(vec![step("install", values)]).await;
    results[0].expect_ok("install");
    let monitors: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        NS,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "ServiceMonitor"),
            "servicemonitors",
        ),
    );
    let sm = monitors
        .get(NAME)
        .await
        .expect("ServiceMonitor created where the API exists");
    assert_eq!(sm.metadata.labels.unwrap()["release"], "prom");
    assert_eq!(sm.data["spec"]["endpoints"][0]["port"], "metrics");

    let connections = dynamic(
        c,
        "userop.dev",
        "v1alpha1",
        "ClusterDashboardConnection",
        "clusterdashboardconnections",
    );
    let conn = connections
        .get("default")
        .await
        .expect("default connection created");
    let spec = &conn.data["spec"];
    assert_eq!(spec["url"], "http://tyk-dashboard.tyk:3000");
    assert_eq!(spec["adminSecretRef"]["name"], "tyk-admin");
    assert_eq!(spec["adminSecretRef"]["namespace"], NS);
    assert_eq!(spec["apiKeySecretRef"]["key"], "apiKey");
    assert_eq!(spec["orgId"], "org-1");
    assert_eq!(spec["allowedNamespaces"]["names"], json!(["team-a"]));
    // The policy passes the CRD's schema and CEL as rendered.
    assert_eq!(
        spec["policy"],
        json!({"allowAdoption": true, "allowedOrgIds": ["org-2"],
               "permissionCeiling": {"users": "deny", "*": "write"}})
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_yaml_would_read_as_booleans_stay_strings() {
    // Helm decodes manifests as YAML 1.1, where an unquoted y, n, on or yes is a boolean:
    // every release-, namespace- or values-derived name must be quoted.
    let cluster = Cluster::start("yaml11").await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client.clone());
    let n: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": "n"}})).unwrap();
    namespaces.create(&PostParams::default(), &n).await.unwrap();
    let values = json!({"replicas": 2, "watchNamespaces": ["n"], "networkPolicy": {"enabled": true},
                        "metrics": {"service": {"enabled": true}}, "fullnameOverride": "on",
                        "leaderElection": {"leaseName": "off"}});
    let results = cluster
        .helm(vec![
            json!({"op": "install", "chart": chart_dir(), "name": "yes", "namespace": "y",
                          "values": values, "create_namespace": true}),
        ])
        .await;
    results[0].expect_ok("install");
    let roles: Api<Role> = Api::namespaced(cluster.client.clone(), "n");
    assert!(present(&roles, "on").await, "Role in watched namespace n");
    let leader: Api<Role> = Api::namespaced(cluster.client.clone(), "y");
    let lease_rules = leader
        .get("on-leader-election")
        .await
        .unwrap()
        .rules
        .unwrap();
    assert!(
        lease_rules
            .iter()
            .any(|r| r.resource_names == Some(vec!["off".into()]))
    );
    cluster.stop().await;
}
