//! Classification of Dashboard answers from status *and* message, and the sanitising of the
//! server messages kept in errors (docs/tyk-dashboard-api.md §10.6, §10.7).

use std::fmt;

/// The class of a non-success answer, before it is dressed with context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    AlreadyExists,
    NotFound,
    Unauthorized,
    Forbidden,
    PasswordRejected,
    Invalid,
    Transient,
    Unexpected,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What kind of call produced the answer; some messages mean different things per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Any call that does not set a password.
    Plain,
    /// A call that sets a password (`actions/reset`, admin PUT with `password`).
    SetsPassword,
}

/// Classifies a non-2xx answer (or a 2xx answer whose envelope says `Error`).
/// `message` is the envelope `Message`, or `""` when the body was not an envelope.
pub fn classify(status: u16, message: &str, kind: CallKind) -> ErrorClass {
    let m = message.to_ascii_lowercase();
    match status {
        // An inactive user's own key is refused with 401 or 403 depending on the version
        // (docs/tyk-dashboard-api.md §13.10); either way the caller's credentials are fine, the
        // user is not.
        401 | 403 if m.contains("not active") => ErrorClass::Forbidden,
        401 => ErrorClass::Unauthorized,
        // 403 is overloaded (docs/tyk-dashboard-api.md §10.7): look at the message.
        403 | 400 | 409 | 422 if m.contains("already exists") => ErrorClass::AlreadyExists,
        409 => ErrorClass::AlreadyExists,
        400 if m.contains("does not exist") || m.contains("could not retrieve user detail") => {
            ErrorClass::NotFound
        }
        400 | 403 | 422 if kind == CallKind::SetsPassword && is_password_refusal(&m) => {
            ErrorClass::PasswordRejected
        }
        403 if m.contains("malformed")
            || m.contains("specify at least one permission")
            || m.contains("validation") =>
        {
            ErrorClass::Invalid
        }
        403 if is_permission_denial(&m) => ErrorClass::Forbidden,
        // e.g. an invalid email format on update (docs/tyk-dashboard-api.md §3.4).
        403 if m.contains("email") => ErrorClass::Invalid,
        403 => ErrorClass::Forbidden,
        404 | 410 => ErrorClass::NotFound,
        408 | 429 => ErrorClass::Transient,
        // A 500 that is really a refusal of this request (docs/tyk-dashboard-api.md §2.3, §10.5);
        // retrying won't help.
        500 if m.contains("could not update api session")
            || m.contains("body empty")
            || m.contains("malformed") =>
        {
            ErrorClass::Invalid
        }
        // "Attempted unauthorised access." is a 500 for a user outside the caller's org
        // (docs/tyk-dashboard-api.md §3.3).
        500 if m.contains("unauthorised access") => ErrorClass::Forbidden,
        500..=599 => ErrorClass::Transient,
        400..=499 => ErrorClass::Invalid,
        // A 2xx whose envelope says "Error": only the message can tell.
        200..=299 => classify_message(&m),
        _ => ErrorClass::Unexpected,
    }
}

fn classify_message(m: &str) -> ErrorClass {
    if m.contains("already exists") {
        ErrorClass::AlreadyExists
    } else if m.contains("not found")
        || m.contains("does not exist")
        || m.contains("could not retrieve user detail")
    {
        ErrorClass::NotFound
    } else if m.contains("not authorised") {
        ErrorClass::Unauthorized
    } else if is_permission_denial(m) {
        ErrorClass::Forbidden
    } else {
        ErrorClass::Unexpected
    }
}

fn is_permission_denial(m: &str) -> bool {
    m.contains("access denied")
        || m.contains("permission")
        || m.contains("not active")
        || m.contains("forbidden")
        || m.contains("not allowed")
}

/// Policy/reuse refusals on a password call. A denial to reset *someone else's* password is
/// a permission problem, not a password problem (docs/tyk-dashboard-api.md §3.6).
fn is_password_refusal(m: &str) -> bool {
    if m.contains("permission") || m.contains("access denied") || m.contains("not active") {
        return false;
    }
    m.contains("password")
        || m.contains("reuse")
        || m.contains("history")
        || m.contains("too short")
        || m.contains("length")
        || m.contains("policy")
}

