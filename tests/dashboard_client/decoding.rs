//! Every JSON example of docs/tyk-dashboard-api.md and the swagger user examples, as fixture files,
//! decoded with the client's own wire types.

use std::path::PathBuf;

use dashboard_user_operator::dashboard::error::{CallKind, ErrorClass, classify};
use dashboard_user_operator::dashboard::wire::{
    Envelope, MetaKind, User, created_user_from_envelope, decode_user, decode_user_list,
};
use serde_json::Value;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dashboard")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn envelope(name: &str) -> Envelope {
    Envelope::from_slice(&fixture(name)).unwrap_or_else(|| panic!("{name} is not an envelope"))
}

#[test]
fn admin_create_answers_with_the_user_yield_id_and_key() {
    // (fixture, id after normalisation, key, org, permissions count)
    let cases = [
        (
            "admin_create_v5_8_swagger.json",
            "679a02465715ecdd507d7273",
            "c8251902f3f44dfa729e0267d0d62859",
            "",
            2,
        ),
        (
            "admin_create_v5_8_doc.json",
            "679a02465715ecdd507d7273",
            "c8251902f3f44dfa729e0267d0d62859",
            "",
            2,
        ),
        (
            "admin_create_2019.json",
            "5d5543a0a8b5a10001d3e7f4",
            "5d2c4d7b8f1e4a6c9b0a1d2e3f405162",
            "5d15d3068ba30a0001621bfe",
            1,
        ),
        (
            "admin_create_2020.json",
            "5f7f98427fea06e1b637b2b9",
            "3f1c2b7e9d8a4c5f8e7d6c5b4a392817",
            "",
            2,
        ),
    ];
    for (name, id, key, org, perms) in cases {
        let env = envelope(name);
        assert!(env.is_ok(), "{name}");
        assert_eq!(env.meta_kind(), MetaKind::Object, "{name}");
        let created = created_user_from_envelope(&env)
            .expect("user in Meta")
            .expect("decodes");
        assert_eq!(created.user.id, id, "{name}");
        assert_eq!(created.access_key.expose(), key, "{name}");
        assert_eq!(created.user.access_key.expose(), key, "{name}");
        assert_eq!(created.user.org_id, org, "{name}");
        assert_eq!(created.user.user_permissions.len(), perms, "{name}");
        // A password echoed by old versions must never be kept (it would be PUT back).
        assert!(!created.user.other.0.contains_key("password"), "{name}");
    }
}

#[test]
fn admin_create_pwhistory_is_kept_for_round_trip_but_never_printed() {
    let env = envelope("admin_create_v5_8_doc.json");
    let created = created_user_from_envelope(&env).unwrap().unwrap();
    assert!(created.user.other.0.contains_key("PWHistory"));
    assert!(created.user.other.0.contains_key("api_model"));
    let printed = format!("{created:?}");
    assert!(
        !printed.contains("c8251902f3f44dfa729e0267d0d62859"),
        "{printed}"
    );
    assert!(
        printed.contains("PWHistory"),
        "field names are shown: {printed}"
    );
}

