//! The plain manifests and the CRDs through the real kubectl against the emulator:
//! `kubectl apply -f deploy/`, `kubectl apply -k deploy/`, and what `kubectl get` shows for
//! our kinds (printer columns, short names, category).

use crate::cluster::Cluster;
use crate::deploy::NAMESPACE;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::json;

async fn assert_installed(cluster: &Cluster) {
    let c = &cluster.client;
    let dep = Api::<Deployment>::namespaced(c.clone(), NAMESPACE)
        .get("dashboard-user-operator")
        .await
        .expect("Deployment applied");
    let args = dep.spec.unwrap().template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert_eq!(args[0], "run");
    Api::<ClusterRole>::all(c.clone())
        .get("dashboard-user-operator")
        .await
        .expect("ClusterRole applied");
    let crds = Api::<CustomResourceDefinition>::all(c.clone());
    for crd in [
        "dashboardusers.userop.dev",
        "clusterdashboardconnections.userop.dev",
    ] {
        crds.get(crd).await.expect("CRD applied");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_f_deploy_installs_and_is_idempotent() {
    let cluster = Cluster::start("apply-f").await;
    let out = cluster.kubectl_ok(&["apply", "-f", "deploy/"]).await;
    assert!(
        out.contains("deployment.apps/dashboard-user-operator created"),
        "{out}"
    );
    assert_installed(&cluster).await;
    // A second apply finds nothing to change.
    let again = cluster.kubectl_ok(&["apply", "-f", "deploy/"]).await;
    assert!(
        !again.contains(" created") && !again.contains(" configured"),
        "{again}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_k_deploy_installs() {
    let cluster = Cluster::start("apply-k").await;
    let out = cluster.kubectl_ok(&["apply", "-k", "deploy/"]).await;
    assert!(
        out.contains("namespace/dashboard-user-operator created"),
        "{out}"
    );
    assert_installed(&cluster).await;
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_crds_accept_the_admin_users_api_example_and_refuse_mixed_types() {
    let cluster = Cluster::start("admin-users").await;
    cluster
        .kubectl_ok(&["apply", "-f", "deploy/01-crds.yaml"])
        .await;
    let out = cluster
        .kubectl_ok(&["apply", "-f", "examples/admin-users.yaml"])
        .await;
    assert!(
        out.contains("clusterdashboardconnection.userop.dev/admin-users created")
            && out.contains("dashboarduser.userop.dev/dana created"),
        "{out}"
    );
    let mixed = r#"
apiVersion: userop.dev/v1alpha1
kind: ClusterDashboardConnection
metadata: {name: mixed}
spec:
  type: AdminUsersAPI
  url: https://example.com/api
  tokenSecretRef: {name: t}
  adminSecretRef: {name: a}
"#;
    let file = cluster.dir.path().join("mixed.yaml");
    std::fs::write(&file, mixed).unwrap();
    let res = cluster
        .kubectl(&["apply", "-f", file.to_str().unwrap()])
        .await;
    let out = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(
        !res.status.success(),
        "a connection with both types' Secrets was accepted: {out}"
    );
    assert!(
        out.contains("adminSecretRef, apiKeySecretRef and orgId apply only to type TykDashboard"),
        "{out}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_is_accepted_by_the_crds() {
    // Their spec.policy blocks included: schema and CEL as the real kubectl sends them.
    let cluster = Cluster::start("examples").await;
    cluster
        .kubectl_ok(&["apply", "-f", "deploy/01-crds.yaml"])
        .await;
    cluster.kubectl_ok(&["create", "namespace", "team-a"]).await;
    let out = cluster.kubectl_ok(&["apply", "-f", "examples/"]).await;
    for created in [
        "clusterdashboardconnection.userop.dev/default created",
        "clusterdashboardconnection.userop.dev/platform created",
        "clusterdashboardconnection.userop.dev/admin-users created",
        "dashboardconnection.userop.dev/team-dashboard created",
        "dashboarduser.userop.dev/bob created",
        "dashboardusergroup.userop.dev/api-readers created",
    ] {
        assert!(out.contains(created), "{created}: {out}");
    }
    cluster.stop().await;
}

/// Columns of a `kubectl get` table: header names and the row of `name`.
fn table(out: &str, name: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().expect("a header line");
    let cells = |l: &str| -> Vec<String> {
        // Columns are separated by runs of 2+ spaces (values like "jane@x" hold none).
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let row = lines
        .find(|l| cells(l).first().is_some_and(|c| c.ends_with(name)))
        .unwrap_or_else(|| panic!("no row {name} in:\n{out}"));
    (cells(header), cells(row))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_shows_our_columns_and_short_names() {
    let cluster = Cluster::start("get").await;
    cluster
        .kubectl_ok(&["apply", "-f", "deploy/01-crds.yaml"])
        .await;
    cluster.kubectl_ok(&["create", "namespace", "team-a"]).await;
    let objects = r#"
apiVersion: userop.dev/v1alpha1
kind: DashboardUser
metadata: {name: jane, namespace: team-a}
spec: {email: jane@example.com}
---
apiVersion: userop.dev/v1alpha1
kind: DashboardConnection
metadata: {name: tyk, namespace: team-a}
spec:
  url: http://tyk-dashboard.tyk:3000
  orgId: org-1
  adminSecretRef: {name: tyk-admin}
"#;
    let file = cluster.dir.path().join("objects.yaml");
    std::fs::write(&file, objects).unwrap();
    cluster
        .kubectl_ok(&["apply", "-f", file.to_str().unwrap()])
        .await;

    // A status such as the operator writes, so Ready and Reason have something to show.
    let users: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        "team-a",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("userop.dev", "v1alpha1", "DashboardUser"),
            "dashboardusers",
        ),
    );
    let status = json!({"apiVersion": "userop.dev/v1alpha1", "kind": "DashboardUser",
        "status": {"observedGeneration": 1, "orgId": "org-1", "conditions": [
            {"type": "Ready", "status": "True", "reason": "Synced", "message": "in line",
             "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]}});
    users
        .patch_status(
            "jane",
            &PatchParams::apply("packaging-test"),
            &Patch::Apply(&status),
        )
        .await
        .expect("status written");

    let out = cluster
        .kubectl_ok(&["get", "dashboardusers,dashboardconnections", "-n", "team-a"])
        .await;
    let (header, row) = table(out.split("\n\n").next().unwrap(), "jane");
    assert_eq!(
        header,
        ["NAME", "EMAIL", "ORG", "READY", "REASON", "AGE"],
        "{out}"
    );
    assert_eq!(
        &row[..5],
        [
            "dashboarduser.userop.dev/jane",
            "jane@example.com",
            "org-1",
            "True",
            "Synced"
        ]
    );
    let connections = out
        .split("\n\n")
        .nth(1)
        .expect("a second table for connections");
    let (header, row) = table(connections, "tyk");
    assert_eq!(
        header,
        ["NAME", "URL", "ORG", "READY", "REASON", "AGE"],
        "{out}"
    );
    assert_eq!(
        &row[..3],
        [
            "dashboardconnection.userop.dev/tyk",
            "http://tyk-dashboard.tyk:3000",
            "org-1"
        ]
    );

    // Short names and the category resolve to the same objects.
    for (short, name) in [
        ("dbu", "jane"),
        ("dbc", "tyk"),
        ("dashboard", "jane"),
        ("dashboard", "tyk"),
    ] {
        let names = cluster
            .kubectl_ok(&["get", short, "-n", "team-a", "-o", "name"])
            .await;
        assert!(
            names.lines().any(|l| l.ends_with(&format!("/{name}"))),
            "{short}: {names}"
        );
    }
    let none = cluster.kubectl_ok(&["get", "cdbc", "-o", "name"]).await;
    assert_eq!(none.trim(), "", "cdbc resolves (cluster-scoped, none yet)");
    cluster.stop().await;
}
