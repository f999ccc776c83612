//! Fault injection: errors, latency, hangs, resets and commit-then-drop, global and scoped.

use std::time::Duration;

use crate::support::*;
use serde_json::json;
use tyk_dashboard_emulator::{FaultKind, FaultRule, Faults};

fn rule(kind: FaultKind, method: &str, route: &str, count: Option<u64>) -> FaultRule {
    let r = FaultRule::new(kind).on(method, route);
    match count {
        Some(n) => r.times(n),
        None => r,
    }
}

const NEW_USER: &str =
    r#"{"org_id":"5d15d3068ba30a0001621bfe","email_address":"f@x.org","active":true}"#;

#[tokio::test]
async fn error_rate_answers_the_chosen_status_without_running_the_route() {
    for status in [500u16, 502, 503, 429] {
        let e = start_default().await;
        e.emu
            .set_faults(Faults {
                error_rate: 1.0,
                error_status: status,
                ..Default::default()
            })
            .unwrap();
        let r = e.admin("POST", "/admin/users", Some(NEW_USER)).await;
        r.envelope(status, "Error", "Injected fault (emulator)");
        assert!(e.emu.users().is_empty());
        // The control API is never faulted.
        let stats = e.stats().await;
        assert_eq!(
            stats,
            json!({"requests":{format!("POST /admin/users {status}"):1},"writes":0,"max_in_flight":1})
        );
    }
}

#[tokio::test]
async fn scoped_rule_fires_count_times_on_its_route_only() {
    let e = start_default().await;
    let r = rule(FaultKind::Error, "post", "/admin/users", Some(1)).with_status(429);
    e.emu
        .set_faults(Faults {
            rules: vec![r],
            ..Default::default()
        })
        .unwrap();
    // Another route is not affected and does not consume the rule.
    assert_eq!(
        e.admin("GET", "/admin/organisations", None).await.status,
        200
    );
    e.admin("POST", "/admin/users", Some(NEW_USER))
        .await
        .envelope(429, "Error", "Injected fault (emulator)");
    assert_eq!(
        e.admin("POST", "/admin/users", Some(NEW_USER)).await.status,
        200
    );
    assert!(e.emu.faults().rules.is_empty(), "a spent rule is removed");
}

#[tokio::test]
async fn rule_matches_route_pattern_or_literal_path() {
    let e = start_default().await;
    let (id, _) = e.org_admin(ORG, "p@x.org").await;
    let by_pattern = rule(FaultKind::Error, "GET", "/admin/users/{id}", Some(1));
    let by_path = rule(
        FaultKind::Error,
        "GET",
        &format!("/admin/users/{id}"),
        Some(1),
    );
    e.emu
        .set_faults(Faults {
            rules: vec![by_pattern, by_path],
            ..Default::default()
        })
        .unwrap();
    let path = format!("/admin/users/{id}");
    assert_eq!(e.admin("GET", &path, None).await.status, 500);
    assert_eq!(e.admin("GET", &path, None).await.status, 500);
    assert_eq!(e.admin("GET", &path, None).await.status, 200);
}

