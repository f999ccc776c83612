//! The operator's decisions, one scenario per test.

use std::collections::BTreeMap;

use super::*;
use crate::crd::{
    AccessKeySecret, ConnectionType, CreateIntent, DashboardUser, DeletionPolicy, ROTATE_ANNOTATION,
};
use crate::reconcile::fingerprint::FingerprintKey;

pub(super) const ORG: &str = "5e9d9544a1dcd60001d0ed20";
pub(super) const ID: &str = "679a02465715ecdd507d7273";
const URL: &str = "http://dash:3000";
type Drift = Box<dyn Fn(&mut RemoteUser)>;
type SpecEdit = Box<dyn Fn(&mut crate::crd::DashboardUserSpec)>;

const KEY: &str = "c8251902f3f44dfa729e0267d0d62859";

pub(super) fn conn() -> ConnectionView {
    ConnectionView::Ready {
        url: URL.into(),
        backend: ConnectionType::TykDashboard,
        org_id: Some(ORG.into()),
        has_api_key: true,
        key_org: None,
        policy: crate::policy::Policy::unrestricted("test"),
        dashboard: "TykDashboard:http://dash:3000".into(),
    }
}

fn fp(pw: &str) -> Fingerprint {
    FingerprintKey::new(vec![1; 32]).fingerprint("uid-alice", pw.as_bytes())
}

pub(super) fn remote_for(u: &DashboardUser) -> RemoteUser {
    let d = desired_user(&u.spec, ConnectionType::TykDashboard, Some(ORG)).unwrap();
    let t = d.tyk().unwrap().clone();
    RemoteUser {
        id: ID.into(),
        login: d.login.clone(),
        email: d.email,
        active: d.active,
        access_key: Redacted(KEY.into()),
        profile: RemoteProfile::Tyk(TykRemote {
            org_id: t.org_id,
            first_name: t.first_name,
            last_name: t.last_name,
            group_id: t.group_id,
            permissions: t.permissions.unwrap_or_default(),
            password_max_days: t.password_max_days.unwrap_or(0),
        }),
    }
}

fn tyk(r: &mut RemoteUser) -> &mut TykRemote {
    r.tyk_mut().unwrap()
}

pub(super) fn secret_for(u: &DashboardUser) -> AccessSecretView {
    let d = desired_user(&u.spec, ConnectionType::TykDashboard, Some(ORG)).unwrap();
    AccessSecretView {
        data: access_secret_data(u, &d, ID, KEY, URL)
            .into_iter()
            .map(|(k, v)| (k, Redacted(v)))
            .collect(),
        labels: access_secret_labels(u),
        annotations: BTreeMap::new(),
        owned: true,
        resource_version: String::new(),
    }
}

/// Everything in line: remote user as desired, Secret current.
pub(super) fn steady(u: &DashboardUser) -> Observed<'_> {
    Observed {
        user: u,
        now: jiff::Timestamp::now(),
        resync_period: std::time::Duration::from_secs(600),
        connection: conn(),
        password: PasswordView::NotManaged,
        access_secret: Some(secret_for(u)),
        remote: RemoteView::Found(remote_for(u)),
        group: GroupView::Literal,
    }
}

pub(super) fn fresh(u: &DashboardUser) -> Observed<'_> {
    Observed {
        user: u,
        now: jiff::Timestamp::now(),
        resync_period: std::time::Duration::from_secs(600),
        connection: conn(),
        password: PasswordView::NotManaged,
        access_secret: None,
        remote: RemoteView::NoId,
        group: GroupView::Literal,
    }
}

#[test]
fn steady_state_does_nothing() {
    let u = DashboardUser::test().created(ID, ORG);
    let p = plan(&steady(&u));
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.pending, None);
}

#[test]
fn new_user_is_created_then_secret_written() {
    let u = DashboardUser::test();
    let p = plan(&fresh(&u));
    assert_eq!(
        p.steps,
        vec![
            Step::Create {
                may_adopt: false,
                recreate: false
            },
            Step::WriteAccessSecret
        ]
    );
    assert_eq!(p.desired.unwrap().org_id(), ORG);
}

