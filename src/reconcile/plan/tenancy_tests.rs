//! The connection's policy in the plan (docs/multi-tenancy.md): every refusal is a stalled
//! `NotAllowed` that plans nothing at all, and names the field that would allow it.

use std::collections::BTreeMap;

use super::tests::{ID, ORG, conn, fresh, remote_for, steady};
use super::*;
use crate::crd::{ConnectionPolicy, PermissionLevel};

fn narrow() -> Policy {
    Policy {
        connection: "cluster/shared".into(),
        home_org: Some(ORG.into()),
        rules: ConnectionPolicy::default(),
        unrestricted: false,
    }
}

fn with_policy(o: &mut Observed<'_>, p: Policy) {
    let ConnectionView::Ready { policy, .. } = &mut o.connection else {
        unreachable!("tests start from a ready connection")
    };
    *policy = p;
}

fn readers(u: DashboardUser) -> DashboardUser {
    u.with_spec(|s| s.permissions = BTreeMap::from([("apis".into(), "read".into())]))
}

/// Refused with NotAllowed, nothing planned, the message naming `field`.
fn assert_refused(p: &Plan, field: &str) {
    assert_eq!(p.steps, vec![], "a refused user plans nothing");
    assert_eq!(p.desired, None);
    let b = p.pending.as_ref().expect("a refusal");
    assert_eq!((b.reason, b.stalled), (reason::NOT_ALLOWED, true), "{b:?}");
    assert!(b.message.contains(field), "{}", b.message);
    assert!(b.message.contains("cluster/shared"), "{}", b.message);
}

#[test]
fn an_ordinary_user_of_the_home_org_is_created_under_the_default_policy() {
    let u = readers(DashboardUser::test());
    let mut o = fresh(&u);
    with_policy(&mut o, narrow());
    let p = plan(&o);
    assert_eq!(p.pending, None);
    assert!(matches!(p.steps[0], Step::Create { .. }), "{:?}", p.steps);
}

#[test]
fn each_forbidden_request_is_refused_for_new_and_existing_users() {
    let cases: Vec<(&str, DashboardUser)> = vec![
        (
            "spec.policy.allowSuperUsers",
            DashboardUser::test().with_spec(|s| s.super_user = true),
        ),
        (
            "spec.policy.allowedOrgIds",
            readers(DashboardUser::test()).with_spec(|s| s.org_id = Some("other-org".into())),
        ),
        (
            "spec.policy.allowAdminUsers",
            readers(DashboardUser::test())
                .with_spec(|s| _ = s.permissions.insert("IsAdmin".into(), "admin".into())),
        ),
        (
            "spec.policy.allowAdminUsers",
            readers(DashboardUser::test())
                .with_spec(|s| _ = s.permissions.insert("ResetPassword".into(), "admin".into())),
        ),
        // No permissions: Tyk's Admin API makes the user an admin.
        ("spec.policy.allowAdminUsers", DashboardUser::test()),
    ];
    for (field, u) in cases {
        let mut o = fresh(&u);
        with_policy(&mut o, narrow());
        assert_refused(&plan(&o), field);
        // An existing user (from before the policy, say) is not touched either, even
        // when it has drifted.
        let existing = u.clone().created(ID, ORG);
        let mut o = steady(&existing);
        let mut drifted = remote_for(&readers(DashboardUser::test()));
        drifted.active = false;
        o.remote = RemoteView::Found(drifted);
        with_policy(&mut o, narrow());
        assert_refused(&plan(&o), field);
    }
}

#[test]
fn the_policy_fields_allow_what_they_name() {
    let u = DashboardUser::test().with_spec(|s| {
        s.org_id = Some("other-org".into());
        s.permissions = BTreeMap::from([("IsAdmin".into(), "admin".into())]);
    });
    let mut open = narrow();
    open.rules.allow_admin_users = true;
    open.rules.allowed_org_ids = vec!["other-org".into()];
    let mut o = fresh(&u);
    with_policy(&mut o, open);
    assert_eq!(plan(&o).pending, None);

    let su = DashboardUser::test().with_spec(|s| s.super_user = true);
    let mut open = narrow();
    open.rules.allow_super_users = true;
    let mut o = fresh(&su);
    with_policy(&mut o, open);
    assert_eq!(plan(&o).pending, None);
}

