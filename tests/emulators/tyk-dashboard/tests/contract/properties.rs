//! Property-based requests generated from the request schemas of Tyk's files (proptest, a
//! deterministic seed, shrinking on failure), each case against a freshly seeded emulator:
//!
//! - any answer: a documented status, `application/json`, the documented schema; an error is
//!   `{"Status":"Error","Message":..,"Meta":null}` with the documented message for that status
//!   or an accepted one (deviations::MESSAGES);
//! - a body with one member of the wrong JSON type gets the operation's malformed-body answer,
//!   and a body without one never does;
//! - what a successful write stored reads back as sent, unknown members are never served back,
//!   and a `null` member reads back as Go renders it (zero value, or `null` for a map or slice).
//!
//! Bounded: `CONTRACT_CASES` cases per operation (default 100), a few seconds in all.

use std::time::Instant;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::deviations;
use crate::examples::check_documented;
use crate::harness::{Auth, Harness, ORG_A, Resp, World};
use crate::spec::{self, Api, OPS, Op, Specs};

#[derive(Debug, Clone)]
enum IdPick {
    /// An index into the world's ids of that kind.
    Existing(usize),
    Missing(String),
    Junk(String),
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// The member at this JSON pointer replaced by a value of another JSON type; with `true`
    /// its key is also upper-cased (Go matches keys case-insensitively).
    WrongType(String, Value, bool),
    /// The member at this JSON pointer set to `null`.
    Null(String),
}

#[derive(Debug, Clone)]
struct Case {
    id: IdPick,
    p: Option<i64>,
    q: Option<String>,
    body: Option<Value>,
    mutation: Mutation,
    bearer: bool,
    /// Admin PUT: put the target's real access key in the body (else it is random, docs/tyk-dashboard-api.md §2.3).
    fix_key: bool,
}

const PERMISSIONS: &[&str] = &[
    "IsAdmin",
    "ResetPassword",
    "analytics",
    "apis",
    "keys",
    "policies",
    "portal",
    "user_groups",
    "users",
];

fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// A string for a property, with what Go needs beyond the spec's `type: string` (N5).
fn string_strategy(name: &str, schema: &Value) -> BoxedStrategy<Value> {
    if schema["format"] == "date-time" {
        return prop_oneof![
            Just("0001-01-01T00:00:00Z".to_string()),
            (
                1970u32..2100,
                1u32..=12,
                1u32..=28,
                0u32..24,
                0u32..60,
                0u32..60,
                0u32..1_000_000,
                prop_oneof![
                    Just("Z".to_string()),
                    Just("+03:00".to_string()),
                    Just("-05:30".to_string())
                ]
            )
                .prop_map(|(y, mo, d, h, mi, s, f, z)| format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f}{z}"
                )),
        ]
        .prop_map(Value::String)
        .boxed();
    }
    if let Some(n) = schema["minLength"].as_u64() {
        return proptest::string::string_regex(&format!("[ -~]{{{n},{}}}", n + 12))
            .expect("regex")
            .prop_map(Value::String)
            .boxed();
    }
    let s: BoxedStrategy<String> = match name {
        "id" => prop_oneof![Just(String::new()), "[0-9a-f]{24}"].boxed(),
        "access_key" => "[0-9a-f]{32}".boxed(),
        "org_id" => {
            prop_oneof![Just(ORG_A.to_string()), Just(String::new()), "[0-9a-f]{24}"].boxed()
        }
        "group_id" => prop_oneof![Just(String::new()), "[0-9a-f]{24}"].boxed(),
        "email_address" | "query" => prop_oneof![
            4 => "[a-z]{1,8}@[a-z]{1,6}\\.example",
            1 => Just("victim@a.example".to_string()),
            1 => "\\PC{0,12}",
        ]
        .boxed(),
        _ => prop_oneof![3 => "[a-z]{1,10}", 1 => "\\PC{0,12}", 1 => Just(String::new())].boxed(),
    };
    s.prop_map(Value::String).boxed()
}

