//! Admin API users: docs/tyk-dashboard-api.md §2.1–§2.5.

use crate::support::*;
use serde_json::json;
use tyk_dashboard_emulator::{Settings, SettingsPatch};

struct Case {
    name: &'static str,
    method: &'static str,
    /// `{id}` is replaced by the existing user's id, `{key}` in the body by its key.
    path: &'static str,
    auth: Auth<'static>,
    body: Option<&'static str>,
    status: u16,
    /// The exact error message of an `Error` envelope, or a raw body when starting with `raw:`.
    expect: &'static str,
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "create without admin-auth", method: "POST", path: "/admin/users", auth: Auth::None, body: Some("{}"), status: 401, expect: "Not authorised" },
    Case { name: "create with a wrong secret", method: "POST", path: "/admin/users", auth: Auth::Admin("nope"), body: Some("{}"), status: 401, expect: "Not authorised" },
    Case { name: "create with an empty body", method: "POST", path: "/admin/users", auth: Auth::Admin(SECRET), body: None, status: 500, expect: "Failed to read response body, body empty" },
    Case { name: "create with malformed JSON", method: "POST", path: "/admin/users", auth: Auth::Admin(SECRET), body: Some("{\"email_address\":"), status: 403, expect: "Request body malformed" },
    Case { name: "create with a non-hex id", method: "POST", path: "/admin/users", auth: Auth::Admin(SECRET), body: Some(r#"{"id":"xyz","email_address":"a@b.c"}"#), status: 403, expect: "Request body malformed" },
    Case { name: "create with a wrongly typed field", method: "POST", path: "/admin/users", auth: Auth::Admin(SECRET), body: Some(r#"{"active":"yes"}"#), status: 403, expect: "Request body malformed" },
    Case { name: "create a duplicate email (other case)", method: "POST", path: "/admin/users", auth: Auth::Admin(SECRET), body: Some(r#"{"org_id":"5d15d3068ba30a0001621bfe","email_address":"JASON@x.com"}"#), status: 403, expect: "User email already exists for this Org" },
    Case { name: "get without admin-auth", method: "GET", path: "/admin/users/{id}", auth: Auth::None, body: None, status: 401, expect: "Not authorised" },
    Case { name: "get a missing user", method: "GET", path: "/admin/users/0123456789abcdef01234567", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "Could not retrieve user detail" },
    Case { name: "get a non-hex id", method: "GET", path: "/admin/users/not-an-id", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "Could not retrieve user detail" },
    Case { name: "update a missing user", method: "PUT", path: "/admin/users/0123456789abcdef01234567", auth: Auth::Admin(SECRET), body: Some(r#"{"access_key":"{key}"}"#), status: 404, expect: "User not found" },
    Case { name: "update with an empty body", method: "PUT", path: "/admin/users/{id}", auth: Auth::Admin(SECRET), body: None, status: 500, expect: "Failed to read response body, body empty" },
    Case { name: "update with malformed JSON", method: "PUT", path: "/admin/users/{id}", auth: Auth::Admin(SECRET), body: Some("[1,"), status: 403, expect: "Request body malformed" },
    Case { name: "update without access_key", method: "PUT", path: "/admin/users/{id}", auth: Auth::Admin(SECRET), body: Some(r#"{"first_name":"X"}"#), status: 500, expect: "Could not update API session when update user" },
    Case { name: "update with a wrong access_key", method: "PUT", path: "/admin/users/{id}", auth: Auth::Admin(SECRET), body: Some(r#"{"access_key":"00000000000040000000000000000000"}"#), status: 500, expect: "Could not update API session when update user" },
    Case { name: "update without admin-auth", method: "PUT", path: "/admin/users/{id}", auth: Auth::None, body: Some(r#"{"access_key":"{key}"}"#), status: 401, expect: "Not authorised" },
    Case { name: "allow reset on a missing user", method: "PUT", path: "/admin/users/0123456789abcdef01234567/actions/allow_reset_passwords", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "Could not retrieve user detail" },
    Case { name: "disallow reset on a missing user", method: "PUT", path: "/admin/users/0123456789abcdef01234567/actions/disallow_reset_passwords", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "Could not retrieve user detail" },
    Case { name: "allow reset without admin-auth", method: "PUT", path: "/admin/users/{id}/actions/allow_reset_passwords", auth: Auth::None, body: None, status: 401, expect: "Not authorised" },
    Case { name: "no admin user list", method: "GET", path: "/admin/users", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "raw:404 page not found\n" },
    Case { name: "no admin user delete", method: "DELETE", path: "/admin/users/{id}", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "raw:404 page not found\n" },
    Case { name: "no admin key reset", method: "PUT", path: "/admin/users/{id}/actions/key/reset", auth: Auth::Admin(SECRET), body: None, status: 404, expect: "raw:404 page not found\n" },
];

#[tokio::test]
async fn admin_user_error_table() {
    let e = start_default().await;
    let (id, key) = e
        .user(ORG, "Jason@X.com", json!({"IsAdmin":"admin"}), true)
        .await;
    for c in CASES {
        let path = c.path.replace("{id}", &id);
        let body = c.body.map(|b| b.replace("{key}", &key));
        let r = e.send(c.method, &path, c.auth, body.as_deref()).await;
        match c.expect.strip_prefix("raw:") {
            Some(raw) => assert_eq!((r.status, r.text.as_str()), (c.status, raw), "{}", c.name),
            None => {
                let want = format!(
                    r#"{{"Status":"Error","Message":"{}","Meta":null}}"#,
                    c.expect
                );
                assert_eq!(
                    (r.status, r.text.as_str()),
                    (c.status, want.as_str()),
                    "{}",
                    c.name
                );
            }
        }
    }
    // Nothing in the table may have written anything.
    assert_eq!(e.emu.users().len(), 1);
    assert_eq!(e.stats().await["writes"], 1);
}

#[tokio::test]
async fn create_returns_key_in_message_and_full_user_in_meta() {
    let e = start_default().await;
    let body = r#"{"org_id":"5d15d3068ba30a0001621bfe","first_name":"Jason","last_name":"Jasonson","email_address":"Jason@JasonsonSon.com"}"#;
    // Trailing slash and no Content-Type, as tyk-pro-docker-demo sends it
    // (docs/tyk-dashboard-api.md §1.1).
    let r = e.admin("POST", "/admin/users/", Some(body)).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.starts_with(r#"{"Status":"OK","Message":""#),
        "{}",
        r.text
    );
    let v = r.json();
    let perms = json!({"IsAdmin":"admin","ResetPassword":"admin"});
    assert_shape(
        &v,
        &json!({"Status":"OK","Message":"<hex32>",
        "Meta": admin_user_shape(ORG, "jason@jasonsonson.com", false, perms)}),
    );
    assert_eq!(v["Message"], v["Meta"]["access_key"]);
    assert!(
        !r.text.contains("password\""),
        "password must never be returned"
    );
    let state = e.emu.users();
    assert_eq!(state[0].id, v["Meta"]["id"].as_str().unwrap());
}

#[tokio::test]
async fn create_keeps_given_permissions_and_fields() {
    let e = start_default().await;
    let body = json!({"org_id": ORG, "first_name":"A","last_name":"B","email_address":"a@b.c",
        "active": true, "user_permissions": {"users":"write","IsAdmin":"admin"}, "group_id": ""});
    let v = e
        .admin("POST", "/admin/users", Some(&body.to_string()))
        .await
        .json();
    assert_shape(
        &v["Meta"],
        &admin_user_shape(
            ORG,
            "a@b.c",
            true,
            json!({"IsAdmin":"admin","users":"write"}),
        ),
    );
    // Empty permissions get the defaults too (docs/tyk-dashboard-api.md §2.1).
    let body = json!({"email_address":"super@b.c","user_permissions":{}});
    let v = e
        .admin("POST", "/admin/users", Some(&body.to_string()))
        .await
        .json();
    assert_shape(
        &v["Meta"],
        &admin_user_shape(
            "",
            "super@b.c",
            false,
            json!({"IsAdmin":"admin","ResetPassword":"admin"}),
        ),
    );
}

#[tokio::test]
async fn email_is_unique_per_org_only() {
    let e = start_default().await;
    e.user(ORG, "same@x.com", json!({}), true).await;
    e.user(ORG2, "same@x.com", json!({}), true).await;
    e.user("", "same@x.com", json!({}), true).await;
    assert_eq!(e.emu.users().len(), 3);
    // The other reading of docs/tyk-dashboard-api.md §13.6: unique across orgs.
    let e = start(Settings {
        unique_email_globally: true,
        ..Default::default()
    })
    .await;
    e.user(ORG, "same@x.com", json!({}), true).await;
    let body = json!({"org_id": ORG2, "email_address": "Same@x.com"}).to_string();
    e.admin("POST", "/admin/users", Some(&body)).await.envelope(
        403,
        "Error",
        "User email already exists for this Org",
    );
}

#[tokio::test]
async fn create_ignores_password_unless_configured() {
    let e = start_default().await;
    let body = json!({"org_id": ORG, "email_address":"p@x.com","password":"secret123"});
    e.admin("POST", "/admin/users", Some(&body.to_string()))
        .await;
    assert!(!e.emu.check_password("p@x.com", ORG, "secret123"));
    e.emu
        .update_settings(SettingsPatch {
            admin_create_sets_password: Some(true),
            ..Default::default()
        })
        .unwrap();
    let body = json!({"org_id": ORG, "email_address":"q@x.com","password":"secret123"});
    let v = e
        .admin("POST", "/admin/users", Some(&body.to_string()))
        .await
        .json();
    assert!(e.emu.check_password("Q@x.com", ORG, "secret123"));
    assert!(v["Meta"]["password_updated"].as_str().unwrap() != "0001-01-01T00:00:00Z");
}

#[tokio::test]
async fn get_returns_the_bare_user() {
    let e = start_default().await;
    let (id, key) = e
        .user(ORG, "g@x.com", json!({"IsAdmin":"admin"}), true)
        .await;
    let r = e.admin("GET", &format!("/admin/users/{id}"), None).await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &get_user_shape(ORG, "g@x.com", &key, json!({"IsAdmin":"admin"}), false),
    );
    assert_eq!(r.json()["id"], id.as_str());
}

#[tokio::test]
async fn update_v5_8_answers_key_and_user_and_keeps_absent_fields() {
    let e = start_default().await;
    let (id, key) = e
        .user(ORG, "u@x.com", json!({"IsAdmin":"admin"}), true)
        .await;
    let body = json!({"id": id, "access_key": key, "first_name":"New", "email_address":"NEW@x.com", "active": false});
    let r = e
        .admin(
            "PUT",
            &format!("/admin/users/{id}"),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["Message"], key.as_str());
    let mut shape = get_user_shape(ORG, "new@x.com", &key, json!({"IsAdmin":"admin"}), false);
    shape["active"] = json!(false);
    shape["first_name"] = json!("New");
    assert_shape(&v["Meta"], &shape);
    // A duplicate email inside the org is refused with the admin wording.
    e.user(ORG, "other@x.com", json!({}), true).await;
    let body = json!({"access_key": key, "email_address":"Other@x.com"});
    e.admin(
        "PUT",
        &format!("/admin/users/{id}"),
        Some(&body.to_string()),
    )
    .await
    .envelope(403, "Error", "User email already exists for this Org");
}

#[tokio::test]
async fn update_legacy_answers_user_updated_with_empty_meta() {
    let e = start(Settings {
        profile: tyk_dashboard_emulator::Profile::Legacy,
        ..Default::default()
    })
    .await;
    let (id, key) = e.user(ORG, "u@x.com", json!({}), true).await;
    let body = json!({"access_key": key, "last_name":"Z"});
    let r = e
        .admin(
            "PUT",
            &format!("/admin/users/{id}"),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, r#"{"Status":"OK","Message":"User updated","Meta":""}"#)
    );
    assert_eq!(e.emu.users()[0].last_name, "Z");
}

#[tokio::test]
async fn update_with_password_sets_it_under_the_policy() {
    let e = start(Settings {
        password_history: 2,
        ..Default::default()
    })
    .await;
    let (id, key) = e.user(ORG, "pw@x.com", json!({}), true).await;
    let path = format!("/admin/users/{id}");
    let put = |pw: &str| json!({"access_key": key, "password": pw}).to_string();
    let r = e.admin("PUT", &path, Some(&put("first-pass"))).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["Meta"]["password_updated"].as_str().unwrap().len() > 20);
    assert_ne!(r.json()["Meta"]["password_updated"], "0001-01-01T00:00:00Z");
    assert!(e.emu.check_password("pw@x.com", ORG, "first-pass"));
    e.admin("PUT", &path, Some(&put("short"))).await.envelope(
        403,
        "Error",
        "Password must be at least 6 characters long.",
    );
    e.admin("PUT", &path, Some(&put("first-pass")))
        .await
        .envelope(
            403,
            "Error",
            "Password must not match any of the last 2 passwords.",
        );
    assert!(e.emu.check_password("pw@x.com", ORG, "first-pass"));
    // Without `password`, the hash is kept (docs/tyk-dashboard-api.md §13.2 choice).
    e.admin("PUT", &path, Some(&json!({"access_key": key}).to_string()))
        .await;
    assert!(e.emu.check_password("pw@x.com", ORG, "first-pass"));
}

#[tokio::test]
async fn allow_and_disallow_reset_passwords() {
    let e = start_default().await;
    let (id, _) = e
        .user(ORG, "r@x.com", json!({"IsAdmin":"admin"}), true)
        .await;
    let r = e
        .admin(
            "PUT",
            &format!("/admin/users/{id}/actions/allow_reset_passwords"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"User updated",
        "Meta": admin_user_shape(ORG, "r@x.com", true, json!({"IsAdmin":"admin","ResetPassword":"admin"}))}),
    );
    let r = e
        .admin(
            "PUT",
            &format!("/admin/users/{id}/actions/disallow_reset_passwords"),
            None,
        )
        .await;
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"User updated",
        "Meta": admin_user_shape(ORG, "r@x.com", true, json!({"IsAdmin":"admin"}))}),
    );
}

#[tokio::test]
async fn missing_route_status_is_configurable() {
    let e = start(Settings {
        missing_route_status: 405,
        ..Default::default()
    })
    .await;
    let r = e.admin("GET", "/admin/users", None).await;
    assert_eq!((r.status, r.text.as_str()), (405, "Method Not Allowed\n"));
}

#[tokio::test]
async fn concurrent_creates_of_one_email_leave_exactly_one_user() {
    let e = start_default().await;
    let body = json!({"org_id": ORG, "email_address": "race@x.com"}).to_string();
    let answers =
        futures::future::join_all((0..16).map(|_| e.admin("POST", "/admin/users", Some(&body))))
            .await;
    let ok = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    for r in answers.iter().filter(|r| r.status != 200) {
        r.envelope(403, "Error", "User email already exists for this Org");
    }
    assert_eq!(e.emu.users().len(), 1);
    assert_eq!(e.stats().await["writes"], 1);
}
