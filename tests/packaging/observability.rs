//! The chart's Grafana dashboard (a ConfigMap for Grafana's sidecar) and PrometheusRule: off by
//! default, rendered from values when asked, the rule only where its API exists. That every
//! metric they use exists in the operator's real `/metrics` is the e2e suite's check
//! (`tests/e2e/observability.rs`).

use crate::cluster::Cluster;
use crate::support::{chart_dir, render};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

const NS: &str = "userop-system";

#[test]
fn off_by_default() {
    let r = render(json!({}), NS);
    assert_eq!(r.of_kind("PrometheusRule").count(), 0);
    assert!(
        r.of_kind("ConfigMap")
            .all(|c| c["metadata"]["labels"].get("grafana_dashboard").is_none()),
        "no dashboard ConfigMap by default"
    );
}

#[test]
fn grafana_dashboard_configmap_carries_the_sidecar_label_and_valid_json() {
    let r = render(
        json!({"metrics": {"grafanaDashboard": {"enabled": true, "namespace": "monitoring",
            "annotations": {"grafana_folder": "Platform"}}}}),
        NS,
    );
    let cm = r.get("ConfigMap", "duo-dashboard-user-operator-grafana-dashboard");
    assert_eq!(cm["metadata"]["namespace"], "monitoring");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(cm["metadata"]["annotations"]["grafana_folder"], "Platform");
    let text = cm["data"]["dashboard-user-operator.json"].as_str().unwrap();
    let d: Value = serde_json::from_str(text).expect("the dashboard is JSON");
    assert_eq!(d["uid"], "dashboard-user-operator");
    let panels = d["panels"].as_array().unwrap();
    assert!(panels.len() >= 8, "{} panels", panels.len());
    for p in panels {
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            assert!(
                expr.contains("dashboard_user_operator_") && expr.contains("$job"),
                "panel {}: {expr}",
                p["title"]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_rule_where_its_api_exists() {
    let cluster = Cluster::start("rules").await;
    cluster
        .serve_monitoring_kind("PrometheusRule", "prometheusrules")
        .await;
    let values = json!({"metrics": {"prometheusRule": {"enabled": true,
        "labels": {"release": "prom"}, "stalledFor": "30m"}}});
    let step = json!({"op": "install", "chart": chart_dir(), "name": "duo", "namespace": NS,
        "values": values, "create_namespace": true});
    cluster.helm(vec![step]).await[0].expect_ok("install");
    let rules: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        NS,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("monitoring.coreos.com", "v1", "PrometheusRule"),
            "prometheusrules",
        ),
    );
    let rule = rules.get("duo-dashboard-user-operator").await.unwrap();
    assert_eq!(rule.metadata.labels.unwrap()["release"], "prom");
    let alerts = rule.data["spec"]["groups"][0]["rules"].as_array().unwrap();
    let names: Vec<&str> = alerts
        .iter()
        .map(|a| a["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "DashboardUserStalled",
            "DashboardUnreachable",
            "DashboardUserReconcileErrors",
            "DashboardUserOperatorNoLeader"
        ]
    );
    assert_eq!(alerts[0]["for"], "30m");
    for a in alerts {
        let expr = a["expr"].as_str().unwrap();
        assert!(
            expr.contains(r#"job="duo-dashboard-user-operator-metrics""#),
            "{}: {expr}",
            a["alert"]
        );
        // Alertmanager templates survive Helm's own templating.
        assert!(
            a["annotations"]["summary"].as_str().unwrap().contains("{{")
                || a["alert"] == "DashboardUserOperatorNoLeader",
            "{}",
            a["annotations"]["summary"]
        );
    }
    cluster.stop().await;
}
