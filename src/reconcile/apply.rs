//! The Apply side of a reconcile: observe, plan, execute the steps, write status once.

use kube::{Api, ResourceExt, runtime::controller::Action};

use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{
    self, AccessSecretView, Blocker, ConnectionView, DesiredUser, GroupView, PasswordView, Plan,
    RemoteView, Step, confirmation,
};
use crate::backend::RemoteObject;
use crate::connection::Resolved;
use crate::context::Context;
use crate::crd::{DashboardUser, DashboardUserStatus, reason};
use crate::dashboard::Password;
use crate::reconcile::fingerprint::Fingerprint;
use crate::secrets;
use crate::status::{self, Outcome};

/// Everything one Apply reconcile works with.
pub(super) struct Run<'a> {
    pub(super) ctx: &'a Context,
    pub(super) user: &'a DashboardUser,
    pub(super) api: Api<DashboardUser>,
    /// The status as last written (to skip identical writes).
    pub(super) written: Option<DashboardUserStatus>,
    pub(super) status: DashboardUserStatus,
    pub(super) conn: Option<Resolved>,
    pub(super) desired: Option<DesiredUser>,
    /// The full remote object, as Tyk's admin PUT needs it (docs/tyk-dashboard-api.md §2.3).
    pub(super) remote: Option<RemoteObject>,
    pub(super) password: Option<(Password, Fingerprint)>,
    pub(super) access_secret: Option<AccessSecretView>,
    /// The Dashboard changed during this reconcile (drives `lastSyncTime`).
    pub(super) mutated: bool,
    /// Adopted an existing user: go round again so the next plan compares it.
    pub(super) adopted: bool,
    /// What the plan was given (but the remote user), for the confirmation.
    views: Option<(ConnectionView, PasswordView, GroupView)>,
    /// The digest of those inputs as observed (plan::confirmation).
    inputs: u64,
    /// This reconcile trusted the last confirmation and read nothing from the Dashboard.
    trusted: bool,
    /// This reconcile created the Dashboard user (its Event covers the first password).
    pub(super) created: bool,
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
        status: DashboardUserStatus {
            connection: Some(user.connection_label()),
            ..user.status.clone().unwrap_or_default()
        },
        conn: None,
        desired: None,
        remote: None,
        password: None,
        access_secret: None,
        mutated: false,
        adopted: false,
        views: None,
        inputs: 0,
        trusted: false,
        created: false,
    };
    // No separate first-sight write: the first status a new user gets is the create intent's
    // (Ready=Unknown, Reconciling=True) written before any Dashboard call, or, when the plan
    // blocks it, this reconcile's outcome; never Ready=True, so Flux and Argo CD never take
    // a fresh object for a healthy one (issue 22: one Kubernetes write less per user).
    let result = run.observe_and_execute().await;
    let key = super::backoff_key(user);
    let (outcome, action) = match &result {
        Ok(p) => {
            ctx.succeeded(&key);
            match &p.pending {
                None => (
                    Outcome::Synced {
                        message: "the dashboard user matches the spec".into(),
                    },
                    Action::requeue(ctx.resync(super::CONTROLLER, &key)),
                ),
                // A watched input is missing: the watch brings us back; resync anyway.
                Some(b) if b.stalled => {
                    // Said once as a Warning when it starts (a refusal, a missing Secret),
                    // not on every resync while it lasts.
                    if user.ready_condition().map(|c| c.reason.as_str()) != Some(b.reason) {
                        publish(ctx, user, Note::warning(b.reason, "Reconcile", &b.message)).await;
                    }
                    (
                        Outcome::Blocked(b.clone()),
                        Action::requeue(ctx.resync(super::CONTROLLER, &key)),
                    )
                }
                Some(b) => (
                    Outcome::Blocked(b.clone()),
                    Action::requeue(ctx.backoff(&key)),
                ),
            }
        }
        Err(e) => {
            let b = e.blocker();
            // Handled here (reported as a condition), so count it here too.
            ctx.metrics.failed(super::CONTROLLER, b.reason);
            publish(ctx, user, Note::warning(b.reason, "Reconcile", &b.message)).await;
            let action = if b.stalled {
                Action::requeue(ctx.resync(super::CONTROLLER, &key))
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
    if !run.trusted && result.as_ref().is_ok_and(|p| p.pending.is_none()) {
        // In line with the Dashboard, read or written just now: later reconciles with the
        // same inputs (our own writes' events) need not ask it again before the resync.
        run.confirm();
    } else if result.is_err() || run.adopted {
        ctx.forget_confirmation(&user.uid().unwrap_or_default());
    }
    if let Err(e) = &result {
        tracing::warn!(user = %key, reason = e.category(), error = %super::error::chain(e), "reconcile failed");
    }
    Ok(action)
}

impl Run<'_> {
    pub(super) async fn write_status(&mut self, outcome: &Outcome) -> Result<(), ReconcileError> {
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
                let view = r.view();
                self.status.dashboard = Some(r.dashboard.clone());
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
        self.access_secret = secrets::observe_access_secret(&ctx.client, self.user).await?;
        let foreign = self.access_secret.as_ref().is_some_and(|s| !s.owned);
        ctx.watch_foreign_secret(self.user, foreign.then(|| self.user.access_secret_name()));
        let group = self.observe_group().await?;
        // Nothing the plan reads has changed since the user was last found in line, and no
        // resync is due: the Dashboard is not asked again (plan::confirmation).
        self.inputs = self.inputs_digest(&connection, &password, &group);
        let last = ctx.confirmation(&self.user.uid().unwrap_or_default());
        if confirmation::trusted(
            last.as_ref(),
            self.inputs,
            std::time::Instant::now(),
            ctx.config.resync_period,
        ) {
            self.trusted = true;
            return Ok(Plan {
                steps: vec![],
                pending: None,
                desired: None,
            });
        }
        let remote = match (&self.conn, self.status.user_id.as_deref()) {
            (Some(c), Some(id)) => match c.backend.get(id).await {
                Ok(u) => {
                    let view = u.view();
                    self.remote = Some(u);
                    RemoteView::Found(view)
                }
                Err(e) if e.is_not_found() => RemoteView::NotFound,
                Err(e) => return Err(e.into()),
            },
            _ => RemoteView::NoId,
        };
        let p = plan::plan(&plan::Observed {
            user: self.user,
            now: jiff::Timestamp::now(),
            resync_period: ctx.config.resync_period,
            connection: connection.clone(),
            password: password.clone(),
            access_secret: self.access_secret.clone(),
            remote,
            group: group.clone(),
        });
        self.views = Some((connection, password, group));
        self.desired = p.desired.clone();
        if let Some(d) = &self.desired {
            // Only Tyk has organisations.
            self.status.org_id = d.tyk().map(|t| t.org_id.clone());
        }
        for step in &p.steps {
            self.execute(step).await?;
            if self.adopted {
                break;
            }
        }
        let mut p = p;
        if p.pending.is_none() && !self.adopted && self.access_key_hidden() {
            p.pending = Some(Blocker::stalled(
                reason::ACCESS_KEY_UNAVAILABLE,
                "the dashboard hides this user's access key from the operator's credentials (security.forbid_admin_view_access_token) and none was published before: the access Secret carries no key; the user itself is in line with the spec",
            ));
        }
        Ok(p)
    }

    fn inputs_digest(
        &self,
        connection: &ConnectionView,
        password: &PasswordView,
        group: &GroupView,
    ) -> u64 {
        confirmation::digest(&confirmation::Inputs {
            user: self.user,
            status: &self.status,
            connection,
            connection_fingerprint: self.conn.as_ref().map_or(0, |c| c.fingerprint),
            password,
            access_secret: self.access_secret.as_ref(),
            group,
        })
    }

    /// Records this reconcile's end state (the status and access Secret as written) as the
    /// inputs the next reconcile will see if nothing else changes.
    fn confirm(&self) {
        let Some((connection, password, group)) = &self.views else {
            return;
        };
        let digest = self.inputs_digest(connection, password, group);
        self.ctx.confirm(
            &self.user.uid().unwrap_or_default(),
            confirmation::Confirmation {
                digest,
                at: std::time::Instant::now(),
            },
        );
    }

    async fn observe_group(&self) -> Result<GroupView, ReconcileError> {
        crate::group::observe_group(&self.ctx.client, self.user)
            .await
            .map_err(ReconcileError::kube("read dashboardusergroup"))
    }

    /// A Tyk user whose key the Dashboard did not show, with no earlier copy published.
    fn access_key_hidden(&self) -> bool {
        let tyk = self
            .conn
            .as_ref()
            .is_some_and(|c| c.backend.tyk().is_some());
        let shown = self
            .remote
            .as_ref()
            .is_some_and(|r| !r.access_key().is_empty());
        tyk && self.remote.is_some() && !shown && self.published_key().is_none()
    }

    pub(super) fn conn(&self) -> &Resolved {
        self.conn
            .as_ref()
            .expect("steps are only planned with a usable connection")
    }

    pub(super) fn desired(&self) -> &DesiredUser {
        self.desired
            .as_ref()
            .expect("steps are only planned with a desired user")
    }

    /// Checked again right before each Dashboard write (the plan checked it first): the
    /// connection's policy, that no earlier DashboardUser records this user's id, and that
    /// the id is not the user whose API key the connection holds (taken over by an older
    /// version, or written into status by hand).
    pub(super) async fn guard(&self) -> Result<(), ReconcileError> {
        let c = self.conn();
        if let Err(msg) = c.policy.check(&self.desired().ask(&self.user.spec)) {
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::NOT_ALLOWED,
                msg,
            )));
        }
        if self.ctx.user_id_held_before(self.user, &c.dashboard) {
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::ALREADY_EXISTS,
                "an earlier DashboardUser manages the dashboard user this one records; it is left untouched",
            )));
        }
        if let Some(id) = self.status.user_id.as_deref() {
            // A lookup that fails says nothing either way: the adoption path, which
            // refuses without it, is where the key owner could come in.
            if c.backend.owns_credential(id).await.unwrap_or(false) {
                return Err(ReconcileError::Blocked(Blocker::stalled(
                    reason::NOT_ALLOWED,
                    format!(
                        "the dashboard user this DashboardUser records holds the API key of connection {}; it is left untouched",
                        c.label
                    ),
                )));
            }
        }
        Ok(())
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
}