/// Values for `{}` (Go `interface{}`): no floats, so the round trip is exact.
fn any_strategy() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A value valid against `schema` (after `$ref`s), sometimes with unknown members in objects
/// that have properties (Go structs).
fn value_strategy(
    specs: &'static Specs,
    api: Api,
    schema: &Value,
    name: &str,
) -> BoxedStrategy<Value> {
    let schema = specs.resolve(api, schema).clone();
    let ty = schema["type"].as_str().unwrap_or("");
    match ty {
        "string" => string_strategy(name, &schema),
        "boolean" => any::<bool>().prop_map(Value::from).boxed(),
        "integer" => prop_oneof![3 => 0i64..100, 1 => any::<i64>()]
            .prop_map(Value::from)
            .boxed(),
        "array" => {
            let item = value_strategy(specs, api, &schema["items"], name);
            prop::collection::vec(item, 0..3)
                .prop_map(Value::Array)
                .boxed()
        }
        "object" => object_strategy(specs, api, &schema, name),
        "" => any_strategy(),
        other => panic!("no generator for type {other:?}"),
    }
}

fn object_strategy(
    specs: &'static Specs,
    api: Api,
    schema: &Value,
    name: &str,
) -> BoxedStrategy<Value> {
    if let Some(props) = schema["properties"].as_object() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut members: Vec<BoxedStrategy<Option<(String, Value)>>> = props
            .iter()
            .map(|(k, s)| {
                let k2 = k.clone();
                let v = value_strategy(specs, api, s, k).prop_map(move |v| (k2.clone(), v));
                if required.contains(&k.as_str()) {
                    v.prop_map(Some).boxed()
                } else {
                    prop::option::weighted(0.6, v).boxed()
                }
            })
            .collect();
        members.push(prop::option::weighted(0.2, ("x_extra_[a-z]{1,4}", any_strategy())).boxed());
        return members
            .prop_map(|ms| Value::Object(ms.into_iter().flatten().collect()))
            .boxed();
    }
    match schema.get("additionalProperties") {
        Some(v @ Value::Object(_)) => {
            let (keys, values): (BoxedStrategy<String>, BoxedStrategy<Value>) =
                if name == "user_permissions" {
                    (
                        prop_oneof![
                            3 => prop::sample::select(PERMISSIONS).prop_map(str::to_string),
                            1 => "[a-z_]{1,10}",
                        ]
                        .boxed(),
                        prop_oneof![
                            4 => prop::sample::select(&["read", "write", "deny", "admin"][..])
                                .prop_map(Value::from),
                            1 => "[a-z]{0,6}".prop_map(Value::from),
                        ]
                        .boxed(),
                    )
                } else {
                    ("[a-z_]{1,10}".boxed(), value_strategy(specs, api, v, name))
                };
            prop::collection::btree_map(keys, values, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        // `type: object` and nothing else (ApiModel): an object Go decodes into a struct.
        _ => prop::option::weighted(0.2, ("x_extra_[a-z]{1,4}", any_strategy()))
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
    }
}

/// JSON pointers of the body's members whose schema has a JSON type (the root included), with
/// that type; members of `{}` (interface{}) have none. `nulls` gets every member's pointer.
fn typed_pointers(
    specs: &Specs,
    api: Api,
    schema: &Value,
    v: &Value,
    ptr: &str,
    typed: &mut Vec<(String, String)>,
    nulls: &mut Vec<String>,
) {
    let schema = specs.resolve(api, schema);
    let Some(ty) = schema["type"].as_str() else {
        return;
    };
    typed.push((ptr.to_string(), ty.to_string()));
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k.starts_with("x_extra_") {
                    continue;
                }
                let sub = schema["properties"]
                    .get(k)
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let p = format!("{ptr}/{}", escape(k));
                    nulls.push(p.clone());
                    typed_pointers(specs, api, sub, x, &p, typed, nulls);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                typed_pointers(
                    specs,
                    api,
                    &schema["items"],
                    x,
                    &format!("{ptr}/{i}"),
                    typed,
                    nulls,
                );
            }
        }
        _ => {}
    }
}

