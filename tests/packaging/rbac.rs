//! RBAC proven sufficient and minimal: every request the operator made during the e2e suite
//! (`target/e2e/operator-requests.jsonl`, written by the e2e harness from the emulator's request
//! log) is checked against the chart's rendered rules with a small evaluator of the Kubernetes
//! RBAC rule semantics; a request the rules deny fails, and so does a granted permission that
//! no request used (unless it is listed in [`NEEDED_WITHOUT_A_REQUEST`] with its reason).
//!
//! The log only exists after the e2e suite ran, so the test is `#[ignore]`d and `tests/run.sh`
//! runs it afterwards (`cargo test --locked --test packaging -- --ignored`).

#[cfg(test)]
use crate::support::helm;
use crate::support::{Rendered, render, workspace};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One API request, as the RBAC authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub verb: String,
    pub group: String,
    /// `resource` or `resource/subresource`.
    pub resource: String,
    pub namespace: String,
    pub name: String,
}

impl Request {
    pub fn from_log(entry: &Value) -> Option<Request> {
        let s = |k: &str| entry[k].as_str().unwrap_or("").to_string();
        let resource = s("resource");
        if resource.is_empty() {
            // Discovery and OpenAPI: non-resource URLs every authenticated user may read.
            return None;
        }
        let sub = s("subresource");
        let verb = s("verb");
        // The authorizer knows no name for these verbs (the name of a create is in the body),
        // so resourceNames never grant them.
        let name = match verb.as_str() {
            "create" | "list" | "watch" | "deletecollection" => String::new(),
            _ => s("name"),
        };
        Some(Request {
            verb,
            group: s("apiGroup"),
            resource: if sub.is_empty() {
                resource
            } else {
                format!("{resource}/{sub}")
            },
            namespace: s("namespace"),
            name,
        })
    }
}

/// One rule of a (Cluster)Role, with where it applies.
#[derive(Clone, Debug)]
pub struct Rule {
    pub role: String,
    /// None: cluster-wide (a ClusterRole through a ClusterRoleBinding).
    pub namespace: Option<String>,
    pub groups: Vec<String>,
    pub resources: Vec<String>,
    pub names: Vec<String>,
    pub verbs: Vec<String>,
}

fn list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules the chart grants its ServiceAccount: bound ClusterRoles and Roles.
pub fn rules(r: &Rendered) -> Vec<Rule> {
    let mut out = Vec::new();
    for binding in r
        .of_kind("ClusterRoleBinding")
        .chain(r.of_kind("RoleBinding"))
    {
        let ns = binding["metadata"]["namespace"].as_str().map(String::from);
        let role_kind = binding["roleRef"]["kind"].as_str().unwrap();
        let role_name = binding["roleRef"]["name"].as_str().unwrap();
        let role = r
            .of_kind(role_kind)
            .find(|o| {
                o["metadata"]["name"] == role_name
                    && (role_kind == "ClusterRole" || o["metadata"]["namespace"] == json!(ns))
            })
            .unwrap_or_else(|| panic!("binding to missing {role_kind}/{role_name}"));
        for rule in role["rules"].as_array().unwrap() {
            out.push(Rule {
                role: format!("{role_kind}/{role_name}"),
                namespace: ns.clone(),
                groups: list(&rule["apiGroups"]),
                resources: list(&rule["resources"]),
                names: list(&rule["resourceNames"]),
                verbs: list(&rule["verbs"]),
            });
        }
    }
    out
}

fn matches(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v == "*" || v == wanted)
}

fn resource_matches(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| {
        v == "*"
            || v == wanted
            // "*/scale" grants the scale subresource of every resource.
            || v.strip_prefix("*/").is_some_and(|sub| wanted.split_once('/').is_some_and(|(_, s)| s == sub))
    })
}

/// Whether `rule` grants `req`. `own_ns` is the namespace the operator runs in: Roles of the
/// release namespace apply there.
pub fn allows(rule: &Rule, req: &Request, own_ns: &str, release_ns: &str) -> bool {
    let ns_ok = match &rule.namespace {
        None => true,
        Some(ns) if ns == release_ns => req.namespace == own_ns,
        Some(ns) => *ns == req.namespace,
    };
    ns_ok
        && matches(&rule.groups, &req.group)
        && resource_matches(&rule.resources, &req.resource)
        && matches(&rule.verbs, &req.verb)
        && (rule.names.is_empty() || rule.names.contains(&req.name))
}

