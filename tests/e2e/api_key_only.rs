//! API-key-only connections (issue 12): a Tyk connection without `adminSecretRef` manages
//! users through the Dashboard API alone, with an org admin's key, and says so in
//! `status.mode`; every limit is a clear condition.

use serde_json::{Value, json};

use crate::common::{Env, kube, wait};
use crate::support::{has, status_str};

/// A cluster connection like the default one, without the admin secret.
async fn key_only_connection(env: &Env) -> anyhow::Result<String> {
    let mut c = env.cluster_connection_object(&[]);
    let name = format!("{}-keyonly", env.connection_name);
    c["metadata"]["name"] = json!(name);
    c["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("adminSecretRef");
    env.apply(&c).await?;
    wait_mode(env, &name, "APIKeyOnly").await?;
    Ok(name)
}

async fn wait_mode(env: &Env, name: &str, mode: &str) -> anyhow::Result<Value> {
    wait::until(
        &format!("connection {name}: mode {mode}, Ready"),
        || async {
            let c = kube::get(
                &env.client,
                &kube::cluster_connection_resource(),
                None,
                name,
            )
            .await
            .map_err(|e| e.to_string())?
            .ok_or("not found")?;
            if c["status"]["mode"] != mode {
                return Err(format!("mode {}", c["status"]["mode"]));
            }
            has(&c, "Ready", "True", Some("Connected"))?;
            Ok(c)
        },
    )
    .await
    .map_err(|e| env.with_logs(e))
}

fn user_on(env: &Env, name: &str, email: &str, conn: &str) -> Value {
    let mut u = env.user(name, email);
    u["spec"]["connectionRef"] = json!({"kind": "ClusterDashboardConnection", "name": conn});
    u["spec"]["permissions"] = json!({"apis": "read"});
    u
}

/// Writes to the Admin API's user routes (create, PUT): an API-key-only run must make none.
fn admin_user_writes(env_stats: &crate::common::TykStats) -> u64 {
    env_stats.count(|m, r, _| {
        (m == "POST" || m == "PUT") && r.starts_with("/admin/users") && r != "/admin/organisations"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_only_connection_runs_the_whole_user_lifecycle() -> anyhow::Result<()> {
    let env = Env::ready("key-only").await?;
    if !env.needs_emulators("Dashboard settings and password checks") {
        return env.finish().await;
    }
    let conn = key_only_connection(&env).await?;
    let writes_before = admin_user_writes(&env.tyk_stats().await?);
    let email = env.email("kay");
    let pw = env.password();
    env.put_password("kay-pw", &pw).await?;
    let mut u = user_on(&env, "kay", &email, &conn);
    u["spec"]["passwordSecretRef"] = json!({"name": "kay-pw"});
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("kay").await?, "userId");
    let remote = env.remote(&id).await?;
    anyhow::ensure!(
        remote["org_id"] == env.org_id.as_str() && remote["user_permissions"]["apis"] == "read",
        "created as specified in the key's org: {}",
        crate::common::dashboard::describe(&remote)
    );
    // The first password travelled with POST /api/users: no reset permission needed.
    env.wait_password(&email, &pw).await?;
    let key = remote["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret("kay-dashboard-access", "key published", |d, _| {
        (d.get("accessKey") == Some(&key) && !key.is_empty())
            .then_some(())
            .ok_or("not yet".into())
    })
    .await?;

    // Updates go through PUT /api/users/{id}.
    env.patch_user("kay", &json!({"spec": {"firstName": "Kay"}}))
        .await?;
    env.wait_remote(&id, "renamed", |r| {
        (r["first_name"] == "Kay")
            .then_some(())
            .ok_or("not yet".into())
    })
    .await?;

    // A new password needs ResetPassword or allow_admin_reset_password
    // (docs/tyk-dashboard-api.md §3.6): Forbidden, saying which, until the Dashboard allows it.
    let pw2 = env.password();
    env.put_password("kay-pw", &pw2).await?;
    let u = env
        .wait_user("kay", "Forbidden naming the permission", |u| {
            has(u, "Ready", "False", Some("Forbidden"))
        })
        .await?;
    let (_, _, msg) = kube::condition(&u, "Ready").unwrap_or_default();
    anyhow::ensure!(
        msg.contains("ResetPassword") && msg.contains("allow_admin_reset_password"),
        "the message names the missing permission: {msg}"
    );
    env.dashboard
        .settings(&json!({"allow_admin_reset_password": true}))
        .await?;
    env.wait_password(&email, &pw2).await?;
    env.wait_ready("kay").await?;
    anyhow::ensure!(
        admin_user_writes(&env.tyk_stats().await?) == writes_before,
        "an API-key-only connection wrote through the Admin API"
    );

    // What the Dashboard API cannot do is InvalidSpec, with the reason.
    let mut other_org = user_on(&env, "elsewhere", &env.email("elsewhere"), &conn);
    other_org["spec"]["orgId"] = json!("5e9d9544a1dcd60001d0ed20");
    let mut superuser = user_on(&env, "root", &env.email("root"), &conn);
    superuser["spec"]["superUser"] = json!(true);
    for (obj, name, needle) in [
        (
            other_org,
            "elsewhere",
            "not the org of the connection's api key",
        ),
        (superuser, "root", "superUser needs the Admin API"),
    ] {
        env.apply(&obj).await?;
        let u = env
            .wait_user(name, "InvalidSpec", |u| {
                has(u, "Stalled", "True", Some("InvalidSpec"))
            })
            .await?;
        let (_, _, msg) = kube::condition(&u, "Ready").unwrap_or_default();
        anyhow::ensure!(msg.contains(needle), "{name}: {msg}");
    }

    env.delete_user("kay").await?;
    env.wait_user_gone("kay").await?;
    anyhow::ensure!(env.dashboard.admin_get_user(&id).await?.is_none());
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_keys_are_reported_and_a_mode_switch_keeps_the_users() -> anyhow::Result<()> {
    let env = Env::ready("key-only-switch").await?;
    if !env.needs_emulators("Dashboard settings") {
        return env.finish().await;
    }
    env.dashboard
        .settings(&json!({"forbid_admin_view_access_token": true}))
        .await?;
    let conn = key_only_connection(&env).await?;
    let email = env.email("hidden");
    env.apply(&user_on(&env, "hidden", &email, &conn)).await?;
    let u = env
        .wait_user("hidden", "AccessKeyUnavailable", |u| {
            has(u, "Stalled", "True", Some("AccessKeyUnavailable"))
        })
        .await?;
    let id = status_str(&u, "userId");
    anyhow::ensure!(!id.is_empty(), "the user itself was created");
    let secret = env
        .secret("hidden-dashboard-access")
        .await?
        .expect("written");
    anyhow::ensure!(
        kube::secret_str(&secret, "accessKey")
            .unwrap_or_default()
            .is_empty(),
        "a hidden key was published as something"
    );

    // The admin secret added: mode Admin, the same user, its key now readable and published.
    let mut c = env.cluster_connection_object(&[]);
    c["metadata"]["name"] = json!(conn);
    env.apply(&c).await?;
    wait_mode(&env, &conn, "Admin").await?;
    let u = env.wait_ready("hidden").await?;
    anyhow::ensure!(
        status_str(&u, "userId") == id,
        "the switch recreated the user"
    );
    let key = env.remote(&id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret("hidden-dashboard-access", "key published", |d, _| {
        (d.get("accessKey") == Some(&key) && !key.is_empty())
            .then_some(())
            .ok_or("not yet".into())
    })
    .await?;

    // And removed again: API-key-only, still the same user, the published key kept.
    c["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("adminSecretRef");
    env.apply(&c).await?;
    wait_mode(&env, &conn, "APIKeyOnly").await?;
    let u = env.wait_ready("hidden").await?;
    // Several resyncs (2 s) in the new mode without a flap.
    crate::support::assert_stable(
        &env,
        "hidden",
        "True",
        "Synced",
        std::time::Duration::from_secs(6),
    )
    .await?;
    anyhow::ensure!(status_str(&u, "userId") == id);
    anyhow::ensure!(env.users_with_email(&email).await?.len() == 1);
    let secret = env.secret("hidden-dashboard-access").await?.expect("kept");
    anyhow::ensure!(kube::secret_str(&secret, "accessKey").as_deref() == Some(key.as_str()));
    env.finish().await
}
