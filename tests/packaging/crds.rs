//! The chart's CRDs are the operator's generated ones (`crds/`, from
//! `dashboard-user-operator crd`): the copy in the chart must not drift, and neither may what
//! the chart renders from it.
//!
//! After the CRDs changed, refresh the copy and everything rendered from it (deploy/) with
//! `UPDATE_PACKAGING=1 cargo test --test packaging`.

use crate::support::{chart_dir, first_difference, parse_documents, render, workspace};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn yaml_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    files
}

fn generated() -> BTreeMap<String, String> {
    let files = yaml_files(&workspace().join("crds"));
    assert!(!files.is_empty(), "crds/ holds the generated CRDs");
    files
}

/// The message every generated-file drift ends with.
pub const REFRESH: &str = "refresh: UPDATE_PACKAGING=1 cargo test --test packaging";

/// With `UPDATE_PACKAGING` set, copies crds/ into the chart, once per test process (the
/// deploy/ test renders from the copy, so it calls this first too).
pub fn refresh_copy_if_asked() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("UPDATE_PACKAGING").is_none() {
        return;
    }
    ONCE.call_once(|| {
        let copy_dir = chart_dir().join("files/crds");
        let _ = std::fs::remove_dir_all(&copy_dir);
        std::fs::create_dir_all(&copy_dir).unwrap();
        for (name, text) in &generated() {
            std::fs::write(copy_dir.join(name), text).unwrap();
        }
    });
}

#[test]
fn chart_copy_of_the_crds_matches_crds_dir() {
    refresh_copy_if_asked();
    let source = generated();
    let copy = yaml_files(&chart_dir().join("files/crds"));
    assert_eq!(
        copy.keys().collect::<Vec<_>>(),
        source.keys().collect::<Vec<_>>(),
        "charts/dashboard-user-operator/files/crds/ must hold exactly crds/*.yaml ({REFRESH})"
    );
    for (name, text) in &source {
        assert!(
            copy[name] == *text,
            "chart's files/crds/{name} drifted from crds/{name} ({REFRESH})"
        );
    }
}

/// Drops what the chart adds (its labels and the keep annotation) so the rest can be compared.
fn without_chart_metadata(mut crd: Value) -> Value {
    let meta = crd["metadata"].as_object_mut().unwrap();
    for (field, keys) in [
        (
            "labels",
            &["app.kubernetes.io/part-of", "helm.sh/chart"][..],
        ),
        ("annotations", &["helm.sh/resource-policy"][..]),
    ] {
        if let Some(map) = meta.get_mut(field).and_then(Value::as_object_mut) {
            for k in keys {
                map.remove(*k);
            }
            if map.is_empty() {
                meta.remove(field);
            }
        }
    }
    crd
}

#[test]
fn rendered_crds_are_the_generated_ones_plus_the_keep_policy() {
    refresh_copy_if_asked();
    let mut expected: Vec<Value> = generated()
        .values()
        .flat_map(|t| parse_documents(t))
        .collect();
    let rendered = render(serde_json::json!({}), "default");
    let mut got: Vec<Value> = rendered
        .of_kind("CustomResourceDefinition")
        .cloned()
        .inspect(|crd| {
            assert_eq!(
                crd["metadata"]["annotations"]["helm.sh/resource-policy"],
                "keep"
            );
        })
        .map(without_chart_metadata)
        .collect();
    let by_name = |v: &Value| v["metadata"]["name"].as_str().unwrap_or("").to_string();
    expected.sort_by_key(by_name);
    got.sort_by_key(by_name);
    assert_eq!(
        got.len(),
        expected.len(),
        "one rendered CRD per generated CRD"
    );
    for (g, e) in got.iter().zip(&expected) {
        let diff = first_difference(g, e, "");
        assert!(
            diff.is_none(),
            "rendered CRD {} differs from crds/ at {diff:?}",
            by_name(e)
        );
    }
}
