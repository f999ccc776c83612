//! The emulator's own `/__emulator/` control API and knobs (docs/development/emulators.md). Emulator-only:
//! these cases return early against a real cluster.

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, assert_status};

async fn knobs(t: &Target, body: Value) {
    let (code, _, bytes) = t
        .raw(
            Method::POST,
            "/__emulator/knobs",
            Some("application/json"),
            None,
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert!(
        code.is_success(),
        "knobs {body}: {}",
        String::from_utf8_lossy(&bytes)
    );
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
}

#[tokio::test]
async fn stats_and_request_log() {
    let t = Target::new().await;
    if t.emulator.is_none() {
        return t.shutdown().await;
    }
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (code, _, _) = t
        .raw(Method::POST, "/__emulator/reset-stats", None, None, None)
        .await;
    assert!(code.is_success());
    t.json(Method::POST, &coll, cm("a")).await;
    t.patch(
        &format!("{coll}/a"),
        "application/merge-patch+json",
        json!({"data": {"k": "v"}}),
    )
    .await;
    t.patch(
        &format!("{coll}/a"),
        "application/merge-patch+json",
        json!({"data": {"k": "v"}}),
    )
    .await;
    t.get(&format!("{coll}/missing")).await;
    let (_, stats) = t.get("/__emulator/stats").await;
    assert_eq!(stats["requests"]["create /configmaps"], 1, "{stats}");
    assert_eq!(stats["requests"]["patch /configmaps"], 2, "{stats}");
    assert_eq!(stats["requests"]["get /configmaps"], 1, "{stats}");
    assert_eq!(stats["writes"], json!({"changed": 2, "noop": 1}), "{stats}");

    let (_, log) = t.get("/__emulator/requests").await;
    let miss = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "missing")
        .expect("logged");
    assert_eq!(miss["verb"], "get");
    assert_eq!(miss["method"], "GET");
    assert_eq!(miss["apiGroup"], "");
    assert_eq!(miss["apiVersion"], "v1");
    assert_eq!(miss["resource"], "configmaps");
    assert_eq!(miss["subresource"], "");
    assert_eq!(miss["namespace"], ns.as_str());
    assert_eq!(miss["code"], 404);
    assert_eq!(miss["userAgent"], "", "kube-rs sends no User-Agent");
    t.shutdown().await;
}

#[tokio::test]
async fn fault_knobs_inject_statuses() {
    let t = Target::new().await;
    if t.emulator.is_none() {
        return t.shutdown().await;
    }
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    t.json(Method::POST, &coll, cm("a")).await;

    knobs(&t, json!({"faultRate": {"409": 1.0}})).await;
    let (code, body) = t
        .patch(
            &format!("{coll}/a"),
            "application/merge-patch+json",
            json!({"data": {"k": "v"}}),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_status(&body, 409, "Conflict");
    assert_eq!(
        t.get(&format!("{coll}/a")).await.0,
        200,
        "409s are injected on updates and patches only"
    );

    knobs(&t, json!({"faultRate": {"409": 0.0, "429": 1.0}})).await;
    // kube 5's Config enables `default_retry` (429/503/504, honouring Retry-After, up to 15
    // times), so look at the raw answer through a client without it.
    let mut cfg = t.emulator.as_ref().unwrap().kube_config();
    cfg.default_retry = false;
    let raw = kube::Client::try_from(cfg).unwrap();
    let req = http::Request::get(coll.as_str())
        .body(kube::client::Body::empty())
        .unwrap();
    let resp = raw.send(req).await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(
        resp.headers().get("retry-after").is_some(),
        "429 carries Retry-After"
    );
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_status(&crate::common::parse(&bytes), 429, "TooManyRequests");

    knobs(&t, json!({"faultRate": {"429": 0.0, "503": 1.0}})).await;
    let req = http::Request::get(coll.as_str())
        .body(kube::client::Body::empty())
        .unwrap();
    let resp = raw.send(req).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(
        resp.headers().get("retry-after").is_some(),
        "503 carries Retry-After"
    );
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_status(&crate::common::parse(&bytes), 503, "ServiceUnavailable");

    knobs(&t, json!({"faultRate": {"503": 0.0, "500": 1.0}})).await;
    let (code, body) = t.get(&coll).await;
    assert_eq!(code, 500);
    assert_status(&body, 500, "InternalError");

    knobs(&t, json!({"faultRate": {"500": 0.0}})).await;
    assert_eq!(t.get(&coll).await.0, 200);
    let (code, _, _) = t
        .raw(
            Method::POST,
            "/__emulator/knobs",
            Some("application/json"),
            None,
            Some(br#"{"noSuchKnob":1}"#.to_vec()),
        )
        .await;
    assert!(code.is_client_error(), "unknown knobs are refused");
    t.shutdown().await;
}

#[tokio::test]
async fn watch_knobs_close_drop_and_force_410() {
    let t = Target::new().await;
    if t.emulator.is_none() {
        return t.shutdown().await;
    }
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (_, a) = t.json(Method::POST, &coll, cm("a")).await;
    let rv = a["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // drop-watches ends open streams cleanly.
    let mut w = t
        .watch(&format!("{coll}?watch=true&resourceVersion={rv}"), None)
        .await;
    t.raw(Method::POST, "/__emulator/drop-watches", None, None, None)
        .await;
    while let Some(ev) = w.next().await {
        assert_eq!(ev["type"], "BOOKMARK", "{ev}");
    }

    // watchCloseEverySecs closes streams on its own (the client then resumes).
    knobs(&t, json!({"watchCloseEverySecs": 1})).await;
    let mut w = t
        .watch(&format!("{coll}?watch=true&resourceVersion={rv}"), None)
        .await;
    while let Some(ev) = w.next().await {
        assert_eq!(ev["type"], "BOOKMARK", "{ev}");
    }
    knobs(&t, json!({"watchCloseEverySecs": 0})).await;

    // force410OnResume: any resume from an explicit RV gets the ERROR 410 event.
    knobs(&t, json!({"force410OnResume": true})).await;
    let mut w = t
        .watch(&format!("{coll}?watch=true&resourceVersion={rv}"), None)
        .await;
    let ev = w.next().await.expect("an event");
    assert_eq!(ev["type"], "ERROR", "{ev}");
    assert_status(&ev["object"], 410, "Expired");
    knobs(&t, json!({"force410OnResume": false})).await;
    let (_, k) = t.get("/__emulator/knobs").await;
    assert_eq!(k["force410OnResume"], false, "{k}");
    t.shutdown().await;
}
