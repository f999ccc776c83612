//! Password policy and access-key visibility settings of the emulator, seen through the
//! client (docs/tyk-dashboard-api.md §3.3, §3.6, §7, §10.8).

use dashboard_user_operator::dashboard::Password;
use tyk_dashboard_emulator::{Profile, SettingsPatch};

use crate::emulator::{ORG, PROFILES, admin_client, emulator, expect_err, new_user, org_admin};
use crate::secrets::PASSWORD;

#[tokio::test]
async fn password_refusals_are_password_rejected() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        password_refusals_are_password_rejected_under(profile).await;
    }
}

async fn password_refusals_are_password_rejected_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = admin_client(&emu);
    let u = admin
        .create_user(&new_user("pw@example.org", &[], true))
        .await
        .unwrap();
    let (id, key) = (u.user.id.as_str(), &u.access_key);
    let first = Password::new(PASSWORD);
    // Too short (docs/tyk-dashboard-api.md §7 minLength 6).
    expect_err(
        admin
            .reset_password_as_user(id, key, &Password::new("abc"), None)
            .await,
        "PasswordRejected",
    );
    // First password: no current password needed (docs/tyk-dashboard-api.md §3.6).
    admin
        .reset_password_as_user(id, key, &first, None)
        .await
        .unwrap();
    // Once set, the current password is required and must match.
    let second = Password::new("Another-pass-2");
    expect_err(
        admin.reset_password_as_user(id, key, &second, None).await,
        "PasswordRejected",
    );
    expect_err(
        admin
            .reset_password_as_user(id, key, &second, Some(&Password::new("wrong-pass-9")))
            .await,
        "PasswordRejected",
    );
    admin
        .reset_password_as_user(id, key, &second, Some(&first))
        .await
        .unwrap();
    // Reuse within the history is refused (enforce_password_history), on both paths.
    expect_err(
        admin
            .reset_password_as_user(id, key, &first, Some(&second))
            .await,
        "PasswordRejected",
    );
    let user = admin.get_user(id).await.unwrap();
    expect_err(
        admin.update_user(&user, Some(&first)).await,
        "PasswordRejected",
    );
    assert!(emu.check_password("pw@example.org", ORG, "Another-pass-2"));
    emu.shutdown().await;
}

#[tokio::test]
async fn hidden_access_keys_come_back_empty_from_the_dashboard_api() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        hidden_access_keys_come_back_empty_from_the_dashboard_api_under(profile).await;
    }
}

async fn hidden_access_keys_come_back_empty_from_the_dashboard_api_under(profile: Profile) {
    let emu = emulator(profile).await;
    emu.update_settings(SettingsPatch {
        forbid_admin_view_access_token: Some(true),
        ..Default::default()
    })
    .unwrap();
    let admin = admin_client(&emu);
    let (_, api) = org_admin(&emu).await;
    let dora = admin
        .create_user(&new_user("dora@example.org", &[], true))
        .await
        .unwrap();
    let found = api
        .find_user_by_email("dora@example.org", None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        found.access_key.is_empty(),
        "docs/tyk-dashboard-api.md §10.8: blanked for other users"
    );
    // The Admin API still shows it (docs/tyk-dashboard-api.md §2.2), so it stays the source for the
    // Secret.
    assert_eq!(
        admin.get_user(&dora.user.id).await.unwrap().access_key,
        dora.access_key
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn p_minus_one_reaches_users_beyond_the_first_page() {
    let emu = emulator(Profile::V5_8).await;
    emu.update_settings(SettingsPatch {
        page_size: Some(3),
        ..Default::default()
    })
    .unwrap();
    let admin = admin_client(&emu);
    let (_, api) = org_admin(&emu).await;
    for i in 0..7 {
        admin
            .create_user(&new_user(&format!("page{i}@example.org"), &[], true))
            .await
            .unwrap();
    }
    // docs/tyk-dashboard-api.md §3.1: "Send number less than 0 to return all items".
    assert_eq!(api.list_users().await.unwrap().len(), 8);
    let last = api
        .find_user_by_email("page6@example.org", Some(ORG))
        .await
        .unwrap();
    assert!(last.is_some());
    emu.shutdown().await;
}
