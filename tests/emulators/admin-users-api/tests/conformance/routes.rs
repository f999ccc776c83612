//! The inferred routes: read, list/find, update, password, delete, and Starlette's
//! 404/405/307 answers.

use serde_json::json;

use crate::{only_error, start, start_with};

#[tokio::test]
async fn get_by_id_404_and_uuid_422() {
    let e = start().await;
    let u = e.create("reader", Some("admin")).await;
    let id = u["id"].as_str().unwrap();
    let a = e.call("GET", &format!("/admin/users/{id}"), None).await;
    assert_eq!((a.status, &a.body), (200, &u));
    let a = e
        .call(
            "GET",
            "/admin/users/0b7e1f6a-3c1d-4e8a-9f0b-2a4c6e8f0a1b",
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body),
        (404, json!({"detail": "User not found"}))
    );
    let a = e.call("GET", "/admin/users/not-a-uuid", None).await;
    let err = only_error(&a);
    assert_eq!(err["type"], "uuid_parsing");
    assert_eq!(err["loc"], json!(["path", "user_id"]));
    assert!(
        err["msg"]
            .as_str()
            .unwrap()
            .starts_with("Input should be a valid UUID")
    );
    // Trailing slash on an item: 307 to the bare path.
    let a = e.call("GET", &format!("/admin/users/{id}/"), None).await;
    assert_eq!(a.status, 307);
    assert!(
        a.headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/api/admin/users/{id}"))
    );
}

#[tokio::test]
async fn list_filters_by_username_and_pages_with_skip_limit() {
    let e = start().await;
    for n in ["ann", "bob", "cid"] {
        e.create(n, None).await;
    }
    let a = e.call("GET", "/admin/users/?username=bob", None).await;
    assert_eq!(a.status, 200);
    let list = a.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["username"], "bob");
    let a = e.call("GET", "/admin/users/?username=nobody", None).await;
    assert_eq!(a.body, json!([]));
    let a = e.call("GET", "/admin/users/?skip=1&limit=1", None).await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    assert_eq!(a.body[0]["username"], "bob");
    let a = e.call("GET", "/admin/users/?limit=101", None).await;
    assert_eq!(
        only_error(&a),
        json!({"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 100", "input": "101", "ctx": {"le": 100}})
    );
    let a = e.call("GET", "/admin/users/?skip=x", None).await;
    assert_eq!(only_error(&a)["type"], "int_parsing");
}

#[tokio::test]
async fn patch_updates_email_role_and_is_active() {
    let e = start().await;
    let u = e.create("patched", None).await;
    let path = format!("/admin/users/{}", u["id"].as_str().unwrap());
    let a = e
        .call("PATCH", &path, Some(json!({"email": "new@example.com", "role": "admin", "is_active": false, "unknown": 1})))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["email"], "new@example.com");
    assert_eq!(a.body["roles"], json!(["admin"]));
    assert_eq!(a.body["is_active"], false);
    assert_eq!(a.body["status"], "disabled");
    // A partial PATCH leaves the rest alone.
    let a = e
        .call("PATCH", &path, Some(json!({"is_active": true})))
        .await;
    assert_eq!(
        (a.body["email"].as_str(), a.body["is_active"].as_bool()),
        (Some("new@example.com"), Some(true))
    );
    let a = e.call("PATCH", &path, Some(json!({"role": "owner"}))).await;
    assert_eq!(only_error(&a)["type"], "enum");
    let a = e
        .call("PATCH", &path, Some(json!({"is_active": "maybe"})))
        .await;
    assert_eq!(only_error(&a)["type"], "bool_parsing");
}

#[tokio::test]
async fn password_route_sets_the_password_with_the_create_rules() {
    let e = start().await;
    let u = e.create("pw-user", None).await;
    let path = format!("/admin/users/{}/password", u["id"].as_str().unwrap());
    let a = e
        .call("PUT", &path, Some(json!({"password": "another-pass"})))
        .await;
    assert_eq!((a.status, a.body), (204, serde_json::Value::Null));
    assert!(e.emu.check_password("pw-user", "another-pass"));
    assert_eq!(e.emu.users()[0].password_changes, 1);
    let a = e
        .call("PUT", &path, Some(json!({"password": "short"})))
        .await;
    assert_eq!(only_error(&a)["type"], "string_too_short");
    assert!(e.emu.check_password("pw-user", "another-pass"), "unchanged");
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let e = start().await;
    let u = e.create("gone", None).await;
    let path = format!("/admin/users/{}", u["id"].as_str().unwrap());
    assert_eq!(e.call("DELETE", &path, None).await.status, 204);
    let a = e.call("DELETE", &path, None).await;
    assert_eq!(
        (a.status, a.body),
        (404, json!({"detail": "User not found"}))
    );
}

#[tokio::test]
async fn missing_routes_answer_405_and_unknown_paths_404() {
    let e = start_with(|s| {
        s.delete_route = false;
        s.password_route = false;
    })
    .await;
    let u = e.create("stays", None).await;
    let id = u["id"].as_str().unwrap();
    let a = e.call("DELETE", &format!("/admin/users/{id}"), None).await;
    assert_eq!(
        (a.status, &a.body),
        (405, &json!({"detail": "Method Not Allowed"}))
    );
    assert_eq!(a.headers["allow"], "GET, PATCH");
    let a = e
        .call(
            "PUT",
            &format!("/admin/users/{id}/password"),
            Some(json!({"password": "another-pass"})),
        )
        .await;
    assert_eq!(a.status, 405);
    let a = e.call("GET", "/admin/groups/", None).await;
    assert_eq!((a.status, a.body), (404, json!({"detail": "Not Found"})));
    assert_eq!(e.emu.users().len(), 1);
}
