//! The read-only subcommands `export`, `plan` and `drift`: from a hand-run Dashboard to
//! Git, and "what would the operator do?" before it does it (docs/guides/git-migration.md).
//!
//! They share the operator's connection resolution ([`crate::connection::Resolver`]) and its
//! pure plan function ([`crate::reconcile::plan::plan`]); nothing here writes to the
//! Dashboard or to Kubernetes.

pub mod args;
mod drift;
mod evaluate;
pub mod export;
pub mod input;
pub mod names;
mod plan;
pub mod report;
mod target;

pub use args::{ConnectionArgs, DriftArgs, ExportArgs, OutputFormat, PlanArgs};

use crate::dashboard::DashboardError;

/// Exit status of `plan` and `drift`: 0 = nothing to do, 2 = changes pending, 1 = error
/// (a user the operator would report as failed, or the command itself failed).
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("no usable kubeconfig (needed for --connection, or leave it out and give --url)")]
    KubeConfig(#[source] kube::config::InferConfigError),
    #[error("building the kubernetes client")]
    KubeClient(#[source] kube::Error),
    #[error("reading {what}")]
    Kube {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("connection {label}: {reason}: {message}")]
    Connection {
        label: String,
        reason: &'static str,
        message: String,
    },
    #[error(transparent)]
    Resolve(#[from] crate::connection::ConnectionError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error("dashboard: {0}")]
    Dashboard(#[from] DashboardError),
    #[error(transparent)]
    Input(#[from] input::InputError),
    #[error("writing {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("rendering the output")]
    Render(#[source] serde_json::Error),
    #[error("rendering the output")]
    RenderYaml(#[source] serde_yaml::Error),
}

/// `export`: prints (or writes) the manifests; the exit status is 0 or 1.
pub async fn export(args: ExportArgs) -> Result<i32, CliError> {
    export::run(args).await
}

/// `plan`: exit status per [`EXIT_CLEAN`], [`EXIT_CHANGES`], [`EXIT_ERROR`].
pub async fn plan(args: PlanArgs) -> Result<i32, CliError> {
    plan::run(args).await
}

/// `drift`: exit status as for `plan`.
pub async fn drift(args: DriftArgs) -> Result<i32, CliError> {
    drift::run(args).await
}
