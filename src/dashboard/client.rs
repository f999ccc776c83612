//! Connection settings and the request core shared by every Dashboard call: authentication
//! headers, the in-flight limit, the timeout, body reading, error classification and the
//! outcome/latency hook.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;

use super::classify::{CallKind, ErrorClass, classify, hint_for, sanitize_message};
use super::config::ConnectionConfig;
use super::error::DashboardError;
use super::observe::{RequestObserver, observed};
use super::secret::{AdminSecret, ApiKey};
use super::tls;
use super::wire::Envelope;

/// Largest answer body read for a list or search: at ~700 bytes per user, 32 MiB holds
/// some 45,000 users, more than one org has in practice.
pub const MAX_LIST_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Largest answer body read for any other call: one user or an envelope is a few KiB, so a
/// megabyte is generous and a hostile or broken Dashboard cannot make us buffer more.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The cap for one call: lists and searches may be large, everything else is one object.
fn body_limit(route: &str) -> usize {
    if route == "/api/users" || route == "/api/users/search" {
        MAX_LIST_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// A typed client for one Dashboard connection. Cheap to clone; clones share the HTTP
/// connection pool and the in-flight limit.
#[derive(Clone)]
pub struct DashboardClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: String,
    pub(crate) admin_secret: AdminSecret,
    pub(crate) api_key: Option<ApiKey>,
    limit: Arc<Semaphore>,
    max_in_flight: usize,
    observer: Option<Arc<dyn RequestObserver>>,
    /// The API key's own user, looked up once per client and replaced by each connection
    /// probe's fresh lookup. The async lock makes concurrent callers wait for one lookup.
    pub(crate) key_owner: Arc<tokio::sync::Mutex<Option<super::User>>>,
    /// The last failed key-owner lookup and when, answered again for a while (see
    /// `key_owner`): shared like `key_owner`.
    pub(crate) key_owner_failure: KeyOwnerFailure,
}

pub(crate) type KeyOwnerFailure =
    Arc<std::sync::Mutex<Option<(std::time::Instant, DashboardError)>>>;

impl fmt::Debug for DashboardClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DashboardClient")
            .field("base", &self.inner.base)
            .field("api_key", &self.inner.api_key)
            .field("max_in_flight", &self.inner.max_in_flight)
            .finish()
    }
}

/// Who signs a request.
pub(crate) enum Auth<'a> {
    /// `admin-auth: <admin secret>`.
    Admin,
    /// `Authorization: <key>`, the raw key without scheme (docs/tyk-dashboard-api.md §1.2).
    Key(&'a str),
}

/// One HTTP call, described for the core.
pub(crate) struct Call<'a> {
    pub op: &'static str,
    pub method: Method,
    /// Bounded route pattern for metrics, e.g. `/api/users/{id}`.
    pub route: &'static str,
    /// Concrete path (and query) below the base URL.
    pub path: String,
    pub auth: Auth<'a>,
    pub body: Option<Vec<u8>>,
    pub kind: CallKind,
    /// Extra secret values to scrub from server messages (keys, passwords of this call).
    pub secrets: Vec<&'a str>,
    /// Every documented answer of this route is a Tyk envelope (docs/tyk-dashboard-api.md §1.3): a
    /// 2xx that is not one (an HTML page from a proxy, an empty body) did not come from the
    /// Dashboard, so the write cannot be taken as done.
    pub envelope_answer: bool,
}