#[tokio::test]
async fn latency_delays_answers_past_a_short_client_timeout() {
    let e = start_default().await;
    e.emu
        .set_faults(Faults {
            latency_ms: 5_000,
            ..Default::default()
        })
        .unwrap();
    let quick = client(Some(Duration::from_millis(200)));
    let err = e
        .try_send(
            &quick,
            "GET",
            "/admin/organisations",
            Auth::Admin(SECRET),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // The control API is not delayed.
    assert!(
        e.try_send(&quick, "GET", "/__emulator/stats", Auth::None, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn hang_never_answers_until_the_client_gives_up() {
    let e = start_default().await;
    e.emu
        .set_faults(Faults {
            rules: vec![rule(FaultKind::Hang, "POST", "/admin/users", Some(1))],
            ..Default::default()
        })
        .unwrap();
    let quick = client(Some(Duration::from_millis(300)));
    let err = e
        .try_send(
            &quick,
            "POST",
            "/admin/users",
            Auth::Admin(SECRET),
            Some(NEW_USER),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(
        e.emu.users().is_empty(),
        "a hung request does not run the route"
    );
    assert_eq!(
        e.admin("POST", "/admin/users", Some(NEW_USER)).await.status,
        200
    );
    assert_eq!(e.stats().await["requests"]["POST /admin/users hang"], 1);
}

#[tokio::test]
async fn reset_drops_the_connection_before_the_write() {
    let e = start_default().await;
    e.emu
        .set_faults(Faults {
            reset_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let err = e
        .try_send(
            &e.client,
            "POST",
            "/admin/users",
            Auth::Admin(SECRET),
            Some(NEW_USER),
        )
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err}");
    assert!(e.emu.users().is_empty());
    let stats = e.stats().await;
    assert_eq!(
        stats,
        json!({"requests":{"POST /admin/users reset":1},"writes":0,"max_in_flight":1})
    );
}

#[tokio::test]
async fn commit_then_drop_writes_but_never_answers() {
    let e = start_default().await;
    e.emu
        .set_faults(Faults {
            rules: vec![rule(
                FaultKind::CommitThenDrop,
                "POST",
                "/admin/users",
                Some(1),
            )],
            ..Default::default()
        })
        .unwrap();
    let err = e
        .try_send(
            &e.client,
            "POST",
            "/admin/users",
            Auth::Admin(SECRET),
            Some(NEW_USER),
        )
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err}");
    let users = e.emu.users();
    assert_eq!(users.len(), 1, "the write happened");
    assert_eq!(users[0].email_address, "f@x.org");
    assert_eq!(e.stats().await["writes"], 1);
    // A retry now sees the duplicate, as a client would after a lost answer.
    e.admin("POST", "/admin/users", Some(NEW_USER))
        .await
        .envelope(403, "Error", "User email already exists for this Org");
}

#[tokio::test]
async fn faults_are_set_through_the_control_api() {
    let e = start_default().await;
    let body = r#"{"rules":[{"kind":"error","status":503,"method":"GET","route":"/admin/organisations","count":2}]}"#;
    let r = e
        .send("POST", "/__emulator/faults", Auth::None, Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["rules"][0]["count"], 2);
    assert_eq!(
        e.admin("GET", "/admin/organisations", None).await.status,
        503
    );
    let got = e
        .send("GET", "/__emulator/faults", Auth::None, None)
        .await
        .json();
    assert_eq!(got["rules"][0]["count"], 1);
    assert_eq!(
        e.send("DELETE", "/__emulator/faults", Auth::None, None)
            .await
            .status,
        204
    );
    assert_eq!(
        e.admin("GET", "/admin/organisations", None).await.status,
        200
    );
    for bad in [
        r#"{"error_rate":2}"#,
        r#"{"error_status":200}"#,
        r#"{"nope":1}"#,
        r#"{"rules":[{"kind":"boom"}]}"#,
    ] {
        let r = e
            .send("POST", "/__emulator/faults", Auth::None, Some(bad))
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn error_rule_can_reproduce_a_documented_db_failure() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "db@x.org").await;
    let r = rule(FaultKind::Error, "DELETE", "/api/users/{id}", Some(1))
        .with_status(400)
        .with_message("Could not delete the user.");
    e.emu
        .set_faults(Faults {
            rules: vec![r],
            ..Default::default()
        })
        .unwrap();
    let path = format!("/api/users/{id}");
    e.api(&key, "DELETE", &path, None)
        .await
        .envelope(400, "Error", "Could not delete the user.");
    e.api(&key, "DELETE", &path, None)
        .await
        .envelope(200, "OK", "User deleted");
}

#[tokio::test]
async fn max_in_flight_counts_overlapping_requests_until_a_reset() {
    let e = start_default().await;
    e.emu
        .set_faults(Faults {
            latency_ms: 300,
            ..Default::default()
        })
        .unwrap();
    // Three slow reads at once overlap; the control API itself is never counted.
    let reads = (0..3).map(|_| e.admin("GET", "/admin/organisations", None));
    futures::future::join_all(reads).await;
    assert_eq!(e.emu.stats().max_in_flight, 3);
    e.admin("GET", "/admin/organisations", None).await;
    assert_eq!(
        e.emu.stats().max_in_flight,
        3,
        "a maximum, not the current count"
    );
    e.send("POST", "/__emulator/reset-stats", Auth::None, None)
        .await;
    assert_eq!(e.emu.stats().max_in_flight, 0);
    e.admin("GET", "/admin/organisations", None).await;
    assert_eq!(e.emu.stats().max_in_flight, 1);
}
