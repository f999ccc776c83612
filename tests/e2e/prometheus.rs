//! The chart's alert rules and Grafana queries, run by a real Prometheus (Debian's 2.42 package,
//! `tests/install-deps.sh`) against the real operator:
//!
//! 1. The chart's `PrometheusRule` is rendered by Helm (`tests/packaging/helm_driver.py`, an
//!    `install` into a Kubernetes API emulator of its own that serves `monitoring.coreos.com/v1`,
//!    as the packaging tests do: the template renders only where that API exists) with default
//!    values; its `spec.groups` is written to `target/prometheus/rules.yaml` and passes
//!    `promtool check rules`.
//! 2. A scenario drives the operator, scraped every second by a Prometheus started here
//!    (loopback, a free port, its own temp dir, killed at the end) that evaluates the chart's
//!    rules every second. The `for:` durations (15m, 5m) are rewritten to [`FOR_IN_TEST`] in
//!    that copy only; every `expr` is the chart's, byte for byte. Phases and the alerts each
//!    must show, exactly (firing or pending, nothing else):
//!    - healthy: [`HEALTHY_USERS`] users Ready (one create answered 500 once) → no alert;
//!    - failing: one more user whose password Secret is missing (stalled), and a
//!      `DashboardConnection` to a second Tyk emulator whose fault rules reset the first
//!      request and answer 503 to everything after → `DashboardUserStalled` (that connection and
//!      reason), `DashboardUnreachable` (the failing connection) and
//!      `DashboardUserReconcileErrors` (controller `dashboardconnection`: every probe of it
//!      fails). Not the users controller's: a user waiting for a watched input is an outcome,
//!      not a failed reconcile (no `reconcile_errors_total` sample), and the one 500 of the
//!      healthy phase never increases again, so its rate is 0 (nor does it make
//!      `cluster/default` unreachable);
//!    - operator stopped → `DashboardUserOperatorNoLeader`; the stalled alert resolves (the
//!      gauge went stale); the two rate-based alerts keep firing, as they do in production,
//!      until their failing samples leave the `[5m]`/`[10m]` windows.
//! 3. In the failing phase every PromQL expression of the Grafana dashboard (with `$job` the
//!    scrape job) is accepted by `/api/v1/query` and returns data with a finite value; the
//!    `job` variable's `label_values` query is answered by the labels API. No panel is
//!    expected to be empty in that phase.
//! 4. Series from a real scrape: in the failing phase the operator's `/metrics` is scraped and
//!    every series (name and label set) written to `target/prometheus/scraped-series.txt`.
//!    The promtool unit tests (`tests/fixtures/prometheus/alerts_test.yaml`) may only use
//!    those: each `input_series` must carry the rules' `job` and otherwise exactly the label
//!    set of a scraped series, or the test fails naming it. Every alert of the rules needs a
//!    test where it fires and one where it stays silent; then `promtool test rules` runs them
//!    (against `target/prometheus/rules.yaml`, the unchanged chart rules, so by hand too:
//!    `promtool test rules target/prometheus/alerts_test.yaml`).
//!
//! Needs the emulators (fault injection, a second Dashboard): on real targets it prints SKIP.
//! Without `promtool`/`prometheus` it fails; `E2E_ALLOW_NO_PROMETHEUS=1` turns that into a
//! SKIP outside CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::common::{Dashboard, Env, merge, wait};

/// Users Ready in the scenario besides the stalled one.
const HEALTHY_USERS: usize = 5;
/// What every `for:` becomes in the rules the test's Prometheus evaluates.
const FOR_IN_TEST: &str = "2s";
/// The Helm release the rules are rendered for: the job label is `<release>-dashboard-user-operator-metrics`.
const RELEASE: &str = "duo";
/// The whole scenario's bound, besides each wait's own deadline.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(240);

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    workspace().join("target/prometheus")
}

// ---- tools ----

