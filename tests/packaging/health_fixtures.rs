//! Writes the Argo CD test fixtures from a live run (`UPDATE_PACKAGING=1`): representative
//! versions of each kind, as the operator wrote them, with the verdict the checks gave.

use crate::health::{Health, KINDS, argo_health, read_yaml};
use crate::kstatus::KStatus;
use crate::support::workspace;
use serde_json::{Value, json};

/// One recorded version with its Argo CD and kstatus verdicts.
pub type Verdict = (Value, Health, KStatus);
type Verdicts = [Verdict];

fn pick<'a>(v: &'a Verdicts, name: &str, which: impl Fn(&Value) -> bool) -> Option<&'a Verdict> {
    v.iter()
        .filter(|(o, _, _)| o["metadata"]["name"] == name && which(o))
        .last()
}

fn first<'a>(v: &'a Verdicts, name: &str, which: impl Fn(&Value) -> bool) -> Option<&'a Verdict> {
    v.iter()
        .find(|(o, _, _)| o["metadata"]["name"] == name && which(o))
}

fn has_status(o: &Value) -> bool {
    !o["status"]["conditions"].is_null()
}

fn write_kind(kind: &str, cases: Vec<(&str, Option<&Verdict>)>) {
    let dir = workspace().join(format!("health/argocd/userop.dev/{kind}"));
    let data = dir.join("testdata");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let mut tests = Vec::new();
    for (file, case) in cases {
        let (o, argo, _) = case.unwrap_or_else(|| panic!("{kind}: no version for {file}"));
        let mut o = o.clone();
        // Field ownership is noise for a health check.
        if let Some(meta) = o["metadata"].as_object_mut() {
            meta.remove("managedFields");
        }
        let path = format!("testdata/{file}.yaml");
        std::fs::write(dir.join(&path), serde_yaml::to_string(&o).unwrap()).unwrap();
        tests.push(
            json!({"healthStatus": {"status": argo.status, "message": argo.message},
                          "inputPath": path}),
        );
    }
    let spec = format!(
        "# Argo CD health-check tests (Argo's resource_customizations format). The inputs are\n\
         # statuses captured from the operator by tests/packaging/health_live.rs:\n\
         #   UPDATE_PACKAGING=1 cargo test --test packaging\n{}",
        serde_yaml::to_string(&json!({ "tests": tests })).unwrap()
    );
    std::fs::write(dir.join("health_test.yaml"), spec).unwrap();
}

pub fn write(users: &Verdicts, groups: &Verdicts, conns: &Verdicts, cconns: &Verdicts) {
    write_kind(
        "DashboardUserGroup",
        vec![
            ("first-sight", first(groups, "readers", has_status)),
            ("ready", pick(groups, "readers", has_status)),
            (
                "stalled-connection-without-api-key",
                pick(groups, "keyless", has_status),
            ),
        ],
    );
    write_kind(
        "DashboardUser",
        vec![
            ("created", first(users, "jane", |o| !has_status(o))),
            ("first-sight", first(users, "jane", has_status)),
            (
                "ready",
                pick(users, "jane", |o| {
                    o["metadata"]["generation"] == 1 && has_status(o)
                }),
            ),
            (
                "spec-changed",
                first(users, "jane", |o| {
                    o["metadata"]["generation"] == 2 && o["status"]["observedGeneration"] == 1
                }),
            ),
            ("ready-generation-2", pick(users, "jane", has_status)),
            (
                "stalled-password-secret-missing",
                pick(users, "bob", has_status),
            ),
            (
                "stalled-already-exists",
                pick(users, "jane-twin", has_status),
            ),
            ("dashboard-unreachable", pick(users, "dora", has_status)),
        ],
    );
    write_kind(
        "DashboardConnection",
        vec![
            ("ready", pick(conns, "team-tyk", has_status)),
            (
                "admin-secret-missing",
                pick(conns, "team-broken", has_status),
            ),
            (
                "dashboard-unreachable",
                pick(conns, "team-down", has_status),
            ),
        ],
    );
    write_kind(
        "ClusterDashboardConnection",
        vec![
            ("ready", pick(cconns, "default", has_status)),
            ("admin-secret-missing", pick(cconns, "broken", has_status)),
        ],
    );
}

#[test]
fn argo_checks_give_the_recorded_verdicts_on_captured_statuses() {
    for kind in KINDS {
        let dir = workspace().join(format!("health/argocd/userop.dev/{kind}"));
        let spec = read_yaml(&dir.join("health_test.yaml"));
        let cases = spec["tests"].as_array().expect("tests list");
        assert!(!cases.is_empty(), "{kind}: no cases");
        for case in cases {
            let input = case["inputPath"].as_str().unwrap();
            let obj = read_yaml(&dir.join(input));
            assert_eq!(obj["kind"], kind, "{input} is a {kind}");
            let got = argo_health(kind, &obj);
            let want = &case["healthStatus"];
            assert_eq!(
                got.status,
                want["status"].as_str().unwrap(),
                "{kind} {input}"
            );
            assert_eq!(
                got.message,
                want["message"].as_str().unwrap(),
                "{kind} {input}"
            );
        }
    }
}

#[test]
fn every_kind_has_a_check_and_verdicts_of_each_sort() {
    for kind in KINDS {
        let dir = workspace().join(format!("health/argocd/userop.dev/{kind}"));
        let spec = read_yaml(&dir.join("health_test.yaml"));
        let mut seen: Vec<String> = spec["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["healthStatus"]["status"].as_str().unwrap().to_string())
            .collect();
        seen.sort();
        seen.dedup();
        let needed: &[&str] = if kind == "DashboardUser" {
            &["Degraded", "Healthy", "Progressing"]
        } else {
            &["Degraded", "Healthy"]
        };
        for status in needed {
            assert!(seen.iter().any(|s| s == status), "{kind}: no {status} case");
        }
    }
}
