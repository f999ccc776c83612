//! The admin users API client against the emulator over HTTP: every operation, every error
//! class, and no credential in any error text.

use std::sync::{Arc, Mutex};

use admin_users_emulator::{AdminUsersEmulator, FaultRule, Settings};
use dashboard_user_operator::admin_users::{
    AdminUsersClient, AdminUsersConfig, NewAdminUser, UserPatch,
};
use dashboard_user_operator::dashboard::{
    BearerToken, DashboardError, Password, RequestObservation,
};

const TOKEN: &str = "client-test-admin-token-7c1e";
const VIEWER: &str = "client-test-viewer-token-2b9d";

async fn emu(f: impl FnOnce(&mut Settings)) -> AdminUsersEmulator {
    let mut s = Settings {
        token: TOKEN.into(),
        viewer_tokens: vec![VIEWER.into()],
        ..Default::default()
    };
    f(&mut s);
    AdminUsersEmulator::start(s).await.unwrap()
}

fn client(e: &AdminUsersEmulator, token: &str) -> AdminUsersClient {
    AdminUsersClient::new(AdminUsersConfig::new(&e.api_url(), BearerToken::new(token)).unwrap())
        .unwrap()
}

fn new_user(name: &str, pw: &str) -> NewAdminUser {
    NewAdminUser {
        username: name.into(),
        password: Password::new(pw),
        email: format!("{name}@example.com"),
        role: "editor".into(),
    }
}

#[tokio::test]
async fn create_get_find_update_password_delete() {
    let e = emu(|_| {}).await;
    let c = client(&e, TOKEN);
    c.probe().await.unwrap();
    let u = c
        .create_user(&new_user("carol", "first-password"))
        .await
        .unwrap();
    assert_eq!(
        (u.username.as_str(), u.roles.as_slice()),
        ("carol", &["editor".to_string()][..])
    );
    assert!(u.is_active);
    assert!(e.check_password("carol", "first-password"));
    assert_eq!(c.get_user(&u.id).await.unwrap(), u);
    assert_eq!(c.find_user("carol").await.unwrap().unwrap().id, u.id);
    assert!(c.find_user("nobody").await.unwrap().is_none());
    let patched = c
        .update_user(
            &u.id,
            &UserPatch {
                role: Some("admin".into()),
                is_active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.roles, ["admin"]);
    assert!(!patched.is_active);
    assert_eq!(patched.email, "carol@example.com", "partial update");
    c.set_password(&u.id, &Password::new("second-password"))
        .await
        .unwrap();
    assert!(e.check_password("carol", "second-password"));
    c.delete_user(&u.id).await.unwrap();
    assert!(c.get_user(&u.id).await.unwrap_err().is_not_found());
    assert!(c.delete_user(&u.id).await.unwrap_err().is_not_found());
}

/// `user-000`, `user-001`, … made behind the client's back.
fn seed_many(e: &AdminUsersEmulator, n: usize) {
    for i in 0..n {
        e.seed_user(admin_users_emulator::Seed {
            username: format!("user-{i:03}"),
            email: None,
            role: admin_users_emulator::Role::Viewer,
            is_active: true,
            password: "seeded-password".into(),
        })
        .unwrap();
    }
}

#[tokio::test]
async fn find_asks_with_the_username_filter_among_many_users() {
    let e = emu(|s| s.max_limit = 100).await;
    seed_many(&e, 120);
    let c = client(&e, TOKEN);
    // One request with ?username= finds it among more users than a page holds.
    assert!(c.find_user("user-110").await.unwrap().is_some());
    let lists = e
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.route == admin_users_emulator::COLLECTION)
        .count();
    assert_eq!(lists, 1);
}

#[tokio::test]
async fn errors_are_classified_and_never_carry_credentials() {
    let e = emu(|s| s.delete_route = false).await;
    let c = client(&e, TOKEN);
    let u = c
        .create_user(&new_user("dave", "first-password"))
        .await
        .unwrap();

    let dup = c
        .create_user(&new_user("dave", "other-password"))
        .await
        .unwrap_err();
    assert!(dup.is_already_exists(), "{dup}");

    // FastAPI echoes the refused password in `input`; the error must not.
    let short = "tiny-pw";
    let err = c.create_user(&new_user("erin", short)).await.unwrap_err();
    assert!(
        matches!(err, DashboardError::PasswordRejected { status: 422, .. }),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("body.password") && text.contains("string_too_short"),
        "{text}"
    );
    assert!(!text.contains(short), "password leaked: {text}");
    let err = c
        .set_password(&u.id, &Password::new(short))
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::PasswordRejected { .. }));
    assert!(!format!("{err} {err:?}").contains(short));

    let err = c
        .create_user(&new_user("ab", "long-enough-pw"))
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("body.username"));

    for (token, want) in [("wrong-token-value", "Unauthorized"), (VIEWER, "Forbidden")] {
        let err = client(&e, token).probe().await.unwrap_err();
        assert_eq!(err.category(), want);
        assert!(!format!("{err} {err:?}").contains(token));
    }

    let err = c.delete_user(&u.id).await.unwrap_err();
    assert_eq!(err.status(), Some(405), "{err:?}");
    assert!(err.to_string().contains("does not offer this route"));

    e.add_fault(FaultRule {
        route: Some(admin_users_emulator::ITEM.into()),
        status: Some(503),
        count: Some(1),
        ..Default::default()
    });
    assert!(c.get_user(&u.id).await.unwrap_err().is_transient());
    assert!(!format!("{:?}", c).contains(TOKEN));
}

