//! Prometheus metrics. Every label is bounded: results, error categories, HTTP methods,
//! route templates and status codes; connections are labelled by kind/name, which the
//! cluster admin controls (never by user object names; the users gauge maps a reference to
//! no existing connection to `unresolved`, see `runtime::users_gauge_rows`).

use std::{
    collections::BTreeMap,
    sync::{OnceLock, atomic::AtomicU64},
    time::Duration,
};

use parking_lot::Mutex;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use crate::crd::reason;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub controller: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: &'static str,
    pub reason: &'static str,
}

/// The requests counter's `status` for a request that got no HTTP answer (connection
/// error, timeout); otherwise the status code's digits. The chart's alert matches both.
pub const STATUS_NO_ANSWER: &str = "error";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub connection: String,
    pub method: &'static str,
    pub route: &'static str,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub connection: String,
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabel {
    pub controller: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UserLabels {
    pub connection: String,
    pub reason: &'static str,
}

/// `(connection label, Ready reason)` of every DashboardUser, read at scrape time.
pub type UsersSource = Box<dyn Fn() -> Vec<(String, Option<String>)> + Send + Sync>;

pub struct Metrics {
    pub registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub reconcile_duration: Family<ControllerLabel, Histogram>,
    pub dashboard_requests: Family<RequestLabels, Counter>,
    pub dashboard_latency: Family<LatencyLabels, Histogram>,
    /// DashboardUsers by connection and Ready reason, recounted from the cache per scrape.
    pub users: Family<UserLabels, Gauge>,
    users_source: OnceLock<UsersSource>,
    /// 1 while this replica runs the controllers (leader, or no leader election).
    pub leader: Gauge,
    /// The resync period in use, per controller (stretched under load, crate::resync).
    pub resync_period: Family<ControllerLabel, Gauge<f64, AtomicU64>>,
    /// One scrape at a time: the users gauge is cleared and refilled for each.
    scrape: Mutex<()>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("dashboard_user_operator");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let reconcile_duration = Family::<ControllerLabel, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let dashboard_requests = Family::<RequestLabels, Counter>::default();
        let dashboard_latency = Family::<LatencyLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "reconciles",
            "Reconciliations by controller and result",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciliations by reason",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconciliation",
            reconcile_duration.clone(),
        );
        registry.register(
            "dashboard_requests",
            "Requests to Tyk Dashboards by connection, method, route and status",
            dashboard_requests.clone(),
        );
        registry.register(
            "dashboard_request_duration_seconds",
            "Latency of requests to Tyk Dashboards",
            dashboard_latency.clone(),
        );
        let users = Family::<UserLabels, Gauge>::default();
        registry.register(
            "users",
            "DashboardUsers by connection and Ready condition reason",
            users.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica runs the controllers (holds the Lease, or leader election is off)",
            leader.clone(),
        );
        let resync_period = Family::<ControllerLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "resync_period_seconds",
            "Drift check period in use; above --resync-period while resyncs would take more than half of the reconcile slots",
            resync_period.clone(),
        );
        Self {
            registry,
            reconciles,
            errors,
            reconcile_duration,
            dashboard_requests,
            dashboard_latency,
            users,
            users_source: OnceLock::new(),
            leader,
            resync_period,
            scrape: Mutex::new(()),
        }
    }
}

impl Metrics {
    pub fn resync_period(&self, controller: &'static str, period: Duration) {
        self.resync_period
            .get_or_create(&ControllerLabel { controller })
            .set(period.as_secs_f64());
    }

    /// A failure the reconciler handled itself (reported as a condition, retried later).
    pub fn failed(&self, controller: &'static str, reason: &'static str) {
        self.errors
            .get_or_create(&ErrorLabels { controller, reason })
            .inc();
    }

    pub fn reconciled(
        &self,
        controller: &'static str,
        took: Duration,
        error_reason: Option<&'static str>,
    ) {
        let result = if error_reason.is_some() {
            "error"
        } else {
            "ok"
        };
        self.reconciles
            .get_or_create(&ReconcileLabels { controller, result })
            .inc();
        if let Some(reason) = error_reason {
            self.errors
                .get_or_create(&ErrorLabels { controller, reason })
                .inc();
        }
        self.reconcile_duration
            .get_or_create(&ControllerLabel { controller })
            .observe(took.as_secs_f64());
    }

    pub fn dashboard_request(
        &self,
        connection: &str,
        method: &'static str,
        route: &'static str,
        status: Option<u16>,
        latency: Duration,
    ) {
        let status = status
            .map(|s| s.to_string())
            .unwrap_or_else(|| STATUS_NO_ANSWER.into());
        self.dashboard_requests
            .get_or_create(&RequestLabels {
                connection: connection.into(),
                method,
                route,
                status,
            })
            .inc();
        self.dashboard_latency
            .get_or_create(&LatencyLabels {
                connection: connection.into(),
                method,
            })
            .observe(latency.as_secs_f64());
    }

    /// Where the users gauge counts from (the users controller's cache), set once.
    pub fn set_users_source(&self, source: UsersSource) {
        let _ = self.users_source.set(source);
    }

    fn count_users(&self) {
        let Some(source) = self.users_source.get() else {
            return;
        };
        let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
        for (connection, ready_reason) in source() {
            *counts
                .entry((connection, bounded_reason(ready_reason.as_deref())))
                .or_default() += 1;
        }
        // Cleared first, so a (connection, reason) pair no user has any more disappears.
        self.users.clear();
        for ((connection, reason), n) in counts {
            self.users
                .get_or_create(&UserLabels { connection, reason })
                .set(n);
        }
    }

