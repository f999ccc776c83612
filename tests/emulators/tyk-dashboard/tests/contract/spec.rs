//! Tyk's OpenAPI files: where they are, the operations the suite covers, `$ref` resolution
//! and a validator for the OpenAPI 3.0 schema keywords these files use.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

pub const ADMIN_FILE: &str = "dashboard-admin-swagger.yml";
pub const DASH_FILE: &str = "dashboard-swagger.yml";

/// Which of Tyk's two files an operation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Admin,
    Dash,
}

/// One operation the suite holds the emulator to.
#[derive(Debug)]
pub struct Op {
    pub api: Api,
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
}

impl Op {
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

const fn op(api: Api, method: &'static str, path: &'static str, id: &'static str) -> Op {
    Op {
        api,
        method,
        path,
        operation_id: id,
    }
}

/// Every operation the operator, its CLI and the test suites use on both APIs (users, user
/// search, password reset, key reset, user groups, organisations; src/dashboard/*.rs,
/// tests/common/dashboard.rs), plus the neighbours on the same routes (revoke, the deprecated
/// GET search, allow/disallow reset, org import), all the emulator serves.
pub const OPS: &[Op] = &[
    op(Api::Admin, "POST", "/admin/users", "createUser"),
    op(Api::Admin, "GET", "/admin/users/{userId}", "getUserDetail"),
    op(Api::Admin, "PUT", "/admin/users/{userId}", "updateUser"),
    op(
        Api::Admin,
        "PUT",
        "/admin/users/{userId}/actions/allow_reset_passwords",
        "allowResetPassword",
    ),
    op(
        Api::Admin,
        "PUT",
        "/admin/users/{userId}/actions/disallow_reset_passwords",
        "disallowResetPassword",
    ),
    op(Api::Admin, "GET", "/admin/organisations", "getOrgs"),
    op(Api::Admin, "POST", "/admin/organisations", "createOrg"),
    op(Api::Admin, "GET", "/admin/organisations/{orgID}", "getOrg"),
    op(
        Api::Admin,
        "PUT",
        "/admin/organisations/{orgID}",
        "updateOrg",
    ),
    op(
        Api::Admin,
        "DELETE",
        "/admin/organisations/{orgID}",
        "deleteOrg",
    ),
    op(
        Api::Admin,
        "POST",
        "/admin/organisations/import",
        "importOrgs",
    ),
    op(Api::Dash, "GET", "/api/users", "getUsers"),
    op(Api::Dash, "POST", "/api/users", "addUser"),
    op(Api::Dash, "GET", "/api/users/{userId}", "getUser"),
    op(Api::Dash, "PUT", "/api/users/{userId}", "updateUser"),
    op(Api::Dash, "DELETE", "/api/users/{userId}", "deleteUser"),
    op(
        Api::Dash,
        "POST",
        "/api/users/{userId}/actions/reset",
        "setUserPassword",
    ),
    op(
        Api::Dash,
        "PUT",
        "/api/users/{userId}/actions/key/reset",
        "resetUserKey",
    ),
    op(
        Api::Dash,
        "PUT",
        "/api/users/{userId}/actions/revoke",
        "revokeUser",
    ),
    op(Api::Dash, "GET", "/api/users/search", "searchUserGet"),
    op(Api::Dash, "POST", "/api/users/search", "searchUser"),
    op(Api::Dash, "GET", "/api/usergroups", "listUserGroups"),
    op(Api::Dash, "POST", "/api/usergroups", "createUserGroup"),
    op(
        Api::Dash,
        "GET",
        "/api/usergroups/{groupId}",
        "getUserGroup",
    ),
    op(
        Api::Dash,
        "PUT",
        "/api/usergroups/{groupId}",
        "updateUserGroup",
    ),
    op(
        Api::Dash,
        "DELETE",
        "/api/usergroups/{groupId}",
        "deleteUserGroup",
    ),
];

pub fn find_op(method: &str, path: &str) -> &'static Op {
    OPS.iter()
        .find(|o| o.method == method && o.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is not in OPS"))
}

/// Both files, parsed.
pub struct Specs {
    pub admin: Value,
    pub dash: Value,
}

impl Specs {
    pub fn doc(&self, api: Api) -> &Value {
        match api {
            Api::Admin => &self.admin,
            Api::Dash => &self.dash,
        }
    }

    /// The operation object; panics (naming it) when Tyk's file no longer has it.
    pub fn operation(&self, op: &Op) -> &Value {
        let o = &self.doc(op.api)["paths"][op.path][op.method.to_ascii_lowercase()];
        assert!(o.is_object(), "{}: not in Tyk's file any more", op.name());
        assert_eq!(
            o["operationId"],
            op.operation_id,
            "{}: operationId changed",
            op.name()
        );
        o
    }

    /// Documented response statuses of `op`, as numbers.
    pub fn statuses(&self, op: &Op) -> Vec<u16> {
        let mut v: Vec<u16> = self.operation(op)["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(|k| k.parse().expect("numeric status"))
            .collect();
        v.sort();
        v
    }

    /// `responses.<status>.content.application/json`.
    pub fn response(&self, op: &Op, status: u16) -> Option<&Value> {
        let r = &self.operation(op)["responses"][status.to_string()]["content"]["application/json"];
        r.is_object().then_some(r)
    }

    /// The documented error `Message` for `status`, if any.
    pub fn error_message(&self, op: &Op, status: u16) -> Option<&str> {
        self.response(op, status)?["example"]["Message"].as_str()
    }

    /// `requestBody.content.application/json`.
    pub fn request(&self, op: &Op) -> Option<&Value> {
        let r = &self.operation(op)["requestBody"]["content"]["application/json"];
        r.is_object().then_some(r)
    }

    /// Follows `$ref`s (local ones only; these files have no other kind).
    pub fn resolve<'a>(&'a self, api: Api, mut schema: &'a Value) -> &'a Value {
        while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            schema = &self.doc(api)["components"]["schemas"][name];
            assert!(schema.is_object(), "dangling $ref {r}");
        }
        schema
    }
}

/// Where the files are: `$TYK_OPENAPI_DIR`, else `../shared/reference/` beside the repository
/// (the repository root is three levels above this crate).
pub fn spec_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TYK_OPENAPI_DIR") {
        return d.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(3)
        .expect("the crate is three levels below the repository root");
    root.join("..").join("shared").join("reference")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}

