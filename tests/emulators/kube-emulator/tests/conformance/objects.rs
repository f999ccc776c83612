//! Built-in object behaviour: Secrets, Events in both APIs, Leases, garbage collection and
//! namespace lifecycle (docs/kubernetes-api.md §1.6, §2.7, §2.8, §2.13).

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, assert_status, poll};

#[tokio::test]
async fn secrets_string_data_and_immutable_type() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/secrets");
    let (code, s) = t
        .json(
            Method::POST,
            &coll,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "eA=="}, "stringData": {"b": "hello", "a": "over"}}),
        )
        .await;
    assert_eq!(code, 201, "{s}");
    // docs/kubernetes-api.md §2.13: stringData merges into data (winning on clashes) and is never
    // returned.
    assert_eq!(s["data"], json!({"a": "b3Zlcg==", "b": "aGVsbG8="}));
    assert!(s.get("stringData").is_none(), "{s}");
    assert_eq!(s["type"], "Opaque");
    let (_, got) = t.get(&format!("{coll}/s")).await;
    assert!(got.get("stringData").is_none());

    let (code, body) = t
        .patch(
            &format!("{coll}/s"),
            "application/merge-patch+json",
            json!({"type": "kubernetes.io/tls"}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");

    let (code, body) = t
        .json(Method::POST, &coll, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "data": {"a": "***"}}))
        .await;
    assert_eq!(code, 400, "invalid base64 is a decode error: {body}");
    t.shutdown().await;
}

fn event_v1(name: &str, ns: &str, regarding: &Value) -> Value {
    json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": "2026-01-01T00:00:00.000001Z", "action": "Reconcile", "reason": "Reconciled",
        "note": "all good", "type": "Normal", "reportingController": "conformance.test/ctrl",
        "reportingInstance": "conf-1", "regarding": regarding})
}

#[tokio::test]
async fn events_served_through_both_apis() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let (_, owner) = t
        .json(
            Method::POST,
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}}),
        )
        .await;
    let regarding = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "w1", "namespace": ns,
        "uid": owner["metadata"]["uid"]});
    let v1 = format!("/apis/events.k8s.io/v1/namespaces/{ns}/events");
    let (code, e) = t
        .json(Method::POST, &v1, event_v1("w1.abc", &ns, &regarding))
        .await;
    assert_eq!(code, 201, "{e}");

    // docs/kubernetes-api.md §1.6: the same object is visible through core/v1 with the field
    // mapping.
    let core = format!("/api/v1/namespaces/{ns}/events");
    let (code, c) = t.get(&format!("{core}/w1.abc")).await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["kind"], "Event");
    assert_eq!(c["involvedObject"]["name"], "w1");
    assert_eq!(c["message"], "all good");
    assert_eq!(c["reportingComponent"], "conformance.test/ctrl");
    let sel = format!(
        "involvedObject.name%3Dw1,involvedObject.namespace%3D{ns},involvedObject.kind%3DConfigMap,involvedObject.uid%3D{}",
        owner["metadata"]["uid"].as_str().unwrap()
    );
    let (code, l) = t
        .get(&format!("{core}?fieldSelector={sel}&limit=500"))
        .await;
    assert_eq!(code, 200, "{l}");
    assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");

    // Recorder-style repeat: merge patch adding a series.
    let mut again = e.clone();
    again["series"] = json!({"count": 2, "lastObservedTime": "2026-01-01T00:00:01.000000Z"});
    let (code, p) = t
        .patch(
            &format!("{v1}/w1.abc"),
            "application/merge-patch+json",
            again,
        )
        .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["series"]["count"], 2);

    // Validation: a capitalised name and a non-qualified reportingController are 422.
    let (code, body) = t
        .json(Method::POST, &v1, event_v1("W1.abc", &ns, &regarding))
        .await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");
    let mut bad = event_v1("w1.def", &ns, &regarding);
    bad["reportingController"] = json!("Not A Name");
    let (code, body) = t.json(Method::POST, &v1, bad).await;
    assert_eq!(code, 422, "{body}");
    let mut no_time = event_v1("w1.ghi", &ns, &regarding);
    no_time.as_object_mut().unwrap().remove("eventTime");
    assert_eq!(t.json(Method::POST, &v1, no_time).await.0, 422);
    t.shutdown().await;
}

#[tokio::test]
async fn leases_are_optimistic_objects() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/apis/coordination.k8s.io/v1/namespaces/{ns}/leases");
    let (code, l) = t
        .json(Method::POST, &coll, json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "leader"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
            "renewTime": "2026-01-01T00:00:00.123456Z"}}))
        .await;
    assert_eq!(code, 201, "{l}");
    assert_eq!(l["spec"]["renewTime"], "2026-01-01T00:00:00.123456Z");
    let mut a = l.clone();
    a["spec"]["holderIdentity"] = json!("b");
    assert_eq!(
        t.json(Method::PUT, &format!("{coll}/leader"), a).await.0,
        200
    );
    let mut b = l;
    b["spec"]["holderIdentity"] = json!("c");
    assert_eq!(
        t.json(Method::PUT, &format!("{coll}/leader"), b).await.0,
        409
    );
    t.shutdown().await;
}