#[test]
fn new_user_with_password_gets_self_reset_or_admin_path_when_inactive() {
    let u = DashboardUser::test().with_password_ref("pw");
    let mut o = fresh(&u);
    o.password = PasswordView::Present(fp("pw-1"));
    assert!(plan(&o).steps.contains(&Step::InitialPassword {
        via: PasswordPath::SelfReset
    }));

    let inactive = u.clone().with_spec(|s| s.active = false);
    let mut o = fresh(&inactive);
    o.password = PasswordView::Present(fp("pw-1"));
    assert!(plan(&o).steps.contains(&Step::InitialPassword {
        via: PasswordPath::AdminPut
    }));
}

#[test]
fn missing_password_secret_blocks_creation_and_stalls() {
    let u = DashboardUser::test().with_password_ref("pw");
    let mut o = fresh(&u);
    o.password = PasswordView::Unavailable(Blocker::stalled(
        reason::PASSWORD_SECRET_NOT_FOUND,
        "secret default/pw not found",
    ));
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    let b = p.pending.unwrap();
    assert_eq!(b.reason, reason::PASSWORD_SECRET_NOT_FOUND);
    assert!(b.stalled);
}

#[test]
fn missing_password_secret_does_not_stop_syncing_an_existing_user() {
    let u = DashboardUser::test()
        .with_password_ref("pw")
        .created(ID, ORG)
        .with_spec(|s| s.first_name = Some("Alice".into()));
    let mut o = steady(&u);
    o.password = PasswordView::Unavailable(Blocker::stalled(
        reason::PASSWORD_SECRET_KEY_MISSING,
        "key password missing",
    ));
    let mut remote = remote_for(&u);
    tyk(&mut remote).first_name = "Mallory".into();
    o.remote = RemoteView::Found(remote);
    let p = plan(&o);
    assert_eq!(
        p.steps,
        vec![Step::Update {
            fields: true,
            password: false
        }]
    );
    assert_eq!(
        p.pending.unwrap().reason,
        reason::PASSWORD_SECRET_KEY_MISSING
    );
}

#[test]
fn own_create_intent_or_if_exists_allows_adoption() {
    let plain = DashboardUser::test();
    assert!(matches!(
        plan(&fresh(&plain)).steps[0],
        Step::Create {
            may_adopt: false,
            ..
        }
    ));

    let crashed = DashboardUser::test().with_status(|s| {
        s.create_intent = Some(CreateIntent {
            email: "ALICE@example.com".into(),
            time: "2026-01-01T00:00:00Z".into(),
        })
    });
    assert!(matches!(
        plan(&fresh(&crashed)).steps[0],
        Step::Create {
            may_adopt: true,
            ..
        }
    ));

    let other_email = DashboardUser::test().with_status(|s| {
        s.create_intent = Some(CreateIntent {
            email: "bob@example.com".into(),
            time: "2026-01-01T00:00:00Z".into(),
        })
    });
    assert!(matches!(
        plan(&fresh(&other_email)).steps[0],
        Step::Create {
            may_adopt: false,
            ..
        }
    ));

    let if_exists = DashboardUser::test()
        .with_spec(|s| s.adoption_policy = crate::crd::AdoptionPolicy::IfExists);
    assert!(matches!(
        plan(&fresh(&if_exists)).steps[0],
        Step::Create {
            may_adopt: true,
            ..
        }
    ));
}

#[test]
fn remote_deletion_recreates() {
    let u = DashboardUser::test().created(ID, ORG);
    let mut o = steady(&u);
    o.remote = RemoteView::NotFound;
    assert_eq!(
        plan(&o).steps,
        vec![
            Step::Create {
                may_adopt: false,
                recreate: true
            },
            Step::WriteAccessSecret
        ]
    );
}

#[test]
fn drift_in_any_managed_field_is_put_back() {
    let u = DashboardUser::test().created(ID, ORG).with_spec(|s| {
        s.permissions = BTreeMap::from([("apis".into(), "write".into())]);
        s.group_id = Some("g1".into());
    });
    let drifts: Vec<Drift> = vec![
        Box::new(|r| r.login = "mallory@example.com".into()),
        Box::new(|r| tyk(r).first_name = "X".into()),
        Box::new(|r| r.active = false),
        Box::new(|r| tyk(r).org_id = "other".into()),
        Box::new(|r| tyk(r).group_id = String::new()),
        Box::new(|r| {
            tyk(r).permissions.insert("apis".into(), "read".into());
        }),
        Box::new(|r| {
            tyk(r).permissions.insert("keys".into(), "write".into());
        }),
    ];
    for drift in drifts {
        let mut remote = remote_for(&u);
        drift(&mut remote);
        let mut o = steady(&u);
        o.remote = RemoteView::Found(remote.clone());
        assert_eq!(
            plan(&o).steps,
            vec![Step::Update {
                fields: true,
                password: false
            }],
            "drift not detected: {remote:?}"
        );
    }
}

