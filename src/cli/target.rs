//! Reaching the Dashboard for a subcommand: a connection from the cluster, resolved with
//! the operator's own [`Resolver`] (Secrets, namespace rules, defaults), or `--url` with
//! credentials from the environment.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, header::USER_AGENT};
use kube::{Api, Client};

use super::CliError;
use super::args::ConnectionArgs;
use crate::backend::Backend;
use crate::connection::{ClientCache, Resolved, Resolver, dashboard_key, own_namespace_secrets};
use crate::crd::{
    ClusterDashboardConnection, ConnectionType, DashboardConnection, DashboardUser, reason,
};
use crate::dashboard::{AdminSecret, ApiKey, ConnectionConfig, DashboardClient};
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::reconcile::plan::Blocker;

/// Kubernetes requests of the subcommands carry their own User-Agent, so they are never
/// mistaken for the operator's (the chart's RBAC check reads the operator's requests).
pub const CLI_USER_AGENT: &str = concat!("userop-cli/", env!("CARGO_PKG_VERSION"));

pub const ENV_ADMIN_SECRET: &str = "DASHBOARD_ADMIN_SECRET";
pub const ENV_API_KEY: &str = "DASHBOARD_API_KEY";
pub const ENV_CA_FILE: &str = "DASHBOARD_CA_FILE";

/// The cluster, when the subcommand reads one.
pub struct Cluster {
    pub client: Client,
    pub operator_namespace: String,
    cache: ClientCache,
    metrics: Arc<Metrics>,
}

impl Cluster {
    pub async fn connect(operator_namespace: &str) -> Result<Self, CliError> {
        let mut cfg = kube::Config::infer().await.map_err(CliError::KubeConfig)?;
        cfg.headers
            .push((USER_AGENT, HeaderValue::from_static(CLI_USER_AGENT)));
        Ok(Self {
            client: Client::try_from(cfg).map_err(CliError::KubeClient)?,
            operator_namespace: operator_namespace.to_string(),
            cache: ClientCache::default(),
            metrics: Arc::default(),
        })
    }

    pub fn resolver(&self) -> Resolver<'_> {
        Resolver {
            client: &self.client,
            operator_namespace: &self.operator_namespace,
            cache: &self.cache,
            // Never served: the CLI has no metrics endpoint; the Resolver wants a sink.
            metrics: &self.metrics,
            // The CLI only reads; its requests carry no replica tag.
            replica: None,
            fresh_key_owner: false,
        }
    }

    /// The connection a user would use, as the operator resolves it.
    pub async fn for_user(
        &self,
        user: &DashboardUser,
    ) -> Result<Result<Resolved, Blocker>, CliError> {
        Ok(self.resolver().for_user(user).await?)
    }

    /// `--connection [namespace/]name`.
    pub async fn named(&self, spec: &str) -> Result<Resolved, CliError> {
        let resolved = match spec.split_once('/') {
            Some((ns, name)) => {
                let api: Api<DashboardConnection> = Api::namespaced(self.client.clone(), ns);
                let c = fetch(
                    &api,
                    name,
                    spec,
                    &format!("DashboardConnection {ns}/{name}"),
                )
                .await?;
                if !own_namespace_secrets(&c.spec.settings, ns) {
                    return Err(refused(
                        spec,
                        Blocker::stalled(
                            reason::CONNECTION_NOT_READY,
                            "a DashboardConnection may only name Secrets of its own namespace",
                        ),
                    ));
                }
                self.resolver()
                    .build(&format!("{ns}/{name}"), &c.spec.settings, ns, false)
                    .await?
            }
            None => {
                let api: Api<ClusterDashboardConnection> = Api::all(self.client.clone());
                let c = fetch(
                    &api,
                    spec,
                    spec,
                    &format!("ClusterDashboardConnection {spec}"),
                )
                .await?;
                self.resolver()
                    .build(
                        &format!("cluster/{spec}"),
                        &c.spec.settings,
                        &self.operator_namespace,
                        true,
                    )
                    .await?
            }
        };
        resolved.map_err(|b| refused(spec, b))
    }
}

