//! The admin users API client: one per connection, a timeout on every request, a bound on
//! requests in flight, FastAPI errors classified into [`DashboardError`], credentials that
//! never print.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use reqwest::{Method, Url};
use tokio::sync::Semaphore;

use super::wire::{AdminUser, NewAdminUser, UserPatch, create_body, error_detail};
use crate::dashboard::classify::sanitize_message;
use crate::dashboard::client::{check_base, method_label, read_capped, transport_error};
use crate::dashboard::observe::observed;
use crate::dashboard::users::decode_error;
use crate::dashboard::{BearerToken, DashboardError, Password, RequestObserver, tls};

/// Largest answer read: a page of 100 users is a few tens of KiB, one user well under 1 KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Pages read when looking a username up on a server that ignores `?username=`.
const MAX_FIND_PAGES: usize = 100;
const PAGE: usize = 100;
/// A uuid no server holds (nil), for the credential probe.
const PROBE_ID: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Clone)]
pub struct AdminUsersConfig {
    /// Base URL including the API prefix, e.g. `https://example.com/api`.
    pub url: Url,
    pub token: BearerToken,
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    pub timeout: Duration,
    pub max_concurrent_requests: usize,
}

impl AdminUsersConfig {
    pub fn new(url: &str, token: BearerToken) -> Result<Self, DashboardError> {
        let url = Url::parse(url)
            .map_err(|e| DashboardError::config("configure connection", format!("url: {e}")))?;
        Ok(Self {
            url,
            token,
            ca_pem: None,
            insecure_skip_verify: false,
            timeout: Duration::from_secs(10),
            max_concurrent_requests: 4,
        })
    }
}

impl fmt::Debug for AdminUsersConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminUsersConfig")
            .field("url", &self.url.as_str())
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Clone)]
pub struct AdminUsersClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    token: BearerToken,
    limit: Semaphore,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl fmt::Debug for AdminUsersClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminUsersClient")
            .field("base", &self.inner.base)
            .finish()
    }
}

/// One HTTP call.
struct Call<'a> {
    op: &'static str,
    method: Method,
    /// Bounded route pattern for metrics.
    route: &'static str,
    path: String,
    body: Option<Vec<u8>>,
    /// Values to scrub from server messages besides the token: the password of this call,
    /// and only that (see [`Call::carries_password`]).
    secrets: Vec<&'a str>,
}

impl AdminUsersClient {
    pub fn new(cfg: AdminUsersConfig) -> Result<Self, DashboardError> {
        Self::build(cfg, None)
    }

    /// With a hook that sees every request's outcome and latency (for Prometheus).
    pub fn with_observer(
        cfg: AdminUsersConfig,
        observer: Arc<dyn RequestObserver>,
    ) -> Result<Self, DashboardError> {
        Self::build(cfg, Some(observer))
    }