struct Tools {
    promtool: PathBuf,
    prometheus: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The two binaries, or `None` (a SKIP) only where the developer asked for it, never in CI.
fn tools() -> anyhow::Result<Option<Tools>> {
    match (on_path("promtool"), on_path("prometheus")) {
        (Some(promtool), Some(prometheus)) => Ok(Some(Tools {
            promtool,
            prometheus,
        })),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            if !ci && std::env::var_os("E2E_ALLOW_NO_PROMETHEUS").is_some() {
                eprintln!(
                    "SKIP prometheus: promtool/prometheus not on PATH (E2E_ALLOW_NO_PROMETHEUS)"
                );
                return Ok(None);
            }
            anyhow::bail!(
                "promtool and prometheus must be on PATH (Debian's `prometheus` package; \
                 `bash tests/install-deps.sh` installs it)"
            )
        }
    }
}

async fn run(cmd: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = tokio::process::Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("running {}", cmd.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    anyhow::ensure!(
        out.status.success(),
        "{} {} failed ({}):\n{text}",
        cmd.display(),
        args.join(" "),
        out.status
    );
    Ok(text)
}

// ---- the chart's rules, rendered by Helm ----

/// The chart's `PrometheusRule` as Helm renders it with default values (enabled), where the
/// cluster serves `monitoring.coreos.com/v1`: an install into a Kubernetes API emulator of its
/// own, through the packaging tests' Helm driver.
async fn render_prometheus_rule(scratch: &Path) -> anyhow::Result<Value> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let emu = kube_emulator::Emulator::start(kube_emulator::Options::default()).await?;
    let kubeconfig = scratch.join("render-kubeconfig");
    emu.write_kubeconfig(&kubeconfig)?;
    let client = emu.client().await;
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "prometheusrules.monitoring.coreos.com"},
        "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                 "names": {"kind": "PrometheusRule", "plural": "prometheusrules",
                           "singular": "prometheusrule", "listKind": "PrometheusRuleList"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                   "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))?;
    ::kube::Api::<CustomResourceDefinition>::all(client)
        .create(&Default::default(), &crd)
        .await?;
    let request = json!({"steps": [{
        "op": "install", "kubeconfig": kubeconfig,
        "chart": workspace().join("charts/dashboard-user-operator"),
        "name": RELEASE, "namespace": "userop-system", "create_namespace": true,
        "values": {"metrics": {"prometheusRule": {"enabled": true}}},
    }]});
    let mut child = tokio::process::Command::new("python3")
        .arg(workspace().join("tests/packaging/helm_driver.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("python3 runs the Helm driver (tests/install-deps.sh)")?;
    let mut stdin = child.stdin.take().context("stdin")?;
    stdin.write_all(&serde_json::to_vec(&request)?).await?;
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .context("the Helm driver took over 120 s")??;
    emu.shutdown().await;
    anyhow::ensure!(
        out.status.success(),
        "helm driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout)?;
    let step = &reply["results"][0];
    anyhow::ensure!(step["ok"] == json!(true), "helm install failed: {step}");
    let manifest = step["manifest"].as_str().context("manifest")?;
    for doc in serde_yaml::Deserializer::from_str(manifest) {
        let v: Value = serde::Deserialize::deserialize(doc)?;
        if v["kind"] == "PrometheusRule" {
            return Ok(v);
        }
    }
    anyhow::bail!("no PrometheusRule in the rendered manifest")
}

/// The rules' alert names, in order.
fn alert_names(groups: &Value) -> Vec<String> {
    groups
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter_map(|r| r["alert"].as_str().map(str::to_string))
        .collect()
}

/// The one `job="..."` every rule selects.
fn rules_job(groups: &Value) -> anyhow::Result<String> {
    let mut jobs = BTreeSet::new();
    for g in groups.as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            let expr = r["expr"].as_str().unwrap_or_default();
            let mut n = 0;
            for part in expr.split("job=\"").skip(1) {
                jobs.insert(part.split('"').next().unwrap_or_default().to_string());
                n += 1;
            }
            anyhow::ensure!(n > 0, "rule {} selects no job: {expr}", r["alert"]);
        }
    }
    anyhow::ensure!(jobs.len() == 1, "the rules select several jobs: {jobs:?}");
    Ok(jobs.into_iter().next().unwrap_or_default())
}

// ---- series: the exposition and promtool's series notation ----

type Series = (String, BTreeMap<String, String>);

