//! A client without the admin secret (an API-key-only connection): every user call goes
//! through the Dashboard API with the key (docs/tyk-dashboard-api.md §3), the key's own user is
//! found, and an Admin API call is refused before it is sent.

use std::time::Duration;

use dashboard_user_operator::dashboard::{
    AdminSecret, ApiKey, ConnectionConfig, DashboardClient, DashboardError, Password,
};
use tyk_dashboard_emulator::Profile;

use crate::emulator::{ORG, admin_client, client_with, emulator, new_user, org_admin};
use crate::secrets::{PASSWORD, assert_clean};

#[tokio::test]
async fn key_only_client_uses_the_dashboard_api_alone() {
    let emu = emulator(Profile::V5_8).await;
    let (admin, _) = org_admin(&emu).await;
    let mut cfg = ConnectionConfig::new(&emu.url(), AdminSecret::new("")).unwrap();
    assert!(
        DashboardClient::new(cfg.clone()).is_err(),
        "no credential at all is refused"
    );
    cfg.api_key = Some(ApiKey::new(admin.access_key.expose()));
    cfg.timeout = Duration::from_secs(10);
    let c = DashboardClient::new(cfg).unwrap();
    assert!(!c.has_admin_secret());
    c.probe().await.unwrap();
    let owner = c.key_owner().await.unwrap();
    assert_eq!(
        (owner.id.as_str(), owner.org_id.as_str()),
        (admin.user.id.as_str(), ORG)
    );

    let pw = Password::new(PASSWORD);
    let mut u = c
        .api_create_user(
            &new_user("key-only@example.org", &[("apis", "read")], true),
            Some(&pw),
        )
        .await
        .unwrap();
    assert!(emu.check_password("key-only@example.org", ORG, PASSWORD));
    assert_eq!(c.get_user(&u.id).await.unwrap().org_id, ORG);
    u.first_name = "Renamed".into();
    c.api_update_user(&u).await.unwrap();
    assert_eq!(c.get_user(&u.id).await.unwrap().first_name, "Renamed");

    // The Admin API needs the secret this client does not have: refused locally.
    let e = c.update_user(&u, None).await.unwrap_err();
    assert!(matches!(e, DashboardError::Config { .. }), "{e:?}");
    let e = c
        .create_user(&new_user("other@example.org", &[("apis", "read")], true))
        .await
        .unwrap_err();
    assert!(matches!(e, DashboardError::Config { .. }), "{e:?}");
    assert_clean(&format!("{e} {e:?}"));
    assert!(
        emu.users()
            .iter()
            .all(|s| s.email_address != "other@example.org")
    );
}

#[tokio::test]
async fn a_failed_key_owner_lookup_is_not_repeated_for_every_caller() {
    let emu = emulator(Profile::V5_8).await;
    let mut cfg = ConnectionConfig::new(&emu.url(), AdminSecret::new("")).unwrap();
    cfg.api_key = Some(ApiKey::new("no-user-holds-this-key-4f1c"));
    let c = DashboardClient::new(cfg).unwrap();
    let lists = || {
        emu.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.route == "/api/users")
            .count()
    };
    // Many users of one connection resolving at once, then again on their next round:
    // one list, the same failure for all.
    let all = futures::future::join_all((0..4).map(|_| c.key_owner())).await;
    for r in all.iter().chain([&c.key_owner().await]) {
        let e = r.as_ref().unwrap_err();
        assert_eq!(e.category(), "Unauthorized", "{e:?}");
    }
    assert_eq!(lists(), 1, "{:?}", emu.requests());
    // The probe's own lookup is uncached: it still asks.
    assert!(c.find_key_owner().await.is_err());
    assert_eq!(lists(), 2);
}

#[tokio::test]
async fn a_fresh_lookup_replaces_what_the_client_remembers() {
    let emu = emulator(Profile::V5_8).await;
    let admin = admin_client(&emu);
    let created = admin
        .create_user(&new_user("reader@example.org", &[("users", "read")], true))
        .await
        .unwrap();
    let c = client_with(
        &emu.url(),
        Some(created.access_key.expose()),
        Duration::from_secs(10),
    );
    let is_admin = |u: &dashboard_user_operator::dashboard::User| {
        u.user_permissions.get("IsAdmin").map(String::as_str) == Some("admin")
    };
    assert!(!is_admin(&c.key_owner().await.unwrap()));

    // Promoted in the Dashboard: the remembered owner is stale until a fresh lookup.
    let mut promoted = admin.get_user(&created.user.id).await.unwrap();
    promoted
        .user_permissions
        .insert("IsAdmin".into(), "admin".into());
    admin.update_user(&promoted, None).await.unwrap();
    assert!(!is_admin(&c.key_owner().await.unwrap()), "remembered");
    assert!(is_admin(&c.refresh_key_owner().await.unwrap()));
    assert!(is_admin(&c.key_owner().await.unwrap()), "replaced");

    // A failed fresh lookup replaces it too: callers no longer trust the old owner.
    emu.reset();
    assert!(c.refresh_key_owner().await.is_err());
    assert!(c.key_owner().await.is_err());
}
