//! `POST /api/admin/users/`: the documented call, every field and every error.

use serde_json::{Value, json};

use crate::{TOKEN, VIEWER, only_error, start};

#[tokio::test]
async fn create_answers_user_response_with_every_documented_field() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "jdoe", "password": "s3cure-pass", "email": "jdoe@example.com", "role": "editor"})),
        )
        .await;
    assert_eq!(a.status, 201);
    let u = a.body;
    let id = u["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "id is a uuid: {id}");
    assert_eq!(u["username"], "jdoe");
    assert_eq!(u["email"], "jdoe@example.com");
    assert_eq!(u["is_active"], true);
    assert!(["active", "pending", "disabled"].contains(&u["status"].as_str().unwrap()));
    assert_eq!(u["last_login_at"], Value::Null);
    let created = u["created_at"].as_str().unwrap();
    assert!(
        created.parse::<jiff::Timestamp>().is_ok(),
        "date-time: {created}"
    );
    assert_eq!(u["roles"], json!(["editor"]));
    assert!(u.get("password").is_none(), "never echoed");
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "email",
            "is_active",
            "status",
            "last_login_at",
            "created_at",
            "roles"
        ]
    );
    assert!(e.emu.check_password("jdoe", "s3cure-pass"));
}

#[tokio::test]
async fn role_defaults_to_viewer() {
    let e = start().await;
    let u = e.create("viewer-by-default", None).await;
    assert_eq!(u["roles"], json!(["viewer"]));
}

#[tokio::test]
async fn missing_fields_are_fastapi_missing_errors_with_the_body_as_input() {
    let e = start().await;
    let body = json!({"email": "x@example.com"});
    let a = e.call("POST", "/admin/users/", Some(body.clone())).await;
    assert_eq!(a.status, 422);
    assert_eq!(
        a.body,
        json!({"detail": [
            {"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": body},
            {"type": "missing", "loc": ["body", "password"], "msg": "Field required", "input": body},
        ]})
    );
}

#[tokio::test]
async fn length_limits_are_string_too_short_and_too_long() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "ab", "password": "long-enough"})),
        )
        .await;
    assert_eq!(
        only_error(&a),
        json!({"type": "string_too_short", "loc": ["body", "username"], "msg": "String should have at least 3 characters", "input": "ab", "ctx": {"min_length": 3}})
    );
    let long = "u".repeat(151);
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": long, "password": "long-enough"})),
        )
        .await;
    assert_eq!(
        only_error(&a),
        json!({"type": "string_too_long", "loc": ["body", "username"], "msg": "String should have at most 150 characters", "input": long, "ctx": {"max_length": 150}})
    );
    // 3 and 150 are fine.
    e.create("abc", None).await;
    e.create(&"u".repeat(150), None).await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "short-pw", "password": "1234567"})),
        )
        .await;
    let err = only_error(&a);
    assert_eq!(err["type"], "string_too_short");
    assert_eq!(err["loc"], json!(["body", "password"]));
    assert_eq!(err["msg"], "String should have at least 8 characters");
    assert_eq!(err["ctx"], json!({"min_length": 8}));
    // FastAPI echoes the input, the password included: clients must not repeat it.
    assert_eq!(err["input"], "1234567");
    assert_eq!(
        e.emu.users().len(),
        2,
        "only the two valid ones were created"
    );
}

#[tokio::test]
async fn bad_role_is_an_enum_error() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "r", "password": "long-enough", "role": "root"})),
        )
        .await;
    let d = a.body["detail"].as_array().unwrap();
    assert_eq!(d.len(), 2, "all errors at once: {d:?}");
    assert_eq!(d[0]["type"], "string_too_short");
    assert_eq!(
        d[1],
        json!({"type": "enum", "loc": ["body", "role"], "msg": "Input should be 'admin', 'editor' or 'viewer'", "input": "root", "ctx": {"expected": "'admin', 'editor' or 'viewer'"}})
    );
}

#[tokio::test]
async fn bad_email_is_a_value_error() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "mail", "password": "long-enough", "email": "no-at-sign"})),
        )
        .await;
    assert_eq!(
        only_error(&a),
        json!({"type": "value_error", "loc": ["body", "email"], "msg": "value is not a valid email address: An email address must have an @-sign.", "input": "no-at-sign", "ctx": {"reason": "An email address must have an @-sign."}})
    );
}

#[tokio::test]
async fn wrong_types_and_bodies() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": 42, "password": "long-enough"})),
        )
        .await;
    assert_eq!(
        only_error(&a),
        json!({"type": "string_type", "loc": ["body", "username"], "msg": "Input should be a valid string", "input": 42})
    );
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!(["not", "an", "object"])),
        )
        .await;
    let err = only_error(&a);
    assert_eq!(err["type"], "model_attributes_type");
    assert_eq!(err["loc"], json!(["body"]));
    let a = e.raw("POST", "/admin/users/", "{not json").await;
    let err = only_error(&a);
    assert_eq!(err["type"], "json_invalid");
    assert_eq!(err["loc"][0], "body");
    assert_eq!(err["msg"], "JSON decode error");
}

#[tokio::test]
async fn username_is_unique_409() {
    let e = start().await;
    e.create("taken", None).await;
    let a = e
        .call(
            "POST",
            "/admin/users/",
            Some(json!({"username": "taken", "password": "long-enough"})),
        )
        .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.body, json!({"detail": "Username already exists"}));
    assert_eq!(e.emu.users().len(), 1);
}

#[tokio::test]
async fn authentication_401_with_www_authenticate_and_403_for_non_admins() {
    let e = start().await;
    let body = json!({"username": "auth", "password": "long-enough"});
    for (token, msg) in [
        (None, "Not authenticated"),
        (Some("wrong-token"), "Invalid authentication credentials"),
    ] {
        let a = e
            .call_as(token, "POST", "/admin/users/", Some(body.clone()))
            .await;
        assert_eq!(a.status, 401);
        assert_eq!(a.body, json!({"detail": msg}));
        assert_eq!(a.headers["www-authenticate"], "Bearer");
    }
    let a = e
        .call_as(Some(VIEWER), "POST", "/admin/users/", Some(body.clone()))
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body, json!({"detail": "Admin privileges required"}));
    // Authentication comes before validation: a bad body without a token is still 401.
    let a = e
        .call_as(None, "POST", "/admin/users/", Some(json!({})))
        .await;
    assert_eq!(a.status, 401);
    assert!(e.emu.users().is_empty());
    let _ = TOKEN;
}

#[tokio::test]
async fn the_bare_path_redirects_307_to_the_slash() {
    let e = start().await;
    let a = e
        .call(
            "POST",
            "/admin/users",
            Some(json!({"username": "redir", "password": "long-enough"})),
        )
        .await;
    assert_eq!(a.status, 307);
    let loc = a.headers["location"].to_str().unwrap();
    assert_eq!(loc, format!("{}/admin/users/", e.emu.api_url()));
    assert!(e.emu.users().is_empty(), "a redirect creates nothing");
}
