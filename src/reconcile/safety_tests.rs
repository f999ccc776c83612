//! Secret safety: conditions, events and errors built from real Dashboard failures never
//! contain the credentials involved (docs/design.md §4).

use tyk_dashboard_emulator::{Settings, TykEmulator};

use super::error::{ReconcileError, chain};
use super::plan::Blocker;
use crate::dashboard::{
    AccessKey, AdminSecret, ConnectionConfig, DashboardClient, NewUser, Password,
};
use crate::status::{Outcome, conditions};

const ADMIN_SECRET: &str = "admin-secret-do-not-leak-7f3a";
const FIRST_PW: &str = "first-password-do-not-leak";
const SHORT_PW: &str = "tiny1";

/// Everything a failure can surface as: condition messages, the event note (same text),
/// the log line (`chain`) and the `Debug` form.
fn surfaces(e: ReconcileError) -> String {
    let b: Blocker = e.blocker();
    let conds = conditions(&[], Some(1), &Outcome::Blocked(b.clone()));
    format!("{} | {} | {:?} | {:?}", b.message, chain(&e), e, conds)
}

fn assert_clean(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "a credential leaked into: {text}");
    }
}

#[tokio::test]
async fn failures_never_surface_credentials() {
    let emu = TykEmulator::start(Settings {
        admin_secret: ADMIN_SECRET.into(),
        password_min_length: 8,
        password_history: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let client = DashboardClient::new(
        ConnectionConfig::new(&emu.url(), AdminSecret::new(ADMIN_SECRET)).unwrap(),
    )
    .unwrap();
    let created = client
        .create_user(&NewUser {
            org_id: "5e9d9544a1dcd60001d0ed20".into(),
            email_address: "leak-check@example.com".into(),
            active: true,
            user_permissions: [("apis".to_string(), "read".to_string())].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = created.access_key.expose().to_string();
    let id = created.user.id.clone();
    let secrets = [ADMIN_SECRET, FIRST_PW, SHORT_PW, key.as_str()];

    client
        .reset_password_as_user(&id, &created.access_key, &Password::new(FIRST_PW), None)
        .await
        .unwrap();

    // Policy refusal (too short) through the admin PUT, which carries key and password.
    let user = client.get_user(&id).await.unwrap();
    let err = client
        .update_user(&user, Some(&Password::new(SHORT_PW)))
        .await
        .unwrap_err();
    let text = surfaces(err.into());
    assert!(
        text.contains("PasswordRejected") || text.to_lowercase().contains("password"),
        "{text}"
    );
    assert_clean(&text, &secrets);

    // Reuse refusal.
    let err = client
        .update_user(&user, Some(&Password::new(FIRST_PW)))
        .await
        .unwrap_err();
    assert_clean(&surfaces(err.into()), &secrets);

    // A wrong admin secret.
    let wrong = DashboardClient::new(
        ConnectionConfig::new(
            &emu.url(),
            AdminSecret::new(format!("{ADMIN_SECRET}-wrong")),
        )
        .unwrap(),
    )
    .unwrap();
    let err = wrong.get_user(&id).await.unwrap_err();
    let text = surfaces(err.into());
    assert!(text.contains("Unauthorized"), "{text}");
    assert_clean(&text, &secrets);

    // A refused self-reset signed with a wrong key.
    let err = client
        .reset_password_as_user(
            &id,
            &AccessKey::new("0123456789abcdef0123456789abcdef"),
            &Password::new("another-password-1"),
            None,
        )
        .await
        .unwrap_err();
    assert_clean(
        &surfaces(err.into()),
        &[ADMIN_SECRET, "another-password-1", key.as_str()],
    );

    // The Dashboard being down.
    let url = emu.url();
    emu.shutdown().await;
    let down =
        DashboardClient::new(ConnectionConfig::new(&url, AdminSecret::new(ADMIN_SECRET)).unwrap())
            .unwrap();
    let err = down.get_user(&id).await.unwrap_err();
    let text = surfaces(err.into());
    assert!(text.contains("DashboardUnreachable"), "{text}");
    assert_clean(&text, &secrets);
}
