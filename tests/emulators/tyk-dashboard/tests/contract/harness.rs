//! The emulator under test (started by the suite on 127.0.0.1, port 0, stopped at the end),
//! an HTTP client, and the seeded state the property cases start from.

use std::time::Duration;

use serde_json::Value;
use tyk_dashboard_emulator::{Settings, TykEmulator, UserState};

pub const SECRET: &str = "contract-admin-secret";

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.text).ok()
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Admin,
    /// The raw key, as Tyk's own clients send it (docs/tyk-dashboard-api.md §1.2).
    Key(String),
    /// `Bearer <key>`, DASH-SW's `bearerAuth`.
    Bearer(String),
}

pub struct Harness {
    pub emu: TykEmulator,
    http: reqwest::Client,
    base: String,
}

impl Harness {
    pub async fn start() -> Harness {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emu = TykEmulator::start(Settings {
            admin_secret: SECRET.into(),
            ..Settings::default()
        })
        .await
        .expect("start the emulator on 127.0.0.1");
        let base = emu.url();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Harness { emu, http, base }
    }

    pub async fn stop(self) {
        self.emu.shutdown().await;
    }

    /// Sends `body` (as given, with the spec's `application/json`) to `path` (query included).
    pub async fn send(&self, method: &str, path: &str, auth: &Auth, body: Option<&str>) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, format!("{}{}", self.base, path));
        rb = match auth {
            Auth::None => rb,
            Auth::Admin => rb.header("admin-auth", SECRET),
            Auth::Key(k) => rb.header("Authorization", k),
            Auth::Bearer(k) => rb.header("Authorization", format!("Bearer {k}")),
        };
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = r.text().await.expect("body");
        Resp {
            status,
            content_type,
            text,
        }
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let b = body.map(Value::to_string);
        self.send(method, path, &Auth::Admin, b.as_deref()).await
    }

    pub async fn api(&self, key: &str, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let b = body.map(Value::to_string);
        self.send(method, path, &Auth::Key(key.into()), b.as_deref())
            .await
    }
}

pub const ORG_A: &str = "5e9d9544a1dcd60001d0ed20";
pub const ORG_B: &str = "60ef3a1dcb83670001bf2df9";

/// What every property case starts from: orgs A and B, users and groups in both.
pub struct World {
    /// Org admin of A with IsAdmin + ResetPassword: the caller of /api cases.
    pub a: UserState,
    /// `users:read` and `user_groups:read` in A.
    pub r: UserState,
    /// No users or user_groups permission, in A.
    pub n: UserState,
    /// A non-admin in A: a target.
    pub v: UserState,
    /// Org admin of B.
    pub b: UserState,
    /// Super user (no org): reads state back, never a target.
    pub s: UserState,
    pub org_a: String,
    pub org_b: String,
    pub group_a: String,
    pub group_b: String,
}

impl World {
    /// Forgets everything and seeds the world again (no requests).
    pub fn seed(emu: &TykEmulator) -> World {
        emu.reset();
        let user = |org: &str, email: &str, perms: &[(&str, &str)]| {
            emu.seed_user(org, email, perms, true).expect("seed user")
        };
        World {
            a: user(ORG_A, "admin@a.example", &[]),
            r: user(
                ORG_A,
                "reader@a.example",
                &[("users", "read"), ("user_groups", "read")],
            ),
            n: user(ORG_A, "nobody@a.example", &[("apis", "read")]),
            v: user(ORG_A, "victim@a.example", &[("users", "read")]),
            b: user(ORG_B, "admin@b.example", &[("IsAdmin", "admin")]),
            s: user("", "super@example.org", &[]),
            org_a: emu.seed_org("Org A"),
            org_b: emu.seed_org("Org B"),
            group_a: emu.seed_group(ORG_A, "Group A", &[("apis", "read")]),
            group_b: emu.seed_group(ORG_B, "Group B", &[("apis", "read")]),
        }
    }

    /// Ids a property case may put in the path of each kind of route: existing ones (the
    /// caller's own included) first.
    pub fn user_ids(&self) -> Vec<String> {
        [&self.v, &self.r, &self.n, &self.b, &self.a]
            .iter()
            .map(|u| u.id.clone())
            .collect()
    }

    pub fn org_ids(&self) -> Vec<String> {
        vec![self.org_a.clone(), self.org_b.clone()]
    }

    pub fn group_ids(&self) -> Vec<String> {
        vec![self.group_a.clone(), self.group_b.clone()]
    }
}
