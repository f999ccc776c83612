//! Passwords (docs/design.md §3.3): set after create, re-set on a real change only, refusals stall
//! without a retry storm. The Dashboard is asked through the emulator's check-password hook.

use serde_json::json;

use crate::common::{Env, EnvOptions, merge};
use crate::support::{has, let_resyncs_pass, status_str};

fn with_password(env: &Env, name: &str, email: &str, secret: &str) -> serde_json::Value {
    let mut u = env.user(name, email);
    merge(
        &mut u,
        json!({"spec": {"passwordSecretRef": {"name": secret}}}),
    );
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_password_is_set() -> anyhow::Result<()> {
    let env = Env::ready("pw-initial").await?;
    if !env.needs_emulators("check-password") {
        return env.finish().await;
    }
    let email = env.email("pw");
    let pw = env.password();
    env.put_password("pw-secret", &pw).await?;
    env.apply(&with_password(&env, "pw", &email, "pw-secret"))
        .await?;
    env.wait_ready("pw").await?;
    env.wait_password(&email, &pw).await?;
    anyhow::ensure!(
        !env.check_password(&email, "Pw-not-the-password").await?,
        "any password accepted?"
    );
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_password_secret_is_applied() -> anyhow::Result<()> {
    let env = Env::ready("pw-edit").await?;
    if !env.needs_emulators("check-password") {
        return env.finish().await;
    }
    let email = env.email("edit");
    let (p1, p2) = (env.password(), env.password());
    env.put_password("edit-pw", &p1).await?;
    env.apply(&with_password(&env, "edit", &email, "edit-pw"))
        .await?;
    env.wait_ready("edit").await?;
    env.wait_password(&email, &p1).await?;

    env.put_password("edit-pw", &p2).await?;
    env.wait_password(&email, &p2).await?;
    anyhow::ensure!(
        !env.check_password(&email, &p1).await?,
        "old password still accepted"
    );
    env.wait_ready("edit").await?;
    env.finish().await
}

/// Tyk refuses reused passwords, so resending an unchanged one would break; none of a restart,
/// a deleted access Secret or an unrelated edit of the password Secret may resend it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_password_is_never_sent_again() -> anyhow::Result<()> {
    let mut env = Env::new("pw-unchanged", EnvOptions::default()).await?;
    env.create_cluster_connection(&[]).await?;
    // With leader election on, the restart below also covers handing the Lease over (and
    // the request log then holds the Lease calls the chart's RBAC must allow).
    env.op_cfg.extra_args.push("--leader-elect".into());
    env.start_operator().await?;
    if !env.needs_emulators("stats, check-password") {
        return env.finish().await;
    }
    let email = env.email("same");
    let pw = env.password();
    env.put_password("same-pw", &pw).await?;
    env.apply(&with_password(&env, "same", &email, "same-pw"))
        .await?;
    let id = status_str(&env.wait_ready("same").await?, "userId");
    env.wait_password(&email, &pw).await?;
    let stamp = env.remote(&id).await?["password_updated"].clone();
    let calls = env.tyk_stats().await?.password_calls();

    // 1. Operator restart (graceful: exit 0 is checked by stop_operator).
    env.restart_operator().await?;
    env.wait_ready("same").await?;
    let_resyncs_pass(&env, 2).await?;
    let after_restart = env.tyk_stats().await?.password_calls();
    anyhow::ensure!(
        after_restart == calls,
        "restart resent the password ({calls} → {after_restart} calls)"
    );

    // 2. The access Secret deleted: restored without touching the password.
    crate::common::kube::delete_secret(&env.client, &env.ns, "same-dashboard-access").await?;
    env.wait_secret("same-dashboard-access", "restored", |d, _| {
        d.contains_key("accessKey")
            .then_some(())
            .ok_or("no key".into())
    })
    .await?;
    let_resyncs_pass(&env, 2).await?;
    let after_secret = env.tyk_stats().await?.password_calls();
    anyhow::ensure!(
        after_secret == calls,
        "access Secret restore resent the password ({calls} → {after_secret})"
    );

    // 3. An unrelated edit of the password Secret (another key added, same password).
    env.put_secret(
        &env.ns,
        "same-pw",
        &[("password", &pw), ("note", "rotated-by-nobody")],
    )
    .await?;
    let_resyncs_pass(&env, 2).await?;
    let after_edit = env.tyk_stats().await?.password_calls();
    anyhow::ensure!(
        after_edit == calls,
        "unrelated Secret edit resent the password ({calls} → {after_edit})"
    );

    let now = env.remote(&id).await?["password_updated"].clone();
    anyhow::ensure!(now == stamp, "password_updated moved: {stamp} → {now}");
    anyhow::ensure!(
        env.check_password(&email, &pw).await?,
        "password no longer accepted"
    );
    let u = env.get_user("same").await?;
    has(&u, "Ready", "True", Some("Synced")).map_err(anyhow::Error::msg)?;
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_password_stalls_without_retry_storm() -> anyhow::Result<()> {
    let mut env = Env::new(
        "pw-reuse",
        EnvOptions {
            password_history: 5,
            ..Default::default()
        },
    )
    .await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    if !env.needs_emulators("password history, stats") {
        return env.finish().await;
    }
    let email = env.email("reuse");
    let (p1, p2, p3) = (env.password(), env.password(), env.password());
    env.put_password("reuse-pw", &p1).await?;
    env.apply(&with_password(&env, "reuse", &email, "reuse-pw"))
        .await?;
    env.wait_ready("reuse").await?;
    env.wait_password(&email, &p1).await?;
    env.put_password("reuse-pw", &p2).await?;
    env.wait_password(&email, &p2).await?;

    // Back to p1: the Dashboard refuses a password from its history.
    env.put_password("reuse-pw", &p1).await?;
    env.wait_condition("reuse", "Stalled", "True", "PasswordRejected")
        .await?;
    let u = env.get_user("reuse").await?;
    has(&u, "Ready", "False", None).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        env.check_password(&email, &p2).await?,
        "p2 should still be the password"
    );

    // Retried only when the Secret changes: no password call over several resyncs.
    let calls = env.tyk_stats().await?.password_calls();
    let_resyncs_pass(&env, 3).await?;
    let later = env.tyk_stats().await?.password_calls();
    anyhow::ensure!(
        later == calls,
        "retry storm: {} password calls while stalled",
        later - calls
    );
    let u = env.get_user("reuse").await?;
    has(&u, "Stalled", "True", Some("PasswordRejected")).map_err(anyhow::Error::msg)?;

    // A new password recovers.
    env.put_password("reuse-pw", &p3).await?;
    env.wait_password(&email, &p3).await?;
    let u = env.wait_ready("reuse").await?;
    has(&u, "Stalled", "False", None).map_err(anyhow::Error::msg)?;
    env.finish().await
}

/// An inactive user's own key is refused, so its initial password goes the admin way
/// (docs/design.md §3.3); it must be set all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_user_gets_its_initial_password() -> anyhow::Result<()> {
    let env = Env::ready("pw-inactive").await?;
    if !env.needs_emulators("check-password") {
        return env.finish().await;
    }
    let email = env.email("dormant");
    let pw = env.password();
    env.put_password("dormant-pw", &pw).await?;
    let mut u = with_password(&env, "dormant", &email, "dormant-pw");
    merge(&mut u, json!({"spec": {"active": false}}));
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("dormant").await?, "userId");
    env.wait_password(&email, &pw).await?;
    anyhow::ensure!(
        env.remote(&id).await?["active"] == false,
        "inactive user was activated"
    );
    env.finish().await
}
