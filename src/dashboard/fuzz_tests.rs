//! Fuzz targets for the Dashboard answer decoding (issue #9 part 7): arbitrary bytes and
//! arbitrary JSON shaped like Tyk answers go through every decoder and classifier the client
//! uses; none may panic, and what they keep must hold no secret.

use proptest::prelude::*;
use serde_json::Value;

use super::classify::{CallKind, classify, hint_for, sanitize_message};
use super::wire::{
    Envelope, created_user_from_envelope, decode_user, decode_user_list, normalize_id,
};
use crate::fuzzing::fuzz;

/// Keys Tyk answers use, so generated objects often take the decoders' interesting paths.
const KEYS: &[&str] = &[
    "Status",
    "Message",
    "Meta",
    "id",
    "email_address",
    "first_name",
    "last_name",
    "org_id",
    "active",
    "access_key",
    "user_permissions",
    "group_id",
    "password",
    "password_max_days",
    "users",
    "pages",
    "api_model",
    "PWHistory",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("OK".to_string()),
            Just("Error".to_string()),
            Just("5e9d9544a1dcd60001d0ed20".to_string()),
            Just("c8251902f3f44dfa729e0267d0d62859".to_string()),
            ".{0,40}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_string),
                        "[a-z_]{1,12}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        // Truncated JSON: a valid answer cut anywhere.
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, i)| {
            let s = v.to_string().into_bytes();
            let cut = i.index(s.len() + 1);
            s[..cut].to_vec()
        }),
    ]
}

fn decode_everything(b: &[u8]) {
    if let Some(env) = Envelope::from_slice(b) {
        let _ = env.is_ok();
        let _ = env.meta_kind();
        let _ = env.meta_id();
        let _ = created_user_from_envelope(&env);
        let _ = format!("{env:?}");
    }
    if let Ok(u) = decode_user(b) {
        // An echoed password is dropped on decode, so it can never be PUT back.
        let back = serde_json::to_value(&u).expect("a decoded user serialises");
        assert!(back.get("password").is_none(), "password kept: {back}");
        let _ = normalize_id(&u.id);
    }
    if let Ok(list) = decode_user_list(b) {
        assert!(list.users.len() <= b.len(), "more users than bytes");
    }
}

#[test]
fn fuzz_answer_decoding_never_panics() {
    fuzz("answer decoding", body(), |b| {
        decode_everything(&b);
        Ok(())
    });
}

#[test]
fn fuzz_error_classification_and_sanitising() {
    // Passwords read with --from-file may end in a newline.
    let secret = "[A-Za-z0-9+/=_-]{4,40}\\n?";
    let message = (
        ".{0,300}",
        secret,
        any::<prop::sample::Index>(),
        prop::option::of((any::<prop::sample::Index>(), "[\\x00-\\x1f\\x7f]")),
    )
        .prop_map(|(m, s, i, split)| {
            // Plant the secret somewhere in the message (on a char boundary), maybe with a
            // control character inside it (which the sanitiser drops).
            let chars: Vec<char> = m.chars().collect();
            let at = i.index(chars.len() + 1);
            let mut planted = s.clone();
            if let Some((j, ctl)) = split {
                planted.insert_str(j.index(s.len() + 1), &ctl);
            }
            let mut out: String = chars[..at].iter().collect();
            out.push_str(&planted);
            out.extend(&chars[at..]);
            (out, s)
        });
    fuzz(
        "classification",
        (any::<u16>(), message, any::<bool>()),
        |(status, (message, secret), pw)| {
            let kind = if pw {
                CallKind::SetsPassword
            } else {
                CallKind::Plain
            };
            let _ = classify(status, &message, kind);
            let _ = hint_for(&message);
            let clean = sanitize_message(&message, &[&secret]);
            let bare = secret.trim_end_matches('\n');
            prop_assert!(!clean.contains(bare), "secret kept in {clean:?}");
            prop_assert!(clean.chars().count() <= 201, "unbounded: {}", clean.len());
            prop_assert!(
                !clean.chars().any(char::is_control),
                "control characters kept"
            );
            Ok(())
        },
    );
}

#[test]
fn fuzz_id_normalisation_is_idempotent() {
    fuzz(
        "normalize_id",
        prop_oneof!["[0-9a-fA-F]{0,60}", ".{0,60}"],
        |id| {
            let once = normalize_id(&id);
            prop_assert_eq!(normalize_id(&once), once.clone());
            Ok(())
        },
    );
}