#[test]
fn normalisation_hides_case_server_keys_and_deny() {
    let u = DashboardUser::test().created(ID, ORG).with_spec(|s| {
        s.email = "Alice@Example.COM".into();
        s.permissions = BTreeMap::from([
            ("apis".into(), "write".into()),
            ("users".into(), "deny".into()),
        ]);
    });
    let mut remote = remote_for(&u);
    remote.login = "alice@example.com".into();
    tyk(&mut remote).permissions = BTreeMap::from([
        ("apis".into(), "write".into()),
        ("ResetPassword".into(), "admin".into()),
    ]);
    let mut o = steady(&u);
    o.remote = RemoteView::Found(remote);
    assert_eq!(plan(&o).steps, vec![]);
}

#[test]
fn deny_matters_for_admins() {
    let u = DashboardUser::test().created(ID, ORG).with_spec(|s| {
        s.permissions = BTreeMap::from([
            ("IsAdmin".into(), "admin".into()),
            ("apis".into(), "deny".into()),
        ]);
    });
    let mut remote = remote_for(&u);
    tyk(&mut remote).permissions.remove("apis");
    let mut o = steady(&u);
    o.remote = RemoteView::Found(remote);
    assert!(!plan(&o).steps.is_empty());
}

#[test]
fn unmanaged_permissions_are_left_alone_and_kept_on_put() {
    let u = DashboardUser::test().created(ID, ORG);
    let mut remote = remote_for(&u);
    tyk(&mut remote).permissions = BTreeMap::from([("IsAdmin".into(), "admin".into())]);
    let mut o = steady(&u);
    o.remote = RemoteView::Found(remote.clone());
    assert_eq!(plan(&o).steps, vec![]);
    let d = desired_user(&u.spec, ConnectionType::TykDashboard, Some(ORG)).unwrap();
    let perms = tyk(&mut remote).permissions.clone();
    assert_eq!(d.tyk().unwrap().permissions_for_put(&perms), perms);
}

#[test]
fn password_sent_only_when_its_fingerprint_changes() {
    let base = DashboardUser::test()
        .with_password_ref("pw")
        .created(ID, ORG);
    let applied = base
        .clone()
        .with_status(|s| s.password_fingerprint = Some(fp("pw-1").0));

    // Unchanged password (restart, deleted access Secret, unrelated Secret edit): nothing.
    let mut o = steady(&applied);
    o.password = PasswordView::Present(fp("pw-1"));
    assert_eq!(plan(&o).steps, vec![]);

    // Changed password: one admin PUT carrying it.
    o.password = PasswordView::Present(fp("pw-2"));
    assert_eq!(
        plan(&o).steps,
        vec![Step::Update {
            fields: false,
            password: true
        }]
    );

    // Never applied yet (e.g. adopted user): set it.
    let mut o = steady(&base);
    o.password = PasswordView::Present(fp("pw-1"));
    assert_eq!(
        plan(&o).steps,
        vec![Step::Update {
            fields: false,
            password: true
        }]
    );
}

#[test]
fn rejected_password_is_not_retried_until_it_changes() {
    let u = DashboardUser::test()
        .with_password_ref("pw")
        .created(ID, ORG)
        .with_status(|s| {
            s.password_fingerprint = Some(fp("pw-1").0);
            s.rejected_password_fingerprint = Some(fp("pw-2").0);
        });
    let mut o = steady(&u);
    o.password = PasswordView::Present(fp("pw-2"));
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    assert_eq!(
        p.pending.as_ref().unwrap().reason,
        reason::PASSWORD_REJECTED
    );
    assert!(p.pending.unwrap().stalled);

    o.password = PasswordView::Present(fp("pw-3"));
    assert_eq!(
        plan(&o).steps,
        vec![Step::Update {
            fields: false,
            password: true
        }]
    );
}

