//! What the operator would do for each user, decided by the operator's own pure
//! [`plan::plan`] over the same observations a reconcile makes — only reads, never a write.
//!
//! The executor's side effects that decide the next plan are replayed here without doing
//! them: a `Create` step becomes "create", or — when the email already exists — "adopt"
//! followed by a second plan against the found user (as the reconcile re-plans after an
//! adoption), or the `AlreadyExists` the create would end in.

use std::collections::{BTreeMap, BTreeSet};

use kube::ResourceExt;
use rand::RngCore;

use super::CliError;
use super::report::{Action, Problem, UserReport};
use super::target::{Cluster, Target};
use crate::backend::RemoteObject;
use crate::claims::{self, Claim};
use crate::connection::Resolved;
use crate::crd::{DashboardUser, reason};
use crate::reconcile::error::ReconcileError;
use crate::reconcile::fingerprint::{Fingerprint, FingerprintKey};
use crate::reconcile::plan::{
    self, Blocker, ConnectionView, FieldChange, PasswordView, RemoteProfile, RemoteUser,
    RemoteView, Step, TykRemote,
};
use crate::secrets;

/// The operator's default `--resync-period`: how long an `AlreadyExists` waits for a retry.
const RESYNC: std::time::Duration = std::time::Duration::from_secs(600);

pub struct Evaluator<'a> {
    target: &'a Target,
    /// The operator's fingerprint key (read, never created). Without one the operator would
    /// make a new key, so a random one predicts it: stored fingerprints then do not match.
    fingerprint_key: FingerprintKey,
    /// DashboardUsers in the cluster, for "already managed by another DashboardUser".
    live: Vec<DashboardUser>,
    /// (dashboard, user id) claimed by users planned earlier in this run.
    claimed: BTreeSet<(String, String)>,
    /// (connection, org, email) a user planned earlier in this run would create.
    creating: BTreeSet<(String, String, String)>,
    /// Dashboard user ids each connection's plan touches (for `--prune-report`).
    pub seen_ids: BTreeMap<String, BTreeSet<String>>,
    /// (org, email) of every user planned per connection, for `--prune-report`.
    pub creating_emails: BTreeMap<String, BTreeSet<(String, String)>>,
    /// Every connection a user resolved to, by label.
    pub used: BTreeMap<String, Resolved>,
    /// Resolutions per (namespace, connectionRef): they depend on nothing else, and a plan
    /// of thousands of users should not read the same connection and Secrets each time.
    resolved: BTreeMap<(String, String), Result<Resolved, Blocker>>,
}