/// Permissions the operator needs although the API never shows a request for them.
pub const NEEDED_WITHOUT_A_REQUEST: &[(&str, &str, &str)] = &[(
    "userop.dev",
    "dashboardusers/finalizers",
    // OwnerReferencesPermissionEnforcement (on in most clusters) lets a client set
    // blockOwnerDeletion on the access Secret's ownerReference only if it may update the
    // owner's finalizers; the emulator does not run that admission plugin.
    "update",
)];

pub fn log_path() -> PathBuf {
    workspace().join("target/e2e/operator-requests.jsonl")
}

pub fn read_log() -> Vec<Value> {
    let path = log_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. It is written by the e2e suite (cargo test --test e2e); \
             run that first — this check must not pass without it",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Denied requests, and granted (group, resource, verb) atoms no request used.
pub fn evaluate(
    requests: &BTreeSet<Request>,
    rules: &[Rule],
    own_namespaces: &BTreeSet<String>,
    release_ns: &str,
) -> (Vec<Request>, Vec<String>) {
    let granted = |req: &Request, rule: &Rule| {
        own_namespaces
            .iter()
            .any(|own| allows(rule, req, own, release_ns))
    };
    let denied: Vec<Request> = requests
        .iter()
        .filter(|req| !rules.iter().any(|rule| granted(req, rule)))
        .cloned()
        .collect();
    let mut unused = Vec::new();
    for rule in rules {
        for group in &rule.groups {
            for resource in &rule.resources {
                for verb in &rule.verbs {
                    let exempt = NEEDED_WITHOUT_A_REQUEST
                        .iter()
                        .any(|(g, r, v)| g == group && r == resource && v == verb);
                    let used = requests.iter().any(|req| {
                        req.group == *group
                            && req.resource == *resource
                            && req.verb == *verb
                            && granted(req, rule)
                    });
                    if !used && !exempt {
                        unused.push(format!(
                            "{}{}: {verb} {group}/{resource}{}",
                            rule.role,
                            rule.namespace
                                .as_ref()
                                .map(|ns| format!(" in {ns}"))
                                .unwrap_or_default(),
                            if rule.names.is_empty() {
                                String::new()
                            } else {
                                format!(" {:?}", rule.names)
                            }
                        ));
                    }
                }
            }
        }
    }
    (denied, unused)
}

#[test]
#[ignore = "needs target/e2e/operator-requests.jsonl from the e2e suite; run by tests/run.sh"]
fn chart_rbac_grants_exactly_what_the_operator_requested_in_e2e() {
    let log = read_log();
    let requests: BTreeSet<Request> = log.iter().filter_map(Request::from_log).collect();
    assert!(
        requests.iter().any(|r| r.resource == "dashboardusers"),
        "the log holds no DashboardUser request: not a log of an e2e run"
    );
    // Leader election is only rendered (and so only checked) when the operator used it.
    let leader = requests.iter().any(|r| r.resource == "leases");
    let release_ns = "dashboard-user-operator";
    let mut step =
        crate::support::render_step(json!({"leaderElection": {"enabled": leader}}), release_ns);
    step["name"] = json!(release_ns);
    let rendered = Rendered::from_step(&helm(vec![step])[0]);
    let rules = rules(&rendered);
    // Each e2e test ran the operator in a namespace of its own; the release namespace's Roles
    // stand for whichever one it was. Those are the namespaces the operator's Leases and
    // its own Secrets were in.
    let own: BTreeSet<String> = requests
        .iter()
        .filter(|r| r.resource == "leases")
        .map(|r| r.namespace.clone())
        .collect();
    let own = if own.is_empty() {
        BTreeSet::from([release_ns.to_string()])
    } else {
        own
    };
    let (denied, unused) = evaluate(&requests, &rules, &own, release_ns);
    assert!(
        denied.is_empty(),
        "the chart's RBAC denies requests the operator made:\n{denied:#?}"
    );
    assert!(
        unused.is_empty(),
        "the chart grants permissions no request needed (least privilege):\n{unused:#?}"
    );
}

fn req(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Request {
    Request {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        namespace: namespace.into(),
        name: name.into(),
    }
}

/// What the chart's cluster-wide rules grant, request by request, for the evaluator's own test.
fn everything_the_default_rules_grant() -> BTreeSet<Request> {
    let mut all = BTreeSet::new();
    for (verbs, group, resource) in [
        ("get list watch patch", "userop.dev", "dashboardusers"),
        ("patch", "userop.dev", "dashboardusers/status"),
        ("get list watch patch", "userop.dev", "dashboardusergroups"),
        ("patch", "userop.dev", "dashboardusergroups/status"),
        ("get list watch", "userop.dev", "dashboardconnections"),
        ("patch", "userop.dev", "dashboardconnections/status"),
        (
            "get list watch",
            "userop.dev",
            "clusterdashboardconnections",
        ),
        ("patch", "userop.dev", "clusterdashboardconnections/status"),
        ("get list watch create patch delete", "", "secrets"),
        ("get", "", "namespaces"),
        ("create patch", "events.k8s.io", "events"),
    ] {
        for verb in verbs.split(' ') {
            all.insert(req(verb, group, resource, "team-a", "x"));
        }
    }
    all
}

#[test]
fn evaluator_denies_what_no_rule_grants_and_flags_what_nothing_used() {
    let rendered = render(json!({"replicas": 2}), "ops");
    let rules = rules(&rendered);
    let own = BTreeSet::from(["ops".to_string()]);
    let mut requests = everything_the_default_rules_grant();
    requests.insert(req("create", "coordination.k8s.io", "leases", "ops", ""));
    for verb in ["get", "update"] {
        requests.insert(req(
            verb,
            "coordination.k8s.io",
            "leases",
            "ops",
            "duo-dashboard-user-operator",
        ));
    }
    let (denied, unused) = evaluate(&requests, &rules, &own, "ops");
    assert_eq!(denied, vec![], "the full set is granted");
    assert_eq!(unused, Vec::<String>::new(), "and every grant is used");

    // Denied: a verb not granted, a Lease of another name or namespace, a subresource.
    for bad in [
        req("deletecollection", "", "secrets", "team-a", ""),
        req(
            "patch",
            "coordination.k8s.io",
            "leases",
            "ops",
            "duo-dashboard-user-operator",
        ),
        req(
            "update",
            "coordination.k8s.io",
            "leases",
            "ops",
            "someone-else",
        ),
        req(
            "get",
            "coordination.k8s.io",
            "leases",
            "team-a",
            "duo-dashboard-user-operator",
        ),
        req(
            "update",
            "userop.dev",
            "dashboardusers/status",
            "team-a",
            "u",
        ),
        req("get", "apps", "deployments", "ops", "d"),
    ] {
        let one = BTreeSet::from([bad.clone()]);
        let (denied, _) = evaluate(&one, &rules, &own, "ops");
        assert_eq!(denied, vec![bad]);
    }

    // Unused: drop every status patch and the grant is reported.
    requests.retain(|r| r.resource != "dashboardusers/status");
    let (_, unused) = evaluate(&requests, &rules, &own, "ops");
    assert_eq!(
        unused,
        vec!["ClusterRole/duo-dashboard-user-operator: patch userop.dev/dashboardusers/status"]
    );
}

#[test]
fn log_entries_map_to_authorizer_attributes() {
    let entry = json!({"verb": "create", "apiGroup": "", "resource": "secrets", "subresource": "",
                       "namespace": "a", "name": "s", "userAgent": "dashboard-user-operator/0.1.0"});
    assert_eq!(
        Request::from_log(&entry),
        Some(req("create", "", "secrets", "a", ""))
    );
    let status = json!({"verb": "patch", "apiGroup": "userop.dev", "resource": "dashboardusers",
                        "subresource": "status", "namespace": "a", "name": "u"});
    assert_eq!(
        Request::from_log(&status),
        Some(req(
            "patch",
            "userop.dev",
            "dashboardusers/status",
            "a",
            "u"
        ))
    );
    let discovery =
        json!({"verb": "get", "apiGroup": "", "resource": "", "namespace": "", "name": ""});
    assert_eq!(Request::from_log(&discovery), None);
}
