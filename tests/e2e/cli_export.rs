//! `export` (issue #11): a seeded Dashboard of every user shape becomes manifests that the
//! operator adopts one by one without a single Dashboard write; `plan` agrees before
//! ("adopt", nothing else) and after ("no changes"), and so does `drift`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::common::{API_KEY_SECRET_KEY, API_KEY_SECRET_NAME, Env, EnvOptions, merge, random_hex};
use crate::support::status_str;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_apply_adopts_every_user_without_a_write() -> anyhow::Result<()> {
    let mut env = Env::new("cli-export", EnvOptions::default()).await?;
    if !env.is_emulated_dashboard() {
        // It creates a super user and a second org: not on somebody's real Dashboard.
        eprintln!(
            "SKIP {}: seeds super users and orgs, emulated Dashboard only",
            env.test
        );
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    let seeded = seed(&env).await?;
    anyhow::ensure!(seeded.len() >= 50, "seeded {} users", seeded.len());
    // A whole Dashboard moves into Git through the platform team's connection: it adopts
    // admins in both orgs, and would adopt super users (tenancy guardrails: none of this by
    // default), so that the key owner below is refused for its key and nothing else.
    let other_org = seeded
        .iter()
        .find(|s| !s.org.is_empty() && s.org != env.org_id)
        .map(|s| s.org.clone())
        .unwrap();
    env.set_cluster_policy(
        &env.connection_name,
        json!({"allowSuperUsers": true, "allowAdminUsers": true, "allowAdoption": true,
               "allowedOrgIds": [other_org]}),
    )
    .await?;

    let conn = env.connection_name.clone();
    let conn_ref = format!("ClusterDashboardConnection/{conn}");
    let ns = env.ns.clone();
    let args = [
        "export",
        "--connection",
        &conn,
        "--namespace",
        &ns,
        "--connection-ref",
        &conn_ref,
    ];
    let yaml = env.cli(&args, &[], None).await?.expect(0)?;
    let again = env.cli(&args, &[], None).await?.expect(0)?;
    anyhow::ensure!(
        yaml.stdout == again.stdout,
        "two exports of one Dashboard differ"
    );
    // The super user whose API key the connection holds is never adopted, whatever the
    // policy: export leaves it out, and says so (the only line on stderr).
    let owner = seeded.iter().find(|s| s.org.is_empty()).unwrap();
    anyhow::ensure!(
        yaml.stderr.trim()
            == format!(
                "left out {}: it holds the API key of connection cluster/{conn}, which is never adopted",
                owner.email.to_lowercase()
            ),
        "export warned: {}",
        yaml.stderr
    );
    let docs = documents(&yaml.stdout)?;
    let everyone = env.dashboard.emu_users().await?;
    anyhow::ensure!(
        docs.len() + 1 == everyone.len(),
        "{} manifests for {} users (all but the key owner)",
        docs.len(),
        everyone.len()
    );
    check_names(&docs)?;
    // --org: one organisation only (the second org holds one user).
    let other = seeded
        .iter()
        .find(|s| !s.org.is_empty() && s.org != env.org_id)
        .unwrap();
    let mut org_args = args.to_vec();
    org_args.extend(["--org", &other.org]);
    let one = documents(&env.cli(&org_args, &[], None).await?.expect(0)?.stdout)?;
    anyhow::ensure!(
        one.len() == 1 && one[0]["spec"]["orgId"] == other.org.as_str(),
        "--org: {one:?}"
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let list = env.cli(&json_args, &[], None).await?.expect(0)?.json()?;
    anyhow::ensure!(
        list["kind"] == "List" && list["items"].as_array().map(Vec::len) == Some(docs.len())
    );
    anyhow::ensure!(
        list["items"].as_array().unwrap() == &docs,
        "json and yaml exports differ"
    );
    let by_email: BTreeMap<(String, String), &Value> = docs
        .iter()
        .map(|d| {
            (
                (
                    d["spec"]["orgId"].as_str().unwrap_or("").into(),
                    d["spec"]["email"].as_str().unwrap_or("").into(),
                ),
                d,
            )
        })
        .collect();
    for s in seeded.iter().filter(|s| !s.org.is_empty()) {
        let d = by_email
            .get(&(s.org.clone(), s.email.to_lowercase()))
            .ok_or_else(|| anyhow::anyhow!("{} not exported", s.email))?;
        anyhow::ensure!(
            d["spec"]["adoptionPolicy"] == "IfExists" && d["spec"]["deletionPolicy"] == "Orphan",
            "{d}"
        );
        anyhow::ensure!(d["spec"]["active"] == s.active, "{}: active", s.email);
        anyhow::ensure!(d["spec"]["superUser"] == false, "{}: superUser", s.email);
    }

    // One file per user plus a kustomization listing them.
    let split = env.dir.join("export");
    let split_s = split.display().to_string();
    let mut split_args = args.to_vec();
    split_args.extend(["--split-dir", &split_s]);
    env.cli(&split_args, &[], None).await?.expect(0)?;
    let kustomization: Value =
        serde_yaml::from_str(&std::fs::read_to_string(split.join("kustomization.yaml"))?)?;
    let resources: Vec<&str> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Exactly the manifests' files, each once: a count alone would pass a wrong list.
    let files: BTreeSet<String> = docs
        .iter()
        .map(|d| format!("{}.yaml", d["metadata"]["name"].as_str().unwrap_or("")))
        .collect();
    let listed: BTreeSet<String> = resources.iter().map(|r| r.to_string()).collect();
    anyhow::ensure!(
        resources.len() == docs.len() && listed == files,
        "kustomization lists {resources:?}"
    );
    for d in &docs {
        let file = format!("{}.yaml", d["metadata"]["name"].as_str().unwrap());
        let text = std::fs::read_to_string(split.join(&file))?;
        anyhow::ensure!(
            &serde_yaml::from_str::<Value>(&text)? == d,
            "{file} differs from stdout"
        );
    }

    // A manifest for the key owner all the same (written by hand): plan refuses it as the
    // operator would, naming the key, although the connection allows super users.
    let mut by_hand = env.user("key-owner", &owner.email);
    by_hand["spec"]["connectionRef"] = json!({"kind": "ClusterDashboardConnection", "name": conn});
    merge(
        &mut by_hand,
        json!({"spec": {"superUser": true, "adoptionPolicy": "IfExists"}}),
    );
    let owner_file = env.dir.join("key-owner.yaml");
    std::fs::write(&owner_file, serde_yaml::to_string(&by_hand)?)?;
    let owner_s = owner_file.display().to_string();
    let refused = env
        .cli(&["plan", "-f", &owner_s, "--output", "json"], &[], None)
        .await?
        .expect(1)?
        .json()?;
    let error = &refused["users"][0]["error"];
    anyhow::ensure!(
        error["reason"] == "NotAllowed"
            && error["message"]
                .as_str()
                .is_some_and(|m| m.contains("holds the API key of connection")),
        "plan for the key owner: {refused}"
    );

    // The Dashboard id each manifest must adopt: its (org, email) among the seeded users.
    let mut want_id: BTreeMap<String, String> = BTreeMap::new();
    for d in &docs {
        let key = (
            d["spec"]["orgId"].as_str().unwrap_or(""),
            d["spec"]["email"].as_str().unwrap_or(""),
        );
        let id = everyone
            .iter()
            .find(|e| {
                (
                    e["org_id"].as_str().unwrap_or(""),
                    e["email_address"].as_str().unwrap_or(""),
                ) == key
            })
            .and_then(|e| e["id"].as_str())
            .ok_or_else(|| anyhow::anyhow!("no Dashboard user for {key:?}"))?;
        want_id.insert(d["metadata"]["name"].as_str().unwrap().into(), id.into());
    }

    // Before applying: the plan is "adopt" of the right user, for every file, nothing more.
    let dir_args = ["plan", "-f", &split_s, "--output", "json"];
    let before = env.cli(&dir_args, &[], None).await?.expect(2)?.json()?;
    let planned = before["users"].as_array().unwrap();
    let planned_names: BTreeSet<&str> = planned.iter().filter_map(|u| u["name"].as_str()).collect();
    anyhow::ensure!(
        planned.len() == docs.len() && planned_names.len() == docs.len(),
        "plan covers {} users ({} names) for {} files",
        planned.len(),
        planned_names.len(),
        docs.len()
    );
    for u in planned {
        let actions: Vec<&str> = u["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["action"].as_str())
            .collect();
        anyhow::ensure!(
            actions == ["adopt"] && u["error"].is_null(),
            "plan for {}: {u}",
            u["email"]
        );
        let name = u["name"].as_str().unwrap_or("");
        anyhow::ensure!(
            u["actions"][0]["userId"].as_str() == want_id.get(name).map(String::as_str),
            "plan for {name} adopts the wrong user: {u}"
        );
    }
    let summary = &before["summary"];
    anyhow::ensure!(
        summary["adopt"] == docs.len() && summary["errors"] == 0 && summary["unchanged"] == 0,
        "plan summary: {summary}"
    );

    // Apply with the operator running: everyone adopted, not one Dashboard write.
    let writes = env.tyk_stats().await?.writes();
    env.start_operator().await?;
    for d in &docs {
        env.apply(d).await?;
    }
    for d in &docs {
        let name = d["metadata"]["name"].as_str().unwrap();
        let u = env.wait_ready(name).await?;
        anyhow::ensure!(
            Some(&status_str(&u, "userId")) == want_id.get(name),
            "{name} adopted the wrong user"
        );
    }
    let stats = env.tyk_stats().await?;
    anyhow::ensure!(
        stats.writes() == writes,
        "{} Dashboard writes while adopting an export",
        stats.writes() - writes
    );
    anyhow::ensure!(
        env.dashboard.emu_users().await?.len() == everyone.len(),
        "users were added"
    );

    // After: nothing to do, whether read from the directory or from stdin.
    let after = env
        .cli(&["plan", "-f", &split_s], &[], None)
        .await?
        .expect(0)?;
    anyhow::ensure!(
        after.stdout.contains(&format!("{} unchanged", docs.len())),
        "{}",
        after.stdout
    );
    let after_json = env.cli(&dir_args, &[], None).await?.expect(0)?.json()?;
    let users = after_json["users"].as_array().unwrap();
    anyhow::ensure!(
        users.len() == docs.len()
            && users
                .iter()
                .all(|u| u["actions"] == json!([]) && u["error"].is_null())
            && after_json["summary"]["unchanged"] == docs.len(),
        "plan after adoption: {after_json}"
    );
    env.cli(&["plan", "-f", "-"], &[], Some(&yaml.stdout))
        .await?
        .expect(0)?;
    // Every user is managed now: an export for the next batch leaves them all out.
    let mut skip_args = args.to_vec();
    skip_args.push("--skip-managed");
    let rest = env.cli(&skip_args, &[], None).await?.expect(0)?;
    anyhow::ensure!(
        rest.stdout.is_empty()
            && rest
                .stderr
                .contains(&format!("left out {} users", docs.len())),
        "--skip-managed: {}\n{}",
        rest.stdout,
        rest.stderr
    );
    env.cli(&["drift", "-n", &env.ns], &[], None)
        .await?
        .expect(0)?;
    env.finish().await
}

struct Seeded {
    org: String,
    email: String,
    active: bool,
}

/// ≥ 50 users of every shape: admins with Tyk's default permissions, custom permissions with
/// `deny`, inactive, in a group, password expiry, mixed-case emails, emails whose derived
/// names collide, the same email in a second org, and a super user whose key the
/// connection then uses (so the export sees every org).
async fn seed(env: &Env) -> anyhow::Result<Vec<Seeded>> {
    let d = &env.dashboard;
    let tag = random_hex(6);
    let group = d
        .api_create_group(&env.admin_key, &format!("g-{tag}"), &env.org_id)
        .await?;
    let other_org = d.create_org(&format!("other-{tag}")).await?;
    let mut specs: Vec<Value> = Vec::new();
    for i in 0..44 {
        let mut u = json!({"org_id": env.org_id, "first_name": format!("User{i}"), "last_name": "Seed",
                           "email_address": format!("user{i:02}-{tag}@example.com"), "active": true});
        match i % 5 {
            0 => {} // Tyk's defaults: IsAdmin + ResetPassword.
            1 => u["user_permissions"] = json!({"apis": "write", "users": "read", "keys": "deny"}),
            2 => {
                u["active"] = json!(false);
                u["user_permissions"] = json!({"analytics": "read"});
            }
            3 => {
                u["group_id"] = json!(group);
                u["user_permissions"] = json!({"apis": "read"});
            }
            _ => {
                u["password_max_days"] = json!(30);
                u["user_permissions"] = json!({"IsAdmin": "admin"});
            }
        }
        specs.push(u);
    }
    specs.push(
        json!({"org_id": env.org_id, "first_name": "Mixed", "last_name": "Case",
                      "email_address": format!("Mixed.Case-{tag}@Example.COM"), "active": true,
                      "user_permissions": {"apis": "read"}}),
    );
    for local in ["a.b", "a-b", "a_b"] {
        specs.push(json!({"org_id": env.org_id, "first_name": "Twin", "email_address": format!("{local}-{tag}@x.io"),
                          "active": true, "user_permissions": {"portal": "read"}}));
    }
    specs.push(json!({"org_id": other_org, "first_name": "Elsewhere", "email_address": format!("a.b-{tag}@x.io"),
                      "active": true, "user_permissions": {"apis": "write"}}));
    specs.push(json!({"org_id": "", "first_name": "Root", "email_address": format!("root-{tag}@example.com"),
                      "active": true, "user_permissions": {"IsAdmin": "admin"}}));
    let mut out = Vec::new();
    let mut super_key = String::new();
    for s in &specs {
        let (_, key) = d.admin_create_user(s).await?;
        env.corpus.secret(&key);
        if s["org_id"] == "" {
            super_key = key;
        }
        out.push(Seeded {
            org: s["org_id"].as_str().unwrap_or("").into(),
            email: s["email_address"].as_str().unwrap().into(),
            active: s["active"].as_bool().unwrap_or(false),
        });
    }
    // The connection's key sees every org: a super user's (docs/tyk-dashboard-api.md §3).
    env.put_secret(
        &env.operator_ns,
        API_KEY_SECRET_NAME,
        &[(API_KEY_SECRET_KEY, &super_key)],
    )
    .await?;
    Ok(out)
}

fn documents(yaml: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let v: Value = serde::Deserialize::deserialize(doc)?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

/// Sorted, unique DNS-1123 labels; colliding emails got told apart.
fn check_names(docs: &[Value]) -> anyhow::Result<()> {
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap_or(""))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    anyhow::ensure!(names == sorted, "not sorted by name");
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    anyhow::ensure!(unique.len() == names.len(), "duplicate names: {names:?}");
    for n in &names {
        let ok = n.len() <= 63
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !n.starts_with('-')
            && !n.ends_with('-');
        anyhow::ensure!(ok, "{n:?} is not a DNS-1123 label");
    }
    let twins = names.iter().filter(|n| n.starts_with("a-b-")).count();
    anyhow::ensure!(twins == 4, "4 colliding emails, {twins} names: {names:?}");
    Ok(())
}
