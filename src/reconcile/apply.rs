//! The Apply side of a reconcile: observe, plan, execute the steps, write status once.

use std::collections::BTreeMap;

use kube::{Api, ResourceExt, runtime::controller::Action};
use tracing::info;

use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{
    self, AccessSecretView, Blocker, ConnectionView, DesiredUser, PasswordPath, PasswordView, Plan,
    Redacted, RemoteUser, RemoteView, Step,
};
use crate::connection::Resolved;
use crate::context::Context;
use crate::crd::{CreateConflict, CreateIntent, DashboardUser, DashboardUserStatus, reason};
use crate::dashboard::{AccessKey, DashboardError, NewUser, Password, User};
use crate::reconcile::fingerprint::Fingerprint;
use crate::secrets;
use crate::status::{self, Outcome};

/// Everything one Apply reconcile works with.
struct Run<'a> {
    ctx: &'a Context,
    user: &'a DashboardUser,
    api: Api<DashboardUser>,
    /// The status as last written (to skip identical writes).
    written: Option<DashboardUserStatus>,
    status: DashboardUserStatus,
    conn: Option<Resolved>,
    desired: Option<DesiredUser>,
    /// The full remote object, as the admin PUT needs it (tyk-dashboard-api.md §2.3).
    remote: Option<User>,
    password: Option<(Password, Fingerprint)>,
    access_secret: Option<AccessSecretView>,
    /// The Dashboard changed during this reconcile (drives `lastSyncTime`).
    mutated: bool,
    /// Adopted an existing user: go round again so the next plan compares it.
    adopted: bool,
}

pub async fn apply(user: &DashboardUser, ctx: &Context) -> Result<Action, ReconcileError> {
    let ns = user.namespace().unwrap_or_default();
    let api: Api<DashboardUser> = Api::namespaced(ctx.client.clone(), &ns);
    ctx.index_password_secret(user);
    let mut run = Run {
        ctx,
        user,
        api,
        written: user.status.clone(),
        status: user.status.clone().unwrap_or_default(),
        conn: None,
        desired: None,
        remote: None,
        password: None,
        access_secret: None,
        mutated: false,
        adopted: false,
    };
    if user.status.is_none() {
        // Status on first sight, so Flux/Argo never take a fresh object for healthy.
        run.write_status(&Outcome::Pending).await?;
    }
    let result = run.observe_and_execute().await;
    let key = format!("{ns}/{}", user.name_any());
    let (outcome, action) = match &result {
        Ok(p) => {
            ctx.succeeded(&key);
            match &p.pending {
                None => (
                    Outcome::Synced {
                        message: "the dashboard user matches the spec".into(),
                    },
                    Action::requeue(ctx.resync()),
                ),
                // A watched input is missing: the watch brings us back; resync anyway.
                Some(b) if b.stalled => {
                    (Outcome::Blocked(b.clone()), Action::requeue(ctx.resync()))
                }
                Some(b) => (
                    Outcome::Blocked(b.clone()),
                    Action::requeue(ctx.backoff(&key)),
                ),
            }
        }
        Err(e) => {
            let b = e.blocker();
            publish(ctx, user, Note::warning(b.reason, "Reconcile", &b.message)).await;
            let action = if b.stalled {
                Action::requeue(ctx.resync())
            } else {
                Action::requeue(ctx.backoff(&key))
            };
            (Outcome::Blocked(b), action)
        }
    };
    if run.adopted && result.is_ok() {
        run.write_status(&Outcome::Progressing {
            reason: reason::UPDATING,
            message: "adopted an existing dashboard user".into(),
        })
        .await?;
        return Ok(Action::requeue(std::time::Duration::from_millis(100)));
    }
    if run.mutated || (result.is_ok() && run.status.last_sync_time.is_none()) {
        run.status.last_sync_time = Some(jiff::Timestamp::now().to_string());
    }
    run.write_status(&outcome).await?;
    if let Err(e) = &result {
        tracing::warn!(user = %key, reason = e.category(), error = %super::error::chain(e), "reconcile failed");
    }
    Ok(action)
}