#[test]
fn replaced_fingerprint_key_refreshes_instead_of_resending() {
    let old_key = FingerprintKey::new(vec![9; 32]);
    let u = DashboardUser::test()
        .with_password_ref("pw")
        .created(ID, ORG)
        .with_status(|s| {
            s.password_fingerprint = Some(old_key.fingerprint("uid-alice", b"pw-1").0)
        });
    let mut o = steady(&u);
    o.password = PasswordView::Present(fp("pw-1"));
    assert_eq!(plan(&o).steps, vec![Step::RefreshFingerprint]);
}

#[test]
fn access_secret_restored_when_missing_tampered_or_unlabelled() {
    let u = DashboardUser::test().created(ID, ORG);
    let mut o = steady(&u);
    o.access_secret = None;
    assert_eq!(plan(&o).steps, vec![Step::WriteAccessSecret]);

    let mut tampered = secret_for(&u);
    tampered
        .data
        .insert("accessKey".into(), Redacted("nope".into()));
    o.access_secret = Some(tampered);
    assert_eq!(plan(&o).steps, vec![Step::WriteAccessSecret]);

    let mut unlabelled = secret_for(&u);
    unlabelled.labels.clear();
    o.access_secret = Some(unlabelled);
    assert_eq!(plan(&o).steps, vec![Step::WriteAccessSecret]);
}

#[test]
fn a_secret_someone_else_made_is_never_written() {
    // The tenancy attack: accessKeySecret names an app's existing Secret.
    for u in [
        DashboardUser::test().created(ID, ORG),
        DashboardUser::test(),
    ] {
        let mut o = steady(&u);
        if u.status.is_none() {
            o.remote = RemoteView::NoId;
        }
        let mut foreign = secret_for(&u);
        foreign.owned = false;
        o.access_secret = Some(foreign);
        let p = plan(&o);
        assert_eq!(p.steps, vec![], "nothing at all is done for this user");
        let b = p.pending.unwrap();
        assert_eq!((b.reason, b.stalled), (reason::SECRET_NOT_OWNED, true));
        assert!(
            b.message.contains("alice-dashboard-access"),
            "{}",
            b.message
        );
    }
}

#[test]
fn hidden_remote_key_keeps_the_published_one() {
    let u = DashboardUser::test().created(ID, ORG);
    let mut remote = remote_for(&u);
    remote.access_key = Redacted::default();
    let mut o = steady(&u);
    o.remote = RemoteView::Found(remote);
    assert_eq!(plan(&o).steps, vec![]);
}

#[test]
fn rotation_annotation_rotates_once() {
    let u = DashboardUser::test()
        .created(ID, ORG)
        .with_annotation(ROTATE_ANNOTATION, "r1");
    assert_eq!(
        plan(&steady(&u)).steps,
        vec![
            Step::RotateKey {
                request: "r1".into()
            },
            Step::WriteAccessSecret
        ]
    );
    let handled = u.with_status(|s| s.rotated_access_key = Some("r1".into()));
    assert_eq!(plan(&steady(&handled)).steps, vec![]);
}

#[test]
fn renamed_access_secret_replaces_the_old_one() {
    let u = DashboardUser::test().created(ID, ORG).with_spec(|s| {
        s.access_key_secret = Some(AccessKeySecret {
            name: Some("renamed".into()),
            ..Default::default()
        })
    });
    let u = u.with_status(|s| s.access_key_secret_name = Some("alice-dashboard-access".into()));
    let mut o = steady(&u);
    o.access_secret = None;
    assert_eq!(
        plan(&o).steps,
        vec![
            Step::WriteAccessSecret,
            Step::DeleteAccessSecret {
                name: "alice-dashboard-access".into()
            }
        ]
    );
}

#[test]
fn invalid_specs_stall_with_invalid_spec() {
    let cases: Vec<SpecEdit> = vec![
        Box::new(|s| s.email = "not-an-email".into()),
        Box::new(|s| {
            s.permissions.insert("apis".into(), "admin".into());
        }),
        Box::new(|s| {
            s.permissions.insert("IsAdmin".into(), "write".into());
        }),
        Box::new(|s| {
            s.super_user = true;
            s.org_id = Some(ORG.into());
        }),
    ];
    for case in cases {
        let u = DashboardUser::test().with_spec(|s| case(s));
        let p = plan(&fresh(&u));
        assert_eq!(p.steps, vec![]);
        let b = p.pending.unwrap();
        assert_eq!(b.reason, reason::INVALID_SPEC, "{}", b.message);
        assert!(b.stalled);
    }
}

