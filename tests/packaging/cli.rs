//! The Deployment's arguments are parsed by the operator's own command line (the docs/reference/cli.md CLI
//! contract), so a renamed or mistyped flag in the chart fails here rather than in a pod.

use crate::support::render;
use clap::Parser;
use dashboard_user_operator::config::{Cli, Command, Config, LogFormat};
use serde_json::json;
use std::time::Duration;

fn parsed(values: serde_json::Value) -> Config {
    let args = render(values, "ops").args();
    let argv = std::iter::once("dashboard-user-operator".to_string()).chain(args.clone());
    match Cli::try_parse_from(argv) {
        Ok(Cli {
            command: Command::Run(config),
        }) => config,
        Ok(other) => panic!("{args:?} parsed as {:?}", other.command),
        Err(e) => panic!("the operator rejects the chart's arguments {args:?}: {e}"),
    }
}

#[test]
fn chart_arguments_parse_with_the_operators_cli() {
    let c = parsed(json!({}));
    assert_eq!(c.namespaces(), None);
    assert_eq!(c.concurrency, 4);
    assert_eq!(c.resync_period, Duration::from_secs(600));
    assert_eq!(c.metrics_addr.port(), 8080);
    assert!(!c.leader_elect);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.log_level, "info");

    let c = parsed(json!({
        "watchNamespaces": ["team-a", "team-b"], "concurrency": 16, "resyncPeriod": "1h30m",
        "replicas": 2, "log": {"format": "text", "level": "debug,kube=info"},
        "metrics": {"port": 9090}, "leaderElection": {"leaseName": "duo-lease"},
    }));
    assert_eq!(
        c.namespaces(),
        Some(vec!["team-a".to_string(), "team-b".to_string()])
    );
    assert_eq!(c.concurrency, 16);
    assert_eq!(c.resync_period, Duration::from_secs(5400));
    assert_eq!(c.metrics_addr.port(), 9090);
    assert!(c.leader_elect);
    assert_eq!(c.lease_name, "duo-lease");
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.log_level, "debug,kube=info");
}
