//! The pure heart of the reconcile: from what was observed to what to do (docs/design.md §3.1).
//!
//! No I/O here. The executor gathers an [`Observed`], calls [`plan`], runs the returned
//! [`Step`]s in order and reports the [`Plan::pending`] blocker (if any) as the condition
//! once every step succeeded. Most of the operator's decisions are tested in `tests.rs`.

pub mod confirmation;
mod desired;
#[cfg(test)]
mod fuzz_tests;
mod key_only;
#[cfg(test)]
mod tenancy_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use desired::{
    DesiredProfile, DesiredUser, FieldChange, TykProfile, desired_user, effective_role,
    normalized_permissions, permissions_for_put,
};
pub(crate) use desired::{check_permissions, valid_email};

use super::fingerprint::Fingerprint;
use crate::crd::{AdoptionPolicy, ConnectionType, DashboardUser, DeletionPolicy, reason};
use crate::policy::Policy;

/// Why the reconcile cannot (fully) proceed. `stalled` = only a change to a watched
/// object helps (kstatus Stalled); otherwise it is retried with backoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    pub reason: &'static str,
    pub message: String,
    pub stalled: bool,
}

impl Blocker {
    pub fn stalled(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            stalled: true,
        }
    }

    pub fn retry(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            stalled: false,
        }
    }
}

/// The resolved connection, or why it could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionView {
    Ready {
        url: String,
        /// Which remote user system (the connection's `type`).
        backend: ConnectionType,
        org_id: Option<String>,
        /// The backend can find users by login name and delete them (Tyk: only with the
        /// connection's API key; the admin users API: always, with its token).
        has_api_key: bool,
        /// Tyk without the admin secret (API-key-only): the org of the key's user. Every
        /// call then goes through the Dashboard API, in that org only.
        key_org: Option<String>,
        /// What the connection allows (`spec.policy`).
        policy: Policy,
        /// Which Dashboard (crate::connection::dashboard_key): claims hold per Dashboard.
        dashboard: String,
    },
    Unavailable(Blocker),
}

/// The password Secret, reduced to what the plan may know: its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordView {
    NotManaged,
    Unavailable(Blocker),
    Present(Fingerprint),
}

/// A credential value the plan compares but must never print.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<empty>"
        } else {
            "<redacted>"
        })
    }
}

/// The managed fields of the remote user, as `GET /admin/users/{id}` returned them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteUser {
    pub id: String,
    /// The login name: the email (Tyk) or the username (admin users API).
    pub login: String,
    pub email: String,
    pub active: bool,
    /// The credential to publish; `""` when the Dashboard hides it (docs/tyk-dashboard-api.md
    /// §10.8) or the backend has none (the admin users API).
    pub access_key: Redacted,
    pub profile: RemoteProfile,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteProfile {
    Tyk(TykRemote),
    /// `roles` as `UserResponse` lists them.
    AdminUsers {
        roles: Vec<String>,
    },
}

/// What only a Tyk Dashboard user has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TykRemote {
    pub org_id: String,
    pub first_name: String,
    pub last_name: String,
    pub group_id: String,
    pub permissions: BTreeMap<String, String>,
    pub password_max_days: i64,
}

impl RemoteUser {
    pub fn tyk_mut(&mut self) -> Option<&mut TykRemote> {
        match &mut self.profile {
            RemoteProfile::Tyk(t) => Some(t),
            RemoteProfile::AdminUsers { .. } => None,
        }
    }
}

// One value per reconcile: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteView {
    /// `status.userId` is unset: nothing was looked up.
    NoId,
    /// `GET` by `status.userId` answered 404: deleted in the Dashboard.
    NotFound,
    Found(RemoteUser),
}

/// The access Secret as it is now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessSecretView {
    pub data: BTreeMap<String, Redacted>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Controller ownerReference points at this DashboardUser.
    pub owned: bool,
    /// The version read: the write that follows is refused if the Secret changed since
    /// (so a Secret replaced in between is never written into).
    pub resource_version: String,
}

/// The user's group: a literal `groupId`, a `groupRef` resolved to the group's id, or why
/// that id is not known yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupView {
    /// No `groupRef`: `spec.groupId` (or none) applies.
    Literal,
    Resolved(String),
    Waiting(Blocker),
}

