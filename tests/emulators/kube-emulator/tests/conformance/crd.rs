//! CRDs and the custom-resource pipeline: registration, discovery, pruning, defaulting,
//! validation (schema, Strict, CEL), generation, status isolation, JSON/merge patch, finalizers
//! (docs/kubernetes-api.md §1.5, §2.4–§2.6, §2.12).

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, assert_status, widget_crd, widget_group};

const AGG: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

pub fn widget(group: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": name}, "spec": spec})
}

async fn setup() -> (Target, String, String) {
    let t = Target::new().await;
    let group = widget_group();
    let crd = t.install_crd(widget_crd(&group)).await;
    assert!(
        crd["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "NamesAccepted" && c["status"] == "True")
    );
    let ns = t.namespace().await;
    let coll = format!("/apis/{group}/v1/namespaces/{ns}/widgets");
    (t, group, coll)
}

#[tokio::test]
async fn crd_registration_updates_discovery_and_openapi() {
    let (t, group, _) = setup().await;
    let (_, rl) = t.get(&format!("/apis/{group}/v1")).await;
    assert_eq!(rl["kind"], "APIResourceList");
    let res = rl["resources"].as_array().unwrap();
    let w = res
        .iter()
        .find(|r| r["name"] == "widgets")
        .expect("widgets listed");
    assert_eq!(w["singularName"], "widget");
    assert_eq!(w["shortNames"], json!(["wdg"]));
    assert_eq!(w["categories"], json!(["conformance"]));
    assert!(
        res.iter()
            .any(|r| r["name"] == "widgets/status"
                && r["verbs"] == json!(["get", "patch", "update"]))
    );

    let (_, groups) = t.get("/apis").await;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == group.as_str())
    );
    let (code, headers, bytes) = t.raw(Method::GET, "/apis", None, Some(AGG), None).await;
    assert_eq!(code, 200);
    assert_eq!(
        headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let agg = crate::common::parse(&bytes);
    assert!(
        agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["metadata"]["name"] == group.as_str())
    );
    let (_, _, core) = t.raw(Method::GET, "/api", None, Some(AGG), None).await;
    assert_eq!(
        crate::common::parse(&core)["items"][0]["metadata"]["name"],
        ""
    );

    let (_, v) = t.get("/version").await;
    assert_eq!(v["major"], "1");

    let (_, idx) = t.get("/openapi/v3").await;
    let url = idx["paths"][format!("apis/{group}/v1")]["serverRelativeURL"]
        .as_str()
        .expect("GV in openapi index")
        .to_string();
    let (code, doc) = t.get(&url).await;
    assert_eq!(code, 200);
    let patch = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .find_map(|p| p.get("patch"))
        .expect("a PATCH op");
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Widget");

    // kube's aggregated discovery (which has no legacy fallback) sees the new kind.
    let d = kube::Discovery::new(t.client.clone())
        .filter(&[&group])
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let g = d.get(&group).expect("group discovered");
    assert_eq!(
        g.recommended_kind("Widget").expect("kind").0.plural,
        "widgets"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn prune_default_and_validate() {
    let (t, group, coll) = setup().await;
    let (code, w) = t
        .json(
            Method::POST,
            &coll,
            widget(
                &group,
                "w1",
                json!({"color": "red", "unknown": 1, "free": {"any": {"thing": 1}}}),
            ),
        )
        .await;
    assert_eq!(code, 201, "{w}");
    // docs/kubernetes-api.md §2.12: unknown fields pruned, preserve-unknown-fields kept, defaults
    // applied recursively.
    assert!(w["spec"].get("unknown").is_none(), "{w}");
    assert_eq!(w["spec"]["free"]["any"]["thing"], 1);
    assert_eq!(w["spec"]["size"], 1);
    assert_eq!(w["spec"]["nested"], json!({"level": 3}));

    let (code, body) = t
        .json(
            Method::POST,
            &coll,
            widget(&group, "neg", json!({"size": -1})),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");
    assert_eq!(body["details"]["kind"], "Widget");
    assert_eq!(body["details"]["group"], group.as_str());
    assert_eq!(body["details"]["causes"][0]["field"], "spec.size");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("should be greater than or equal to 0"),
        "{body}"
    );

    let (code, body) = t
        .json(
            Method::POST,
            &coll,
            widget(&group, "enum", json!({"mode": "c"})),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Unsupported value: \"c\""),
        "{body}"
    );

    let (code, body) = t
        .json(
            Method::POST,
            &coll,
            widget(&group, "typ", json!({"size": "big"})),
        )
        .await;
    assert_eq!(code, 422, "{body}");

    // CEL x-kubernetes-validations.
    let (code, body) = t
        .json(
            Method::POST,
            &coll,
            widget(&group, "cel", json!({"size": 5, "limit": 2})),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("size must not exceed limit"),
        "{body}"
    );
    assert_eq!(
        t.json(
            Method::POST,
            &coll,
            widget(&group, "celok", json!({"size": 2, "limit": 2}))
        )
        .await
        .0,
        201
    );

    // fieldValidation=Strict turns pruning into a 400; Warn answers with a Warning header.
    let (code, body) = t
        .json(
            Method::POST,
            &format!("{coll}?fieldValidation=Strict"),
            widget(&group, "strict", json!({"colour": "x"})),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert_status(&body, 400, "BadRequest");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("strict decoding error: unknown field \"spec.colour\""),
        "{body}"
    );
    let bytes = serde_json::to_vec(&widget(&group, "warn", json!({"colour": "x"}))).unwrap();
    let (code, headers, _) = t
        .raw(
            Method::POST,
            &format!("{coll}?fieldValidation=Warn"),
            Some("application/json"),
            None,
            Some(bytes),
        )
        .await;
    assert_eq!(code, 201);
    assert!(
        headers.get("warning").is_some(),
        "Warn sends a Warning header"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn generation_and_status_isolation() {
    let (t, group, coll) = setup().await;
    let mut body = widget(&group, "g", json!({"size": 1}));
    body["status"] = json!({"phase": "ignored"});
    let (_, w) = t.json(Method::POST, &coll, body).await;
    assert_eq!(w["metadata"]["generation"], 1);
    assert!(
        w.get("status").is_none(),
        "POST drops status when the subresource is on: {w}"
    );
    let item = format!("{coll}/g");

    let (_, w) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"a": "b"}}}),
        )
        .await;
    assert_eq!(
        w["metadata"]["generation"], 1,
        "metadata changes keep generation"
    );
    let (_, w) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"spec": {"size": 2}, "status": {"phase": "x"}}),
        )
        .await;
    assert_eq!(
        w["metadata"]["generation"], 2,
        "spec changes bump generation"
    );
    assert!(
        w.get("status").is_none(),
        "main endpoint ignores status: {w}"
    );

    let (code, s) = t
        .patch(&format!("{item}/status"), "application/merge-patch+json",
            json!({"spec": {"size": 9}, "metadata": {"labels": {"c": "d"}}, "status": {"phase": "Ready"}}))
        .await;
    assert_eq!(code, 200, "{s}");
    assert_eq!(s["status"]["phase"], "Ready");
    assert_eq!(s["spec"]["size"], 2, "/status ignores spec");
    assert!(
        s["metadata"]["labels"].get("c").is_none(),
        "/status ignores labels"
    );
    assert_eq!(
        s["metadata"]["generation"], 2,
        "status writes keep generation"
    );

    // CRs need an RV on PUT (docs/kubernetes-api.md §2.2); a stale RV conflicts on /status too.
    let mut no_rv = s.clone();
    no_rv["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    let (code, body) = t.json(Method::PUT, &item, no_rv).await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");
    let mut stale = w.clone();
    stale["status"] = json!({"phase": "Old"});
    assert_eq!(
        t.json(Method::PUT, &format!("{item}/status"), stale)
            .await
            .0,
        409
    );
    t.shutdown().await;
}

