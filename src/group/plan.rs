//! The pure decisions of a `DashboardUserGroup` reconcile: from what was observed to the one
//! Dashboard call to make (if any) and the condition to report.

use std::collections::{BTreeMap, BTreeSet};

use crate::crd::{AdoptionPolicy, ConnectionType, DashboardUserGroup, DeletionPolicy, reason};
use crate::dashboard::Group;
use crate::policy::{Ask, Policy};
use crate::reconcile::plan::{Blocker, ConnectionView, normalized_permissions};

/// The group as the spec wants it in the Dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredGroup {
    pub name: String,
    pub description: String,
    /// `None`: neither spec nor connection name an org; the API key's org applies.
    pub org_id: Option<String>,
    pub active: bool,
    pub password_max_days: Option<i64>,
    pub permissions: BTreeMap<String, String>,
}

impl DesiredGroup {
    pub fn of(g: &DashboardUserGroup, connection_org: Option<&str>) -> Self {
        let s = &g.spec;
        let org = s
            .org_id
            .as_deref()
            .or(connection_org)
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(String::from);
        DesiredGroup {
            name: s.name.trim().to_string(),
            description: s.description.clone().unwrap_or_default(),
            org_id: org,
            active: s.active,
            password_max_days: s.password_max_days,
            permissions: s.permissions.clone(),
        }
    }

    /// Every managed field as desired? Permissions compare as for users (`deny` ≡ absent,
    /// server-kept `ResetPassword` ignored).
    pub fn matches(&self, r: &Group) -> bool {
        let want = &self.permissions;
        r.name == self.name
            && r.description == self.description
            && r.active == self.active
            && self
                .password_max_days
                .is_none_or(|d| d == r.password_max_days)
            && normalized_permissions(want, want)
                == normalized_permissions(&r.user_permissions, want)
    }

    /// What this group asks of its connection's policy (crate::policy): its org and its
    /// permissions (the ceiling applies to groups as to users).
    pub fn ask(&self) -> Ask<'_> {
        Ask {
            org: self.org_id.as_deref(),
            permissions: Some(&self.permissions),
            ..Ask::default()
        }
    }

    /// Groups of another org than the desired one are not ours to take.
    fn org_ok(&self, r: &Group) -> bool {
        self.org_id.as_deref().is_none_or(|o| r.org_id == o)
    }
}

/// The remote group by `status.groupId`.
// One value per reconcile: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum RemoteGroup {
    NoId,
    NotFound,
    Found(Group),
}

pub struct Observed<'a> {
    pub group: &'a DashboardUserGroup,
    pub connection: ConnectionView,
    pub remote: RemoteGroup,
    /// Groups of the desired name, looked up only when there is no live remote group.
    pub same_name: Vec<Group>,
    /// Ids other `DashboardUserGroup`s on this connection already record.
    pub claimed: BTreeSet<String>,
}

// One value per reconcile: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Take over this existing group (own crash-left create, or `adoptionPolicy: IfExists`).
    Adopt(Group),
    /// Record an intent, `POST /api/usergroups`, record the id.
    Create { recreate: bool },
    /// `PUT /api/usergroups/{id}` of the remote group with the desired fields.
    Update,
}

// One value per reconcile: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    Blocked(Blocker),
    /// Nothing (`None`) or one step; the group is in line afterwards.
    Act(Option<Step>, DesiredGroup),
}

pub const ONLY_TYK: &str = "user groups exist only on TykDashboard connections";
pub const NEEDS_API_KEY: &str =
    "user groups exist only in the Dashboard API: the connection needs an apiKeySecretRef";

