//! Watch semantics: resume, 410 as an ERROR event, timeoutSeconds, bookmarks,
//! sendInitialEvents, selector transitions, metadata-only (docs/kubernetes-api.md §1.2, §1.3,
//! §2.9–§2.11).

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, assert_status};

const META: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const META_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

fn cm(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}})
}

fn rv(o: &Value) -> String {
    o["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn resume_delivers_only_later_events_in_order() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (_, a) = t.json(Method::POST, &coll, cm("a", json!({}))).await;
    let (_, b) = t.json(Method::POST, &coll, cm("b", json!({}))).await;
    let (_, a2) = t
        .patch(
            &format!("{coll}/a"),
            "application/merge-patch+json",
            json!({"data": {"x": "1"}}),
        )
        .await;
    t.json(Method::DELETE, &format!("{coll}/b"), json!({}))
        .await;

    let mut w = t
        .watch(
            &format!("{coll}?watch=true&resourceVersion={}", rv(&a)),
            None,
        )
        .await;
    let e1 = w.next_change().await;
    assert_eq!(
        (
            e1["type"].as_str(),
            e1["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("b")),
        "{e1}"
    );
    assert_eq!(rv(&e1["object"]), rv(&b));
    assert_eq!(
        e1["object"]["kind"], "ConfigMap",
        "watch objects carry kind"
    );
    assert_eq!(e1["object"]["apiVersion"], "v1");
    let e2 = w.next_change().await;
    assert_eq!(e2["type"], "MODIFIED");
    assert_eq!(rv(&e2["object"]), rv(&a2));
    let e3 = w.next_change().await;
    assert_eq!(
        (
            e3["type"].as_str(),
            e3["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("b"))
    );
    assert!(
        rv(&e3["object"]).parse::<u64>().unwrap() > rv(&a2).parse::<u64>().unwrap(),
        "DELETED carries the deletion RV"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn too_old_resource_version_is_an_error_event_not_http_410() {
    let t = Target::new().await;
    if t.emulator.is_none() {
        // Compaction cannot be forced on a real cluster.
        return t.shutdown().await;
    }
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (_, a) = t.json(Method::POST, &coll, cm("a", json!({}))).await;
    t.json(Method::POST, &coll, cm("b", json!({}))).await;
    let (code, _, _) = t
        .raw(Method::POST, "/__emulator/compact", None, None, None)
        .await;
    assert!(code.is_success());
    let mut w = t
        .watch(
            &format!("{coll}?watch=true&resourceVersion={}", rv(&a)),
            None,
        )
        .await;
    let ev = w.next().await.expect("one event");
    assert_eq!(ev["type"], "ERROR", "{ev}");
    assert_status(&ev["object"], 410, "Expired");
    assert!(
        ev["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version"),
        "{ev}"
    );
    assert!(w.next().await.is_none(), "the stream ends after the ERROR");
    t.shutdown().await;
}

#[tokio::test]
async fn timeout_seconds_closes_the_stream() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let (_, l) = t.get(&format!("/api/v1/namespaces/{ns}/configmaps")).await;
    let mut w = t
        .watch(
            &format!(
                "/api/v1/namespaces/{ns}/configmaps?watch=true&timeoutSeconds=1&resourceVersion={}",
                rv(&l)
            ),
            None,
        )
        .await;
    // Only bookmarks may precede the clean end of stream.
    while let Some(ev) = w.next().await {
        assert_eq!(ev["type"], "BOOKMARK", "{ev}");
    }
    t.shutdown().await;
}

#[tokio::test]
async fn send_initial_events_ends_with_annotated_bookmark() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    t.json(Method::POST, &coll, cm("a", json!({}))).await;
    t.json(Method::POST, &coll, cm("b", json!({}))).await;
    let mut w = t
        .watch(&format!("{coll}?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0"), None)
        .await;
    let mut added = Vec::new();
    let end = loop {
        let ev = w.next().await.expect("open");
        match ev["type"].as_str().unwrap() {
            "ADDED" => added.push(
                ev["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            "BOOKMARK"
                if ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"]
                    == "true" =>
            {
                break ev;
            }
            "BOOKMARK" => {}
            other => panic!("unexpected {other}: {ev}"),
        }
    };
    added.sort();
    assert_eq!(added, ["a", "b"]);
    // docs/kubernetes-api.md §1.2: bookmarks carry typed kind/apiVersion and an RV.
    assert_eq!(end["object"]["kind"], "ConfigMap");
    assert_eq!(end["object"]["apiVersion"], "v1");
    assert!(!rv(&end["object"]).is_empty());
    t.json(Method::POST, &coll, cm("c", json!({}))).await;
    let live = w.next_change().await;
    assert_eq!(
        (
            live["type"].as_str(),
            live["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("c"))
    );

    // Parameter validation (docs/kubernetes-api.md §1.3).
    let (code, body) = t
        .get(&format!("{coll}?watch=true&sendInitialEvents=true"))
        .await;
    assert_eq!(
        code, 422,
        "sendInitialEvents needs resourceVersionMatch=NotOlderThan: {body}"
    );
    let (code, body) = t
        .get(&format!(
            "{coll}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        ))
        .await;
    assert_eq!(code, 422, "sendInitialEvents is forbidden on list: {body}");
    t.shutdown().await;
}

#[tokio::test]
async fn selector_transitions_are_added_and_deleted() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (_, l) = t.get(&coll).await;
    let mut w = t
        .watch(
            &format!(
                "{coll}?watch=true&labelSelector=app%3Dx&resourceVersion={}",
                rv(&l)
            ),
            None,
        )
        .await;
    t.json(Method::POST, &coll, cm("other", json!({"app": "y"})))
        .await;
    t.json(Method::POST, &coll, cm("m", json!({"app": "x"})))
        .await;
    let e = w.next_change().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("m")),
        "{e}"
    );
    let (_, left) = t
        .patch(
            &format!("{coll}/m"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"app": "z"}}}),
        )
        .await;
    let e = w.next_change().await;
    assert_eq!(e["type"], "DELETED", "leaving the selector: {e}");
    assert_eq!(
        e["object"]["metadata"]["labels"]["app"], "x",
        "DELETED carries the previous content"
    );
    assert_eq!(rv(&e["object"]), rv(&left), "…with the new RV");
    t.patch(
        &format!("{coll}/other"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"app": "x"}}}),
    )
    .await;
    let e = w.next_change().await;
    assert_eq!(
        (e["type"].as_str(), e["object"]["metadata"]["name"].as_str()),
        (Some("ADDED"), Some("other")),
        "{e}"
    );
    t.patch(
        &format!("{coll}/other"),
        "application/merge-patch+json",
        json!({"data": {"k": "v"}}),
    )
    .await;
    assert_eq!(w.next_change().await["type"], "MODIFIED");
    t.shutdown().await;
}

#[tokio::test]
async fn metadata_only_lists_gets_and_watches() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/secrets");
    t.json(Method::POST, &coll, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}})).await;
    let (code, _, bytes) = t
        .raw(
            Method::GET,
            &format!("{coll}?limit=500"),
            None,
            Some(META_LIST),
            None,
        )
        .await;
    assert_eq!(code, 200);
    let l = crate::common::parse(&bytes);
    assert_eq!(l["kind"], "PartialObjectMetadataList", "{l}");
    assert_eq!(l["apiVersion"], "meta.k8s.io/v1");
    assert!(l["metadata"]["resourceVersion"].is_string());
    let item = &l["items"][0];
    assert_eq!(item["kind"], "PartialObjectMetadata");
    assert_eq!(item["metadata"]["namespace"], ns.as_str());
    assert!(
        item.get("data").is_none(),
        "no payload in metadata-only form: {item}"
    );

    let (code, _, bytes) = t
        .raw(Method::GET, &format!("{coll}/s"), None, Some(META), None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        crate::common::parse(&bytes)["kind"],
        "PartialObjectMetadata"
    );

    let mut w = t
        .watch(
            &format!("{coll}?watch=true&resourceVersion={}", rv(&l)),
            Some(META),
        )
        .await;
    t.patch(
        &format!("{coll}/s"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"a": "b"}}}),
    )
    .await;
    let e = w.next_change().await;
    assert_eq!(e["object"]["kind"], "PartialObjectMetadata", "{e}");
    assert_eq!(e["object"]["metadata"]["labels"]["a"], "b");

    // docs/kubernetes-api.md §2.11: asking only for an unsupported `as=` form is 406.
    let (code, _, _) = t
        .raw(
            Method::GET,
            &coll,
            None,
            Some("application/json;as=Unknown;g=meta.k8s.io;v=v1"),
            None,
        )
        .await;
    assert_eq!(code, 406);
    t.shutdown().await;
}
