//! The operator library run in-process (`run_with`) against both emulators: readiness,
//! the metrics it exports, a create-to-delete lifecycle and a clean shutdown. The full
//! scenario suite (the binary as a child process) lives in tests/e2e.

use std::time::Duration;

use dashboard_user_operator::{
    config::Config,
    crd::{self, ClusterDashboardConnection, DashboardUser, DashboardUserSpec},
    dashboard::{AdminSecret, ConnectionConfig, DashboardClient, NewUser},
};
use k8s_openapi::{
    api::core::v1::Secret,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api,
    api::{DeleteParams, ObjectMeta, PostParams},
};

const ADMIN_SECRET: &str = "inprocess-admin-secret";

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_metrics_and_shutdown() -> anyhow::Result<()> {
    let kube_emu = kube_emulator::Emulator::start(Default::default()).await?;
    let tyk = tyk_dashboard_emulator::TykEmulator::start(tyk_dashboard_emulator::Settings {
        admin_secret: ADMIN_SECRET.into(),
        ..Default::default()
    })
    .await?;
    let client = kube_emu.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for c in crd::all_crds() {
        crds.create(&PostParams::default(), &c).await?;
    }

    // An org admin whose key lets the operator delete users.
    let org = "5e9d9544a1dcd60001d0ed20";
    let dash = DashboardClient::new(ConnectionConfig::new(
        &tyk.url(),
        AdminSecret::new(ADMIN_SECRET),
    )?)?;
    let admin = dash
        .create_user(&NewUser {
            org_id: org.into(),
            email_address: "admin@example.com".into(),
            active: true,
            user_permissions: [("IsAdmin".to_string(), "admin".to_string())].into(),
            ..Default::default()
        })
        .await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let admin_secret = Secret {
        metadata: ObjectMeta {
            name: Some("tyk-admin".into()),
            ..Default::default()
        },
        string_data: Some(
            [
                ("adminSecret".to_string(), ADMIN_SECRET.to_string()),
                ("apiKey".to_string(), admin.access_key.expose().to_string()),
            ]
            .into(),
        ),
        ..Default::default()
    };
    secrets
        .create(&PostParams::default(), &admin_secret)
        .await?;
    let spec = serde_json::from_value(serde_json::json!({
        "url": tyk.url(), "orgId": org,
        "adminSecretRef": {"name": "tyk-admin"}, "apiKeySecretRef": {"name": "tyk-admin"},
    }))?;
    let conns: Api<ClusterDashboardConnection> = Api::all(client.clone());
    conns
        .create(
            &PostParams::default(),
            &ClusterDashboardConnection::new("default", spec),
        )
        .await?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut config = Config::defaults();
    config.metrics_addr = format!("127.0.0.1:{port}").parse()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(dashboard_user_operator::run_with(
        config,
        kube_emu.kube_config(),
        async {
            let _ = stop_rx.await;
        },
    ));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    eventually("/readyz", || async {
        let r = http.get(format!("{base}/readyz")).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;

    let users: Api<DashboardUser> = Api::namespaced(client.clone(), "default");
    // A user with a permission: one without any is an admin in Tyk, which the connection's
    // default policy refuses (docs/multi-tenancy.md).
    let mut spec = DashboardUserSpec::for_email("Dora@Example.com");
    spec.permissions = [("apis".to_string(), "read".to_string())].into();
    let user = DashboardUser::new("dora", spec);
    users.create(&PostParams::default(), &user).await?;
    let ready = eventually("Ready=True", || async {
        let u = users.get("dora").await.ok()?;
        let st = u.status.clone()?;
        st.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
            .then_some(st)
    })
    .await;
    let id = ready.user_id.expect("userId recorded");
    assert!(
        tyk.users().iter().any(|u| u.id == id),
        "the Dashboard has the user"
    );

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for needle in [
        r#"dashboard_user_operator_dashboard_requests_total{connection="cluster/default",method="POST",route="/admin/users",status="200"} 1"#,
        r#"dashboard_user_operator_reconciles_total{controller="dashboarduser",result="ok"}"#,
        "dashboard_user_operator_dashboard_request_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in:\n{metrics}");
    }
    assert!(
        !metrics.contains("dora") && !metrics.contains(&id),
        "object names and ids stay out of labels"
    );

    users.delete("dora", &DeleteParams::default()).await?;
    eventually("user deleted in the Dashboard", || async {
        (!tyk.users().iter().any(|u| u.id == id)).then_some(())
    })
    .await;

    let _ = stop_tx.send(());
    let result = tokio::time::timeout(Duration::from_secs(30), operator).await??;
    assert!(result.is_ok(), "graceful shutdown returns Ok: {result:?}");
    tyk.shutdown().await;
    kube_emu.shutdown().await;
    Ok(())
}
