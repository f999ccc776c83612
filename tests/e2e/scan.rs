//! The secret scan: a representative lifecycle (passwords set, changed and refused, keys
//! published, rotated and restored, drift, recreation, deletion) at debug log level, then
//! every log line, Event, status and metric it produced is searched for every credential.
//! Every other test runs the same scan over its own corpus in `Env::finish`.

use serde_json::json;

use crate::common::{Env, EnvOptions, ROTATE_ANNOTATION, kube, merge};
use crate::support::status_str;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_events_status_or_metrics() -> anyhow::Result<()> {
    let opts = EnvOptions {
        log_level: "debug,hyper=info,hyper_util=info,tower=info,rustls=info".into(),
        ..Default::default()
    };
    let mut env = Env::new("secret-scan", opts).await?;
    // `scan` is an admin (IsAdmin), which the connection must allow.
    let mut conn = env.cluster_connection_object(&[]);
    conn["spec"]["policy"] = json!({"allowAdminUsers": true});
    env.apply(&conn).await?;
    env.start_operator().await?;

    let email = env.email("scan");
    let (p1, p2) = (env.password(), env.password());
    env.put_password("scan-pw", &p1).await?;
    let mut u = env.user("scan", &email);
    merge(
        &mut u,
        json!({"spec": {"passwordSecretRef": {"name": "scan-pw"}, "permissions": {"IsAdmin": "admin"}}}),
    );
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("scan").await?, "userId");
    env.put_password("scan-pw", &p2).await?;
    if env.is_emulated_dashboard() {
        env.wait_password(&email, &p2).await?;
        // A refused password: its error path must not echo it either.
        env.put_password("scan-pw", &p1).await?;
        env.wait_condition("scan", "Stalled", "True", "PasswordRejected")
            .await?;
        let p3 = env.password();
        env.put_password("scan-pw", &p3).await?;
        env.wait_password(&email, &p3).await?;
        env.wait_ready("scan").await?;
    }

    // Access key: rotated, tampered with, restored.
    env.patch_user(
        "scan",
        &json!({"metadata": {"annotations": {ROTATE_ANNOTATION: "scan-1"}}}),
    )
    .await?;
    env.wait_user("scan", "rotation recorded", |x| {
        (status_str(x, "rotatedAccessKey") == "scan-1")
            .then_some(())
            .ok_or("not yet".into())
    })
    .await?;
    kube::patch_secret_key(
        &env.client,
        &env.ns,
        "scan-dashboard-access",
        "accessKey",
        "tampered-key-value-0001",
    )
    .await?;
    env.corpus.secret("tampered-key-value-0001");
    env.wait_secret("scan-dashboard-access", "restored", |d, _| {
        (d.get("accessKey").map(String::as_str) != Some("tampered-key-value-0001"))
            .then_some(())
            .ok_or("tampered".into())
    })
    .await?;

    // A second user: deleted in the Dashboard (recreated), then deleted for good.
    let other = env.email("scan-other");
    env.apply(&env.user("other", &other)).await?;
    let oid = status_str(&env.wait_ready("other").await?, "userId");
    env.remote(&oid).await?;
    env.dashboard.api_delete_user(&env.admin_key, &oid).await?;
    env.wait_user("other", "recreated", |x| {
        let n = status_str(x, "userId");
        (!n.is_empty() && n != oid)
            .then_some(())
            .ok_or("old id".into())
    })
    .await?;
    env.delete_user("other").await?;
    env.wait_user_gone("other").await?;

    // A broken admin secret: the resulting errors must not quote what was sent.
    let wrong = format!("wrong-admin-{}", crate::common::random_hex(16));
    env.corpus.secret(&wrong);
    env.put_secret(
        &env.operator_ns,
        crate::common::ADMIN_SECRET_NAME,
        &[(crate::common::ADMIN_SECRET_KEY, &wrong)],
    )
    .await?;
    env.restart_operator().await?;
    env.wait_user("scan", "connection failure reported", |x| {
        crate::support::has(x, "Ready", "False", None)
    })
    .await?;
    let real = env.dashboard.admin_secret.clone();
    env.put_secret(
        &env.operator_ns,
        crate::common::ADMIN_SECRET_NAME,
        &[(crate::common::ADMIN_SECRET_KEY, &real)],
    )
    .await?;
    env.remote(&id).await?;

    // The scan must have material to look at, or passing it would mean nothing.
    anyhow::ensure!(
        env.corpus.secrets_len() >= 6,
        "only {} secrets registered",
        env.corpus.secrets_len()
    );
    anyhow::ensure!(
        env.logs.len() > 10,
        "only {} operator log lines captured",
        env.logs.len()
    );
    env.finish().await
}
