//! `deploy/`: the chart rendered with its defaults, as plain manifests for `kubectl apply -f`
//! (and `-k`, through `deploy/Kustomization`). The test fails when they drift from the chart.
//!
//! To regenerate after a chart or CRD change: `UPDATE_PACKAGING=1 cargo test --test packaging`.

use crate::crds::REFRESH;
use crate::support::{helm, render_step, workspace};
use serde_json::json;

/// Namespace and release name the plain manifests are rendered for.
pub const NAMESPACE: &str = "dashboard-user-operator";

const HEADER: &str = "# Generated from charts/dashboard-user-operator with its default values\n\
# (release and namespace \"dashboard-user-operator\"). Do not edit: change the chart, then run\n\
#   UPDATE_PACKAGING=1 cargo test --test packaging\n";

/// The expected contents of every generated file in deploy/, by file name.
pub fn expected_files() -> Vec<(&'static str, String)> {
    let mut step = render_step(json!({}), NAMESPACE);
    step["name"] = json!(NAMESPACE);
    let results = helm(vec![step]);
    let manifests = results[0].expect_ok("render")["manifests"]
        .as_object()
        .unwrap()
        .clone();
    let mut paths: Vec<&String> = manifests.keys().collect();
    // Dependencies first, as Helm installs them: identity, then permissions, then workloads.
    paths.sort_by_key(|p| (install_rank(p), (*p).clone()));
    let (mut crds, mut operator) = (String::from(HEADER), String::from(HEADER));
    for path in paths {
        let text = manifests[path].as_str().unwrap();
        if path.ends_with("NOTES.txt") || text.trim().is_empty() {
            continue;
        }
        let target = if path.ends_with("/crds.yaml") {
            &mut crds
        } else {
            &mut operator
        };
        target.push_str(&format!("---\n# Source: {path}\n"));
        target.push_str(text.trim_start_matches('\n').trim_start_matches("---\n"));
        if !target.ends_with('\n') {
            target.push('\n');
        }
    }
    let namespace = format!(
        "{HEADER}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n  labels:\n    \
         app.kubernetes.io/part-of: dashboard-user-operator\n"
    );
    vec![
        ("00-namespace.yaml", namespace),
        ("01-crds.yaml", crds),
        ("02-operator.yaml", operator),
    ]
}

fn install_rank(template: &str) -> usize {
    const ORDER: [&str; 7] = [
        "crds.yaml",
        "serviceaccount.yaml",
        "rbac.yaml",
        "service.yaml",
        "deployment.yaml",
        "poddisruptionbudget.yaml",
        "networkpolicy.yaml",
    ];
    ORDER
        .iter()
        .position(|f| template.ends_with(&format!("/{f}")))
        .unwrap_or(ORDER.len())
}

#[test]
fn deploy_dir_matches_the_chart_rendered_with_defaults() {
    crate::crds::refresh_copy_if_asked();
    let dir = workspace().join("deploy");
    let expected = expected_files();
    if std::env::var_os("UPDATE_PACKAGING").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &expected {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    for (name, text) in &expected {
        let actual = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("deploy/{name}: {e} ({REFRESH})"));
        assert!(
            actual == *text,
            "deploy/{name} drifted from `helm template` of the chart ({REFRESH})"
        );
    }
    // Nothing else that `kubectl apply -f deploy/` would pick up.
    let mut applied: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json"))
        .collect();
    applied.sort();
    let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(applied, names, "unexpected manifests in deploy/");
    // The kustomization lists the same files, in the same order.
    let kustomization = std::fs::read_to_string(dir.join("Kustomization")).unwrap();
    let k: serde_json::Value = serde_yaml::from_str(&kustomization).unwrap();
    assert_eq!(k["kind"], "Kustomization");
    assert_eq!(k["resources"], json!(names));
}