/// A successful (2xx, envelope not `Error`) answer.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl DashboardClient {
    /// Builds the client; no request is made (see [`DashboardClient::probe`]).
    pub fn new(cfg: ConnectionConfig) -> Result<Self, DashboardError> {
        const OP: &str = "configure connection";
        check_base(OP, &cfg.url, cfg.timeout)?;
        let api_key = cfg.api_key.filter(|k| !k.is_empty());
        // Without the admin secret the client works through the Dashboard API alone
        // (an API-key-only connection); without either it could do nothing.
        if cfg.admin_secret.is_empty() && api_key.is_none() {
            return Err(DashboardError::config(
                OP,
                "neither an admin secret nor an api key is configured",
            ));
        }
        let tls = tls::client_config(cfg.ca_pem.as_deref(), cfg.insecure_skip_verify)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::USER_AGENT,
            user_agent(cfg.replica.as_deref()),
        );
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            // Tyk's user routes never redirect, and a redirect to another host would carry
            // the `admin-auth` header along (reqwest only strips `Authorization`).
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .map_err(|e| DashboardError::config(OP, format!("http client: {e}")))?;
        let max = cfg.max_concurrent_requests.max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: cfg.url.as_str().trim_end_matches('/').to_owned(),
                admin_secret: cfg.admin_secret,
                api_key,
                limit: Arc::new(Semaphore::new(max)),
                max_in_flight: max,
                observer: None,
                key_owner: Arc::default(),
                key_owner_failure: Arc::default(),
            }),
        })
    }

    /// Attaches a hook that sees every request's outcome and latency (for Prometheus).
    /// Clones made earlier keep their previous hook.
    pub fn with_observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.observer = Some(observer),
            None => {
                // Already shared: a new shell around the same pool and the same in-flight limit.
                let i = &self.inner;
                self.inner = Arc::new(Inner {
                    http: i.http.clone(),
                    base: i.base.clone(),
                    admin_secret: i.admin_secret.clone(),
                    api_key: i.api_key.clone(),
                    limit: i.limit.clone(),
                    max_in_flight: i.max_in_flight,
                    observer: Some(observer),
                    key_owner: i.key_owner.clone(),
                    key_owner_failure: i.key_owner_failure.clone(),
                });
            }
        }
        self
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// True when an admin API key is configured (needed for find, list and delete).
    pub fn has_api_key(&self) -> bool {
        self.inner.api_key.is_some()
    }

    /// True when the Admin API (`admin-auth`) is usable; false for an API-key-only
    /// connection, whose every call goes through the Dashboard API.
    pub fn has_admin_secret(&self) -> bool {
        !self.inner.admin_secret.is_empty()
    }

    pub(crate) fn api_key(&self, op: &'static str) -> Result<&ApiKey, DashboardError> {
        self.inner.api_key.as_ref().ok_or_else(|| {
            DashboardError::config(op, "this call needs the connection's dashboard api key")
        })
    }

    /// Sends a call and returns its 2xx answer, or the classified error.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Answer, DashboardError> {
        observed(
            self.inner.observer.as_ref(),
            call.op,
            method_label(&call.method),
            call.route,
            |a: &Answer| a.status,
            self.execute_inner(&call),
        )
        .await
    }

    async fn execute_inner(&self, call: &Call<'_>) -> Result<Answer, DashboardError> {
        let inner = &self.inner;
        let url = format!("{}{}", inner.base, call.path);
        let mut req = inner.http.request(call.method.clone(), &url);
        let (name, value) = match call.auth {
            Auth::Admin if inner.admin_secret.is_empty() => {
                return Err(DashboardError::config(
                    call.op,
                    "this call needs the admin secret, and the connection is API-key-only",
                ));
            }
            Auth::Admin => (
                HeaderName::from_static("admin-auth"),
                inner.admin_secret.expose(),
            ),
            Auth::Key(key) => (reqwest::header::AUTHORIZATION, key),
        };
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            DashboardError::config(
                call.op,
                "credential contains characters not allowed in a header",
            )
        })?;
        value.set_sensitive(true);
        req = req.header(name, value);
        if let Some(body) = &call.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        // Bound the requests in flight on this connection; the permit lives until the body is read.
        let _permit = inner
            .limit
            .acquire()
            .await
            .map_err(|_| DashboardError::config(call.op, "client is shut down"))?;
        let mut resp = req
            .send()
            .await
            .map_err(|e| transport_error(call.op, None, e))?;
        let status = resp.status().as_u16();
        let limit = body_limit(call.route);
        let body = read_capped(&mut resp, call.op, status, limit).await?;
        let envelope = Envelope::from_slice(&body);
        let success = (200..300).contains(&status);
        match envelope {
            Some(env) if success && env.is_ok() => Ok(Answer { status, body }),
            None if success && call.envelope_answer => Err(DashboardError::Unexpected {
                op: call.op,
                status,
                detail: "answer is not a Tyk envelope (Status/Message/Meta)".into(),
            }),
            None if success => Ok(Answer { status, body }),
            // A 2xx whose envelope says "Error" is still an error (docs/tyk-dashboard-api.md §1.3).
            Some(env) => Err(self.answer_error(call, status, &env.message)),
            // Not an envelope (proxy page, empty body): classify by status alone.
            None => Err(self.answer_error(call, status, "")),
        }
    }

    fn answer_error(&self, call: &Call<'_>, status: u16, raw_message: &str) -> DashboardError {
        let mut secrets: Vec<&str> = vec![self.inner.admin_secret.expose()];
        if let Some(k) = &self.inner.api_key {
            secrets.push(k.expose());
        }
        secrets.extend(call.secrets.iter().copied());
        let message = if raw_message.is_empty() {
            "no error message".to_owned()
        } else {
            sanitize_message(raw_message, &secrets)
        };
        let op = call.op;
        match classify(status, raw_message, call.kind) {
            ErrorClass::AlreadyExists => DashboardError::AlreadyExists {
                op,
                status,
                message,
            },
            ErrorClass::NotFound => DashboardError::NotFound {
                op,
                status,
                message,
            },
            ErrorClass::Unauthorized => DashboardError::Unauthorized {
                op,
                status,
                message,
            },
            ErrorClass::Forbidden => DashboardError::Forbidden {
                op,
                status,
                message,
            },
            ErrorClass::PasswordRejected => DashboardError::PasswordRejected {
                op,
                status,
                message,
            },
            // A read carries no spec and no password: a 4xx "invalid" to it is the
            // Dashboard (or a proxy) misbehaving, so it is retried with backoff, not stalled.
            ErrorClass::Invalid if call.method == Method::GET => DashboardError::Unexpected {
                op,
                status,
                detail: format!("read refused as invalid: {message}"),
            },
            ErrorClass::Invalid => DashboardError::Invalid {
                op,
                status,
                hint: hint_for(raw_message),
                message,
            },
            ErrorClass::Transient => DashboardError::Transient {
                op,
                status: Some(status),
                reason: format!("status {status}: {message}"),
                source: None,
            },
            ErrorClass::Unexpected => DashboardError::Unexpected {
                op,
                status,
                detail: message,
            },
        }
    }
}

