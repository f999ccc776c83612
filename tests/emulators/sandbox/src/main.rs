//! `cargo run -p sandbox`: an emulated cluster, an emulated Tyk Dashboard, an emulated admin
//! users API and the operator, wired together for a first look. Ctrl-C stops everything.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::Context as _;
use dashboard_user_operator::{
    config::{Config, LogFormat},
    crd::{
        self, ClusterDashboardConnection, ClusterDashboardConnectionSpec, ConnectionPolicy,
        DashboardUser, DashboardUserGroup,
    },
    dashboard::{AdminSecret, ConnectionConfig, DashboardClient, NewUser},
};
use k8s_openapi::{
    api::core::v1::Secret,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Api, Client,
    api::{ListParams, ObjectMeta, PostParams},
};
use serde::Deserialize;

const NAMESPACE: &str = "default";
const ADMIN_SECRET_NAME: &str = "tyk-dashboard-admin";
/// The connection of type AdminUsersAPI the sandbox creates (examples/admin-users.yaml).
const ADMIN_USERS_CONNECTION: &str = "admin-users";
/// The platform team's own connection to the Dashboard (examples/bob-admin.yaml): admin
/// users and adoption, for namespace `default` only.
const PLATFORM_CONNECTION: &str = "platform";
/// The Tyk connections the sandbox creates, all to its one emulated Dashboard.
const TYK_CONNECTIONS: [&str; 2] = [crd::DEFAULT_CONNECTION, PLATFORM_CONNECTION];
const ADMIN_USERS_TOKEN_SECRET: &str = "admin-users-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dashboard_user_operator::telemetry::init(LogFormat::Text, "info,kube=warn,hyper=warn");
    let workdir = workspace_root().join("target/sandbox");
    std::fs::create_dir_all(&workdir)?;

    let kube_emu = kube_emulator::Emulator::start(kube_emulator::Options::default()).await?;
    let kubeconfig = workdir.join("kubeconfig");
    kube_emu.write_kubeconfig(&kubeconfig)?;
    let admin_secret = format!("sandbox-{:016x}", rand_u64());
    let tyk = tyk_dashboard_emulator::TykEmulator::start(tyk_dashboard_emulator::Settings {
        admin_secret: admin_secret.clone(),
        ..Default::default()
    })
    .await?;

    let token = format!("sandbox-token-{:016x}", rand_u64());
    let users_api =
        admin_users_emulator::AdminUsersEmulator::start(admin_users_emulator::Settings {
            token: token.clone(),
            ..Default::default()
        })
        .await?;

    let client = kube_emu.client().await;
    install_crds(&client).await?;
    let (org_id, api_key) = bootstrap_dashboard(&tyk.url(), &admin_secret).await?;
    let hand_made = seed_hand_made_users(&tyk.url(), &admin_secret, &org_id).await?;
    // The examples' connections point at real servers; the sandbox makes its own of the
    // same names, with the examples' policies, so the examples' users are allowed as
    // there (docs/multi-tenancy.md).
    let policies = example_policies()?;
    let policy = |name: &str| policies.get(name).cloned().unwrap_or_default();
    create_connections(
        &client,
        &tyk.url(),
        &org_id,
        &admin_secret,
        &api_key,
        &policy,
    )
    .await?;
    create_admin_users_connection(
        &client,
        &users_api.api_url(),
        &token,
        &policy(ADMIN_USERS_CONNECTION),
    )
    .await?;
    let applied = apply_examples(&client).await?;

    let mut config = Config::defaults();
    config.metrics_addr = "127.0.0.1:0".parse()?;
    config.resync_period = Duration::from_secs(30);
    config.log_format = LogFormat::Text;
    let operator = tokio::spawn(dashboard_user_operator::run_with(
        config,
        kube_emu.kube_config(),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    ));

    println!();
    println!("sandbox is up:");
    println!("  kubernetes API (emulated): {}", kube_emu.url());
    println!("  tyk dashboard (emulated):  {}  (org {org_id})", tyk.url());
    println!("  applied from examples/:    {}", applied.join(", "));
    for name in TYK_CONNECTIONS.into_iter().chain([ADMIN_USERS_CONNECTION]) {
        println!(
            "  connection {name:<12} policy {}",
            describe_policy(&policy(name))
        );
    }
    println!();
    println!("  kubeconfig: {}", kubeconfig.display());
    println!(
        "  try:        KUBECONFIG={} kubectl get dashboardusers -w",
        kubeconfig.display()
    );
    println!("  admin users API (emulated): {}", users_api.api_url());
    println!("  dashboard users: curl {}/__emulator/users", tyk.url());
    println!(
        "  admin users:     curl {}/__emulator/users",
        users_api.url()
    );
    println!(
        "  made by hand in the Dashboard (no DashboardUser yet): {}",
        hand_made.join(", ")
    );
    println!("  into Git: docs/guides/git-migration.md");
    println!();
    println!("Ctrl-C stops everything.");

    let result = operator.await.context("operator task")?;
    tyk.shutdown().await;
    users_api.shutdown().await;
    kube_emu.shutdown().await;
    result.context("operator")?;
    Ok(())
}

fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    // A clean path is easier to paste into `KUBECONFIG=…`.
    root.canonicalize().unwrap_or(root)
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

async fn install_crds(client: &Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for c in crd::all_crds() {
        api.create(&PostParams::default(), &c)
            .await
            .context("creating CRD")?;
    }
    // Wait until the new types are served.
    let users: Api<DashboardUser> = Api::all(client.clone());
    for _ in 0..100 {
        if users.list(&ListParams::default()).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("CRDs never became available")
}

/// An organisation, plus an org admin whose API key lets the operator find and delete users.
async fn bootstrap_dashboard(url: &str, admin_secret: &str) -> anyhow::Result<(String, String)> {
    #[derive(Deserialize)]
    struct Created {
        #[serde(rename = "Meta")]
        meta: String,
    }
    let org: Created = reqwest::Client::new()
        .post(format!("{url}/admin/organisations"))
        .header("admin-auth", admin_secret)
        .json(&serde_json::json!({"owner_name": "Sandbox", "owner_slug": "sandbox", "cname": "sandbox.local", "cname_enabled": true}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let dash = DashboardClient::new(ConnectionConfig::new(url, AdminSecret::new(admin_secret))?)?;
    let admin = dash
        .create_user(&NewUser {
            org_id: org.meta.clone(),
            first_name: "Sandbox".into(),
            last_name: "Admin".into(),
            email_address: "sandbox-admin@example.com".into(),
            active: true,
            user_permissions: [("IsAdmin".to_string(), "admin".to_string())].into(),
            ..Default::default()
        })
        .await?;
    Ok((org.meta, admin.access_key.expose().to_string()))
}

/// Users "made by hand" before the operator arrived, for the walkthrough "Moving an
/// existing Dashboard into Git" (docs/guides/git-migration.md): an admin, a developer with custom
/// permissions, an inactive contractor with a password expiry.
async fn seed_hand_made_users(
    url: &str,
    admin_secret: &str,
    org: &str,
) -> anyhow::Result<Vec<String>> {
    let dash = DashboardClient::new(ConnectionConfig::new(url, AdminSecret::new(admin_secret))?)?;
    let perms = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let users = [
        NewUser {
            first_name: "Olivia".into(),
            last_name: "Ops".into(),
            email_address: "olivia.ops@example.com".into(),
            active: true,
            user_permissions: perms(&[("IsAdmin", "admin")]),
            ..Default::default()
        },
        NewUser {
            first_name: "Dev".into(),
            last_name: "Eloper".into(),
            email_address: "Dev.Eloper@Example.com".into(),
            active: true,
            user_permissions: perms(&[("apis", "write"), ("keys", "read"), ("users", "deny")]),
            ..Default::default()
        },
        NewUser {
            first_name: "Casey".into(),
            last_name: "Contractor".into(),
            email_address: "casey@contractors.example.org".into(),
            active: false,
            user_permissions: perms(&[("analytics", "read")]),
            password_max_days: Some(90),
            ..Default::default()
        },
    ];
    let mut emails = vec![];
    for mut u in users {
        u.org_id = org.to_string();
        emails.push(u.email_address.to_lowercase());
        dash.create_user(&u).await?;
    }
    Ok(emails)
}

/// The admin Secret and the Tyk connections (`default`, `platform`), each with the policy
/// its example states.
async fn create_connections(
    client: &Client,
    url: &str,
    org: &str,
    admin_secret: &str,
    api_key: &str,
    policy: &dyn Fn(&str) -> ConnectionPolicy,
) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(ADMIN_SECRET_NAME.into()),
            ..Default::default()
        },
        string_data: Some(
            [
                ("adminSecret".to_string(), admin_secret.to_string()),
                ("apiKey".to_string(), api_key.to_string()),
            ]
            .into(),
        ),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &secret).await?;
    let conns: Api<ClusterDashboardConnection> = Api::all(client.clone());
    for name in TYK_CONNECTIONS {
        let spec: ClusterDashboardConnectionSpec = serde_json::from_value(serde_json::json!({
            "url": url,
            "orgId": org,
            "adminSecretRef": {"name": ADMIN_SECRET_NAME, "key": "adminSecret"},
            "apiKeySecretRef": {"name": ADMIN_SECRET_NAME, "key": "apiKey"},
            "allowedNamespaces": {"names": [NAMESPACE]},
            "policy": policy(name),
        }))?;
        conns
            .create(
                &PostParams::default(),
                &ClusterDashboardConnection::new(name, spec),
            )
            .await?;
    }
    Ok(())
}

