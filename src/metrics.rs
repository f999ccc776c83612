//! Prometheus metrics. Every label is bounded: results, error categories, HTTP methods,
//! route templates and status codes; connections are labelled by kind/name, which the
//! cluster admin controls (never by user object names).

use std::time::Duration;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

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

pub struct Metrics {
    pub registry: Registry,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub reconcile_duration: Family<ControllerLabel, Histogram>,
    pub dashboard_requests: Family<RequestLabels, Counter>,
    pub dashboard_latency: Family<LatencyLabels, Histogram>,
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
        Self {
            registry,
            reconciles,
            errors,
            reconcile_duration,
            dashboard_requests,
            dashboard_latency,
        }
    }
}

impl Metrics {
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
            .unwrap_or_else(|| "error".into());
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

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
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
}
