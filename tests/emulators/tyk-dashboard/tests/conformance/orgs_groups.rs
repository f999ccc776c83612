//! Organisations (docs/tyk-dashboard-api.md §2.6) and user groups (docs/tyk-dashboard-api.md §4).

use serde_json::json;
use tyk_dashboard_emulator::Settings;

use crate::support::*;

/// (name, method, path, auth, body, status, message)
type OrgRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Auth<'a>,
    Option<&'a str>,
    u16,
    &'a str,
);
/// (name, method, path, key ("" = none), body, status, message)
type GroupRow<'a> = (
    &'a str,
    &'a str,
    String,
    &'a str,
    Option<&'a str>,
    u16,
    String,
);

const MISSING: &str = "0123456789abcdef01234567";

fn org_shape(name: &str, cname: &str) -> serde_json::Value {
    json!({"id":"<hex24>","owner_name":name,"owner_slug":"<any>","cname":cname,"cname_enabled":true,
        "apis":[],"developer_quota":0,"developer_count":0,"event_options":{},"hybrid_enabled":false,
        "ui":ui_shape(),"org_options_meta":{}})
}

/// `ui` (`ConfigUIOptions`) of a new org: every field the swagger examples show.
fn ui_shape() -> serde_json::Value {
    json!({"cloud":false,"default_lang":"","designer":{},"dont_allow_license_management":false,
        "dont_allow_license_management_view":false,"dont_show_admin_sockets":false,
        "hide_help":false,"languages":{},"login_page":{},"nav":{},"portal_section":{},"uptime":{}})
}

#[tokio::test]
async fn organisation_lifecycle() {
    let e = start_default().await;
    let body = r#"{"owner_name":"Jively","owner_slug":"testorg","cname_enabled":true,"cname":"jive.ly","hybrid_enabled":false,"event_options":{}}"#;
    let r = e.admin("POST", "/admin/organisations/", Some(body)).await;
    assert_eq!(r.status, 200);
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"Org created","Meta":"<hex24>"}),
    );
    let id = r.json()["Meta"].as_str().unwrap().to_string();
    let path = format!("/admin/organisations/{id}");
    let got = e.admin("GET", &path, None).await;
    assert_eq!(got.status, 200);
    assert_shape(&got.json(), &org_shape("Jively", "jive.ly"));
    assert_eq!(got.json()["id"], id.as_str());
    let list = e
        .admin("GET", "/admin/organisations?p=-2", None)
        .await
        .json();
    assert_shape(
        &list,
        &json!({"organisations":[org_shape("Jively", "jive.ly")],"pages":1}),
    );

    let put = r#"{"owner_name":"Renamed","cname":"new.ly","cname_enabled":true}"#;
    e.admin("PUT", &path, Some(put))
        .await
        .envelope(200, "OK", "Org updated");
    assert_shape(
        &e.admin("GET", &path, None).await.json(),
        &org_shape("Renamed", "new.ly"),
    );

    e.admin("DELETE", &path, None)
        .await
        .envelope(200, "OK", "Org deleted");
    e.admin("GET", &path, None)
        .await
        .envelope(404, "Error", "Could not retrieve org detail");
    assert_eq!(e.stats().await["writes"], 3);
}

/// tyk-demo's bootstrap imports `deployments/tyk/data/tyk-dashboard/1/organisation.json` and
/// then uses its id (docs/tyk-dashboard-api.md §2.6; ADMIN-SW `importOrgs`).
#[tokio::test]
async fn organisation_import_keeps_the_id() {
    let e = start_default().await;
    let body = r#"{"id":"5e9d9544a1dcd60001d0ed20","owner_name":"Tyk Demo","owner_slug":"",
        "cname_enabled":true,"cname":"tyk-portal.localhost:3000","apis":[],"sso_enabled":true,
        "hybrid_enabled":true,"event_options":{"key_event":{"redis":true},
        "hashed_key_event":{"redis":true}}}"#;
    let r = e
        .admin("POST", "/admin/organisations/import", Some(body))
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (
            200,
            r#"{"Status":"OK","Message":"Org imported","Meta":"5e9d9544a1dcd60001d0ed20"}"#
        )
    );
    let got = e
        .admin("GET", "/admin/organisations/5e9d9544a1dcd60001d0ed20", None)
        .await
        .json();
    let mut want = org_shape("Tyk Demo", "tyk-portal.localhost:3000");
    want["id"] = json!("5e9d9544a1dcd60001d0ed20");
    want["hybrid_enabled"] = json!(true);
    // Map values are Go structs: every field, keys sorted.
    want["event_options"] = json!({"hashed_key_event":{"email":"","redis":true,"webhook":""},
        "key_event":{"email":"","redis":true,"webhook":""}});
    want["sso_enabled"] = json!(true);
    assert_shape(&got, &want);
    // Without an id the server picks one.
    let r = e
        .admin("POST", "/admin/organisations/import", Some("{}"))
        .await;
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"Org imported","Meta":"<hex24>"}),
    );
    assert_eq!(e.stats().await["writes"], 2);
}