    pub fn encode(&self) -> String {
        let _one_at_a_time = self.scrape.lock();
        self.count_users();
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A status reason as a label value: one of the known reasons (`Pending` without status),
/// else `Other`, so a hand-edited status cannot add label values.
fn bounded_reason(r: Option<&str>) -> &'static str {
    match r {
        None => reason::PENDING,
        Some(r) => reason::ALL
            .iter()
            .find(|k| **k == r)
            .copied()
            .unwrap_or("Other"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn encodes_counters_with_bounded_labels() {
        let m = Metrics::default();
        m.reconciled(
            "dashboarduser",
            Duration::from_millis(3),
            Some("DashboardUnreachable"),
        );
        m.dashboard_request(
            "cluster/default",
            "POST",
            "/admin/users",
            Some(200),
            Duration::from_millis(1),
        );
        let text = m.encode();
        assert!(text.contains("dashboard_user_operator_reconciles_total{controller=\"dashboarduser\",result=\"error\"} 1"), "{text}");
        assert!(text.contains("reason=\"DashboardUnreachable\""));
        assert!(text.contains("route=\"/admin/users\""));
        assert!(text.contains("dashboard_user_operator_dashboard_request_duration_seconds_bucket"));
    }

    #[test]
    fn users_gauge_counts_by_connection_and_bounded_reason() {
        let m = Metrics::default();
        m.set_users_source(Box::new(|| {
            vec![
                ("cluster/default".into(), Some("Synced".into())),
                ("cluster/default".into(), Some("Synced".into())),
                ("team-a/own".into(), Some("Unauthorized".into())),
                ("team-a/own".into(), None),
                ("team-a/own".into(), Some("made up by hand".into())),
            ]
        }));
        let text = m.encode();
        for line in [
            "dashboard_user_operator_users{connection=\"cluster/default\",reason=\"Synced\"} 2",
            "dashboard_user_operator_users{connection=\"team-a/own\",reason=\"Unauthorized\"} 1",
            "dashboard_user_operator_users{connection=\"team-a/own\",reason=\"Pending\"} 1",
            "dashboard_user_operator_users{connection=\"team-a/own\",reason=\"Other\"} 1",
            "dashboard_user_operator_leader 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(!text.contains("made up"), "{text}");
    }

    /// The chart's PrometheusRule hard-codes label values; they must be ones this code writes.
    const RULES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/charts/dashboard-user-operator/templates/prometheusrule.yaml"
    ));

    /// The alternatives of the one `label=~"..."` matcher in the rules.
    fn alternatives(label: &str) -> Vec<&'static str> {
        let needle = format!("{label}=~\"");
        let hits: Vec<&str> = RULES.split(needle.as_str()).skip(1).collect();
        assert_eq!(hits.len(), 1, "one {label}=~ matcher in the rules");
        hits[0].split('"').next().unwrap().split('|').collect()
    }

    /// A Prometheus regex alternative, fully anchored as PromQL matchers are; only literals
    /// and `.` occur in the rules (anything else fails the test so it gets looked at).
    fn matches(pattern: &str, value: &str) -> bool {
        assert!(
            pattern
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.'),
            "{pattern}: extend this matcher"
        );
        pattern.len() == value.len()
            && pattern
                .chars()
                .zip(value.chars())
                .all(|(p, v)| p == '.' || p == v)
    }

    #[test]
    fn the_stalled_alert_filters_on_the_stalled_reasons() {
        let listed: BTreeSet<&str> = alternatives("reason").into_iter().collect();
        for r in &listed {
            assert!(
                reason::ALL.contains(r),
                "{r} is no reason the operator writes"
            );
            assert!(
                reason::STALLED_ONLY.contains(r),
                "{r} is not a stalled reason"
            );
        }
        // Every stalled reason is alerted on but this one: the user itself is in line with
        // its spec, only its access Secret lacks the key (docs/reference/conditions.md).
        let not_alerted = [reason::ACCESS_KEY_UNAVAILABLE];
        let want: BTreeSet<&str> = reason::STALLED_ONLY
            .iter()
            .copied()
            .filter(|r| !not_alerted.contains(r))
            .collect();
        assert_eq!(listed, want);
    }

    #[test]
    fn the_unreachable_alert_matches_the_status_values_written() {
        let m = Metrics::default();
        let d = Duration::from_millis(1);
        m.dashboard_request("cluster/c", "GET", "/api/users", None, d);
        for code in [500, 502, 599, 200, 401, 404] {
            m.dashboard_request("cluster/c", "GET", "/api/users", Some(code), d);
        }
        let text = m.encode();
        let failing = alternatives("status");
        let mut seen = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("dashboard_user_operator_dashboard_requests_total{")
            else {
                continue;
            };
            let status = rest
                .split("status=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let alerted = failing.iter().any(|p| matches(p, status));
            let should = status == STATUS_NO_ANSWER || status.starts_with('5');
            assert_eq!(alerted, should, "status {status:?} against {failing:?}");
            seen.push(status.to_string());
        }
        seen.sort();
        assert_eq!(seen, ["200", "401", "404", "500", "502", "599", "error"]);
    }
}
