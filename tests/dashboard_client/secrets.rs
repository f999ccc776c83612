//! Nothing secret can be printed: `Debug`/`Display` of every credential type, of the
//! connection settings, the client, users and envelopes. Errors are checked where the tests
//! produce them (`assert_clean`).

use std::time::Duration;

use dashboard_user_operator::dashboard::wire::created_user_from_envelope;
use dashboard_user_operator::dashboard::{
    AccessKey, AdminSecret, ApiKey, ConnectionConfig, DashboardClient, Envelope, Password, User,
};

pub const ADMIN_SECRET: &str = "admin-Secret-9fT2";
/// Not hex on purpose: redaction must not rely on the shape of a key.
pub const API_KEY: &str = "api-Key-Wq71zz";
pub const ACCESS_KEY: &str = "c8251902f3f44dfa729e0267d0d62859";
pub const PASSWORD: &str = "Pa55-word-Lk0";

/// Every credential value the client tests use.
pub const ALL: &[&str] = &[ADMIN_SECRET, API_KEY, ACCESS_KEY, PASSWORD];

#[track_caller]
pub fn assert_clean(printed: &str) {
    for s in ALL {
        assert!(!printed.contains(s), "secret printed: {printed}");
    }
}

#[test]
fn credential_types_redact_debug_and_display() {
    let printed = [
        format!(
            "{:?} {}",
            AdminSecret::new(ADMIN_SECRET),
            AdminSecret::new(ADMIN_SECRET)
        ),
        format!("{:?} {}", ApiKey::new(API_KEY), ApiKey::new(API_KEY)),
        format!(
            "{:?} {}",
            AccessKey::new(ACCESS_KEY),
            AccessKey::new(ACCESS_KEY)
        ),
        format!("{:?} {}", Password::new(PASSWORD), Password::new(PASSWORD)),
        format!("{:#?}", Some(Password::new(PASSWORD))),
    ];
    for p in &printed {
        assert_clean(p);
        assert!(p.contains("<redacted>"), "{p}");
    }
    // The value is still there for the wire.
    assert_eq!(Password::new(PASSWORD).expose(), PASSWORD);
    assert_eq!(
        serde_json::to_string(&AccessKey::new(ACCESS_KEY)).unwrap(),
        format!("\"{ACCESS_KEY}\"")
    );
    assert_eq!(format!("{:?}", AccessKey::default()), "AccessKey(<empty>)");
}

#[test]
fn connection_config_and_client_redact() {
    let mut cfg = ConnectionConfig::new(
        "https://dashboard.example:3000",
        AdminSecret::new(ADMIN_SECRET),
    )
    .unwrap();
    cfg.api_key = Some(ApiKey::new(API_KEY));
    cfg.ca_pem = Some(b"-----BEGIN CERTIFICATE-----".to_vec());
    cfg.timeout = Duration::from_secs(3);
    let printed = format!("{cfg:?} {cfg:#?}");
    assert_clean(&printed);
    assert!(printed.contains("dashboard.example"), "{printed}");
    let ca = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dashboard/tls/ca.pem"
    ))
    .unwrap();
    cfg.ca_pem = Some(ca);
    let client = DashboardClient::new(cfg).unwrap();
    assert_clean(&format!("{client:?}"));
}

#[test]
fn credentials_in_urls_are_refused() {
    let cfg = ConnectionConfig::new(
        &format!("http://user:{PASSWORD}@127.0.0.1:1"),
        AdminSecret::new(ADMIN_SECRET),
    )
    .unwrap();
    let err = DashboardClient::new(cfg).unwrap_err();
    assert_eq!(err.category(), "Config");
    assert_clean(&format!("{err} {err:?}"));
}

#[test]
fn users_created_users_and_envelopes_redact() {
    let body = format!(
        r#"{{"Status":"OK","Message":"{ACCESS_KEY}","Meta":{{"id":"679a02465715ecdd507d7273","email_address":"a@b.c","access_key":"{ACCESS_KEY}","password":"{PASSWORD}","PWHistory":["{PASSWORD}"],"api_model":{{}}}}}}"#
    );
    let env = Envelope::from_slice(body.as_bytes()).unwrap();
    assert_clean(&format!("{env:?} {env:#?}"));
    let created = created_user_from_envelope(&env).unwrap().unwrap();
    assert_clean(&format!("{created:?} {created:#?}"));
    let user: User = created.user.clone();
    assert_clean(&format!("{user:?}"));
    assert!(format!("{user:?}").contains("a@b.c"));
}
