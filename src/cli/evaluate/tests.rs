use super::*;
use crate::crd::{ConnectionType, CreateConflict};

fn manifest() -> DashboardUser {
    let mut u = DashboardUser::test();
    u.metadata.namespace = None;
    u.metadata.uid = None;
    u.metadata.generation = None;
    u
}

#[test]
fn a_manifest_takes_the_live_status_and_the_generation_its_apply_gives() {
    let live = DashboardUser::test()
        .created("id-1", "org")
        .with_status(|s| {
            s.create_conflict = Some(CreateConflict {
                generation: 3,
                time: "2026-01-01T00:00:00Z".into(),
            })
        });
    let mut live = live;
    live.metadata.generation = Some(3);
    let same = applied(&manifest(), "default", Some(&live));
    assert_eq!(same.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(same.metadata.uid.as_deref(), Some("uid-alice"));
    assert_eq!(
        same.metadata.generation,
        Some(3),
        "unchanged spec, same generation"
    );
    assert_eq!(same.status, live.status);
    let edited = applied(
        &manifest().with_spec(|s| s.first_name = Some("New".into())),
        "default",
        Some(&live),
    );
    assert_eq!(
        edited.metadata.generation,
        Some(4),
        "a spec change is a new generation"
    );
    let new = applied(&manifest(), "team-b", None);
    assert_eq!(
        (new.metadata.generation, new.status.as_ref()),
        (Some(1), None)
    );
    assert_eq!(new.metadata.namespace.as_deref(), Some("team-b"));
}

#[test]
fn adoption_records_the_id_and_forgets_what_belonged_to_the_old_attempt() {
    let u = DashboardUser::test().with_status(|s| {
        s.create_intent = Some(crate::crd::CreateIntent {
            email: "alice@example.com".into(),
            time: "t".into(),
        });
        s.password_fingerprint = Some("hmac-sha256:x:y".into());
    });
    let s = adopted_view(&u, "id-9").status.unwrap();
    assert_eq!(s.user_id.as_deref(), Some("id-9"));
    assert!(s.create_intent.is_none() && s.password_fingerprint.is_none());
}

#[test]
fn a_create_lists_every_desired_field_against_nothing() {
    let spec = DashboardUser::test()
        .with_spec(|s| {
            s.first_name = Some("Ada".into());
            s.permissions = [("apis".to_string(), "read".to_string())].into();
        })
        .spec;
    let d = plan::desired_user(&spec, ConnectionType::TykDashboard, Some("org")).unwrap();
    let fields: Vec<String> = d.diff(&nobody(&d)).into_iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        ["email", "firstName", "orgId", "active", "permissions.apis"]
    );
}
