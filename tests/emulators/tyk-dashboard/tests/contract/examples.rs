//! The documented examples of Tyk's files, replayed: every covered operation's request
//! example must get its 200 with the documented content type, schema and example body; every
//! documented error must come back with exactly its documented body.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tyk_dashboard_emulator::{FaultKind, FaultRule, Faults};

use crate::deviations;
use crate::harness::{Auth, Harness, ORG_A, Resp, World};
use crate::spec::{self, OPS, Op, Specs};

/// Status, content type and schema of an answer, against the operation's documented ones.
/// Returns the parsed body when it is JSON.
pub fn check_documented(specs: &Specs, op: &Op, r: &Resp, errs: &mut Vec<String>) -> Option<Value> {
    let name = op.name();
    if !specs.statuses(op).contains(&r.status) {
        errs.push(format!(
            "{name}: status {} is not documented ({})",
            r.status, r.text
        ));
        return None;
    }
    match r.content_type.as_deref() {
        Some(ct) if ct.split(';').next() == Some("application/json") => {}
        other => errs.push(format!("{name} {}: content type {other:?}", r.status)),
    }
    let Some(body) = r.json() else {
        errs.push(format!("{name} {}: not JSON: {:?}", r.status, r.text));
        return None;
    };
    let doc = specs
        .response(op, r.status)
        .expect("documented JSON response");
    let mut schema_errs = Vec::new();
    spec::validate(specs, op.api, &doc["schema"], &body, "$", &mut schema_errs);
    for e in schema_errs {
        if group_permissions_null(op, &e, &body) {
            continue; // deviations::NOTES N4
        }
        errs.push(format!("{name} {}: schema: {e}", r.status));
    }
    Some(body)
}

/// N4: a group created without permissions renders them `null`.
fn group_permissions_null(op: &Op, err: &str, _body: &Value) -> bool {
    op.path.starts_with("/api/usergroups")
        && err.ends_with(".user_permissions: null, schema is not nullable")
}

fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compares an answer with a documented example: every key of the example must be there with
/// the same value, except values only the server knows: ids (24 hex; the examples' 48-hex ids
/// are N1), access keys (32 hex), timestamps (any RFC 3339) and `pages` (any integer).
pub fn compare(
    example: &Value,
    actual: &Value,
    key: &str,
    at: &str,
    errs: &mut Vec<String>,
    notes: &mut BTreeSet<&'static str>,
) {
    match (example, actual) {
        (Value::String(e), Value::String(a)) if key == "id" || key == "Meta" => {
            if is_hex(e, 48) {
                notes.insert("N1");
            }
            let id_like = is_hex(e, 24) || is_hex(e, 48);
            if id_like && !is_hex(a, 24) {
                errs.push(format!("{at}: {a:?} is not a 24-hex id"));
            } else if !id_like && e != a {
                errs.push(format!("{at}: {a:?}, documented {e:?}"));
            }
        }
        (Value::String(_), Value::String(a)) if key == "access_key" => {
            if !is_hex(a, 32) {
                errs.push(format!("{at}: {a:?} is not an access key"));
            }
        }
        (Value::String(_), Value::String(a))
            if matches!(key, "created_at" | "last_login_date" | "password_updated") =>
        {
            if !spec::is_rfc3339(a) {
                errs.push(format!("{at}: {a:?} is not a timestamp"));
            }
        }
        (Value::Number(_), Value::Number(a)) if key == "pages" => {
            if a.as_u64().is_none() {
                errs.push(format!("{at}: {a} is not a page count"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            // The admin create/update put the new key in `Message` (docs/tyk-dashboard-api.md §2.1).
            let key_in_message = e.get("Message").is_some()
                && e.get("Message") == e.get("Meta").and_then(|m| m.get("access_key"));
            for (k, ev) in e {
                let sub = format!("{at}.{k}");
                match a.get(k) {
                    None => errs.push(format!("{sub}: missing (documented {ev})")),
                    Some(av) if k == "Message" && key_in_message => {
                        if Some(av) != a.get("Meta").and_then(|m| m.get("access_key")) {
                            errs.push(format!("{sub}: {av} is not Meta.access_key"));
                        }
                    }
                    Some(av) => compare(ev, av, k, &sub, errs, notes),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                errs.push(format!("{at}: {} items, documented {}", a.len(), e.len()));
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, key, &format!("{at}[{i}]"), errs, notes);
            }
        }
        _ if example == actual => {}
        _ => errs.push(format!("{at}: {actual}, documented {example}")),
    }
}

fn example<'a>(specs: &'a Specs, op: &Op) -> &'a Value {
    let e = &specs
        .request(op)
        .unwrap_or_else(|| panic!("{}: no request body", op.name()))["example"];
    assert!(e.is_object(), "{}: no request example", op.name());
    e
}

fn ok_example<'a>(specs: &'a Specs, op: &Op) -> &'a Value {
    &specs.response(op, 200).expect("a documented 200")["example"]
}

