//! Missing pieces give the documented condition, then recover when they appear; a cluster
//! connection is refused outside its allowedNamespaces (docs/design.md §2, §3.3).

use serde_json::json;

use crate::common::{
    ADMIN_SECRET_KEY, ADMIN_SECRET_NAME, API_KEY_SECRET_KEY, API_KEY_SECRET_NAME, Env, EnvOptions,
    kube, merge,
};

/// No connection at all, then the cluster `default` (for one user) and a namespaced
/// `DashboardConnection` (for another) appear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_connections_then_recovery() -> anyhow::Result<()> {
    let mut env = Env::new("no-connection", EnvOptions::default()).await?;
    env.start_operator().await?;
    let (e1, e2) = (env.email("nocon"), env.email("nscon"));
    env.apply(&env.user("nocon", &e1)).await?;
    let mut ns_user = env.user("nscon", &e2);
    merge(
        &mut ns_user,
        json!({"spec": {"connectionRef": {"kind": "DashboardConnection", "name": "team"}}}),
    );
    env.apply(&ns_user).await?;
    env.wait_condition("nocon", "Ready", "False", "ConnectionNotFound")
        .await?;
    env.wait_condition("nscon", "Ready", "False", "ConnectionNotFound")
        .await?;
    anyhow::ensure!(
        env.users_with_email(&e1).await?.is_empty(),
        "created without a connection?"
    );

    env.create_cluster_connection(&[]).await?;
    env.wait_ready("nocon").await?;

    env.put_admin_secrets(&env.ns).await?;
    env.apply(&env.connection_object(&env.ns, "team")).await?;
    env.wait_ready("nscon").await?;
    anyhow::ensure!(env.users_with_email(&e2).await?.len() == 1);
    env.finish().await
}

/// The connection's admin Secret is missing: the connection and its users say so; once the
/// Secret exists, both recover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_admin_secret_then_recovery() -> anyhow::Result<()> {
    let mut env = Env::new("no-admin-secret", EnvOptions::default()).await?;
    kube::delete_secret(&env.client, &env.operator_ns, ADMIN_SECRET_NAME).await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let email = env.email("noadmin");
    env.apply(&env.user("noadmin", &email)).await?;

    env.wait_cluster_connection_ready("False").await?;
    env.wait_condition("noadmin", "Ready", "False", "ConnectionNotReady")
        .await?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "created without credentials?"
    );

    let secret = env.dashboard.admin_secret.clone();
    env.put_secret(
        &env.operator_ns,
        ADMIN_SECRET_NAME,
        &[(ADMIN_SECRET_KEY, &secret)],
    )
    .await?;
    env.wait_ready("noadmin").await?;
    env.wait_cluster_connection_ready("True").await?;
    env.finish().await
}

/// The password Secret is missing, then present without the key, then complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_password_secret_and_key_then_recovery() -> anyhow::Result<()> {
    let env = Env::ready("no-password").await?;
    let email = env.email("nopw");
    let mut u = env.user("nopw", &email);
    merge(
        &mut u,
        json!({"spec": {"passwordSecretRef": {"name": "nopw-secret", "key": "pass"}}}),
    );
    env.apply(&u).await?;
    env.wait_condition("nopw", "Ready", "False", "PasswordSecretNotFound")
        .await?;

    env.put_secret(&env.ns, "nopw-secret", &[("other", "not-the-key")])
        .await?;
    env.wait_condition("nopw", "Ready", "False", "PasswordSecretKeyMissing")
        .await?;

    let pw = env.password();
    env.put_secret(
        &env.ns,
        "nopw-secret",
        &[("other", "not-the-key"), ("pass", &pw)],
    )
    .await?;
    env.wait_ready("nopw").await?;
    if env.is_emulated_dashboard() {
        env.wait_password(&email, &pw).await?;
    }
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_connection_refused_outside_allowed_namespaces() -> anyhow::Result<()> {
    let mut env = Env::new("not-allowed", EnvOptions::default()).await?;
    let outside = env.extra_namespace("team-b").await?;
    let by_label = env.ns.replace("team-a", "team-c");
    kube::create_namespace(
        &env.client,
        &by_label,
        &[("e2e.userop.dev/dashboard", "allowed")],
    )
    .await?;
    env.namespace(&by_label).await?;
    let mut conn = env.cluster_connection_object(&[]);
    conn["spec"]["allowedNamespaces"]["selector"] =
        json!({"matchLabels": {"e2e.userop.dev/dashboard": "allowed"}});
    env.apply(&conn).await?;
    if !env.is_emulated_cluster() {
        env.op_cfg
            .watch_namespaces
            .extend([outside.clone(), by_label.clone()]);
    }
    env.start_operator().await?;

    let email = env.email("outsider");
    let mut u = env.user("outsider", &email);
    u["metadata"]["namespace"] = json!(outside);
    env.apply(&u).await?;
    let mut v = env.user("labelled", &env.email("labelled"));
    v["metadata"]["namespace"] = json!(by_label);
    env.apply(&v).await?;

    env.wait_condition_in(
        &outside,
        "outsider",
        "Ready",
        "False",
        "ConnectionNotAllowed",
    )
    .await?;
    env.wait_ready_in(&by_label, "labelled").await?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "refused user was created"
    );
    env.finish().await
}

/// The connection's API-key Secret is missing: users wait with the connection's condition,
/// and recover once it exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_api_key_secret_then_recovery() -> anyhow::Result<()> {
    let mut env = Env::new("no-api-key", EnvOptions::default()).await?;
    kube::delete_secret(&env.client, &env.operator_ns, API_KEY_SECRET_NAME).await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let email = env.email("nokey");
    env.apply(&env.user("nokey", &email)).await?;
    env.wait_condition("nokey", "Ready", "False", "ConnectionNotReady")
        .await?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "created without its connection?"
    );

    let key = env.admin_key.clone();
    env.put_secret(
        &env.operator_ns,
        API_KEY_SECRET_NAME,
        &[(API_KEY_SECRET_KEY, &key)],
    )
    .await?;
    env.wait_ready("nokey").await?;
    env.finish().await
}
