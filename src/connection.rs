//! Resolving a user's connection: the connection object, whether the user's namespace
//! may use it, its Secrets, and a cached [`Backend`] client (docs/design.md §2 connections).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use k8s_openapi::{api::core::v1::Namespace, apimachinery::pkg::apis::meta::v1::LabelSelector};
use kube::{Api, Client, ResourceExt};
use parking_lot::Mutex;

use crate::admin_users::{AdminUsersClient, AdminUsersConfig};
use crate::backend::Backend;
use crate::crd::{
    AllowedNamespaces, ClusterDashboardConnection, ConnectionKind, ConnectionRef,
    ConnectionSettings, ConnectionType, DashboardConnection, DashboardUser, SecretKeyRef, reason,
};
use crate::dashboard::{
    AdminSecret, ApiKey, BearerToken, ConnectionConfig, DashboardClient, RequestObservation,
    RequestObserver,
};
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::reconcile::plan::{Blocker, ConnectionView};
use crate::secrets;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("reading {what}")]
    Read {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
}

/// A usable connection.
#[derive(Clone)]
pub struct Resolved {
    /// `cluster/<name>` or `<namespace>/<name>`: the metrics label and log field.
    pub label: String,
    pub url: String,
    pub org_id: Option<String>,
    /// API-key-only (no admin secret): the org of the key's user, the only org it manages.
    pub key_org: Option<String>,
    pub backend: Backend,
    /// What the connection allows (`spec.policy`), with its home org.
    pub policy: Policy,
    /// Which Dashboard this is, for claims that hold across connection objects.
    pub dashboard: String,
    /// Changes with the connection's settings and Secrets (the client cache's key): a
    /// reconcile trusts an earlier confirmation only while it is the same.
    pub fingerprint: u64,
}

impl Resolved {
    /// What the plan may know about this connection.
    pub fn view(&self) -> ConnectionView {
        ConnectionView::Ready {
            url: self.url.clone(),
            backend: self.backend.kind(),
            org_id: self.org_id.clone(),
            has_api_key: self.backend.finds_and_deletes(),
            key_org: self.key_org.clone(),
            policy: self.policy.clone(),
            dashboard: self.dashboard.clone(),
        }
    }
}

/// Clients per connection, rebuilt only when the connection or its Secrets change; and which
/// Secrets each connection reads, so a change to one (rotation) reaches the connection and
/// its users at once (crate::controller).
#[derive(Default)]
pub struct ClientCache {
    clients: Mutex<HashMap<String, (u64, Backend)>>,
    /// connection label → (namespace, name) of its admin, API-key and CA Secrets.
    secrets: Mutex<HashMap<String, BTreeSet<(String, String)>>>,
}

impl ClientCache {
    fn record_secrets(&self, label: &str, secrets: BTreeSet<(String, String)>) {
        let mut all = self.secrets.lock();
        if all.get(label) != Some(&secrets) {
            all.insert(label.to_string(), secrets);
        }
    }

    /// Labels of the connections that read the Secret `namespace/name`.
    pub fn connections_reading(&self, namespace: &str, name: &str) -> Vec<String> {
        let key = (namespace.to_string(), name.to_string());
        self.secrets
            .lock()
            .iter()
            .filter(|(_, s)| s.contains(&key))
            .map(|(label, _)| label.clone())
            .collect()
    }

    fn get_or_build(
        &self,
        label: &str,
        cfg: BackendConfig,
        fingerprint: u64,
        metrics: &Arc<Metrics>,
    ) -> Result<Backend, Blocker> {
        if let Some((fp, c)) = self.clients.lock().get(label)
            && *fp == fingerprint
        {
            return Ok(c.clone());
        }
        let metrics = metrics.clone();
        let conn_label = label.to_string();
        let observer: Arc<dyn RequestObserver> = Arc::new(move |o: &RequestObservation| {
            metrics.dashboard_request(&conn_label, o.method, o.route, o.status, o.latency);
        });
        let built = match cfg {
            BackendConfig::Tyk(cfg) => {
                DashboardClient::new(cfg).map(|c| Backend::Tyk(c.with_observer(observer)))
            }
            BackendConfig::AdminUsers(cfg) => {
                AdminUsersClient::with_observer(cfg, observer).map(Backend::AdminUsers)
            }
        };
        let backend = built.map_err(|e| {
            Blocker::retry(
                reason::CONNECTION_NOT_READY,
                format!("connection {label}: {e}"),
            )
        })?;
        self.clients
            .lock()
            .insert(label.to_string(), (fingerprint, backend.clone()));
        Ok(backend)
    }
}

