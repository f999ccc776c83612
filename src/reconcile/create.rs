//! Creating a Dashboard user without duplicates, even across crashes (DESIGN §3.2).

use super::apply::Run;
use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{Blocker, DesiredUser};
use crate::crd::{CreateConflict, CreateIntent, reason};
use crate::dashboard::{NewUser, User};
use crate::status::Outcome;

impl Run<'_> {
    pub(super) async fn create(
        &mut self,
        may_adopt: bool,
        recreate: bool,
    ) -> Result<(), ReconcileError> {
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

    pub(super) fn already_exists(&self, d: &DesiredUser) -> ReconcileError {
        ReconcileError::Blocked(Blocker::stalled(
            reason::ALREADY_EXISTS,
            format!(
                "a dashboard user with email {} already exists and adoptionPolicy is Never; it is left untouched",
                d.email
            ),
        ))
    }

    pub(super) async fn adopt(&mut self, d: &DesiredUser) -> Result<(), ReconcileError> {
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

    pub(super) async fn adopt_found(
        &mut self,
        d: &DesiredUser,
        found: User,
    ) -> Result<(), ReconcileError> {
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

    pub(super) fn record_conflict(&mut self) {
        self.status.create_conflict = Some(CreateConflict {
            generation: self.user.metadata.generation.unwrap_or_default(),
            time: jiff::Timestamp::now().to_string(),
        });
    }

    /// Durably records the remote id right after it is known (DESIGN §3.2).
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