const USER_AGENT: &str = concat!("dashboard-user-operator/", env!("CARGO_PKG_VERSION"));

/// `dashboard-user-operator/<version>`, plus ` (replica <id>)` when a replica id is set.
fn user_agent(replica: Option<&str>) -> HeaderValue {
    let Some(id) = replica.filter(|r| !r.is_empty()) else {
        return HeaderValue::from_static(USER_AGENT);
    };
    let id: String = id
        .chars()
        .take(63)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!("{USER_AGENT} (replica {id})"))
        .unwrap_or(HeaderValue::from_static(USER_AGENT))
}

/// The default replica id: the Pod name (or host name) plus 8 random hex digits, so two
/// processes on one host, or one restarted, never share it.
pub fn default_replica_id() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "dashboard-user-operator".into());
    format!("{host}_{:08x}", rand::random::<u32>())
}

/// The checks every backend client makes on its base URL and timeout.
pub(crate) fn check_base(
    op: &'static str,
    url: &reqwest::Url,
    timeout: Duration,
) -> Result<(), DashboardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DashboardError::config(
            op,
            "url scheme must be http or https",
        ));
    }
    // reqwest errors print the URL; credentials in it would leak through them.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DashboardError::config(
            op,
            "url must not contain credentials",
        ));
    }
    if timeout.is_zero() {
        return Err(DashboardError::config(op, "timeout must be positive"));
    }
    Ok(())
}

/// Reads an answer body of at most `limit` bytes: a declared oversize is refused at once, a
/// chunked or lying answer is cut while read, so a hostile server cannot make us buffer more.
pub(crate) async fn read_capped(
    resp: &mut reqwest::Response,
    op: &'static str,
    status: u16,
    limit: usize,
) -> Result<Vec<u8>, DashboardError> {
    let too_large = || DashboardError::Unexpected {
        op,
        status,
        detail: format!(
            "answer body larger than the client's {} KiB cap",
            limit / 1024
        ),
    };
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(op, Some(status), e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn transport_error(
    op: &'static str,
    status: Option<u16>,
    e: reqwest::Error,
) -> DashboardError {
    // A refused certificate is a configuration problem (CA bundle, host name), not an outage.
    if let Some(tls) = tls::certificate_error(&e) {
        return DashboardError::config(op, format!("tls handshake failed: {tls}"));
    }
    let reason = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "connection lost while reading the answer"
    } else {
        "connection lost before an answer"
    };
    DashboardError::Transient {
        op,
        status,
        reason: reason.into(),
        source: Some(e),
    }
}

pub(crate) fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}