fn show(s: &Series) -> String {
    if s.1.is_empty() {
        return s.0.clone();
    }
    let labels: Vec<String> = s.1.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{}{{{}}}", s.0, labels.join(","))
}

/// `name{label="value",...}` (labels optional) at the start of `text`; returns the rest.
fn parse_series(text: &str) -> anyhow::Result<(Series, &str)> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let name = text[..end].to_string();
    anyhow::ensure!(!name.is_empty(), "no metric name in {text:?}");
    let mut labels = BTreeMap::new();
    let mut rest = &text[end..];
    if let Some(body) = rest.strip_prefix('{') {
        rest = body;
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest
                .find('=')
                .with_context(|| format!("no `=` in {text:?}"))?;
            let key = rest[..eq].trim().to_string();
            let mut chars = rest[eq + 1..].trim_start().char_indices();
            anyhow::ensure!(
                matches!(chars.next(), Some((_, '"'))),
                "unquoted value in {text:?}"
            );
            let value_start = rest.len() - rest[eq + 1..].trim_start().len();
            let mut value = String::new();
            let mut escaped = false;
            let mut close = None;
            for (i, c) in chars {
                match (escaped, c) {
                    (true, 'n') => value.push('\n'),
                    (true, c) => value.push(c),
                    (false, '\\') => {
                        escaped = true;
                        continue;
                    }
                    (false, '"') => {
                        close = Some(i);
                        break;
                    }
                    (false, c) => value.push(c),
                }
                escaped = false;
            }
            let close = close.with_context(|| format!("unterminated value in {text:?}"))?;
            labels.insert(key, value);
            rest = &rest[value_start + close + 1..];
        }
    }
    Ok(((name, labels), rest))
}

/// Every series of an OpenMetrics/Prometheus text exposition.
fn exposition_series(text: &str) -> anyhow::Result<BTreeSet<Series>> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, rest) = parse_series(line)?;
        anyhow::ensure!(
            rest.starts_with(' '),
            "no value after the series in {line:?}"
        );
        out.insert(series);
    }
    Ok(out)
}

// ---- a Prometheus server of the test's own ----

struct Prometheus {
    child: tokio::process::Child,
    url: String,
    log: PathBuf,
    http: reqwest::Client,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Alert {
    state: String,
    labels: BTreeMap<String, String>,
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.state, self.labels)
    }
}