pub fn plan(o: &Observed<'_>) -> Plan {
    let (conn_org, policy) = match &o.connection {
        ConnectionView::Unavailable(b) => return Plan::Blocked(b.clone()),
        ConnectionView::Ready { backend, .. } if *backend != ConnectionType::TykDashboard => {
            return Plan::Blocked(Blocker::stalled(reason::INVALID_SPEC, ONLY_TYK));
        }
        ConnectionView::Ready {
            has_api_key: false, ..
        } => {
            return Plan::Blocked(Blocker::stalled(
                reason::CONNECTION_NOT_READY,
                NEEDS_API_KEY,
            ));
        }
        ConnectionView::Ready { org_id, policy, .. } => (org_id.as_deref(), policy),
    };
    let d = DesiredGroup::of(o.group, conn_org);
    if d.name.is_empty() {
        return Plan::Blocked(Blocker::stalled(reason::INVALID_SPEC, "name is empty"));
    }
    if let Err(msg) = check_policy(policy, &d) {
        return Plan::Blocked(Blocker::stalled(reason::NOT_ALLOWED, msg));
    }
    match &o.remote {
        RemoteGroup::Found(r) if !d.org_ok(r) => Plan::Blocked(Blocker::stalled(
            reason::INVALID_SPEC,
            format!(
                "the dashboard group is in org {} but the spec asks for org {}; groups cannot move between orgs",
                r.org_id,
                d.org_id.clone().unwrap_or_default()
            ),
        )),
        RemoteGroup::Found(r) => {
            let step = (!d.matches(r)).then_some(Step::Update);
            Plan::Act(step, d)
        }
        RemoteGroup::NoId | RemoteGroup::NotFound => {
            let candidates: Vec<&Group> = o
                .same_name
                .iter()
                .filter(|g| g.name == d.name && d.org_ok(g))
                .collect();
            let free: Vec<&Group> = candidates
                .iter()
                .copied()
                .filter(|g| !o.claimed.contains(&g.id))
                .collect();
            let status = o.group.status.clone().unwrap_or_default();
            // Tyk accepts duplicate group names, so only this marker tells our own
            // committed-then-crashed create apart from someone else's group (docs/design.md §3.2).
            let own_intent = status.create_intent.is_some_and(|i| i.name == d.name);
            let if_exists = o.group.spec.adoption_policy == AdoptionPolicy::IfExists;
            let adoption = policy.check_adoption(&format!("dashboard group {:?}", d.name));
            let may_adopt = own_intent || (if_exists && adoption.is_ok());
            match (free.as_slice(), candidates.len()) {
                ([], 0) => Plan::Act(
                    Some(Step::Create {
                        recreate: o.remote == RemoteGroup::NotFound,
                    }),
                    d,
                ),
                ([], _) => Plan::Blocked(Blocker::stalled(
                    reason::ALREADY_EXISTS,
                    format!(
                        "dashboard group {:?} is managed by another DashboardUserGroup",
                        d.name
                    ),
                )),
                ([one], _) if may_adopt => Plan::Act(Some(Step::Adopt((*one).clone())), d),
                ([_], _) if if_exists => Plan::Blocked(Blocker::stalled(
                    reason::NOT_ALLOWED,
                    format!(
                        "a dashboard group named {:?} already exists; {}",
                        d.name,
                        adoption.err().unwrap_or_default()
                    ),
                )),
                ([_], _) => Plan::Blocked(Blocker::stalled(
                    reason::ALREADY_EXISTS,
                    format!(
                        "a dashboard group named {:?} already exists; set adoptionPolicy: IfExists to take it over",
                        d.name
                    ),
                )),
                (_, _) => Plan::Blocked(Blocker::stalled(
                    reason::ALREADY_EXISTS,
                    format!(
                        "{} dashboard groups are named {:?}; remove the extra ones or rename this group",
                        free.len(),
                        d.name
                    ),
                )),
            }
        }
    }
}

/// The connection's policy for a group. A group without any org lands in the org of the
/// connection's API key (the Dashboard API's rule), which the policy cannot see unless it
/// is the connection's home org (API-key-only): refused then rather than guessed.
pub fn check_policy(policy: &Policy, d: &DesiredGroup) -> Result<(), String> {
    if d.org_id.is_none() && policy.home_org.is_none() && !policy.unrestricted {
        return Err(format!(
            "a group without orgId is not allowed through connection {}: it would land in the org of the connection's API key, which the policy cannot check; set orgId on the group (one of spec.policy.allowedOrgIds) or on the connection",
            policy.connection
        ));
    }
    policy.check(&d.ask())
}

/// What deleting a `DashboardUserGroup` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// Users still name this group: keep the finalizer (retried; their changes requeue us).
    Hold {
        users: Vec<String>,
    },
    Nothing,
    /// The connection is unusable: release rather than block namespace deletion.
    Release {
        warning: String,
    },
    Delete,
    Deactivate,
}

