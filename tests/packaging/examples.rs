//! `examples/`: every connection states its `spec.policy` in so many words, and every user
//! and group there is allowed by the connection it names, checked by the operator's own
//! policy and plan code (docs/multi-tenancy.md). `kubectl.rs` applies them to the CRDs.

use std::collections::HashMap;

use dashboard_user_operator::crd::{
    AdoptionPolicy, ClusterDashboardConnection, ConnectionKind, ConnectionRef, ConnectionSettings,
    DashboardConnection, DashboardUser, DashboardUserGroup,
};
use dashboard_user_operator::group::plan::DesiredGroup;
use dashboard_user_operator::policy::Policy;
use dashboard_user_operator::reconcile::plan::desired_user;
use kube::ResourceExt;
use serde::Deserialize;
use serde_json::Value;

/// Every document of `examples/*.yaml`, with the file it came from.
fn documents() -> Vec<(String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            out.push((name.clone(), Value::deserialize(doc).unwrap()));
        }
    }
    out
}

type Key = (ConnectionKind, String, String);

/// The examples' connections, keyed as users name them (kind, namespace or "", name): the
/// policy the operator would build from each, and its settings.
fn connections(docs: &[(String, Value)]) -> HashMap<Key, (Policy, ConnectionSettings)> {
    let mut out = HashMap::new();
    for (file, doc) in docs {
        let (key, label, settings): (Key, String, ConnectionSettings) = match doc["kind"].as_str() {
            Some("ClusterDashboardConnection") => {
                let c: ClusterDashboardConnection = serde_json::from_value(doc.clone()).unwrap();
                let key = (
                    ConnectionKind::ClusterDashboardConnection,
                    String::new(),
                    c.name_any(),
                );
                (key, format!("cluster/{}", c.name_any()), c.spec.settings)
            }
            Some("DashboardConnection") => {
                let c: DashboardConnection = serde_json::from_value(doc.clone()).unwrap();
                let ns = c.namespace().unwrap();
                let label = format!("{ns}/{}", c.name_any());
                let key = (ConnectionKind::DashboardConnection, ns, c.name_any());
                (key, label, c.spec.settings)
            }
            _ => continue,
        };
        assert!(
            doc["spec"]["policy"].is_object(),
            "{file}: connection {label} does not state its spec.policy"
        );
        let policy = Policy {
            connection: label,
            home_org: settings.org_id.clone(),
            rules: settings.policy.clone(),
            unrestricted: false,
        };
        out.insert(key, (policy, settings));
    }
    out
}

fn key_of(r: &ConnectionRef, ns: Option<String>) -> Key {
    match r.kind {
        ConnectionKind::ClusterDashboardConnection => (r.kind, String::new(), r.name.clone()),
        ConnectionKind::DashboardConnection => (r.kind, ns.unwrap_or_default(), r.name.clone()),
    }
}

#[test]
fn every_example_user_and_group_is_allowed_by_its_connection() {
    let docs = documents();
    let conns = connections(&docs);
    let (mut users, mut groups) = (0, 0);
    for (file, doc) in &docs {
        match doc["kind"].as_str() {
            Some("DashboardUser") => {
                let u: DashboardUser = serde_json::from_value(doc.clone()).unwrap();
                let name = u.name_any();
                let Some((policy, s)) = conns.get(&key_of(&u.connection(), u.namespace())) else {
                    panic!("{file}: {name} names no connection of examples/");
                };
                let d = desired_user(&u.spec, s.type_, s.org_id.as_deref())
                    .unwrap_or_else(|e| panic!("{file}: {name}: {e}"));
                if let Err(e) = policy.check(&d.ask(&u.spec)) {
                    panic!("{file}: {name} is refused: {e}");
                }
                if u.spec.adoption_policy == AdoptionPolicy::IfExists
                    && let Err(e) = policy.check_adoption("users")
                {
                    panic!("{file}: {name} asks to adopt: {e}");
                }
                users += 1;
            }
            Some("DashboardUserGroup") => {
                let g: DashboardUserGroup = serde_json::from_value(doc.clone()).unwrap();
                let name = g.name_any();
                let Some((policy, s)) = conns.get(&key_of(&g.connection(), g.namespace())) else {
                    panic!("{file}: group {name} names no connection of examples/");
                };
                let d = DesiredGroup::of(&g, s.org_id.as_deref());
                if let Err(e) = policy.check(&d.ask()) {
                    panic!("{file}: group {name} is refused: {e}");
                }
                groups += 1;
            }
            _ => {}
        }
    }
    assert!(users >= 4 && groups >= 1, "{users} users, {groups} groups");
}

/// The check above can fail: the shared `default` example refuses an admin, which is why
/// bob has a connection of his own.
#[test]
fn the_shared_example_connection_refuses_an_admin() {
    let docs = documents();
    let conns = connections(&docs);
    let (shared, s) = &conns[&(
        ConnectionKind::ClusterDashboardConnection,
        String::new(),
        "default".to_string(),
    )];
    let (_, bob) = docs
        .iter()
        .find(|(_, d)| d["kind"] == "DashboardUser" && d["metadata"]["name"] == "bob")
        .expect("examples/bob-admin.yaml");
    let bob: DashboardUser = serde_json::from_value(bob.clone()).unwrap();
    let d = desired_user(&bob.spec, s.type_, s.org_id.as_deref()).unwrap();
    let err = shared.check(&d.ask(&bob.spec)).unwrap_err();
    assert!(err.contains("allowAdminUsers"), "{err}");
}
