//! What a user of this backend can get wrong, each ending in a clear condition: missing
//! token Secret, a bad token, a missing or refused password, a taken username (AlreadyExists
//! or adoption), fields of the other backend.

use serde_json::json;

use super::{AdminEnv, TOKEN_SECRET};
use crate::common::{STALLED, merge};
use crate::support::has;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_connection_failures_and_recovery() -> anyhow::Result<()> {
    let a = AdminEnv::ready("admin-users-connection", |_| {}).await?;
    let env = &a.env;
    env.put_password("ivy-pw", &env.password()).await?;
    // The token Secret is missing: ConnectionNotReady, nothing created.
    env.apply(&a.connection("no-such-token")).await?;
    env.apply(&a.user("ivy", "ivy")).await?;
    env.wait_condition("ivy", "Ready", "False", "ConnectionNotReady")
        .await?;
    // A wrong token: Unauthorized.
    let wrong = format!("wrong-{}", a.token);
    env.corpus.secret(&wrong);
    env.put_secret(&env.operator_ns, "wrong-token", &[("token", &wrong)])
        .await?;
    env.apply(&a.connection("wrong-token")).await?;
    env.wait_condition("ivy", "Ready", "False", "Unauthorized")
        .await?;
    assert!(a.remote("ivy").is_none());
    a.wait_connection("False", "Unauthorized").await?;
    // Fixed: created, and the connection's probe says Connected.
    env.apply(&a.connection(TOKEN_SECRET)).await?;
    env.wait_ready("ivy").await?;
    assert!(a.remote("ivy").is_some());
    a.wait_connection("True", "Connected").await?;
    a.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_spec_password_and_duplicate_failures() -> anyhow::Result<()> {
    // `kim` is adopted, which the connection must allow (tenancy guardrails).
    let a = AdminEnv::ready_with_policy(
        "admin-users-failures",
        json!({"allowAdoption": true}),
        |_| {},
    )
    .await?;
    let env = &a.env;

    // No password Secret yet: not created, PasswordSecretNotFound; then it appears.
    env.apply(&a.user("jay", "jay")).await?;
    let u = env
        .wait_condition("jay", "Ready", "False", "PasswordSecretNotFound")
        .await?;
    has(&u, STALLED, "True", None).map_err(anyhow::Error::msg)?;
    assert!(a.remote("jay").is_none());
    // Too short for the API (min 8): PasswordRejected from the 422, stalled, no retry storm.
    let short = "Sh0rt!";
    env.corpus.secret(short);
    env.put_password("jay-pw", short).await?;
    let u = env
        .wait_condition("jay", "Ready", "False", "PasswordRejected")
        .await?;
    has(&u, STALLED, "True", None).map_err(anyhow::Error::msg)?;
    let msg = crate::common::kube::condition(&u, "Ready").unwrap().2;
    // The first report is the 422 itself; later reconciles say why nothing is re-sent.
    assert!(
        msg.contains("password rejected") || msg.contains("refused this password"),
        "{msg}"
    );
    // The Warning carries the server's reason (loc, msg, type), never the password.
    let events = crate::common::kube::all_events(&env.client).await?;
    let warned = crate::common::kube::events_about(&events, "jay", "PasswordRejected");
    anyhow::ensure!(
        warned.iter().any(|e| e
            .to_string()
            .contains("body.password: String should have at least 8 characters")),
        "no PasswordRejected warning with the 422 detail: {warned:?}"
    );
    // The emulator echoes the refused password in FastAPI's `input`: no Event or condition
    // may carry it (the corpus scans it at teardown too, as a whole word).
    let u = env.get_user("jay").await?;
    let leaks: Vec<String> = events
        .iter()
        .map(|e| e.to_string())
        .chain(
            u["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c.to_string()),
        )
        .filter(|t| t.contains(short))
        .collect();
    anyhow::ensure!(leaks.is_empty(), "the refused password leaked: {leaks:?}");
    let posts = || {
        a.api
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    let before = posts();
    tokio::time::sleep(env.op_cfg.resync * 2).await;
    assert_eq!(posts(), before, "a refused password is not re-sent");
    env.put_password("jay-pw", &env.password()).await?;
    env.wait_ready("jay").await?;

    // A taken username: AlreadyExists with adoptionPolicy Never …
    a.api
        .seed_user(admin_users_emulator::Seed {
            username: "kim".into(),
            email: Some("kim@example.com".into()),
            role: admin_users_emulator::Role::Editor,
            is_active: true,
            password: "seeded-password".into(),
        })
        .map_err(anyhow::Error::msg)?;
    env.put_password("kim-pw", &env.password()).await?;
    env.apply(&a.user("kim", "kim")).await?;
    env.wait_condition("kim", "Ready", "False", "AlreadyExists")
        .await?;
    assert_eq!(
        a.remote("kim").unwrap().role,
        admin_users_emulator::Role::Editor,
        "untouched"
    );
    // … adopted with IfExists, then brought in line (role viewer, the spec's password).
    env.patch_user("kim", &json!({"spec": {"adoptionPolicy": "IfExists"}}))
        .await?;
    env.wait_ready("kim").await?;
    a.wait_remote("kim", "in line", |r| {
        r.role == admin_users_emulator::Role::Viewer && r.password_changes == 1
    })
    .await?;

    // Fields of the other backend, and a missing username: InvalidSpec naming the field.
    let mut tyk_field = a.user("lee", "lee");
    merge(&mut tyk_field, json!({"spec": {"firstName": "Lee"}}));
    env.apply(&tyk_field).await?;
    let u = env
        .wait_condition("lee", "Ready", "False", "InvalidSpec")
        .await?;
    assert!(
        crate::common::kube::condition(&u, "Ready")
            .unwrap()
            .2
            .contains("firstName")
    );
    let mut no_username = a.user("max", "max");
    merge(&mut no_username, json!({"spec": {"username": null}}));
    env.apply(&no_username).await?;
    let u = env
        .wait_condition("max", "Ready", "False", "InvalidSpec")
        .await?;
    assert!(
        crate::common::kube::condition(&u, "Ready")
            .unwrap()
            .2
            .contains("username")
    );
    a.finish().await
}

/// Refusals in shapes other than FastAPI's 422 on `password`: a plain-string 422 about the
/// password must not be re-sent (docs/design.md §3.3), another field's 400 stalls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_plain_refusals_are_not_retried() -> anyhow::Result<()> {
    let a = AdminEnv::ready("admin-users-plain-refusals", |_| {}).await?;
    let env = &a.env;
    let posts = || {
        a.api
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.route == admin_users_emulator::COLLECTION)
            .count()
    };
    // Every create answered `status` with `detail`.
    let refuse_creates = |status: u16, detail: serde_json::Value| {
        a.api.add_fault(admin_users_emulator::FaultRule {
            method: Some("POST".into()),
            route: Some(admin_users_emulator::COLLECTION.into()),
            status: Some(status),
            detail: Some(detail),
            ..Default::default()
        })
    };
    refuse_creates(422, json!("password too common"));
    env.put_password("nia-pw", &env.password()).await?;
    env.apply(&a.user("nia", "nia")).await?;
    let u = env
        .wait_condition("nia", "Ready", "False", "PasswordRejected")
        .await?;
    has(&u, STALLED, "True", None).map_err(anyhow::Error::msg)?;
    let before = posts();
    tokio::time::sleep(env.op_cfg.resync * 2).await;
    assert_eq!(posts(), before, "a refused password is not re-sent");

    // Another field refused (400, not about the password): stalled, not backed off.
    a.api.clear_faults();
    refuse_creates(400, json!("email domain not allowed"));
    env.put_password("oli-pw", &env.password()).await?;
    env.apply(&a.user("oli", "oli")).await?;
    let u = env
        .wait_condition("oli", "Ready", "False", "DashboardError")
        .await?;
    has(&u, STALLED, "True", None).map_err(anyhow::Error::msg)?;
    a.finish().await
}
