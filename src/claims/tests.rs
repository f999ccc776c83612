use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;

const DASH: &str = "TykDashboard:http://d:3000";

fn user(name: &str, created_s: i64, id: Option<&str>, dashboard: Option<&str>) -> DashboardUser {
    let mut u = DashboardUser::test();
    u.metadata.name = Some(name.into());
    u.metadata.uid = Some(format!("uid-{name}"));
    u.metadata.creation_timestamp = Some(Time(Timestamp::from_second(created_s).unwrap()));
    u.with_status(|s| {
        s.user_id = id.map(String::from);
        s.dashboard = dashboard.map(String::from);
    })
}

#[test]
fn a_claim_holds_across_connection_objects_of_one_dashboard() {
    let other = user("team-a", 1, Some("u1"), Some(DASH)).with_spec(|s| {
        s.connection_ref = Some(crate::crd::ConnectionRef {
            kind: crate::crd::ConnectionKind::ClusterDashboardConnection,
            name: "team-a".into(),
        })
    });
    let me = user("team-b", 2, None, None);
    let all = [other.clone()];
    let claims = || all.iter().map(Claim::of_user);
    assert!(held_by_other(claims(), &Claim::of_user(&me), "u1", DASH));
    // Another Dashboard's id "u1" is another user.
    assert!(!held_by_other(
        claims(),
        &Claim::of_user(&me),
        "u1",
        "TykDashboard:http://other:3000"
    ));
    assert!(!held_by_other(claims(), &Claim::of_user(&me), "u2", DASH));
    // An object never holds a claim against itself.
    assert!(!held_by_other(
        claims(),
        &Claim::of_user(&other),
        "u1",
        DASH
    ));
}

#[test]
fn an_object_from_before_per_dashboard_claims_is_compared_by_connection() {
    let old = user("old", 1, Some("u1"), None);
    let me = user("me", 2, None, None);
    let all = [old];
    assert!(held_by_other(
        all.iter().map(Claim::of_user),
        &Claim::of_user(&me),
        "u1",
        DASH
    ));
    let elsewhere = me.with_spec(|s| {
        s.connection_ref = Some(crate::crd::ConnectionRef {
            kind: crate::crd::ConnectionKind::ClusterDashboardConnection,
            name: "elsewhere".into(),
        })
    });
    assert!(!held_by_other(
        all.iter().map(Claim::of_user),
        &Claim::of_user(&elsewhere),
        "u1",
        DASH
    ));
}

#[test]
fn of_two_objects_recording_one_id_the_first_keeps_it() {
    let first = user("first", 1, Some("u1"), Some(DASH));
    let second = user("second", 2, Some("u1"), Some(DASH));
    let all = [first.clone(), second.clone()];
    let claims = || all.iter().map(Claim::of_user);
    assert!(held_before(claims(), &Claim::of_user(&second), DASH));
    assert!(!held_before(claims(), &Claim::of_user(&first), DASH));
    // Same creation second: the uid decides, and only one of them yields.
    let twin = user("twin", 1, Some("u1"), Some(DASH));
    let all = [first.clone(), twin.clone()];
    let yields =
        |u: &DashboardUser| held_before(all.iter().map(Claim::of_user), &Claim::of_user(u), DASH);
    assert_ne!(yields(&first), yields(&twin));
}

#[test]
fn ids_held_by_others_lists_only_this_dashboards_ids() {
    let a = user("a", 1, Some("u1"), Some(DASH));
    let b = user("b", 1, Some("u2"), Some("TykDashboard:http://other:3000"));
    let me = user("me", 3, Some("u3"), Some(DASH));
    let all = [a, b, me.clone()];
    let ids = ids_held_by_others(all.iter().map(Claim::of_user), &Claim::of_user(&me), DASH);
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["u1"]);
}
