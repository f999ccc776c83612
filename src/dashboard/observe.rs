//! A hook for request metrics, so the operator can feed Prometheus without this module
//! depending on a metrics crate. Every label is bounded: route patterns, never ids.

use std::time::Duration;

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