#[test]
fn envelopes_without_a_user_are_recognised_by_meta_shape() {
    let cases = [
        (
            "admin_create_2017_user_created.json",
            MetaKind::Empty,
            "User created",
            None,
        ),
        (
            "api_create_2017_meta_empty.json",
            MetaKind::Empty,
            "User created",
            None,
        ),
        (
            "api_create_2017_meta_null.json",
            MetaKind::Null,
            "User created",
            None,
        ),
        (
            "api_create_current.json",
            MetaKind::String,
            "User and session have been created",
            Some("6649a9e85715ec4c96cbef2f"),
        ),
        (
            "admin_update_legacy.json",
            MetaKind::Empty,
            "User updated",
            None,
        ),
        (
            "org_create.json",
            MetaKind::String,
            "Org created",
            Some("54b53d3aeba6db5c35000002"),
        ),
        (
            "usergroup_create.json",
            MetaKind::String,
            "User group created",
            Some("6649986d5715ec4c96cbef2b"),
        ),
        ("api_update.json", MetaKind::Null, "User updated", None),
        ("api_delete.json", MetaKind::Null, "User deleted", None),
        ("api_delete_old.json", MetaKind::Empty, "User deleted", None),
        (
            "api_reset_password.json",
            MetaKind::Null,
            "User password updated",
            None,
        ),
        (
            "api_reset_password_old.json",
            MetaKind::Empty,
            "User password updated",
            None,
        ),
        (
            "api_key_reset.json",
            MetaKind::Null,
            "User session renewed",
            None,
        ),
        ("api_revoke.json", MetaKind::Null, "User revoked", None),
        (
            "status_ok_mixed_case.json",
            MetaKind::Null,
            "User deleted",
            None,
        ),
    ];
    for (name, kind, message, id) in cases {
        let env = envelope(name);
        assert!(env.is_ok(), "{name}: Status compared ignoring case");
        assert_eq!(env.meta_kind(), kind, "{name}");
        assert_eq!(env.message, message, "{name}");
        assert_eq!(env.meta_id().as_deref(), id, "{name}");
        assert!(created_user_from_envelope(&env).is_none(), "{name}");
    }
}

#[test]
fn update_and_allow_reset_answers_carry_the_user() {
    let env = envelope("admin_update_v5_8_swagger.json");
    let user = env.meta_user().unwrap().unwrap();
    assert_eq!(user.id, "679a02465715ecdd507d7273");
    let env = envelope("admin_allow_reset_passwords.json");
    assert_eq!(env.message, "User updated");
    let user = env.meta_user().unwrap().unwrap();
    assert_eq!(user.id, "614215edb2d47190f98b3b79");
    assert_eq!(user.org_id, "60ef3a1dcb83670001bf2df9");
    assert_eq!(
        user.user_permissions
            .get("ResetPassword")
            .map(String::as_str),
        Some("admin")
    );
    assert_eq!(
        user.password_updated.as_deref(),
        Some("2021-09-15T15:49:01.863Z")
    );
}

#[test]
fn bare_get_bodies_decode_with_and_without_password_and_api_model() {
    let u = decode_user(&fixture("admin_get_swagger.json")).unwrap();
    assert_eq!(u.id, "679a02465715ecdd507d7273");
    assert_eq!(u.email_address, "itachisasuke@gmail.com");
    assert!(!u.active);
    assert!(u.other.0.is_empty(), "{:?}", u.other);

    let u = decode_user(&fixture("api_get_swagger_48hex.json")).unwrap();
    assert_eq!(
        u.id, "66498cd1e2fcd1000184ecb4",
        "48-hex id normalised (docs/tyk-dashboard-api.md §1.4)"
    );
    assert_eq!(u.org_id, "5e9d9544a1dcd60001d0ed20");
    assert_eq!(
        u.created_at.as_deref(),
        Some("2024-05-19T08:23:29.034+03:00")
    );
    assert!(u.other.0.contains_key("api_model"));

    let u = decode_user(&fixture("get_2017_with_password.json")).unwrap();
    assert_eq!(u.id, "54bd0ad9ff4329b88985aafb");
    assert!(
        !u.other.0.contains_key("password"),
        "echoed password dropped"
    );
    let back = serde_json::to_value(&u).unwrap();
    assert!(back.get("password").is_none(), "never sent back on PUT");
    assert_eq!(back["api_model"], Value::Object(Default::default()));

    let u = decode_user(&fixture("api_get_key_blanked.json")).unwrap();
    assert!(u.access_key.is_empty());

    let u = decode_user(&fixture("get_with_nulls.json")).unwrap();
    assert_eq!(u.org_id, "");
    assert!(u.user_permissions.is_empty() && !u.active && u.access_key.is_empty());
}