pub struct Observed<'a> {
    pub user: &'a DashboardUser,
    /// The clock, so the plan stays pure.
    pub now: jiff::Timestamp,
    pub resync_period: std::time::Duration,
    pub connection: ConnectionView,
    pub password: PasswordView,
    pub access_secret: Option<AccessSecretView>,
    pub remote: RemoteView,
    pub group: GroupView,
}

/// How a password reaches the Dashboard (docs/design.md §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordPath {
    /// In the create request itself (the admin users API requires it there).
    WithCreate,
    /// `POST /api/users/{id}/actions/reset` with the new user's own key (first password).
    SelfReset,
    /// `PUT /admin/users/{id}` with the full object plus `password` and `access_key`.
    AdminPut,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Record a create intent, `POST /admin/users`, record `status.userId`. On "already
    /// exists": adopt the user with this email if `may_adopt`, else report AlreadyExists.
    Create { may_adopt: bool, recreate: bool },
    /// Set the first password of a user this reconcile created.
    InitialPassword { via: PasswordPath },
    /// Admin `PUT` of the full object with the desired fields (and the password).
    Update { fields: bool, password: bool },
    /// The fingerprint key changed: keep the password, re-record its fingerprint.
    RefreshFingerprint,
    /// `PUT /api/users/{id}/actions/key/reset`, then read the new key.
    RotateKey { request: String },
    /// Server-side apply the access Secret.
    WriteAccessSecret,
    /// The access Secret was renamed in the spec: remove the one we wrote before.
    DeleteAccessSecret { name: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Reported instead of Ready=True once the steps succeed (or at once, if there are none).
    pub pending: Option<Blocker>,
    /// The desired user; `None` when the spec or connection blocks everything.
    pub desired: Option<DesiredUser>,
}

impl Plan {
    fn blocked(b: Blocker) -> Self {
        Self {
            steps: vec![],
            pending: Some(b),
            desired: None,
        }
    }
}