/// The example value of the operation's parameter `name`.
fn param_example(specs: &Specs, op: &Op, name: &str) -> String {
    let params = specs.operation(op)["parameters"]
        .as_array()
        .expect("parameters");
    let p = params
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{}: no parameter {name}", op.name()));
    match &p["example"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces every string equal to a key of `subst` by its value.
fn substitute(v: &Value, subst: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => subst
            .iter()
            .find(|(from, _)| from == s)
            .map_or(v.clone(), |(_, to)| json!(to)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, subst)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, subst)))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Creates a user through the Admin API from an example user object; returns (id, key).
async fn user_from(h: &Harness, u: &Value) -> (String, String) {
    let mut body = json!({});
    for k in [
        "org_id",
        "first_name",
        "last_name",
        "email_address",
        "active",
        "user_permissions",
        "group_id",
    ] {
        if let Some(v) = u.get(k) {
            body[k] = v.clone();
        }
    }
    let r = h.admin("POST", "/admin/users", Some(&body)).await;
    assert_eq!(r.status, 200, "create {body}: {}", r.text);
    let v = r.json().expect("JSON");
    (
        v["Meta"]["id"].as_str().expect("id").to_string(),
        v["Message"].as_str().expect("key").to_string(),
    )
}

async fn import_org(h: &Harness, org: &Value) {
    let r = h
        .admin("POST", "/admin/organisations/import", Some(org))
        .await;
    assert_eq!(r.status, 200, "import {org}: {}", r.text);
}

async fn group_from(h: &Harness, key: &str, g: &Value) -> String {
    // The examples' ids are answers (48 hex, N1), which no Go server would decode.
    let mut g = g.clone();
    if let Some(m) = g.as_object_mut() {
        m.remove("id");
    }
    let r = h.api(key, "POST", "/api/usergroups", Some(&g)).await;
    assert_eq!(r.status, 200, "create group {g}: {}", r.text);
    r.json().expect("JSON")["Meta"]
        .as_str()
        .expect("id")
        .to_string()
}

/// A request replaying `op`'s documented example, against state prepared for it to succeed.
struct Replay {
    path: String,
    auth: Auth,
    body: Option<Value>,
    /// The 200 example, adjusted where the emulator keeps Tyk's real behaviour (N2, N3).
    expect: Value,
    /// Read back after the call: (admin-API or key path, expected subset).
    then: Option<(String, Auth, Value)>,
}

