//! Faults injected by the emulator surface as `Transient`, and the client recovers once they
//! stop. Commit-then-drop leaves a user behind that the reconciler finds by email (docs/design.md
//! §3.2).

use std::time::Duration;

use dashboard_user_operator::dashboard::DashboardError;
use serde_json::json;
use tyk_dashboard_emulator::{Faults, Profile};

use crate::emulator::{
    ORG, PROFILES, admin_client, client_with, emulator, expect_err, new_user, org_admin,
};

fn faults(v: serde_json::Value) -> Faults {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn injected_error_statuses_are_transient() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        injected_error_statuses_are_transient_under(profile).await;
    }
}

async fn injected_error_statuses_are_transient_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = admin_client(&emu);
    let bob = admin
        .create_user(&new_user("bob@example.org", &[], true))
        .await
        .unwrap();
    for status in [500u16, 502, 503, 429] {
        emu.set_faults(faults(json!({"rules": [
            {"kind": "error", "status": status, "method": "GET", "route": "/admin/users/{id}", "count": 1}
        ]})))
        .unwrap();
        let err = expect_err(admin.get_user(&bob.user.id).await, "Transient");
        assert_eq!(err.status(), Some(status));
        // The rule is spent: the next call goes through.
        admin.get_user(&bob.user.id).await.unwrap();
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn hangs_time_out_and_resets_are_transient() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        hangs_time_out_and_resets_are_transient_under(profile).await;
    }
}

async fn hangs_time_out_and_resets_are_transient_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = client_with(&emu.url(), None, Duration::from_secs(2));
    let bob = admin
        .create_user(&new_user("bob@example.org", &[], true))
        .await
        .unwrap();

    emu.set_faults(faults(
        json!({"rules": [{"kind": "hang", "method": "GET", "count": 1}]}),
    ))
    .unwrap();
    let err = expect_err(admin.get_user(&bob.user.id).await, "Transient");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the transport error is kept as source"
    );

    emu.set_faults(faults(
        json!({"rules": [{"kind": "reset", "method": "GET", "count": 1}]}),
    ))
    .unwrap();
    let err = expect_err(admin.get_user(&bob.user.id).await, "Transient");
    assert_eq!(err.status(), None);

    // Latency below the timeout is just slower.
    emu.set_faults(faults(json!({"latency_ms": 50, "jitter_ms": 20})))
        .unwrap();
    assert_eq!(admin.get_user(&bob.user.id).await.unwrap().id, bob.user.id);
    emu.shutdown().await;
}

#[tokio::test]
async fn commit_then_drop_is_transient_and_the_user_does_exist() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        commit_then_drop_is_transient_and_the_user_does_exist_under(profile).await;
    }
}

async fn commit_then_drop_is_transient_and_the_user_does_exist_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = admin_client(&emu);
    let (_, api) = org_admin(&emu).await;
    emu.set_faults(faults(json!({"rules": [
        {"kind": "commit_then_drop", "method": "POST", "route": "/admin/users", "count": 1}
    ]})))
    .unwrap();
    let spec = new_user("eve@example.org", &[("users", "read")], true);
    let err = expect_err(admin.create_user(&spec).await, "Transient");
    assert!(
        matches!(err, DashboardError::Transient { status: None, .. }),
        "{err:?}"
    );
    assert!(
        emu.users()
            .iter()
            .any(|u| u.email_address == "eve@example.org")
    );

    // The retry sees AlreadyExists; the user is then adopted by email (docs/design.md §3.2).
    expect_err(admin.create_user(&spec).await, "AlreadyExists");
    let found = api
        .find_user_by_email("eve@example.org", Some(ORG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        admin.get_user(&found.id).await.unwrap().email_address,
        "eve@example.org"
    );

    // The same holds for a dropped update: it was applied.
    let mut user = admin.get_user(&found.id).await.unwrap();
    user.last_name = "Applied".into();
    emu.set_faults(faults(json!({"rules": [
        {"kind": "commit_then_drop", "method": "PUT", "route": "/admin/users/{id}", "count": 1}
    ]})))
    .unwrap();
    expect_err(admin.update_user(&user, None).await, "Transient");
    assert_eq!(
        admin.get_user(&found.id).await.unwrap().last_name,
        "Applied"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn random_faults_only_ever_yield_transient_errors() {
    for profile in PROFILES {
        eprintln!("profile {profile:?}");
        random_faults_only_ever_yield_transient_errors_under(profile).await;
    }
}

async fn random_faults_only_ever_yield_transient_errors_under(profile: Profile) {
    let emu = emulator(profile).await;
    let admin = client_with(&emu.url(), None, Duration::from_secs(2));
    let bob = admin
        .create_user(&new_user("bob@example.org", &[], true))
        .await
        .unwrap();
    emu.set_faults(faults(json!({
        "error_rate": 0.2, "error_status": 503, "reset_rate": 0.1, "hang_rate": 0.05
    })))
    .unwrap();
    let (mut ok, mut transient) = (0, 0);
    for _ in 0..30 {
        match admin.get_user(&bob.user.id).await {
            Ok(u) => {
                assert_eq!(u.id, bob.user.id);
                ok += 1;
            }
            Err(e) => {
                assert!(e.is_transient(), "{e}");
                transient += 1;
            }
        }
    }
    assert_eq!(ok + transient, 30);
    emu.shutdown().await;
}