/// What a backend client is built from.
enum BackendConfig {
    Tyk(ConnectionConfig),
    AdminUsers(AdminUsersConfig),
}

/// Everything needed to resolve connections.
pub struct Resolver<'a> {
    pub client: &'a Client,
    pub operator_namespace: &'a str,
    pub cache: &'a ClientCache,
    pub metrics: &'a Arc<Metrics>,
    /// Tags this process's Dashboard requests (User-Agent), so replicas can be told apart.
    pub replica: Option<&'a str>,
    /// Look the API key's user up afresh (the connection probe) rather than ask the
    /// client's memory of it (user reconciles).
    pub fresh_key_owner: bool,
}

impl Resolver<'_> {
    /// The connection a user should use, or the blocker explaining why it cannot.
    pub async fn for_user(
        &self,
        user: &DashboardUser,
    ) -> Result<Result<Resolved, Blocker>, ConnectionError> {
        self.for_ref(&user.namespace().unwrap_or_default(), &user.connection())
            .await
    }

    /// The connection `r` names for an object in namespace `ns` (users and groups alike).
    pub async fn for_ref(
        &self,
        ns: &str,
        r: &ConnectionRef,
    ) -> Result<Result<Resolved, Blocker>, ConnectionError> {
        let ns = ns.to_string();
        match r.kind {
            ConnectionKind::DashboardConnection => {
                let api: Api<DashboardConnection> = Api::namespaced(self.client.clone(), &ns);
                let Some(c) =
                    api.get_opt(&r.name)
                        .await
                        .map_err(|source| ConnectionError::Read {
                            what: format!("DashboardConnection {ns}/{}", r.name),
                            source,
                        })?
                else {
                    return Ok(Err(Blocker::stalled(
                        reason::CONNECTION_NOT_FOUND,
                        format!("DashboardConnection {ns}/{} not found", r.name),
                    )));
                };
                if !own_namespace_secrets(&c.spec.settings, &ns) {
                    return Ok(Err(Blocker::stalled(
                        reason::CONNECTION_NOT_READY,
                        format!(
                            "DashboardConnection {ns}/{} names Secrets in another namespace; only a ClusterDashboardConnection may",
                            r.name
                        ),
                    )));
                }
                self.build(&r.label(&ns), &c.spec.settings, &ns, false)
                    .await
            }
            ConnectionKind::ClusterDashboardConnection => {
                let api: Api<ClusterDashboardConnection> = Api::all(self.client.clone());
                let Some(c) =
                    api.get_opt(&r.name)
                        .await
                        .map_err(|source| ConnectionError::Read {
                            what: format!("ClusterDashboardConnection {}", r.name),
                            source,
                        })?
                else {
                    return Ok(Err(Blocker::stalled(
                        reason::CONNECTION_NOT_FOUND,
                        format!("ClusterDashboardConnection {} not found", r.name),
                    )));
                };
                if !self
                    .namespace_allowed(&ns, c.spec.allowed_namespaces.as_ref())
                    .await?
                {
                    return Ok(Err(Blocker::stalled(
                        reason::CONNECTION_NOT_ALLOWED,
                        format!(
                            "ClusterDashboardConnection {} does not allow namespace {ns} (see spec.allowedNamespaces)",
                            r.name
                        ),
                    )));
                }
                let op_ns = self.operator_namespace.to_string();
                self.build(&r.label(&ns), &c.spec.settings, &op_ns, true)
                    .await
            }
        }
    }

    async fn namespace_allowed(
        &self,
        ns: &str,
        allowed: Option<&AllowedNamespaces>,
    ) -> Result<bool, ConnectionError> {
        let names = allowed.map(|a| a.names.as_slice()).unwrap_or_default();
        let selector = allowed.and_then(|a| a.selector.as_ref());
        if ns == self.operator_namespace || names.iter().any(|n| n == ns) {
            return Ok(true);
        }
        let Some(selector) = selector else {
            return Ok(false);
        };
        let api: Api<Namespace> = Api::all(self.client.clone());
        let labels = api
            .get_opt(ns)
            .await
            .map_err(|source| ConnectionError::Read {
                what: format!("Namespace {ns}"),
                source,
            })?
            .map(|n| n.labels().clone())
            .unwrap_or_default();
        Ok(selector_matches(selector, &labels))
    }

    /// Reads the connection's Secrets and returns a (cached) client.
    /// `cross_namespace`: cluster connections may name a Secret namespace; namespaced
    /// ones may not, or they would read Secrets their users cannot.
    pub async fn build(
        &self,
        label: &str,
        s: &ConnectionSettings,
        secret_ns: &str,
        cross_namespace: bool,
    ) -> Result<Result<Resolved, Blocker>, ConnectionError> {
        let ns_of = |r: &SecretKeyRef| match (&r.namespace, cross_namespace) {
            (Some(ns), true) => ns.clone(),
            _ => secret_ns.to_string(),
        };
        self.cache.record_secrets(
            label,
            secret_refs(s).map(|r| (ns_of(r), r.name.clone())).collect(),
        );
        let read = |r: &SecretKeyRef, default_key: &'static str| {
            let ns = ns_of(r);
            let name = r.name.clone();
            let key = r.key.clone().unwrap_or_else(|| default_key.to_string());
            let what = format!("connection {label}");
            async move {
                let v = secrets::read_key(
                    self.client,
                    &ns,
                    &name,
                    &key,
                    reason::CONNECTION_NOT_READY,
                    reason::CONNECTION_NOT_READY,
                )
                .await?;
                // Retry with backoff rather than stall: a connection Secret outside the
                // watched namespaces is only seen again at the next attempt.
                Ok::<_, ConnectionError>(
                    v.map_err(|b| Blocker::retry(b.reason, format!("{what}: {}", b.message))),
                )
            }
        };
        // CEL ties the Secret refs to the type; an object admitted without CEL (an old
        // API server) still gets a clear condition rather than a guess. A Tyk connection
        // without adminSecretRef but with apiKeySecretRef is API-key-only: the Dashboard
        // API alone.
        let (main_ref, main_key, field) = match s.type_ {
            ConnectionType::TykDashboard => {
                (s.admin_secret_ref.as_ref(), "adminSecret", "adminSecretRef")
            }
            ConnectionType::AdminUsersApi => {
                (s.token_secret_ref.as_ref(), "token", "tokenSecretRef")
            }
        };
        let key_only = s.type_ == ConnectionType::TykDashboard && s.api_key_secret_ref.is_some();
        let admin = match main_ref {
            None if key_only => Vec::new(),
            None => {
                return Ok(Err(Blocker::stalled(
                    reason::CONNECTION_NOT_READY,
                    format!("connection {label}: type {} needs {field}", s.type_.name()),
                )));
            }
            Some(r) => match read(r, main_key).await? {
                Ok(v) => v,
                Err(b) => return Ok(Err(b)),
            },
        };
        let api_key = match (&s.api_key_secret_ref, s.type_) {
            (Some(r), ConnectionType::TykDashboard) => match read(r, "apiKey").await? {
                Ok(v) => Some(v),
                Err(b) => return Ok(Err(b)),
            },
            _ => None,
        };
        let ca = match s.tls.as_ref().and_then(|t| t.ca_secret_ref.as_ref()) {
            None => None,
            Some(r) => match read(r, "ca.crt").await? {
                Ok(v) => Some(v),
                Err(b) => return Ok(Err(b)),
            },
        };
        let text = |v: Vec<u8>| String::from_utf8_lossy(&v).trim().to_string();
        let not_ready = |e: crate::dashboard::DashboardError| {
            Blocker::stalled(
                reason::CONNECTION_NOT_READY,
                format!("connection {label}: {e}"),
            )
        };
        let insecure = s.tls.as_ref().is_some_and(|t| t.insecure_skip_verify);
        let timeout = Duration::from_secs(s.timeout_seconds.unwrap_or(10).into());
        let max_in_flight =
            s.max_concurrent_requests
                .unwrap_or(crate::crd::DEFAULT_MAX_CONCURRENT_REQUESTS) as usize;
        let cfg = match s.type_ {
            ConnectionType::TykDashboard => {
                let mut cfg =
                    match ConnectionConfig::new(&s.url, AdminSecret::new(text(admin.clone()))) {
                        Ok(c) => c,
                        Err(e) => return Ok(Err(not_ready(e))),
                    };
                cfg.api_key = api_key.clone().map(|k| ApiKey::new(text(k)));
                cfg.ca_pem = ca.clone();
                cfg.insecure_skip_verify = insecure;
                cfg.timeout = timeout;
                cfg.max_concurrent_requests = max_in_flight;
                cfg.replica = self.replica.map(str::to_string);
                BackendConfig::Tyk(cfg)
            }
            ConnectionType::AdminUsersApi => {
                let mut cfg =
                    match AdminUsersConfig::new(&s.url, BearerToken::new(text(admin.clone()))) {
                        Ok(c) => c,
                        Err(e) => return Ok(Err(not_ready(e))),
                    };
                cfg.ca_pem = ca.clone();
                cfg.insecure_skip_verify = insecure;
                cfg.timeout = timeout;
                cfg.max_concurrent_requests = max_in_flight;
                BackendConfig::AdminUsers(cfg)
            }
        };

        // In-memory only: tells "same inputs" apart without keeping another copy around.
        let mut h = DefaultHasher::new();
        (
            s.type_,
            &s.url,
            &admin,
            &api_key,
            &ca,
            insecure,
            s.timeout_seconds,
            s.max_concurrent_requests,
        )
            .hash(&mut h);
        let fingerprint = h.finish();
        let backend = match self
            .cache
            .get_or_build(label, cfg, fingerprint, self.metrics)
        {
            Ok(c) => c,
            Err(b) => return Ok(Err(b)),
        };
        let key_org = match backend.tyk().filter(|c| !c.has_admin_secret()) {
            None => None,
            Some(c) => match key_owner_org(label, c, self.fresh_key_owner).await {
                Ok(org) => Some(org),
                Err(b) => return Ok(Err(b)),
            },
        };
        let org_id = s.org_id.clone().filter(|o| !o.is_empty());
        Ok(Ok(Resolved {
            label: label.to_string(),
            url: s.url.clone(),
            policy: Policy {
                connection: label.to_string(),
                home_org: org_id.clone().or_else(|| key_org.clone()),
                rules: s.policy.clone(),
                unrestricted: false,
            },
            dashboard: dashboard_key(s.type_, &s.url),
            fingerprint,
            org_id,
            key_org,
            backend,
        }))
    }
}