#[tokio::test]
async fn requests_carry_bearer_and_are_observed_with_bounded_routes() {
    let e = emu(|_| {}).await;
    let seen: Arc<Mutex<Vec<(String, &'static str)>>> = Arc::default();
    let s = seen.clone();
    let c = AdminUsersClient::with_observer(
        AdminUsersConfig::new(&e.api_url(), BearerToken::new(TOKEN)).unwrap(),
        Arc::new(move |o: &RequestObservation| {
            s.lock()
                .unwrap()
                .push((format!("{} {}", o.method, o.route), o.outcome));
        }),
    )
    .unwrap();
    let u = c
        .create_user(&new_user("frank", "first-password"))
        .await
        .unwrap();
    c.get_user(&u.id).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("POST /admin/users/".to_string(), "ok"),
            ("GET /admin/users/{id}".to_string(), "ok")
        ]
    );
    let log = e.requests();
    assert!(log.iter().all(|r| r.auth == "bearer"));
    assert!(log[0].user_agent.starts_with("dashboard-user-operator/"));
    // A timeout is transient.
    e.add_fault(FaultRule {
        hang: true,
        count: Some(1),
        ..Default::default()
    });
    let mut cfg = AdminUsersConfig::new(&e.api_url(), BearerToken::new(TOKEN)).unwrap();
    cfg.timeout = std::time::Duration::from_millis(300);
    let err = AdminUsersClient::new(cfg)
        .unwrap()
        .get_user(&u.id)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

/// Answers the next request to `route` with `status` and `detail`.
fn refuse(e: &AdminUsersEmulator, route: &str, status: u16, detail: serde_json::Value) {
    e.add_fault(FaultRule {
        route: Some(route.into()),
        status: Some(status),
        detail: Some(detail),
        count: Some(1),
        ..Default::default()
    });
}

#[tokio::test]
async fn every_refusal_of_a_password_is_password_rejected() {
    use admin_users_emulator::{COLLECTION, PASSWORD};
    use serde_json::json;
    let e = emu(|_| {}).await;
    let c = client(&e, TOKEN);
    let u = c
        .create_user(&new_user("gina", "first-password"))
        .await
        .unwrap();
    let refused = |err: &DashboardError| matches!(err, DashboardError::PasswordRejected { .. });
    // A plain-string 422, a 400, and "already" about the password (reuse), on both routes
    // that carry one: never Invalid (retried) nor AlreadyExists (a taken username).
    for (status, detail) in [
        (422, json!("password too common")),
        (400, json!("Password does not meet the policy")),
        (400, json!("password already used")),
    ] {
        refuse(&e, COLLECTION, status, detail.clone());
        let err = c
            .create_user(&new_user("hank", "second-password"))
            .await
            .unwrap_err();
        assert!(refused(&err), "create {status} {detail}: {err:?}");
        refuse(&e, PASSWORD, status, detail.clone());
        let err = c
            .set_password(&u.id, &Password::new("second-password"))
            .await
            .unwrap_err();
        assert!(refused(&err), "set password {status} {detail}: {err:?}");
    }
    // A 400 "already exists" is a taken username only on the create.
    refuse(&e, COLLECTION, 400, json!("Username already exists"));
    let err = c
        .create_user(&new_user("hank", "second-password"))
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err:?}");
    refuse(
        &e,
        admin_users_emulator::ITEM,
        400,
        json!("value already exists"),
    );
    let err = c
        .update_user(
            &u.id,
            &UserPatch {
                email: Some("g@example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::Invalid { .. }), "{err:?}");
    // Another field of a create refused: Invalid (stalls), not PasswordRejected.
    refuse(
        &e,
        COLLECTION,
        422,
        json!([{"type": "value_error", "loc": ["body", "email"], "msg": "not an email", "input": "x"}]),
    );
    let err = c
        .create_user(&new_user("hank", "second-password"))
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::Invalid { .. }), "{err:?}");
    // The same refusal to a read: nothing the user wrote can be the cause, so it is
    // Unexpected (retried with backoff), never Invalid (which would stall the user).
    refuse(
        &e,
        admin_users_emulator::ITEM,
        422,
        json!([{"type": "uuid_parsing", "loc": ["path", "id"], "msg": "bad id", "input": "x"}]),
    );
    let err = c.get_user(&u.id).await.unwrap_err();
    assert!(matches!(err, DashboardError::Unexpected { .. }), "{err:?}");
}

#[tokio::test]
async fn find_stops_when_the_server_ignores_skip() {
    let e = emu(|s| {
        s.ignore_username_filter = true;
        s.ignore_skip = true;
    })
    .await;
    seed_many(&e, 150);
    let c = client(&e, TOKEN);
    let err = c.find_user("user-140").await.unwrap_err();
    assert!(
        matches!(err, DashboardError::Unexpected { .. }) && err.to_string().contains("skip"),
        "{err:?}"
    );
    let lists = e
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.route == admin_users_emulator::COLLECTION)
        .count();
    assert_eq!(lists, 2, "one repeated page is enough to stop");
    // On the first page it is still found.
    assert!(c.find_user("user-005").await.unwrap().is_some());
}