impl Prometheus {
    /// Scrapes `target` every second as job `job`, evaluates `rules` every second; listens on
    /// a free loopback port and keeps its data in `dir`.
    async fn start(bin: &Path, dir: &Path, job: &str, target: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 rule_files: [rules.yaml]\n\
                 scrape_configs:\n  - job_name: {job:?}\n    static_configs:\n      - targets: [{target:?}]\n"
            ),
        )?;
        let log = dir.join("prometheus.log");
        let logfile = std::fs::File::create(&log)?;
        let child = tokio::process::Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(logfile.try_clone()?)
            .stderr(logfile)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            http: crate::common::http_client(),
        };
        let ready = format!("{}/-/ready", p.url);
        let http = p.http.clone();
        let result = wait::until("Prometheus ready", || {
            let exited = p.child.try_wait().ok().flatten();
            let (http, ready) = (http.clone(), ready.clone());
            async move {
                if let Some(s) = exited {
                    return Err(format!("exited: {s}"));
                }
                match http.get(&ready).send().await {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("{}", r.status())),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .await;
        if let Err(e) = result {
            anyhow::bail!("{e}\n{}", p.log_tail());
        }
        Ok(p)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- prometheus log ---\n{}",
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }

    /// `GET /api/v1/<path>`; the `data` of a successful answer, else the error.
    async fn api(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Value> {
        let url = url::Url::parse_with_params(&format!("{}/api/v1/{path}", self.url), query)?;
        let r = self.http.get(url).send().await?;
        let status = r.status();
        let body: Value = r.json().await?;
        anyhow::ensure!(
            status.is_success() && body["status"] == "success",
            "/api/v1/{path} {query:?}: HTTP {status}: {body}"
        );
        Ok(body["data"].clone())
    }

    /// An instant query's samples: (labels, value).
    async fn query(&self, expr: &str) -> anyhow::Result<Vec<(Value, f64)>> {
        let data = self.api("query", &[("query", expr)]).await?;
        anyhow::ensure!(
            data["resultType"] == "vector",
            "{expr}: a {} result",
            data["resultType"]
        );
        Ok(data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let v = s["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(f64::NAN);
                (s["metric"].clone(), v)
            })
            .collect())
    }

    /// Every alert, pending or firing.
    async fn alerts(&self) -> anyhow::Result<BTreeSet<Alert>> {
        let data = self.api("alerts", &[]).await?;
        let mut out = BTreeSet::new();
        for a in data["alerts"].as_array().into_iter().flatten() {
            let labels = a["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            out.insert(Alert {
                state: a["state"].as_str().unwrap_or_default().to_string(),
                labels,
            });
        }
        Ok(out)
    }

    /// When the rule group was last evaluated; also checks that every rule evaluates without
    /// an error.
    async fn last_evaluation(&self) -> anyhow::Result<String> {
        let data = self.api("rules", &[]).await?;
        let groups = data["groups"].as_array().context("groups")?;
        anyhow::ensure!(groups.len() == 1, "rule groups: {data}");
        for r in groups[0]["rules"].as_array().into_iter().flatten() {
            anyhow::ensure!(
                r["health"] != "err",
                "rule {} fails to evaluate: {}",
                r["name"],
                r["lastError"]
            );
        }
        Ok(groups[0]["lastEvaluation"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Waits for `n` further evaluations of the rules.
    async fn evaluations(&self, n: usize) -> anyhow::Result<()> {
        let mut last = self.last_evaluation().await?;
        for _ in 0..n {
            let next = wait::until("a rule evaluation", || async {
                let now = self.last_evaluation().await.map_err(|e| e.to_string())?;
                if now != last { Ok(now) } else { Err(now) }
            })
            .await?;
            last = next;
        }
        Ok(())
    }

    /// Waits until the alerts (any state) are exactly `want`, all firing, then checks they
    /// stay so over three more evaluations.
    async fn expect_alerts(&self, phase: &str, want: &[Value]) -> anyhow::Result<()> {
        let want: BTreeSet<Alert> = want
            .iter()
            .map(|labels| Alert {
                state: "firing".into(),
                labels: serde_json::from_value(labels.clone()).unwrap_or_default(),
            })
            .collect();
        let show = |s: &BTreeSet<Alert>| {
            s.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let result = wait::until(&format!("{phase}: alerts {}", show(&want)), || async {
            let got = self.alerts().await.map_err(|e| e.to_string())?;
            if got == want {
                Ok(())
            } else {
                Err(format!("alerts: [{}]", show(&got)))
            }
        })
        .await;
        result.map_err(|e| anyhow::anyhow!("{e}\n{}", self.log_tail()))?;
        self.evaluations(3).await?;
        let got = self.alerts().await?;
        anyhow::ensure!(
            got == want,
            "{phase}: the alerts moved after firing: [{}], want [{}]",
            show(&got),
            show(&want)
        );
        Ok(())
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

// ---- the Grafana dashboard ----

/// Every panel query of the chart's dashboard: (panel title, expr).
fn dashboard_queries() -> anyhow::Result<(Vec<(String, String)>, Value)> {
    let path = workspace()
        .join("charts/dashboard-user-operator/files/grafana/dashboard-user-operator.json");
    let d: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let mut out = Vec::new();
    for p in d["panels"].as_array().context("panels")? {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().context("target expr")?;
            out.push((
                p["title"].as_str().unwrap_or_default().to_string(),
                expr.to_string(),
            ));
        }
    }
    Ok((out, d["templating"]["list"].clone()))
}

async fn check_dashboard(prom: &Prometheus, job: &str, healthy: usize) -> anyhow::Result<()> {
    let (queries, variables) = dashboard_queries()?;
    anyhow::ensure!(queries.len() >= 8, "{} dashboard queries", queries.len());
    // The values the scenario fixes; every other query just needs data.
    let exact: BTreeMap<&str, f64> = [
        ("Users Ready", healthy as f64),
        ("Users not Ready", 1.0),
        ("Leading replicas", 1.0),
    ]
    .into();
    let mut failures = Vec::new();
    for (title, expr) in &queries {
        let expr = expr.replace("$job", job);
        anyhow::ensure!(
            !expr.contains('$'),
            "{title}: an unknown variable in {expr}"
        );
        match prom.query(&expr).await {
            Err(e) => failures.push(format!("{title}: {e}")),
            Ok(samples) => {
                let finite: Vec<f64> = samples
                    .iter()
                    .map(|(_, v)| *v)
                    .filter(|v| v.is_finite())
                    .collect();
                if finite.is_empty() {
                    failures.push(format!("{title}: no data ({expr} → {samples:?})"));
                } else if let Some(want) = exact.get(title.as_str())
                    && finite != [*want]
                {
                    failures.push(format!("{title}: {finite:?}, want [{want}] ({expr})"));
                }
            }
        }
    }
    // The `job` variable: `label_values(<metric>, job)` is Grafana's, answered by the labels API.
    let mut variables_seen = 0;
    for v in variables.as_array().into_iter().flatten() {
        let Some(q) = v["query"]["query"].as_str() else {
            continue;
        };
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|q| q.strip_suffix(')'))
            .with_context(|| format!("variable {}: {q}", v["name"]))?;
        let (metric, label) = inner
            .split_once(',')
            .context("label_values(metric, label)")?;
        let values = prom
            .api(
                &format!("label/{}/values", label.trim()),
                &[("match[]", metric.trim())],
            )
            .await?;
        if !values.as_array().into_iter().flatten().any(|x| x == job) {
            failures.push(format!("variable {}: {q} → {values}", v["name"]));
        }
        variables_seen += 1;
    }
    anyhow::ensure!(variables_seen >= 1, "no query variable in {variables}");
    anyhow::ensure!(
        failures.is_empty(),
        "dashboard queries:\n{}",
        failures.join("\n")
    );
    Ok(())
}

// ---- promtool unit tests on scraped series ----

/// Checks the unit tests' series against the scrape and their coverage of `alerts`, then runs
/// `promtool test rules` next to the chart's rules in `target/prometheus/`.
async fn promtool_unit_tests(
    promtool: &Path,
    scraped: &BTreeSet<Series>,
    job: &str,
    alerts: &[String],
) -> anyhow::Result<()> {
    let fixture = workspace().join("tests/fixtures/prometheus/alerts_test.yaml");
    let text = std::fs::read_to_string(&fixture)
        .with_context(|| format!("reading {}", fixture.display()))?;
    let tests: Value = serde_yaml::from_str(&text)?;
    anyhow::ensure!(
        tests["rule_files"] == json!(["rules.yaml"]),
        "{}: rule_files must be [rules.yaml] (the rendered chart rules beside it)",
        fixture.display()
    );
    let mut unknown = Vec::new();
    let mut used = 0;
    let mut fires = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for t in tests["tests"].as_array().context("tests")? {
        for s in t["input_series"].as_array().into_iter().flatten() {
            let text = s["series"].as_str().context("input_series.series")?;
            let ((name, mut labels), rest) = parse_series(text)?;
            anyhow::ensure!(rest.trim().is_empty(), "trailing text in {text}");
            if labels.remove("job").as_deref() != Some(job) {
                unknown.push(format!("{text}: not job={job:?} (the rules' job)"));
                continue;
            }
            if labels.contains_key("instance") {
                unknown.push(format!("{text}: an `instance` label the rules never read"));
                continue;
            }
            let series = (name, labels);
            if !scraped.contains(&series) {
                unknown.push(format!(
                    "{text}: the operator exported no {}",
                    show(&series)
                ));
            }
            used += 1;
        }
        for a in t["alert_rule_test"].as_array().into_iter().flatten() {
            let name = a["alertname"].as_str().context("alertname")?.to_string();
            anyhow::ensure!(
                alerts.contains(&name),
                "a unit test of {name}, no alert of the rules"
            );
            if a["exp_alerts"].as_array().is_some_and(|e| !e.is_empty()) {
                fires.insert(name);
            } else {
                silent.insert(name);
            }
        }
    }
    anyhow::ensure!(
        unknown.is_empty(),
        "{} uses series no scrape showed (see target/prometheus/scraped-series.txt):\n{}",
        fixture.display(),
        unknown.join("\n")
    );
    anyhow::ensure!(used > 0, "no input series in {}", fixture.display());
    for a in alerts {
        anyhow::ensure!(
            fires.contains(a) && silent.contains(a),
            "{a} needs a unit test where it fires and one where it stays silent"
        );
    }
    let copy = out_dir().join("alerts_test.yaml");
    std::fs::write(&copy, &text)?;
    let report = run(promtool, &["test", "rules", &copy.to_string_lossy()]).await?;
    eprintln!("{}", report.trim());
    Ok(())
}

// ---- the scenario ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_rules_and_dashboard_in_a_real_prometheus() -> anyhow::Result<()> {
    let Some(tools) = tools()? else {
        return Ok(());
    };
    let mut env = Env::ready("prometheus").await?;
    if !env.needs_emulators("fault injection and a second Tyk emulator") {
        return env.finish().await;
    }
    let started = std::time::Instant::now();
    tokio::time::timeout(SCENARIO_DEADLINE, scenario(&mut env, &tools))
        .await
        .with_context(|| format!("the scenario took over {SCENARIO_DEADLINE:?}"))??;
    eprintln!(
        "prometheus: scenario done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    env.finish().await
}

async fn scenario(env: &mut Env, tools: &Tools) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let lap = |phase: &str| {
        eprintln!(
            "prometheus: {phase} at {:.1} s",
            started.elapsed().as_secs_f64()
        )
    };
    // The chart's rules: rendered, checked by promtool, kept in target/prometheus/.
    let out = out_dir();
    std::fs::create_dir_all(&out)?;
    let rule = render_prometheus_rule(&env.dir).await?;
    let groups = rule["spec"]["groups"].clone();
    let alerts = alert_names(&groups);
    anyhow::ensure!(alerts.len() >= 4, "alerts: {alerts:?}");
    let job = rules_job(&groups)?;
    let rules_file = out.join("rules.yaml");
    std::fs::write(
        &rules_file,
        serde_yaml::to_string(&json!({ "groups": groups }))?,
    )?;
    run(
        &tools.promtool,
        &["check", "rules", &rules_file.to_string_lossy()],
    )
    .await?;

    // The copy Prometheus evaluates: only `for:` shortened.
    let mut fast = groups.clone();
    let mut rewritten = 0;
    for g in fast.as_array_mut().into_iter().flatten() {
        for r in g["rules"].as_array_mut().into_iter().flatten() {
            if r.get("for").is_some() {
                r["for"] = json!(FOR_IN_TEST);
                rewritten += 1;
            }
        }
    }
    anyhow::ensure!(rewritten == alerts.len(), "every alert has a `for:`");
    let dir = env.dir.join("prometheus");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("rules.yaml"),
        serde_yaml::to_string(&json!({ "groups": fast }))?,
    )?;

    let target = env
        .operator
        .as_ref()
        .context("operator running")?
        .metrics_addr
        .to_string();
    lap("rules rendered and checked");
    let prom = Prometheus::start(&tools.prometheus, &dir, &job, &target).await?;
    lap("Prometheus ready");
    let connection = format!("cluster/{}", env.connection_name);

    // Healthy: users converge (one create answered 500 once: a failure rate far from alerting).
    env.dashboard
        .faults(&json!({"rules": [{"kind": "error", "method": "POST",
            "route": "/admin/users", "status": 500, "count": 1}]}))
        .await?;
    for i in 0..HEALTHY_USERS {
        let name = format!("ok-{i}");
        env.apply(&env.user(&name, &env.email(&name))).await?;
    }
    for i in 0..HEALTHY_USERS {
        env.wait_ready(&format!("ok-{i}")).await?;
    }
    let synced = format!("sum(dashboard_user_operator_users{{job=\"{job}\",reason=\"Synced\"}})");
    wait::until("Prometheus to see every user Ready", || async {
        let s = prom.query(&synced).await.map_err(|e| e.to_string())?;
        match s.first() {
            Some((_, v)) if *v == HEALTHY_USERS as f64 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await?;
    prom.expect_alerts("healthy", &[]).await?;
    lap("healthy: no alert");

    // Failing: a stalled user, and a connection to a Dashboard that fails every request.
    let mut stalled = env.user("stalled", &env.email("stalled"));
    merge(
        &mut stalled,
        json!({"spec": {"passwordSecretRef": {"name": "missing-secret", "key": "password"}}}),
    );
    env.apply(&stalled).await?;
    env.wait_condition("stalled", "Ready", "False", "PasswordSecretNotFound")
        .await?;
    let mut broken = Dashboard::emulator(tyk_dashboard_emulator::Settings {
        admin_secret: env.dashboard.admin_secret.clone(),
        ..Default::default()
    })
    .await?;
    broken
        .faults(&json!({"rules": [{"kind": "reset", "count": 1},
            {"kind": "error", "status": 503}]}))
        .await?;
    let ns = env.ns.clone();
    env.put_admin_secrets(&ns).await?;
    let mut flaky = env.connection_object(&ns, "flaky");
    flaky["spec"]["url"] = json!(broken.url);
    env.apply(&flaky).await?;
    let flaky_label = format!("{ns}/flaky");
    prom.expect_alerts(
        "failing",
        &[
            json!({"alertname": "DashboardUserStalled", "severity": "warning",
                   "connection": connection, "reason": "PasswordSecretNotFound"}),
            json!({"alertname": "DashboardUnreachable", "severity": "critical",
                   "connection": flaky_label}),
            json!({"alertname": "DashboardUserReconcileErrors", "severity": "warning",
                   "controller": "dashboardconnection"}),
        ],
    )
    .await?;
    lap("failing: the three alerts firing");
    check_dashboard(&prom, &job, HEALTHY_USERS).await?;

    // The series the operator really exports, for the promtool unit tests.
    let metrics = env
        .operator
        .as_ref()
        .context("operator running")?
        .metrics()
        .await?;
    let scraped = exposition_series(&metrics)?;
    let listing: Vec<String> = scraped.iter().map(show).collect();
    std::fs::write(out.join("scraped-series.txt"), listing.join("\n") + "\n")?;
    promtool_unit_tests(&tools.promtool, &scraped, &job, &alerts).await?;
    lap("dashboard queries and promtool unit tests passed");

    // No leader: the operator stopped.
    env.stop_operator().await?;
    prom.expect_alerts(
        "operator stopped",
        &[
            json!({"alertname": "DashboardUserOperatorNoLeader", "severity": "critical"}),
            json!({"alertname": "DashboardUnreachable", "severity": "critical",
                   "connection": flaky_label}),
            json!({"alertname": "DashboardUserReconcileErrors", "severity": "warning",
                   "controller": "dashboardconnection"}),
        ],
    )
    .await?;
    let up = prom.query(&format!("up{{job=\"{job}\"}}")).await?;
    anyhow::ensure!(up.len() == 1 && up[0].1 == 0.0, "up after the stop: {up:?}");

    lap("operator stopped: no leader");
    prom.stop().await;
    broken.shutdown().await;
    Ok(())
}

#[test]
fn series_parser_reads_the_exposition_and_promtool_notation() {
    let text = "# TYPE x counter\nx_total{a=\"1\",b=\"q\\\"uote\"} 3\ny 1\n# EOF\n";
    let s = exposition_series(text).unwrap();
    let want: BTreeSet<Series> = [
        (
            "x_total".to_string(),
            [("a", "1"), ("b", "q\"uote")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ("y".to_string(), BTreeMap::new()),
    ]
    .into();
    assert_eq!(s, want);
    let ((name, labels), rest) = parse_series(r#"m{job="j", route="/a/{id}"}"#).unwrap();
    assert_eq!(name, "m");
    assert_eq!(labels["route"], "/a/{id}");
    assert_eq!(labels["job"], "j");
    assert!(rest.is_empty());
    assert!(parse_series("{a=\"b\"}").is_err());
    assert!(exposition_series("x{a=b} 1").is_err());
}