/// The org of an API-key-only connection's key, from the key's own user (remembered per
/// client, or looked up afresh with `fresh`), which must be an admin: the Dashboard API
/// manages users of that org only.
pub async fn key_owner_org(
    label: &str,
    c: &DashboardClient,
    fresh: bool,
) -> Result<String, Blocker> {
    let owner = if fresh {
        c.refresh_key_owner().await
    } else {
        c.key_owner().await
    };
    let owner = owner.map_err(|e| {
        let b = crate::reconcile::ReconcileError::Dashboard(e).blocker();
        Blocker::retry(b.reason, format!("connection {label}: {}", b.message))
    })?;
    admin_owner(label, &owner)
}

/// `Ok(org)` when `owner` (the API key's user) is an org admin.
pub fn admin_owner(label: &str, owner: &crate::dashboard::User) -> Result<String, Blocker> {
    if owner.user_permissions.get("IsAdmin").map(String::as_str) != Some("admin") {
        return Err(Blocker::retry(
            reason::FORBIDDEN,
            format!(
                "connection {label}: the api key belongs to {}, who is not an admin (user_permissions IsAdmin: admin); an API-key-only connection needs an org admin's key",
                owner.email_address
            ),
        ));
    }
    if owner.org_id.is_empty() {
        return Err(Blocker::retry(
            reason::FORBIDDEN,
            format!(
                "connection {label}: the api key belongs to a super user; an API-key-only connection needs an org admin's key (a super user's key sees every org: use adminSecretRef)"
            ),
        ));
    }
    Ok(owner.org_id.clone())
}

