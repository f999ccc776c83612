//! The Dashboard's legacy response envelope and bare JSON answers (docs/tyk-dashboard-api.md §1.3).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::Value;

/// `{"Status","Message","Meta"}` — a struct, not a map, so the key order is fixed
/// (docs/tyk-dashboard-api.md §10.14).
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "Status")]
    status: &'a str,
    #[serde(rename = "Message")]
    message: &'a str,
    #[serde(rename = "Meta")]
    meta: &'a Value,
}

/// One HTTP answer from an /admin or /api route.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    body: String,
    content_type: &'static str,
}

impl Reply {
    /// 200 `{"Status":"OK","Message":..,"Meta":..}`.
    pub fn ok(message: &str, meta: Value) -> Reply {
        Reply::envelope(StatusCode::OK, "OK", message, &meta)
    }

    /// An error envelope; `Meta` is always `null` on errors (docs/tyk-dashboard-api.md §1.3).
    pub fn err(status: u16, message: &str) -> Reply {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Reply::envelope(status, "Error", message, &Value::Null)
    }

    /// A bare JSON body (GETs do not use the envelope, docs/tyk-dashboard-api.md §1.3).
    pub fn json(value: &Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: go_escape(value.to_string()),
            content_type: "application/json",
        }
    }

    /// Go's router answer for an unknown route.
    pub fn not_found_text(status: u16) -> Reply {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
        let body = if status == StatusCode::NOT_FOUND {
            "404 page not found\n".to_string()
        } else {
            format!("{}\n", status.canonical_reason().unwrap_or("error"))
        };
        Reply {
            status,
            body,
            content_type: "text/plain; charset=utf-8",
        }
    }

    fn envelope(status: StatusCode, word: &str, message: &str, meta: &Value) -> Reply {
        let env = Envelope {
            status: word,
            message,
            meta,
        };
        Reply {
            status,
            // serde_json's default writer is compact, as Go's encoding/json
            // (docs/tyk-dashboard-api.md §1.1).
            body: go_escape(serde_json::to_string(&env).expect("envelope serialises")),
            content_type: "application/json",
        }
    }
}

/// Go's `json.Marshal` escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings; serde_json
/// does not. Those characters can only occur inside JSON strings, so a plain replace is exact.
fn go_escape(json: String) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json;
    }
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        r
    }
}

/// Messages that appear in more than one place, spelled exactly as documented
/// (docs/tyk-dashboard-api.md §10.6).
pub mod msg {
    pub const NOT_AUTHORISED: &str = "Not authorised";
    pub const BODY_EMPTY: &str = "Failed to read response body, body empty";
    pub const MALFORMED: &str = "Request body malformed";
    pub const MALFORMED_DOT: &str = "Request body malformed.";
    pub const UNAUTHORISED_ACCESS: &str = "Attempted unauthorised access.";
    pub const USER_DETAIL: &str = "Could not retrieve user detail";
    pub const USER_DETAIL_DOT: &str = "Could not retrieve user detail.";
    pub const USER_NOT_ACTIVE: &str = "User is not active";
    pub const ONE_PERMISSION: &str =
        "To create a user specify at least one permission, or make them an admin.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_is_compact_and_ordered() {
        let r = Reply::ok("m", json!({"b": 1, "a": [null, ""]}));
        assert_eq!(
            r.body,
            r#"{"Status":"OK","Message":"m","Meta":{"b":1,"a":[null,""]}}"#
        );
        let r = Reply::err(403, "x");
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.body, r#"{"Status":"Error","Message":"x","Meta":null}"#);
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        let r = Reply::json(&json!({"first_name": "<b>&\u{2028}"}));
        assert_eq!(r.body, r#"{"first_name":"\u003cb\u003e\u0026\u2028"}"#);
        // Round-trips to the same value.
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["first_name"], "<b>&\u{2028}");
    }
}
