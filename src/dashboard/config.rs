//! Settings of one Dashboard connection (docs/design.md §2 `DashboardConnection`).

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use super::error::DashboardError;
use super::secret::{AdminSecret, ApiKey};

/// Everything needed to talk to one Dashboard. Credentials sit in redacting types, so the
/// derived-looking `Debug` below is safe to log.
#[derive(Clone)]
pub struct ConnectionConfig {
    /// Base URL, e.g. `http://dashboard:3000` (a path prefix is kept).
    pub url: Url,
    /// `admin-auth` secret for `/admin/*` (docs/tyk-dashboard-api.md §1.2).
    pub admin_secret: AdminSecret,
    /// An admin user's API key for `/api/*` (search, list, delete).
    pub api_key: Option<ApiKey>,
    /// PEM CA bundle to trust instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    /// Whole-request timeout (connect to end of body).
    pub timeout: Duration,
    /// Requests in flight at once on this connection (at least 1).
    pub max_concurrent_requests: usize,
    /// Appended to the User-Agent as `(replica <id>)`; characters outside `[A-Za-z0-9._-]`
    /// become `_` and it is cut at 63, so any id makes a valid header.
    pub replica: Option<String>,
}

impl ConnectionConfig {
    /// A configuration with defaults: 10 s timeout, 4 requests in flight, system roots.
    pub fn new(url: &str, admin_secret: AdminSecret) -> Result<Self, DashboardError> {
        let url = Url::parse(url)
            .map_err(|e| DashboardError::config("configure connection", format!("url: {e}")))?;
        Ok(Self {
            url,
            admin_secret,
            api_key: None,
            ca_pem: None,
            insecure_skip_verify: false,
            timeout: Duration::from_secs(10),
            max_concurrent_requests: 4,
            replica: None,
        })
    }
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("url", &self.url.as_str())
            .field("admin_secret", &self.admin_secret)
            .field("api_key", &self.api_key)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())),
            )
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .field("timeout", &self.timeout)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("replica", &self.replica)
            .finish()
    }
}