#[test]
fn org_less_user_needs_super_user() {
    let u = DashboardUser::test();
    let mut o = fresh(&u);
    o.connection = ConnectionView::Ready {
        url: URL.into(),
        backend: ConnectionType::TykDashboard,
        org_id: None,
        has_api_key: true,
        key_org: None,
        policy: crate::policy::Policy::unrestricted("test"),
        dashboard: "TykDashboard:http://dash:3000".into(),
    };
    assert_eq!(plan(&o).pending.unwrap().reason, reason::INVALID_SPEC);

    let su = DashboardUser::test().with_spec(|s| s.super_user = true);
    let mut o = fresh(&su);
    o.connection = conn();
    let p = plan(&o);
    assert_eq!(p.pending, None);
    assert_eq!(
        p.desired.unwrap().org_id(),
        "",
        "a super user ignores the connection org"
    );
}

#[test]
fn spec_org_overrides_connection_org() {
    let u = DashboardUser::test().with_spec(|s| s.org_id = Some("other-org".into()));
    assert_eq!(plan(&fresh(&u)).desired.unwrap().org_id(), "other-org");
}

#[test]
fn connection_problem_blocks_with_its_reason() {
    let u = DashboardUser::test();
    let mut o = fresh(&u);
    o.connection = ConnectionView::Unavailable(Blocker::stalled(
        reason::CONNECTION_NOT_ALLOWED,
        "namespace default not allowed",
    ));
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.pending.unwrap().reason, reason::CONNECTION_NOT_ALLOWED);
}

/// A Tyk connection with the admin secret only: no search by email, no delete route.
fn conn_without_api_key() -> ConnectionView {
    ConnectionView::Ready {
        url: URL.into(),
        backend: ConnectionType::TykDashboard,
        org_id: None,
        has_api_key: false,
        key_org: None,
        policy: crate::policy::Policy::unrestricted("test"),
        dashboard: "TykDashboard:http://dash:3000".into(),
    }
}

#[test]
fn cleanup_follows_deletion_policy() {
    let ready = conn();
    let no_key = conn_without_api_key();
    let gone = ConnectionView::Unavailable(Blocker::stalled(reason::CONNECTION_NOT_FOUND, "gone"));
    let u = DashboardUser::test().created(ID, ORG).deleting();
    assert_eq!(plan_cleanup(&u, &ready), Cleanup::Delete);
    assert_eq!(
        plan_cleanup(&u, &no_key),
        Cleanup::Deactivate { fallback: true }
    );
    assert!(matches!(plan_cleanup(&u, &gone), Cleanup::Release { .. }));

    let deact = u
        .clone()
        .with_spec(|s| s.deletion_policy = DeletionPolicy::Deactivate);
    assert_eq!(
        plan_cleanup(&deact, &ready),
        Cleanup::Deactivate { fallback: false }
    );

    let orphan = u
        .clone()
        .with_spec(|s| s.deletion_policy = DeletionPolicy::Orphan);
    assert!(matches!(
        plan_cleanup(&orphan, &ready),
        Cleanup::Nothing { .. }
    ));

    let never_created = DashboardUser::test().deleting();
    assert!(matches!(
        plan_cleanup(&never_created, &gone),
        Cleanup::Nothing { .. }
    ));
}