    fn build(
        cfg: AdminUsersConfig,
        observer: Option<Arc<dyn RequestObserver>>,
    ) -> Result<Self, DashboardError> {
        const OP: &str = "configure connection";
        check_base(OP, &cfg.url, cfg.timeout)?;
        if cfg.token.is_empty() {
            return Err(DashboardError::config(OP, "token is empty"));
        }
        let tls = tls::client_config(cfg.ca_pem.as_deref(), cfg.insecure_skip_verify)?;
        let origin = cfg.url.origin();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            // FastAPI answers 307 between `/users` and `/users/`: follow those, but only on
            // the same origin, so the token never travels to another host.
            .redirect(reqwest::redirect::Policy::custom(move |a| {
                if a.previous().len() >= 3 || a.url().origin() != origin {
                    a.stop()
                } else {
                    a.follow()
                }
            }))
            .default_headers(
                [(
                    USER_AGENT,
                    HeaderValue::from_static(concat!(
                        "dashboard-user-operator/",
                        env!("CARGO_PKG_VERSION")
                    )),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .map_err(|e| DashboardError::config(OP, format!("http client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: cfg.url.as_str().trim_end_matches('/').to_owned(),
                token: cfg.token,
                limit: Semaphore::new(cfg.max_concurrent_requests.max(1)),
                observer,
            }),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Reachability, the token, and admin rights: a read of a user that cannot exist
    /// (`404` proves all three; `401`/`403` say which is missing).
    pub async fn probe(&self) -> Result<(), DashboardError> {
        let call = call(
            "probe admin users api",
            Method::GET,
            ITEM,
            format!("/admin/users/{PROBE_ID}"),
        );
        match self.execute(call).await {
            Ok(_) | Err(DashboardError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `POST /admin/users/` (documented): `201 UserResponse`.
    pub async fn create_user(&self, new: &NewAdminUser) -> Result<AdminUser, DashboardError> {
        const OP: &str = "create user";
        let mut c = call(OP, Method::POST, COLLECTION, "/admin/users/".into());
        c.body = Some(json_body(&create_body(new)));
        c.secrets.push(new.password.expose());
        let (status, body) = self.execute(c).await?;
        decode_user(OP, status, &body)
    }

    /// `GET /admin/users/{id}` (inferred).
    pub async fn get_user(&self, id: &str) -> Result<AdminUser, DashboardError> {
        const OP: &str = "get user";
        let id = checked_id(OP, id)?;
        let (status, body) = self
            .execute(call(OP, Method::GET, ITEM, format!("/admin/users/{id}")))
            .await?;
        decode_user(OP, status, &body)
    }

    /// Finds a user by exact username: `GET /admin/users/?username=` (inferred), read page by
    /// page with `skip`/`limit` and matched here, so a server that ignores the filter is
    /// still answered right.
    pub async fn find_user(&self, username: &str) -> Result<Option<AdminUser>, DashboardError> {
        const OP: &str = "find user";
        let q: String = url::form_urlencoded::byte_serialize(username.as_bytes()).collect();
        let mut previous_first: Option<String> = None;
        for page in 0..MAX_FIND_PAGES {
            let path = format!(
                "/admin/users/?username={q}&skip={}&limit={PAGE}",
                page * PAGE
            );
            let (status, body) = self
                .execute(call(OP, Method::GET, COLLECTION, path))
                .await?;
            let users: Vec<AdminUser> =
                serde_json::from_slice(&body).map_err(|e| decode_error(OP, status, &e))?;
            if let Some(u) = users.iter().find(|u| u.username == username) {
                return Ok(Some(u.clone()));
            }
            if users.len() < PAGE {
                return Ok(None);
            }
            // A server that ignores `skip` answers the first page every time: reading on
            // would be MAX_FIND_PAGES identical requests per attempt for nothing.
            let first = users.first().map(|u| u.id.clone());
            if page > 0 && first == previous_first {
                return Err(DashboardError::Unexpected {
                    op: OP,
                    status,
                    detail: format!(
                        "page {} repeats the previous one: the server ignores skip",
                        page + 1
                    ),
                });
            }
            previous_first = first;
        }
        Err(DashboardError::Unexpected {
            op: OP,
            status: 200,
            detail: format!("no answer after {MAX_FIND_PAGES} pages"),
        })
    }

    /// `PATCH /admin/users/{id}` with the fields to change (inferred).
    pub async fn update_user(
        &self,
        id: &str,
        patch: &UserPatch,
    ) -> Result<AdminUser, DashboardError> {
        const OP: &str = "update user";
        let id = checked_id(OP, id)?;
        let mut c = call(OP, Method::PATCH, ITEM, format!("/admin/users/{id}"));
        c.body = Some(json_body(patch));
        let (status, body) = self.execute(c).await?;
        decode_user(OP, status, &body)
    }

    /// `PUT /admin/users/{id}/password` with `{"password"}` (inferred).
    pub async fn set_password(&self, id: &str, password: &Password) -> Result<(), DashboardError> {
        const OP: &str = "set password";
        let id = checked_id(OP, id)?;
        let mut c = call(
            OP,
            Method::PUT,
            PASSWORD,
            format!("/admin/users/{id}/password"),
        );
        c.body = Some(json_body(
            &serde_json::json!({"password": password.expose()}),
        ));
        c.secrets.push(password.expose());
        self.execute(c).await.map(drop)
    }

    /// `DELETE /admin/users/{id}` (inferred): 204; `NotFound` when already gone; a server
    /// without the route answers 405 (see [`DashboardError::status`]).
    pub async fn delete_user(&self, id: &str) -> Result<(), DashboardError> {
        const OP: &str = "delete user";
        let id = checked_id(OP, id)?;
        self.execute(call(OP, Method::DELETE, ITEM, format!("/admin/users/{id}")))
            .await
            .map(drop)
    }

    async fn execute(&self, c: Call<'_>) -> Result<(u16, Vec<u8>), DashboardError> {
        observed(
            self.inner.observer.as_ref(),
            c.op,
            method_label(&c.method),
            c.route,
            |a: &(u16, Vec<u8>)| a.0,
            self.execute_inner(&c),
        )
        .await
    }

    async fn execute_inner(&self, c: &Call<'_>) -> Result<(u16, Vec<u8>), DashboardError> {
        let inner = &self.inner;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", inner.token.expose())).map_err(|_| {
                DashboardError::config(c.op, "token contains characters not allowed in a header")
            })?;
        auth.set_sensitive(true);
        let mut req = inner
            .http
            .request(c.method.clone(), format!("{}{}", inner.base, c.path))
            .header(AUTHORIZATION, auth);
        if let Some(b) = &c.body {
            req = req.header(CONTENT_TYPE, "application/json").body(b.clone());
        }
        let _permit = inner
            .limit
            .acquire()
            .await
            .map_err(|_| DashboardError::config(c.op, "client is shut down"))?;
        let mut resp = req
            .send()
            .await
            .map_err(|e| transport_error(c.op, None, e))?;
        let status = resp.status().as_u16();
        let body = read_capped(&mut resp, c.op, status, MAX_BODY_BYTES).await?;
        if (200..300).contains(&status) {
            return Ok((status, body));
        }
        Err(self.answer_error(c, status, &body))
    }

    fn answer_error(&self, c: &Call<'_>, status: u16, body: &[u8]) -> DashboardError {
        let d = error_detail(body);
        let mut secrets = vec![self.inner.token.expose()];
        secrets.extend(c.secrets.iter().copied());
        let message = if d.message.is_empty() {
            "no error message".to_owned()
        } else {
            sanitize_message(&d.message, &secrets)
        };
        let op = c.op;
        let lower = message.to_ascii_lowercase();
        match status {
            401 => DashboardError::Unauthorized {
                op,
                status,
                message,
            },
            403 => DashboardError::Forbidden {
                op,
                status,
                message,
            },
            404 => DashboardError::NotFound {
                op,
                status,
                message,
            },
            // A taken username: 409 by convention.
            409 => DashboardError::AlreadyExists {
                op,
                status,
                message,
            },
            // A refused password, whatever its shape (a `loc` ending in `password`, or a
            // plain `detail` naming it, 400 or 422): PasswordRejected, so it is never sent
            // again until the Secret changes (docs/design.md §3.3). Checked before "already
            // exists": "password already used" is a refused password, not a taken username.
            400 | 422
                if c.carries_password() && (d.about_password || lower.contains("password")) =>
            {
                DashboardError::PasswordRejected {
                    op,
                    status,
                    message,
                }
            }
            // Some servers answer a taken username with 400 "... already exists": only a
            // create can mean that.
            400 if c.is_create() && (lower.contains("already") || lower.contains("exists")) => {
                DashboardError::AlreadyExists {
                    op,
                    status,
                    message,
                }
            }
            // A read carries nothing a user wrote: retried with backoff, not stalled.
            400 | 422 if c.method == Method::GET => DashboardError::Unexpected {
                op,
                status,
                detail: format!("read refused as invalid: {message}"),
            },
            // Deterministic validation of another field: Invalid, which stalls (the same
            // request would be refused again), so a create carrying the password is not
            // re-sent on every backoff.
            400 | 422 => DashboardError::Invalid {
                op,
                status,
                message,
                hint: None,
            },
            405 => DashboardError::Unexpected {
                op,
                status,
                detail: format!("the server does not offer this route ({message})"),
            },
            408 | 429 | 500..=599 => DashboardError::Transient {
                op,
                status: Some(status),
                reason: format!("status {status}: {message}"),
                source: None,
            },
            _ => DashboardError::Unexpected {
                op,
                status,
                detail: message,
            },
        }
    }
}

pub(super) const COLLECTION: &str = "/admin/users/";
pub(super) const ITEM: &str = "/admin/users/{id}";
pub(super) const PASSWORD: &str = "/admin/users/{id}/password";

impl Call<'_> {
    /// Only password-bearing calls register the password among their secrets.
    fn carries_password(&self) -> bool {
        !self.secrets.is_empty()
    }

    fn is_create(&self) -> bool {
        self.method == Method::POST && self.route == COLLECTION
    }
}

fn call<'a>(op: &'static str, method: Method, route: &'static str, path: String) -> Call<'a> {
    Call {
        op,
        method,
        route,
        path,
        body: None,
        secrets: vec![],
    }
}

fn json_body<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Plain structs of strings cannot fail to serialise.
    serde_json::to_vec(v).unwrap_or_default()
}

/// Ids go into URL paths: uuids in practice; any token of letters, digits and `-`.
fn checked_id(op: &'static str, id: &str) -> Result<String, DashboardError> {
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(DashboardError::config(op, "user id is empty or not an id"));
    }
    Ok(id.to_owned())
}

fn decode_user(op: &'static str, status: u16, body: &[u8]) -> Result<AdminUser, DashboardError> {
    let u: AdminUser = serde_json::from_slice(body).map_err(|e| decode_error(op, status, &e))?;
    if u.id.is_empty() {
        return Err(DashboardError::Unexpected {
            op,
            status,
            detail: "user has no id".into(),
        });
    }
    Ok(u)
}