impl<'a> Evaluator<'a> {
    pub async fn new(target: &'a Target, live: Vec<DashboardUser>) -> Result<Self, CliError> {
        let key = match &target.cluster {
            Some(c) => secrets::load_fingerprint_key(&c.client, &c.operator_namespace).await?,
            None => None,
        };
        let fingerprint_key = key.unwrap_or_else(|| {
            let mut bytes = vec![0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            FingerprintKey::new(bytes)
        });
        Ok(Self {
            target,
            fingerprint_key,
            live,
            claimed: BTreeSet::new(),
            creating: BTreeSet::new(),
            seen_ids: BTreeMap::new(),
            used: BTreeMap::new(),
            resolved: BTreeMap::new(),
            creating_emails: BTreeMap::new(),
        })
    }

    /// The live object with this namespace/name, if the cluster has it.
    pub fn live(&self, ns: &str, name: &str) -> Option<&DashboardUser> {
        self.live
            .iter()
            .find(|u| u.namespace().as_deref() == Some(ns) && u.name_any() == name)
    }

    /// A manifest as the operator would see it once applied (see [`applied`]).
    pub fn as_applied(&self, manifest: &DashboardUser, default_ns: &str) -> DashboardUser {
        let ns = manifest
            .namespace()
            .unwrap_or_else(|| default_ns.to_string());
        applied(manifest, &ns, self.live(&ns, &manifest.name_any()))
    }

    /// The id `spec.groupRef` resolves to, as the operator would see it.
    async fn group(
        &self,
        user: &DashboardUser,
        r: &mut UserReport,
    ) -> Result<plan::GroupView, CliError> {
        if user.spec.group_ref.is_none() {
            return Ok(plan::GroupView::Literal);
        }
        let Some(cluster) = &self.target.cluster else {
            r.notes.push(
                "groupRef not resolved (no cluster with --url): the user waits for it".into(),
            );
            return Ok(plan::GroupView::Waiting(crate::group::group_blocker(
                &user
                    .spec
                    .group_ref
                    .as_ref()
                    .map(|g| g.name.clone())
                    .unwrap_or_default(),
                None,
            )));
        };
        crate::group::observe_group(&cluster.client, user)
            .await
            .map_err(|source| CliError::Kube {
                what: "the user's DashboardUserGroup".into(),
                source,
            })
    }

    /// The connection the operator would use for `user` (or the one given on the command line).
    pub async fn connection(
        &mut self,
        user: &DashboardUser,
    ) -> Result<Result<Resolved, Blocker>, CliError> {
        if let Some(c) = &self.target.fixed {
            return Ok(Ok(c.clone()));
        }
        let key = (user.namespace().unwrap_or_default(), describe_ref(user));
        if let Some(r) = self.resolved.get(&key) {
            return Ok(r.clone());
        }
        let cluster: &Cluster = self
            .target
            .cluster
            .as_ref()
            .expect("without --url there is a cluster");
        let r = cluster.for_user(user).await?;
        self.resolved.insert(key, r.clone());
        Ok(r)
    }

    /// Plans one user as the operator would see it (spec as applied, status as live).
    pub async fn user(&mut self, user: &DashboardUser, source: Option<String>) -> UserReport {
        let mut r = UserReport {
            namespace: user.namespace().unwrap_or_default(),
            name: user.name_any(),
            source,
            email: user.spec.email.clone(),
            ..Default::default()
        };
        if let Err(e) = self.fill(user, &mut r).await {
            r.error = Some(failure(e));
        }
        r
    }

    async fn fill(&mut self, user: &DashboardUser, r: &mut UserReport) -> Result<(), CliError> {
        let conn = self.connection(user).await?;
        r.connection = match &conn {
            Ok(c) => c.label.clone(),
            Err(_) => describe_ref(user),
        };
        if let Ok(c) = &conn {
            self.used
                .entry(c.label.clone())
                .or_insert_with(|| c.clone());
        }
        let (view, resolved) = match conn {
            Ok(c) => (c.view(), Some(c)),
            Err(b) => (ConnectionView::Unavailable(b), None),
        };
        let password = self.password(user, r).await?;
        let status = user.status.clone().unwrap_or_default();
        let remote = match (&resolved, status.user_id.as_deref()) {
            (Some(c), Some(id)) => match c.backend.get(id).await {
                Ok(u) => Some(u),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            },
            _ => None,
        };
        let remote_view_ = match (&remote, status.user_id.is_some() && resolved.is_some()) {
            (Some(u), _) => RemoteView::Found(u.view()),
            (None, true) => RemoteView::NotFound,
            (None, false) => RemoteView::NoId,
        };
        if let (Some(c), Some(u)) = (&resolved, &remote) {
            self.seen_ids
                .entry(c.label.clone())
                .or_default()
                .insert(u.id().to_string());
        }
        let group = self.group(user, r).await?;
        let observed = |user, remote| plan::Observed {
            user,
            now: jiff::Timestamp::now(),
            resync_period: RESYNC,
            connection: view.clone(),
            password: password.clone(),
            // Only Kubernetes-side steps depend on it, and those are not reported.
            access_secret: None,
            remote,
            group: group.clone(),
        };
        let p = plan::plan(&observed(user, remote_view_));
        let mut pending = p.pending.clone();
        for step in &p.steps {
            match step {
                Step::Create {
                    may_adopt,
                    recreate,
                } => {
                    let c = resolved.as_ref().expect("planned only with a connection");
                    let d = p
                        .desired
                        .as_ref()
                        .expect("planned only with a desired user");
                    match self.create(user, c, d, *may_adopt, *recreate, r).await? {
                        Created::New => {}
                        Created::Refused(b) => {
                            r.error = Some(b.into());
                            return Ok(());
                        }
                        Created::Adopted(found) => {
                            // The reconcile goes round again after adopting: so do we.
                            let adopted = adopted_view(user, found.id());
                            let view = found.view();
                            let again =
                                plan::plan(&observed(&adopted, RemoteView::Found(view.clone())));
                            pending = again.pending.clone();
                            for s in &again.steps {
                                self.report_step(s, &again, Some(&view), r);
                            }
                            break;
                        }
                    }
                }
                other => {
                    let remote = remote.as_ref().map(RemoteObject::view);
                    self.report_step(other, &p, remote.as_ref(), r);
                }
            }
        }
        if let Some(b) = pending {
            r.error = Some(b.into());
        }
        Ok(())
    }

    fn report_step(
        &self,
        step: &Step,
        p: &plan::Plan,
        remote: Option<&RemoteUser>,
        r: &mut UserReport,
    ) {
        let id = remote.map(|u| u.id.clone());
        match step {
            Step::InitialPassword { .. } => {
                r.actions.push(Action::new("setPassword", None, vec![]))
            }
            Step::Update { fields, password } => {
                if *fields && let (Some(d), Some(remote)) = (&p.desired, remote) {
                    let changes = d.diff(remote);
                    let deactivates = remote.active && !d.active;
                    let kind = if deactivates { "deactivate" } else { "update" };
                    r.actions.push(Action::new(kind, id.clone(), changes));
                }
                if *password {
                    r.actions.push(Action::new("setPassword", id, vec![]));
                }
            }
            Step::RotateKey { .. } => r.actions.push(Action::new("rotateAccessKey", id, vec![])),
            // Kubernetes-side only (access Secret, fingerprint in status): no Dashboard call.
            Step::RefreshFingerprint
            | Step::WriteAccessSecret
            | Step::DeleteAccessSecret { .. } => {}
            Step::Create { .. } => unreachable!("handled by the caller"),
        }
    }

    /// What `POST /admin/users` would meet (src/reconcile/create.rs), found out by reading.
    async fn create(
        &mut self,
        user: &DashboardUser,
        c: &Resolved,
        d: &plan::DesiredUser,
        may_adopt: bool,
        recreate: bool,
        r: &mut UserReport,
    ) -> Result<Created, CliError> {
        let email_key = (c.label.clone(), d.org_id().to_string(), d.login.clone());
        let taken_here = self.creating.contains(&email_key);
        self.creating_emails
            .entry(c.label.clone())
            .or_default()
            .insert((d.org_id().to_string(), d.login.clone()));
        let found = if c.backend.finds_and_deletes() {
            c.backend.find_by_login(d).await?
        } else {
            r.notes.push(format!(
                "without the connection's API key the plan cannot look the {} up; if a user with it exists, the operator reports AlreadyExists",
                d.login_kind()
            ));
            None
        };
        match found {
            None if taken_here => Ok(Created::Refused(plan::existing_user_refusal(
                user, &c.policy, d,
            ))),
            None => {
                self.creating.insert(email_key);
                let kind = if recreate { "recreate" } else { "create" };
                // Every desired field against nothing (`active` even when false).
                let mut changes = d.diff(&nobody(d));
                if !changes.iter().any(|c| c.field == "active") {
                    changes.push(FieldChange {
                        field: "active".into(),
                        dashboard: serde_json::Value::Null,
                        desired: d.active.into(),
                    });
                }
                for c in &mut changes {
                    c.dashboard = serde_json::Value::Null;
                }
                r.actions.push(Action::new(kind, None, changes));
                Ok(Created::New)
            }
            Some(_) if !may_adopt => Ok(Created::Refused(plan::existing_user_refusal(
                user, &c.policy, d,
            ))),
            Some(found) => {
                let claim = (c.dashboard.clone(), found.id().to_string());
                if self.claimed.contains(&claim)
                    || self.claimed_in_cluster(user, &c.dashboard, found.id())
                {
                    return Ok(Created::Refused(plan::adoption_refusal(d, &c.label, false)));
                }
                // As the reconcile (src/reconcile/create.rs): never the connection's own key.
                if c.backend.owns_credential(found.id()).await? {
                    return Ok(Created::Refused(plan::adoption_refusal(d, &c.label, true)));
                }
                self.claimed.insert(claim);
                self.seen_ids
                    .entry(c.label.clone())
                    .or_default()
                    .insert(found.id().to_string());
                // The search may omit the key (docs/tyk-dashboard-api.md §10.8); the operator reads
                // the full user too.
                let full = c.backend.get(found.id()).await?;
                r.actions
                    .push(Action::new("adopt", Some(full.id().to_string()), vec![]));
                Ok(Created::Adopted(Box::new(full)))
            }
        }
    }

    /// [`crate::context::Context::user_id_claimed`], over the cluster's users.
    fn claimed_in_cluster(&self, me: &DashboardUser, dashboard: &str, id: &str) -> bool {
        claims::held_by_other(
            self.live.iter().map(Claim::of_user),
            &Claim::of_user(me),
            id,
            dashboard,
        )
    }

    async fn password(
        &self,
        user: &DashboardUser,
        r: &mut UserReport,
    ) -> Result<PasswordView, CliError> {
        if user.spec.password_secret_ref.is_none() {
            return Ok(PasswordView::NotManaged);
        }
        let Some(cluster) = &self.target.cluster else {
            r.notes.push(
                "password Secret not checked (no cluster with --url): assumed present".into(),
            );
            // Matches no stored fingerprint: "would set" whenever the operator could.
            return Ok(PasswordView::Present(Fingerprint("unchecked".into())));
        };
        Ok(match secrets::read_password(&cluster.client, user).await? {
            None => PasswordView::NotManaged,
            Some(Err(b)) => PasswordView::Unavailable(b),
            Some(Ok(bytes)) => {
                let uid = user.uid().unwrap_or_default();
                PasswordView::Present(self.fingerprint_key.fingerprint(&uid, &bytes))
            }
        })
    }
}

enum Created {
    New,
    Adopted(Box<RemoteObject>),
    Refused(Blocker),
}

/// A manifest once applied in `ns`: its spec and annotations, the live object's uid and
/// status, and the generation the apply would give it.
fn applied(manifest: &DashboardUser, ns: &str, live: Option<&DashboardUser>) -> DashboardUser {
    let mut u = manifest.clone();
    u.metadata.namespace = Some(ns.to_string());
    match live {
        Some(live) => {
            u.metadata.uid = live.metadata.uid.clone();
            let g = live.metadata.generation.unwrap_or(1);
            // A spec change bumps the generation (and so retries an AlreadyExists at once).
            u.metadata.generation = Some(if live.spec == manifest.spec { g } else { g + 1 });
            u.status = live.status.clone();
        }
        None => {
            u.metadata.uid = None;
            u.metadata.generation = Some(1);
            u.status = None;
        }
    }
    u
}

/// The status right after an adoption (`adopt_found` in src/reconcile/create.rs).
fn adopted_view(user: &DashboardUser, id: &str) -> DashboardUser {
    let mut u = user.clone();
    let s = u.status.get_or_insert_with(Default::default);
    s.user_id = Some(id.to_string());
    s.create_intent = None;
    s.create_conflict = None;
    s.password_fingerprint = None;
    s.rejected_password_fingerprint = None;
    u
}

/// No remote user at all, of the desired user's backend: a create's diff is every field.
fn nobody(d: &plan::DesiredUser) -> RemoteUser {
    RemoteUser {
        id: String::new(),
        login: String::new(),
        email: String::new(),
        active: false,
        access_key: Default::default(),
        profile: match d.profile {
            plan::DesiredProfile::Tyk(_) => RemoteProfile::Tyk(TykRemote::default()),
            plan::DesiredProfile::AdminUsers { .. } => RemoteProfile::AdminUsers { roles: vec![] },
        },
    }
}

fn describe_ref(user: &DashboardUser) -> String {
    let r = user.connection();
    match r.kind {
        crate::crd::ConnectionKind::ClusterDashboardConnection => format!("cluster/{}", r.name),
        crate::crd::ConnectionKind::DashboardConnection => {
            format!("{}/{}", user.namespace().unwrap_or_default(), r.name)
        }
    }
}

/// A read that failed, reported with the reason the reconcile would give it.
fn failure(e: CliError) -> Problem {
    let b = match e {
        CliError::Dashboard(d) => ReconcileError::Dashboard(d).blocker(),
        CliError::Connection {
            reason, message, ..
        } => Blocker::retry(reason, message),
        other => Blocker::retry(
            reason::KUBERNETES_ERROR,
            crate::reconcile::error::chain(&other),
        ),
    };
    b.into()
}

#[cfg(test)]
mod tests;
