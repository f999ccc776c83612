//! The control API: log, counters, faults, settings, seeding, check-password, reset.

use admin_users_emulator::{FaultRule, Seed};
use serde_json::json;

use crate::{TOKEN, start};

#[tokio::test]
async fn log_and_counters_never_hold_credentials() {
    let e = start().await;
    e.create("logged", None).await;
    e.call("GET", "/admin/users/?username=logged", None).await;
    let stats = e.control("GET", "stats", None).await;
    assert_eq!(stats["requests"]["POST /api/admin/users/ 201"], 1);
    assert_eq!(stats["requests"]["GET /api/admin/users/ 200"], 1);
    assert_eq!(stats["writes"], 1);
    let log = e.control("GET", "requests", None).await;
    assert_eq!(log[0]["auth"], "bearer");
    assert_eq!(log[0]["route"], "/api/admin/users/");
    let text = format!("{log} {stats} {}", e.control("GET", "settings", None).await);
    assert!(
        !text.contains(TOKEN) && !text.contains("correct-horse"),
        "{text}"
    );
    let users = e.control("GET", "users", None).await;
    assert_eq!(users[0]["username"], "logged");
    assert!(!users.to_string().contains("correct-horse"));
}

#[tokio::test]
async fn faults_answer_the_given_status_a_given_number_of_times() {
    let e = start().await;
    e.emu.add_fault(FaultRule {
        method: Some("POST".into()),
        route: Some("/api/admin/users/".into()),
        status: Some(503),
        count: Some(1),
        ..Default::default()
    });
    let body = json!({"username": "flaky", "password": "long-enough"});
    let a = e.call("POST", "/admin/users/", Some(body.clone())).await;
    assert_eq!(
        (a.status, a.body),
        (503, json!({"detail": "Injected fault (emulator)"}))
    );
    assert!(
        e.emu.users().is_empty(),
        "the fault answers before the route runs"
    );
    assert_eq!(
        e.call("POST", "/admin/users/", Some(body)).await.status,
        201
    );
    // Over HTTP too; a rule that does nothing is refused.
    let r = e
        .control(
            "POST",
            "faults",
            Some(json!({"route": "/api/admin/users/{user_id}", "status": 500})),
        )
        .await;
    assert_eq!(r.as_array().unwrap().len(), 1);
    let bad = e
        .control("POST", "faults", Some(json!({"route": "/x"})))
        .await;
    assert!(bad["error"].as_str().unwrap().contains("does nothing"));
}

#[tokio::test]
async fn settings_seed_check_password_and_reset() {
    let e = start().await;
    let s = e
        .control("POST", "settings", Some(json!({"delete_route": false})))
        .await;
    assert_eq!(s["delete_route"], false);
    assert_eq!(s["token"], "<hidden>");
    let bad = e
        .control("POST", "settings", Some(json!({"nope": 1})))
        .await;
    assert!(bad["error"].as_str().unwrap().contains("unknown setting"));
    let seeded = e
        .control(
            "POST",
            "seed-user",
            Some(json!({"username": "pre", "role": "admin", "password": "pre-password"})),
        )
        .await;
    assert_eq!(seeded["role"], "admin");
    let m = e
        .control(
            "POST",
            "check-password",
            Some(json!({"username": "pre", "password": "pre-password"})),
        )
        .await;
    assert_eq!(m, json!({"match": true}));
    assert!(
        e.emu
            .seed_user(Seed {
                username: "pre".into(),
                email: None,
                role: admin_users_emulator::Role::Viewer,
                is_active: true,
                password: "x".into()
            })
            .is_err()
    );
    assert_eq!(e.emu.writes(), 0, "control calls are not API writes");
    e.control("POST", "reset", None).await;
    assert!(e.emu.users().is_empty());
}