async fn prepare(h: &Harness, specs: &Specs, op: &Op) -> Replay {
    // Only what the example needs exists: lists must come back as documented.
    h.emu.reset();
    let a = if op.method == "GET" && op.path == "/api/users" {
        None
    } else {
        Some(
            h.emu
                .seed_user(ORG_A, "replay-admin@a.example", &[], true)
                .expect("seed"),
        )
    };
    let a_key = a.map(|a| a.access_key).unwrap_or_default();
    let admin_a = Auth::Key(a_key.clone());
    let expect = ok_example(specs, op).clone();
    let mut r = Replay {
        path: op.path.to_string(),
        auth: if op.path.starts_with("/admin") {
            Auth::Admin
        } else {
            admin_a.clone()
        },
        body: specs.request(op).map(|_| example(specs, op).clone()),
        expect,
        then: None,
    };
    // Path parameter examples become the ids of objects made for the occasion.
    let mut subst: Vec<(String, String)> = Vec::new();
    let create_user_example = || example(specs, spec::find_op("POST", "/admin/users")).clone();
    match (op.method, op.path) {
        ("POST", "/admin/users")
        | ("POST", "/admin/organisations")
        | ("POST", "/admin/organisations/import")
        | ("POST", "/api/usergroups") => {}
        ("GET", "/admin/users/{userId}") | ("PUT", "/admin/users/{userId}") => {
            let (id, key) = user_from(h, &create_user_example()).await;
            subst.push((param_example(specs, op, "userId"), id));
            subst.push(("c8251902f3f44dfa729e0267d0d62859".into(), key));
        }
        (_, "/admin/users/{userId}/actions/allow_reset_passwords")
        | (_, "/admin/users/{userId}/actions/disallow_reset_passwords") => {
            let allow = op.path.ends_with("/allow_reset_passwords");
            let mut john = r.expect["Meta"].clone();
            john["user_permissions"] = if allow {
                json!({"IsAdmin": "admin"})
            } else {
                json!({"IsAdmin": "admin", "ResetPassword": "admin"})
            };
            if !allow {
                // N2: disallow takes ResetPassword away; the example is a copy of allow's.
                r.expect["Meta"]["user_permissions"] = json!({"IsAdmin": "admin"});
            }
            let (id, _) = user_from(h, &john).await;
            subst.push((param_example(specs, op, "userId"), id));
        }
        ("GET", "/admin/organisations") => {
            for org in r.expect["organisations"].as_array().expect("orgs") {
                import_org(h, org).await;
            }
        }
        ("GET", "/admin/organisations/{orgID}") => {
            let org = example(specs, spec::find_op("POST", "/admin/organisations/import"));
            import_org(h, org).await;
            subst.push((
                param_example(specs, op, "orgID"),
                org["id"].as_str().expect("id").into(),
            ));
        }
        ("PUT", "/admin/organisations/{orgID}") | ("DELETE", "/admin/organisations/{orgID}") => {
            let id = param_example(specs, op, "orgID");
            import_org(h, &json!({"id": id, "owner_name": "Before"})).await;
            subst.push((id.clone(), id.clone()));
            if op.method == "PUT" {
                // "Replace the existing Organisation details": the body, under the path's id.
                let mut want = r.body.clone().expect("body");
                want["id"] = json!(id);
                r.then = Some((format!("/admin/organisations/{id}"), Auth::Admin, want));
            }
        }
        ("GET", "/api/users") => {
            let mut key = String::new();
            for u in r.expect["users"].as_array().expect("users") {
                let (_, k) = user_from(h, u).await;
                if u["email_address"] == "admin-user@example.org" {
                    key = k;
                }
            }
            r.auth = Auth::Key(key);
            r.path = format!("{}?p={}", op.path, param_example(specs, op, "p"));
        }
        ("POST", "/api/users") => {}
        ("GET", "/api/users/{userId}") => {
            let (id, key) = user_from(h, &r.expect).await;
            subst.push((param_example(specs, op, "userId"), id));
            r.auth = Auth::Key(key);
        }
        ("PUT", "/api/users/{userId}")
        | ("DELETE", "/api/users/{userId}")
        | ("PUT", "/api/users/{userId}/actions/key/reset")
        | ("PUT", "/api/users/{userId}/actions/revoke") => {
            let t = h
                .emu
                .seed_user(ORG_A, "target@example.org", &[("users", "read")], true)
                .expect("seed");
            subst.push((param_example(specs, op, "userId"), t.id.clone()));
            if op.method == "PUT" && op.path == "/api/users/{userId}" {
                let mut want = r.body.clone().expect("body");
                want["org_id"] = json!(ORG_A);
                r.then = Some((format!("/admin/users/{}", t.id), Auth::Admin, want));
            }
        }
        ("POST", "/api/users/{userId}/actions/reset") => {
            // A self-reset that knows the current password (docs/tyk-dashboard-api.md §3.6).
            let me = h
                .emu
                .seed_user(ORG_A, "self@example.org", &[], true)
                .expect("seed");
            let current = r.body.as_ref().expect("body")["current_password"].clone();
            let set = h
                .send(
                    "POST",
                    &format!("/api/users/{}/actions/reset", me.id),
                    &Auth::Key(me.access_key.clone()),
                    Some(&json!({ "new_password": current }).to_string()),
                )
                .await;
            assert_eq!(set.status, 200, "{}", set.text);
            subst.push((param_example(specs, op, "userId"), me.id));
            r.auth = Auth::Key(me.access_key);
        }
        ("GET", "/api/users/search") | ("POST", "/api/users/search") => {
            // N3: the examples answer itachi.w@tyk.io to the query itachi@tyk.io; the search is
            // a substring match, so a user with the queried email is what comes back.
            let found = r.expect["users"][0].clone();
            let query = if op.method == "GET" {
                param_example(specs, op, "q")
            } else {
                r.body.as_ref().expect("body")["filters"]["query"]
                    .as_str()
                    .expect("query")
                    .to_string()
            };
            let mut queried = found.clone();
            queried["email_address"] = json!(query);
            user_from(h, &found).await;
            user_from(h, &queried).await;
            r.expect["users"] = json!([queried]);
            r.path = if op.method == "GET" {
                format!(
                    "{}?q={}&p={}",
                    op.path,
                    query.replace('@', "%40"),
                    param_example(specs, op, "p")
                )
            } else {
                format!("{}?p={}", op.path, param_example(specs, op, "p"))
            };
        }
        ("GET", "/api/usergroups") => {
            for g in r.expect["groups"].as_array().expect("groups") {
                group_from(h, &a_key, g).await;
            }
            r.path = format!("{}?p={}", op.path, param_example(specs, op, "p"));
        }
        ("GET", "/api/usergroups/{groupId}")
        | ("PUT", "/api/usergroups/{groupId}")
        | ("DELETE", "/api/usergroups/{groupId}") => {
            let g = example(specs, spec::find_op("POST", "/api/usergroups"));
            let id = group_from(h, &a_key, g).await;
            subst.push((param_example(specs, op, "groupId"), id.clone()));
            if op.method == "PUT" {
                let mut want = r.body.clone().expect("body");
                want["id"] = json!(id);
                r.then = Some((format!("/api/usergroups/{id}"), admin_a.clone(), want));
            }
        }
        _ => panic!("{}: no replay prepared", op.name()),
    }
    // The first substitution is always the path parameter's.
    if let Some((_, id)) = subst.first() {
        r.path = r.path.replace(&format!("{{{}}}", param_name(op)), id);
    }
    r.body = r.body.map(|b| substitute(&b, &subst));
    r.expect = substitute(&r.expect, &subst);
    r
}

