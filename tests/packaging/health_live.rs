//! The statuses the operator really writes, read by both GitOps health models: the real
//! operator binary runs against the Kubernetes and Tyk Dashboard emulators through
//! create → Ready → spec change → Stalled, every version of every object is recorded from a
//! watch, and each one is judged by the Argo CD Lua checks and by the kstatus rules.
//!
//! With `UPDATE_PACKAGING=1` the run also refreshes the captured fixtures in
//! `health/argocd/userop.dev/<Kind>/testdata/` (and their `health_test.yaml`).

use crate::health::{Health, argo_health};
use crate::health_fixtures::Verdict;
use crate::kstatus::{KStatus, compute};
use crate::live_run::{OPS, chart_values, cond_is, run_lifecycle};
use serde_json::{Value, json};

/// Argo CD and kstatus must tell the same story, apart from the one documented difference:
/// an error being retried (Ready=False, Reconciling=True) is Degraded for Argo CD and still
/// in progress for kstatus.
fn assert_consistent(kind: &str, o: &Value, argo: &Health, k: KStatus) {
    let name = o["metadata"]["name"].as_str().unwrap_or("?");
    let ctx = format!(
        "{kind}/{name} status {}: argo {argo:?}, kstatus {k:?}",
        o["status"]
    );
    if o["status"].is_null() || o["status"]["conditions"].is_null() {
        // Before the operator's first write; kstatus would call it Current, which is why the
        // operator writes Ready=Unknown/Reconciling=True on first sight.
        assert_eq!(argo.status, "Progressing", "{ctx}");
        return;
    }
    match argo.status.as_str() {
        "Healthy" => assert_eq!(k, KStatus::Current, "{ctx}"),
        "Progressing" => assert_eq!(k, KStatus::InProgress, "{ctx}"),
        "Degraded" => assert!(
            k == KStatus::Failed || (k == KStatus::InProgress && cond_is(o, "Ready", "False")),
            "{ctx}"
        ),
        other => panic!("unexpected Argo CD health {other}: {ctx}"),
    }
    if k == KStatus::Failed {
        assert_eq!(argo.status, "Degraded", "{ctx}");
    }
}

fn verdicts(kind: &str, versions: &[Value]) -> Vec<Verdict> {
    versions
        .iter()
        .map(|o| {
            let argo = argo_health(kind, o);
            let (k, _) = compute(o);
            assert_consistent(kind, o, &argo, k);
            (o.clone(), argo, k)
        })
        .collect()
}

fn of<'a>(v: &'a [Verdict], name: &'a str) -> impl Iterator<Item = &'a Verdict> + 'a {
    v.iter()
        .filter(move |(o, _, _)| o["metadata"]["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_statuses_read_alike_in_argo_cd_and_kstatus_through_the_lifecycle() {
    let rec = run_lifecycle().await;
    let users = verdicts("DashboardUser", &rec.users);
    let conns = verdicts("DashboardConnection", &rec.connections);
    let cconns = verdicts("ClusterDashboardConnection", &rec.cluster_connections);
    let groups = verdicts("DashboardUserGroup", &rec.groups);
    for (name, want) in [("readers", "Healthy"), ("keyless", "Degraded")] {
        let (o, argo, _) = of(&groups, name).last().expect("group recorded");
        assert_eq!(argo.status, want, "{name}: {}", o["status"]);
    }

    // jane: progressing from the first status write until Ready, and Ready at the end.
    let jane: Vec<_> = of(&users, "jane")
        .filter(|(o, _, _)| !o["status"]["conditions"].is_null())
        .collect();
    let first = jane.first().expect("jane got a status");
    assert_eq!(
        (first.1.status.as_str(), first.2),
        ("Progressing", KStatus::InProgress),
        "first sight: {}",
        first.0["status"]
    );
    let last = jane.last().unwrap();
    assert_eq!(
        (last.1.status.as_str(), last.2),
        ("Healthy", KStatus::Current),
        "{}",
        last.0["status"]
    );
    // The spec change: a version whose status is one generation behind reads as progressing.
    let stale = jane
        .iter()
        .find(|(o, _, _)| {
            o["metadata"]["generation"] == 2 && o["status"]["observedGeneration"] == 1
        })
        .expect("the edit was seen before the operator caught up");
    assert_eq!(
        (stale.1.status.as_str(), stale.2),
        ("Progressing", KStatus::InProgress)
    );

    // bob and jane-twin: stalled, so Degraded and Failed, with the operator's reason.
    for (name, reason) in [
        ("bob", "PasswordSecretNotFound"),
        ("jane-twin", "AlreadyExists"),
    ] {
        let (o, argo, k) = of(&users, name).last().unwrap();
        assert_eq!(
            (argo.status.as_str(), *k),
            ("Degraded", KStatus::Failed),
            "{name}: {}",
            o["status"]
        );
        assert!(argo.message.starts_with(reason), "{name}: {}", argo.message);
    }
    // dora's connection cannot reach its Dashboard: not Ready, not Healthy, never Current.
    let (o, argo, k) = of(&users, "dora").last().unwrap();
    assert_ne!(argo.status, "Healthy", "{}", o["status"]);
    assert_ne!(*k, KStatus::Current, "{}", o["status"]);
    for (set, good, bad) in [
        (&conns, "team-tyk", "team-broken"),
        (&conns, "team-tyk", "team-down"),
        (&cconns, "default", "broken"),
    ] {
        assert_eq!(of(set, good).last().unwrap().1.status, "Healthy", "{good}");
        assert_eq!(of(set, bad).last().unwrap().1.status, "Degraded", "{bad}");
    }

    // Every request it made is one the chart grants in this configuration (namespaced Roles,
    // the cluster-scoped kinds, the Lease). Minimality is the e2e log's job (rbac.rs).
    let mut step = crate::support::render_step(chart_values(), OPS);
    step["name"] = json!("duo");
    let rendered = tokio::task::spawn_blocking(move || crate::support::helm(vec![step]))
        .await
        .unwrap();
    let rules = crate::rbac::rules(&crate::support::Rendered::from_step(&rendered[0]));
    let requests = rec
        .requests
        .iter()
        .filter_map(crate::rbac::Request::from_log)
        .collect();
    assert!(
        rec.requests.iter().any(|r| r["resource"] == "leases"),
        "the operator took its Lease; it made {} requests: {:?}",
        rec.requests.len(),
        rec.requests
            .iter()
            .map(|r| format!("{} {}", r["verb"], r["resource"]))
            .collect::<std::collections::BTreeSet<_>>()
    );
    let own = std::collections::BTreeSet::from([OPS.to_string()]);
    let (denied, _) = crate::rbac::evaluate(&requests, &rules, &own, OPS);
    assert!(denied.is_empty(), "namespaced RBAC denies: {denied:#?}");

    if std::env::var_os("UPDATE_PACKAGING").is_some() {
        crate::health_fixtures::write(&users, &groups, &conns, &cconns);
    }
}
