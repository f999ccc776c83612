//! Create, update, email change, and org/permissions/active/group changes (docs/design.md §2,
//! §3.1).

use serde_json::json;

use crate::common::{Env, MANAGED_BY, kube, merge};
use crate::support::{has, perms_match, status_str};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_writes_user_access_secret_and_status() -> anyhow::Result<()> {
    let env = Env::ready("create").await?;
    // Mixed case on purpose: Tyk lower-cases emails (docs/tyk-dashboard-api.md §10.9).
    let email = env
        .email("Ada.Create")
        .replace("example.com", "Example.COM");
    let mut u = env.user("ada", &email);
    merge(
        &mut u,
        json!({"spec": {"permissions": {"apis": "write", "analytics": "read", "users": "deny"}}}),
    );
    env.apply(&u).await?;
    let u = env.wait_ready("ada").await?;

    // kstatus: Ready=True with the others False once synced.
    has(&u, "Reconciling", "False", None).map_err(anyhow::Error::msg)?;
    has(&u, "Stalled", "False", None).map_err(anyhow::Error::msg)?;
    let id = status_str(&u, "userId");
    anyhow::ensure!(!id.is_empty(), "status.userId empty");
    anyhow::ensure!(
        status_str(&u, "orgId") == env.org_id,
        "status.orgId {}",
        u["status"]["orgId"]
    );
    anyhow::ensure!(status_str(&u, "accessKeySecretName") == "ada-dashboard-access");
    let finalizers = u["metadata"]["finalizers"].to_string();
    anyhow::ensure!(
        finalizers.contains(crate::common::FINALIZER),
        "finalizers {finalizers}"
    );

    // Status on first sight: the first status the watch saw said Unknown/Reconciling.
    let first = env
        .history
        .lock()
        .unwrap()
        .iter()
        .find(|v| v["metadata"]["name"] == "ada" && v["status"]["conditions"].is_array())
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no status ever seen"))?;
    has(&first, "Ready", "Unknown", None).map_err(|e| anyhow::anyhow!("first status: {e}"))?;
    has(&first, "Reconciling", "True", None).map_err(|e| anyhow::anyhow!("first status: {e}"))?;

    // The Dashboard has exactly this user, as specified.
    let remote = env.remote(&id).await?;
    anyhow::ensure!(
        remote["email_address"] == email.to_lowercase(),
        "email {}",
        remote["email_address"]
    );
    anyhow::ensure!(remote["first_name"] == "Ada" && remote["last_name"] == "Lovelace");
    anyhow::ensure!(
        remote["org_id"] == env.org_id.as_str(),
        "org {}",
        remote["org_id"]
    );
    anyhow::ensure!(remote["active"] == true, "active {}", remote["active"]);
    perms_match(&remote, &[("apis", "write"), ("analytics", "read")])
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.len() == 1,
        "not exactly one user"
    );

    // The access Secret: owned, labelled, with the key and the helpers.
    let key = remote["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let data = env
        .wait_secret("ada-dashboard-access", "accessKey published", |d, _| {
            (d.get("accessKey") == Some(&key))
                .then_some(())
                .ok_or("accessKey differs".into())
        })
        .await?;
    anyhow::ensure!(
        data.get("userId") == Some(&id),
        "userId {:?}",
        data.get("userId")
    );
    anyhow::ensure!(
        data.get("orgId") == Some(&env.org_id),
        "orgId {:?}",
        data.get("orgId")
    );
    anyhow::ensure!(
        data.get("email")
            .is_some_and(|e| e.eq_ignore_ascii_case(&email)),
        "email {:?}",
        data.get("email")
    );
    anyhow::ensure!(
        data.get("dashboardUrl").map(|s| s.trim_end_matches('/'))
            == Some(env.dashboard.url.as_str()),
        "dashboardUrl {:?}",
        data.get("dashboardUrl")
    );
    let s = env
        .secret("ada-dashboard-access")
        .await?
        .expect("just read");
    let labels = s.metadata.labels.clone().unwrap_or_default();
    anyhow::ensure!(
        labels.get(MANAGED_BY).map(String::as_str) == Some("dashboard-user-operator"),
        "labels {labels:?}"
    );
    let owners = s.metadata.owner_references.clone().unwrap_or_default();
    anyhow::ensure!(
        owners.iter().any(|o| o.kind == "DashboardUser"
            && o.name == "ada"
            && o.controller == Some(true)
            && Some(&o.uid) == u["metadata"]["uid"].as_str().map(str::to_string).as_ref()),
        "owner references {owners:?}"
    );

    // Every Dashboard mutation leaves an Event on the object.
    let events = kube::all_events(&env.client).await?;
    let about: Vec<_> = events
        .iter()
        .filter(|e| e["regarding"]["name"] == "ada" || e["involvedObject"]["name"] == "ada")
        .collect();
    anyhow::ensure!(!about.is_empty(), "no Event about the created user");

    // Metrics (docs/design.md §4): reconciles and Dashboard requests counted, labels bounded (no
    // object names or emails); /livez answers.
    let op = env.operator.as_ref().expect("running");
    let metrics = op.metrics().await?;
    for family in [
        "dashboard_user_operator_reconciles",
        "dashboard_user_operator_dashboard_requests",
    ] {
        anyhow::ensure!(
            metrics
                .lines()
                .any(|l| l.starts_with(family) && !l.ends_with(" 0")),
            "no {family} sample in /metrics"
        );
    }
    anyhow::ensure!(
        !metrics.to_lowercase().contains(&email.to_lowercase()),
        "an email in metric labels"
    );
    let livez = crate::common::http_client()
        .get(format!("http://{}/livez", op.metrics_addr))
        .send()
        .await?;
    anyhow::ensure!(
        livez.status().is_success(),
        "/livez answered {}",
        livez.status()
    );
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_follows_the_spec() -> anyhow::Result<()> {
    let env = Env::ready("update").await?;
    let email = env.email("grace");
    let mut u = env.user("grace", &email);
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("grace").await?, "userId");

    merge(
        &mut u,
        json!({"spec": {"firstName": "Grace", "lastName": "Hopper", "passwordMaxDays": 30}}),
    );
    env.apply(&u).await?;
    let after = env.wait_ready("grace").await?;
    anyhow::ensure!(
        status_str(&after, "userId") == id,
        "identity changed on update"
    );
    env.wait_remote(&id, "names and passwordMaxDays follow", |r| {
        if r["first_name"] == "Grace" && r["last_name"] == "Hopper" && r["password_max_days"] == 30
        {
            Ok(())
        } else {
            Err("not yet".into())
        }
    })
    .await?;
    anyhow::ensure!(env.users_with_email(&email).await?.len() == 1);
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_change_updates_the_same_user() -> anyhow::Result<()> {
    let env = Env::ready("email").await?;
    let old = env.email("old");
    let mut u = env.user("mail", &old);
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("mail").await?, "userId");

    let new = env.email("New.Name");
    merge(&mut u, json!({"spec": {"email": new}}));
    env.apply(&u).await?;
    env.wait_ready("mail").await?;
    env.wait_remote(&id, "email changed in place", |r| {
        (r["email_address"] == new.to_lowercase())
            .then_some(())
            .ok_or("old email".into())
    })
    .await?;
    let u = env.get_user("mail").await?;
    anyhow::ensure!(
        status_str(&u, "userId") == id,
        "a new user was made for an email change"
    );
    anyhow::ensure!(
        env.users_with_email(&old).await?.is_empty(),
        "old email still present"
    );
    anyhow::ensure!(
        env.users_with_email(&new).await?.len() == 1,
        "new email not exactly once"
    );
    env.wait_secret("mail-dashboard-access", "email helper follows", |d, _| {
        d.get("email")
            .is_some_and(|e| e.eq_ignore_ascii_case(&new))
            .then_some(())
            .ok_or(format!("email {:?}", d.get("email")))
    })
    .await?;
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_permissions_active_and_group_changes() -> anyhow::Result<()> {
    let env = Env::ready("fields").await?;
    let email = env.email("fields");
    let mut u = env.user("fields", &email);
    merge(
        &mut u,
        json!({"spec": {"permissions": {"apis": "read", "keys": "write"}}}),
    );
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("fields").await?, "userId");

    // Permissions: one changed, one removed, one added.
    merge(
        &mut u,
        json!({"spec": {"permissions": {"apis": "write", "keys": null, "policies": "read"}}}),
    );
    env.apply(&u).await?;
    env.wait_ready("fields").await?;
    env.wait_remote(&id, "permissions follow", |r| {
        perms_match(r, &[("apis", "write"), ("policies", "read")])?;
        match r["user_permissions"]["keys"].as_str() {
            None | Some("deny") => Ok(()),
            Some(v) => Err(format!("removed permission keys still {v}")),
        }
    })
    .await?;

    // Active: off, then on again.
    merge(&mut u, json!({"spec": {"active": false}}));
    env.apply(&u).await?;
    env.wait_ready("fields").await?;
    env.wait_remote(&id, "deactivated", |r| {
        (r["active"] == false).then_some(()).ok_or("active".into())
    })
    .await?;
    merge(&mut u, json!({"spec": {"active": true}}));
    env.apply(&u).await?;
    env.wait_ready("fields").await?;
    env.wait_remote(&id, "reactivated", |r| {
        (r["active"] == true).then_some(()).ok_or("inactive".into())
    })
    .await?;

    // Group: a user group made through the Dashboard API.
    let group = env
        .dashboard
        .api_create_group(&env.admin_key, "e2e-readers", &env.org_id)
        .await?;
    merge(&mut u, json!({"spec": {"groupId": group}}));
    env.apply(&u).await?;
    env.wait_ready("fields").await?;
    env.wait_remote(&id, "group set", |r| {
        (r["group_id"] == group).then_some(()).ok_or("group".into())
    })
    .await?;

    // Org: move the user to a second organisation (the emulator can create one).
    if env.is_emulated_dashboard() {
        let org2 = env.dashboard.create_org("e2e-second").await?;
        // Another org is the connection's to allow (tenancy guardrails).
        env.set_cluster_policy(&env.connection_name, json!({"allowedOrgIds": [org2]}))
            .await?;
        // Deactivate on deletion: the connection's admin key cannot delete in another org.
        merge(
            &mut u,
            json!({"spec": {"orgId": org2, "groupId": null, "deletionPolicy": "Deactivate"}}),
        );
        env.apply(&u).await?;
        let after = env
            .wait_user("fields", "status.orgId follows", |x| {
                if status_str(x, "orgId") == org2 {
                    has(x, "Ready", "True", Some("Synced"))
                } else {
                    Err("old org".into())
                }
            })
            .await?;
        let now_id = status_str(&after, "userId");
        env.wait_remote(&now_id, "org moved", |r| {
            (r["org_id"] == org2).then_some(()).ok_or("org".into())
        })
        .await?;
        let all = env.users_with_email(&email).await?;
        anyhow::ensure!(
            all.len() == 1,
            "{} users with the email after the org move",
            all.len()
        );
    } else {
        eprintln!("SKIP org move: needs a second organisation (emulator only)");
    }
    env.finish().await
}

/// docs/design.md §2: with no org anywhere, a user without `superUser` is a spec error (never a
/// silent super user); with `superUser: true` it is created without an org.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_less_user_needs_super_user() -> anyhow::Result<()> {
    let mut env = Env::new("super-user", crate::common::EnvOptions::default()).await?;
    let mut conn = env.cluster_connection_object(&[]);
    conn["spec"].as_object_mut().expect("spec").remove("orgId");
    // A super user is the connection's to allow (tenancy guardrails): this one does.
    conn["spec"]["policy"] = json!({"allowSuperUsers": true});
    env.apply(&conn).await?;
    env.start_operator().await?;

    let email = env.email("root");
    let mut u = env.user("root", &email);
    env.apply(&u).await?;
    env.wait_condition("root", "Ready", "False", "InvalidSpec")
        .await?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "an org-less user was created"
    );

    // Deactivate on deletion: an org admin's key cannot delete a super user.
    merge(
        &mut u,
        json!({"spec": {"superUser": true, "deletionPolicy": "Deactivate"}}),
    );
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("root").await?, "userId");
    let remote = env.remote(&id).await?;
    anyhow::ensure!(
        remote["org_id"] == "",
        "super user has org {}",
        remote["org_id"]
    );
    env.finish().await
}