/// A value of a different JSON type than `ty`: a type error for Go whatever the field.
fn wrong_value(ty: &str, pick: &Index) -> Value {
    let options: Vec<Value> = match ty {
        "string" => vec![json!(7), json!(true), json!([]), json!({})],
        "boolean" => vec![json!("true"), json!(1), json!([])],
        "integer" => vec![json!("1"), json!(1.5), json!(true), json!({})],
        "object" => vec![json!("x"), json!(1), json!([]), json!(false)],
        "array" => vec![json!({}), json!("x"), json!(1)],
        other => panic!("no wrong value for {other}"),
    };
    pick.get(&options).clone()
}

fn case_strategy(specs: &'static Specs, op: &'static Op) -> BoxedStrategy<Case> {
    let id = prop_oneof![
        6 => (0usize..8).prop_map(IdPick::Existing),
        2 => "[0-9a-f]{24}".prop_map(IdPick::Missing),
        1 => "[A-Za-z0-9_-]{1,24}".prop_map(IdPick::Junk),
    ];
    let has_query = |name: &str| {
        specs.operation(op)["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" && p["name"] == name))
    };
    let p = if has_query("p") {
        prop::option::of(prop_oneof![3 => -3i64..5, 1 => any::<i64>()]).boxed()
    } else {
        Just(None).boxed()
    };
    let q = if has_query("q") {
        prop_oneof!["[a-z@.]{0,10}", Just("a.example".to_string())]
            .prop_map(Some)
            .boxed()
    } else {
        Just(None).boxed()
    };
    let body: BoxedStrategy<(Option<Value>, Mutation)> = match specs.request(op) {
        None => Just((None, Mutation::None)).boxed(),
        Some(req) => {
            let schema = req["schema"].clone();
            let api = op.api;
            (
                value_strategy(specs, api, &schema, ""),
                0u8..10,
                any::<Index>(),
                any::<Index>(),
            )
                .prop_map(move |(body, kind, at, with)| {
                    let mut typed = Vec::new();
                    let mut nulls = Vec::new();
                    typed_pointers(specs, api, &schema, &body, "", &mut typed, &mut nulls);
                    let mutation = match kind {
                        0..=3 => Mutation::None,
                        4..=6 => {
                            let (ptr, ty) = at.get(&typed).clone();
                            Mutation::WrongType(ptr, wrong_value(&ty, &with), kind == 6)
                        }
                        _ if nulls.is_empty() => Mutation::None,
                        _ => Mutation::Null(at.get(&nulls).clone()),
                    };
                    (Some(body), mutation)
                })
                .boxed()
        }
    };
    (id, p, q, body, any::<bool>(), any::<bool>())
        .prop_map(|(id, p, q, (body, mutation), bearer, fix_key)| Case {
            id,
            p,
            q,
            body,
            mutation,
            bearer,
            fix_key,
        })
        .boxed()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The malformed-body answer of each operation with a body (DASH-SW/ADMIN-SW, M1, M4).
fn malformed_answer(op: &Op) -> (u16, &'static str) {
    match (op.method, op.path) {
        ("PUT", "/api/users/{userId}") => (400, "user does not exist."),
        ("PUT", "/api/usergroups/{groupId}") => (400, "Group ID does not exist"),
        ("POST", "/api/users/search") => {
            (400, "Could not extract search filter from request body.")
        }
        (_, p) if p.starts_with("/api/") => (403, "Request body malformed."),
        _ => (403, "Request body malformed"),
    }
}

/// How a successful write reads back.
struct ReadBack {
    path: String,
    auth: Auth,
    /// Creates and the org PUT decode onto a fresh object; the user PUTs merge (present
    /// members replace, docs/tyk-dashboard-api.md §13.2, §13.3).
    fresh: bool,
    /// Top-level members the server decides (ids, keys, times, forced orgs, defaults).
    server_owned: &'static [&'static str],
}