async fn owner_and_child(t: &Target, ns: &str, owner: &str, block: bool) -> (String, String) {
    let (_, o) = t
        .json(
            Method::POST,
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": owner}}),
        )
        .await;
    let uid = o["metadata"]["uid"].as_str().unwrap().to_string();
    let child = format!("{owner}-child");
    let (code, c) = t
        .json(Method::POST, &format!("/api/v1/namespaces/{ns}/secrets"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": child, "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": owner, "uid": uid, "controller": true, "blockOwnerDeletion": block}]}}))
        .await;
    assert_eq!(code, 201, "{c}");
    (uid, format!("/api/v1/namespaces/{ns}/secrets/{child}"))
}

#[tokio::test]
async fn garbage_collection_background_foreground_orphan_dangling() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let cms = format!("/api/v1/namespaces/{ns}/configmaps");

    let (_, child) = owner_and_child(&t, &ns, "bg", false).await;
    let (code, _) = t
        .json(
            Method::DELETE,
            &format!("{cms}/bg"),
            json!({"propagationPolicy": "Background"}),
        )
        .await;
    assert_eq!(code, 200);
    poll(|| async { (t.get(&child).await.0 == 404).then_some(()) }).await;

    let (_, child) = owner_and_child(&t, &ns, "orph", false).await;
    t.json(
        Method::DELETE,
        &format!("{cms}/orph"),
        json!({"propagationPolicy": "Orphan"}),
    )
    .await;
    poll(|| async { (t.get(&format!("{cms}/orph")).await.0 == 404).then_some(()) }).await;
    let c = poll(|| async {
        let (code, c) = t.get(&child).await;
        assert_eq!(code, 200, "orphaned dependent survives");
        c["metadata"].get("ownerReferences").is_none().then_some(c)
    })
    .await;
    assert_eq!(c["metadata"]["name"], "orph-child");

    let (_, child) = owner_and_child(&t, &ns, "fg", true).await;
    let (code, o) = t
        .json(
            Method::DELETE,
            &format!("{cms}/fg"),
            json!({"propagationPolicy": "Foreground"}),
        )
        .await;
    assert_eq!(code, 200, "{o}");
    if o["kind"] == "ConfigMap" {
        // docs/kubernetes-api.md §2.7: the owner waits, marked, until blocking dependents are gone.
        assert!(o["metadata"]["deletionTimestamp"].is_string(), "{o}");
        assert!(
            o["metadata"]["finalizers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "foregroundDeletion"),
            "{o}"
        );
    }
    poll(|| async { (t.get(&child).await.0 == 404).then_some(()) }).await;
    poll(|| async { (t.get(&format!("{cms}/fg")).await.0 == 404).then_some(()) }).await;

    // Owners match by uid: a dependent pointing at a uid that never existed is collected.
    let (code, _) = t
        .json(Method::POST, &format!("/api/v1/namespaces/{ns}/secrets"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dangling", "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": uuid::Uuid::new_v4().to_string()}]}}))
        .await;
    assert_eq!(code, 201);
    poll(|| async {
        (t.get(&format!("/api/v1/namespaces/{ns}/secrets/dangling"))
            .await
            .0
            == 404)
            .then_some(())
    })
    .await;
    t.shutdown().await;
}

#[tokio::test]
async fn namespace_deletion_cascades() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let cms = format!("/api/v1/namespaces/{ns}/configmaps");
    t.json(
        Method::POST,
        &cms,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}}),
    )
    .await;
    t.json(
        Method::POST,
        &cms,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["conformance.test/hold"]}}),
    )
    .await;

    let (code, n) = t
        .json(
            Method::DELETE,
            &format!("/api/v1/namespaces/{ns}"),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{n}");
    assert_eq!(
        n["kind"], "Namespace",
        "namespace delete returns the object: {n}"
    );
    assert_eq!(n["status"]["phase"], "Terminating");

    // The held object keeps the namespace Terminating; new content is refused
    // (docs/kubernetes-api.md §2.8).
    poll(|| async { (t.get(&format!("{cms}/plain")).await.0 == 404).then_some(()) }).await;
    let (code, body) = t
        .json(
            Method::POST,
            &cms,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}),
        )
        .await;
    assert_eq!(code, 403, "{body}");
    assert_status(&body, 403, "Forbidden");
    let (_, held) = t.get(&format!("{cms}/held")).await;
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");

    t.patch(
        &format!("{cms}/held"),
        "application/merge-patch+json",
        json!({"metadata": {"finalizers": null}}),
    )
    .await;
    poll(|| async { (t.get(&format!("/api/v1/namespaces/{ns}")).await.0 == 404).then_some(()) })
        .await;
    t.shutdown().await;
}
