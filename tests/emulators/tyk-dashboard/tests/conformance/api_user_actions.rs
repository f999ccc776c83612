//! Dashboard API user actions and search: docs/tyk-dashboard-api.md §3.7–§3.9.

use serde_json::json;
use tyk_dashboard_emulator::{Settings, SettingsPatch};

use crate::support::*;

#[tokio::test]
async fn key_reset_rotates_and_honours_forbid_flag() {
    let w = world(Settings::default()).await;
    let r =
        w.e.api(
            &w.a.1,
            "PUT",
            &format!("/api/users/{}/actions/key/reset", w.r.0),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            200,
            r#"{"Status":"OK","Message":"User session renewed","Meta":null}"#
        )
    );
    w.e.api(&w.r.1, "GET", "/api/users", None)
        .await
        .envelope(401, "Error", "Not authorised");
    let new =
        w.e.emu
            .users()
            .into_iter()
            .find(|u| u.id == w.r.0)
            .unwrap()
            .access_key;
    assert_shape(&json!(new), &json!("<hex32>"));
    assert_eq!(w.e.api(&new, "GET", "/api/users", None).await.status, 200);

    w.e.emu
        .update_settings(SettingsPatch {
            forbid_admin_reset_access_token: Some(true),
            ..Default::default()
        })
        .unwrap();
    let path = format!("/api/users/{}/actions/key/reset", w.n.0);
    w.e.api(&w.a.1, "PUT", &path, None).await.envelope(
        403,
        "Error",
        &format!("access denied: You do not have permission to access  {path}"),
    );
    // Anyone may rotate their own key, even without users permission (5.8.0).
    let own = w.e.api(&w.n.1, "PUT", &path, None).await;
    assert_eq!(own.status, 200);
}

#[tokio::test]
async fn revoke_deactivates_and_reactivation_restores_the_key() {
    let w = world(Settings::default()).await;
    let r =
        w.e.api(
            &w.a.1,
            "PUT",
            &format!("/api/users/{}/actions/revoke", w.r.0),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            200,
            r#"{"Status":"OK","Message":"User revoked","Meta":null}"#
        )
    );
    w.e.api(&w.r.1, "GET", "/api/users", None)
        .await
        .envelope(403, "Error", "User is not active");
    w.e.api(
        &w.a.1,
        "PUT",
        &format!("/api/users/{}", w.r.0),
        Some(r#"{"active":true}"#),
    )
    .await;
    assert_eq!(w.e.api(&w.r.1, "GET", "/api/users", None).await.status, 200);
}

#[tokio::test]
async fn search_is_a_case_insensitive_substring_match_in_the_org() {
    let w = world(Settings::default()).await;
    let r =
        w.e.api(
            &w.a.1,
            "POST",
            "/api/users/search",
            Some(r#"{"filters":{"query":"ADMIN@"}}"#),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        emails(&r.json()),
        ["admin@a.org"],
        "admin@b.org is in another org"
    );
    assert_eq!(r.json()["pages"], 1);
    let g =
        w.e.api(&w.a.1, "GET", "/api/users/search?q=%40a.org&p=-1", None)
            .await
            .json();
    assert_eq!(emails(&g).len(), 4);
    let none =
        w.e.api(
            &w.a.1,
            "POST",
            "/api/users/search",
            Some(r#"{"filters":{"query":"zzz"}}"#),
        )
        .await
        .json();
    assert_eq!(none, json!({"pages":1,"users":[]}));
    // A missing query decodes to "" (Go), which every email contains: the whole org.
    for (method, path, body) in [
        ("POST", "/api/users/search?p=-1", Some("{}")),
        (
            "POST",
            "/api/users/search?p=-1",
            Some(r#"{"filters":{"query":null}}"#),
        ),
        ("GET", "/api/users/search?p=-1", None),
    ] {
        let r = w.e.api(&w.a.1, method, path, body).await;
        assert_eq!(
            (r.status, emails(&r.json()).len()),
            (200, 4),
            "{method} {body:?}"
        );
    }
}
