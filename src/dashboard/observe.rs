//! A hook for request metrics, so the operator can feed Prometheus without this module
//! depending on a metrics crate. Every label is bounded: route patterns, never ids.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::DashboardError;

/// One finished Dashboard request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestObservation {
    /// The client operation, e.g. `"create user"`.
    pub operation: &'static str,
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: &'static str,
    /// Route pattern, e.g. `/api/users/{id}/actions/reset`.
    pub route: &'static str,
    /// HTTP status when an answer arrived.
    pub status: Option<u16>,
    /// `"ok"` or the error category (see `DashboardError::category`).
    pub outcome: &'static str,
    /// From just before the in-flight permit was requested to the end of the body.
    pub latency: Duration,
}

/// Receives an observation for every request. Must be cheap and must not block.
pub trait RequestObserver: Send + Sync + 'static {
    fn observe(&self, observation: &RequestObservation);
}

impl<F> RequestObserver for F
where
    F: Fn(&RequestObservation) + Send + Sync + 'static,
{
    fn observe(&self, observation: &RequestObservation) {
        self(observation)
    }
}

/// Runs one request and reports its outcome and latency to `observer`: the one place both
/// HTTP clients (Dashboard, admin users) turn a result into an observation, so their
/// metrics cannot drift apart.
pub(crate) async fn observed<T>(
    observer: Option<&Arc<dyn RequestObserver>>,
    operation: &'static str,
    method: &'static str,
    route: &'static str,
    status_of: impl FnOnce(&T) -> u16,
    request: impl Future<Output = Result<T, DashboardError>>,
) -> Result<T, DashboardError> {
    let started = Instant::now();
    let result = request.await;
    if let Some(o) = observer {
        let (status, outcome) = match &result {
            Ok(a) => (Some(status_of(a)), "ok"),
            Err(e) => (e.status(), e.category()),
        };
        o.observe(&RequestObservation {
            operation,
            method,
            route,
            status,
            outcome,
            latency: started.elapsed(),
        });
    }
    result
}