/// A hint for messages whose cause is known but not obvious.
pub(crate) fn hint_for(message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    if m.contains("could not update api session") {
        Some(
            "the admin update needs the full user object including its access_key \
             (GET the user first; tyk issue #2223)",
        )
    } else if m.contains("body empty") {
        Some("the request body was empty")
    } else {
        None
    }
}

/// Makes a server message safe to keep: known secrets and anything shaped like a key
/// (a run of 32+ hex digits, a dashed UUID) are replaced, and the length is bounded.
pub(crate) fn sanitize_message(message: &str, secrets: &[&str]) -> String {
    // Control characters go first: dropped after the replacement, one inside a secret
    // ("se\u{7}cret") would hide it from the match and then join its halves (found by
    // fuzz_error_classification_and_sanitising).
    let mut out: String = message.chars().filter(|c| !c.is_control()).collect();
    // The secrets alike: a password read from a file may end in a newline.
    let secrets = secrets
        .iter()
        .map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>());
    for s in secrets.filter(|s| s.len() >= 4) {
        out = out.replace(&s, "<redacted>");
    }
    let mut out = redact_key_shaped(&out);
    const MAX: usize = 200;
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}

fn redact_key_shaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let hex = token.chars().filter(|c| c.is_ascii_hexdigit()).count();
        let only_hex_or_dash = token.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if only_hex_or_dash && hex >= 32 {
            out.push_str("<redacted>");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use CallKind::*;
        use ErrorClass::*;
        let cases: &[(u16, &str, CallKind, ErrorClass)] = &[
            (
                403,
                "User email already exists for this Org",
                Plain,
                AlreadyExists,
            ),
            (
                403,
                "User email already exists for this org.",
                Plain,
                AlreadyExists,
            ),
            (401, "Not authorised", Plain, Unauthorized),
            (404, "Could not retrieve user detail", Plain, NotFound),
            (404, "User not found", Plain, NotFound),
            (400, "user does not exist.", Plain, NotFound),
            (400, "Could not retrieve user detail.", Plain, NotFound),
            (403, "Request body malformed", Plain, Invalid),
            (
                403,
                "To create a user specify at least one permission, or make them an admin.",
                Plain,
                Invalid,
            ),
            (400, "User object validation failed.", Plain, Invalid),
            (
                403,
                "access denied: You do not have permission to access  /api/users",
                Plain,
                Forbidden,
            ),
            (403, "User is not active", Plain, Forbidden),
            (401, "User is not active", Plain, Forbidden),
            (
                403,
                "You do not have permission to reset the password for other users.",
                SetsPassword,
                Forbidden,
            ),
            (
                403,
                "Password has been used before",
                SetsPassword,
                PasswordRejected,
            ),
            (
                400,
                "Password must be at least 6 characters",
                SetsPassword,
                PasswordRejected,
            ),
            (403, "Request body malformed.", SetsPassword, Invalid),
            (
                500,
                "Could not update API session when update user",
                Plain,
                Invalid,
            ),
            (
                500,
                "Failed to read response body, body empty",
                Plain,
                Invalid,
            ),
            (500, "Attempted unauthorised access.", Plain, Forbidden),
            (
                500,
                "Failed to unmarshal keys data from Tyk API",
                Plain,
                Transient,
            ),
            (502, "", Plain, Transient),
            (503, "", Plain, Transient),
            (429, "", Plain, Transient),
            (302, "", Plain, Unexpected),
        ];
        for (status, msg, kind, want) in cases {
            assert_eq!(
                classify(*status, msg, *kind),
                *want,
                "{status} {msg:?} {kind:?}"
            );
        }
    }

    #[test]
    fn sanitize_removes_keys_and_known_secrets() {
        let key = "c8251902f3f44dfa729e0267d0d62859";
        let s = sanitize_message(
            &format!("bad key {key}, uuid 7a7b140f-2480-4b1c-9a6c-0d1e2f3a4b5c"),
            &[],
        );
        assert!(!s.contains(key) && !s.contains("7a7b140f"), "{s}");
        let s = sanitize_message("secret is hunter22 ok", &["hunter22"]);
        assert_eq!(s, "secret is <redacted> ok");
        // 24-hex ids are not keys and stay readable.
        let s = sanitize_message("user 679a02465715ecdd507d7273", &[]);
        assert!(s.contains("679a02465715ecdd507d7273"));
        assert!(sanitize_message(&"x".repeat(500), &[]).chars().count() <= 201);
    }
}
