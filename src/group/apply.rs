//! The Apply side of a group reconcile: observe, plan, one step, status once.

use kube::{Api, ResourceExt, runtime::controller::Action};

use super::plan::{self, DesiredGroup, Observed, Plan, RemoteGroup, Step};
use crate::context::Context;
use crate::crd::{DashboardUserGroup, DashboardUserGroupStatus, GroupCreateIntent, reason};
use crate::dashboard::Group;
use crate::reconcile::events::{Note, publish};
use crate::reconcile::plan::{Blocker, ConnectionView, permissions_for_put};
use crate::reconcile::{ReconcileError, error::chain};
use crate::status::{self, Outcome};

struct Run<'a> {
    ctx: &'a Context,
    group: &'a DashboardUserGroup,
    api: Api<DashboardUserGroup>,
    written: Option<DashboardUserGroupStatus>,
    status: DashboardUserGroupStatus,
    mutated: bool,
}

pub async fn apply(g: &DashboardUserGroup, ctx: &Context) -> Result<Action, ReconcileError> {
    let ns = g.namespace().unwrap_or_default();
    let mut run = Run {
        ctx,
        group: g,
        api: Api::namespaced(ctx.client.clone(), &ns),
        written: g.status.clone(),
        status: g.status.clone().unwrap_or_default(),
        mutated: false,
    };
    if g.status.is_none() {
        run.write(&Outcome::Pending).await?;
    }
    let key = crate::reconcile::backoff_key(g);
    let result = run.observe_and_act().await;
    let (outcome, action) = match result {
        Ok(()) => {
            ctx.succeeded(&key);
            (
                Outcome::Synced {
                    message: "the dashboard group matches the spec".into(),
                },
                Action::requeue(ctx.resync(super::CONTROLLER, &key)),
            )
        }
        Err(e) => {
            let b = e.blocker();
            ctx.metrics.failed(super::CONTROLLER, b.reason);
            publish(ctx, g, Note::warning(b.reason, "Reconcile", &b.message)).await;
            tracing::warn!(group = %key, reason = b.reason, error = %chain(&e), "group reconcile failed");
            let action = if b.stalled {
                Action::requeue(ctx.resync(super::CONTROLLER, &key))
            } else {
                Action::requeue(ctx.backoff(&key))
            };
            (Outcome::Blocked(b), action)
        }
    };
    if run.mutated || (outcome_is_synced(&outcome) && run.status.last_sync_time.is_none()) {
        run.status.last_sync_time = Some(jiff::Timestamp::now().to_string());
    }
    run.write(&outcome).await?;
    Ok(action)
}

fn outcome_is_synced(o: &Outcome) -> bool {
    matches!(o, Outcome::Synced { .. })
}