/// Which Dashboard a connection reaches, as claims compare it: the backend type and the URL
/// with scheme and host lower-cased, the scheme's default port and trailing slashes dropped.
/// Two connections with the same key share one set of claims (docs/multi-tenancy.md);
/// two different URLs for one Dashboard (a Service name and its IP) cannot be told apart.
pub fn dashboard_key(backend: ConnectionType, raw: &str) -> String {
    let trimmed = raw.trim();
    let normal = match url::Url::parse(trimmed) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let path = u.path().trim_end_matches('/');
            format!("{}://{host}{port}{path}", u.scheme())
        }
        Err(_) => trimmed.trim_end_matches('/').to_ascii_lowercase(),
    };
    format!("{}:{normal}", backend.name())
}

/// A namespaced connection may only read Secrets of its own namespace, or it would hand
/// its users Secrets they cannot read themselves.
pub fn own_namespace_secrets(s: &ConnectionSettings, ns: &str) -> bool {
    secret_refs(s).all(|r| r.namespace.as_deref().is_none_or(|n| n == ns))
}

/// Every Secret a connection names: admin secret, token, API key, CA.
fn secret_refs(s: &ConnectionSettings) -> impl Iterator<Item = &SecretKeyRef> {
    let tls_ca = s.tls.as_ref().and_then(|t| t.ca_secret_ref.as_ref());
    s.admin_secret_ref
        .iter()
        .chain(s.token_secret_ref.as_ref())
        .chain(s.api_key_secret_ref.as_ref())
        .chain(tls_ca)
}

