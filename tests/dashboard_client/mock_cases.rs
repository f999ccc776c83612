//! Client behaviour against a scripted server: answer shapes the emulator does not produce,
//! headers on the wire, fallbacks, the in-flight limit and the metrics hook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashboard_user_operator::dashboard::{
    AccessKey, AdminSecret, ApiKey, ConnectionConfig, DashboardClient, DashboardError, NewUser,
    Password, RequestObservation,
};
use serde_json::json;

use crate::decoding::fixture;
use crate::mock::Mock;
use crate::secrets::{ADMIN_SECRET, API_KEY, assert_clean};

fn client(url: &str, api_key: Option<&str>) -> DashboardClient {
    let mut cfg = ConnectionConfig::new(url, AdminSecret::new(ADMIN_SECRET)).unwrap();
    cfg.api_key = api_key.map(ApiKey::new);
    DashboardClient::new(cfg).unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        org_id: "5e9d9544a1dcd60001d0ed20".into(),
        first_name: "Multi org".into(),
        last_name: "User".into(),
        email_address: email.into(),
        active: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn admin_create_v5_8_with_double_encoded_id_and_auth_headers() {
    let mock = Mock::start(|_| (200, text("admin_create_v5_8_swagger.json"))).await;
    let c = client(&mock.url, None);
    let created = c
        .create_user(&new_user("itachisasuke@gmail.com"))
        .await
        .unwrap();
    assert_eq!(created.user.id, "679a02465715ecdd507d7273");
    assert_eq!(
        created.access_key.expose(),
        "c8251902f3f44dfa729e0267d0d62859"
    );
    let seen = mock.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("POST", "/admin/users")
    );
    assert_eq!(seen[0].header("admin-auth"), Some(ADMIN_SECRET));
    assert!(seen[0].header("authorization").is_none());
    assert!(
        seen[0]
            .header("user-agent")
            .unwrap()
            .starts_with("dashboard-user-operator/")
    );
    let body = seen[0].json();
    assert_eq!(body["email_address"], "itachisasuke@gmail.com");
    assert!(body.get("password").is_none() && body.get("user_permissions").is_none());
}