#[test]
fn cleanup_looks_for_the_user_an_unanswered_create_may_have_left() {
    // The create went out, its answer was lost, and no id was recorded since.
    let u = DashboardUser::test().deleting().with_status(|s| {
        s.create_intent = Some(CreateIntent {
            email: "lost@example.com".into(),
            time: "2026-01-01T00:00:00Z".into(),
        })
    });
    assert_eq!(unanswered_create(&u), Some("lost@example.com"));
    assert_eq!(plan_cleanup(&u, &conn()), Cleanup::Delete);
    let deact = u
        .clone()
        .with_spec(|s| s.deletion_policy = DeletionPolicy::Deactivate);
    assert_eq!(
        plan_cleanup(&deact, &conn()),
        Cleanup::Deactivate { fallback: false }
    );
    // Without the API key Tyk cannot search by email: say so rather than block.
    let no_key = conn_without_api_key();
    match plan_cleanup(&u, &no_key) {
        Cleanup::Release { warning } => assert!(warning.contains("lost@example.com"), "{warning}"),
        other => panic!("{other:?}"),
    }
    let orphan = u
        .clone()
        .with_spec(|s| s.deletion_policy = DeletionPolicy::Orphan);
    assert!(matches!(
        plan_cleanup(&orphan, &conn()),
        Cleanup::Nothing { .. }
    ));
    // Once an id is recorded, the intent no longer matters.
    let recorded = u.clone().created(ID, ORG);
    assert_eq!(unanswered_create(&recorded), None);
}

#[test]
fn redacted_values_never_print() {
    let u = DashboardUser::test().created(ID, ORG);
    let o = steady(&u);
    let dbg = format!("{:?} {:?}", o.remote, o.access_secret);
    assert!(!dbg.contains(KEY), "{dbg}");
}

#[test]
fn create_conflict_is_retried_per_resync_not_per_event() {
    let recent = jiff::Timestamp::now().to_string();
    let u = DashboardUser::test().with_status(|s| {
        s.create_conflict = Some(crate::crd::CreateConflict {
            generation: 1,
            time: recent.clone(),
        })
    });
    let p = plan(&fresh(&u));
    assert_eq!(p.steps, vec![]);
    assert_eq!(p.pending.unwrap().reason, reason::ALREADY_EXISTS);

    // The refusal the last attempt reported is kept as it was, not replaced.
    let refused = u.clone().with_status(|s| {
        s.conditions = vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: reason::NOT_ALLOWED.into(),
            message: "holds the API key of connection cluster/default".into(),
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                jiff::Timestamp::now(),
            ),
            observed_generation: Some(1),
        }]
    });
    let b = plan(&fresh(&refused)).pending.unwrap();
    assert_eq!(
        (b.reason, b.message.as_str(), b.stalled),
        (
            reason::NOT_ALLOWED,
            "holds the API key of connection cluster/default",
            true
        )
    );

    // A resync period later: try again.
    let mut later = fresh(&u);
    later.now = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(601);
    assert!(matches!(plan(&later).steps[0], Step::Create { .. }));

    // A spec change (new generation): try again at once.
    let mut changed = u.clone();
    changed.metadata.generation = Some(2);
    assert!(matches!(
        plan(&fresh(&changed)).steps[0],
        Step::Create { .. }
    ));
}

#[test]
fn group_ref_waits_for_the_group_id_then_uses_it() {
    let u = DashboardUser::test().with_spec(|s| {
        s.group_ref = Some(crate::crd::GroupRef {
            name: "readers".into(),
        })
    });
    let mut o = fresh(&u);
    o.group = GroupView::Waiting(Blocker::retry(reason::GROUP_NOT_READY, "no id yet"));
    let p = plan(&o);
    assert!(
        p.steps.is_empty(),
        "nothing is created before the group has an id"
    );
    let b = p.pending.expect("blocked");
    assert_eq!(b.reason, reason::GROUP_NOT_READY);
    assert!(!b.stalled, "waiting for a group is progress, not a stall");
    o.group = GroupView::Resolved("g1".into());
    let p = plan(&o);
    let Some(DesiredProfile::Tyk(t)) = p.desired.map(|d| d.profile) else {
        panic!("a Tyk user")
    };
    assert_eq!(t.group_id, "g1");
    // An existing user whose group got its id (or a new one) is moved with one update.
    let mut o = steady(&u);
    o.group = GroupView::Resolved("g2".into());
    assert!(plan(&o).steps.contains(&Step::Update {
        fields: true,
        password: false
    }));
}

// ---- the admin users API backend: same plan, its own profile ----

fn admin_conn() -> ConnectionView {
    ConnectionView::Ready {
        url: "http://users:8000/api".into(),
        backend: ConnectionType::AdminUsersApi,
        org_id: None,
        has_api_key: true,
        key_org: None,
        policy: crate::policy::Policy::unrestricted("test"),
        dashboard: "TykDashboard:http://dash:3000".into(),
    }
}