/// Label selector semantics (matchLabels AND matchExpressions).
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        let have = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespaced_connections_keep_to_their_namespace() {
        let mut s = ConnectionSettings::for_url("http://d:3000", "admin");
        assert!(own_namespace_secrets(&s, "team-a"));
        s.admin_secret_ref.as_mut().unwrap().namespace = Some("team-a".into());
        assert!(own_namespace_secrets(&s, "team-a"));
        s.api_key_secret_ref = Some(SecretKeyRef {
            name: "key".into(),
            key: None,
            namespace: Some("kube-system".into()),
        });
        assert!(!own_namespace_secrets(&s, "team-a"));
    }

    #[test]
    fn one_dashboard_under_several_spellings_has_one_key() {
        let tyk = ConnectionType::TykDashboard;
        let k = dashboard_key(tyk, "http://Tyk-Dashboard.tyk:3000");
        for same in [
            "http://tyk-dashboard.tyk:3000/",
            "HTTP://tyk-dashboard.tyk:3000//",
            " http://tyk-dashboard.tyk:3000 ",
        ] {
            assert_eq!(dashboard_key(tyk, same), k, "{same}");
        }
        assert_eq!(
            dashboard_key(tyk, "https://d.example:443/api/"),
            dashboard_key(tyk, "https://d.example/api")
        );
        for other in [
            "http://tyk-dashboard.tyk:3001",
            "https://tyk-dashboard.tyk:3000",
        ] {
            assert_ne!(dashboard_key(tyk, other), k, "{other}");
        }
        assert_ne!(
            dashboard_key(
                ConnectionType::AdminUsersApi,
                "http://tyk-dashboard.tyk:3000"
            ),
            k
        );
    }

    #[test]
    fn selector_semantics() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("team", "a")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["dev".into(), "test".into()]),
            }]),
        };
        assert!(selector_matches(
            &sel,
            &labels(&[("team", "a"), ("env", "dev")])
        ));
        assert!(!selector_matches(
            &sel,
            &labels(&[("team", "a"), ("env", "prod")])
        ));
        assert!(!selector_matches(&sel, &labels(&[("env", "dev")])));
        let not_in = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "NotIn".into(),
                values: Some(vec!["prod".into()]),
            }]),
        };
        assert!(selector_matches(&not_in, &labels(&[])));
        assert!(!selector_matches(&not_in, &labels(&[("env", "prod")])));
    }
}