/// The path parameter's name (`userId`, `orgID`, `groupId`), if any.
fn param_name(op: &Op) -> &'static str {
    op.path
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map_or("", |(name, _)| name)
}

#[tokio::test]
async fn documented_request_examples_get_the_documented_answers() {
    let Some(specs) = spec::load() else { return };
    let h = Harness::start().await;
    let mut errs = Vec::new();
    let mut notes = BTreeSet::new();
    for op in OPS {
        let r = prepare(&h, specs, op).await;
        let body = r.body.as_ref().map(Value::to_string);
        let resp = h.send(op.method, &r.path, &r.auth, body.as_deref()).await;
        if resp.status != 200 {
            errs.push(format!(
                "{}: example answered {} {}",
                op.name(),
                resp.status,
                resp.text
            ));
            continue;
        }
        let Some(actual) = check_documented(specs, op, &resp, &mut errs) else {
            continue;
        };
        compare(&r.expect, &actual, "", &op.name(), &mut errs, &mut notes);
        if let Some((path, auth, want)) = r.then {
            let got = h.send("GET", &path, &auth, None).await;
            let got = got.json().expect("JSON");
            let mut e = Vec::new();
            compare(
                &want,
                &got,
                "",
                &format!("{} then GET", op.name()),
                &mut e,
                &mut notes,
            );
            // Emails are stored lower-cased (docs/tyk-dashboard-api.md §1.4); the examples'
            // are already.
            errs.extend(e);
        }
    }
    h.stop().await;
    assert!(
        errs.is_empty(),
        "{} deviations:\n{}",
        errs.len(),
        errs.join("\n")
    );
    // The deviations the replay relies on are the listed ones.
    for n in &notes {
        assert!(
            deviations::NOTES.iter().any(|d| d.id == *n),
            "{n} is not listed"
        );
    }
}

