//! The client's error type and the status + message classification of Dashboard answers.
//!
//! Tyk overloads status codes (403 means "duplicate email", "malformed body", "RBAC denial" or
//! "forbidden key reset" depending on the route, docs/tyk-dashboard-api.md §10.7), so every answer
//! is classified from the status *and* the envelope `Message`. Errors carry the operation
//! (`"create user"`), the HTTP status and Tyk's own error message — sanitised, because bodies
//! can hold credentials (the admin create answer carries the access key in `Message`,
//! docs/tyk-dashboard-api.md §10.2). No request or response body is ever stored in an error.

pub use super::classify::{CallKind, ErrorClass, classify};

/// What went wrong, as seen by a caller deciding what to do next.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// 403 "User email already exists for this Org" / "…for this org."
    /// (docs/tyk-dashboard-api.md §2.1, §3.2).
    #[error("{op}: user already exists ({status}: {message})")]
    AlreadyExists {
        op: &'static str,
        status: u16,
        message: String,
    },
    /// 404, or 400 "user does not exist." on update / revoke (docs/tyk-dashboard-api.md §10.6).
    #[error("{op}: not found ({status}: {message})")]
    NotFound {
        op: &'static str,
        status: u16,
        message: String,
    },
    /// 401 "Not authorised": wrong admin secret or API key (docs/tyk-dashboard-api.md §1.2).
    #[error("{op}: not authorised, check the credentials ({status}: {message})")]
    Unauthorized {
        op: &'static str,
        status: u16,
        message: String,
    },
    /// 403 RBAC/OPA denial, an inactive caller, a forbidden key reset
    /// (docs/tyk-dashboard-api.md §1.2, §3.7).
    #[error("{op}: forbidden ({status}: {message})")]
    Forbidden {
        op: &'static str,
        status: u16,
        message: String,
    },
    /// The Dashboard refused a password (length, policy, reuse; docs/tyk-dashboard-api.md §3.6,
    /// §7).
    #[error("{op}: password rejected ({status}: {message})")]
    PasswordRejected {
        op: &'static str,
        status: u16,
        message: String,
    },
    /// The request was refused as malformed or invalid; retrying the same request won't help.
    #[error("{op}: request rejected as invalid ({status}: {message}){}", hint.map(|h| format!("; {h}")).unwrap_or_default())]
    Invalid {
        op: &'static str,
        status: u16,
        message: String,
        hint: Option<&'static str>,
    },
    /// 5xx, 429, 408, timeouts, connection failures and resets: retry later. A write that
    /// ends this way may or may not have been applied.
    #[error("{op}: dashboard unavailable ({reason})")]
    Transient {
        op: &'static str,
        status: Option<u16>,
        reason: String,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// More than one user matched where one was expected (multi-org users,
    /// docs/tyk-dashboard-api.md §8.2).
    #[error("{op}: {count} users match, give an org id to choose")]
    Ambiguous { op: &'static str, count: usize },
    /// The answer did not have the documented shape.
    #[error("{op}: unexpected answer ({status}): {detail}")]
    Unexpected {
        op: &'static str,
        status: u16,
        detail: String,
    },
    /// The client cannot make this call as configured (no API key, bad URL, bad CA, bad id).
    #[error("{op}: {reason}")]
    Config { op: &'static str, reason: String },
}

impl DashboardError {
    /// A short, bounded label for metrics, Event reasons and logs.
    pub fn category(&self) -> &'static str {
        match self {
            Self::AlreadyExists { .. } => "AlreadyExists",
            Self::NotFound { .. } => "NotFound",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::Forbidden { .. } => "Forbidden",
            Self::PasswordRejected { .. } => "PasswordRejected",
            Self::Invalid { .. } => "Invalid",
            Self::Transient { .. } => "Transient",
            Self::Ambiguous { .. } => "Ambiguous",
            Self::Unexpected { .. } => "Unexpected",
            Self::Config { .. } => "Config",
        }
    }

    /// The operation that failed, e.g. `"create user"`.
    pub fn operation(&self) -> &'static str {
        match self {
            Self::AlreadyExists { op, .. }
            | Self::NotFound { op, .. }
            | Self::Unauthorized { op, .. }
            | Self::Forbidden { op, .. }
            | Self::PasswordRejected { op, .. }
            | Self::Invalid { op, .. }
            | Self::Transient { op, .. }
            | Self::Ambiguous { op, .. }
            | Self::Unexpected { op, .. }
            | Self::Config { op, .. } => op,
        }
    }

    /// The HTTP status, when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::AlreadyExists { status, .. }
            | Self::NotFound { status, .. }
            | Self::Unauthorized { status, .. }
            | Self::Forbidden { status, .. }
            | Self::PasswordRejected { status, .. }
            | Self::Invalid { status, .. }
            | Self::Unexpected { status, .. } => Some(*status),
            Self::Transient { status, .. } => *status,
            Self::Ambiguous { .. } | Self::Config { .. } => None,
        }
    }

    /// The same error again, for a failure answered from a cache: everything but a
    /// transport error's `source` (not `Clone`), whose text `reason` already carries.
    pub(crate) fn replay(&self) -> Self {
        match self {
            Self::AlreadyExists {
                op,
                status,
                message,
            } => Self::AlreadyExists {
                op,
                status: *status,
                message: message.clone(),
            },
            Self::NotFound {
                op,
                status,
                message,
            } => Self::NotFound {
                op,
                status: *status,
                message: message.clone(),
            },
            Self::Unauthorized {
                op,
                status,
                message,
            } => Self::Unauthorized {
                op,
                status: *status,
                message: message.clone(),
            },
            Self::Forbidden {
                op,
                status,
                message,
            } => Self::Forbidden {
                op,
                status: *status,
                message: message.clone(),
            },
            Self::PasswordRejected {
                op,
                status,
                message,
            } => Self::PasswordRejected {
                op,
                status: *status,
                message: message.clone(),
            },
            Self::Invalid {
                op,
                status,
                message,
                hint,
            } => Self::Invalid {
                op,
                status: *status,
                message: message.clone(),
                hint: *hint,
            },
            Self::Transient {
                op, status, reason, ..
            } => Self::Transient {
                op,
                status: *status,
                reason: reason.clone(),
                source: None,
            },
            Self::Ambiguous { op, count } => Self::Ambiguous { op, count: *count },
            Self::Unexpected { op, status, detail } => Self::Unexpected {
                op,
                status: *status,
                detail: detail.clone(),
            },
            Self::Config { op, reason } => Self::Config {
                op,
                reason: reason.clone(),
            },
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    pub fn is_already_exists(&self) -> bool {
        matches!(self, Self::AlreadyExists { .. })
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// Whether a write answered this way may still have been committed: the answer was
    /// lost (transient) or did not decode (unexpected). A refusal committed nothing.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Unexpected { .. })
    }

    pub(crate) fn config(op: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            op,
            reason: reason.into(),
        }
    }
}