/// Bodies decode as the Dashboard's Go handler decodes them: unknown members are dropped,
/// keys match case-insensitively, `null` leaves strings, numbers and booleans at their zero
/// value and makes maps and slices nil (`null`).
#[tokio::test]
async fn organisation_bodies_decode_as_go_does() {
    let e = start_default().await;
    let body = r#"{"Owner_Name":"Acme","owner_slug":null,"cname_enabled":null,"apis":null,
        "event_options":null,"ui":{"languages":null,"HIDE_HELP":true,"extra":1},
        "developer_quota":7,"unknown":{"x":1},"org_options_meta":{"b":1.0,"a":[true]}}"#;
    let id = e
        .admin("POST", "/admin/organisations", Some(body))
        .await
        .json()["Meta"]
        .as_str()
        .unwrap()
        .to_string();
    let got = e
        .admin("GET", &format!("/admin/organisations/{id}"), None)
        .await;
    let want = format!(
        concat!(
            r#"{{"id":"{id}","owner_name":"Acme","owner_slug":"","cname":"","cname_enabled":false,"#,
            r#""apis":null,"developer_quota":7,"developer_count":0,"event_options":null,"#,
            r#""hybrid_enabled":false,"ui":{{"cloud":false,"default_lang":"","designer":{{}},"#,
            r#""dont_allow_license_management":false,"dont_allow_license_management_view":false,"#,
            r#""dont_show_admin_sockets":false,"hide_help":true,"languages":null,"login_page":{{}},"#,
            r#""nav":{{}},"portal_section":{{}},"uptime":{{}}}},"org_options_meta":{{"a":[true],"b":1}}}}"#
        ),
        id = id
    );
    assert_eq!(got.text, want);
}