fn admin_user() -> DashboardUser {
    DashboardUser::test()
        .with_password_ref("pw")
        .with_spec(|s| s.username = Some("alice".into()))
}

fn admin_remote(u: &DashboardUser) -> RemoteUser {
    let d = desired_user(&u.spec, ConnectionType::AdminUsersApi, None).unwrap();
    let DesiredProfile::AdminUsers { role } = d.profile else {
        panic!("admin profile expected")
    };
    RemoteUser {
        id: "0b7e1f6a-3c1d-4e8a-9f0b-2a4c6e8f0a1b".into(),
        login: d.login,
        email: d.email,
        active: d.active,
        access_key: Redacted::default(),
        profile: RemoteProfile::AdminUsers {
            roles: vec![role.as_str().into()],
        },
    }
}

#[test]
fn admin_users_create_sends_the_password_with_the_create() {
    let u = admin_user();
    let mut o = fresh(&u);
    o.connection = admin_conn();
    o.password = PasswordView::Present(fp("long-enough-1"));
    let p = plan(&o);
    assert_eq!(
        p.steps,
        vec![
            Step::Create {
                may_adopt: false,
                recreate: false
            },
            Step::InitialPassword {
                via: PasswordPath::WithCreate
            },
            Step::WriteAccessSecret
        ]
    );
    let d = p.desired.unwrap();
    assert_eq!(d.org_id(), "", "no organisations on this backend");
    assert_eq!(
        access_secret_data(&u, &d, "id-1", "", "http://users:8000/api"),
        BTreeMap::from([
            ("userId".into(), "id-1".into()),
            ("username".into(), "alice".into()),
            ("email".into(), "alice@example.com".into()),
        ]),
        "no access key and nothing else is published"
    );
}

#[test]
fn admin_users_refused_password_is_not_resent_at_create() {
    let u = admin_user().with_status(|s| {
        s.rejected_password_fingerprint = Some(fp("short").0);
    });
    let mut o = fresh(&u);
    o.connection = admin_conn();
    o.password = PasswordView::Present(fp("short"));
    let p = plan(&o);
    assert_eq!(p.steps, vec![]);
    let b = p.pending.unwrap();
    assert_eq!((b.reason, b.stalled), (reason::PASSWORD_REJECTED, true));
    // A new password is tried.
    o.password = PasswordView::Present(fp("long-enough-2"));
    assert!(!plan(&o).steps.is_empty());
}

#[test]
fn admin_users_spec_rules_name_the_field() {
    let cases: Vec<(SpecEdit, &str)> = vec![
        (Box::new(|s| s.username = None), "username is required"),
        (Box::new(|s| s.username = Some("ab".into())), "3 to 150"),
        (
            Box::new(|s| s.password_secret_ref = None),
            "passwordSecretRef",
        ),
        (Box::new(|s| s.first_name = Some("A".into())), "firstName"),
        (Box::new(|s| s.org_id = Some(ORG.into())), "orgId"),
        (Box::new(|s| s.super_user = true), "superUser"),
        (Box::new(|s| s.group_id = Some("g".into())), "groupId"),
        (
            Box::new(|s| s.permissions = BTreeMap::from([("apis".into(), "read".into())])),
            "permissions",
        ),
        (
            Box::new(|s| s.password_max_days = Some(3)),
            "passwordMaxDays",
        ),
    ];
    for (edit, needle) in cases {
        let u = admin_user().with_spec(edit);
        let mut o = fresh(&u);
        o.connection = admin_conn();
        let b = plan(&o).pending.unwrap();
        assert_eq!(b.reason, reason::INVALID_SPEC);
        assert!(b.message.contains(needle), "{needle}: {}", b.message);
    }
    // The reverse: admin-only fields on a Tyk user.
    for (edit, needle) in [
        (
            Box::new(|s: &mut crate::crd::DashboardUserSpec| s.username = Some("alice".into()))
                as SpecEdit,
            "username",
        ),
        (
            Box::new(|s: &mut crate::crd::DashboardUserSpec| {
                s.role = Some(crate::crd::AdminRole::Admin)
            }),
            "role",
        ),
    ] {
        let u = DashboardUser::test().with_spec(edit);
        let b = plan(&fresh(&u)).pending.unwrap();
        assert_eq!(b.reason, reason::INVALID_SPEC);
        assert!(b.message.contains(needle), "{}", b.message);
    }
}