pub fn plan_cleanup(
    g: &DashboardUserGroup,
    connection: &ConnectionView,
    referencing_users: Vec<String>,
) -> Cleanup {
    if !referencing_users.is_empty() {
        return Cleanup::Hold {
            users: referencing_users,
        };
    }
    if g.group_id().is_none() || g.spec.deletion_policy == DeletionPolicy::Orphan {
        return Cleanup::Nothing;
    }
    match connection {
        ConnectionView::Unavailable(b) => Cleanup::Release {
            warning: format!(
                "finalizer released without touching the dashboard: {}",
                b.message
            ),
        },
        ConnectionView::Ready {
            has_api_key: false, ..
        } => Cleanup::Release {
            warning: format!("finalizer released without touching the dashboard: {NEEDS_API_KEY}"),
        },
        ConnectionView::Ready { backend, .. } if *backend != ConnectionType::TykDashboard => {
            Cleanup::Release {
                warning: format!("finalizer released without touching the dashboard: {ONLY_TYK}"),
            }
        }
        // A group its connection would refuse now is not deleted or deactivated through it.
        ConnectionView::Ready { org_id, policy, .. } => {
            match check_policy(policy, &DesiredGroup::of(g, org_id.as_deref())) {
                Err(msg) => Cleanup::Release {
                    warning: format!(
                        "finalizer released without touching the dashboard group: {msg}"
                    ),
                },
                Ok(()) if g.spec.deletion_policy == DeletionPolicy::Deactivate => {
                    Cleanup::Deactivate
                }
                Ok(()) => Cleanup::Delete,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{DashboardUserGroupSpec, GroupCreateIntent};

    fn group() -> DashboardUserGroup {
        let mut g =
            DashboardUserGroup::new("readers", DashboardUserGroupSpec::named("API readers"));
        g.metadata.namespace = Some("default".into());
        g
    }

    fn conn() -> ConnectionView {
        ConnectionView::Ready {
            url: "http://d".into(),
            backend: ConnectionType::TykDashboard,
            org_id: Some("org1".into()),
            has_api_key: true,
            key_org: None,
            policy: crate::policy::Policy::unrestricted("test"),
            dashboard: "TykDashboard:http://dash:3000".into(),
        }
    }

    fn remote(id: &str, name: &str) -> Group {
        Group {
            id: id.into(),
            org_id: "org1".into(),
            name: name.into(),
            active: true,
            user_permissions: BTreeMap::from([("apis".into(), "read".into())]),
            ..Default::default()
        }
    }

    fn observed(g: &DashboardUserGroup, remote: RemoteGroup, same: Vec<Group>) -> Observed<'_> {
        Observed {
            group: g,
            connection: conn(),
            remote,
            same_name: same,
            claimed: BTreeSet::new(),
        }
    }

    #[test]
    fn a_narrow_policy_refuses_other_orgs_a_ceiling_and_adoption() {
        use crate::crd::{ConnectionPolicy, PermissionLevel};
        use crate::policy::Policy;
        let narrow = |rules: ConnectionPolicy| {
            let mut c = conn();
            if let ConnectionView::Ready { policy, .. } = &mut c {
                *policy = Policy {
                    connection: "cluster/shared".into(),
                    home_org: Some("org1".into()),
                    rules,
                    unrestricted: false,
                };
            }
            c
        };
        let with = |g: &DashboardUserGroup, rules: ConnectionPolicy, same: Vec<Group>| {
            let mut o = observed(g, RemoteGroup::NoId, same);
            o.connection = narrow(rules);
            plan(&o)
        };
        let refusal = |p: &Plan| match p {
            Plan::Blocked(b) if b.reason == reason::NOT_ALLOWED && b.stalled => b.message.clone(),
            other => panic!("expected NotAllowed, got {other:?}"),
        };
        // The default allows a group of the connection's org.
        assert_eq!(
            reason_of(&with(&group(), ConnectionPolicy::default(), vec![])),
            "act"
        );
        // Another org.
        let mut other = group();
        other.spec.org_id = Some("org2".into());
        let msg = refusal(&with(&other, ConnectionPolicy::default(), vec![]));
        assert!(msg.contains("spec.policy.allowedOrgIds"), "{msg}");
        // A section over the ceiling.
        let mut writer = group();
        writer.spec.permissions = BTreeMap::from([("apis".into(), "write".into())]);
        let capped = ConnectionPolicy {
            permission_ceiling: BTreeMap::from([("apis".into(), PermissionLevel::Read)]),
            ..Default::default()
        };
        let msg = refusal(&with(&writer, capped, vec![]));
        assert!(msg.contains("permissions.apis: write"), "{msg}");
        // IfExists on an existing group: refused unless the connection allows adoption.
        let mut if_exists = group();
        if_exists.spec.adoption_policy = AdoptionPolicy::IfExists;
        let existing = vec![remote("g1", "API readers")];
        let msg = refusal(&with(
            &if_exists,
            ConnectionPolicy::default(),
            existing.clone(),
        ));
        assert!(msg.contains("spec.policy.allowAdoption"), "{msg}");
        let open = ConnectionPolicy {
            allow_adoption: true,
            ..Default::default()
        };
        assert!(matches!(
            with(&if_exists, open, existing),
            Plan::Act(Some(Step::Adopt(_)), _)
        ));
    }

    #[test]
    fn a_group_whose_org_the_policy_cannot_see_is_refused() {
        use crate::crd::ConnectionPolicy;
        let mut policy = crate::policy::Policy {
            connection: "cluster/shared".into(),
            home_org: None,
            rules: ConnectionPolicy {
                allowed_org_ids: vec!["org1".into()],
                ..Default::default()
            },
            unrestricted: false,
        };
        // No orgId anywhere: it would land in the API key's org, unknown to the policy.
        let err = check_policy(&policy, &DesiredGroup::of(&group(), None)).unwrap_err();
        assert!(err.contains("set orgId"), "{err}");
        let mut in_org1 = group();
        in_org1.spec.org_id = Some("org1".into());
        assert_eq!(
            check_policy(&policy, &DesiredGroup::of(&in_org1, None)),
            Ok(())
        );
        // API-key-only: the key's org is the home org, where such a group lands.
        policy.home_org = Some("org1".into());
        assert_eq!(
            check_policy(&policy, &DesiredGroup::of(&group(), None)),
            Ok(())
        );
    }

    #[test]
    fn a_refused_group_is_released_on_deletion() {
        use crate::crd::ConnectionPolicy;
        let mut g = group();
        g.spec.org_id = Some("org2".into());
        g.status = Some(crate::crd::DashboardUserGroupStatus {
            group_id: Some("g1".into()),
            ..Default::default()
        });
        let mut c = conn();
        if let ConnectionView::Ready { policy, .. } = &mut c {
            *policy = crate::policy::Policy {
                connection: "cluster/shared".into(),
                home_org: Some("org1".into()),
                rules: ConnectionPolicy::default(),
                unrestricted: false,
            };
        }
        assert!(matches!(
            plan_cleanup(&g, &c, vec![]),
            Cleanup::Release { warning } if warning.contains("allowedOrgIds")
        ));
        assert_eq!(plan_cleanup(&g, &conn(), vec![]), Cleanup::Delete);
    }

    fn reason_of(p: &Plan) -> &'static str {
        match p {
            Plan::Blocked(b) => b.reason,
            Plan::Act(..) => "act",
        }
    }

    #[test]
    fn creates_when_no_group_of_that_name_exists() {
        let g = group();
        let p = plan(&observed(&g, RemoteGroup::NoId, vec![]));
        assert!(matches!(
            p,
            Plan::Act(Some(Step::Create { recreate: false }), _)
        ));
        let p = plan(&observed(&g, RemoteGroup::NotFound, vec![]));
        assert!(matches!(
            p,
            Plan::Act(Some(Step::Create { recreate: true }), _)
        ));
    }

    #[test]
    fn an_existing_group_is_adopted_only_when_allowed_or_ours() {
        let g = group();
        let same = vec![remote("g1", "API readers")];
        let p = plan(&observed(&g, RemoteGroup::NoId, same.clone()));
        assert_eq!(reason_of(&p), reason::ALREADY_EXISTS);
        let mut adopting = group();
        adopting.spec.adoption_policy = AdoptionPolicy::IfExists;
        let p = plan(&observed(&adopting, RemoteGroup::NoId, same.clone()));
        assert!(matches!(p, Plan::Act(Some(Step::Adopt(ref r)), _) if r.id == "g1"));
        // A create that committed before a crash: the intent makes it ours.
        let mut crashed = group();
        crashed.status = Some(Default::default());
        crashed.status.as_mut().unwrap().create_intent = Some(GroupCreateIntent {
            name: "API readers".into(),
            time: "2026-01-01T00:00:00Z".into(),
        });
        let p = plan(&observed(&crashed, RemoteGroup::NoId, same.clone()));
        assert!(matches!(p, Plan::Act(Some(Step::Adopt(_)), _)));
        // Never someone else's: claimed by another object, or in another org.
        let mut o = observed(&adopting, RemoteGroup::NoId, same);
        o.claimed.insert("g1".into());
        assert_eq!(reason_of(&plan(&o)), reason::ALREADY_EXISTS);
        let mut other_org = remote("g2", "API readers");
        other_org.org_id = "org2".into();
        let p = plan(&observed(&adopting, RemoteGroup::NoId, vec![other_org]));
        assert!(matches!(p, Plan::Act(Some(Step::Create { .. }), _)));
    }

    #[test]
    fn drift_and_renames_update_the_same_group() {
        let g = group();
        let p = plan(&observed(
            &g,
            RemoteGroup::Found(remote("g1", "API readers")),
            vec![],
        ));
        assert_eq!(p, Plan::Act(None, DesiredGroup::of(&g, Some("org1"))));
        // Renamed in the spec, or edited in the Dashboard: one PUT.
        let p = plan(&observed(
            &g,
            RemoteGroup::Found(remote("g1", "old name")),
            vec![],
        ));
        assert!(matches!(p, Plan::Act(Some(Step::Update), _)));
        let mut drifted = remote("g1", "API readers");
        drifted
            .user_permissions
            .insert("keys".into(), "write".into());
        let p = plan(&observed(&g, RemoteGroup::Found(drifted), vec![]));
        assert!(matches!(p, Plan::Act(Some(Step::Update), _)));
        // `deny` ≡ absent and a server-kept ResetPassword is no drift.
        let mut same = remote("g1", "API readers");
        same.user_permissions.insert("keys".into(), "deny".into());
        same.user_permissions
            .insert("ResetPassword".into(), "admin".into());
        let p = plan(&observed(&g, RemoteGroup::Found(same), vec![]));
        assert!(matches!(p, Plan::Act(None, _)));
    }

    #[test]
    fn connection_without_api_key_or_wrong_org_is_reported() {
        let g = group();
        let mut o = observed(&g, RemoteGroup::NoId, vec![]);
        o.connection = ConnectionView::Ready {
            url: "http://d".into(),
            backend: ConnectionType::TykDashboard,
            org_id: None,
            has_api_key: false,
            key_org: None,
            policy: crate::policy::Policy::unrestricted("test"),
            dashboard: "TykDashboard:http://dash:3000".into(),
        };
        assert_eq!(reason_of(&plan(&o)), reason::CONNECTION_NOT_READY);
        // Groups are a Tyk Dashboard thing: another backend is a spec error, and deleting
        // such a group lets go of it.
        o.connection = ConnectionView::Ready {
            url: "http://users/api".into(),
            backend: ConnectionType::AdminUsersApi,
            org_id: None,
            has_api_key: true,
            key_org: None,
            policy: crate::policy::Policy::unrestricted("test"),
            dashboard: "TykDashboard:http://dash:3000".into(),
        };
        assert_eq!(reason_of(&plan(&o)), reason::INVALID_SPEC);
        let mut recorded = group();
        recorded.status = Some(Default::default());
        recorded.status.as_mut().unwrap().group_id = Some("g1".into());
        assert!(matches!(
            plan_cleanup(&recorded, &o.connection, vec![]),
            Cleanup::Release { .. }
        ));
        let mut other = remote("g1", "API readers");
        other.org_id = "org9".into();
        let p = plan(&observed(&g, RemoteGroup::Found(other), vec![]));
        assert_eq!(reason_of(&p), reason::INVALID_SPEC);
    }

    #[test]
    fn cleanup_holds_while_users_reference_the_group() {
        let mut g = group();
        g.status = Some(Default::default());
        g.status.as_mut().unwrap().group_id = Some("g1".into());
        assert_eq!(
            plan_cleanup(&g, &conn(), vec!["alice".into()]),
            Cleanup::Hold {
                users: vec!["alice".into()]
            }
        );
        assert_eq!(plan_cleanup(&g, &conn(), vec![]), Cleanup::Delete);
        g.spec.deletion_policy = DeletionPolicy::Deactivate;
        assert_eq!(plan_cleanup(&g, &conn(), vec![]), Cleanup::Deactivate);
        g.spec.deletion_policy = DeletionPolicy::Orphan;
        assert_eq!(plan_cleanup(&g, &conn(), vec![]), Cleanup::Nothing);
        g.spec.deletion_policy = DeletionPolicy::Delete;
        let gone = ConnectionView::Unavailable(Blocker::stalled(reason::CONNECTION_NOT_FOUND, "x"));
        assert!(matches!(
            plan_cleanup(&g, &gone, vec![]),
            Cleanup::Release { .. }
        ));
    }
}
