//! Server-side apply and strategic merge patch (docs/kubernetes-api.md §4, §3.3).

use serde_json::{Value, json};

use crate::common::{Target, assert_status, widget_crd, widget_group};
use crate::crd::widget;

const APPLY: &str = "application/apply-patch+yaml";
const SMP: &str = "application/strategic-merge-patch+json";

fn managers(o: &Value) -> Vec<(String, String)> {
    o["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["manager"].as_str().unwrap_or("").to_string(),
                        m["operation"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn apply_ownership_removal_and_list_map_merge() {
    let t = Target::new().await;
    let group = widget_group();
    t.install_crd(widget_crd(&group)).await;
    let ns = t.namespace().await;
    let item = format!("/apis/{group}/v1/namespaces/{ns}/widgets/w");

    // Apply to a missing object creates it: 201.
    let a1 = widget(
        &group,
        "w",
        json!({"color": "red", "size": 2, "items": [{"name": "x", "value": "1"}]}),
    );
    let (code, o) = t
        .patch(&format!("{item}?fieldManager=alice"), APPLY, a1)
        .await;
    assert_eq!(code, 201, "{o}");
    let b1 = widget(&group, "w", json!({"items": [{"name": "y", "value": "2"}]}));
    let (code, o) = t
        .patch(&format!("{item}?fieldManager=bob"), APPLY, b1)
        .await;
    assert_eq!(code, 200, "{o}");
    // listType=map merges by key: both managers' items survive.
    let names: Vec<&str> = o["spec"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "y"], "{o}");
    let m = managers(&o);
    assert!(
        m.contains(&("alice".into(), "Apply".into()))
            && m.contains(&("bob".into(), "Apply".into())),
        "{m:?}"
    );
    let alice = o["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manager"] == "alice")
        .unwrap();
    assert_eq!(alice["fieldsType"], "FieldsV1");
    assert!(
        alice["fieldsV1"]["f:spec"]["f:items"]
            .get("k:{\"name\":\"x\"}")
            .is_some(),
        "{alice}"
    );

    // Alice drops `color` and her item: both go (nobody else owns them); bob's item stays.
    let a2 = widget(&group, "w", json!({"size": 2}));
    let (code, o) = t
        .patch(&format!("{item}?fieldManager=alice"), APPLY, a2)
        .await;
    assert_eq!(code, 200, "{o}");
    assert!(
        o["spec"].get("color").is_none(),
        "dropped field removed: {o}"
    );
    let names: Vec<&str> = o["spec"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["y"]);
    assert_eq!(o["spec"]["size"], 2);
    t.shutdown().await;
}

#[tokio::test]
async fn apply_conflicts_and_force() {
    let t = Target::new().await;
    let group = widget_group();
    t.install_crd(widget_crd(&group)).await;
    let ns = t.namespace().await;
    let item = format!("/apis/{group}/v1/namespaces/{ns}/widgets/w");
    t.patch(
        &format!("{item}?fieldManager=alice"),
        APPLY,
        widget(&group, "w", json!({"size": 1})),
    )
    .await;

    // Same value: shared ownership, no conflict.
    let (code, o) = t
        .patch(
            &format!("{item}?fieldManager=bob"),
            APPLY,
            widget(&group, "w", json!({"size": 1})),
        )
        .await;
    assert_eq!(code, 200, "{o}");
    let (code, body) = t
        .patch(
            &format!("{item}?fieldManager=carol"),
            APPLY,
            widget(&group, "w", json!({"size": 3})),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_status(&body, 409, "Conflict");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Apply failed with 2 conflicts: conflicts with "),
        "{msg}"
    );
    let causes = body["details"]["causes"].as_array().unwrap();
    assert!(
        causes
            .iter()
            .all(|c| c["reason"] == "FieldManagerConflict" && c["field"] == ".spec.size"),
        "{body}"
    );

    let (code, o) = t
        .patch(
            &format!("{item}?fieldManager=carol&force=true"),
            APPLY,
            widget(&group, "w", json!({"size": 3})),
        )
        .await;
    assert_eq!(code, 200, "{o}");
    assert_eq!(o["spec"]["size"], 3);
    // Forced: alice and bob lost `.spec.size`; their apply entries no longer own it.
    for m in o["metadata"]["managedFields"].as_array().unwrap() {
        if m["manager"] == "alice" || m["manager"] == "bob" {
            assert!(m["fieldsV1"]["f:spec"].get("f:size").is_none(), "{m}");
        }
    }
    // An Update (merge patch) never conflicts but takes ownership; carol's next apply conflicts.
    t.patch(
        &format!("{item}?fieldManager=dave"),
        "application/merge-patch+json",
        json!({"spec": {"size": 4}}),
    )
    .await;
    let (code, body) = t
        .patch(
            &format!("{item}?fieldManager=carol"),
            APPLY,
            widget(&group, "w", json!({"size": 5})),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"dave\""),
        "{body}"
    );

    // Apply validation: apiVersion must match the endpoint (400), managedFields forbidden (400).
    let mut wrong = widget(&group, "w", json!({}));
    wrong["apiVersion"] = json!("other.example/v1");
    assert_eq!(
        t.patch(&format!("{item}?fieldManager=x"), APPLY, wrong)
            .await
            .0,
        400
    );
    let mut mf = widget(&group, "w", json!({}));
    mf["metadata"]["managedFields"] = json!([{"manager": "x"}]);
    assert_eq!(
        t.patch(&format!("{item}?fieldManager=x"), APPLY, mf)
            .await
            .0,
        400
    );
    t.shutdown().await;
}