/// Decides what an Apply reconcile must do.
pub fn plan(o: &Observed<'_>) -> Plan {
    let (url, backend, conn_org, key_org, policy) = match &o.connection {
        ConnectionView::Ready {
            url,
            backend,
            org_id,
            key_org,
            policy,
            ..
        } => (url, *backend, org_id.as_deref(), key_org.as_deref(), policy),
        ConnectionView::Unavailable(b) => return Plan::blocked(b.clone()),
    };
    // API-key-only: the key's org is the default org, and the only one there is.
    let mut desired = match desired_user(&o.user.spec, backend, conn_org.or(key_org)) {
        Ok(d) => d,
        Err(msg) => return Plan::blocked(Blocker::stalled(reason::INVALID_SPEC, msg)),
    };
    if let Some(k) = key_org
        && let Err(msg) = key_only::limits(&o.user.spec, &desired, k)
    {
        return Plan::blocked(Blocker::stalled(reason::INVALID_SPEC, msg));
    }
    // Tenancy: nothing the connection does not allow is planned (docs/multi-tenancy.md).
    if let Err(msg) = policy.check(&desired.ask(&o.user.spec)) {
        return Plan::blocked(Blocker::stalled(reason::NOT_ALLOWED, msg));
    }
    // A Secret someone else made is never written into, owned or deleted.
    if let Some(b) = foreign_access_secret(o) {
        return Plan::blocked(b);
    }
    // The first password travels with the create: the admin users API's create, and the
    // Dashboard API's `POST /api/users` of an API-key-only connection.
    let password_with_create = backend == ConnectionType::AdminUsersApi || key_org.is_some();
    match (&o.group, &mut desired.profile) {
        (GroupView::Literal, _) => {}
        (_, DesiredProfile::AdminUsers { .. }) => {
            return Plan::blocked(Blocker::stalled(
                reason::INVALID_SPEC,
                "groupRef applies only to TykDashboard connections",
            ));
        }
        (GroupView::Resolved(id), DesiredProfile::Tyk(t)) => t.group_id = id.clone(),
        // Not created (or not moved) into a group that has no id: wait for it.
        (GroupView::Waiting(b), _) => return Plan::blocked(b.clone()),
    }
    let status = o.user.status.clone().unwrap_or_default();
    let mut steps = Vec::new();
    let mut pending = None;

    let password_wanted = match &o.password {
        PasswordView::NotManaged => None,
        PasswordView::Unavailable(b) => {
            pending = Some(b.clone());
            None
        }
        PasswordView::Present(fp) => Some(fp),
    };

    match &o.remote {
        RemoteView::NoId | RemoteView::NotFound => {
            // A user wanting a password is not created without it: a passwordless
            // account would be usable only through its key and confuse everyone.
            if let Some(b) = &pending {
                return Plan::blocked(b.clone());
            }
            let recreate = o.remote == RemoteView::NotFound;
            // After "already exists", retry once per resync period (or on a spec change),
            // not on every event: each attempt writes status, which is an event itself.
            if let Some(c) = &status.create_conflict
                && Some(c.generation) == o.user.metadata.generation
                && c.time
                    .parse::<jiff::Timestamp>()
                    .is_ok_and(|t| o.now.duration_since(t).unsigned_abs() < o.resync_period)
            {
                // Keep the refusal the last attempt reported (NotAllowed for the key owner,
                // "managed by another DashboardUser"): the condition must not flap.
                let last = last_refusal(o.user).unwrap_or_else(|| {
                    Blocker::stalled(
                        reason::ALREADY_EXISTS,
                        format!(
                            "a dashboard user with {} {} already exists and may not be adopted; retrying at the next resync",
                            desired.login_kind(),
                            desired.login
                        ),
                    )
                });
                return Plan::blocked(last);
            }
            // An intent left by an earlier attempt for this very email means our POST may
            // have committed before we crashed: that user is ours (docs/design.md §3.2).
            let own_intent = status
                .create_intent
                .as_ref()
                .is_some_and(|i| i.email.eq_ignore_ascii_case(&desired.login));
            // Our own crash-left user is always ours; anyone else's only where the
            // connection allows adoption (else `existing_user_refusal`).
            let may_adopt = own_intent
                || (o.user.spec.adoption_policy == AdoptionPolicy::IfExists
                    && policy.check_adoption("users").is_ok());
            if password_with_create
                && let Some(fp) = password_wanted
                && status.rejected_password_fingerprint.as_deref() == Some(&fp.0)
            {
                // The password travels in the create: a refused one would be refused again.
                return Plan::blocked(Blocker::stalled(
                    reason::PASSWORD_REJECTED,
                    "the server refused this password; change the password Secret to retry",
                ));
            }
            steps.push(Step::Create {
                may_adopt,
                recreate,
            });
            if password_wanted.is_some() {
                // An inactive user's own key is refused, so use the admin path then.
                let via = if password_with_create {
                    PasswordPath::WithCreate
                } else if desired.active {
                    PasswordPath::SelfReset
                } else {
                    PasswordPath::AdminPut
                };
                steps.push(Step::InitialPassword { via });
            }
            steps.push(Step::WriteAccessSecret);
        }
        RemoteView::Found(remote) => {
            let fields = !desired.matches(remote);
            let mut password = false;
            if let Some(fp) = password_wanted {
                match status.password_fingerprint.as_deref() {
                    Some(stored) if stored == fp.0 => {}
                    _ if status.rejected_password_fingerprint.as_deref() == Some(&fp.0) => {
                        pending = Some(Blocker::stalled(
                            reason::PASSWORD_REJECTED,
                            "the dashboard refused this password; change the password Secret to retry",
                        ));
                    }
                    Some(stored) if Fingerprint(stored.into()).key_id() != fp.key_id() => {
                        steps.push(Step::RefreshFingerprint);
                    }
                    _ => password = true,
                }
            }
            if fields || password {
                steps.push(Step::Update { fields, password });
            }
            // Only Tyk users have an access key to rotate (docs/backends.md, AdminUsersAPI).
            if backend == ConnectionType::TykDashboard
                && let Some(request) = o.user.rotation_request()
                && status.rotated_access_key.as_deref() != Some(request)
            {
                steps.push(Step::RotateKey {
                    request: request.to_string(),
                });
            }
            let rotating = steps.iter().any(|s| matches!(s, Step::RotateKey { .. }));
            if rotating || !access_secret_current(o, &desired, remote, url) {
                steps.push(Step::WriteAccessSecret);
            }
        }
    }

    if let Some(old) = status.access_key_secret_name.as_deref()
        && old != o.user.access_secret_name()
    {
        steps.push(Step::DeleteAccessSecret { name: old.into() });
    }

    Plan {
        steps,
        pending,
        desired: Some(desired),
    }
}

