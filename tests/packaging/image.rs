//! The Dockerfile cannot be built here (no registry access for base images), so its promises
//! are checked as text: a pinned Rust builder no older than the workspace's rust-version, a
//! static binary on distroless/static as non-root (the uid the chart runs as), and an
//! entrypoint that is the operator binary, which the chart's args start with `run` for.

use crate::support::{render, workspace};
use serde_json::json;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap()
}

fn version_tuple(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap()).collect()
}

fn workspace_package(key: &str) -> String {
    let manifest = read("Cargo.toml");
    let section = manifest.split("[workspace.package]").nth(1).unwrap();
    let line = section
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key} =")))
        .unwrap_or_else(|| panic!("{key} in [workspace.package]"));
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn dockerfile_builds_a_static_non_root_image_of_the_operator() {
    let dockerfile = read("Dockerfile");
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "multi-stage: builder and runtime");

    let builder = froms[0].split_whitespace().nth(1).unwrap();
    let rust = builder
        .strip_prefix("rust:")
        .and_then(|t| t.split('-').next())
        .expect("builder is a pinned rust image");
    assert!(
        version_tuple(rust) >= version_tuple(&workspace_package("rust-version")),
        "builder Rust {rust} older than the workspace's rust-version"
    );
    assert!(dockerfile.contains("musl"), "a static (musl) binary");
    assert!(dockerfile.contains("--locked"));
    assert!(dockerfile.contains("--bin dashboard-user-operator"));

    let runtime = froms[1].split_whitespace().nth(1).unwrap();
    assert!(
        runtime.starts_with("gcr.io/distroless/static") && runtime.ends_with(":nonroot"),
        "runtime base {runtime}"
    );
    let pod = &render(json!({}), "ops").objects;
    let dep = pod.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let uid = dep["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        .as_i64()
        .unwrap();
    assert!(
        dockerfile.contains(&format!("USER {uid}:{uid}")),
        "the image runs as the chart's uid {uid}"
    );
    assert!(dockerfile.contains(r#"ENTRYPOINT ["/dashboard-user-operator"]"#));
    assert!(dockerfile.contains(r#"CMD ["run"]"#));

    let ignore = read(".dockerignore");
    for excluded in ["target/", ".git/"] {
        assert!(
            ignore.lines().any(|l| l == excluded),
            "{excluded} kept out of the context"
        );
    }
}

#[test]
fn chart_app_version_is_the_crate_version() {
    let chart = read("charts/dashboard-user-operator/Chart.yaml");
    let app: serde_yaml::Value = serde_yaml::from_str(&chart).unwrap();
    assert_eq!(
        app["appVersion"].as_str().unwrap(),
        workspace_package("version"),
        "the default image tag follows the operator's version"
    );
}