const USER_SERVER_OWNED: &[&str] = &[
    "id",
    "access_key",
    "api_model",
    "created_at",
    "last_login_date",
    "password_updated",
];

fn read_back(op: &Op, w: &World, path_id: &str, answer: &Value) -> Option<ReadBack> {
    let meta_id = answer["Meta"].as_str().map(str::to_string);
    let admin = |path: String, fresh, server_owned| {
        Some(ReadBack {
            path,
            auth: Auth::Admin,
            fresh,
            server_owned,
        })
    };
    match (op.method, op.path) {
        ("POST", "/admin/organisations") | ("POST", "/admin/organisations/import") => {
            admin(format!("/admin/organisations/{}", meta_id?), true, &["id"])
        }
        ("PUT", "/admin/organisations/{orgID}") => {
            admin(format!("/admin/organisations/{path_id}"), true, &["id"])
        }
        ("POST", "/admin/users") => admin(
            format!("/admin/users/{}", answer["Meta"]["id"].as_str()?),
            true,
            // Empty or nil permissions become the admin defaults (docs/tyk-dashboard-api.md §2.1).
            &[
                "id",
                "access_key",
                "api_model",
                "created_at",
                "last_login_date",
                "password_updated",
                "user_permissions",
            ],
        ),
        ("PUT", "/admin/users/{userId}") => {
            admin(format!("/admin/users/{path_id}"), false, USER_SERVER_OWNED)
        }
        ("POST", "/api/users") => admin(
            format!("/admin/users/{}", meta_id?),
            true,
            &[
                "id",
                "access_key",
                "api_model",
                "created_at",
                "last_login_date",
                "password_updated",
                "org_id",
            ],
        ),
        ("PUT", "/api/users/{userId}") => {
            admin(format!("/admin/users/{path_id}"), false, USER_SERVER_OWNED)
        }
        ("POST", "/api/usergroups") => Some(ReadBack {
            path: format!("/api/usergroups/{}", meta_id?),
            auth: Auth::Key(w.s.access_key.clone()),
            fresh: true,
            server_owned: &["id", "org_id"],
        }),
        ("PUT", "/api/usergroups/{groupId}") => Some(ReadBack {
            path: format!("/api/usergroups/{path_id}"),
            auth: Auth::Key(w.s.access_key.clone()),
            fresh: false,
            server_owned: &["id", "org_id"],
        }),
        _ => None,
    }
}

/// Scalar leaves of `v` (and empty arrays/objects), as JSON pointers.
fn leaves(v: &Value, ptr: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                leaves(x, &format!("{ptr}/{}", escape(k)), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{ptr}/{i}"), out);
            }
        }
        _ => out.push((ptr.to_string(), v.clone())),
    }
}

fn top(ptr: &str) -> &str {
    ptr.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// Go's zero value for a scalar of this schema type, `null` for maps and slices; `None` for
/// structs (a `null` struct member is a no-op: nothing to say about it here).
fn go_null_rendering(specs: &Specs, api: Api, schema: &Value) -> Option<Value> {
    let s = specs.resolve(api, schema);
    match s["type"].as_str() {
        Some("string") => Some(if s["format"] == "date-time" {
            json!("0001-01-01T00:00:00Z")
        } else {
            json!("")
        }),
        Some("boolean") => Some(json!(false)),
        Some("integer") => Some(json!(0)),
        Some("array") => Some(Value::Null),
        Some("object") if s.get("additionalProperties").is_some_and(Value::is_object) => {
            Some(Value::Null)
        }
        _ => None,
    }
}

/// The schema of the body member at `ptr`.
fn schema_at<'a>(
    specs: &'a Specs,
    api: Api,
    mut schema: &'a Value,
    ptr: &str,
) -> Option<&'a Value> {
    for seg in ptr.trim_start_matches('/').split('/') {
        let s = specs.resolve(api, schema);
        schema = if let Some(p) = s["properties"].get(seg) {
            p
        } else if s["items"].is_object() && seg.parse::<usize>().is_ok() {
            &s["items"]
        } else if s["additionalProperties"].is_object() {
            &s["additionalProperties"]
        } else {
            return None;
        };
    }
    Some(schema)
}