/// How the suite makes a documented error happen.
enum Provoke {
    Request {
        path: String,
        auth: Auth,
        body: Option<String>,
    },
    /// A store or session failure the emulator cannot cause: injected as a fault rule with
    /// the documented status and message (README "Faults"), to check the envelope at least.
    Fault,
}

fn req(path: impl Into<String>, auth: Auth, body: Option<&str>) -> Provoke {
    Provoke::Request {
        path: path.into(),
        auth,
        body: body.map(str::to_string),
    }
}

const MISSING: &str = "0123456789abcdef01234567";

fn provoke(op: &Op, status: u16, w: &World) -> Option<Provoke> {
    let key = |u: &tyk_dashboard_emulator::UserState| Auth::Key(u.access_key.clone());
    let user = |id: &str| format!("/api/users/{id}");
    let group = |id: &str| format!("/api/usergroups/{id}");
    let org = |id: &str| format!("/admin/organisations/{id}");
    let a = key(&w.a);
    let p = match (op.method, op.path, status) {
        ("POST", "/admin/users", 403) => req(
            op.path,
            Auth::Admin,
            Some(r#"{"org_id":"5e9d9544a1dcd60001d0ed20","email_address":"victim@a.example"}"#),
        ),
        ("POST", "/admin/users", 500) => req(op.path, Auth::Admin, None),
        ("GET", "/admin/users/{userId}", 404) => {
            req(format!("/admin/users/{MISSING}"), Auth::Admin, None)
        }
        ("PUT", "/admin/users/{userId}", 403) => {
            req(format!("/admin/users/{}", w.v.id), Auth::Admin, Some("{"))
        }
        ("PUT", "/admin/users/{userId}", 404) => {
            req(format!("/admin/users/{MISSING}"), Auth::Admin, Some("{}"))
        }
        ("PUT", "/admin/users/{userId}", 500) => {
            req(format!("/admin/users/{}", w.v.id), Auth::Admin, None)
        }
        (_, "/admin/users/{userId}/actions/allow_reset_passwords", 404)
        | (_, "/admin/users/{userId}/actions/disallow_reset_passwords", 404) => {
            req(op.path.replace("{userId}", MISSING), Auth::Admin, None)
        }
        ("POST", "/admin/organisations", 403) => req(op.path, Auth::Admin, Some("{")),
        ("POST", "/admin/organisations", 500) => req(op.path, Auth::Admin, None),
        (_, "/admin/organisations/{orgID}", 401) => req(
            org(&w.org_a),
            Auth::None,
            (op.method == "PUT").then_some("{}"),
        ),
        ("DELETE" | "GET", "/admin/organisations/{orgID}", 404) => {
            req(org(MISSING), Auth::Admin, None)
        }
        ("PUT", "/admin/organisations/{orgID}", 403) => req(org(MISSING), Auth::Admin, Some("{}")),
        ("PUT", "/admin/organisations/{orgID}", 500) => req(org(&w.org_a), Auth::Admin, None),
        ("POST", "/admin/organisations/import", 401) => req(op.path, Auth::None, Some("{}")),
        ("POST", "/admin/organisations/import", 403) => {
            // The id of an org that exists: it cannot be saved again.
            Provoke::Request {
                path: op.path.into(),
                auth: Auth::Admin,
                body: Some(json!({ "id": w.org_a }).to_string()),
            }
        }
        ("POST", "/admin/organisations/import", 500) => req(op.path, Auth::Admin, None),
        // Dashboard API: 401 without a key everywhere.
        (m, _, 401) if op.path.starts_with("/api/") => {
            let path = op
                .path
                .replace("{userId}", &w.v.id)
                .replace("{groupId}", &w.group_a);
            req(
                path,
                Auth::None,
                matches!(m, "POST" | "PUT").then_some("{}"),
            )
        }
        ("GET", "/api/usergroups", 403) => req(op.path, key(&w.v), None),
        ("POST", "/api/usergroups", 403) => req(op.path, a, Some("{")),
        ("POST", "/api/usergroups", 500) => req(op.path, a, None),
        ("GET" | "DELETE", "/api/usergroups/{groupId}", 403) => {
            req(group(&w.group_a), key(&w.v), None)
        }
        ("PUT", "/api/usergroups/{groupId}", 403) => req(
            group(&w.group_a),
            key(&w.v),
            Some(r#"{"user_permissions":{"apis":"read"}}"#),
        ),
        ("GET" | "DELETE", "/api/usergroups/{groupId}", 404) => req(group(MISSING), a, None),
        ("GET" | "DELETE", "/api/usergroups/{groupId}", 500) => req(group(&w.group_b), a, None),
        ("PUT", "/api/usergroups/{groupId}", 400) => req(
            group(MISSING),
            a,
            Some(r#"{"user_permissions":{"apis":"read"}}"#),
        ),
        ("PUT", "/api/usergroups/{groupId}", 500) => req(
            group(&w.group_b),
            a,
            Some(r#"{"user_permissions":{"apis":"read"}}"#),
        ),
        ("GET", "/api/users", 403) => req(op.path, key(&w.n), None),
        ("POST", "/api/users", 400) => req(op.path, a, Some("{}")),
        ("POST", "/api/users", 403) => req(
            op.path,
            a,
            Some(
                r#"{"first_name":"F","last_name":"L","email_address":"victim@a.example","user_permissions":{"apis":"read"}}"#,
            ),
        ),
        ("GET", "/api/users/{userId}", 403) => req(user(&w.v.id), key(&w.n), None),
        ("DELETE", "/api/users/{userId}", 403) => req(user(&w.v.id), key(&w.r), None),
        ("GET" | "DELETE", "/api/users/{userId}", 404) => req(user(MISSING), a, None),
        ("GET" | "DELETE", "/api/users/{userId}", 500) => req(user(&w.b.id), a, None),
        ("PUT", "/api/users/{userId}", 400) => req(user(MISSING), a, Some("{}")),
        ("PUT", "/api/users/{userId}", 403) => {
            req(user(&w.v.id), a, Some(r#"{"user_permissions":{}}"#))
        }
        ("PUT", "/api/users/{userId}", 500) => req(user(&w.b.id), a, Some("{}")),
        ("PUT", "/api/users/{userId}/actions/key/reset", 403) => req(
            format!("{}/actions/key/reset", user(&w.v.id)),
            key(&w.r),
            None,
        ),
        ("PUT", "/api/users/{userId}/actions/key/reset", 404) => {
            req(format!("{}/actions/key/reset", user(MISSING)), a, None)
        }
        ("PUT", "/api/users/{userId}/actions/key/reset", 500) => {
            req(format!("{}/actions/key/reset", user(&w.b.id)), a, None)
        }
        ("POST", "/api/users/{userId}/actions/reset", 403) => {
            req(format!("{}/actions/reset", user(&w.v.id)), a, Some("{"))
        }
        ("POST", "/api/users/{userId}/actions/reset", 500) => req(
            format!("{}/actions/reset", user(MISSING)),
            a,
            Some(r#"{"new_password":"abcdefgh"}"#),
        ),
        ("PUT", "/api/users/{userId}/actions/revoke", 400) => {
            req(format!("{}/actions/revoke", user(MISSING)), a, None)
        }
        ("PUT", "/api/users/{userId}/actions/revoke", 403) => {
            req(format!("{}/actions/revoke", user(&w.v.id)), key(&w.r), None)
        }
        ("PUT", "/api/users/{userId}/actions/revoke", 500) => {
            req(format!("{}/actions/revoke", user(&w.b.id)), a, None)
        }
        ("GET", "/api/users/search", 403) => req("/api/users/search?q=a", key(&w.n), None),
        ("POST", "/api/users/search", 400) => req(op.path, a, Some("{")),
        ("POST", "/api/users/search", 403) => {
            req(op.path, key(&w.n), Some(r#"{"filters":{"query":"a"}}"#))
        }
        // Store, session and marshalling failures.
        ("GET", "/admin/users/{userId}", 500)
        | (_, "/admin/users/{userId}/actions/allow_reset_passwords", 403)
        | (_, "/admin/users/{userId}/actions/disallow_reset_passwords", 403)
        | ("GET", "/admin/organisations", 404 | 500)
        | ("DELETE", "/admin/organisations/{orgID}", 400)
        | ("GET", "/admin/organisations/{orgID}", 500)
        | ("GET", "/api/usergroups", 404 | 500)
        | ("DELETE", "/api/usergroups/{groupId}", 400)
        | ("GET", "/api/users", 404 | 500)
        | ("POST", "/api/users", 500)
        | ("DELETE", "/api/users/{userId}", 400)
        | ("PUT", "/api/users/{userId}/actions/key/reset", 400)
        | ("GET" | "POST", "/api/users/search", 404) => Provoke::Fault,
        _ => return None,
    };
    Some(p)
}

/// The emulator's route pattern for a spec path (`{userId}` → `{id}`), as fault rules match.
fn emulator_route(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some((pre, after)) = rest.split_once('{') {
        let (_, tail) = after.split_once('}').expect("closing brace");
        out.push_str(pre);
        out.push_str("{id}");
        rest = tail;
    }
    out + rest
}

#[tokio::test]
async fn documented_errors_come_back_with_their_documented_bodies() {
    let Some(specs) = spec::load() else { return };
    let h = Harness::start().await;
    let mut errs = Vec::new();
    let mut provoked = 0;
    let mut injected = Vec::new();
    for op in OPS {
        for status in specs.statuses(op).into_iter().filter(|s| *s != 200) {
            let w = World::seed(&h.emu);
            let Some(message) = specs.error_message(op, status) else {
                errs.push(format!("{} {status}: no documented message", op.name()));
                continue;
            };
            let Some(how) = provoke(op, status, &w) else {
                errs.push(format!(
                    "{} {status} {message:?}: documented, but the suite has no way to provoke it",
                    op.name()
                ));
                continue;
            };
            let (path, auth, body) = match how {
                Provoke::Request { path, auth, body } => {
                    provoked += 1;
                    (path, auth, body)
                }
                Provoke::Fault => {
                    injected.push(format!("{} {status}", op.name()));
                    h.emu
                        .set_faults(Faults {
                            rules: vec![
                                FaultRule::new(FaultKind::Error)
                                    .on(op.method, &emulator_route(op.path))
                                    .with_status(status)
                                    .with_message(message)
                                    .times(1),
                            ],
                            ..Faults::default()
                        })
                        .expect("fault rule");
                    let path = op
                        .path
                        .replace("{userId}", &w.v.id)
                        .replace("{groupId}", &w.group_a)
                        .replace("{orgID}", &w.org_a);
                    let auth = if op.path.starts_with("/admin") {
                        Auth::Admin
                    } else {
                        Auth::Key(w.a.access_key.clone())
                    };
                    (
                        path,
                        auth,
                        matches!(op.method, "POST" | "PUT").then(|| "{}".to_string()),
                    )
                }
            };
            let r = h.send(op.method, &path, &auth, body.as_deref()).await;
            // An RBAC denial names the path actually requested.
            let route_path = path.split('?').next().unwrap_or(&path);
            let want_message = message.replace(op.path, route_path);
            let want =
                json!({"Status": "Error", "Message": want_message, "Meta": null}).to_string();
            if (r.status, r.text.as_str()) != (status, want.as_str()) {
                errs.push(format!(
                    "{} {status}: got {} {}, documented {want}",
                    op.name(),
                    r.status,
                    r.text
                ));
                continue;
            }
            check_documented(specs, op, &r, &mut errs);
        }
    }
    h.stop().await;
    assert!(
        errs.is_empty(),
        "{} deviations:\n{}",
        errs.len(),
        errs.join("\n")
    );
    assert!(provoked >= 50, "only {provoked} documented errors provoked");
    let _ = writeln_uncaptured(&format!(
        "contract: {provoked} documented errors provoked; {} only injected (store/session failures): {}",
        injected.len(),
        injected.join(", ")
    ));
}

fn writeln_uncaptured(s: &str) -> std::io::Result<()> {
    use std::io::Write;
    if std::env::var_os("CONTRACT_VERBOSE").is_some() {
        writeln!(std::io::stderr(), "{s}")?;
    }
    Ok(())
}