#[test]
fn admin_users_drift_in_role_email_or_active_is_patched() {
    let u = admin_user()
        .created("0b7e1f6a-3c1d-4e8a-9f0b-2a4c6e8f0a1b", "")
        .with_spec(|s| s.role = Some(crate::crd::AdminRole::Editor));
    let d = desired_user(&u.spec, ConnectionType::AdminUsersApi, None).unwrap();
    let steady_secret = AccessSecretView {
        data: access_secret_data(&u, &d, &admin_remote(&u).id, "", "")
            .into_iter()
            .map(|(k, v)| (k, Redacted(v)))
            .collect(),
        labels: access_secret_labels(&u),
        annotations: BTreeMap::new(),
        owned: true,
        resource_version: String::new(),
    };
    let mut o = fresh(&u);
    o.connection = admin_conn();
    o.access_secret = Some(steady_secret);
    o.remote = RemoteView::Found(admin_remote(&u));
    assert_eq!(plan(&o).steps, vec![], "steady");
    // The highest listed role counts: ["editor","viewer"] is an editor.
    let mut r = admin_remote(&u);
    r.profile = RemoteProfile::AdminUsers {
        roles: vec!["viewer".into(), "editor".into()],
    };
    o.remote = RemoteView::Found(r);
    assert_eq!(plan(&o).steps, vec![]);
    type AdminDrift = Box<dyn Fn(&mut RemoteUser)>;
    let drifts: Vec<AdminDrift> = vec![
        Box::new(|r| {
            r.profile = RemoteProfile::AdminUsers {
                roles: vec!["admin".into(), "editor".into()],
            }
        }),
        Box::new(|r| r.email = "mallory@example.com".into()),
        Box::new(|r| r.active = false),
    ];
    for drift in drifts {
        let mut r = admin_remote(&u);
        drift(&mut r);
        o.remote = RemoteView::Found(r);
        assert_eq!(
            plan(&o).steps,
            vec![Step::Update {
                fields: true,
                password: false
            }]
        );
    }
    // No key to rotate: the annotation is ignored on this backend.
    let rot = u.clone().with_annotation(ROTATE_ANNOTATION, "r1");
    let mut o2 = fresh(&rot);
    o2.connection = admin_conn();
    o2.access_secret = o.access_secret.clone();
    o2.remote = RemoteView::Found(admin_remote(&rot));
    assert_eq!(plan(&o2).steps, vec![]);
}

#[test]
fn diff_names_each_drifted_field_with_both_values() {
    let u = DashboardUser::test().created(ID, ORG).with_spec(|s| {
        s.first_name = Some("Alice".into());
        s.permissions = BTreeMap::from([
            ("apis".into(), "write".into()),
            ("users".into(), "deny".into()),
        ]);
        s.password_max_days = Some(30);
    });
    let d = desired_user(&u.spec, ConnectionType::TykDashboard, Some(ORG)).unwrap();
    let mut remote = remote_for(&u);
    assert!(d.diff(&remote).is_empty() && d.matches(&remote));
    remote.active = false;
    let t = tyk(&mut remote);
    t.first_name = "Al".into();
    t.permissions.insert("apis".into(), "read".into());
    t.permissions.insert("keys".into(), "write".into());
    t.permissions.insert("ResetPassword".into(), "admin".into());
    t.password_max_days = 0;
    let changes: Vec<(String, serde_json::Value, serde_json::Value)> = d
        .diff(&remote)
        .into_iter()
        .map(|c| (c.field, c.dashboard, c.desired))
        .collect();
    use serde_json::{Value, json};
    assert_eq!(
        changes,
        vec![
            ("firstName".into(), json!("Al"), json!("Alice")),
            ("active".into(), json!(false), json!(true)),
            ("permissions.apis".into(), json!("read"), json!("write")),
            // `deny` ≡ absent for non-admins; the server-added key is not a change.
            ("permissions.keys".into(), json!("write"), Value::Null),
            ("passwordMaxDays".into(), json!(0), json!(30)),
        ]
    );
    assert!(!d.matches(&remote));
}
