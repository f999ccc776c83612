//! The `/__emulator/` control API and its knobs, driven the way resilience tests will use
//! them: request log and stats, forced 410s, injected faults with Retry-After, watch churn.

use std::time::Duration;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube_emulator::{Emulator, Options};
use serde_json::{Value, json};

async fn control(c: &Client, method: &str, what: &str, body: Value) -> Value {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("/__emulator/{what}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    serde_json::from_str(&c.request_text(req).await.unwrap()).unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn stats_and_request_log_count_verbs_and_noops() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    let c = emu.client().await;
    control(&c, "POST", "reset-stats", json!({})).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    // The creator (manager "") owns data.k, so taking it over needs force
    // (docs/kubernetes-api.md §4.1.5).
    let pp = PatchParams::apply("tester").force();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v2"}});
    cms.patch("a", &pp, &Patch::Apply(&body)).await.unwrap();
    cms.patch("a", &pp, &Patch::Apply(&body)).await.unwrap();
    cms.list(&ListParams::default()).await.unwrap();
    let stats = control(&c, "GET", "stats", json!({})).await;
    assert_eq!(stats["requests"]["create /configmaps"], 1);
    assert_eq!(stats["requests"]["patch /configmaps"], 2);
    assert_eq!(stats["requests"]["list /configmaps"], 1);
    assert_eq!(stats["writes"], json!({"changed": 2, "noop": 1}));
    let log = control(&c, "GET", "requests", json!({})).await;
    let patch = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["verb"] == "patch")
        .unwrap();
    assert_eq!(patch["resource"], "configmaps");
    assert_eq!(patch["namespace"], "default");
    assert_eq!(patch["name"], "a");
    assert_eq!(patch["apiGroup"], "");
    assert_eq!(patch["code"], 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn knobs_force_410_and_inject_faults() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    // kube 5.0 retries 429s itself (15 times, honouring Retry-After); look at the raw answer.
    let mut cfg = emu.kube_config();
    cfg.default_retry = false;
    let c = Client::try_from(cfg).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for n in ["a", "b", "c"] {
        cms.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    let first = cms.list(&ListParams::default().limit(1)).await.unwrap();
    let rv = first.metadata.resource_version.clone().unwrap();
    control(&c, "POST", "knobs", json!({"force410OnResume": true})).await;
    let tok = first.metadata.continue_.unwrap();
    let err = cms
        .list(&ListParams::default().limit(1).continue_token(&tok))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 410 && s.reason == "Expired"),
        "{err:?}"
    );
    let evs: Vec<_> = cms
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(evs.as_slice(), [WatchEvent::Error(e)] if e.code == 410),
        "{evs:?}"
    );
    control(
        &c,
        "POST",
        "knobs",
        json!({"force410OnResume": false, "faultRate": {"429": 1.0}}),
    )
    .await;
    let err = cms.get("a").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429),
        "{err:?}"
    );
    let req = http::Request::get("/api/v1/namespaces/default/configmaps/a")
        .body(Vec::new())
        .unwrap();
    let resp = c.send(req.map(kube::client::Body::from)).await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "1");
    control(
        &c,
        "POST",
        "knobs",
        json!({"faultRate": {"429": 0.0}, "watchCloseEverySecs": 1}),
    )
    .await;
    // The watch ends on its own after a second even though the client asked for 290.
    let cur = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let s = cms
            .watch(&WatchParams::default().timeout(290), &cur)
            .await
            .unwrap();
        let _: Vec<_> = s.try_collect().await.unwrap();
    })
    .await;
    assert!(ended.is_ok(), "watch was not closed by the knob");
    let bad = http::Request::post("/__emulator/knobs")
        .header("content-type", "application/json")
        .body(br#"{"nope":1}"#.to_vec())
        .unwrap();
    assert!(c.request_text(bad).await.is_err());
    emu.shutdown().await;
}