fn user_key(w: &World, id: &str) -> Option<String> {
    [&w.a, &w.r, &w.n, &w.v, &w.b]
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.access_key.clone())
}

async fn run_case(
    h: &Harness,
    specs: &Specs,
    op: &Op,
    case: &Case,
    seen: &std::sync::Mutex<std::collections::BTreeMap<String, u32>>,
) -> Result<(), String> {
    let w = World::seed(&h.emu);
    // The path.
    let pool = if op.path.contains("{userId}") {
        w.user_ids()
    } else if op.path.contains("{orgID}") {
        w.org_ids()
    } else {
        w.group_ids()
    };
    let (path_id, existing) = match &case.id {
        IdPick::Existing(i) => (pool[i % pool.len()].clone(), true),
        IdPick::Missing(s) | IdPick::Junk(s) => (s.clone(), false),
    };
    let mut path = op.path.to_string();
    for p in ["{userId}", "{orgID}", "{groupId}"] {
        path = path.replace(p, &path_id);
    }
    let mut query = Vec::new();
    if let Some(q) = &case.q {
        query.push(format!("q={}", percent_encode(q)));
    }
    if let Some(p) = case.p {
        query.push(format!("p={p}"));
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    // The body.
    let mut body = case.body.clone();
    if case.fix_key
        && op.path == "/admin/users/{userId}"
        && let (Some(m), Some(k)) = (
            body.as_mut().and_then(Value::as_object_mut),
            user_key(&w, &path_id),
        )
    {
        m.insert("access_key".into(), json!(k));
    }
    let mut nulled = None;
    if let Some(b) = &mut body {
        match &case.mutation {
            Mutation::None => {}
            Mutation::WrongType(ptr, v, upcase) => {
                match b.pointer_mut(ptr) {
                    Some(slot) => *slot = v.clone(),
                    None => return Err(format!("bad pointer {ptr}")),
                }
                if let (true, Some((parent, key))) = (*upcase, ptr.rsplit_once('/')) {
                    let obj = b.pointer_mut(parent).and_then(Value::as_object_mut);
                    if let Some(obj) = obj
                        && let Some(x) = obj.remove(key)
                    {
                        obj.insert(key.to_uppercase(), x);
                    }
                }
            }
            Mutation::Null(ptr) => {
                if let Some(slot) = b.pointer_mut(ptr) {
                    *slot = Value::Null;
                    nulled = Some(ptr.clone());
                }
            }
        }
    }
    let auth = if op.api == Api::Admin {
        Auth::Admin
    } else if case.bearer {
        Auth::Bearer(w.a.access_key.clone())
    } else {
        Auth::Key(w.a.access_key.clone())
    };
    let planned = read_back(op, &w, &path_id, &json!({}));
    let before = match (&planned, existing) {
        (Some(rb), true) if !rb.fresh => h.send("GET", &rb.path, &rb.auth, None).await.json(),
        _ => None,
    };
    let text = body.as_ref().map(Value::to_string);
    let r = h.send(op.method, &path, &auth, text.as_deref()).await;
    let kind = match &case.mutation {
        Mutation::None => "valid",
        Mutation::WrongType(..) => "wrong-type",
        Mutation::Null(..) => "null",
    };
    *seen
        .lock()
        .unwrap()
        .entry(format!("{} {kind} -> {}", op.name(), r.status))
        .or_default() += 1;

    let mut errs = Vec::new();
    let parsed = check_documented(specs, op, &r, &mut errs);
    if let Some(v) = &parsed {
        check_envelope(specs, op, &r, v, &mut errs);
    }
    let answer = (r.status, envelope_message(&r));
    if let Some(_b) = &body {
        let malformed = malformed_answer(op);
        let malformed = (malformed.0, Some(malformed.1.to_string()));
        let ambiguous =
            !existing && matches!(op.path, "/api/users/{userId}" | "/api/usergroups/{groupId}");
        match &case.mutation {
            Mutation::WrongType(ptr, v, _) if answer != malformed => {
                errs.push(format!(
                    "{ptr} = {v} (a Go type error) answered {} {}, not the malformed-body answer {malformed:?}",
                    r.status, r.text
                ));
            }
            Mutation::WrongType(..) => {}
            _ if !ambiguous && answer == malformed => {
                errs.push(format!(
                    "a body Go decodes answered the malformed-body answer: {}",
                    r.text
                ));
            }
            _ => {}
        }
    }
    if r.status == 200 && !matches!(case.mutation, Mutation::WrongType(..)) {
        if r.text.contains("x_extra_") {
            errs.push(format!("unknown members served back: {}", r.text));
        }
        let answer_json = parsed.clone().unwrap_or(Value::Null);
        if let (Some(rb), Some(sent)) = (read_back(op, &w, &path_id, &answer_json), &body) {
            let got = h.send("GET", &rb.path, &rb.auth, None).await;
            match got.json() {
                Some(stored) if got.status == 200 => {
                    if got.text.contains("x_extra_") {
                        errs.push(format!("unknown members stored: {}", got.text));
                    }
                    check_round_trip(
                        specs,
                        op,
                        &rb,
                        sent,
                        &stored,
                        before.as_ref(),
                        nulled.as_deref(),
                        &mut errs,
                    );
                }
                _ => errs.push(format!(
                    "read back {}: {} {}",
                    rb.path, got.status, got.text
                )),
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {path}\nbody: {}\nanswer: {} {}\n{}",
            op.method,
            text.unwrap_or_default(),
            r.status,
            r.text,
            errs.join("\n")
        ))
    }
}

fn envelope_message(r: &Resp) -> Option<String> {
    r.json()
        .and_then(|v| v.get("Message").and_then(Value::as_str).map(str::to_string))
}

/// Errors are the documented envelope with a documented (or accepted) message; a 200
/// envelope says "OK".
fn check_envelope(specs: &Specs, op: &Op, r: &Resp, v: &Value, errs: &mut Vec<String>) {
    let name = op.name();
    if r.status == 200 {
        if v.get("Status").is_some_and(|s| s != "OK") {
            errs.push(format!("{name}: 200 with {v}"));
        }
        return;
    }
    let Some(m) = v["Message"].as_str() else {
        errs.push(format!(
            "{name} {}: not an error envelope: {}",
            r.status, r.text
        ));
        return;
    };
    let want = json!({"Status": "Error", "Message": m, "Meta": null}).to_string();
    if r.text != want {
        errs.push(format!(
            "{name} {}: not an error envelope: {}",
            r.status, r.text
        ));
    }
    // An RBAC denial names the path requested; the files show the route template.
    let documented = specs.error_message(op, r.status);
    let is_denial = m.starts_with("access denied: You do not have permission to access  /");
    if documented != Some(m)
        && !(is_denial && documented.is_some_and(|d| d.starts_with("access denied")))
        && deviations::accepted(&name, r.status, m).is_none()
    {
        errs.push(format!(
            "{name} {}: message {m:?} is neither documented ({documented:?}) nor an accepted deviation",
            r.status
        ));
    }
}

#[allow(clippy::too_many_arguments)]
fn check_round_trip(
    specs: &Specs,
    op: &Op,
    rb: &ReadBack,
    sent: &Value,
    stored: &Value,
    before: Option<&Value>,
    nulled: Option<&str>,
    errs: &mut Vec<String>,
) {
    let api_users = op.path.starts_with("/api/users");
    let req = specs.request(op).expect("body");
    let is_struct = |ptr: &str| {
        schema_at(specs, op.api, &req["schema"], ptr)
            .map(|s| specs.resolve(op.api, s))
            .is_some_and(|s| s["type"] == "object" && !s["additionalProperties"].is_object())
    };
    let mut ls = Vec::new();
    leaves(sent, "", &mut ls);
    for (ptr, v) in ls {
        // An empty struct member reads back with its zero fields.
        if ptr.is_empty()
            || (v == json!({}) && is_struct(&ptr))
            || rb.server_owned.contains(&top(&ptr))
            || ptr.split('/').any(|s| s.starts_with("x_extra_"))
            || nulled.is_some_and(|n| ptr == n || ptr.starts_with(&format!("{n}/")))
            || v.is_null()
            // ResetPassword is kept out of the Dashboard API (docs/tyk-dashboard-api.md §3.4).
            || (api_users && ptr == "/user_permissions/ResetPassword")
            || (op.path.starts_with("/api/usergroups") && ptr == "/user_permissions/ResetPassword")
        {
            continue;
        }
        let got = stored.pointer(&ptr);
        let same = match (got, &v) {
            // Emails are stored lower-cased (docs/tyk-dashboard-api.md §1.4).
            (Some(Value::String(g)), Value::String(s)) if ptr == "/email_address" => {
                *g == s.to_lowercase()
            }
            (Some(g), _) => *g == v,
            // `omitempty` members are not rendered when empty.
            (None, _) => [json!(false), json!(0), json!(""), json!([]), json!({})].contains(&v),
        };
        if !same {
            errs.push(format!("{ptr}: sent {v}, reads back {got:?}"));
        }
    }
    let Some(n) = nulled else { return };
    if rb.server_owned.contains(&top(n)) || n == "/user_permissions/ResetPassword" {
        return;
    }
    let Some(schema) = schema_at(specs, op.api, &req["schema"], n) else {
        return;
    };
    let Some(zero) = go_null_rendering(specs, op.api, schema) else {
        return;
    };
    let got = stored.pointer(n);
    let top_level = n.matches('/').count() == 1;
    let want = if !rb.fresh && top_level {
        // A merge: `null` is a no-op for scalars, and the emulator treats a nil map the same
        // way (README).
        before.and_then(|b| b.pointer(n)).cloned()
    } else {
        Some(zero)
    };
    // `omitempty` fields of an org are simply not there when empty.
    let omitted_ok = got.is_none()
        && want
            .as_ref()
            .is_some_and(|w| w.is_null() || *w == json!(false) || *w == json!(""));
    if got.cloned() != want && !omitted_ok {
        errs.push(format!(
            "{n}: sent null, reads back {got:?}, Go renders {want:?}"
        ));
    }
}

#[test]
fn generated_requests_get_documented_answers() {
    let Some(specs) = spec::load() else { return };
    let cases: u32 = std::env::var("CONTRACT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let h = rt.block_on(Harness::start());
    let started = Instant::now();
    let mut failures = Vec::new();
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::new());
    for (i, op) in OPS.iter().enumerate() {
        let config = Config {
            cases,
            max_shrink_iters: 256,
            failure_persistence: None,
            ..Config::default()
        };
        let mut seed = [0u8; 32];
        seed[0] = i as u8;
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let result = runner.run(&case_strategy(specs, op), |case| {
            rt.block_on(run_case(&h, specs, op, &case, &seen))
                .map_err(TestCaseError::fail)
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, case)) => {
                failures.push(format!("{}: {why}\nminimal case: {case:?}", op.name()))
            }
            Err(e) => failures.push(format!("{}: {e}", op.name())),
        }
    }
    let elapsed = started.elapsed();
    rt.block_on(h.stop());
    if std::env::var_os("CONTRACT_VERBOSE").is_some() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "contract: {} operations x {cases} generated cases in {elapsed:?}",
            OPS.len()
        );
        for (k, n) in seen.lock().unwrap().iter() {
            let _ = writeln!(std::io::stderr(), "  {k}: {n}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} operations deviate:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