#[tokio::test]
async fn json_patch_test_null_and_finalizer_lifecycle() {
    let (t, group, coll) = setup().await;
    t.json(Method::POST, &coll, widget(&group, "f", json!({})))
        .await;
    let item = format!("{coll}/f");
    // docs/kubernetes-api.md §1.5: kube's finalizer() first patch relies on `test` null == absent
    // (evanphx semantics).
    let add = json!([{"op": "test", "path": "/metadata/finalizers", "value": null},
                     {"op": "add", "path": "/metadata/finalizers", "value": ["conformance.test/cleanup"]}]);
    let (code, w) = t
        .patch(&item, "application/json-patch+json", add.clone())
        .await;
    assert_eq!(code, 200, "{w}");
    assert_eq!(
        w["metadata"]["finalizers"],
        json!(["conformance.test/cleanup"])
    );
    let (code, body) = t.patch(&item, "application/json-patch+json", add).await;
    assert_eq!(code, 422, "a failed test is Invalid: {body}");
    assert_status(&body, 422, "Invalid");
    assert_eq!(
        t.patch(
            &format!("{coll}/missing"),
            "application/json-patch+json",
            json!([])
        )
        .await
        .0,
        404
    );

    // Merge patch: null deletes.
    let (_, w) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"spec": {"color": "blue", "tags": ["a"]}}),
        )
        .await;
    assert_eq!(w["spec"]["color"], "blue");
    let (_, w) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"spec": {"color": null}}),
        )
        .await;
    assert!(w["spec"].get("color").is_none(), "{w}");
    let gen_before = w["metadata"]["generation"].as_i64().unwrap();

    let (_, l) = t.get(&coll).await;
    let mut watch = t
        .watch(
            &format!(
                "{coll}?watch=true&resourceVersion={}",
                l["metadata"]["resourceVersion"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let (code, d) = t.json(Method::DELETE, &item, json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(
        d["kind"], "Widget",
        "deleting with finalizers returns the object: {d}"
    );
    assert!(d["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(d["metadata"]["deletionGracePeriodSeconds"], 0);
    assert_eq!(
        d["metadata"]["generation"],
        gen_before + 1,
        "marking for deletion bumps generation"
    );
    assert_eq!(watch.next_change().await["type"], "MODIFIED");

    let (code, body) = t
        .patch(&item, "application/merge-patch+json", json!({"metadata": {"finalizers": ["conformance.test/cleanup", "conformance.test/more"]}}))
        .await;
    assert_eq!(code, 422, "no new finalizers while deleting: {body}");

    let (code, last) = t
        .patch(
            &item,
            "application/json-patch+json",
            json!([
        {"op": "test", "path": "/metadata/finalizers/0", "value": "conformance.test/cleanup"},
        {"op": "remove", "path": "/metadata/finalizers/0"}]),
        )
        .await;
    assert_eq!(code, 200, "{last}");
    assert!(last["metadata"].get("finalizers").is_none(), "{last}");
    let gone = watch.next_change().await;
    assert_eq!(
        gone["type"], "DELETED",
        "emptied finalizers delete without a MODIFIED: {gone}"
    );
    assert_eq!(
        gone["object"]["metadata"]["finalizers"],
        json!(["conformance.test/cleanup"]),
        "DELETED shows the last persisted state"
    );
    assert_eq!(t.get(&item).await.0, 404);

    // Deleting without finalizers answers with a Success Status.
    t.json(Method::POST, &coll, widget(&group, "plain", json!({})))
        .await;
    let (code, st) = t
        .json(Method::DELETE, &format!("{coll}/plain"), json!({}))
        .await;
    assert_eq!(code, 200);
    assert_eq!(st["kind"], "Status", "{st}");
    assert_eq!(st["status"], "Success");
    assert_eq!(st["details"]["kind"], "widgets");
    assert_eq!(st["details"]["group"], group.as_str());
    t.shutdown().await;
}
