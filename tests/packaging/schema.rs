//! `values.schema.json`: bad values are refused before anything renders, each refusal naming
//! the offending path; the combinations the other tests use are accepted.

use crate::chart::combinations;
use crate::support::{chart_dir, helm, render_step};
use serde_json::{Value, json};

const NS: &str = "userop-system";

#[test]
fn schema_rejects_bad_values_and_accepts_good_ones() {
    let bad: Vec<(Value, &str)> = vec![
        (json!({"replicas": -1}), "/replicas"),
        (json!({"replicas": "two"}), "/replicas"),
        (json!({"concurrency": 0}), "/concurrency"),
        (json!({"watchNamespaces": ["Team_A"]}), "/watchNamespaces/0"),
        (json!({"watchNamespaces": "team-a"}), "/watchNamespaces"),
        (json!({"resyncPeriod": "soon"}), "/resyncPeriod"),
        (json!({"log": {"format": "xml"}}), "/log/format"),
        (
            json!({"image": {"pullPolicy": "Sometimes"}}),
            "/image/pullPolicy",
        ),
        (json!({"image": {"digest": "latest"}}), "/image/digest"),
        (json!({"metrics": {"port": 70000}}), "/metrics/port"),
        (json!({"crds": {"install": "yes"}}), "/crds/install"),
        (
            json!({"defaultConnection": {"create": true}}),
            "/defaultConnection",
        ),
        (
            json!({"defaultConnection": {"create": true, "url": "dashboard:3000",
                   "adminSecret": {"name": "s"}}}),
            "/defaultConnection/url",
        ),
        (
            json!({"defaultConnection": {"create": true, "type": "AdminUsersAPI",
                   "url": "https://users.example.com/api"}}),
            "/defaultConnection",
        ),
        (
            json!({"defaultConnection": {"create": true, "type": "Ldap",
                   "url": "https://users.example.com/api", "adminSecret": {"name": "s"}}}),
            "/defaultConnection/type",
        ),
        (
            json!({"defaultConnection": {"policy": {"allowAdoption": "yes"}}}),
            "/defaultConnection/policy/allowAdoption",
        ),
        (
            json!({"defaultConnection": {"policy": {"allowedOrgIds": ["org 1"]}}}),
            "/defaultConnection/policy/allowedOrgIds/0",
        ),
        (
            json!({"defaultConnection": {"policy": {"permissionCeiling": {"apis": "admin"}}}}),
            "/defaultConnection/policy/permissionCeiling",
        ),
        (
            json!({"defaultConnection": {"policy": {"permissionCeiling": {"IsAdmin": "deny"}}}}),
            "/defaultConnection/policy/permissionCeiling",
        ),
        (
            json!({"defaultConnection": {"policy": {"allowSuperUser": true}}}),
            "/defaultConnection/policy",
        ),
        (
            json!({"networkPolicy": {"apiServer": {"cidrs": ["not-a-cidr"]}}}),
            "/networkPolicy/apiServer/cidrs/0",
        ),
        (
            json!({"podDisruptionBudget": {"minAvailable": "half"}}),
            "/podDisruptionBudget",
        ),
        (json!({"extraArgs": ["run"]}), "/extraArgs/0"),
        (json!({"replica": 2}), "additional properties 'replica'"),
    ];
    let mut steps: Vec<Value> = bad
        .iter()
        .map(|(v, _)| json!({"op": "validate", "chart": chart_dir(), "values": v}))
        .collect();
    let good: Vec<Value> = combinations().into_iter().map(|(_, v)| v).collect();
    steps.extend(
        good.iter()
            .map(|v| json!({"op": "validate", "chart": chart_dir(), "values": v})),
    );
    // A bad value must also stop a real render (Helm validates before templating).
    steps.push(render_step(json!({"replicas": -1}), NS));
    let results = helm(steps);
    for ((values, path), result) in bad.iter().zip(&results) {
        assert!(!result.ok(), "schema accepted {values}");
        assert!(
            result.error().contains(path),
            "rejection of {values} should name {path}: {}",
            result.error()
        );
    }
    for (values, result) in good.iter().zip(&results[bad.len()..]) {
        assert!(result.ok(), "schema refused {values}: {}", result.error());
    }
    let render_bad = results.last().unwrap();
    assert!(!render_bad.ok() && render_bad.error().contains("/replicas"));
}
