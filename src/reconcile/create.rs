//! Creating a Dashboard user without duplicates, even across crashes (docs/design.md §3.2).

use super::apply::Run;
use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{Blocker, DesiredUser, adoption_refusal, existing_user_refusal};
use crate::backend::RemoteObject;
use crate::crd::{CreateConflict, CreateIntent, reason};
use crate::dashboard::DashboardError;
use crate::status::Outcome;

impl Run<'_> {
    pub(super) async fn create(
        &mut self,
        may_adopt: bool,
        recreate: bool,
    ) -> Result<(), ReconcileError> {
        self.guard().await?;
        let d = self.desired().clone();
        // docs/design.md §3.2: the intent is durable before the POST, so a crash right after
        // the Dashboard commits is recognised as ours on the next attempt.
        // A retry after an unknown outcome keeps the original intent: rewriting it (or
        // the conditions) on every attempt would trigger the next attempt at once.
        let retry = self
            .status
            .create_intent
            .as_ref()
            .is_some_and(|i| i.email.eq_ignore_ascii_case(&d.login));
        let backend = self.conn().backend.clone();
        if self.status.create_conflict.is_some() && backend.finds_and_deletes() {
            // Retrying after "already exists": look before writing anything, so a
            // lasting conflict costs one read per resync and no status churn.
            if let Some(found) = backend.find_by_login(&d).await? {
                if may_adopt {
                    return self.adopt_found(&d, found).await;
                }
                return Err(self.already_exists(&d));
            }
        }
        if !retry {
            self.status.create_intent = Some(CreateIntent {
                email: d.login.clone(),
                time: jiff::Timestamp::now().to_string(),
            });
            self.status.user_id = None;
            if self.status.create_conflict.is_some() {
                // Keep the reported AlreadyExists conditions steady while retrying.
                self.write_status(&Outcome::Unchanged).await?;
            } else {
                self.write_status(&Outcome::Progressing {
                    reason: reason::CREATING,
                    message: format!("creating dashboard user {}", d.login),
                })
                .await?;
            }
        }
        let password = self.password.clone();
        match backend.create(&d, password.as_ref().map(|(p, _)| p)).await {
            Ok(u) => {
                self.record_identity(u.id()).await?;
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
                            d.login
                        ),
                    )
                } else {
                    // One Event for the create and its first password (issue 22); a refused
                    // password still gets its own Warning.
                    self.created = true;
                    let with = if self.password.is_some() {
                        ", its password to follow from the password Secret"
                    } else {
                        ""
                    };
                    (
                        "Created",
                        format!("created dashboard user {}{with}", d.login),
                    )
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
            Err(e @ DashboardError::PasswordRejected { .. }) => {
                // The password travels in the create on some backends: nothing was
                // created, and the same password is not sent again until it changes.
                self.status.create_intent = None;
                if let Some((_, fp)) = password {
                    self.status.rejected_password_fingerprint = Some(fp.0);
                }
                Err(e.into())
            }
            Err(e) => {
                // Outcome unknown (commit-then-drop, or a 2xx that does not decode): keep
                // the intent, so the next attempt recognises the user as its own.
                if !e.outcome_unknown() {
                    self.status.create_intent = None;
                }
                Err(e.into())
            }
        }
    }

    pub(super) fn already_exists(&self, d: &DesiredUser) -> ReconcileError {
        ReconcileError::Blocked(existing_user_refusal(self.user, &self.conn().policy, d))
    }

    pub(super) async fn adopt(&mut self, d: &DesiredUser) -> Result<(), ReconcileError> {
        let backend = self.conn().backend.clone();
        if !backend.finds_and_deletes() {
            self.status.create_intent = None;
            self.record_conflict();
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::ALREADY_EXISTS,
                format!(
                    "a dashboard user with email {} exists; adopting it needs the connection's apiKeySecretRef to find it",
                    d.login
                ),
            )));
        }
        let Some(found) = backend.find_by_login(d).await? else {
            return Err(ReconcileError::Blocked(Blocker::retry(
                reason::DASHBOARD_ERROR,
                format!(
                    "the dashboard reports {} exists but no user with that {} was found",
                    d.login,
                    d.login_kind()
                ),
            )));
        };
        self.adopt_found(d, found).await
    }

    pub(super) async fn adopt_found(
        &mut self,
        d: &DesiredUser,
        found: RemoteObject,
    ) -> Result<(), ReconcileError> {
        let backend = self.conn().backend.clone();
        let dashboard = self.conn().dashboard.clone();
        let claimed = self.ctx.user_id_claimed(self.user, &dashboard, found.id());
        // The user whose key the connection signs with is never handed to a namespace:
        // its access key would be published, its password replaced.
        if claimed || backend.owns_credential(found.id()).await? {
            self.status.create_intent = None;
            self.record_conflict();
            return Err(ReconcileError::Blocked(adoption_refusal(
                d,
                &self.conn().label,
                !claimed,
            )));
        }
        // The search may omit the key (docs/tyk-dashboard-api.md §10.8); the admin GET has it.
        let full = backend.get(found.id()).await?;
        self.record_identity(full.id()).await?;
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
                &format!("adopted existing dashboard user {}", d.login),
            ),
        )
        .await;
        Ok(())
    }

    pub(super) fn record_conflict(&mut self) {
        self.status.create_conflict = Some(CreateConflict {
            generation: self.user.metadata.generation.unwrap_or_default(),
            time: jiff::Timestamp::now().to_string(),
        });
    }

    /// Durably records the remote id right after it is known (docs/design.md §3.2).
    pub(super) async fn record_identity(&mut self, id: &str) -> Result<(), ReconcileError> {
        self.status.user_id = Some(id.to_string());
        self.status.create_intent = None;
        self.status.create_conflict = None;
        self.write_status(&Outcome::Progressing {
            reason: reason::CREATING,
            message: "dashboard user exists; finishing setup".into(),
        })
        .await
    }
}