/// The parsed files, or `None` (after saying so loudly) when a checkout lacks them. In CI
/// (`CI=true`) a missing file fails instead.
pub fn load() -> Option<&'static Specs> {
    static SPECS: OnceLock<Option<Specs>> = OnceLock::new();
    SPECS
        .get_or_init(|| {
            let dir = spec_dir();
            let missing: Vec<PathBuf> = [ADMIN_FILE, DASH_FILE]
                .iter()
                .map(|f| dir.join(f))
                .filter(|p| !p.is_file())
                .collect();
            if !missing.is_empty() {
                let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
                let msg = format!(
                    "Tyk OpenAPI contract suite: missing {} (set TYK_OPENAPI_DIR or put Tyk's files in ../shared/reference/)",
                    list.join(", ")
                );
                assert!(!in_ci(), "{msg}; CI=true, so this fails");
                // Straight to the terminal: the test harness captures print!/eprint! output.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED *** {msg}; only the contract suite is skipped.\n"
                );
                return None;
            }
            let read = |f: &str| -> Value {
                let path = dir.join(f);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            };
            Some(Specs {
                admin: read(ADMIN_FILE),
                dash: read(DASH_FILE),
            })
        })
        .as_ref()
}

/// Schema keywords these files use that the validator understands; anything else fails the
/// suite, so a new constraint in Tyk's files cannot go unchecked silently.
const KNOWN: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "nullable",
    "format",
    "minLength",
    "example",
    "description",
];

/// Validates `v` against `schema` (OpenAPI 3.0 semantics: `nullable`, unknown properties
/// allowed unless `additionalProperties` says otherwise). Errors are JSON paths with reasons.
pub fn validate(
    specs: &Specs,
    api: Api,
    schema: &Value,
    v: &Value,
    at: &str,
    errs: &mut Vec<String>,
) {
    let schema = specs.resolve(api, schema);
    let obj = schema.as_object().expect("a schema is an object");
    for k in obj.keys() {
        assert!(
            KNOWN.contains(&k.as_str()),
            "schema keyword {k:?} at {at} is not supported by the contract suite's validator"
        );
    }
    if v.is_null() {
        if obj.get("nullable") == Some(&Value::Bool(true)) || !obj.contains_key("type") {
            return;
        }
        errs.push(format!("{at}: null, schema is not nullable"));
        return;
    }
    let ty = obj.get("type").and_then(Value::as_str);
    let ok = match ty {
        None => true,
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("boolean") => v.is_boolean(),
        Some("integer") => v.as_i64().is_some() || v.as_u64().is_some(),
        Some("number") => v.is_number(),
        Some(other) => panic!("type {other:?} at {at} is not supported"),
    };
    if !ok {
        errs.push(format!("{at}: {v} is not of type {}", ty.unwrap_or("?")));
        return;
    }
    if let (Some("date-time"), Some(s)) = (obj.get("format").and_then(Value::as_str), v.as_str())
        && !is_rfc3339(s)
    {
        errs.push(format!("{at}: {s:?} is not a date-time"));
    }
    if let Some(f) = obj.get("format").and_then(Value::as_str)
        && f == "int64"
        && v.is_number()
        && v.as_i64().is_none()
    {
        errs.push(format!("{at}: {v} is not an int64"));
    }
    if let (Some(n), Some(s)) = (obj.get("minLength").and_then(Value::as_u64), v.as_str())
        && (s.chars().count() as u64) < n
    {
        errs.push(format!("{at}: {s:?} is shorter than {n}"));
    }
    if let (Some(items), Some(a)) = (obj.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            validate(specs, api, items, x, &format!("{at}[{i}]"), errs);
        }
    }
    if let Some(m) = v.as_object() {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(req) = obj.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !m.contains_key(r) {
                    errs.push(format!("{at}: required property {r:?} missing"));
                }
            }
        }
        for (k, x) in m {
            let sub = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(specs, api, s, x, &sub, errs),
                None => match obj.get("additionalProperties") {
                    Some(Value::Bool(false)) => errs.push(format!("{sub}: not allowed")),
                    Some(s @ Value::Object(_)) => validate(specs, api, s, x, &sub, errs),
                    _ => {}
                },
            }
        }
    }
}

/// RFC 3339 as `format: date-time` means it (and as Go prints `time.Time`).
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' {
        return false;
    }
    let zone = if let Some(dt) = s.strip_suffix('Z') {
        Some(dt)
    } else {
        s.len()
            .checked_sub(6)
            .filter(|&i| matches!(b[i], b'+' | b'-') && b[i + 3] == b':')
            .map(|i| &s[..i])
    };
    zone.is_some_and(|dt| {
        let (main, frac) = dt.split_once('.').unwrap_or((dt, "0"));
        main.len() == 19
            && !frac.is_empty()
            && frac.bytes().all(|c| c.is_ascii_digit())
            && format!("{main}Z").parse::<jiff::Timestamp>().is_ok()
    })
}
