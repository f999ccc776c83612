//! The client against `tyk-dashboard-emulator` over HTTP: every operation and every error
//! class, under each response-shape profile. Every error produced is checked for secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use dashboard_user_operator::dashboard::{
    AccessKey, AdminSecret, ApiKey, ConnectionConfig, CreatedUser, DashboardClient, DashboardError,
    NewUser, Password,
};
use tyk_dashboard_emulator::{Profile, Settings, SettingsPatch, TykEmulator};

use crate::secrets::{ADMIN_SECRET, PASSWORD, assert_clean};

/// Every response-shape profile (docs/tyk-dashboard-api.md §1.3 version variants).
pub const PROFILES: [Profile; 2] = [Profile::V5_8, Profile::Legacy];

pub const ORG: &str = "5e9d9544a1dcd60001d0ed20";

pub async fn emulator(profile: Profile) -> TykEmulator {
    TykEmulator::start(Settings {
        admin_secret: ADMIN_SECRET.into(),
        profile,
        password_history: 3,
        ..Default::default()
    })
    .await
    .unwrap()
}

pub fn client_with(url: &str, api_key: Option<&str>, timeout: Duration) -> DashboardClient {
    let mut cfg = ConnectionConfig::new(url, AdminSecret::new(ADMIN_SECRET)).unwrap();
    cfg.api_key = api_key.map(ApiKey::new);
    cfg.timeout = timeout;
    DashboardClient::new(cfg).unwrap()
}

pub fn admin_client(emu: &TykEmulator) -> DashboardClient {
    client_with(&emu.url(), None, Duration::from_secs(10))
}

