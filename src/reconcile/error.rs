//! Errors of one reconcile, each mapped to a condition reason and a retry behaviour.

use crate::connection::ConnectionError;
use crate::crd::reason;
use crate::dashboard::DashboardError;
use crate::reconcile::plan::Blocker;
use crate::secrets::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("dashboard request failed")]
    Dashboard(#[from] DashboardError),
    #[error("kubernetes request failed: {op}")]
    Kube {
        op: &'static str,
        #[source]
        source: kube::Error,
    },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// A planned condition that ends the reconcile early (e.g. AlreadyExists).
    #[error("{}", .0.message)]
    Blocked(Blocker),
    #[error("finalizer handling failed")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<ReconcileError>>),
}

impl ReconcileError {
    pub fn kube(op: &'static str) -> impl FnOnce(kube::Error) -> Self {
        move |source| Self::Kube { op, source }
    }

    /// The condition this error is reported as. The message is the error chain, which
    /// carries operation names and Tyk's (sanitised) messages, never credentials.
    pub fn blocker(&self) -> Blocker {
        let msg = chain(self);
        match self {
            Self::Blocked(b) => b.clone(),
            Self::Dashboard(d) => match d {
                DashboardError::AlreadyExists { .. } => {
                    Blocker::stalled(reason::ALREADY_EXISTS, msg)
                }
                DashboardError::PasswordRejected { .. } => {
                    Blocker::stalled(reason::PASSWORD_REJECTED, msg)
                }
                // Refused as invalid: the same request would be refused again, so it is
                // not re-sent on every backoff (it may carry a password, docs/design.md §3.3).
                DashboardError::Invalid { .. } => Blocker::stalled(reason::DASHBOARD_ERROR, msg),
                DashboardError::Transient { .. } => {
                    Blocker::retry(reason::DASHBOARD_UNREACHABLE, msg)
                }
                DashboardError::Unauthorized { .. } => Blocker::retry(reason::UNAUTHORIZED, msg),
                DashboardError::Forbidden { .. } => Blocker::retry(reason::FORBIDDEN, msg),
                _ => Blocker::retry(reason::DASHBOARD_ERROR, msg),
            },
            Self::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.blocker(),
                _ => Blocker::retry(reason::KUBERNETES_ERROR, msg),
            },
            Self::Kube { .. } | Self::Secret(_) | Self::Connection(_) => {
                Blocker::retry(reason::KUBERNETES_ERROR, msg)
            }
        }
    }

    /// Bounded label for metrics and Event reasons.
    pub fn category(&self) -> &'static str {
        self.blocker().reason
    }
}

/// `outer: inner: innermost`, skipping layers that only repeat their source.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![];
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        // Many errors (kube-runtime's among them) already print their source: skip a
        // layer whose text the previous one contains.
        if !s.is_empty() && !parts.last().is_some_and(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_request_stalls_and_a_transient_one_retries() {
        let invalid = ReconcileError::Dashboard(DashboardError::Invalid {
            op: "create user",
            status: 400,
            message: "email domain not allowed".into(),
            hint: None,
        });
        let b = invalid.blocker();
        assert_eq!((b.reason, b.stalled), (reason::DASHBOARD_ERROR, true));
        let transient = ReconcileError::Dashboard(DashboardError::Transient {
            op: "create user",
            status: Some(503),
            reason: "status 503".into(),
            source: None,
        });
        assert!(!transient.blocker().stalled);
    }
}
