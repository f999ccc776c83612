//! Wire shapes: `AdminUserCreate`, `UserResponse`, the inferred `AdminUserUpdate`, and
//! FastAPI's error bodies (`{"detail": "..."}` or `{"detail": [{loc, msg, type, input, ctx}]}`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::dashboard::Password;

/// `AdminUserCreate` (documented). Deliberately not `Serialize`: the password would go
/// wherever the struct is serialised (a log line, a dump). [`create_body`] is the one way
/// to put it on the wire.
#[derive(Debug, Clone)]
pub struct NewAdminUser {
    pub username: String,
    pub password: Password,
    pub email: String,
    pub role: String,
}

/// The `POST /admin/users/` body: the only place the password is exposed for creation.
pub(super) fn create_body(new: &NewAdminUser) -> Value {
    serde_json::json!({
        "username": new.username,
        "password": new.password.expose(),
        "email": new.email,
        "role": new.role,
    })
}

/// `AdminUserUpdate` (inferred): only the fields to change are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

/// `UserResponse` (documented), decoded leniently: nulls and missing optional fields are
/// defaults, unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AdminUser {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub username: String,
    #[serde(default, deserialize_with = "null_default")]
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub is_active: bool,
    /// `active`, `pending` or `disabled`.
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default, deserialize_with = "null_default")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub last_login_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A FastAPI error answer, reduced to what may be shown: `detail` text, or per entry
/// `loc: msg (type)`. `input` and `ctx` are dropped — FastAPI echoes the request there, a
/// refused password included.
pub struct ErrorDetail {
    pub message: String,
    /// Some entry's `loc` ends in `password`.
    pub about_password: bool,
}

pub fn error_detail(body: &[u8]) -> ErrorDetail {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match v.get("detail") {
        Some(Value::String(s)) => ErrorDetail {
            message: s.clone(),
            about_password: false,
        },
        Some(Value::Array(entries)) => {
            let mut about_password = false;
            let parts: Vec<String> = entries
                .iter()
                .map(|e| {
                    let loc: Vec<String> = e
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .map(|p| match p {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if loc.last().is_some_and(|l| l == "password") {
                        about_password = true;
                    }
                    let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
                    let msg = e.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                    format!("{}: {msg} ({kind})", loc.join("."))
                })
                .collect();
            ErrorDetail {
                message: parts.join("; "),
                about_password,
            }
        }
        _ => ErrorDetail {
            message: String::new(),
            about_password: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_detail_keeps_loc_msg_type_and_drops_input() {
        let body = br#"{"detail":[{"type":"string_too_short","loc":["body","password"],"msg":"String should have at least 8 characters","input":"hunter2","ctx":{"min_length":8}}]}"#;
        let d = error_detail(body);
        assert_eq!(
            d.message,
            "body.password: String should have at least 8 characters (string_too_short)"
        );
        assert!(d.about_password);
        assert!(!d.message.contains("hunter2"));
        let d = error_detail(br#"{"detail":"User not found"}"#);
        assert_eq!(
            (d.message.as_str(), d.about_password),
            ("User not found", false)
        );
        assert_eq!(error_detail(b"<html>").message, "");
    }

    #[test]
    fn user_response_decodes_leniently() {
        let u: AdminUser = serde_json::from_str(
            r#"{"id":"0b7e1f6a-3c1d-4e8a-9f0b-2a4c6e8f0a1b","username":"a","email":null,"is_active":true,"status":"pending","roles":null,"extra":1}"#,
        )
        .unwrap();
        assert_eq!(u.email, "");
        assert!(u.roles.is_empty());
    }
}