pub fn new_user(email: &str, perms: &[(&str, &str)], active: bool) -> NewUser {
    NewUser {
        org_id: ORG.into(),
        first_name: "Test".into(),
        last_name: "User".into(),
        email_address: email.into(),
        active,
        user_permissions: perms
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// An org admin (created through the Admin API) and a client that holds its API key.
pub async fn org_admin(emu: &TykEmulator) -> (CreatedUser, DashboardClient) {
    let admin = admin_client(emu)
        .create_user(&new_user(
            "org-admin@example.org",
            &[("IsAdmin", "admin")],
            true,
        ))
        .await
        .unwrap();
    let api = client_with(
        &emu.url(),
        Some(admin.access_key.expose()),
        Duration::from_secs(10),
    );
    (admin, api)
}

/// Unwraps an error, checks it is of `category` and that it prints no secret.
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(
    r: Result<T, DashboardError>,
    category: &str,
) -> DashboardError {
    let err = r.expect_err("an error");
    let printed = format!("{err} / {err:?}");
    assert_eq!(err.category(), category, "{printed}");
    assert_clean(&printed);
    err
}

#[tokio::test]
async fn every_operation_round_trips_under_each_profile() {
    for profile in [Profile::V5_8, Profile::Legacy] {
        let emu = emulator(profile).await;
        let admin = admin_client(&emu);
        admin.probe().await.unwrap();
        let (_, api) = org_admin(&emu).await;
        api.probe().await.unwrap();

        // Create: Tyk lower-cases the email (docs/tyk-dashboard-api.md §1.4); key in Message and
        // Meta (docs/tyk-dashboard-api.md §2.1).
        let alice = admin
            .create_user(&new_user("Alice@Example.org", &[("users", "read")], true))
            .await
            .unwrap();
        assert_eq!(alice.user.email_address, "alice@example.org", "{profile:?}");
        assert_eq!(alice.access_key.expose().len(), 32);
        assert_eq!(alice.user.access_key, alice.access_key);

        // Get and a whole-object update (+ password through the admin PUT,
        // docs/tyk-dashboard-api.md §2.3).
        let mut user = admin.get_user(&alice.user.id).await.unwrap();
        assert_eq!(
            (user.id.as_str(), user.org_id.as_str()),
            (alice.user.id.as_str(), ORG)
        );
        assert!(!user.other.0.contains_key("password"), "{profile:?}");
        user.first_name = "Alicia".into();
        user.user_permissions
            .insert("analytics".into(), "read".into());
        admin
            .update_user(&user, Some(&Password::new(PASSWORD)))
            .await
            .unwrap();
        assert!(emu.check_password("alice@example.org", ORG, PASSWORD));
        let user = admin.get_user(&alice.user.id).await.unwrap();
        assert_eq!(user.first_name, "Alicia");
        assert_eq!(
            user.user_permissions.get("analytics").map(String::as_str),
            Some("read")
        );

        // Self-reset with the user's own key (docs/tyk-dashboard-api.md §3.6), current password
        // required once set.
        let next = Password::new("Second-pass-1");
        admin
            .reset_password_as_user(
                &alice.user.id,
                &alice.access_key,
                &next,
                Some(&Password::new(PASSWORD)),
            )
            .await
            .unwrap();
        assert!(emu.check_password("alice@example.org", ORG, "Second-pass-1"));

        // Key rotation with the own key (docs/tyk-dashboard-api.md §3.7), then read back through
        // the Admin API.
        let rotated = admin
            .rotate_access_key(&alice.user.id, &alice.access_key)
            .await
            .unwrap();
        assert_ne!(rotated, alice.access_key);
        assert_eq!(
            admin.get_user(&alice.user.id).await.unwrap().access_key,
            rotated
        );
        expect_err(
            admin
                .reset_access_key(&alice.user.id, &alice.access_key)
                .await,
            "Unauthorized",
        );

        // Find (search, exact and case-insensitive) and list with the org admin's key.
        let found = api
            .find_user_by_email("ALICE@example.org", Some(ORG))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, alice.user.id);
        assert!(
            api.find_user_by_email("lice@example.org", None)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(api.list_users().await.unwrap().len(), 2, "{profile:?}");

        // Delete; a second delete and a get are NotFound (docs/tyk-dashboard-api.md §3.5).
        api.delete_user(&alice.user.id).await.unwrap();
        expect_err(admin.get_user(&alice.user.id).await, "NotFound");
        expect_err(api.delete_user(&alice.user.id).await, "NotFound");
        assert!(
            api.find_user_by_email("alice@example.org", None)
                .await
                .unwrap()
                .is_none()
        );
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn already_exists_and_not_found_classes() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        already_exists_and_not_found_classes_under(profile).await;
    }
}

async fn already_exists_and_not_found_classes_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = admin_client(&emu);
    let bob = admin
        .create_user(&new_user("bob@example.org", &[], true))
        .await
        .unwrap();
    // Default permissions on an admin create (docs/tyk-dashboard-api.md §2.1).
    let perms: BTreeMap<_, _> = bob.user.user_permissions.clone();
    assert_eq!(
        perms.keys().collect::<Vec<_>>(),
        ["IsAdmin", "ResetPassword"]
    );
    let err = expect_err(
        admin
            .create_user(&new_user("BOB@example.org", &[], true))
            .await,
        "AlreadyExists",
    );
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.operation(), "create user");
    // Another org may hold the same email (uniqueness is per org).
    let mut other_org = new_user("bob@example.org", &[], true);
    other_org.org_id = "60ef3a1dcb83670001bf2df9".into();
    admin.create_user(&other_org).await.unwrap();
    // A super user's key sees both orgs (docs/tyk-dashboard-api.md §8.1): the email alone is
    // ambiguous (docs/tyk-dashboard-api.md §8.2).
    let mut root = new_user("root@example.org", &[("IsAdmin", "admin")], true);
    root.org_id = String::new();
    let root = admin.create_user(&root).await.unwrap();
    let root_api = client_with(
        &emu.url(),
        Some(root.access_key.expose()),
        Duration::from_secs(10),
    );
    expect_err(
        root_api.find_user_by_email("bob@example.org", None).await,
        "Ambiguous",
    );
    let found = root_api
        .find_user_by_email("bob@example.org", Some(ORG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, bob.user.id);

    // Taking someone else's email on update is refused as AlreadyExists too.
    let carol = admin
        .create_user(&new_user("carol@example.org", &[], true))
        .await
        .unwrap();
    let mut user = carol.user.clone();
    user.email_address = "bob@example.org".into();
    expect_err(admin.update_user(&user, None).await, "AlreadyExists");

    expect_err(admin.get_user("5f7f98427fea06e1b637b2b9").await, "NotFound");
    let mut ghost = carol.user.clone();
    ghost.id = "5f7f98427fea06e1b637b2b9".into();
    expect_err(admin.update_user(&ghost, None).await, "NotFound");
    emu.shutdown().await;
}

#[tokio::test]
async fn unauthorized_forbidden_and_invalid_classes() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        unauthorized_forbidden_and_invalid_classes_under(profile).await;
    }
}

