//! Command line and environment configuration (docs/reference/cli.md).

use std::{net::SocketAddr, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "dashboard-user-operator",
    version,
    about = "Manages Tyk Dashboard users from DashboardUser resources"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Run the controllers.
    Run(Config),
    /// Print the CustomResourceDefinitions as multi-document YAML.
    Crd,
    /// Print every Dashboard user as a DashboardUser manifest (adoptionPolicy IfExists).
    Export(crate::cli::ExportArgs),
    /// Show what the operator would do to the Dashboard for these manifests (exit 0 = no
    /// changes, 2 = changes pending, 1 = error). Writes nothing.
    Plan(crate::cli::PlanArgs),
    /// For the DashboardUsers in the cluster, show how the Dashboard differs (read-only;
    /// exit codes as for plan).
    Drift(crate::cli::DriftArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct Config {
    /// Namespaces to watch (comma separated); empty = all.
    #[arg(
        long,
        env = "WATCH_NAMESPACES",
        value_delimiter = ',',
        default_value = ""
    )]
    pub watch_namespaces: Vec<String>,
    /// The operator's own namespace: home of cluster-connection Secrets and the
    /// password-fingerprint key.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub operator_namespace: String,
    /// Users reconciled in parallel.
    #[arg(long, env = "CONCURRENCY", default_value_t = 4)]
    pub concurrency: u16,
    /// Drift check interval; each user keeps its own point of the period (spread evenly),
    /// stretched while the checks would take over half of the `--concurrency` slots.
    #[arg(long, env = "RESYNC_PERIOD", default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,
    /// How often a healthy connection is probed again: its credentials and, on an
    /// API-key-only connection, who holds the key (a promotion or demotion is seen then).
    #[arg(long, env = "PROBE_PERIOD", default_value = "2m", value_parser = humantime::parse_duration)]
    pub probe_period: Duration,
    /// Address for /metrics, /livez and /readyz.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Only act while holding a coordination.k8s.io Lease.
    #[arg(long, env = "LEADER_ELECT", default_value_t = false)]
    pub leader_elect: bool,
    /// Tags every Dashboard request (`User-Agent: dashboard-user-operator/<v> (replica <id>)`)
    /// so writes can be told apart by replica; default `<POD_NAME or HOSTNAME>_<8 hex>`.
    #[arg(long, env = "REPLICA_ID")]
    pub replica_id: Option<String>,
    /// Name of the Lease (in the operator namespace).
    #[arg(long, env = "LEASE_NAME", default_value = "dashboard-user-operator")]
    pub lease_name: String,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// RUST_LOG-style filter.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl Config {
    /// Namespaces actually watched: `None` = all.
    pub fn namespaces(&self) -> Option<Vec<String>> {
        let ns: Vec<String> = self
            .watch_namespaces
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!ns.is_empty()).then_some(ns)
    }

    /// Defaults as if `run` had no flags (tests and the sandbox start from this).
    pub fn defaults() -> Self {
        match Cli::parse_from(["dashboard-user-operator", "run"]).command {
            Command::Run(c) => c,
            _ => unreachable!("parsed `run`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_with_documented_defaults() {
        let c = Config::defaults();
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.resync_period, Duration::from_secs(600));
        assert_eq!(c.probe_period, Duration::from_secs(120));
        assert_eq!(c.operator_namespace, "default");
        assert_eq!(c.namespaces(), None);
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn watch_namespaces_split_on_commas() {
        let cli = Cli::parse_from([
            "x",
            "run",
            "--watch-namespaces",
            "a,b",
            "--resync-period",
            "3s",
            "--log-format",
            "text",
        ]);
        let Command::Run(c) = cli.command else {
            panic!("run")
        };
        assert_eq!(c.namespaces(), Some(vec!["a".into(), "b".into()]));
        assert_eq!(c.resync_period, Duration::from_secs(3));
    }
}
