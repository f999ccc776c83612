//! The other Dashboard and Secret steps: update, passwords, key rotation, access Secret.

use kube::ResourceExt;
use tracing::info;

use super::apply::Run;
use super::error::ReconcileError;
use super::events::{Note, publish};
use super::plan::{self, PasswordPath};
use crate::dashboard::{AccessKey, DashboardError};
use crate::reconcile::fingerprint::Fingerprint;
use crate::secrets;

impl Run<'_> {
    pub(super) async fn initial_password(
        &mut self,
        via: PasswordPath,
    ) -> Result<(), ReconcileError> {
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

    pub(super) async fn update(
        &mut self,
        fields: bool,
        password: bool,
    ) -> Result<(), ReconcileError> {
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

    pub(super) async fn password_applied(&mut self, fp: Fingerprint) -> Result<(), ReconcileError> {
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

    pub(super) async fn password_failed(
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

    pub(super) async fn rotate(&mut self, request: &str) -> Result<(), ReconcileError> {
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
