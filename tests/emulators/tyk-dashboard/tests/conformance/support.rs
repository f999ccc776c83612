//! Shared helpers for the conformance tests: one emulator per test on port 0, a plain-HTTP
//! reqwest client, and a shape matcher that checks key order and value formats.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use tyk_dashboard_emulator::{Settings, TykEmulator};

pub const SECRET: &str = "test-admin-secret";
pub const ORG: &str = "5d15d3068ba30a0001621bfe";
pub const ORG2: &str = "5e9d9544a1dcd60001d0ed20";

pub struct Emu {
    pub emu: TykEmulator,
    pub client: reqwest::Client,
    pub base: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// Asserts an exact error/ok envelope with `Meta: null`.
    pub fn envelope(&self, status: u16, word: &str, message: &str) {
        let want = format!(r#"{{"Status":"{word}","Message":"{message}","Meta":null}}"#);
        assert_eq!((self.status, self.text.as_str()), (status, want.as_str()));
    }
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Admin(&'a str),
    Key(&'a str),
    Bearer(&'a str),
}

pub fn client(timeout: Option<Duration>) -> reqwest::Client {
    // reqwest is built with `rustls-no-provider`; plain http still needs a provider installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder().no_proxy();
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().expect("client")
}

pub async fn start(settings: Settings) -> Emu {
    let settings = Settings {
        admin_secret: SECRET.into(),
        ..settings
    };
    let emu = TykEmulator::start(settings).await.expect("start emulator");
    let base = emu.url();
    Emu {
        emu,
        client: client(Some(Duration::from_secs(30))),
        base,
    }
}

pub async fn start_default() -> Emu {
    start(Settings::default()).await
}

impl Emu {
    pub async fn send(&self, method: &str, path: &str, auth: Auth<'_>, body: Option<&str>) -> Resp {
        self.try_send(&self.client, method, path, auth, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn try_send(
        &self,
        client: &reqwest::Client,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<&str>,
    ) -> Result<Resp, reqwest::Error> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = client.request(m, format!("{}{}", self.base, path));
        rb = match auth {
            Auth::None => rb,
            Auth::Admin(s) => rb.header("admin-auth", s),
            Auth::Key(k) => rb.header("Authorization", k),
            Auth::Bearer(k) => rb.header("Authorization", format!("Bearer {k}")),
        };
        if let Some(b) = body {
            rb = rb.body(b.to_string());
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let text = r.text().await?;
        Ok(Resp { status, text })
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        self.send(method, path, Auth::Admin(SECRET), body).await
    }

    pub async fn api(&self, key: &str, method: &str, path: &str, body: Option<&str>) -> Resp {
        self.send(method, path, Auth::Key(key), body).await
    }

    /// Creates a user through the Admin API; returns (id, access_key).
    pub async fn user(
        &self,
        org: &str,
        email: &str,
        perms: Value,
        active: bool,
    ) -> (String, String) {
        let body = json!({"org_id": org, "first_name": "F", "last_name": "L",
            "email_address": email, "active": active, "user_permissions": perms});
        let r = self
            .admin("POST", "/admin/users", Some(&body.to_string()))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        (
            v["Meta"]["id"].as_str().unwrap().to_string(),
            v["Message"].as_str().unwrap().to_string(),
        )
    }

    /// An active org admin in `org`.
    pub async fn org_admin(&self, org: &str, email: &str) -> (String, String) {
        self.user(org, email, json!({"IsAdmin": "admin"}), true)
            .await
    }

    pub async fn stats(&self) -> Value {
        self.send("GET", "/__emulator/stats", Auth::None, None)
            .await
            .json()
    }
}

/// Users every table case can refer to.
pub struct World {
    pub e: Emu,
    /// Org admin in ORG.
    pub a: (String, String),
    /// `users:read` only, in ORG.
    pub r: (String, String),
    /// No users permission, in ORG.
    pub n: (String, String),
    /// Org admin in ORG2.
    pub b: (String, String),
    /// Inactive admin in ORG.
    pub i: (String, String),
}

/// ORG: admin `a`, reader `r`, no-permission `n`, inactive admin `i`; ORG2: admin `b`.
pub async fn world(settings: Settings) -> World {
    let e = start(settings).await;
    let a = e.org_admin(ORG, "admin@a.org").await;
    let r = e
        .user(ORG, "reader@a.org", json!({"users":"read"}), true)
        .await;
    let n = e
        .user(ORG, "nobody@a.org", json!({"apis":"read"}), true)
        .await;
    let b = e.org_admin(ORG2, "admin@b.org").await;
    let i = e
        .user(ORG, "idle@a.org", json!({"IsAdmin":"admin"}), false)
        .await;
    World { e, a, r, n, b, i }
}

pub fn emails(v: &Value) -> Vec<String> {
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email_address"].as_str().unwrap().to_string())
        .collect()
}

fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A non-zero RFC 3339 timestamp as Go prints `time.Time`.
fn is_time(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[10] == b'T'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
        && !s.starts_with("0001-")
}

/// Compares `actual` with `expected`: objects must have the same keys in the same order;
/// the strings `<hex24>`, `<hex32>` (uuid4 without dashes), `<time>` and `<any>` match any
/// value of that format.
pub fn assert_shape(actual: &Value, expected: &Value) {
    check(actual, expected, "$");
}

fn check(a: &Value, e: &Value, at: &str) {
    match (a, e) {
        (_, Value::String(p)) if p == "<any>" => {}
        (Value::String(s), Value::String(p)) if p == "<hex24>" => {
            assert!(is_hex(s, 24), "{at}: {s:?} is not 24 hex")
        }
        (Value::String(s), Value::String(p)) if p == "<hex32>" => assert!(
            is_hex(s, 32) && s.as_bytes()[12] == b'4',
            "{at}: {s:?} is not a uuid4 hex"
        ),
        (Value::String(s), Value::String(p)) if p == "<time>" => {
            assert!(is_time(s), "{at}: {s:?} is not a timestamp")
        }
        (Value::Object(a), Value::Object(e)) => {
            let ak: Vec<&String> = a.keys().collect();
            let ek: Vec<&String> = e.keys().collect();
            assert_eq!(ak, ek, "{at}: keys differ");
            for (k, ev) in e {
                check(&a[k], ev, &format!("{at}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{at}: length differs");
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                check(av, ev, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(a, e, "{at}"),
    }
}

/// The full user object of the admin create / allow-reset answers (docs/tyk-dashboard-api.md §2.1,
/// §2.4).
pub fn admin_user_shape(org: &str, email: &str, active: bool, perms: Value) -> Value {
    json!({"api_model":{},"first_name":"<any>","last_name":"<any>","email_address":email,
        "org_id":org,"active":active,"id":"<hex24>","access_key":"<hex32>",
        "user_permissions":perms,"group_id":"","password_max_days":0,
        "password_updated":"0001-01-01T00:00:00Z","PWHistory":[],
        "last_login_date":"0001-01-01T00:00:00Z","created_at":"<time>"})
}

/// A user as GET shows it (no `PWHistory`; legacy adds `"password":""`).
pub fn get_user_shape(org: &str, email: &str, key: &str, perms: Value, legacy: bool) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("api_model".into(), json!({}));
    m.insert("first_name".into(), json!("<any>"));
    m.insert("last_name".into(), json!("<any>"));
    m.insert("email_address".into(), json!(email));
    if legacy {
        m.insert("password".into(), json!(""));
    }
    for (k, v) in [
        ("org_id", json!(org)),
        ("active", json!("<any>")),
        ("id", json!("<hex24>")),
        ("access_key", json!(key)),
        ("user_permissions", perms),
        ("group_id", json!("<any>")),
        ("password_max_days", json!(0)),
        ("password_updated", json!("<any>")),
        ("last_login_date", json!("0001-01-01T00:00:00Z")),
        ("created_at", json!("<time>")),
    ] {
        m.insert(k.into(), v);
    }
    Value::Object(m)
}
