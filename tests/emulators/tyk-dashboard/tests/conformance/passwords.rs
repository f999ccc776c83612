//! Password set/reset rules: docs/tyk-dashboard-api.md §3.6, §7, §11.2.

use serde_json::json;
use tyk_dashboard_emulator::{Profile, Settings, SettingsPatch};

use crate::support::*;

const OTHERS: &str = "You do not have permission to reset the password for other users.";
const OTHERS_ADMIN: &str = "You do not have permission to reset the password for other users. As an admin user, this permission can be modified using OPA rules.";

fn reset_path(id: &str) -> String {
    format!("/api/users/{id}/actions/reset")
}

fn pw(new: &str, current: Option<&str>) -> String {
    match current {
        Some(c) => json!({"new_password": new, "current_password": c}).to_string(),
        None => json!({"new_password": new, "user_permissions": {"IsAdmin": "admin"}}).to_string(),
    }
}

#[tokio::test]
async fn bootstrap_self_reset_sets_the_first_password() {
    // tyk-k8s-bootstrap: admin create, then a self-reset with the new key, no current password.
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "boot@x.org").await;
    let r = e
        .api(&key, "POST", &reset_path(&id), Some(&pw("first-pw", None)))
        .await;
    r.envelope(200, "OK", "User password updated");
    assert!(e.emu.check_password("boot@x.org", ORG, "first-pw"));
    let got = e
        .admin("GET", &format!("/admin/users/{id}"), None)
        .await
        .json();
    assert_shape(&got["password_updated"], &json!("<time>"));
    assert_eq!(e.stats().await["writes"], 2);
}

#[tokio::test]
async fn self_reset_needs_the_current_password_once_one_exists() {
    let e = start_default().await;
    let (id, key) = e.user(ORG, "me@x.org", json!({"apis": "read"}), true).await;
    let path = reset_path(&id);
    e.api(&key, "POST", &path, Some(&pw("first-pw", None)))
        .await
        .envelope(200, "OK", "User password updated");
    e.api(&key, "POST", &path, Some(&pw("second-pw", None)))
        .await
        .envelope(403, "Error", "Current password is required.");
    e.api(
        &key,
        "POST",
        &path,
        Some(&pw("second-pw", Some("nope-nope"))),
    )
    .await
    .envelope(403, "Error", "Current password is incorrect.");
    assert!(e.emu.check_password("me@x.org", ORG, "first-pw"));
    e.api(
        &key,
        "POST",
        &path,
        Some(&pw("second-pw", Some("first-pw"))),
    )
    .await
    .envelope(200, "OK", "User password updated");
    assert!(e.emu.check_password("me@x.org", ORG, "second-pw"));
    assert!(!e.emu.check_password("me@x.org", ORG, "first-pw"));
}

#[tokio::test]
async fn reset_body_errors() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "b@x.org").await;
    // Only what Go cannot decode is malformed (an empty body too: DASH-SW documents no 500
    // "body empty" here); `{}` decodes to an empty new password, which the policy refuses.
    for body in [
        None,
        Some("{"),
        Some(" "),
        Some("[]"),
        Some(r#"{"new_password":5}"#),
        Some(r#"{"New_Password":true}"#),
        Some(r#"{"new_password":"abcdefg","api_model":[]}"#),
    ] {
        e.api(&key, "POST", &reset_path(&id), body).await.envelope(
            403,
            "Error",
            "Request body malformed.",
        );
    }
    for body in ["{}", "null", r#"{"new_password":null}"#] {
        e.api(&key, "POST", &reset_path(&id), Some(body))
            .await
            .envelope(403, "Error", "Password must be at least 6 characters long.");
    }
    // DASH-SW documents 200/401/403/500 for this route: a missing user is its 500, for a
    // caller who may reset others at all (`{}` permissions: IsAdmin + ResetPassword).
    let (_, resetter) = e.user(ORG, "r@x.org", json!({}), true).await;
    let missing = reset_path("0123456789abcdef01234567");
    e.api(&resetter, "POST", &missing, Some(&pw("abcdefg", None)))
        .await
        .envelope(500, "Error", "Attempted unauthorised access.");
    e.api(&key, "POST", &missing, Some(&pw("abcdefg", None)))
        .await
        .envelope(
            403,
            "Error",
            "You do not have permission to reset the password for other users. As an admin user, this permission can be modified using OPA rules.",
        );
    e.send(
        "POST",
        &reset_path(&id),
        Auth::None,
        Some(&pw("abcdefg", None)),
    )
    .await
    .envelope(401, "Error", "Not authorised");
}

#[tokio::test]
async fn minimum_length_is_a_setting() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "len@x.org").await;
    e.api(&key, "POST", &reset_path(&id), Some(&pw("12345", None)))
        .await
        .envelope(403, "Error", "Password must be at least 6 characters long.");
    e.emu
        .update_settings(SettingsPatch {
            password_min_length: Some(10),
            ..Default::default()
        })
        .unwrap();
    e.api(&key, "POST", &reset_path(&id), Some(&pw("123456789", None)))
        .await
        .envelope(
            403,
            "Error",
            "Password must be at least 10 characters long.",
        );
    e.api(
        &key,
        "POST",
        &reset_path(&id),
        Some(&pw("1234567890", None)),
    )
    .await
    .envelope(200, "OK", "User password updated");
}

