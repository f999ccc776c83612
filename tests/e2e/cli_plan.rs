//! `plan` and `drift` (issue #11): every kind of outcome with its exit status, and the plan
//! checked against what the operator then does, request by request (the Tyk emulator's log).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, merge};
use crate::support::status_str;

/// `(name, email, spec patch)` of the manifests the operator may apply.
fn good(env: &Env, emails: &Emails) -> Vec<Value> {
    let mk = |name: &str, email: &str, patch: Value| {
        let mut u = env.user(name, email);
        merge(&mut u, json!({"spec": patch}));
        u
    };
    vec![
        mk(
            "adopt-same",
            &emails.same,
            json!({"adoptionPolicy": "IfExists", "permissions": {"apis": "read"}}),
        ),
        mk(
            "adopt-drifted",
            &emails.drifted,
            json!({"adoptionPolicy": "IfExists", "firstName": "New", "permissions": {"apis": "write"}}),
        ),
        mk(
            "adopt-inactive",
            &emails.inactive,
            json!({"adoptionPolicy": "IfExists", "active": false, "permissions": {"apis": "read"}}),
        ),
        mk(
            "fresh",
            &emails.fresh,
            json!({"permissions": {"apis": "read"}}),
        ),
        mk(
            "with-pw",
            &emails.with_pw,
            json!({"passwordSecretRef": {"name": "with-pw-password"}}),
        ),
    ]
}

struct Emails {
    same: String,
    drifted: String,
    inactive: String,
    taken: String,
    fresh: String,
    with_pw: String,
}

