//! Identity and duplicates (docs/design.md §3.2): one email claimed twice, adoption policies, and a
//! crash right after the Dashboard committed a create.

use std::time::Duration;

use serde_json::json;

use crate::common::{Env, merge, wait};
use crate::support::{assert_stable, has, status_str};

/// Two DashboardUsers claim one email (docs/design.md §3.2): the second gets `AlreadyExists`, never
/// a user id; the first keeps its Dashboard record untouched; exactly one Dashboard user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_user_with_same_email_is_already_exists() -> anyhow::Result<()> {
    same_email("same-email", false).await
}

/// The same, and "they never fight": neither `Ready` condition moves over several resyncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_user_with_same_email_does_not_flap() -> anyhow::Result<()> {
    same_email("same-email-flap", true).await
}

async fn same_email(test: &str, strict: bool) -> anyhow::Result<()> {
    let env = Env::ready(test).await?;
    let email = env.email("twin");
    env.apply(&env.user("first", &email)).await?;
    let first_id = status_str(&env.wait_ready("first").await?, "userId");
    let before = env.remote(&first_id).await?;

    // Same email in another case: still the same Dashboard login.
    let mut second = env.user("second", &email.to_uppercase());
    merge(&mut second, json!({"spec": {"firstName": "Impostor"}}));
    env.apply(&second).await?;
    env.wait_condition("second", "Ready", "False", "AlreadyExists")
        .await?;

    // Several resyncs: the first never moves; the second never becomes Ready or claims an id.
    let period = env.op_cfg.resync * 3 + Duration::from_millis(500);
    let second_check = async {
        if strict {
            assert_stable(&env, "second", "False", "AlreadyExists", period).await
        } else {
            never_claims(&env, "second", period).await
        }
    };
    let (a, b) = tokio::join!(
        assert_stable(&env, "first", "True", "Synced", period),
        second_check
    );
    a?;
    b?;
    env.wait_condition("second", "Ready", "False", "AlreadyExists")
        .await?;
    let after = env.remote(&first_id).await?;
    anyhow::ensure!(
        after == before,
        "the first user's Dashboard record changed:\n{before}\n{after}"
    );
    anyhow::ensure!(
        env.users_with_email(&email).await?.len() == 1,
        "duplicate Dashboard user"
    );
    env.finish().await
}

/// Samples `name` for `period`: never Ready=True, never a user id.
async fn never_claims(env: &Env, name: &str, period: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < deadline {
        let u = env.get_user(name).await?;
        anyhow::ensure!(
            has(&u, "Ready", "True", None).is_err(),
            "{name} became Ready"
        );
        anyhow::ensure!(
            status_str(&u, "userId").is_empty(),
            "{name} claims userId {}",
            u["status"]["userId"]
        );
        tokio::time::sleep(wait::POLL).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_never_then_if_exists() -> anyhow::Result<()> {
    // Adoption is the connection's to allow (tenancy guardrails): this one does.
    let env = Env::ready_with_policy("adoption", json!({"allowAdoption": true})).await?;
    let email = env.email("preexisting");
    let (pre_id, _) = env
        .dashboard
        .admin_create_user(&json!({
            "org_id": env.org_id, "first_name": "Pre", "last_name": "Existing",
            "email_address": email, "active": true, "user_permissions": {"apis": "read"}
        }))
        .await?;
    let before = env.remote(&pre_id).await?;

    // Never (the default): reported, nothing in the Dashboard touched.
    let mut u = env.user("adopt", &email);
    env.apply(&u).await?;
    env.wait_condition("adopt", "Ready", "False", "AlreadyExists")
        .await?;
    // Let the operator try again before checking: a resync retries the create, or (with
    // an API key) first looks the email up and finds it still taken.
    if env.is_emulated_dashboard() {
        let attempts =
            |s: &crate::common::dashboard::TykStats| s.admin_creates() + s.user_lookups();
        let before = attempts(&env.tyk_stats().await?);
        wait::until("another create attempt", || async {
            let now = attempts(&env.tyk_stats().await.map_err(|e| e.to_string())?);
            (now > before)
                .then_some(())
                .ok_or_else(|| "not yet".to_string())
        })
        .await?;
    } else {
        tokio::time::sleep(env.op_cfg.resync * 2).await;
    }
    anyhow::ensure!(
        env.remote(&pre_id).await? == before,
        "Never: the existing user was modified"
    );
    anyhow::ensure!(env.users_with_email(&email).await?.len() == 1);

    // IfExists: taken over, and brought in line with the spec.
    merge(&mut u, json!({"spec": {"adoptionPolicy": "IfExists"}}));
    env.apply(&u).await?;
    let u = env.wait_ready("adopt").await?;
    anyhow::ensure!(
        status_str(&u, "userId") == pre_id,
        "adopted {} instead of {pre_id}",
        u["status"]["userId"]
    );
    env.wait_remote(&pre_id, "brought in line", |r| {
        (r["first_name"] == "Ada" && r["last_name"] == "Lovelace")
            .then_some(())
            .ok_or("names".into())
    })
    .await?;
    anyhow::ensure!(env.users_with_email(&email).await?.len() == 1);
    let key = env.remote(&pre_id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret("adopt-dashboard-access", "adopted user's key", |d, _| {
        (d.get("accessKey") == Some(&key))
            .then_some(())
            .ok_or("differs".into())
    })
    .await?;
    env.finish().await
}

/// `commit_then_drop` on `POST /admin/users`: the user exists, the operator never hears so
/// and is SIGKILLed; after a restart exactly one user exists and it is adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_committed_create_adopts_exactly_one() -> anyhow::Result<()> {
    let mut env = Env::ready("crash").await?;
    if !env.needs_emulators("faults") {
        return env.finish().await;
    }
    env.dashboard
        .faults(&json!({"rules": [{"kind": "commit_then_drop", "method": "POST", "route": "/admin/users"}]}))
        .await?;
    let email = env.email("crash");
    env.apply(&env.user("crash", &email)).await?;

    // The moment the Dashboard has the user, kill the operator without warning.
    let committed = wait::until("Dashboard committed the create", || async {
        let users = env
            .users_with_email(&email)
            .await
            .map_err(|e| e.to_string())?;
        users.first().cloned().ok_or_else(|| "not yet".to_string())
    })
    .await?;
    env.kill_operator().await?;
    env.dashboard.faults(&json!({})).await?;
    let u = env.get_user("crash").await?;
    let intent = &u["status"]["createIntent"];
    anyhow::ensure!(
        intent["email"].is_string(),
        "no create intent recorded before the POST: {}",
        u["status"]
    );

    env.start_operator().await?;
    let u = env.wait_ready("crash").await?;
    let users = env.users_with_email(&email).await?;
    anyhow::ensure!(
        users.len() == 1,
        "{} Dashboard users after the crash",
        users.len()
    );
    anyhow::ensure!(
        status_str(&u, "userId") == committed["id"].as_str().unwrap_or_default(),
        "adopted {} but the committed user is {}",
        u["status"]["userId"],
        committed["id"]
    );
    has(&u, "Ready", "True", Some("Synced")).map_err(anyhow::Error::msg)?;
    let key = committed["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret(
        "crash-dashboard-access",
        "key of the adopted user",
        |d, _| {
            (d.get("accessKey") == Some(&key))
                .then_some(())
                .ok_or("differs".into())
        },
    )
    .await?;
    env.finish().await
}