impl Run<'_> {
    async fn write(&mut self, outcome: &Outcome) -> Result<(), ReconcileError> {
        self.status.observed_generation = self.group.metadata.generation;
        self.status.conditions = status::conditions(
            &self.status.conditions,
            self.group.metadata.generation,
            outcome,
        );
        status::apply(&self.api, self.group, self.written.as_ref(), &self.status)
            .await
            .map_err(ReconcileError::kube("write group status"))?;
        self.written = Some(self.status.clone());
        Ok(())
    }

    async fn observe_and_act(&mut self) -> Result<(), ReconcileError> {
        let ns = self.group.namespace().unwrap_or_default();
        let resolved = self
            .ctx
            .resolver()
            .for_ref(&ns, &self.group.connection())
            .await?;
        let (connection, conn) = match resolved {
            Ok(r) => (r.view(), Some(r)),
            Err(b) => (ConnectionView::Unavailable(b), None),
        };
        if let Some(r) = &conn {
            self.status.dashboard = Some(r.dashboard.clone());
        }
        let usable = conn
            .as_ref()
            .and_then(|r| r.backend.tyk())
            .filter(|c| c.has_api_key());
        let mut remote = match (usable, self.group.group_id()) {
            (Some(c), Some(id)) => match c.get_group(id).await {
                Ok(g) => RemoteGroup::Found(g),
                Err(e) if e.is_not_found() => RemoteGroup::NotFound,
                Err(e) => return Err(e.into()),
            },
            _ => RemoteGroup::NoId,
        };
        let dashboard = conn
            .as_ref()
            .map(|r| r.dashboard.clone())
            .unwrap_or_default();
        let claimed = self.ctx.group_ids_claimed(self.group, &dashboard);
        // At most: adopt, then update the adopted group. Bounded, never a loop.
        for _ in 0..2 {
            let same_name = match (&remote, usable) {
                (RemoteGroup::Found(_), _) | (_, None) => vec![],
                (_, Some(c)) => {
                    let want = self.group.spec.name.trim();
                    let mut all = c.list_groups().await?;
                    all.retain(|g| g.name == want);
                    all
                }
            };
            let p = plan::plan(&Observed {
                group: self.group,
                connection: connection.clone(),
                remote: remote.clone(),
                same_name,
                claimed: claimed.clone(),
            });
            let (step, desired) = match p {
                Plan::Blocked(b) => return Err(ReconcileError::Blocked(b)),
                Plan::Act(step, d) => (step, d),
            };
            let client = usable.expect("planned only with a Tyk connection and its API key");
            if step.is_some() {
                let policy = &conn.as_ref().expect("planned with a connection").policy;
                self.guard(policy, &desired, &dashboard)?;
            }
            match step {
                None => {
                    if let RemoteGroup::Found(r) = &remote {
                        self.record(&r.id, &r.org_id);
                    }
                    return Ok(());
                }
                Some(Step::Adopt(found)) => {
                    self.record(&found.id, &found.org_id);
                    self.write(&Outcome::Unchanged).await?;
                    self.note(
                        "Adopted",
                        &format!("adopted dashboard group {:?}", found.name),
                    )
                    .await;
                    remote = RemoteGroup::Found(found);
                }
                Some(Step::Create { recreate }) => {
                    let created = self.create(client, &desired, recreate).await?;
                    remote = RemoteGroup::Found(created);
                }
                Some(Step::Update) => {
                    let RemoteGroup::Found(mut r) = remote else {
                        unreachable!("updates are planned for a found group")
                    };
                    r.name = desired.name.clone();
                    r.description = desired.description.clone();
                    r.active = desired.active;
                    if let Some(days) = desired.password_max_days {
                        r.password_max_days = days;
                    }
                    r.user_permissions =
                        permissions_for_put(&desired.permissions, &r.user_permissions);
                    client.update_group(&r).await?;
                    self.mutated = true;
                    self.record(&r.id, &r.org_id);
                    self.note(
                        "Updated",
                        &format!("updated dashboard group {:?} to match the spec", r.name),
                    )
                    .await;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Intent, POST, id: each durable before the next (crash-safe as for users, docs/design.md
    /// §3.2).
    async fn create(
        &mut self,
        client: &crate::dashboard::DashboardClient,
        d: &DesiredGroup,
        recreate: bool,
    ) -> Result<Group, ReconcileError> {
        self.status.create_intent = Some(GroupCreateIntent {
            name: d.name.clone(),
            time: jiff::Timestamp::now().to_string(),
        });
        self.status.group_id = None;
        self.write(&Outcome::Progressing {
            reason: reason::CREATING,
            message: format!("creating dashboard group {:?}", d.name),
        })
        .await?;
        let mut g = Group {
            org_id: d.org_id.clone().unwrap_or_default(),
            name: d.name.clone(),
            description: d.description.clone(),
            active: d.active,
            password_max_days: d.password_max_days.unwrap_or(0),
            user_permissions: d.permissions.clone(),
            ..Default::default()
        };
        g.id = client.create_group(&g).await?;
        // The Dashboard API forces the key's org (docs/tyk-dashboard-api.md §3): read it back.
        let stored = client.get_group(&g.id).await.unwrap_or(g);
        self.record(&stored.id, &stored.org_id);
        self.status.create_intent = None;
        self.mutated = true;
        self.write(&Outcome::Unchanged).await?;
        let (why, what) = if recreate {
            (
                "GroupRecreated",
                "recreated dashboard group deleted in the dashboard",
            )
        } else {
            ("Created", "created dashboard group")
        };
        self.note(why, &format!("{what} {:?}", d.name)).await;
        Ok(stored)
    }

    /// Checked again right before each Dashboard write: the connection's policy, and that
    /// no earlier DashboardUserGroup records this group's id.
    fn guard(
        &self,
        policy: &crate::policy::Policy,
        d: &DesiredGroup,
        dashboard: &str,
    ) -> Result<(), ReconcileError> {
        if let Err(msg) = plan::check_policy(policy, d) {
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::NOT_ALLOWED,
                msg,
            )));
        }
        if self.ctx.group_id_held_before(self.group, dashboard) {
            return Err(ReconcileError::Blocked(Blocker::stalled(
                reason::ALREADY_EXISTS,
                "an earlier DashboardUserGroup manages the dashboard group this one records; it is left untouched",
            )));
        }
        Ok(())
    }

    fn record(&mut self, id: &str, org: &str) {
        self.status.group_id = Some(id.to_string());
        self.status.org_id = (!org.is_empty()).then(|| org.to_string());
        self.status.create_intent = None;
    }

    async fn note(&self, reason: &'static str, text: &str) {
        publish(
            self.ctx,
            self.group,
            Note::normal(reason, "Reconcile", text),
        )
        .await;
    }
}

/// A blocker for a `groupRef` user, from the group object as the API server has it.
pub fn group_blocker(name: &str, g: Option<&DashboardUserGroup>) -> Blocker {
    let detail = match g {
        None => "does not exist".to_string(),
        Some(g) => {
            let why = g
                .status
                .as_ref()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
                .map(|c| c.reason.clone())
                .unwrap_or_else(|| reason::PENDING.into());
            format!("has no dashboard group id yet (its Ready reason: {why})")
        }
    };
    Blocker::retry(
        reason::GROUP_NOT_READY,
        format!("DashboardUserGroup {name} {detail}"),
    )
}