#[tokio::test]
async fn organisation_errors() {
    let e = start_default().await;
    let id = e
        .admin("POST", "/admin/organisations", Some("{}"))
        .await
        .json()["Meta"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/admin/organisations/{id}");
    let missing = format!("/admin/organisations/{MISSING}");
    let taken = json!({ "id": id }).to_string();
    #[rustfmt::skip]
    let cases: Vec<OrgRow> = vec![
        ("create without auth", "POST", "/admin/organisations", Auth::None, Some("{}"), 401, "Not authorised"),
        ("create with an empty body", "POST", "/admin/organisations", Auth::Admin(SECRET), None, 500, "Failed to read response body, body empty"),
        ("create with malformed JSON", "POST", "/admin/organisations", Auth::Admin(SECRET), Some("{"), 403, "Request body malformed"),
        ("list without auth", "GET", "/admin/organisations", Auth::None, None, 401, "Not authorised"),
        ("get without auth", "GET", &path, Auth::None, None, 401, "Not authorised"),
        ("get a missing org", "GET", &missing, Auth::Admin(SECRET), None, 404, "Could not retrieve org detail"),
        ("update with an empty body", "PUT", &path, Auth::Admin(SECRET), None, 500, "Failed to read request body, body empty"),
        ("update with malformed JSON", "PUT", &path, Auth::Admin(SECRET), Some("{"), 403, "Request body malformed"),
        ("update a missing org", "PUT", &missing, Auth::Admin(SECRET), Some("{}"), 403, "Failed to update Org object to DB"),
        ("update with a wrong type", "PUT", &path, Auth::Admin(SECRET), Some(r#"{"ui":{"hide_help":"yes"}}"#), 403, "Request body malformed"),
        ("create with a wrong type", "POST", "/admin/organisations", Auth::Admin(SECRET), Some(r#"{"cname_enabled":"yes"}"#), 403, "Request body malformed"),
        ("create with a float quota", "POST", "/admin/organisations", Auth::Admin(SECRET), Some(r#"{"developer_quota":1.5}"#), 403, "Request body malformed"),
        ("create with a bad event", "POST", "/admin/organisations", Auth::Admin(SECRET), Some(r#"{"event_options":{"key_event":{"redis":"true"}}}"#), 403, "Request body malformed"),
        ("create with whitespace", "POST", "/admin/organisations", Auth::Admin(SECRET), Some(" "), 403, "Request body malformed"),
        ("import without auth", "POST", "/admin/organisations/import", Auth::None, Some("{}"), 401, "Not authorised"),
        ("import with an empty body", "POST", "/admin/organisations/import", Auth::Admin(SECRET), None, 500, "Failed to read response body, body empty"),
        ("import with malformed JSON", "POST", "/admin/organisations/import", Auth::Admin(SECRET), Some("{"), 403, "Request body malformed"),
        ("import with a bad id", "POST", "/admin/organisations/import", Auth::Admin(SECRET), Some(r#"{"id":"acme"}"#), 403, "Request body malformed"),
        ("import an id taken", "POST", "/admin/organisations/import", Auth::Admin(SECRET), Some(&taken), 403, "Failed to save new Org object to DB"),
        ("get the import route", "GET", "/admin/organisations/import", Auth::Admin(SECRET), None, 404, "Could not retrieve org detail"),
        ("delete a missing org", "DELETE", &missing, Auth::Admin(SECRET), None, 404, "Could not retrieve org detail"),
        ("delete without auth", "DELETE", &path, Auth::None, None, 401, "Not authorised"),
    ];
    for (name, method, p, auth, body, status, message) in cases {
        let r = e.send(method, p, auth, body).await;
        let want = format!(r#"{{"Status":"Error","Message":"{message}","Meta":null}}"#);
        assert_eq!(
            (r.status, r.text.as_str()),
            (status, want.as_str()),
            "{name}"
        );
    }
}

fn group_shape(org: &str, name: &str, perms: serde_json::Value) -> serde_json::Value {
    json!({"id":"<hex24>","name":name,"description":"<any>","org_id":org,"active":"<any>",
        "password_max_days":0,"user_permissions":perms})
}

#[tokio::test]
async fn user_group_lifecycle() {
    let w = world(Settings::default()).await;
    let (e, a) = (&w.e, &w.a.1);
    let body = r#"{"name":"Devops","description":"logs","org_id":"5e9d9544a1dcd60001d0ed20","active":true,"user_permissions":{"analytics":"read","log":"read"}}"#;
    let r = e.api(a, "POST", "/api/usergroups", Some(body)).await;
    assert_shape(
        &r.json(),
        &json!({"Status":"OK","Message":"User group created","Meta":"<hex24>"}),
    );
    let gid = r.json()["Meta"].as_str().unwrap().to_string();
    let path = format!("/api/usergroups/{gid}");
    let perms = json!({"analytics":"read","log":"read"});
    // The caller's org wins over the body's.
    assert_shape(
        &e.api(a, "GET", &path, None).await.json(),
        &group_shape(ORG, "Devops", perms.clone()),
    );
    let list = e.api(a, "GET", "/api/usergroups?p=-1", None).await.json();
    assert_shape(
        &list,
        &json!({"groups":[group_shape(ORG, "Devops", perms)],"pages":1}),
    );
    assert_eq!(
        e.api(&w.b.1, "GET", "/api/usergroups", None).await.json(),
        json!({"groups":[],"pages":1})
    );

    let put = r#"{"name":"Ops","user_permissions":{"users":"read","ResetPassword":"admin"}}"#;
    e.api(a, "PUT", &path, Some(put))
        .await
        .envelope(200, "OK", "User group updated");
    assert_shape(
        &e.api(a, "GET", &path, None).await.json(),
        &group_shape(ORG, "Ops", json!({"users":"read"})),
    );

    // A member takes section permissions from the group: `n` can now list users.
    e.api(
        a,
        "PUT",
        &format!("/api/users/{}", w.n.0),
        Some(&json!({"group_id": gid}).to_string()),
    )
    .await;
    assert_eq!(e.api(&w.n.1, "GET", "/api/users", None).await.status, 200);

    e.api(a, "DELETE", &path, None)
        .await
        .envelope(200, "OK", "User group deleted");
    e.api(a, "GET", &path, None).await.envelope(
        404,
        "Error",
        "Could not retrieve user group detail.",
    );
    let n = e.emu.users().into_iter().find(|u| u.id == w.n.0).unwrap();
    assert_eq!(n.group_id, "", "members leave a deleted group");
}

/// A group created without permissions has Go's nil map, which renders as `null`; a `null`
/// string member is its zero value.
#[tokio::test]
async fn user_group_null_members_render_as_go_does() {
    let w = world(Settings::default()).await;
    let (e, a) = (&w.e, &w.a.1);
    let r = e
        .api(
            a,
            "POST",
            "/api/usergroups",
            Some(r#"{"name":null,"user_permissions":null,"password_max_days":null,"x":1}"#),
        )
        .await;
    let gid = r.json()["Meta"].as_str().unwrap().to_string();
    let got = e
        .api(a, "GET", &format!("/api/usergroups/{gid}"), None)
        .await;
    assert_eq!(
        got.text,
        format!(
            r#"{{"id":"{gid}","name":"","description":"","org_id":"{ORG}","active":false,"password_max_days":0,"user_permissions":null}}"#
        )
    );
}

#[tokio::test]
async fn user_group_errors() {
    let w = world(Settings::default()).await;
    let e = &w.e;
    let gid = e
        .api(
            &w.a.1,
            "POST",
            "/api/usergroups",
            Some(r#"{"name":"G","user_permissions":{"apis":"read"}}"#),
        )
        .await
        .json()["Meta"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/usergroups/{gid}");
    let missing = format!("/api/usergroups/{MISSING}");
    let denied = |p: &str| format!("access denied: You do not have permission to access  {p}");
    #[rustfmt::skip]
    let cases: Vec<GroupRow> = vec![
        ("list without a key", "GET", "/api/usergroups".into(), "", None, 401, "Not authorised".into()),
        ("list without permission", "GET", "/api/usergroups".into(), &w.n.1, None, 403, denied("/api/usergroups")),
        ("create with an empty body", "POST", "/api/usergroups".into(), &w.a.1, None, 500, "Failed to read response body, body empty.".into()),
        ("create with malformed JSON", "POST", "/api/usergroups".into(), &w.a.1, Some("{"), 403, "Request body malformed.".into()),
        ("create with a wrong type", "POST", "/api/usergroups".into(), &w.a.1, Some(r#"{"Active":"yes"}"#), 403, "Request body malformed.".into()),
        ("create with a bad id", "POST", "/api/usergroups".into(), &w.a.1, Some(r#"{"id":"g1"}"#), 403, "Request body malformed.".into()),
        ("update with a wrong type", "PUT", path.clone(), &w.a.1, Some(r#"{"user_permissions":{"apis":1}}"#), 400, "Group ID does not exist".into()),
        ("get a missing group", "GET", missing.clone(), &w.a.1, None, 404, "Could not retrieve user group detail.".into()),
        ("get another org's group", "GET", path.clone(), &w.b.1, None, 500, "Attempted unauthorised access.".into()),
        ("update a missing group", "PUT", missing.clone(), &w.a.1, Some(r#"{"user_permissions":{"apis":"read"}}"#), 400, "Group ID does not exist".into()),
        ("update with malformed JSON", "PUT", path.clone(), &w.a.1, Some("{"), 400, "Group ID does not exist".into()),
        ("update without permissions", "PUT", path.clone(), &w.a.1, Some(r#"{"name":"X"}"#), 403, "You need to specify at least one permission.".into()),
        ("delete a missing group", "DELETE", missing.clone(), &w.a.1, None, 404, "Could not retrieve user detail.".into()),
        ("delete another org's group", "DELETE", path.clone(), &w.b.1, None, 500, "Attempted unauthorised access.".into()),
    ];
    for (name, method, p, key, body, status, message) in &cases {
        let auth = if key.is_empty() {
            Auth::None
        } else {
            Auth::Key(key)
        };
        let r = e.send(method, p, auth, *body).await;
        let want = format!(r#"{{"Status":"Error","Message":"{message}","Meta":null}}"#);
        assert_eq!(
            (r.status, r.text.as_str()),
            (*status, want.as_str()),
            "{name}"
        );
    }
}
