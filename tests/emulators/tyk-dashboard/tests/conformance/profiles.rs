//! Response-shape profiles: every version variant of docs/tyk-dashboard-api.md §1.3.

use serde_json::json;
use tyk_dashboard_emulator::{Profile, Settings};

use crate::support::*;

/// What each profile answers, per route that varies (docs/tyk-dashboard-api.md §1.3, §2.2, §2.3,
/// §3.2, §3.5, §3.6).
struct Expect {
    profile: Profile,
    admin_put_returns_user: bool,
    api_create: &'static str,
    simple_meta: &'static str,
    get_has_password: bool,
}

const EXPECT: [Expect; 3] = [
    Expect {
        profile: Profile::V5_8,
        admin_put_returns_user: true,
        api_create: "User and session have been created",
        simple_meta: "null",
        get_has_password: false,
    },
    Expect {
        profile: Profile::Pre5_8,
        admin_put_returns_user: false,
        api_create: "User and session have been created",
        simple_meta: "null",
        get_has_password: false,
    },
    Expect {
        profile: Profile::Legacy,
        admin_put_returns_user: false,
        api_create: "User created",
        simple_meta: "\"\"",
        get_has_password: true,
    },
];

#[tokio::test]
async fn each_profile_answers_its_version_shapes() {
    assert_eq!(EXPECT.map(|x| x.profile), Profile::ALL);
    for x in &EXPECT {
        let p = x.profile;
        let e = start(Settings {
            profile: p,
            ..Default::default()
        })
        .await;
        let (id, key) = e.org_admin(ORG, "admin@x.org").await;

        // Admin create is the same in every version since 2015 (docs/tyk-dashboard-api.md §2.1).
        let created = e
            .admin(
                "POST",
                "/admin/users",
                Some(r#"{"email_address":"n@x.org"}"#),
            )
            .await;
        assert_eq!(
            created.json()["Message"],
            created.json()["Meta"]["access_key"],
            "{p:?}"
        );

        let put = json!({"access_key": key, "first_name": "New"}).to_string();
        let r = e
            .admin("PUT", &format!("/admin/users/{id}"), Some(&put))
            .await;
        if x.admin_put_returns_user {
            assert_eq!(r.json()["Message"], key.as_str(), "{p:?}");
            assert_eq!(r.json()["Meta"]["first_name"], "New", "{p:?}");
        } else {
            assert_eq!(
                r.text, r#"{"Status":"OK","Message":"User updated","Meta":""}"#,
                "{p:?}"
            );
        }

        let body = r#"{"first_name":"F","last_name":"L","email_address":"api@x.org","user_permissions":{"apis":"read"}}"#;
        let r = e.api(&key, "POST", "/api/users", Some(body)).await;
        assert_eq!(r.json()["Message"], x.api_create, "{p:?}");
        let new_id = e
            .emu
            .users()
            .into_iter()
            .find(|u| u.email_address == "api@x.org")
            .unwrap()
            .id;
        let want_meta = if x.api_create == "User created" {
            json!("")
        } else {
            json!(new_id)
        };
        assert_eq!(r.json()["Meta"], want_meta, "{p:?}");

        let got = e
            .api(&key, "GET", &format!("/api/users/{new_id}"), None)
            .await
            .json();
        assert_eq!(got.get("password").is_some(), x.get_has_password, "{p:?}");
        let got = e
            .admin("GET", &format!("/admin/users/{new_id}"), None)
            .await
            .json();
        assert_eq!(got.get("password").is_some(), x.get_has_password, "{p:?}");

        let r = e
            .api(
                &key,
                "POST",
                &format!("/api/users/{id}/actions/reset"),
                Some(r#"{"new_password":"abcdefg"}"#),
            )
            .await;
        let want = format!(
            r#"{{"Status":"OK","Message":"User password updated","Meta":{}}}"#,
            x.simple_meta
        );
        assert_eq!(r.text, want, "{p:?}");
        let r = e
            .api(&key, "DELETE", &format!("/api/users/{new_id}"), None)
            .await;
        let want = format!(
            r#"{{"Status":"OK","Message":"User deleted","Meta":{}}}"#,
            x.simple_meta
        );
        assert_eq!(r.text, want, "{p:?}");
    }
}