#[tokio::test]
async fn history_refuses_the_last_n_passwords() {
    let e = start(Settings {
        password_history: 2,
        ..Default::default()
    })
    .await;
    let (id, key) = e.org_admin(ORG, "h@x.org").await;
    let path = reset_path(&id);
    let mut current: Option<&str> = None;
    for next in ["pass-one", "pass-two", "pass-three"] {
        e.api(&key, "POST", &path, Some(&pw(next, current)))
            .await
            .envelope(200, "OK", "User password updated");
        current = Some(next);
    }
    let reused = "Password must not match any of the last 2 passwords.";
    for old in ["pass-three", "pass-two"] {
        e.api(&key, "POST", &path, Some(&pw(old, current)))
            .await
            .envelope(403, "Error", reused);
    }
    // Three passwords back is outside a history of 2.
    e.api(&key, "POST", &path, Some(&pw("pass-one", current)))
        .await
        .envelope(200, "OK", "User password updated");
}

#[tokio::test]
async fn without_history_the_same_password_may_be_set_again() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "nh@x.org").await;
    e.api(&key, "POST", &reset_path(&id), Some(&pw("same-pw", None)))
        .await
        .envelope(200, "OK", "User password updated");
    e.api(
        &key,
        "POST",
        &reset_path(&id),
        Some(&pw("same-pw", Some("same-pw"))),
    )
    .await
    .envelope(200, "OK", "User password updated");
}

#[tokio::test]
async fn who_may_reset_someone_else() {
    let w = world(Settings::default()).await;
    let e = &w.e;
    let target = reset_path(&w.r.0);
    // A non-admin never may; an admin needs ResetPassword or the setting.
    e.api(&w.n.1, "POST", &target, Some(&pw("by-nobody", None)))
        .await
        .envelope(403, "Error", OTHERS);
    e.api(&w.a.1, "POST", &target, Some(&pw("by-admin", None)))
        .await
        .envelope(403, "Error", OTHERS_ADMIN);
    e.admin(
        "PUT",
        &format!("/admin/users/{}/actions/allow_reset_passwords", w.a.0),
        None,
    )
    .await;
    e.api(&w.a.1, "POST", &target, Some(&pw("by-admin", None)))
        .await
        .envelope(200, "OK", "User password updated");
    // No current password needed for an admin reset of an existing password
    // (docs/tyk-dashboard-api.md §13.4 choice).
    e.api(&w.a.1, "POST", &target, Some(&pw("by-admin-2", None)))
        .await
        .envelope(200, "OK", "User password updated");
    assert!(e.emu.check_password("reader@a.org", ORG, "by-admin-2"));
    // Only inside the admin's own org (5.6.0).
    e.admin(
        "PUT",
        &format!("/admin/users/{}/actions/allow_reset_passwords", w.b.0),
        None,
    )
    .await;
    e.api(&w.b.1, "POST", &target, Some(&pw("by-other-org", None)))
        .await
        .envelope(403, "Error", OTHERS_ADMIN);
    // With the setting on, the admin requires current_password when the setting says so.
    e.emu
        .update_settings(SettingsPatch {
            admin_reset_requires_current_password: Some(true),
            ..Default::default()
        })
        .unwrap();
    e.api(&w.a.1, "POST", &target, Some(&pw("by-admin-3", None)))
        .await
        .envelope(403, "Error", "Current password is required.");
    e.api(
        &w.a.1,
        "POST",
        &target,
        Some(&pw("by-admin-3", Some("by-admin-2"))),
    )
    .await
    .envelope(200, "OK", "User password updated");
}

#[tokio::test]
async fn allow_admin_reset_password_setting_and_super_users() {
    let w = world(Settings {
        allow_admin_reset_password: true,
        ..Default::default()
    })
    .await;
    let e = &w.e;
    e.api(
        &w.a.1,
        "POST",
        &reset_path(&w.n.0),
        Some(&pw("by-admin", None)),
    )
    .await
    .envelope(200, "OK", "User password updated");
    e.api(
        &w.a.1,
        "POST",
        &reset_path(&w.b.0),
        Some(&pw("by-admin", None)),
    )
    .await
    .envelope(403, "Error", OTHERS_ADMIN);
    // A super user belongs to no org and may reset in any.
    let root = e
        .user("", "root@x.org", json!({"IsAdmin": "admin"}), true)
        .await;
    e.api(
        &root.1,
        "POST",
        &reset_path(&w.b.0),
        Some(&pw("by-root", None)),
    )
    .await
    .envelope(200, "OK", "User password updated");
    assert!(e.emu.check_password("admin@b.org", ORG2, "by-root"));
}

#[tokio::test]
async fn legacy_profile_answers_meta_empty_string() {
    let e = start(Settings {
        profile: Profile::Legacy,
        ..Default::default()
    })
    .await;
    let (id, key) = e.org_admin(ORG, "l@x.org").await;
    let r = e
        .api(&key, "POST", &reset_path(&id), Some(&pw("legacy-pw", None)))
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            200,
            r#"{"Status":"OK","Message":"User password updated","Meta":""}"#
        )
    );
}

#[tokio::test]
async fn api_create_password_follows_the_policy() {
    let w = world(Settings::default()).await;
    let body = json!({"first_name":"F","last_name":"L","email_address":"short@a.org",
        "user_permissions":{"apis":"read"},"password":"abc"});
    w.e.api(&w.a.1, "POST", "/api/users", Some(&body.to_string()))
        .await
        .envelope(403, "Error", "Password must be at least 6 characters long.");
    assert!(
        !w.e.emu
            .users()
            .iter()
            .any(|u| u.email_address == "short@a.org")
    );
}