#[test]
fn put_round_trip_keeps_every_field() {
    let raw: Value = serde_json::from_slice(&fixture("api_get_swagger_48hex.json")).unwrap();
    let user: User = serde_json::from_value(raw.clone()).unwrap();
    let back = serde_json::to_value(&user).unwrap();
    let (Value::Object(raw), Value::Object(back)) = (raw, back) else {
        unreachable!()
    };
    for (k, v) in raw {
        if k == "id" {
            assert_eq!(back[&k], "66498cd1e2fcd1000184ecb4");
        } else {
            assert_eq!(back.get(&k), Some(&v), "field {k} survives the round trip");
        }
    }
}

#[test]
fn list_bodies_decode() {
    let l = decode_user_list(&fixture("list_swagger.json")).unwrap();
    assert_eq!(l.pages, 1);
    let ids: Vec<&str> = l.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "66498cd1e2fcd1000184ecb5",
            "66498cd1e2fcd1000184ecb4",
            "664991e55715ec4c96cbef2a",
            "664998b55715ec4c96cbef2c"
        ]
    );
    assert_eq!(l.users[3].group_id, "6649986d5715ec4c96cbef2b");
    assert_eq!(l.users[3].user_permissions.len(), 15);

    let l = decode_user_list(&fixture("search_swagger.json")).unwrap();
    assert_eq!(l.users.len(), 1);
    assert!(l.users[0].email_matches("ITACHI.W@tyk.io"));

    let l = decode_user_list(&fixture("list_old_with_hash.json")).unwrap();
    assert_eq!(l.pages, 0);
    assert!(
        !l.users[0].other.0.contains_key("password"),
        "bcrypt hash dropped"
    );

    let l = decode_user_list(&fixture("list_empty_null_users.json")).unwrap();
    assert!(l.users.is_empty());
}

#[test]
fn error_bodies_classify_by_status_and_message() {
    let table: Vec<Value> = serde_json::from_slice(&fixture("errors.json")).unwrap();
    assert!(table.len() >= 30);
    for row in table {
        let status = row["status"].as_u64().unwrap() as u16;
        let message = match &row["body"] {
            Value::Null => String::new(),
            body => {
                let env = Envelope::from_slice(body.to_string().as_bytes()).unwrap();
                assert!(!env.is_ok());
                assert_eq!(env.meta_kind(), MetaKind::Null);
                env.message
            }
        };
        let kind = match row["kind"].as_str().unwrap() {
            "sets_password" => CallKind::SetsPassword,
            _ => CallKind::Plain,
        };
        let got = classify(status, &message, kind);
        assert_eq!(got.to_string(), row["class"].as_str().unwrap(), "{row}");
    }
    // The Errors list of the operator's model decodes too.
    let env = envelope("error_with_errors_list.json");
    assert_eq!(env.errors.as_deref().map(<[String]>::len), Some(1));
    assert_eq!(
        classify(400, &env.message, CallKind::Plain),
        ErrorClass::Invalid
    );
}

#[test]
fn non_envelope_bodies_are_not_envelopes() {
    assert!(Envelope::from_slice(&fixture("admin_get_swagger.json")).is_none());
    assert!(Envelope::from_slice(b"<html>502 Bad Gateway</html>").is_none());
    assert!(Envelope::from_slice(b"").is_none());
}

#[test]
fn new_user_serialises_like_the_documented_admin_create_request() {
    use dashboard_user_operator::dashboard::NewUser;
    let documented: Value =
        serde_json::from_slice(&fixture("admin_create_request_doc.json")).unwrap();
    let ours = NewUser {
        org_id: "5d15d3068ba30a0001621bfe".into(),
        first_name: "Jason".into(),
        last_name: "Jasonson".into(),
        email_address: "jason@jasonsonson.com".into(),
        active: true,
        user_permissions: [("IsAdmin".to_string(), "admin".to_string())].into(),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&ours).unwrap(), documented);
}

#[test]
fn an_envelope_is_not_an_empty_list() {
    assert!(decode_user_list(&fixture("api_delete.json")).is_err());
    assert!(
        decode_user_list(br#"{"pages":0,"users":null}"#)
            .unwrap()
            .users
            .is_empty()
    );
}
