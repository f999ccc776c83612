//! Issue 26: the API-key-only probe asks the Dashboard who holds the key on every probe, so
//! a promotion (or demotion) of that user in the Dashboard reaches the connection and its
//! users within one probe interval, with no spec or Secret change and no restart.

use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, kube, wait};
use crate::support::{has, status_str};

const KEY_SECRET: &str = "probe-key";

async fn connection_reason(env: &Env, name: &str) -> anyhow::Result<(String, String)> {
    let c = kube::get(
        &env.client,
        &kube::cluster_connection_resource(),
        None,
        name,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("connection {name} not found"))?;
    let ready = c["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .cloned()
        .unwrap_or(Value::Null);
    Ok((
        ready["status"].as_str().unwrap_or_default().to_string(),
        ready["reason"].as_str().unwrap_or_default().to_string(),
    ))
}

async fn wait_connection(env: &Env, name: &str, status: &str, reason: &str) -> anyhow::Result<()> {
    wait::until(
        &format!("connection {name}: Ready={status} {reason}"),
        || async {
            let got = connection_reason(env, name)
                .await
                .map_err(|e| e.to_string())?;
            (got == (status.to_string(), reason.to_string()))
                .then_some(())
                .ok_or(format!("{got:?}"))
        },
    )
    .await
    .map_err(|e| env.with_logs(e))
}

/// Sets or removes `IsAdmin` on a Dashboard user, as a person would in the Dashboard.
async fn set_admin(env: &Env, id: &str, admin: bool) -> anyhow::Result<()> {
    let mut u = env
        .dashboard
        .admin_get_user(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {id} gone"))?;
    let perms = u["user_permissions"].as_object_mut().expect("permissions");
    if admin {
        perms.insert("IsAdmin".into(), json!("admin"));
    } else {
        perms.remove("IsAdmin");
    }
    env.dashboard.admin_put_user(id, &u).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_key_owner_is_seen_by_the_next_probe_and_a_demoted_one_too() -> anyhow::Result<()>
{
    let mut env = Env::new("key-owner-probe", EnvOptions::default()).await?;
    if !env.needs_emulators("a second Dashboard user and its key") {
        return env.finish().await;
    }
    // A user who may list users but is no admin: its key cannot run a connection yet.
    let (owner_id, key) = env
        .dashboard
        .admin_create_user(&json!({
            "org_id": env.org_id, "first_name": "Key", "last_name": "Holder",
            "email_address": env.email("key-holder"), "active": true,
            "user_permissions": {"users": "write", "apis": "read"}
        }))
        .await?;
    env.corpus.secret(&key);
    let op_ns = env.operator_ns.clone();
    env.put_secret(&op_ns, KEY_SECRET, &[("apiKey", &key)])
        .await?;
    let mut c = env.cluster_connection_object(&[]);
    let spec = c["spec"].as_object_mut().expect("spec");
    spec.remove("adminSecretRef");
    spec.insert("apiKeySecretRef".into(), json!({"name": KEY_SECRET}));
    env.apply(&c).await?;
    // A short healthy re-probe, so "within one probe interval" fits in a test.
    env.op_cfg
        .extra_args
        .extend(["--probe-period".into(), "2s".into()]);
    env.start_operator().await?;
    let conn = env.connection_name.clone();
    wait_connection(&env, &conn, "False", "Forbidden").await?;

    let mut u = env.user("waits", &env.email("waits"));
    u["spec"]["permissions"] = json!({"apis": "read"});
    env.apply(&u).await?;
    env.wait_user("waits", "waiting on the connection (Forbidden)", |u| {
        has(u, "Ready", "False", Some("Forbidden"))
    })
    .await?;
    let calls_before = env.tyk_stats().await?.writes();
    anyhow::ensure!(
        env.users_with_email(&env.email("waits")).await?.is_empty(),
        "nothing was created through a non-admin key"
    );

    // Promoted in the Dashboard: no spec, Secret or operator change.
    set_admin(&env, &owner_id, true).await?;
    wait_connection(&env, &conn, "True", "Connected").await?;
    let ready = env.wait_ready("waits").await?;
    anyhow::ensure!(!status_str(&ready, "userId").is_empty());
    anyhow::ensure!(env.tyk_stats().await?.writes() > calls_before);

    // And demoted again: the connection says so at its next probe, and a new user waits.
    set_admin(&env, &owner_id, false).await?;
    wait_connection(&env, &conn, "False", "Forbidden").await?;
    let mut late = env.user("late", &env.email("late"));
    late["spec"]["permissions"] = json!({"apis": "read"});
    env.apply(&late).await?;
    env.wait_user("late", "waiting on the demoted key", |u| {
        has(u, "Ready", "False", Some("Forbidden"))
    })
    .await?;
    anyhow::ensure!(
        env.users_with_email(&env.email("late")).await?.is_empty(),
        "nothing was created through the demoted key"
    );
    env.finish().await
}
