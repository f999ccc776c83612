//! Shared harness for the conformance suite.
//!
//! Every test builds its own [`Target`]: with `KUBECONFIG` set it talks to that cluster (and
//! works in fresh, uniquely named namespaces and CRD groups, deleted at the end); otherwise it
//! starts a private emulator on a free port. Emulator-only checks (control API) are skipped on
//! real clusters via [`Target::emulator`].
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

pub const WAIT: Duration = Duration::from_secs(30);

pub struct Target {
    pub client: kube::Client,
    pub kubeconfig: PathBuf,
    pub emulator: Option<kube_emulator::Emulator>,
    pub dir: PathBuf,
    cleanup: std::sync::Mutex<Vec<String>>,
}

/// A short random suffix so parallel tests (and repeated runs on a real cluster) never collide.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..8])
}

impl Target {
    pub async fn new() -> Target {
        let dir = std::env::temp_dir().join(unique("kemu-conf"));
        std::fs::create_dir_all(&dir).unwrap();
        match std::env::var_os("KUBECONFIG") {
            Some(path) if !path.is_empty() => {
                let client = kube::Client::try_default()
                    .await
                    .expect("client from KUBECONFIG");
                Target {
                    client,
                    kubeconfig: PathBuf::from(path),
                    emulator: None,
                    dir,
                    cleanup: Default::default(),
                }
            }
            _ => {
                let emu = kube_emulator::Emulator::start(kube_emulator::Options::default())
                    .await
                    .expect("emulator starts");
                let kubeconfig = dir.join("kubeconfig");
                emu.write_kubeconfig(&kubeconfig).unwrap();
                let client = emu.client().await;
                Target {
                    client,
                    kubeconfig,
                    emulator: Some(emu),
                    dir,
                    cleanup: Default::default(),
                }
            }
        }
    }

