//! Conformance of the admin users emulator: every documented field and error of the create,
//! FastAPI's exact 422 shapes, and the inferred routes as the README table states them.

mod control;
mod create;
mod routes;

use admin_users_emulator::{AdminUsersEmulator, Settings};
use serde_json::{Value, json};

pub const TOKEN: &str = "conformance-admin-token";
pub const VIEWER: &str = "conformance-viewer-token";

pub struct Emu {
    pub emu: AdminUsersEmulator,
    pub http: reqwest::Client,
}

pub async fn start() -> Emu {
    start_with(|_| {}).await
}

pub async fn start_with(f: impl FnOnce(&mut Settings)) -> Emu {
    let mut s = Settings {
        token: TOKEN.into(),
        viewer_tokens: vec![VIEWER.into()],
        ..Default::default()
    };
    f(&mut s);
    let emu = AdminUsersEmulator::start(s).await.unwrap();
    // reqwest is built with `rustls-no-provider`; plain http still needs a provider installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Emu { emu, http }
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Emu {
    /// A request to `{api}{path}` with the admin token (or `token`, or none with `Some("")`).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(Some(TOKEN), method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = format!("{}{path}", self.emu.api_url());
        let mut req = self.http.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn raw(&self, method: &str, path: &str, body: &'static str) -> Answer {
        let url = format!("{}{path}", self.emu.api_url());
        let resp = self
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn create(&self, username: &str, role: Option<&str>) -> Value {
        let mut b = json!({"username": username, "password": "correct-horse", "email": format!("{username}@example.com")});
        if let Some(r) = role {
            b["role"] = json!(r);
        }
        let a = self.call("POST", "/admin/users/", Some(b)).await;
        assert_eq!(a.status, 201, "{:?}", a.body);
        a.body
    }

    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(
            method.parse().unwrap(),
            format!("{}/__emulator/{path}", self.emu.url()),
        );
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        resp.json().await.unwrap_or(Value::Null)
    }
}

/// The single `detail` entry of a 422.
pub fn only_error(a: &Answer) -> Value {
    assert_eq!(a.status, 422, "{:?}", a.body);
    let d = a.body["detail"].as_array().expect("detail is a list");
    assert_eq!(d.len(), 1, "{d:?}");
    d[0].clone()
}