/// The refusal of a create that met an existing user, as the Ready condition holds it.
fn last_refusal(user: &DashboardUser) -> Option<Blocker> {
    let ready = user.ready_condition().filter(|c| c.status == "False")?;
    [reason::ALREADY_EXISTS, reason::NOT_ALLOWED]
        .into_iter()
        .find(|r| *r == ready.reason)
        .map(|r| Blocker::stalled(r, ready.message.clone()))
}

/// Why an existing remote user with this login is not taken over: adoption is not asked
/// for (AlreadyExists), or the connection does not allow it (NotAllowed).
pub fn existing_user_refusal(
    user: &DashboardUser,
    policy: &Policy,
    desired: &DesiredUser,
) -> Blocker {
    let what = format!(
        "dashboard user with {} {}",
        desired.login_kind(),
        desired.login
    );
    if user.spec.adoption_policy == AdoptionPolicy::IfExists
        && let Err(msg) = policy.check_adoption(&what)
    {
        return Blocker::stalled(
            reason::NOT_ALLOWED,
            format!("a {what} already exists; {msg}"),
        );
    }
    Blocker::stalled(
        reason::ALREADY_EXISTS,
        format!("a {what} already exists and adoptionPolicy is Never; it is left untouched"),
    )
}

/// Why an existing user found for adoption is not taken: another object records it on the
/// same Dashboard (crate::claims), or it holds the connection's own API key.
pub fn adoption_refusal(desired: &DesiredUser, connection: &str, key_owner: bool) -> Blocker {
    if key_owner {
        return Blocker::stalled(
            reason::NOT_ALLOWED,
            format!(
                "dashboard user {} holds the API key of connection {connection}; it is never adopted",
                desired.login
            ),
        );
    }
    Blocker::stalled(
        reason::ALREADY_EXISTS,
        format!(
            "dashboard user {} is already managed by another DashboardUser",
            desired.login
        ),
    )
}

/// The access Secret exists and is not this user's (no controller ownerReference to it):
/// it is left byte for byte as it is, and the user waits for the spec or the Secret to change.
fn foreign_access_secret(o: &Observed<'_>) -> Option<Blocker> {
    o.access_secret.as_ref().filter(|s| !s.owned)?;
    Some(Blocker::stalled(
        reason::SECRET_NOT_OWNED,
        format!(
            "secret {} already exists and was not created for this DashboardUser; it is left as it is: name another accessKeySecret.name, or delete that Secret",
            o.user.access_secret_name()
        ),
    ))
}

/// The access Secret's data for this user, with `access_key` as the key value. The admin
/// users API issues no key: its users' Secret holds only `userId`, `username` and `email`.
pub fn access_secret_data(
    user: &DashboardUser,
    desired: &DesiredUser,
    user_id: &str,
    access_key: &str,
    url: &str,
) -> BTreeMap<String, String> {
    match &desired.profile {
        DesiredProfile::Tyk(t) => BTreeMap::from([
            (user.access_secret_key(), access_key.to_string()),
            ("userId".into(), user_id.to_string()),
            ("email".into(), desired.email.clone()),
            ("orgId".into(), t.org_id.clone()),
            ("dashboardUrl".into(), url.to_string()),
        ]),
        DesiredProfile::AdminUsers { .. } => BTreeMap::from([
            ("userId".into(), user_id.to_string()),
            ("username".into(), desired.login.clone()),
            ("email".into(), desired.email.clone()),
        ]),
    }
}

/// Labels every access Secret carries: the user's own plus the managed-by label.
pub fn access_secret_labels(user: &DashboardUser) -> BTreeMap<String, String> {
    let mut labels = user
        .spec
        .access_key_secret
        .as_ref()
        .map(|s| s.labels.clone())
        .unwrap_or_default();
    labels.insert(
        crate::crd::MANAGED_BY_LABEL.into(),
        crate::crd::MANAGED_BY_VALUE.into(),
    );
    labels
}