/// Reads the named connection; a missing one is `ConnectionNotFound`, as the operator says.
async fn fetch<K>(api: &Api<K>, name: &str, label: &str, what: &str) -> Result<K, CliError>
where
    K: Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let found = api.get_opt(name).await.map_err(|source| CliError::Kube {
        what: what.to_string(),
        source,
    })?;
    found.ok_or_else(|| {
        refused(
            label,
            Blocker::stalled(reason::CONNECTION_NOT_FOUND, format!("{what} not found")),
        )
    })
}

fn refused(label: &str, b: Blocker) -> CliError {
    CliError::Connection {
        label: label.to_string(),
        reason: b.reason,
        message: b.message,
    }
}

/// `--url` with `DASHBOARD_ADMIN_SECRET`, `DASHBOARD_API_KEY`, `DASHBOARD_CA_FILE`.
pub fn from_env(url: &str, org_id: Option<&str>) -> Result<Resolved, CliError> {
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let admin = env(ENV_ADMIN_SECRET).ok_or_else(|| {
        CliError::Usage(format!(
            "--url needs the admin secret in {ENV_ADMIN_SECRET}"
        ))
    })?;
    let bad = |e: crate::dashboard::DashboardError| {
        refused(
            url,
            Blocker::stalled(reason::CONNECTION_NOT_READY, e.to_string()),
        )
    };
    let mut cfg = ConnectionConfig::new(url, AdminSecret::new(admin)).map_err(bad)?;
    cfg.api_key = env(ENV_API_KEY).map(ApiKey::new);
    if let Some(path) = env(ENV_CA_FILE) {
        cfg.ca_pem = Some(
            std::fs::read(&path)
                .map_err(|e| CliError::Usage(format!("{ENV_CA_FILE}: cannot read {path}: {e}")))?,
        );
    }
    cfg.timeout = Duration::from_secs(10);
    cfg.max_concurrent_requests = 8;
    let client = DashboardClient::new(cfg).map_err(bad)?;
    let org_id = org_id.map(str::to_string).filter(|o| !o.is_empty());
    Ok(Resolved {
        label: url.to_string(),
        url: url.to_string(),
        // No connection object, so no policy: whoever holds the admin secret may ask for
        // anything (docs/reference/cli.md: use --connection to apply one).
        policy: Policy::unrestricted(url),
        dashboard: dashboard_key(ConnectionType::TykDashboard, url),
        // The CLI never trusts an earlier confirmation: it always reads.
        fingerprint: 0,
        org_id,
        // `--url` names a Tyk Dashboard with its admin secret: never API-key-only.
        key_org: None,
        // `--url` names a Tyk Dashboard: its credentials are the ones read above.
        backend: Backend::Tyk(client),
    })
}

/// Where the subcommand's Dashboard comes from.
pub struct Target {
    /// `None` with `--url`: nothing is read from a cluster.
    pub cluster: Option<Cluster>,
    /// Given by `--connection` or `--url`: used for every user instead of its `connectionRef`.
    pub fixed: Option<Resolved>,
}

impl Target {
    /// `needs_cluster`: read a cluster even with `--url` (drift reads DashboardUsers).
    pub async fn open(args: &ConnectionArgs, needs_cluster: bool) -> Result<Self, CliError> {
        if let Some(url) = &args.url {
            let fixed = from_env(url, args.org_id.as_deref())?;
            let cluster = if needs_cluster {
                Some(Cluster::connect(&args.operator_namespace).await?)
            } else {
                None
            };
            return Ok(Self {
                cluster,
                fixed: Some(fixed),
            });
        }
        let cluster = Cluster::connect(&args.operator_namespace).await?;
        let fixed = match &args.connection {
            Some(spec) => Some(cluster.named(spec).await?),
            None => None,
        };
        Ok(Self {
            cluster: Some(cluster),
            fixed,
        })
    }
}