fn actions(report: &Value, name: &str) -> Vec<String> {
    user(report, name)["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["action"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn user<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["name"] == name))
        .unwrap_or(&Value::Null)
}

fn write_docs(dir: &std::path::Path, file: &str, docs: &[Value]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut text = String::new();
    for d in docs {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(d)?);
    }
    std::fs::write(dir.join(file), text)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_predicts_what_the_operator_then_does() -> anyhow::Result<()> {
    let mut env = Env::new("cli-plan", EnvOptions::default()).await?;
    // The plan adopts hand-made users, which the connection must allow (tenancy guardrails).
    let mut conn = env.cluster_connection_object(&[]);
    conn["spec"]["policy"] = json!({"allowAdoption": true});
    env.apply(&conn).await?;
    let emails = Emails {
        same: env.email("same"),
        drifted: env.email("drifted"),
        inactive: env.email("inactive"),
        taken: env.email("taken"),
        fresh: env.email("fresh"),
        with_pw: env.email("with-pw"),
    };
    // Users made by hand before the operator arrives.
    for (email, first) in [
        (&emails.same, "Ada"),
        (&emails.drifted, "Old"),
        (&emails.inactive, "Ada"),
        (&emails.taken, "Ada"),
    ] {
        let (_, key) = env
            .dashboard
            .admin_create_user(&json!({"org_id": env.org_id, "first_name": first, "last_name": "Lovelace",
                                      "email_address": email, "active": true, "user_permissions": {"apis": "read"}}))
            .await?;
        env.corpus.secret(&key);
    }
    let pw = env.password();
    env.put_password("with-pw-password", &pw).await?;

    let good_docs = good(&env, &emails);
    let mut taken = env.user("taken", &emails.taken);
    merge(
        &mut taken,
        json!({"spec": {"permissions": {"apis": "read"}}}),
    );
    let mut no_secret = env.user("no-secret", &env.email("no-secret"));
    merge(
        &mut no_secret,
        json!({"spec": {"passwordSecretRef": {"name": "missing"}}}),
    );
    let mut bad = env.user("bad-perm", &env.email("bad"));
    merge(
        &mut bad,
        json!({"spec": {"permissions": {"apis": "admin"}}}),
    );
    // What the connection does not allow: plan applies its policy as the operator does.
    let mut root = env.user("root", &env.email("root"));
    merge(&mut root, json!({"spec": {"superUser": true}}));
    let all = env.dir.join("all");
    write_docs(&all.join("nested"), "good.yaml", &good_docs)?;
    write_docs(&all, "errors.yaml", &[taken, no_secret, bad, root])?;
    let good_dir = env.dir.join("good");
    write_docs(&good_dir, "users.yaml", &good_docs)?;
    let (all_s, good_s) = (all.display().to_string(), good_dir.display().to_string());

    // 1 = a user would fail; each outcome with the reason the condition would carry.
    let writes = if env.is_emulated_dashboard() {
        env.tyk_stats().await?.writes()
    } else {
        0
    };
    let report = env
        .cli(&["plan", "-f", &all_s, "-o", "json"], &[], None)
        .await?
        .expect(1)?
        .json()?;
    let want: [(&str, &[&str]); 6] = [
        ("adopt-same", &["adopt"]),
        ("adopt-drifted", &["adopt", "update"]),
        ("adopt-inactive", &["adopt", "deactivate"]),
        ("fresh", &["create"]),
        ("with-pw", &["create", "setPassword"]),
        ("taken", &[]),
    ];
    for (name, acts) in want {
        anyhow::ensure!(
            actions(&report, name) == acts,
            "{name}: {}",
            user(&report, name)
        );
    }
    for (name, reason) in [
        ("taken", "AlreadyExists"),
        ("no-secret", "PasswordSecretNotFound"),
        ("bad-perm", "InvalidSpec"),
        ("root", "NotAllowed"),
    ] {
        anyhow::ensure!(
            user(&report, name)["error"]["reason"] == reason,
            "{name}: {}",
            user(&report, name)
        );
    }
    let refusal = user(&report, "root")["error"]["message"]
        .as_str()
        .unwrap_or_default();
    anyhow::ensure!(
        refusal.contains("spec.policy.allowSuperUsers") && refusal.contains(&env.connection_name),
        "root: {refusal}"
    );
    let drifted = &user(&report, "adopt-drifted")["actions"][1]["changes"];
    anyhow::ensure!(
        drifted
            == &json!([
                {"field": "firstName", "dashboard": "Old", "desired": "New"},
                {"field": "permissions.apis", "dashboard": "read", "desired": "write"}
            ]),
        "diff: {drifted}"
    );
    let text = env
        .cli(&["plan", "-f", &all_s], &[], None)
        .await?
        .expect(1)?
        .stdout;
    for needle in [
        "firstName: \"Old\" -> \"New\"",
        "error AlreadyExists",
        "set password (would set",
        "active: true -> false",
    ] {
        anyhow::ensure!(text.contains(needle), "text plan lacks {needle:?}:\n{text}");
    }

    // 2 = changes pending; unmanaged users listed on request.
    let pending = env
        .cli(
            &["plan", "-f", &good_s, "-o", "json", "--prune-report"],
            &[],
            None,
        )
        .await?
        .expect(2)?
        .json()?;
    let unmanaged: BTreeSet<&str> = pending["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    anyhow::ensure!(
        unmanaged.contains(emails.taken.as_str()) && !unmanaged.contains(emails.same.as_str()),
        "unmanaged: {unmanaged:?}"
    );
    if env.is_emulated_dashboard() {
        let after = env.tyk_stats().await?.writes();
        anyhow::ensure!(
            after == writes,
            "plan wrote to the Dashboard ({} writes)",
            after - writes
        );
    }

    // The operator applies the same manifests: its Dashboard writes are the plan, exactly.
    let log_start = if env.is_emulated_dashboard() {
        env.tyk_requests().await?.len()
    } else {
        0
    };
    env.start_operator().await?;
    for d in &good_docs {
        env.apply(d).await?;
    }
    let mut ids = std::collections::BTreeMap::new();
    for d in &good_docs {
        let name = d["metadata"]["name"].as_str().unwrap();
        ids.insert(name, status_str(&env.wait_ready(name).await?, "userId"));
    }
    if env.is_emulated_dashboard() {
        let log = env.tyk_requests().await?;
        let done: Vec<String> = log[log_start..]
            .iter()
            .filter(|r| r["method"] != "GET" && r["path"] != "/api/users/search")
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["path"].as_str().unwrap_or(""),
                    r["outcome"].as_str().unwrap_or("")
                )
            })
            .collect();
        let mut expected: Vec<String> = Vec::new();
        for (name, acts) in want.iter().filter(|(n, _)| *n != "taken") {
            let id = &ids[name];
            for a in *acts {
                expected.push(match *a {
                    // An adoption is a refused create (nothing written), then a lookup.
                    "adopt" => "POST /admin/users 403".to_string(),
                    "create" => "POST /admin/users 200".to_string(),
                    "update" | "deactivate" => format!("PUT /admin/users/{id} 200"),
                    "setPassword" => format!("POST /api/users/{id}/actions/reset 200"),
                    other => anyhow::bail!("unexpected planned action {other}"),
                });
            }
        }
        let (mut done_sorted, mut expected_sorted) = (done.clone(), expected.clone());
        done_sorted.sort();
        expected_sorted.sort();
        anyhow::ensure!(
            done_sorted == expected_sorted,
            "the operator did\n{done:#?}\nthe plan said\n{expected:#?}"
        );
    }

    // 0 = nothing left to do.
    let clean = env
        .cli(&["plan", "-f", &good_s], &[], None)
        .await?
        .expect(0)?;
    anyhow::ensure!(clean.stdout.contains("5 unchanged"), "{}", clean.stdout);
    env.cli(&["drift", "-n", &env.ns], &[], None)
        .await?
        .expect(0)?;

    // Drift made in the Dashboard while the operator is away: drift shows it, read-only.
    env.stop_operator().await?;
    let fresh_id = &ids["fresh"];
    let mut remote = env.remote(fresh_id).await?;
    remote["first_name"] = json!("Edited");
    env.dashboard.admin_put_user(fresh_id, &remote).await?;
    let drift = env
        .cli(&["drift", "-n", &env.ns, "-o", "json"], &[], None)
        .await?
        .expect(2)?
        .json()?;
    anyhow::ensure!(actions(&drift, "fresh") == ["update"], "drift: {drift}");
    anyhow::ensure!(user(&drift, "fresh")["actions"][0]["changes"][0]["field"] == "firstName");
    anyhow::ensure!(actions(&drift, "adopt-same").is_empty(), "drift: {drift}");
    anyhow::ensure!(
        env.remote(fresh_id).await?["first_name"] == "Edited",
        "drift wrote"
    );

    // --url: credentials from the environment only; without them a clear error.
    let url = env.dashboard.url.clone();
    let no_creds = env
        .cli(&["plan", "-f", &good_s, "--url", &url], &[], None)
        .await?
        .expect(1)?;
    anyhow::ensure!(
        no_creds.stderr.contains("DASHBOARD_ADMIN_SECRET"),
        "{}",
        no_creds.stderr
    );
    let creds = [
        (
            "DASHBOARD_ADMIN_SECRET",
            env.dashboard.admin_secret.as_str(),
        ),
        ("DASHBOARD_API_KEY", env.admin_key.as_str()),
    ];
    let by_url = env
        .cli(
            &[
                "plan",
                "-f",
                &good_s,
                "--url",
                &url,
                "--org-id",
                &env.org_id,
                "-o",
                "json",
            ],
            &creds,
            None,
        )
        .await?
        .expect(1)?
        .json()?;
    // No cluster is read, so no status either: the IfExists users are adopted (already in
    // line), and the others meet their own Dashboard user as AlreadyExists.
    anyhow::ensure!(actions(&by_url, "adopt-drifted") == ["adopt"], "{by_url}");
    anyhow::ensure!(
        user(&by_url, "fresh")["error"]["reason"] == "AlreadyExists",
        "{by_url}"
    );
    env.finish().await
}

