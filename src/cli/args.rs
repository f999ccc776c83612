//! Flags of `export`, `plan` and `drift`. Credentials are never flags: with `--url` they
//! come from the environment only, so they stay out of shell history and process lists.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::crd::DeletionPolicy;

/// How the Dashboard is reached.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// `[namespace/]name`: a DashboardConnection (with a namespace) or a
    /// ClusterDashboardConnection, read with its Secrets from the cluster of the usual
    /// kubeconfig, as the operator resolves it.
    #[arg(long, conflicts_with = "url")]
    pub connection: Option<String>,
    /// The Dashboard's URL. Credentials come from DASHBOARD_ADMIN_SECRET, DASHBOARD_API_KEY
    /// and DASHBOARD_CA_FILE (a PEM bundle) only.
    #[arg(long)]
    pub url: Option<String>,
    /// With --url: the connection's default organisation (a connection's `orgId`).
    #[arg(long, requires = "url")]
    pub org_id: Option<String>,
    /// The operator's namespace: where a ClusterDashboardConnection's Secrets and the
    /// password-fingerprint key live.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub operator_namespace: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Yaml,
    Json,
    Text,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only users of this organisation (default: every user the API key can see).
    #[arg(long)]
    pub org: Option<String>,
    /// `metadata.namespace` of every manifest (default: none, so `kubectl apply -n` decides).
    #[arg(long)]
    pub namespace: Option<String>,
    /// `spec.connectionRef` of every manifest, `ClusterDashboardConnection/NAME` or
    /// `DashboardConnection/NAME` (default: none, i.e. ClusterDashboardConnection `default`).
    #[arg(long)]
    pub connection_ref: Option<String>,
    /// Add `passwordSecretRef {name: <name>-password}`: the operator will then set each
    /// password from that Secret once it exists.
    #[arg(long)]
    pub with_password_secret_refs: bool,
    /// `spec.deletionPolicy` of every manifest; `Orphan` (the default) means applying an
    /// export, then deleting it, never deletes anything in the Dashboard.
    #[arg(long, value_parser = parse_deletion_policy, default_value = "Orphan")]
    pub deletion_policy: DeletionPolicy,
    /// Leave out Dashboard users a DashboardUser in the cluster already manages (its
    /// `status.userId`), so an export never duplicates them.
    #[arg(long)]
    pub skip_managed: bool,
    /// yaml (multi-document) or json (a `v1` List).
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
    /// Write one file per user plus a kustomization.yaml into DIR instead of stdout.
    #[arg(long)]
    pub split_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PlanArgs {
    /// Manifests: a file, a directory (read recursively, *.yaml/*.yml/*.json) or `-` for
    /// stdin (e.g. `kustomize build | … plan -f -`). May be repeated.
    #[arg(long, short = 'f', required = true)]
    pub file: Vec<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Namespace for manifests without one.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Also list Dashboard users that no manifest mentions, as "unmanaged".
    #[arg(long)]
    pub prune_report: bool,
    /// text or json.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(clap::Args, Debug, Clone)]
pub struct DriftArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Only DashboardUsers of this namespace (default: all namespaces).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// text or json.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

fn parse_deletion_policy(s: &str) -> Result<DeletionPolicy, String> {
    match s {
        "Delete" => Ok(DeletionPolicy::Delete),
        "Deactivate" => Ok(DeletionPolicy::Deactivate),
        "Orphan" => Ok(DeletionPolicy::Orphan),
        other => Err(format!("{other:?}: expected Delete, Deactivate or Orphan")),
    }
}