async fn unauthorized_forbidden_and_invalid_classes_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = admin_client(&emu);
    let (org_admin_user, api) = org_admin(&emu).await;
    let reader = admin
        .create_user(&new_user("reader@example.org", &[("users", "read")], true))
        .await
        .unwrap();
    let target = admin
        .create_user(&new_user("target@example.org", &[("users", "read")], true))
        .await
        .unwrap();

    // Wrong admin secret and wrong API key: 401 (docs/tyk-dashboard-api.md §1.2).
    let mut cfg = ConnectionConfig::new(&emu.url(), AdminSecret::new("not-the-secret")).unwrap();
    cfg.api_key = Some(ApiKey::new("0000000000000000000000000000dead"));
    let wrong = DashboardClient::new(cfg).unwrap();
    expect_err(wrong.probe().await, "Unauthorized");
    expect_err(wrong.get_user(&target.user.id).await, "Unauthorized");
    expect_err(
        wrong.find_user_by_email("target@example.org", None).await,
        "Unauthorized",
    );

    // RBAC: a read-only user may not delete (403 access denied, docs/tyk-dashboard-api.md §1.2).
    let reader_api = client_with(
        &emu.url(),
        Some(reader.access_key.expose()),
        Duration::from_secs(10),
    );
    expect_err(reader_api.delete_user(&target.user.id).await, "Forbidden");
    // A read-only key still passes the probe (it only reads an unknown id).
    reader_api.probe().await.unwrap();

    // A non-admin may not reset someone else's password (docs/tyk-dashboard-api.md §3.6 (b)); that
    // is Forbidden, not PasswordRejected, although the call sets a password.
    let pw = Password::new(PASSWORD);
    expect_err(
        admin
            .reset_password_as_user(&target.user.id, &reader.access_key, &pw, None)
            .await,
        "Forbidden",
    );
    // An admin without ResetPassword neither (docs/tyk-dashboard-api.md §3.6 (c)) — until the
    // setting allows it.
    expect_err(
        api.reset_password_as_admin(&target.user.id, &pw, None)
            .await,
        "Forbidden",
    );
    emu.update_settings(SettingsPatch {
        allow_admin_reset_password: Some(true),
        ..Default::default()
    })
    .unwrap();
    api.reset_password_as_admin(&target.user.id, &pw, None)
        .await
        .unwrap();
    assert!(emu.check_password("target@example.org", ORG, PASSWORD));

    // forbid_admin_reset_access_token: another user's key reset is 403
    // (docs/tyk-dashboard-api.md §3.7) ...
    emu.update_settings(SettingsPatch {
        forbid_admin_reset_access_token: Some(true),
        ..Default::default()
    })
    .unwrap();
    expect_err(
        admin
            .reset_access_key(&target.user.id, &org_admin_user.access_key)
            .await,
        "Forbidden",
    );
    // ... while the own key may always be reset (5.8 is_self_key_reset).
    admin
        .reset_access_key(&target.user.id, &target.access_key)
        .await
        .unwrap();

    // An inactive user's own key is refused: 403 by default, 401 when so configured
    // (docs/tyk-dashboard-api.md §13.10); both are Forbidden, since the key is valid but its user
    // is not active.
    let idle = admin
        .create_user(&new_user("idle@example.org", &[], false))
        .await
        .unwrap();
    expect_err(
        admin
            .reset_access_key(&idle.user.id, &idle.access_key)
            .await,
        "Forbidden",
    );
    emu.update_settings(SettingsPatch {
        inactive_key_status: Some(401),
        ..Default::default()
    })
    .unwrap();
    expect_err(
        admin
            .reset_access_key(&idle.user.id, &idle.access_key)
            .await,
        "Forbidden",
    );

    // An admin PUT without the access key: 500 "Could not update API session" → Invalid
    // with a hint (docs/tyk-dashboard-api.md §2.3, tyk issue #2223).
    let mut user = admin.get_user(&idle.user.id).await.unwrap();
    user.access_key = AccessKey::default();
    let err = expect_err(admin.update_user(&user, None).await, "Invalid");
    assert!(err.to_string().contains("access_key"), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn every_request_carries_the_replica_in_the_user_agent() {
    let emu = emulator(Profile::V5_8).await;
    let mut cfg = ConnectionConfig::new(&emu.url(), AdminSecret::new(ADMIN_SECRET)).unwrap();
    // Characters a header or a log parser would trip over become `_`.
    cfg.replica = Some("op-a/1 x".into());
    let c = DashboardClient::new(cfg).unwrap();
    c.create_user(&new_user("ua@example.org", &[], true))
        .await
        .unwrap();
    admin_client(&emu).probe().await.unwrap();
    let agents: Vec<String> = emu.requests().into_iter().map(|r| r.user_agent).collect();
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        agents[0],
        format!("dashboard-user-operator/{v} (replica op-a_1_x)")
    );
    // Without a replica id the agent is the plain one.
    assert_eq!(
        agents.last().unwrap(),
        &format!("dashboard-user-operator/{v}")
    );
    emu.shutdown().await;
}
