//! The `/__emulator/` control API and the binary.

use std::process::Stdio;
use std::time::Duration;

use crate::support::*;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn users_state_has_everything_but_password_material() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "s@x.org").await;
    e.api(
        &key,
        "POST",
        &format!("/api/users/{id}/actions/reset"),
        Some(r#"{"new_password":"abcdef1"}"#),
    )
    .await;
    let r = e.send("GET", "/__emulator/users", Auth::None, None).await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &json!([{"id": id, "org_id": ORG, "email_address":"s@x.org",
        "first_name":"F","last_name":"L","active":true,"user_permissions":{"IsAdmin":"admin"},
        "group_id":"","access_key": key,"password_set":true,"password_history_len":0,"password_sets":1,
        "password_max_days":0,"password_updated":"<time>",
        "last_login_date":"0001-01-01T00:00:00Z","created_at":"<time>"}]),
    );
    assert!(!r.text.contains("abcdef1"));
}

#[tokio::test]
async fn check_password_over_http() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "c@x.org").await;
    e.api(
        &key,
        "POST",
        &format!("/api/users/{id}/actions/reset"),
        Some(r#"{"new_password":"right-pw"}"#),
    )
    .await;
    for (email, org, pw, want) in [
        ("c@x.org", ORG, "right-pw", true),
        ("C@X.org", ORG, "right-pw", true),
        ("c@x.org", ORG, "wrong-pw", false),
        ("c@x.org", ORG2, "right-pw", false),
        ("nobody@x.org", ORG, "right-pw", false),
    ] {
        let body = json!({"email": email, "org_id": org, "password": pw}).to_string();
        let r = e
            .send(
                "POST",
                "/__emulator/check-password",
                Auth::None,
                Some(&body),
            )
            .await;
        assert_eq!(r.json(), json!({"match": want}), "{email} {org} {pw}");
    }
    let r = e
        .send("POST", "/__emulator/check-password", Auth::None, Some("{"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn stats_count_requests_by_route_pattern_and_status_and_writes() {
    let e = start_default().await;
    let (id, key) = e.org_admin(ORG, "st@x.org").await;
    e.admin("GET", &format!("/admin/users/{id}"), None).await;
    e.admin("GET", "/admin/users/0123456789abcdef01234567", None)
        .await;
    e.api(
        &key,
        "POST",
        "/api/users/search",
        Some(r#"{"filters":{"query":"x"}}"#),
    )
    .await;
    e.api(&key, "DELETE", &format!("/api/users/{id}"), None)
        .await;
    let s = e.stats().await;
    assert_eq!(
        s,
        json!({"requests":{
        "DELETE /api/users/{id} 200": 1,
        "GET /admin/users/{id} 200": 1,
        "GET /admin/users/{id} 404": 1,
        "POST /admin/users 200": 1,
        "POST /api/users/search 200": 1,
    }, "writes": 2, "max_in_flight": 1})
    );
    assert_eq!(e.emu.stats().writes, 2);
    let log = e
        .send("GET", "/__emulator/requests", Auth::None, None)
        .await
        .json();
    assert_eq!(log.as_array().unwrap().len(), 5);
    assert_eq!(log[0]["route"], "/admin/users");
    let typed = e.emu.requests();
    assert_eq!(
        (typed[4].method.as_str(), typed[4].outcome.as_str()),
        ("DELETE", "200")
    );
    assert_eq!(typed[4].route, "/api/users/{id}");
    assert_eq!(
        e.send("POST", "/__emulator/reset-stats", Auth::None, None)
            .await
            .status,
        204
    );
    assert_eq!(
        e.stats().await,
        json!({"requests":{}, "writes":0, "max_in_flight":0})
    );
}

#[tokio::test]
async fn settings_patch_and_reset() {
    let e = start_default().await;
    let r = e
        .send("GET", "/__emulator/settings", Auth::None, None)
        .await;
    assert!(!r.text.contains(SECRET), "the admin secret is never echoed");
    assert_eq!(r.json()["profile"], "v5_8");
    let r = e
        .send(
            "POST",
            "/__emulator/settings",
            Auth::None,
            Some(r#"{"profile":"legacy","page_size":3,"allow_admin_reset_password":true}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = e.emu.settings();
    assert_eq!(
        (
            s.page_size,
            s.allow_admin_reset_password,
            s.password_min_length
        ),
        (3, true, 6)
    );
    for bad in [
        r#"{"page_size":0}"#,
        r#"{"profile":"v9"}"#,
        r#"{"unknown":1}"#,
    ] {
        assert_eq!(
            e.send("POST", "/__emulator/settings", Auth::None, Some(bad))
                .await
                .status,
            400,
            "{bad}"
        );
    }
    // Changing the secret takes effect at once.
    e.send(
        "POST",
        "/__emulator/settings",
        Auth::None,
        Some(r#"{"admin_secret":"rotated"}"#),
    )
    .await;
    e.admin("GET", "/admin/organisations", None)
        .await
        .envelope(401, "Error", "Not authorised");
    assert_eq!(
        e.send("GET", "/admin/organisations", Auth::Admin("rotated"), None)
            .await
            .status,
        200
    );

    e.send(
        "POST",
        "/admin/users",
        Auth::Admin("rotated"),
        Some(r#"{"email_address":"z@x.org"}"#),
    )
    .await;
    assert_eq!(e.emu.users().len(), 1);
    assert_eq!(
        e.send("POST", "/__emulator/reset", Auth::None, None)
            .await
            .status,
        204
    );
    assert!(e.emu.users().is_empty());
    assert_eq!(
        e.stats().await,
        json!({"requests":{}, "writes":0, "max_in_flight":0})
    );
    assert_eq!(e.emu.settings().page_size, 3, "settings survive a reset");
}

#[tokio::test]
async fn binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tyk-dashboard-emulator"))
        .args([
            "--port",
            "0",
            "--admin-secret",
            "bin-secret",
            "--profile",
            "legacy",
            "--page-size",
            "5",
            "--fault-rule",
            r#"{"kind":"error","status":503,"method":"GET","route":"/admin/organisations","count":1}"#,
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("prints within the deadline")
        .unwrap()
        .unwrap();
    let url = line.strip_prefix("listening on ").expect(&line).to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let c = client(Some(Duration::from_secs(10)));
    let orgs = || {
        c.get(format!("{url}/admin/organisations"))
            .header("admin-auth", "bin-secret")
            .send()
    };
    assert_eq!(
        orgs().await.unwrap().status(),
        503,
        "the --fault-rule fires once"
    );
    assert_eq!(orgs().await.unwrap().status(), 200);
    let s: serde_json::Value = c
        .get(format!("{url}/__emulator/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (s["profile"].as_str(), s["page_size"].as_u64()),
        (Some("legacy"), Some(5))
    );
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn seeded_users_and_orgs_are_usable_over_http() {
    let e = start_default().await;
    let org = e.emu.seed_org("Seeded");
    let admin = e.emu.seed_user(&org, "Seed@X.org", &[], true).unwrap();
    assert_eq!(admin.email_address, "seed@x.org");
    assert!(e.emu.seed_user(&org, "seed@x.org", &[], true).is_err());
    let reader = e
        .emu
        .seed_user(&org, "r@x.org", &[("users", "read")], false)
        .unwrap();
    let list = e
        .api(&admin.access_key, "GET", "/api/users?p=-1", None)
        .await
        .json();
    assert_eq!(emails(&list), ["seed@x.org", "r@x.org"]);
    e.api(&reader.access_key, "GET", "/api/users", None)
        .await
        .envelope(403, "Error", "User is not active");
    let got = e
        .admin("GET", &format!("/admin/organisations/{org}"), None)
        .await
        .json();
    assert_eq!(got["owner_name"], "Seeded");
    let gid = e.emu.seed_group(&org, "Seeded group", &[("apis", "read")]);
    let group = e
        .api(
            &admin.access_key,
            "GET",
            &format!("/api/usergroups/{gid}"),
            None,
        )
        .await
        .json();
    assert_eq!(
        (&group["name"], &group["active"], &group["user_permissions"]),
        (
            &json!("Seeded group"),
            &json!(true),
            &json!({"apis": "read"})
        )
    );
    assert_eq!(e.stats().await["writes"], 0, "seeding is not a request");
}

#[tokio::test]
async fn unknown_routes_answer_like_go_without_allow_header() {
    let e = start_default().await;
    let c = client(None);
    for (method, path) in [
        ("GET", "/admin/users"),
        ("GET", "/nope"),
        ("PATCH", "/api/users"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = c
            .request(m, format!("{}{path}", e.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
        assert!(r.headers().get("allow").is_none(), "{method} {path}");
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(r.text().await.unwrap(), "404 page not found\n");
    }
}