    /// Creates a fresh namespace for this test.
    pub async fn namespace(&self) -> String {
        let ns = unique("conf");
        let (code, body) = self
            .json(
                Method::POST,
                "/api/v1/namespaces",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await;
        assert_eq!(code, 201, "create namespace: {body}");
        self.cleanup
            .lock()
            .unwrap()
            .push(format!("/api/v1/namespaces/{ns}"));
        ns
    }

    /// Registers a path to DELETE at shutdown (CRDs on a real cluster).
    pub fn delete_later(&self, path: String) {
        self.cleanup.lock().unwrap().push(path);
    }

    pub async fn shutdown(self) {
        if self.emulator.is_none() {
            let paths = self.cleanup.lock().unwrap().clone();
            for p in paths {
                let _ = self.raw(Method::DELETE, &p, None, None, None).await;
            }
        }
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// One HTTP request; returns status, headers and the raw body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        accept: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let req = req.body(Body::from(body.unwrap_or_default())).unwrap();
        let resp = self.client.send(req).await.expect("request sent");
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("body read").to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    /// A JSON request (`application/json` body, if given); returns status and parsed body
    /// (`Value::String` with the text when the body is not JSON).
    pub async fn json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let body = if body.is_null() {
            None
        } else {
            Some(serde_json::to_vec(&body).unwrap())
        };
        let ct = body.as_ref().map(|_| "application/json");
        let (code, _, bytes) = self.raw(method, path, ct, None, body).await;
        (code, parse(&bytes))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.json(Method::GET, path, Value::Null).await
    }

    /// PATCH with the given content type.
    pub async fn patch(&self, path: &str, content_type: &str, body: Value) -> (StatusCode, Value) {
        let (code, _, bytes) = self
            .raw(
                Method::PATCH,
                path,
                Some(content_type),
                Some("application/json"),
                Some(serde_json::to_vec(&body).unwrap()),
            )
            .await;
        (code, parse(&bytes))
    }

    /// Opens a watch; the caller reads events with [`Lines::next`].
    pub async fn watch(&self, path: &str, accept: Option<&str>) -> Lines {
        let mut req = Request::builder().method(Method::GET).uri(path);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let resp = self
            .client
            .send(req.body(Body::empty()).unwrap())
            .await
            .expect("watch sent");
        assert_eq!(resp.status(), 200, "watch {path}");
        Lines {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    /// Installs a CRD (unique group) and waits until it is Established and discoverable.
    pub async fn install_crd(&self, crd: Value) -> Value {
        let name = crd["metadata"]["name"].as_str().unwrap().to_string();
        let group = crd["spec"]["group"].as_str().unwrap().to_string();
        let (code, body) = self
            .json(
                Method::POST,
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                crd,
            )
            .await;
        assert_eq!(code, 201, "create CRD: {body}");
        self.delete_later(format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
        ));
        let path = format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
        let established = poll(|| async {
            let (_, c) = self.get(&path).await;
            let ok = c["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|x| x["type"] == "Established" && x["status"] == "True")
            });
            ok.then_some(c)
        })
        .await;
        poll(|| async { (self.get(&format!("/apis/{group}/v1")).await.0 == 200).then_some(()) })
            .await;
        established
    }

    pub fn emulator_url(&self) -> Option<String> {
        self.emulator.as_ref().map(|e| e.url())
    }
}

pub fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Polls `f` until it yields `Some`, panicking after [`WAIT`] (a deadline, not a timing claim).
pub async fn poll<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Newline-delimited JSON events of a watch response.
pub struct Lines {
    body: Body,
    buf: Vec<u8>,
}

impl Lines {
    /// The next event, or `None` at end of stream. Panics if nothing arrives within [`WAIT`].
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(serde_json::from_slice(&line).expect("watch line is JSON"));
            }
            let frame = tokio::time::timeout(WAIT, self.body.frame())
                .await
                .expect("watch event within deadline");
            match frame {
                None => {
                    assert!(
                        self.buf.iter().all(u8::is_ascii_whitespace),
                        "stream ended mid-line"
                    );
                    return None;
                }
                Some(Err(e)) => panic!("watch stream error: {e}"),
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self) -> Value {
        loop {
            let ev = self.next().await.expect("stream still open");
            if ev["type"] != "BOOKMARK" {
                return ev;
            }
        }
    }
}

/// The standard widget CRD used across the suite, in a unique group.
pub fn widget_crd(group: &str) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
                      "shortNames": ["wdg"], "categories": ["conformance"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ],
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object",
                        "x-kubernetes-validations": [{"rule": "!has(self.limit) || self.size <= self.limit", "message": "size must not exceed limit"}],
                        "properties": {
                            "size": {"type": "integer", "minimum": 0, "default": 1},
                            "mode": {"type": "string", "enum": ["a", "b"]},
                            "color": {"type": "string"},
                            "limit": {"type": "integer"},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                                "items": {"type": "object", "required": ["name"], "properties": {
                                    "name": {"type": "string"}, "value": {"type": "string"}}}},
                            "nested": {"type": "object", "default": {}, "properties": {"level": {"type": "integer", "default": 3}}},
                            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }},
                    "status": {"type": "object", "properties": {
                        "observedGeneration": {"type": "integer"},
                        "phase": {"type": "string"},
                        "conditions": {"type": "array", "items": {"type": "object", "properties": {
                            "type": {"type": "string"}, "status": {"type": "string"}, "reason": {"type": "string"},
                            "message": {"type": "string"}, "lastTransitionTime": {"type": "string", "format": "date-time"},
                            "observedGeneration": {"type": "integer"}}}}
                    }}
                }}}
            }]
        }
    })
}

/// A fresh widget group name.
pub fn widget_group() -> String {
    format!("{}.conformance.test", unique("w"))
}

/// Asserts the common Status envelope and returns the body for further checks.
pub fn assert_status(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    assert!(body["metadata"].is_object(), "{body}");
}