impl Run<'_> {
    async fn write_status(&mut self, outcome: &Outcome) -> Result<(), ReconcileError> {
        self.status.observed_generation = self.user.metadata.generation;
        self.status.conditions = status::conditions(
            &self.status.conditions,
            self.user.metadata.generation,
            outcome,
        );
        status::apply(&self.api, self.user, self.written.as_ref(), &self.status)
            .await
            .map_err(ReconcileError::kube("write status"))?;
        self.written = Some(self.status.clone());
        Ok(())
    }

    async fn observe_and_execute(&mut self) -> Result<Plan, ReconcileError> {
        let ctx = self.ctx;
        let connection = match ctx.resolver().for_user(self.user).await? {
            Ok(r) => {
                let view = ConnectionView::Ready {
                    url: r.url.clone(),
                    org_id: r.org_id.clone(),
                    has_api_key: r.client.has_api_key(),
                };
                self.conn = Some(r);
                view
            }
            Err(b) => ConnectionView::Unavailable(b),
        };
        let password = match secrets::read_password(&ctx.client, self.user).await? {
            None => PasswordView::NotManaged,
            Some(Err(b)) => PasswordView::Unavailable(b),
            Some(Ok(bytes)) => {
                let key = ctx.fingerprint_key().await?;
                let fp = key.fingerprint(&self.user.uid().unwrap_or_default(), &bytes);
                self.password = Some((
                    Password::new(String::from_utf8_lossy(&bytes).into_owned()),
                    fp.clone(),
                ));
                PasswordView::Present(fp)
            }
        };
        let remote = match (&self.conn, self.status.user_id.as_deref()) {
            (Some(c), Some(id)) => match c.client.get_user(id).await {
                Ok(u) => {
                    let view = remote_view(&u);
                    self.remote = Some(u);
                    RemoteView::Found(view)
                }
                Err(e) if e.is_not_found() => RemoteView::NotFound,
                Err(e) => return Err(e.into()),
            },
            _ => RemoteView::NoId,
        };
        self.access_secret = secrets::observe_access_secret(&ctx.client, self.user).await?;
        let p = plan::plan(&plan::Observed {
            user: self.user,
            now: jiff::Timestamp::now(),
            resync_period: ctx.config.resync_period,
            connection,
            password,
            access_secret: self.access_secret.clone(),
            remote,
        });
        self.desired = p.desired.clone();
        if let Some(d) = &self.desired {
            self.status.org_id = Some(d.org_id.clone());
        }
        for step in &p.steps {
            self.execute(step).await?;
            if self.adopted {
                break;
            }
        }
        Ok(p)
    }

    fn conn(&self) -> &Resolved {
        self.conn
            .as_ref()
            .expect("steps are only planned with a usable connection")
    }

    fn desired(&self) -> &DesiredUser {
        self.desired
            .as_ref()
            .expect("steps are only planned with a desired user")
    }

    async fn execute(&mut self, step: &Step) -> Result<(), ReconcileError> {
        match step {
            Step::Create {
                may_adopt,
                recreate,
            } => self.create(*may_adopt, *recreate).await,
            Step::InitialPassword { via } => self.initial_password(*via).await,
            Step::Update { fields, password } => self.update(*fields, *password).await,
            Step::RefreshFingerprint => {
                if let Some((_, fp)) = &self.password {
                    self.status.password_fingerprint = Some(fp.0.clone());
                }
                publish(
                    self.ctx,
                    self.user,
                    Note::warning(
                        "PasswordFingerprintKeyChanged",
                        "RefreshFingerprint",
                        "the fingerprint key was replaced; the current password is assumed applied and was not re-sent",
                    ),
                )
                .await;
                Ok(())
            }
            Step::RotateKey { request } => self.rotate(request).await,
            Step::WriteAccessSecret => self.write_access_secret().await,
            Step::DeleteAccessSecret { name } => {
                secrets::delete_owned_secret(&self.ctx.client, self.user, name).await?;
                Ok(())
            }
        }
    }

    async fn create(&mut self, may_adopt: bool, recreate: bool) -> Result<(), ReconcileError> {
        let d = self.desired().clone();
        // DESIGN §3.2: the intent is durable before the POST, so a crash right after
        // the Dashboard commits is recognised as ours on the next attempt.
        // A retry after an unknown outcome keeps the original intent: rewriting it (or
        // the conditions) on every attempt would trigger the next attempt at once.
        let retry = self
            .status
            .create_intent
            .as_ref()
            .is_some_and(|i| i.email.eq_ignore_ascii_case(&d.email));
        let client = self.conn().client.clone();
        let org = (!d.org_id.is_empty()).then_some(d.org_id.clone());
        if self.status.create_conflict.is_some() && client.has_api_key() {
            // Retrying after "already exists": look before writing anything, so a
            // lasting conflict costs one read per resync and no status churn.
            if let Some(found) = client.find_user_by_email(&d.email, org.as_deref()).await? {
                if may_adopt {
                    return self.adopt_found(&d, found).await;
                }
                return Err(self.already_exists(&d));
            }
        }
        if !retry {
            self.status.create_intent = Some(CreateIntent {
                email: d.email.clone(),
                time: jiff::Timestamp::now().to_string(),
            });
            self.status.user_id = None;
            if self.status.create_conflict.is_some() {
                // Keep the reported AlreadyExists conditions steady while retrying.
                self.write_status(&Outcome::Unchanged).await?;
            } else {
                self.write_status(&Outcome::Progressing {
                    reason: reason::CREATING,
                    message: format!("creating dashboard user {}", d.email),
                })
                .await?;
            }
        }
        let new = NewUser {
            org_id: d.org_id.clone(),
            first_name: d.first_name.clone(),
            last_name: d.last_name.clone(),
            email_address: d.email.clone(),
            active: d.active,
            user_permissions: d.permissions.clone().unwrap_or_default(),
            group_id: d.group_id.clone(),
            password_max_days: d.password_max_days,
        };
        match client.create_user(&new).await {
            Ok(created) => {
                let mut u = created.user;
                if u.access_key.is_empty() {
                    u.access_key = created.access_key;
                }
                self.record_identity(&u.id).await?;
                self.status.password_fingerprint = None;
                self.status.rejected_password_fingerprint = None;
                // A brand-new key needs no rotation for a pending request.
                self.status.rotated_access_key = self.user.rotation_request().map(String::from);
                self.remote = Some(u);
                self.mutated = true;
                let (reason, note) = if recreate {
                    (
                        "UserRecreated",
                        format!(
                            "dashboard user {} was deleted in the dashboard and has been recreated",
                            d.email
                        ),
                    )
                } else {
                    ("Created", format!("created dashboard user {}", d.email))
                };
                publish(self.ctx, self.user, Note::normal(reason, "Create", &note)).await;
                Ok(())
            }
            Err(e) if e.is_already_exists() && may_adopt => self.adopt(&d).await,
            Err(e) if e.is_already_exists() => {
                // Nothing was created: forget the intent, or a retry would adopt it.
                self.status.create_intent = None;
                self.record_conflict();
                Err(self.already_exists(&d))
            }
            Err(e) => {
                // Only a transport failure leaves the outcome unknown (commit-then-drop):
                // keep the intent for those; anything else certainly created nothing.
                if !e.is_transient() {
                    self.status.create_intent = None;
                }
                Err(e.into())
            }
        }
    }

    fn already_exists(&self, d: &DesiredUser) -> ReconcileError {
        ReconcileError::Blocked(Blocker::stalled(
            reason::ALREADY_EXISTS,
            format!(
                "a dashboard user with email {} already exists and adoptionPolicy is Never; it is left untouched",
                d.email
            ),
        ))
    }

    async fn adopt(&mut self, d: &DesiredUser) -> Result<(), ReconcileError> {
        let client = self.conn().client.clone();
        if !client.has_api_key() {
            self.status.create_intent = None;
            self.record_conflict();
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::ALREADY_EXISTS,
                format!(
                    "a dashboard user with email {} exists; adopting it needs the connection's apiKeySecretRef to find it",
                    d.email
                ),
            )));
        }
        let org = (!d.org_id.is_empty()).then_some(d.org_id.as_str());
        let Some(found) = client.find_user_by_email(&d.email, org).await? else {
            return Err(ReconcileError::Blocked(Blocker::retry(
                reason::DASHBOARD_ERROR,
                format!(
                    "the dashboard reports {} exists but no user with that email was found",
                    d.email
                ),
            )));
        };
        self.adopt_found(d, found).await
    }

    async fn adopt_found(&mut self, d: &DesiredUser, found: User) -> Result<(), ReconcileError> {
        let client = self.conn().client.clone();
        if self.ctx.user_id_claimed(self.user, &found.id) {
            self.status.create_intent = None;
            self.record_conflict();
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::ALREADY_EXISTS,
                format!(
                    "dashboard user {} is already managed by another DashboardUser",
                    d.email
                ),
            )));
        }
        // The search may omit the key (§10.8); the admin GET has it.
        let full = client.get_user(&found.id).await?;
        self.record_identity(&full.id).await?;
        self.status.password_fingerprint = None;
        self.status.rejected_password_fingerprint = None;
        self.remote = Some(full);
        self.adopted = true;
        publish(
            self.ctx,
            self.user,
            Note::normal(
                "Adopted",
                "Adopt",
                &format!("adopted existing dashboard user {}", d.email),
            ),
        )
        .await;
        Ok(())
    }

    fn record_conflict(&mut self) {
        self.status.create_conflict = Some(CreateConflict {
            generation: self.user.metadata.generation.unwrap_or_default(),
            time: jiff::Timestamp::now().to_string(),
        });
    }

    /// Durably records the remote id right after it is known (DESIGN §3.2).
    async fn record_identity(&mut self, id: &str) -> Result<(), ReconcileError> {
        self.status.user_id = Some(id.to_string());
        self.status.create_intent = None;
        self.status.create_conflict = None;
        self.write_status(&Outcome::Progressing {
            reason: reason::CREATING,
            message: "dashboard user exists; finishing setup".into(),
        })
        .await
    }

    async fn initial_password(&mut self, via: PasswordPath) -> Result<(), ReconcileError> {
        if via == PasswordPath::SelfReset {
            let (pw, fp) = self.password.clone().expect("planned only with a password");
            let remote = self.remote.clone().expect("created just before");
            let client = self.conn().client.clone();
            match client
                .reset_password_as_user(&remote.id, &remote.access_key, &pw, None)
                .await
            {
                Ok(()) => return self.password_applied(fp).await,
                // OPA may refuse the self-reset (tyk-dashboard-api.md §3.6): try the admin path.
                Err(DashboardError::Forbidden { .. }) => {}
                Err(e) => return self.password_failed(e, &fp).await,
            }
        }
        self.update(false, true).await
    }

    async fn update(&mut self, fields: bool, password: bool) -> Result<(), ReconcileError> {
        let d = self.desired().clone();
        let mut u = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        if fields {
            u.email_address = d.email.clone();
            u.first_name = d.first_name.clone();
            u.last_name = d.last_name.clone();
            u.org_id = d.org_id.clone();
            u.active = d.active;
            u.group_id = d.group_id.clone();
            u.user_permissions = d.permissions_for_put(&u.user_permissions);
            if let Some(days) = d.password_max_days {
                u.password_max_days = days;
            }
        }
        if u.access_key.is_empty() {
            // The admin PUT needs the key (§2.3); use the one we published if hidden.
            if let Some(k) = self.published_key() {
                u.access_key = AccessKey::new(k);
            }
        }
        let pw = if password {
            self.password.clone()
        } else {
            None
        };
        let client = self.conn().client.clone();
        match client.update_user(&u, pw.as_ref().map(|(p, _)| p)).await {
            Ok(()) => {}
            Err(e) if pw.is_some() && matches!(e, DashboardError::PasswordRejected { .. }) => {
                let fp = pw.expect("checked").1;
                return self.password_failed(e, &fp).await;
            }
            Err(e) => return Err(e.into()),
        }
        self.remote = Some(u);
        self.mutated = true;
        if fields {
            publish(
                self.ctx,
                self.user,
                Note::normal(
                    "Updated",
                    "Update",
                    &format!("updated dashboard user {} to match the spec", d.email),
                ),
            )
            .await;
        }
        if let Some((_, fp)) = pw {
            self.password_applied(fp).await?;
        }
        Ok(())
    }

    async fn password_applied(&mut self, fp: Fingerprint) -> Result<(), ReconcileError> {
        self.status.password_fingerprint = Some(fp.0);
        self.status.rejected_password_fingerprint = None;
        self.mutated = true;
        publish(
            self.ctx,
            self.user,
            Note::normal(
                "PasswordSet",
                "SetPassword",
                "password set from the password Secret",
            ),
        )
        .await;
        Ok(())
    }

    async fn password_failed(
        &mut self,
        e: DashboardError,
        fp: &Fingerprint,
    ) -> Result<(), ReconcileError> {
        if matches!(e, DashboardError::PasswordRejected { .. }) {
            // Not retried until the Secret changes: Tyk would refuse it again (§3.6).
            self.status.rejected_password_fingerprint = Some(fp.0.clone());
        }
        Err(e.into())
    }

    async fn rotate(&mut self, request: &str) -> Result<(), ReconcileError> {
        let remote = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        let own = if remote.access_key.is_empty() {
            self.published_key().map(AccessKey::new).unwrap_or_default()
        } else {
            remote.access_key.clone()
        };
        let client = self.conn().client.clone();
        let new_key = client.rotate_access_key(&remote.id, &own).await?;
        let mut u = remote;
        u.access_key = new_key;
        self.remote = Some(u);
        self.status.rotated_access_key = Some(request.to_string());
        self.mutated = true;
        publish(
            self.ctx,
            self.user,
            Note::normal(
                "AccessKeyRotated",
                "RotateKey",
                "access key rotated on request",
            ),
        )
        .await;
        Ok(())
    }

    fn published_key(&self) -> Option<String> {
        self.access_secret
            .as_ref()?
            .data
            .get(&self.user.access_secret_key())
            .map(|v| v.0.clone())
            .filter(|k| !k.is_empty())
    }

    async fn write_access_secret(&mut self) -> Result<(), ReconcileError> {
        let remote = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        let key = if remote.access_key.is_empty() {
            self.published_key().unwrap_or_default()
        } else {
            remote.access_key.expose().to_string()
        };
        let conn_url = self.conn().url.clone();
        let data = plan::access_secret_data(self.user, self.desired(), &remote.id, &key, &conn_url);
        let existed = self.access_secret.is_some();
        secrets::apply_access_secret(
            &self.ctx.client,
            self.user,
            data,
            plan::access_secret_labels(self.user),
        )
        .await?;
        self.status.access_key_secret_name = Some(self.user.access_secret_name());
        info!(
            user = %self.user.name_any(),
            secret = %self.user.access_secret_name(),
            restored = existed,
            "access secret written"
        );
        Ok(())
    }
}

/// The fields the plan compares, from the wire object.
pub fn remote_view(u: &User) -> RemoteUser {
    RemoteUser {
        id: u.id.clone(),
        org_id: u.org_id.clone(),
        email: u.email_address.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        active: u.active,
        group_id: u.group_id.clone(),
        permissions: u
            .user_permissions
            .clone()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        password_max_days: u.password_max_days,
        access_key: Redacted(u.access_key.expose().to_string()),
    }
}
