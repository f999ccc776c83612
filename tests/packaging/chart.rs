//! The chart offline: lint, rendering under several values combinations, and the values
//! schema. (Installing it into a cluster is in `install.rs`.)

use crate::support::{chart_dir, helm, render};
use serde_json::{Value, json};

const NS: &str = "userop-system";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The values combinations the lint and schema checks use: the defaults plus every
/// `ci/*-values.yaml` of the chart (the files chart-testing would use too).
pub fn combinations() -> Vec<(String, Value)> {
    let mut out = vec![("defaults".to_string(), json!({}))];
    let mut files: Vec<_> = std::fs::read_dir(chart_dir().join("ci"))
        .expect("charts/dashboard-user-operator/ci")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, serde_yaml::from_str(&text).unwrap()));
    }
    assert!(
        out.len() >= 4,
        "ci/ holds the namespaced, ha and everything cases"
    );
    out
}

#[test]
fn lint_is_clean_in_strict_mode_for_every_combination() {
    let steps = combinations()
        .into_iter()
        .map(|(_, values)| json!({"op": "lint", "chart": chart_dir(), "values": values, "strict": true}))
        .collect();
    for ((name, _), result) in combinations().iter().zip(helm(steps)) {
        let report = &result.expect_ok("lint")["report"];
        assert_eq!(report["errors"], json!([]), "{name}: lint errors {report}");
        // Severity 1 is "info" (e.g. "icon is recommended"); warnings and errors fail.
        let bad: Vec<&Value> = report["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["severity"].as_i64().unwrap_or(3) >= 2)
            .collect();
        assert!(bad.is_empty(), "{name}: lint findings {bad:?}");
    }
}

#[test]
fn defaults_render_a_hardened_cluster_wide_operator() {
    let r = render(json!({}), NS);
    let args = r.args();
    assert_eq!(args[0], "run", "first arg is the subcommand");
    for flag in [
        "--concurrency=4",
        "--resync-period=10m",
        "--metrics-addr=0.0.0.0:8080",
        "--log-format=json",
        "--log-level=info",
    ] {
        assert!(
            args.contains(&flag.to_string()),
            "{flag} missing from {args:?}"
        );
    }
    assert!(!args.iter().any(|a| a.starts_with("--watch-namespaces")));
    assert!(!args.iter().any(|a| a.starts_with("--leader-elect")));

    let c = r.container();
    assert_eq!(c["env"][0]["name"], "POD_NAMESPACE");
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert!(c["resources"]["requests"]["memory"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    let dep = r.get("Deployment", "duo-dashboard-user-operator");
    let pod = &dep["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["serviceAccountName"], "duo-dashboard-user-operator");
    // One pod without a Lease must never overlap with its successor.
    assert_eq!(dep["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(dep["metadata"]["namespace"], NS);

    r.get("ServiceAccount", "duo-dashboard-user-operator");
    let binding = r.get("ClusterRoleBinding", "duo-dashboard-user-operator");
    assert_eq!(binding["subjects"][0]["namespace"], NS);
    let role = r.get("ClusterRole", "duo-dashboard-user-operator");
    let resources: Vec<String> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| strings(&rule["resources"]))
        .collect();
    for needed in [
        "dashboardusers",
        "dashboardusers/status",
        "dashboardusergroups",
        "dashboardusergroups/status",
        "secrets",
        "events",
    ] {
        assert!(
            resources.contains(&needed.to_string()),
            "{needed} in {resources:?}"
        );
    }
    assert_eq!(
        r.of_kind("Role").count(),
        0,
        "no Roles without watchNamespaces"
    );
    for absent in [
        "Service",
        "ServiceMonitor",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ClusterDashboardConnection",
    ] {
        assert_eq!(r.of_kind(absent).count(), 0, "{absent} only when asked");
    }
    assert!(r.notes.contains("Next step"), "NOTES tells the next step");
    assert!(r.notes.contains("ClusterDashboardConnection"));
}

#[test]
fn watch_namespaces_give_roles_only_and_pass_the_flag() {
    let r = render(json!({"watchNamespaces": ["team-a", "team-b"]}), NS);
    assert!(
        r.args()
            .contains(&"--watch-namespaces=team-a,team-b".to_string())
    );
    let roles: Vec<&str> = r
        .of_kind("Role")
        .map(|o| o["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["team-a", "team-b", NS]);
    for ns in ["team-a", "team-b", NS] {
        let binding = r
            .of_kind("RoleBinding")
            .find(|o| o["metadata"]["namespace"] == ns)
            .unwrap_or_else(|| panic!("RoleBinding in {ns}"));
        assert_eq!(binding["subjects"][0]["namespace"], NS);
    }
    // The operator's namespace, unwatched, only lends Secrets (cluster connections' admin
    // Secrets live there) and takes Events.
    let own = r
        .of_kind("Role")
        .find(|o| o["metadata"]["namespace"] == NS)
        .unwrap();
    let own_resources: Vec<String> = own["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| strings(&rule["resources"]))
        .collect();
    assert!(
        !own_resources
            .iter()
            .any(|r| r.starts_with("dashboardusers"))
    );
    // Cluster-wide: only cluster-scoped kinds, which no Role can grant.
    let cluster = r.get("ClusterRole", "duo-dashboard-user-operator");
    for rule in cluster["rules"].as_array().unwrap() {
        for res in strings(&rule["resources"]) {
            assert!(
                res.starts_with("clusterdashboardconnections") || res == "namespaces",
                "cluster-wide grant of {res} in namespaced mode"
            );
        }
    }
}

#[test]
fn several_replicas_turn_on_leader_election_and_a_disruption_budget() {
    let single = render(json!({}), NS);
    assert!(
        single
            .find("Role", "duo-dashboard-user-operator-leader-election")
            .is_none()
    );

    let r = render(json!({"replicas": 3}), NS);
    let args = r.args();
    assert!(args.contains(&"--leader-elect".to_string()), "{args:?}");
    assert!(args.contains(&"--lease-name=duo-dashboard-user-operator".to_string()));
    let dep = r.get("Deployment", "duo-dashboard-user-operator");
    assert_eq!(dep["spec"]["replicas"], 3);
    assert_eq!(dep["spec"]["strategy"]["type"], "RollingUpdate");
    let pdb = r.get("PodDisruptionBudget", "duo-dashboard-user-operator");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        dep["spec"]["selector"]["matchLabels"]
    );
    let lease_role = r.get("Role", "duo-dashboard-user-operator-leader-election");
    assert_eq!(lease_role["metadata"]["namespace"], NS);
    let named = lease_role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["resourceNames"].is_array())
        .expect("a rule scoped to the Lease's name");
    assert_eq!(
        named["resourceNames"],
        json!(["duo-dashboard-user-operator"])
    );
    r.get("RoleBinding", "duo-dashboard-user-operator-leader-election");

    // Asked for explicitly with one replica: election on, no PDB (it would block drains).
    let forced = render(
        json!({"leaderElection": {"enabled": true, "leaseName": "l1"}}),
        NS,
    );
    assert!(forced.args().contains(&"--lease-name=l1".to_string()));
    assert_eq!(forced.of_kind("PodDisruptionBudget").count(), 0);
}

#[test]
fn network_policy_allows_dns_api_server_dashboard_and_metrics_only() {
    let r = render(
        json!({"networkPolicy": {"enabled": true,
            "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443]},
            "dashboard": {"cidrs": ["10.1.0.0/16"], "ports": [3000],
                          "namespaceSelector": {"kubernetes.io/metadata.name": "tyk"}}}}),
        NS,
    );
    let np = r.get("NetworkPolicy", "duo-dashboard-user-operator");
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    let egress = np["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress.len(), 3, "DNS, API server, Dashboard: {egress:?}");
    assert_eq!(egress[0]["ports"][0]["port"], 53);
    assert_eq!(
        egress[0]["to"][0]["podSelector"]["matchLabels"]["k8s-app"],
        "kube-dns"
    );
    assert_eq!(
        egress[1]["ports"],
        json!([{"port": 443, "protocol": "TCP"}])
    );
    assert_eq!(
        egress[1]["to"],
        json!([{"ipBlock": {"cidr": "10.0.0.1/32"}}])
    );
    assert_eq!(
        egress[2]["ports"],
        json!([{"port": 3000, "protocol": "TCP"}])
    );
    assert_eq!(
        egress[2]["to"],
        json!([{"ipBlock": {"cidr": "10.1.0.0/16"}},
               {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tyk"}}}])
    );
    let ingress = np["spec"]["ingress"].as_array().unwrap();
    assert_eq!(
        ingress,
        &vec![json!({"ports": [{"port": "metrics", "protocol": "TCP"}]})]
    );
    let sel = &np["spec"]["podSelector"]["matchLabels"];
    let dep = r.get("Deployment", "duo-dashboard-user-operator");
    assert_eq!(sel, &dep["spec"]["selector"]["matchLabels"]);
}

#[test]
fn service_monitor_needs_the_prometheus_operator_api() {
    // Offline rendering knows no monitoring.coreos.com/v1: the Service comes, the
    // ServiceMonitor does not, and NOTES says why. (With the API: install.rs.)
    let r = render(
        json!({"metrics": {"serviceMonitor": {"enabled": true}}}),
        NS,
    );
    let svc = r.get("Service", "duo-dashboard-user-operator-metrics");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
    assert_eq!(r.of_kind("ServiceMonitor").count(), 0);
    assert!(
        r.notes.contains("no ServiceMonitor was created"),
        "{}",
        r.notes
    );

    let service_only = render(json!({"metrics": {"service": {"enabled": true}}}), NS);
    service_only.get("Service", "duo-dashboard-user-operator-metrics");
    assert!(!service_only.notes.contains("ServiceMonitor was created"));
}

#[test]
fn default_connection_is_rendered_from_values_as_a_first_install_hook() {
    let r = render(
        json!({"defaultConnection": {"create": true, "url": "https://dashboard.tyk:3000",
            "adminSecret": {"name": "tyk-admin", "key": "secret"},
            "apiKeySecret": {"name": "tyk-api-key"},
            "orgId": "org-1",
            "allowedNamespaces": {"names": ["team-a"], "selector": {"matchLabels": {"tyk": "yes"}}},
            "tls": {"insecureSkipVerify": true}}}),
        NS,
    );
    let c = r.get("ClusterDashboardConnection", "default");
    assert_eq!(c["apiVersion"], "userop.dev/v1alpha1");
    assert!(c["metadata"]["namespace"].is_null(), "cluster-scoped");
    // Offline the kind is not served, as on a first install: a post-install hook only (never
    // post-upgrade, which would delete and recreate it), owned by the release so the next
    // upgrade adopts it, and kept by rollbacks and uninstall (upgrade_gap.rs runs it all).
    let a = &c["metadata"]["annotations"];
    assert_eq!(a["helm.sh/hook"], "post-install");
    assert_eq!(a["helm.sh/resource-policy"], "keep");
    assert_eq!(a["meta.helm.sh/release-name"], "duo");
    assert_eq!(a["meta.helm.sh/release-namespace"], NS);
    assert_eq!(
        c["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    let spec = &c["spec"];
    assert_eq!(spec["url"], "https://dashboard.tyk:3000");
    assert_eq!(
        spec["adminSecretRef"],
        json!({"name": "tyk-admin", "key": "secret", "namespace": NS})
    );
    assert_eq!(spec["apiKeySecretRef"]["name"], "tyk-api-key");
    assert_eq!(spec["orgId"], "org-1");
    assert_eq!(spec["allowedNamespaces"]["names"], json!(["team-a"]));
    assert_eq!(
        spec["allowedNamespaces"]["selector"]["matchLabels"]["tyk"],
        "yes"
    );
    assert_eq!(spec["tls"]["insecureSkipVerify"], true);
    assert!(
        r.notes
            .contains("kubectl get clusterdashboardconnection default")
    );
}

#[test]
fn default_connection_policy_is_rendered_only_where_it_differs_from_the_narrow_defaults() {
    let base = json!({"create": true, "url": "https://dashboard.tyk:3000",
        "adminSecret": {"name": "tyk-admin"}, "orgId": "org-1"});
    let with = |policy: Value| {
        let mut c = base.clone();
        c["policy"] = policy;
        json!({"defaultConnection": c})
    };
    // The chart's defaults, and the defaults written out, render no policy at all: the
    // CRD's defaults are the same narrow ones.
    for values in [
        json!({"defaultConnection": base.clone()}),
        with(
            json!({"allowSuperUsers": false, "allowAdminUsers": false, "allowAdoption": false,
                    "allowedOrgIds": [], "permissionCeiling": {}}),
        ),
    ] {
        let r = render(values.clone(), NS);
        let spec = &r.get("ClusterDashboardConnection", "default")["spec"];
        assert!(spec["policy"].is_null(), "{values}: {spec}");
    }
    let r = render(
        with(json!({"allowAdminUsers": true, "allowAdoption": false,
                    "allowedOrgIds": ["org-2"],
                    "permissionCeiling": {"users": "deny", "*": "write"}})),
        NS,
    );
    let spec = &r.get("ClusterDashboardConnection", "default")["spec"];
    assert_eq!(
        spec["policy"],
        json!({"allowAdminUsers": true, "allowedOrgIds": ["org-2"],
               "permissionCeiling": {"users": "deny", "*": "write"}})
    );
    // The rendered spec is one the operator's own type reads back as written.
    let policy: dashboard_user_operator::crd::ConnectionPolicy =
        serde_json::from_value(spec["policy"].clone()).unwrap();
    assert!(policy.allow_admin_users && !policy.allow_adoption && !policy.allow_super_users);
    assert_eq!(policy.allowed_org_ids, ["org-2"]);
}

#[test]
fn default_connection_of_type_admin_users_api_names_its_token_secret() {
    let r = render(
        json!({"defaultConnection": {"create": true, "type": "AdminUsersAPI",
            "url": "https://users.example.com/api",
            "tokenSecret": {"name": "users-token"},
            // Tyk-only values are left out of this type's connection (CEL refuses them).
            "adminSecret": {"name": "ignored"}, "orgId": "ignored",
            "allowedNamespaces": {"names": ["team-a"]}}}),
        NS,
    );
    let spec = &r.get("ClusterDashboardConnection", "default")["spec"];
    assert_eq!(spec["type"], "AdminUsersAPI");
    assert_eq!(spec["url"], "https://users.example.com/api");
    assert_eq!(
        spec["tokenSecretRef"],
        json!({"name": "users-token", "key": "token", "namespace": NS})
    );
    for tyk_only in ["adminSecretRef", "apiKeySecretRef", "orgId"] {
        assert!(spec[tyk_only].is_null(), "{tyk_only} rendered: {spec}");
    }
    assert_eq!(spec["allowedNamespaces"]["names"], json!(["team-a"]));
}

#[test]
fn crds_follow_install_and_keep() {
    let with = render(json!({}), NS);
    let crds: Vec<&Value> = with.of_kind("CustomResourceDefinition").collect();
    assert_eq!(crds.len(), 4, "four CRDs: {:?}", with.names());
    for crd in &crds {
        assert_eq!(
            crd["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
    }
    let unkept = render(json!({"crds": {"keep": false}}), NS);
    for crd in unkept.of_kind("CustomResourceDefinition") {
        assert!(crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null());
    }
    let without = render(json!({"crds": {"install": false}}), NS);
    assert_eq!(without.of_kind("CustomResourceDefinition").count(), 0);
}
