//! The chart's Grafana dashboard and PrometheusRule are built on metric names the operator
//! really exports: every `dashboard_user_operator_*` name they use has a sample in the real
//! operator's `/metrics`. Plus the users gauge and the leader gauge themselves.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::{Env, wait};

/// Every `dashboard_user_operator_*` identifier in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    const PREFIX: &str = "dashboard_user_operator_";
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn chart_file(path: &str) -> anyhow::Result<String> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("charts/dashboard-user-operator")
        .join(path);
    std::fs::read_to_string(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_use_metrics_the_operator_exports() -> anyhow::Result<()> {
    let env = Env::ready("observability").await?;
    let emulated = env.is_emulated_dashboard();
    if emulated {
        // One failed create, so the error counter has a sample too.
        env.dashboard
            .faults(&json!({"rules": [{"kind": "error", "method": "POST",
                "route": "/admin/users", "status": 500, "count": 1}]}))
            .await?;
    }
    env.apply(&env.user("seen", &env.email("seen"))).await?;
    env.wait_ready("seen").await?;

    let op = env.operator.as_ref().expect("running");
    let connection = format!("cluster/{}", env.connection_name);
    let metrics = wait::until("the users gauge to count the Ready user", || async {
        let m = op.metrics().await.map_err(|e| e.to_string())?;
        let line = format!(
            "dashboard_user_operator_users{{connection=\"{connection}\",reason=\"Synced\"}} 1"
        );
        if m.contains(&line) {
            Ok(m)
        } else {
            Err(format!("no `{line}`"))
        }
    })
    .await?;
    anyhow::ensure!(
        metrics
            .lines()
            .any(|l| l == "dashboard_user_operator_leader 1"),
        "the running operator does not report itself as leading"
    );

    let samples: BTreeSet<String> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect();
    let dashboard = chart_file("files/grafana/dashboard-user-operator.json")?;
    let rules = chart_file("templates/prometheusrule.yaml")?;
    let used: BTreeSet<String> = metric_names(&dashboard)
        .into_iter()
        .chain(metric_names(&rules))
        .collect();
    anyhow::ensure!(used.len() >= 6, "too few metric names found: {used:?}");
    let missing: Vec<&String> = used
        .iter()
        .filter(|n| !samples.contains(*n))
        .filter(|n| {
            // Without fault injection (a real Dashboard) no error may have happened: the
            // family's TYPE line proves the name then.
            emulated || !metrics.contains(&format!("# TYPE {} ", n.trim_end_matches("_total")))
        })
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the chart's dashboard or rules use metrics /metrics does not have: {missing:?}\n{metrics}"
    );
    if emulated {
        // The injected 500 as the real binary labels it: what the DashboardUnreachable
        // rule's `status=~"error|5.."` selects (the label values themselves are unit-tested
        // in src/metrics.rs against the rule's text).
        let failed = metrics.lines().any(|l| {
            l.starts_with("dashboard_user_operator_dashboard_requests_total{")
                && l.contains(&format!("connection=\"{connection}\""))
                && l.contains("method=\"POST\"")
                && l.contains("status=\"500\"")
        });
        anyhow::ensure!(
            failed,
            "no POST request counted with status=\"500\"\n{metrics}"
        );
        anyhow::ensure!(
            rules.contains(r#"status=~"error|5..""#),
            "the unreachable rule's status matcher changed: update this test and metrics.rs"
        );
    }
    env.finish().await
}
