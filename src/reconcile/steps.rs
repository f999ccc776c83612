//! The other Dashboard and Secret steps: update, passwords, key rotation, access Secret.

use kube::ResourceExt;
use tracing::info;

use super::apply::Run;
use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{self, AccessSecretView, PasswordPath, Redacted};
use crate::dashboard::{AccessKey, DashboardError};
use crate::reconcile::fingerprint::Fingerprint;
use crate::secrets;

impl Run<'_> {
    pub(super) async fn initial_password(
        &mut self,
        via: PasswordPath,
    ) -> Result<(), ReconcileError> {
        self.guard().await?;
        match via {
            PasswordPath::WithCreate => {
                // The create request carried it; it would have failed otherwise.
                let (_, fp) = self.password.clone().expect("planned only with a password");
                return self.password_applied(fp).await;
            }
            PasswordPath::SelfReset => {
                let (pw, fp) = self.password.clone().expect("planned only with a password");
                let backend = self.conn().backend.clone();
                let remote = self.remote.clone().expect("created just before");
                // Planned only on Tyk connections: the self-reset is Tyk's bootstrap path.
                if let (Some(client), Some(u)) = (backend.tyk(), remote.tyk()) {
                    match client
                        .reset_password_as_user(&u.id, &u.access_key, &pw, None)
                        .await
                    {
                        Ok(()) => return self.password_applied(fp).await,
                        // OPA may refuse the self-reset (docs/tyk-dashboard-api.md §3.6): try the
                        // admin path.
                        Err(DashboardError::Forbidden { .. }) => {}
                        Err(e) => return self.password_failed(e, &fp).await,
                    }
                }
            }
            PasswordPath::AdminPut => {}
        }
        self.update(false, true).await
    }

    pub(super) async fn update(
        &mut self,
        fields: bool,
        password: bool,
    ) -> Result<(), ReconcileError> {
        self.guard().await?;
        let d = self.desired().clone();
        let mut current = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        let published = self.published_key();
        if let Some(u) = current.tyk_mut()
            && u.access_key.is_empty()
            && let Some(k) = published
        {
            // The admin PUT needs the key (docs/tyk-dashboard-api.md §2.3); use the one we
            // published if hidden.
            u.access_key = AccessKey::new(k);
        }
        let pw = if password {
            self.password.clone()
        } else {
            None
        };
        let backend = self.conn().backend.clone();
        let updated = match backend
            .update(&current, fields.then_some(&d), pw.as_ref().map(|(p, _)| p))
            .await
        {
            Ok(u) => u,
            Err(e) if pw.is_some() && matches!(e, DashboardError::PasswordRejected { .. }) => {
                let fp = pw.expect("checked").1;
                return self.password_failed(e, &fp).await;
            }
            Err(e) => return Err(e.into()),
        };
        self.remote = Some(updated);
        self.mutated = true;
        if fields {
            publish(
                self.ctx,
                self.user,
                Note::normal(
                    "Updated",
                    "Update",
                    &format!("updated dashboard user {} to match the spec", d.login),
                ),
            )
            .await;
        }
        if let Some((_, fp)) = pw {
            self.password_applied(fp).await?;
        }
        Ok(())
    }

    pub(super) async fn password_applied(&mut self, fp: Fingerprint) -> Result<(), ReconcileError> {
        self.status.password_fingerprint = Some(fp.0);
        self.status.rejected_password_fingerprint = None;
        self.mutated = true;
        if self.created {
            // The `Created` Event already says the first password follows the Secret.
            return Ok(());
        }
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

    pub(super) async fn password_failed(
        &mut self,
        e: DashboardError,
        fp: &Fingerprint,
    ) -> Result<(), ReconcileError> {
        if matches!(e, DashboardError::PasswordRejected { .. }) {
            // Not retried until the Secret changes: Tyk would refuse it again
            // (docs/tyk-dashboard-api.md §3.6).
            self.status.rejected_password_fingerprint = Some(fp.0.clone());
        }
        Err(e.into())
    }

    pub(super) async fn rotate(&mut self, request: &str) -> Result<(), ReconcileError> {
        self.guard().await?;
        let mut remote = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        let backend = self.conn().backend.clone();
        // Planned only on Tyk connections: the only backend with access keys.
        let (Some(client), Some(u)) = (backend.tyk(), remote.tyk_mut()) else {
            return Ok(());
        };
        let own = if u.access_key.is_empty() {
            self.published_key().map(AccessKey::new).unwrap_or_default()
        } else {
            u.access_key.clone()
        };
        u.access_key = client.rotate_access_key(&u.id, &own).await?;
        self.remote = Some(remote);
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

    pub(super) fn published_key(&self) -> Option<String> {
        self.access_secret
            .as_ref()?
            .data
            .get(&self.user.access_secret_key())
            .map(|v| v.0.clone())
            .filter(|k| !k.is_empty())
    }

    pub(super) async fn write_access_secret(&mut self) -> Result<(), ReconcileError> {
        let remote = self
            .remote
            .clone()
            .expect("planned only with a remote user");
        let key = if remote.access_key().is_empty() {
            self.published_key().unwrap_or_default()
        } else {
            remote.access_key().to_string()
        };
        let conn_url = self.conn().url.clone();
        let data =
            plan::access_secret_data(self.user, self.desired(), remote.id(), &key, &conn_url);
        let existed = self.access_secret.is_some();
        // The plan writes only a Secret that is absent or ours (SecretNotOwned otherwise).
        let read_version = self
            .access_secret
            .as_ref()
            .filter(|s| s.owned)
            .map(|s| s.resource_version.as_str());
        let labels = plan::access_secret_labels(self.user);
        secrets::apply_access_secret(
            &self.ctx.client,
            self.user,
            data.clone(),
            labels.clone(),
            read_version,
        )
        .await?;
        // As the server now holds it (for the confirmation: plan::confirmation).
        self.access_secret = Some(AccessSecretView {
            data: data.into_iter().map(|(k, v)| (k, Redacted(v))).collect(),
            labels,
            annotations: self
                .user
                .spec
                .access_key_secret
                .as_ref()
                .map(|s| s.annotations.clone())
                .unwrap_or_default(),
            owned: true,
            resource_version: String::new(),
        });
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