#[tokio::test]
async fn apply_secret_data_and_status_subresource() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let item = format!("/api/v1/namespaces/{ns}/secrets/s");
    let s = |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data});
    let (code, o) = t
        .patch(
            &format!("{item}?fieldManager=op"),
            APPLY,
            s(json!({"a": "YQ==", "b": "Yg=="})),
        )
        .await;
    assert_eq!(code, 201, "{o}");
    let (_, o) = t
        .patch(
            &format!("{item}?fieldManager=op"),
            APPLY,
            s(json!({"a": "YQ=="})),
        )
        .await;
    assert_eq!(
        o["data"],
        json!({"a": "YQ=="}),
        "a key dropped from the apply is removed (docs/kubernetes-api.md §7.5)"
    );

    let group = widget_group();
    t.install_crd(widget_crd(&group)).await;
    let w = format!("/apis/{group}/v1/namespaces/{ns}/widgets/w");
    // docs/kubernetes-api.md §4.1: apply to /status of a missing object is 404.
    let st = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    assert_eq!(
        t.patch(
            &format!("{w}/status?fieldManager=op&force=true"),
            APPLY,
            st.clone()
        )
        .await
        .0,
        404
    );
    t.patch(
        &format!("{w}?fieldManager=op"),
        APPLY,
        widget(&group, "w", json!({"size": 1})),
    )
    .await;
    let (code, o) = t
        .patch(&format!("{w}/status?fieldManager=op&force=true"), APPLY, st)
        .await;
    assert_eq!(code, 200, "{o}");
    assert_eq!(o["status"]["conditions"][0]["type"], "Ready");
    let entry = o["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subresource"] == "status")
        .expect("a status entry");
    assert_eq!(entry["manager"], "op");
    t.shutdown().await;
}

#[tokio::test]
async fn strategic_merge_patch_for_builtins() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    t.json(
        http::Method::POST,
        &coll,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "finalizers": ["a.example/x"]}, "data": {"a": "1", "b": "2"}}),
    )
    .await;
    // Maps merge per key; null deletes; `finalizers` merges as a set (patchStrategy=merge).
    let (code, o) = t
        .patch(
            &format!("{coll}/c"),
            SMP,
            json!({"metadata": {"finalizers": ["b.example/y"]}, "data": {"b": null, "c": "3"}}),
        )
        .await;
    assert_eq!(code, 200, "{o}");
    assert_eq!(o["data"], json!({"a": "1", "c": "3"}));
    // Go's mergeSortedSlice puts patch items before server-only items it cannot order.
    assert_eq!(
        o["metadata"]["finalizers"],
        json!(["b.example/y", "a.example/x"])
    );
    t.patch(&format!("{coll}/c"), SMP, json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x", "b.example/y"]}})).await;

    // Deployment containers merge by name (patchMergeKey=name).
    let deps = format!("/apis/apps/v1/namespaces/{ns}/deployments");
    let (code, d) = t
        .json(
            http::Method::POST,
            &deps,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [
            {"name": "main", "image": "main:1"}, {"name": "side", "image": "side:1"}]}}}}),
        )
        .await;
    assert_eq!(code, 201, "{d}");
    let (code, d) = t
        .patch(&format!("{deps}/d"), SMP, json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "side:2"}]}}}}))
        .await;
    assert_eq!(code, 200, "{d}");
    let cs = &d["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs[0]["image"], "main:1", "{d}");
    assert_eq!(cs[1]["image"], "side:2");

    // SMP is refused for custom resources (415).
    let group = widget_group();
    t.install_crd(widget_crd(&group)).await;
    let wc = format!("/apis/{group}/v1/namespaces/{ns}/widgets");
    t.json(http::Method::POST, &wc, widget(&group, "w", json!({})))
        .await;
    assert_eq!(
        t.patch(&format!("{wc}/w"), SMP, json!({"spec": {"size": 2}}))
            .await
            .0,
        415
    );
    t.shutdown().await;
}