fn access_secret_current(
    o: &Observed<'_>,
    desired: &DesiredUser,
    remote: &RemoteUser,
    url: &str,
) -> bool {
    let Some(secret) = &o.access_secret else {
        return false;
    };
    let key_name = o.user.access_secret_key();
    // A hidden key (docs/tyk-dashboard-api.md §10.8) is not a change: keep what the Secret already
    // holds.
    let key = if remote.access_key.0.is_empty() {
        secret
            .data
            .get(&key_name)
            .map(|k| k.0.clone())
            .unwrap_or_default()
    } else {
        remote.access_key.0.clone()
    };
    let want = access_secret_data(o.user, desired, &remote.id, &key, url);
    let have: BTreeMap<String, String> = secret
        .data
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    let want_annotations = o
        .user
        .spec
        .access_key_secret
        .as_ref()
        .map(|s| s.annotations.clone())
        .unwrap_or_default();
    secret.owned
        && have == want
        && access_secret_labels(o.user)
            .iter()
            .all(|(k, v)| secret.labels.get(k) == Some(v))
        && want_annotations
            .iter()
            .all(|(k, v)| secret.annotations.get(k) == Some(v))
}

/// What deleting a DashboardUser does in the Dashboard (docs/design.md §3.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// Nothing to do; `note` explains why (for the event, if any).
    Nothing {
        note: Option<&'static str>,
    },
    Delete,
    /// Deactivate; `fallback` = Delete was asked but there is no API key to delete with.
    Deactivate {
        fallback: bool,
    },
    /// The connection is gone or unusable: let go rather than block namespace deletion.
    Release {
        warning: String,
    },
}

pub fn plan_cleanup(user: &DashboardUser, connection: &ConnectionView) -> Cleanup {
    let has_id = user
        .status
        .as_ref()
        .and_then(|s| s.user_id.as_ref())
        .is_some();
    let unanswered = unanswered_create(user);
    let policy = user.spec.deletion_policy;
    if !has_id && unanswered.is_none() {
        return Cleanup::Nothing {
            note: Some("no dashboard user was ever recorded"),
        };
    }
    if policy == DeletionPolicy::Orphan {
        return Cleanup::Nothing {
            note: Some("deletionPolicy Orphan: the dashboard user is left as is"),
        };
    }
    // A user its connection would refuse now (a super user made before the policy, say)
    // is not deleted or deactivated through it either.
    if let Some(msg) = refused_by_policy(user, connection) {
        return Cleanup::Release {
            warning: format!("finalizer released without touching the dashboard user: {msg}"),
        };
    }
    match connection {
        ConnectionView::Unavailable(b) => Cleanup::Release {
            warning: format!(
                "finalizer released without touching the dashboard: {}",
                b.message
            ),
        },
        // Without an id, the only way to the user is a search by login, which Tyk
        // answers only with the connection's API key.
        ConnectionView::Ready {
            has_api_key: false, ..
        } if !has_id => Cleanup::Release {
            warning: format!(
                "the answer to creating dashboard user {} was lost, and finding it needs the connection's apiKeySecretRef; if the user exists in the dashboard, remove it there",
                unanswered.unwrap_or_default()
            ),
        },
        ConnectionView::Ready { has_api_key, .. } => match policy {
            DeletionPolicy::Delete if *has_api_key => Cleanup::Delete,
            DeletionPolicy::Delete => Cleanup::Deactivate { fallback: true },
            _ => Cleanup::Deactivate { fallback: false },
        },
    }
}

/// The policy's refusal of this user's spec, if any (an invalid spec is not a refusal).
fn refused_by_policy(user: &DashboardUser, connection: &ConnectionView) -> Option<String> {
    let ConnectionView::Ready {
        backend,
        org_id,
        key_org,
        policy,
        ..
    } = connection
    else {
        return None;
    };
    let org = org_id.as_deref().or(key_org.as_deref());
    let d = desired_user(&user.spec, *backend, org).ok()?;
    policy.check(&d.ask(&user.spec)).err()
}

/// The login of a create that was sent but whose answer never came (a dropped
/// connection after the Dashboard committed, docs/design.md §3.2), when no id was recorded
/// since: the user may exist, and only a search by this login finds it.
pub fn unanswered_create(user: &DashboardUser) -> Option<&str> {
    let st = user.status.as_ref()?;
    match (&st.user_id, &st.create_intent) {
        (None, Some(intent)) => Some(intent.email.as_str()),
        _ => None,
    }
}