#[tokio::test]
async fn pre_2019_admin_create_is_resolved_by_email_search() {
    // "User created" / Meta "" names nothing (docs/tyk-dashboard-api.md §2.1); the user is found by
    // email (docs/tyk-dashboard-api.md §10.3).
    let mock = Mock::start(|req| match req.target.as_str() {
        "/admin/users" => (200, text("admin_create_2017_user_created.json")),
        "/api/users/search?p=-1" => (200, text("list_swagger.json")),
        _ => (
            404,
            r#"{"Status":"Error","Message":"Not Found","Meta":null}"#.into(),
        ),
    })
    .await;
    let c = client(&mock.url, Some(API_KEY));
    let created = c
        .create_user(&new_user("MULTI-org-user@example.org"))
        .await
        .unwrap();
    assert_eq!(created.user.id, "66498cd1e2fcd1000184ecb5");
    assert_eq!(
        created.access_key.expose(),
        "d7ebef749e4348cb67fec3cfc81f0a50"
    );
    let seen = mock.seen();
    assert_eq!(
        seen[1].header("authorization"),
        Some(API_KEY),
        "raw key, no scheme (docs/tyk-dashboard-api.md §1.2)"
    );
    assert_eq!(
        seen[1].json(),
        json!({"filters": {"query": "MULTI-org-user@example.org"}})
    );

    // Without an API key and without a key in Message, nothing can identify the user.
    let err = client(&mock.url, None)
        .create_user(&new_user("x@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(err, DashboardError::Unexpected { .. }), "{err}");
    assert!(err.to_string().contains("api key"), "{err}");
    assert_clean(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn search_missing_on_old_dashboards_falls_back_to_the_list() {
    let mock = Mock::start(|req| match req.target.as_str() {
        "/api/users?p=-1" => (200, text("list_swagger.json")),
        _ => (
            404,
            r#"{"Status":"Error","Message":"Could not search users.","Meta":null}"#.into(),
        ),
    })
    .await;
    let c = client(&mock.url, Some(API_KEY));
    let found = c
        .find_user_by_email("Admin-User@Example.org", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "66498cd1e2fcd1000184ecb4");
    // Substrings never match: only exact, case-insensitive emails count
    // (docs/tyk-dashboard-api.md §3.9).
    assert!(
        c.find_user_by_email("user@example.org", None)
            .await
            .unwrap()
            .is_none()
    );
    let found = c
        .find_user_by_email("munene@gmail.com", Some("5e9d9544a1dcd60001d0ed20"))
        .await
        .unwrap();
    assert_eq!(found.unwrap().group_id, "6649986d5715ec4c96cbef2b");
    assert!(
        c.find_user_by_email("munene@gmail.com", Some("000000000000000000000001"))
            .await
            .unwrap()
            .is_none()
    );
    let targets: Vec<String> = mock.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(&targets[..2], ["/api/users/search?p=-1", "/api/users?p=-1"]);
}

#[tokio::test]
async fn the_same_email_in_two_orgs_is_ambiguous_without_an_org() {
    let mut list: serde_json::Value =
        serde_json::from_slice(&fixture("list_swagger.json")).unwrap();
    let mut twin = list["users"][0].clone();
    twin["id"] = json!("5f7f98427fea06e1b637b2b9");
    twin["org_id"] = json!("60ef3a1dcb83670001bf2df9");
    list["users"].as_array_mut().unwrap().push(twin);
    let body = list.to_string();
    let mock = Mock::start(move |_| (200, body.clone())).await;
    let c = client(&mock.url, Some(API_KEY));
    let err = c
        .find_user_by_email("multi-org-user@example.org", None)
        .await
        .unwrap_err();
    assert_eq!(err.category(), "Ambiguous");
    let one = c
        .find_user_by_email(
            "multi-org-user@example.org",
            Some("60ef3a1dcb83670001bf2df9"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.id, "5f7f98427fea06e1b637b2b9");
}

#[tokio::test]
async fn admin_update_sends_the_whole_object_and_accepts_both_answers() {
    for answer in ["admin_update_legacy.json", "admin_update_v5_8_swagger.json"] {
        let mock = Mock::start(move |req| match req.method.as_str() {
            "GET" => (200, text("get_2017_with_password.json")),
            _ => (200, text(answer)),
        })
        .await;
        let c = client(&mock.url, None);
        let mut user = c.get_user("54bd0ad9ff4329b88985aafb").await.unwrap();
        user.first_name = "Renamed".into();
        c.update_user(&user, None).await.unwrap();
        c.update_user(&user, Some(&Password::new("n3w-Passw0rd")))
            .await
            .unwrap();
        let seen = mock.seen();
        let put = seen[1].json();
        assert_eq!(seen[1].target, "/admin/users/54bd0ad9ff4329b88985aafb");
        assert_eq!(put["first_name"], "Renamed");
        assert_eq!(
            put["access_key"], "a81ee6f0c8f2467d539c132c8a422346",
            "docs/tyk-dashboard-api.md §2.3"
        );
        assert_eq!(put["org_id"], "54b53d3aeba6db5c35000002");
        assert_eq!(put["api_model"], json!({}));
        assert!(
            put.get("password").is_none(),
            "the echoed \"\" is never sent back"
        );
        assert_eq!(seen[2].json()["password"], "n3w-Passw0rd");
    }
}

#[tokio::test]
async fn error_status_inside_a_200_and_proxy_pages_are_errors() {
    let mock = Mock::start(|req| match req.target.as_str() {
        "/admin/users/aaaaaaaaaaaaaaaaaaaaaaaa" => (
            200,
            r#"{"Status":"Error","Message":"User not found","Meta":null}"#.into(),
        ),
        _ => (502, "<html><body>Bad Gateway</body></html>".into()),
    })
    .await;
    let c = client(&mock.url, None);
    let err = c.get_user("aaaaaaaaaaaaaaaaaaaaaaaa").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = c.get_user("bbbbbbbbbbbbbbbbbbbbbbbb").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.status(), Some(502));
}

#[tokio::test]
async fn server_messages_never_carry_secrets_into_errors() {
    // A misbehaving server echoing credentials in its message (the admin create's Message
    // *is* a key on success, docs/tyk-dashboard-api.md §10.2).
    let mock = Mock::start(|req| {
        let echoed = format!(
            "bad request from {} with key c8251902f3f44dfa729e0267d0d62859 and {}",
            req.header("admin-auth").unwrap_or_default(),
            req.header("authorization").unwrap_or_default()
        );
        (
            403,
            json!({"Status":"Error","Message": echoed,"Meta":null}).to_string(),
        )
    })
    .await;
    let c = client(&mock.url, Some(API_KEY));
    let own = AccessKey::new("own-access-key-Qm9");
    let pw = Password::new("pass-word-Xy12");
    let errs = vec![
        c.get_user("aaaaaaaaaaaaaaaaaaaaaaaa").await.unwrap_err(),
        c.delete_user("aaaaaaaaaaaaaaaaaaaaaaaa").await.unwrap_err(),
        c.reset_access_key("aaaaaaaaaaaaaaaaaaaaaaaa", &own)
            .await
            .unwrap_err(),
        c.reset_password_as_user("aaaaaaaaaaaaaaaaaaaaaaaa", &own, &pw, Some(&pw))
            .await
            .unwrap_err(),
    ];
    for err in errs {
        let printed = format!("{err} / {err:?}");
        assert_clean(&printed);
        assert!(
            !printed.contains("own-access-key-Qm9") && !printed.contains("pass-word-Xy12"),
            "{printed}"
        );
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}

#[tokio::test]
async fn calls_needing_an_api_key_fail_early_without_one() {
    let mock = Mock::start(|_| (200, "{}".into())).await;
    let c = client(&mock.url, None);
    for err in [
        c.delete_user("aaaaaaaaaaaaaaaaaaaaaaaa").await.unwrap_err(),
        c.find_user_by_email("a@b.c", None).await.unwrap_err(),
        c.list_users().await.unwrap_err(),
        c.reset_password_as_admin("aaaaaaaaaaaaaaaaaaaaaaaa", &Password::new("abcdefgh"), None)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.category(), "Config", "{err}");
    }
    // Ids are checked before they reach a URL.
    let err = c.get_user("../admin/organisations").await.unwrap_err();
    assert_eq!(err.category(), "Config");
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn in_flight_requests_are_bounded_per_connection() {
    let mock = Mock::start_with_delay(Duration::from_millis(100), |_| {
        (200, text("admin_get_swagger.json"))
    })
    .await;
    let mut cfg = ConnectionConfig::new(&mock.url, AdminSecret::new(ADMIN_SECRET)).unwrap();
    cfg.max_concurrent_requests = 2;
    let c = DashboardClient::new(cfg).unwrap();
    let calls = (0..8).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.get_user("679a02465715ecdd507d7273").await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(mock.seen().len(), 8);
    assert_eq!(mock.max_in_flight(), 2);
}

#[tokio::test]
async fn the_observer_sees_bounded_labels() {
    let mock = Mock::start(|req| match req.method.as_str() {
        "GET" => (200, text("admin_get_swagger.json")),
        _ => (
            404,
            r#"{"Status":"Error","Message":"Could not retrieve user detail.","Meta":null}"#.into(),
        ),
    })
    .await;
    let seen: Arc<Mutex<Vec<RequestObservation>>> = Arc::default();
    let sink = seen.clone();
    let c =
        client(&mock.url, Some(API_KEY)).with_observer(Arc::new(move |o: &RequestObservation| {
            sink.lock().unwrap().push(o.clone())
        }));
    c.get_user("679a02465715ecdd507d7273").await.unwrap();
    c.delete_user("679a02465715ecdd507d7273").await.unwrap_err();
    let seen = seen.lock().unwrap();
    let labels: Vec<_> = seen
        .iter()
        .map(|o| (o.method, o.route, o.status, o.outcome))
        .collect();
    assert_eq!(
        labels,
        [
            ("GET", "/admin/users/{id}", Some(200), "ok"),
            ("DELETE", "/api/users/{id}", Some(404), "NotFound")
        ]
    );
}

#[tokio::test]
async fn redirects_are_not_followed_so_credentials_stay_home() {
    let elsewhere = Mock::start(|_| (200, text("admin_get_swagger.json"))).await;
    let target = format!("{}/admin/users/679a02465715ecdd507d7273", elsewhere.url);
    let mock = Mock::start(move |_| (302, target.clone())).await;
    let c = client(&mock.url, None);
    let err = c.get_user("679a02465715ecdd507d7273").await.unwrap_err();
    assert_eq!(err.category(), "Unexpected", "{err}");
    assert_eq!(err.status(), Some(302));
    assert!(
        elsewhere.seen().is_empty(),
        "the admin secret never left for another host"
    );
}

#[test]
fn a_zero_timeout_is_refused() {
    let mut cfg =
        ConnectionConfig::new("http://127.0.0.1:1", AdminSecret::new(ADMIN_SECRET)).unwrap();
    cfg.timeout = Duration::ZERO;
    assert_eq!(DashboardClient::new(cfg).unwrap_err().category(), "Config");
}

#[tokio::test]
async fn password_and_key_calls_send_the_documented_bodies() {
    let mock = Mock::start(|_| (200, text("api_reset_password.json"))).await;
    let c = client(&mock.url, Some(API_KEY));
    let own = AccessKey::new("c8251902f3f44dfa729e0267d0d62859");
    let new = Password::new("newMinimum6CharactersPassword");
    let current = Password::new("minimum6charactersPassword");
    let id = "679a02465715ecdd507d7273";
    c.reset_password_as_user(id, &own, &new, Some(&current))
        .await
        .unwrap();
    c.reset_password_as_user(id, &own, &new, None)
        .await
        .unwrap();
    c.reset_password_as_admin(id, &new, None).await.unwrap();
    c.reset_access_key(id, &own).await.unwrap();
    c.find_user_by_email("itachi@tyk.io", None).await.ok();
    let seen = mock.seen();
    let parse =
        |name: &str| -> serde_json::Value { serde_json::from_slice(&fixture(name)).unwrap() };
    assert_eq!(seen[0].target, format!("/api/users/{id}/actions/reset"));
    assert_eq!(
        seen[0].json(),
        parse("reset_password_request.json"),
        "docs/tyk-dashboard-api.md §3.6 UserPassword"
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(own.expose()),
        "self-reset with the own key"
    );
    assert_eq!(seen[1].json(), parse("reset_password_first_request.json"));
    assert_eq!(seen[2].header("authorization"), Some(API_KEY));
    assert_eq!(
        (seen[3].method.as_str(), seen[3].body.len()),
        ("PUT", 0),
        "docs/tyk-dashboard-api.md §3.7: no body"
    );
    assert_eq!(seen[3].target, format!("/api/users/{id}/actions/key/reset"));
    assert_eq!(
        seen[4].json(),
        parse("search_request.json"),
        "docs/tyk-dashboard-api.md §3.9"
    );
}
