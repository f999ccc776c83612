//! Dashboard API users: docs/tyk-dashboard-api.md §1.2, §3.1–§3.5, §3.7–§3.9.

use crate::support::*;
use serde_json::json;
use tyk_dashboard_emulator::{Profile, Settings, SettingsPatch};

/// (name, key, method, path, body, status, message)
type Row<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    String,
    Option<&'a str>,
    u16,
    String,
);

const ONE_PERMISSION: &str =
    "To create a user specify at least one permission, or make them an admin.";

#[tokio::test]
async fn api_user_error_table() {
    let w = world(Settings::default()).await;
    let (a, r, n, i) = (&w.a.1, &w.r.1, &w.n.1, &w.i.1);
    let missing = "0123456789abcdef01234567".to_string();
    let user = |(id, _): &(String, String)| format!("/api/users/{id}");
    let good = r#"{"first_name":"F","last_name":"L","email_address":"new@a.org","user_permissions":{"apis":"read"}}"#;
    // (name, key, method, path, body, status, message)
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("list without a key", None, "GET", "/api/users".into(), None, 401, "Not authorised".into()),
        ("list with an unknown key", Some("00000000000040000000000000000000"), "GET", "/api/users".into(), None, 401, "Not authorised".into()),
        ("list with an inactive user's key", Some(i), "GET", "/api/users".into(), None, 403, "User is not active".into()),
        ("list without users permission", Some(n), "GET", "/api/users".into(), None, 403, "access denied: You do not have permission to access  /api/users".into()),
        ("create with read only", Some(r), "POST", "/api/users".into(), Some(good), 403, "access denied: You do not have permission to access  /api/users".into()),
        ("create with an empty body", Some(a), "POST", "/api/users".into(), None, 500, "Failed to read response body, body empty.".into()),
        ("create with malformed JSON", Some(a), "POST", "/api/users".into(), Some("{"), 403, "Request body malformed.".into()),
        ("create without first_name", Some(a), "POST", "/api/users".into(), Some(r#"{"last_name":"L","email_address":"x@a.org","user_permissions":{"apis":"read"}}"#), 400, "User object validation failed.".into()),
        ("create without permissions", Some(a), "POST", "/api/users".into(), Some(r#"{"first_name":"F","last_name":"L","email_address":"x@a.org"}"#), 400, "User object validation failed.".into()),
        ("create with empty permissions", Some(a), "POST", "/api/users".into(), Some(r#"{"first_name":"F","last_name":"L","email_address":"x@a.org","user_permissions":{}}"#), 403, ONE_PERMISSION.into()),
        ("create a duplicate email", Some(a), "POST", "/api/users".into(), Some(r#"{"first_name":"F","last_name":"L","email_address":"Reader@A.org","user_permissions":{"apis":"read"}}"#), 403, "User email already exists for this org.".into()),
        ("get a missing user", Some(a), "GET", format!("/api/users/{missing}"), None, 404, "Could not retrieve user detail.".into()),
        ("get another org's user", Some(a), "GET", user(&w.b), None, 500, "Attempted unauthorised access.".into()),
        ("get another user without permission", Some(n), "GET", user(&w.a), None, 403, format!("access denied: You do not have permission to access  {}", user(&w.a))),
        ("update a missing user", Some(a), "PUT", format!("/api/users/{missing}"), Some(r#"{"first_name":"X"}"#), 400, "user does not exist.".into()),
        ("update with malformed JSON", Some(a), "PUT", user(&w.r), Some("{"), 400, "user does not exist.".into()),
        ("update with empty permissions", Some(a), "PUT", user(&w.r), Some(r#"{"user_permissions":{}}"#), 403, ONE_PERMISSION.into()),
        ("update with a bad email", Some(a), "PUT", user(&w.r), Some(r#"{"email_address":"nope"}"#), 403, ONE_PERMISSION.into()),
        ("update to a taken email", Some(a), "PUT", user(&w.r), Some(r#"{"email_address":"NOBODY@a.org"}"#), 403, "User email already exists for this org.".into()),
        ("update another org's user", Some(a), "PUT", user(&w.b), Some(r#"{"first_name":"X"}"#), 500, "Attempted unauthorised access.".into()),
        ("update with read only", Some(r), "PUT", user(&w.n), Some(r#"{"first_name":"X"}"#), 403, format!("access denied: You do not have permission to access  {}", user(&w.n))),
        ("update yourself with read only", Some(r), "PUT", user(&w.r), Some(r#"{"user_permissions":{"users":"write"}}"#), 403, format!("access denied: You do not have permission to access  {}", user(&w.r))),
        ("delete a missing user", Some(a), "DELETE", format!("/api/users/{missing}"), None, 404, "Could not retrieve user detail.".into()),
        ("delete another org's user", Some(a), "DELETE", user(&w.b), None, 500, "Attempted unauthorised access.".into()),
        ("delete with read only", Some(r), "DELETE", user(&w.n), None, 403, format!("access denied: You do not have permission to access  {}", user(&w.n))),
        ("key reset of a missing user", Some(a), "PUT", format!("/api/users/{missing}/actions/key/reset"), None, 404, "Could not retrieve user detail.".into()),
        ("key reset of another org's user", Some(a), "PUT", format!("{}/actions/key/reset", user(&w.b)), None, 500, "Attempted unauthorised access.".into()),
        ("key reset of another user with read only", Some(r), "PUT", format!("{}/actions/key/reset", user(&w.n)), None, 403, format!("access denied: You do not have permission to access  {}/actions/key/reset", user(&w.n))),
        ("revoke a missing user", Some(a), "PUT", format!("/api/users/{missing}/actions/revoke"), None, 400, "Could not retrieve user detail.".into()),
        ("revoke another org's user", Some(a), "PUT", format!("{}/actions/revoke", user(&w.b)), None, 500, "Attempted unauthorised access.".into()),
        ("search with malformed JSON", Some(a), "POST", "/api/users/search".into(), Some("{"), 400, "Could not extract search filter from request body.".into()),
        ("search with a wrongly typed query", Some(a), "POST", "/api/users/search".into(), Some(r#"{"filters":{"query":5}}"#), 400, "Could not extract search filter from request body.".into()),
        ("search with filters not an object", Some(a), "POST", "/api/users/search".into(), Some(r#"{"filters":"x"}"#), 400, "Could not extract search filter from request body.".into()),
        ("search with an empty body", Some(a), "POST", "/api/users/search".into(), None, 400, "Could not extract search filter from request body.".into()),
        ("search without users permission", Some(n), "POST", "/api/users/search".into(), Some(r#"{"filters":{"query":"a"}}"#), 403, "access denied: You do not have permission to access  /api/users/search".into()),
    ];
    let before = w.e.emu.users();
    for (name, key, method, path, body, status, message) in &cases {
        let auth = key.map_or(Auth::None, Auth::Key);
        let resp = w.e.send(method, path, auth, *body).await;
        let want = format!(r#"{{"Status":"Error","Message":"{message}","Meta":null}}"#);
        assert_eq!(
            (resp.status, resp.text.as_str()),
            (*status, want.as_str()),
            "{name}"
        );
    }
    assert_eq!(w.e.emu.users(), before, "error cases must not change state");
}

#[tokio::test]
async fn bearer_and_raw_keys_both_work() {
    let w = world(Settings::default()).await;
    let raw =
        w.e.send("GET", "/api/users?p=-1", Auth::Key(&w.a.1), None)
            .await;
    let bearer =
        w.e.send("GET", "/api/users?p=-1", Auth::Bearer(&w.a.1), None)
            .await;
    assert_eq!((raw.status, bearer.status), (200, 200));
    assert_eq!(raw.text, bearer.text);
}

#[tokio::test]
async fn inactive_status_is_configurable() {
    let w = world(Settings {
        inactive_key_status: 401,
        ..Default::default()
    })
    .await;
    w.e.api(&w.i.1, "GET", "/api/users", None)
        .await
        .envelope(401, "Error", "User is not active");
}

#[tokio::test]
async fn list_is_org_scoped_paged_and_shaped() {
    let w = world(Settings {
        page_size: 2,
        ..Default::default()
    })
    .await;
    let s =
        w.e.user("", "root@x.org", json!({"IsAdmin":"admin"}), true)
            .await;
    let r = w.e.api(&w.a.1, "GET", "/api/users?p=-1", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        emails(&v),
        ["admin@a.org", "reader@a.org", "nobody@a.org", "idle@a.org"]
    );
    assert_eq!(v["pages"], 2);
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["pages", "users"]
    );
    assert_shape(
        &v["users"][0],
        &get_user_shape(
            ORG,
            "admin@a.org",
            &w.a.1,
            json!({"IsAdmin":"admin"}),
            false,
        ),
    );
    assert!(!r.text.contains("\"password\""));
    let p1 = w.e.api(&w.a.1, "GET", "/api/users?p=1", None).await.json();
    let p2 = w.e.api(&w.a.1, "GET", "/api/users?p=2", None).await.json();
    let p3 = w.e.api(&w.a.1, "GET", "/api/users?p=3", None).await.json();
    let none = w.e.api(&w.a.1, "GET", "/api/users", None).await.json();
    assert_eq!(emails(&p1), ["admin@a.org", "reader@a.org"]);
    assert_eq!(emails(&p2), ["nobody@a.org", "idle@a.org"]);
    assert!(emails(&p3).is_empty());
    assert_eq!(emails(&none), emails(&p1), "no p = first page");
    // A super user sees every org (docs/tyk-dashboard-api.md §3).
    let all = w.e.api(&s.1, "GET", "/api/users?p=-2", None).await.json();
    assert_eq!(all["users"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn forbid_admin_view_access_token_blanks_other_keys_only() {
    let w = world(Settings {
        forbid_admin_view_access_token: true,
        ..Default::default()
    })
    .await;
    let v = w.e.api(&w.a.1, "GET", "/api/users?p=-1", None).await.json();
    for u in v["users"].as_array().unwrap() {
        let want = if u["id"] == w.a.0.as_str() {
            w.a.1.as_str()
        } else {
            ""
        };
        assert_eq!(u["access_key"], want);
    }
    let other =
        w.e.api(&w.a.1, "GET", &format!("/api/users/{}", w.r.0), None)
            .await
            .json();
    assert_eq!(other["access_key"], "");
    let me =
        w.e.api(&w.a.1, "GET", &format!("/api/users/{}", w.a.0), None)
            .await
            .json();
    assert_eq!(me["access_key"], w.a.1.as_str());
    // The Admin API is not affected (docs/tyk-dashboard-api.md §13.9 choice).
    let admin =
        w.e.admin("GET", &format!("/admin/users/{}", w.r.0), None)
            .await
            .json();
    assert_eq!(admin["access_key"], w.r.1.as_str());
    // ... unless configured to be (the other reading of docs/tyk-dashboard-api.md §13.9).
    w.e.emu
        .update_settings(SettingsPatch {
            forbid_applies_to_admin_get: Some(true),
            ..Default::default()
        })
        .unwrap();
    let path = format!("/admin/users/{}", w.r.0);
    assert_eq!(w.e.admin("GET", &path, None).await.json()["access_key"], "");
}

#[tokio::test]
async fn get_self_needs_no_permission() {
    let w = world(Settings::default()).await;
    let r =
        w.e.api(&w.n.1, "GET", &format!("/api/users/{}", w.n.0), None)
            .await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &get_user_shape(ORG, "nobody@a.org", &w.n.1, json!({"apis":"read"}), false),
    );
}

#[tokio::test]
async fn create_answers_per_profile_and_forces_the_org() {
    let w = world(Settings::default()).await;
    let body = json!({"first_name":"F","last_name":"L","email_address":"New@A.org","org_id": ORG2,
        "active": true, "password": "initial-pw",
        "user_permissions":{"apis":"write","ResetPassword":"admin"}});
    let r =
        w.e.api(&w.a.1, "POST", "/api/users", Some(&body.to_string()))
            .await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"User and session have been created","Meta":"<hex24>"}),
    );
    let id = r.json()["Meta"].as_str().unwrap().to_string();
    let u = w.e.emu.users().into_iter().find(|u| u.id == id).unwrap();
    assert_eq!(
        (u.org_id.as_str(), u.email_address.as_str()),
        (ORG, "new@a.org")
    );
    assert_eq!(
        u.user_permissions.len(),
        1,
        "ResetPassword is Admin-API only"
    );
    assert!(u.active && u.password_set);
    assert!(w.e.emu.check_password("new@a.org", ORG, "initial-pw"));
    // The key is not returned, but a GET shows it.
    let got =
        w.e.api(&w.a.1, "GET", &format!("/api/users/{id}"), None)
            .await
            .json();
    assert_eq!(got["access_key"], u.access_key.as_str());

    w.e.emu
        .update_settings(tyk_dashboard_emulator::SettingsPatch {
            profile: Some(Profile::Legacy),
            ..Default::default()
        })
        .unwrap();
    let body = json!({"first_name":"F","last_name":"L","email_address":"old@a.org","user_permissions":{"apis":"read"}});
    let r =
        w.e.api(&w.a.1, "POST", "/api/users", Some(&body.to_string()))
            .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, r#"{"Status":"OK","Message":"User created","Meta":""}"#)
    );
    let got =
        w.e.api(&w.a.1, "GET", &format!("/api/users/{id}"), None)
            .await
            .json();
    assert_eq!(got["password"], "", "legacy GET shows an empty password");
}

#[tokio::test]
async fn update_merges_and_keeps_reset_password() {
    let w = world(Settings::default()).await;
    w.e.admin(
        "PUT",
        &format!("/admin/users/{}/actions/allow_reset_passwords", w.r.0),
        None,
    )
    .await;
    let body = json!({"first_name":"Renamed","email_address":"NEW.Reader@a.org","org_id": ORG2,
        "user_permissions":{"users":"write"},"password":"ignored-pw"});
    let r =
        w.e.api(
            &w.a.1,
            "PUT",
            &format!("/api/users/{}", w.r.0),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            200,
            r#"{"Status":"OK","Message":"User updated","Meta":null}"#
        )
    );
    let u = w.e.emu.users().into_iter().find(|u| u.id == w.r.0).unwrap();
    assert_eq!(u.first_name, "Renamed");
    assert_eq!(u.last_name, "L", "absent fields are kept");
    assert_eq!(u.email_address, "new.reader@a.org");
    assert_eq!(
        u.org_id, ORG,
        "org_id is not changed through the Dashboard API"
    );
    assert_eq!(
        u.user_permissions.get("ResetPassword").map(String::as_str),
        Some("admin")
    );
    assert_eq!(
        u.user_permissions.get("users").map(String::as_str),
        Some("write")
    );
    assert!(!u.password_set, "password is ignored by PUT /api/users");
    // Deactivating cuts API access with the same key.
    w.e.api(
        &w.a.1,
        "PUT",
        &format!("/api/users/{}", w.r.0),
        Some(r#"{"active":false}"#),
    )
    .await;
    w.e.api(&w.r.1, "GET", "/api/users", None)
        .await
        .envelope(403, "Error", "User is not active");
}

#[tokio::test]
async fn delete_answers_per_profile() {
    for (profile, meta) in [(Profile::V5_8, "null"), (Profile::Legacy, "\"\"")] {
        let w = world(Settings {
            profile,
            ..Default::default()
        })
        .await;
        let path = format!("/api/users/{}", w.n.0);
        let r = w.e.api(&w.a.1, "DELETE", &path, None).await;
        assert_eq!(
            (r.status, r.text),
            (
                200,
                format!(r#"{{"Status":"OK","Message":"User deleted","Meta":{meta}}}"#)
            )
        );
        w.e.api(&w.a.1, "GET", &path, None).await.envelope(
            404,
            "Error",
            "Could not retrieve user detail.",
        );
        w.e.api(&w.n.1, "GET", "/api/users", None)
            .await
            .envelope(401, "Error", "Not authorised");
    }
}