#[test]
fn the_ceiling_refuses_a_section_above_it_and_a_literal_group() {
    let mut capped = narrow();
    capped.rules.permission_ceiling = BTreeMap::from([("*".into(), PermissionLevel::Read)]);
    let writer = DashboardUser::test()
        .with_spec(|s| s.permissions = BTreeMap::from([("apis".into(), "write".into())]));
    let mut o = fresh(&writer);
    with_policy(&mut o, capped.clone());
    assert_refused(&plan(&o), "spec.policy.permissionCeiling");

    let grouped = readers(DashboardUser::test()).with_spec(|s| s.group_id = Some("g1".into()));
    let mut o = fresh(&grouped);
    with_policy(&mut o, capped);
    assert_refused(&plan(&o), "groupRef");
}

#[test]
fn adoption_needs_the_connection_and_never_stops_own_crash_recovery() {
    let if_exists =
        readers(DashboardUser::test()).with_spec(|s| s.adoption_policy = AdoptionPolicy::IfExists);
    let mut o = fresh(&if_exists);
    with_policy(&mut o, narrow());
    let p = plan(&o);
    // Still created if nobody has the email; an existing user is then refused, not taken.
    assert!(
        matches!(
            p.steps[0],
            Step::Create {
                may_adopt: false,
                ..
            }
        ),
        "{:?}",
        p.steps
    );
    let d = p.desired.unwrap();
    let b = existing_user_refusal(&if_exists, &narrow(), &d);
    assert_eq!((b.reason, b.stalled), (reason::NOT_ALLOWED, true));
    assert!(
        b.message.contains("spec.policy.allowAdoption"),
        "{}",
        b.message
    );

    let mut open = narrow();
    open.rules.allow_adoption = true;
    with_policy(&mut o, open.clone());
    assert!(matches!(
        plan(&o).steps[0],
        Step::Create {
            may_adopt: true,
            ..
        }
    ));

    // Without IfExists, an existing user is AlreadyExists whatever the connection allows.
    let never = readers(DashboardUser::test());
    let b = existing_user_refusal(&never, &open, &d);
    assert_eq!(b.reason, reason::ALREADY_EXISTS);

    // Our own create whose answer was lost is ours: recovered without allowAdoption.
    let crashed = readers(DashboardUser::test()).with_status(|s| {
        s.create_intent = Some(crate::crd::CreateIntent {
            email: "alice@example.com".into(),
            time: "2026-01-01T00:00:00Z".into(),
        })
    });
    let mut o = fresh(&crashed);
    with_policy(&mut o, narrow());
    assert!(matches!(
        plan(&o).steps[0],
        Step::Create {
            may_adopt: true,
            ..
        }
    ));
}

#[test]
fn an_api_key_only_connection_allows_the_keys_org() {
    let u = readers(DashboardUser::test()).with_spec(|s| {
        s.first_name = Some("Alice".into());
        s.last_name = Some("Liddell".into());
    });
    let mut o = fresh(&u);
    let mut p = narrow();
    p.home_org = Some(ORG.into());
    o.connection = match conn() {
        ConnectionView::Ready {
            url,
            backend,
            has_api_key,
            dashboard,
            ..
        } => ConnectionView::Ready {
            url,
            backend,
            org_id: None,
            has_api_key,
            key_org: Some(ORG.into()),
            policy: p,
            dashboard,
        },
        other => other,
    };
    assert_eq!(plan(&o).pending, None);
}

#[test]
fn a_refused_user_is_released_on_deletion_without_touching_the_dashboard() {
    let su = DashboardUser::test()
        .with_spec(|s| s.super_user = true)
        .created(ID, "")
        .deleting();
    let mut o = fresh(&su);
    with_policy(&mut o, narrow());
    match plan_cleanup(&su, &o.connection) {
        Cleanup::Release { warning } => {
            assert!(warning.contains("allowSuperUsers"), "{warning}")
        }
        other => panic!("expected a release, got {other:?}"),
    }
    // Allowed again: deleted as its deletionPolicy says.
    let mut open = narrow();
    open.rules.allow_super_users = true;
    with_policy(&mut o, open);
    assert_eq!(plan_cleanup(&su, &o.connection), Cleanup::Delete);
}