/// Malformed input: exit 1 and an error that names the file and the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_manifests_name_file_and_document() -> anyhow::Result<()> {
    let env = Env::new("cli-plan-input", EnvOptions::default()).await?;
    let ok = serde_yaml::to_string(&env.user("a", &env.email("a")))?;
    let cases = [
        ("broken.yaml", format!("{ok}---\nspec: [unclosed\n"), "broken.yaml: document 2: not YAML/JSON"),
        ("no-email.yaml", "apiVersion: userop.dev/v1alpha1\nkind: DashboardUser\nmetadata: {name: x}\nspec: {firstName: y}\n".to_string(), "no-email.yaml: document 1: DashboardUser x: missing field `email`"),
        ("twice.yaml", format!("{ok}---\n{ok}"), "twice.yaml: document 2: DashboardUser"),
        ("empty.yaml", "# nothing\n".to_string(), "no DashboardUser manifests found"),
    ];
    for (file, text, want) in cases {
        let path = env.dir.join(file);
        std::fs::write(&path, text)?;
        let run = env
            .cli(&["plan", "-f", &path.display().to_string()], &[], None)
            .await?
            .expect(1)?;
        anyhow::ensure!(
            run.stderr.contains(want) && run.stdout.is_empty(),
            "{file}: {}",
            run.stderr
        );
    }
    let run = env
        .cli(&["plan", "-f", "-"], &[], Some("kind: [\n"))
        .await?
        .expect(1)?;
    anyhow::ensure!(run.stderr.contains("<stdin>: document 1"), "{}", run.stderr);
    env.finish().await
}