/// The `admin-users` connection of type AdminUsersAPI, pointing at the emulated API.
async fn create_admin_users_connection(
    client: &Client,
    url: &str,
    token: &str,
    policy: &ConnectionPolicy,
) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(ADMIN_USERS_TOKEN_SECRET.into()),
            ..Default::default()
        },
        string_data: Some([("token".to_string(), token.to_string())].into()),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &secret).await?;
    let spec: ClusterDashboardConnectionSpec = serde_json::from_value(serde_json::json!({
        "type": "AdminUsersAPI",
        "url": url,
        "tokenSecretRef": {"name": ADMIN_USERS_TOKEN_SECRET, "key": "token"},
        "allowedNamespaces": {"names": [NAMESPACE]},
        "policy": policy,
    }))?;
    Api::<ClusterDashboardConnection>::all(client.clone())
        .create(
            &PostParams::default(),
            &ClusterDashboardConnection::new(ADMIN_USERS_CONNECTION, spec),
        )
        .await?;
    Ok(())
}

/// Every document of `examples/*.yaml`, file by file in name order.
fn example_documents() -> anyhow::Result<Vec<serde_json::Value>> {
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join("examples"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut docs = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            docs.push(serde_json::Value::deserialize(doc)?);
        }
    }
    Ok(docs)
}

/// The `spec.policy` of each `ClusterDashboardConnection` in `examples/`, by name.
fn example_policies() -> anyhow::Result<BTreeMap<String, ConnectionPolicy>> {
    let mut out = BTreeMap::new();
    for doc in example_documents()? {
        if doc["kind"] != "ClusterDashboardConnection" {
            continue;
        }
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let policy = match doc["spec"].get("policy") {
            Some(p) => serde_json::from_value(p.clone())
                .with_context(|| format!("examples: policy of connection {name}"))?,
            None => ConnectionPolicy::default(),
        };
        out.insert(name, policy);
    }
    Ok(out)
}

/// What a connection allows beyond the narrow defaults, in one line.
fn describe_policy(p: &ConnectionPolicy) -> String {
    if p.is_default() {
        return "defaults: ordinary users of its org only".into();
    }
    serde_json::to_string(p).unwrap_or_default()
}

/// Creates the Secrets, groups and DashboardUsers of `examples/*.yaml` whose connection the
/// sandbox has (connections there point at real servers; the sandbox makes its own).
async fn apply_examples(client: &Client) -> anyhow::Result<Vec<String>> {
    let ours = |r: Option<&crd::ConnectionRef>| {
        r.is_none_or(|r| {
            r.kind == crd::ConnectionKind::ClusterDashboardConnection
                && (TYK_CONNECTIONS.contains(&r.name.as_str()) || r.name == ADMIN_USERS_CONNECTION)
        })
    };
    let mut applied = vec![];
    for value in example_documents()? {
        let ns = value["metadata"]["namespace"]
            .as_str()
            .unwrap_or(NAMESPACE)
            .to_string();
        if ns != NAMESPACE {
            continue;
        }
        match value["kind"].as_str() {
            Some("Secret") => {
                let s: Secret = serde_json::from_value(value)?;
                let name = s.metadata.name.clone().unwrap_or_default();
                Api::<Secret>::namespaced(client.clone(), &ns)
                    .create(&PostParams::default(), &s)
                    .await?;
                applied.push(format!("secret/{name}"));
            }
            Some("DashboardUser") => {
                let u: DashboardUser = serde_json::from_value(value)?;
                if !ours(u.spec.connection_ref.as_ref()) {
                    continue;
                }
                let name = u.metadata.name.clone().unwrap_or_default();
                Api::<DashboardUser>::namespaced(client.clone(), &ns)
                    .create(&PostParams::default(), &u)
                    .await?;
                applied.push(format!("dashboarduser/{name}"));
            }
            Some("DashboardUserGroup") => {
                let g: DashboardUserGroup = serde_json::from_value(value)?;
                if !ours(g.spec.connection_ref.as_ref()) {
                    continue;
                }
                let name = g.metadata.name.clone().unwrap_or_default();
                Api::<DashboardUserGroup>::namespaced(client.clone(), &ns)
                    .create(&PostParams::default(), &g)
                    .await?;
                applied.push(format!("dashboardusergroup/{name}"));
            }
            _ => {}
        }
    }
    Ok(applied)
}
