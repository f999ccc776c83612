//! Core request semantics: no-op writes, optimistic concurrency, Status bodies, system
//! metadata, pagination, selectors, dryRun (docs/kubernetes-api.md §2.1–§2.3, §2.9, §2.10).

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, assert_status};

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

fn rv(o: &Value) -> String {
    o["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string()
}

#[tokio::test]
async fn noop_writes_change_nothing_and_emit_nothing() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let item = format!("{coll}/c");
    let (code, created) = t
        .json(Method::POST, &coll, cm("c", json!({"a": "1"})))
        .await;
    assert_eq!(code, 201, "{created}");
    let rv1 = rv(&created);
    let mut w = t
        .watch(&format!("{coll}?watch=true&resourceVersion={rv1}"), None)
        .await;

    // docs/kubernetes-api.md §2.1: identical PUT and merge patch leave the RV alone.
    let (code, put) = t.json(Method::PUT, &item, created.clone()).await;
    assert_eq!(code, 200, "{put}");
    assert_eq!(rv(&put), rv1, "identical PUT must not bump the RV");
    let (code, p) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"data": {"a": "1"}}),
        )
        .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(rv(&p), rv1, "no-op merge patch must not bump the RV");

    // The first apply adds a managedFields entry (a real change); the identical re-apply does not.
    let apply = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    let (code, a1) = t
        .patch(
            &format!("{item}?fieldManager=conf"),
            "application/apply-patch+yaml",
            apply.clone(),
        )
        .await;
    assert_eq!(code, 200, "{a1}");
    let rv2 = rv(&a1);
    let (code, a2) = t
        .patch(
            &format!("{item}?fieldManager=conf"),
            "application/apply-patch+yaml",
            apply,
        )
        .await;
    assert_eq!(code, 200, "{a2}");
    assert_eq!(rv(&a2), rv2, "identical re-apply must not bump the RV");
    assert_eq!(
        a1["metadata"]["managedFields"], a2["metadata"]["managedFields"],
        "managedFields time must not move"
    );

    let (_, changed) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"data": {"a": "2"}}),
        )
        .await;
    let rv3 = rv(&changed);
    assert_ne!(rv3, rv2);

    // The watch saw exactly the two real changes, in order: nothing for the no-ops.
    let e1 = w.next_change().await;
    assert_eq!(
        (e1["type"].as_str(), rv(&e1["object"])),
        (Some("MODIFIED"), rv2.clone()),
        "{e1}"
    );
    let e2 = w.next_change().await;
    assert_eq!(
        (e2["type"].as_str(), rv(&e2["object"])),
        (Some("MODIFIED"), rv3),
        "{e2}"
    );
    assert_eq!(e2["object"]["data"]["a"], "2");

    if let Some(url) = t.emulator_url() {
        let (_, stats) = t.get("/__emulator/stats").await;
        assert!(
            stats["writes"]["noop"].as_u64().unwrap() >= 3,
            "{url}: {stats}"
        );
    }
    t.shutdown().await;
}

#[tokio::test]
async fn optimistic_concurrency_and_preconditions() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let item = format!("{coll}/c");
    let (_, created) = t
        .json(Method::POST, &coll, cm("c", json!({"a": "1"})))
        .await;
    let (_, _) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"data": {"a": "2"}}),
        )
        .await;

    // A PUT carrying the old RV loses (docs/kubernetes-api.md §2.2 Conflict).
    let mut stale = created.clone();
    stale["data"]["a"] = json!("3");
    let (code, body) = t.json(Method::PUT, &item, stale).await;
    assert_eq!(code, 409, "{body}");
    assert_status(&body, 409, "Conflict");
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(body["details"]["name"], "c");
    assert_eq!(body["details"]["kind"], "configmaps");

    // Built-ins allow unconditional updates (no RV in the body).
    let mut unconditional = cm("c", json!({"a": "4"}));
    unconditional["metadata"]["namespace"] = json!(ns);
    let (code, body) = t.json(Method::PUT, &item, unconditional).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["a"], "4");

    // A merge patch that carries a stale RV is a precondition, too.
    let (code, body) = t
        .patch(
            &item,
            "application/merge-patch+json",
            json!({"metadata": {"resourceVersion": rv(&created)}, "data": {"a": "5"}}),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_status(&body, 409, "Conflict");

    // DELETE with a failing uid precondition.
    let (code, body) = t
        .json(
            Method::DELETE,
            &item,
            json!({"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    assert_status(&body, 409, "Conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation cannot be fulfilled on configmaps \"c\": Precondition failed: UID in precondition"),
        "{body}"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn status_bodies_carry_exact_reasons() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");

    let (code, body) = t.get(&format!("{coll}/nope")).await;
    assert_eq!(code, 404);
    assert_status(&body, 404, "NotFound");
    assert_eq!(body["message"], "configmaps \"nope\" not found");
    assert_eq!(
        body["details"],
        json!({"name": "nope", "kind": "configmaps"})
    );

    t.json(Method::POST, &coll, cm("dup", json!({}))).await;
    let (code, body) = t.json(Method::POST, &coll, cm("dup", json!({}))).await;
    assert_eq!(code, 409);
    assert_status(&body, 409, "AlreadyExists");
    assert_eq!(body["message"], "configmaps \"dup\" already exists");

    let (code, body) = t
        .json(
            Method::POST,
            "/api/v1/namespaces/does-not-exist-xyz/configmaps",
            cm("x", json!({})),
        )
        .await;
    assert_eq!(code, 404, "{body}");
    assert_status(&body, 404, "NotFound");
    assert_eq!(
        body["message"],
        "namespaces \"does-not-exist-xyz\" not found"
    );

    let (code, body) = t.json(Method::POST, &coll, cm("Bad_Name", json!({}))).await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");
    assert_eq!(body["details"]["kind"], "ConfigMap");
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");

    let (code, body) = t
        .json(Method::PUT, &format!("{coll}/dup"), cm("other", json!({})))
        .await;
    assert_eq!(code, 400, "{body}");
    assert_status(&body, 400, "BadRequest");
    assert_eq!(
        body["message"],
        "the name of the object (other) does not match the name on the URL (dup)"
    );

    let (code, _, bytes) = t
        .raw(
            Method::PATCH,
            &format!("{coll}/dup"),
            Some("application/x-unknown"),
            None,
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(code, 415);
    assert_status(&crate::common::parse(&bytes), 415, "UnsupportedMediaType");

    // PatchOptions validation (docs/kubernetes-api.md §2.2): apply needs a fieldManager, force is
    // apply-only.
    let (code, body) = t
        .patch(
            &format!("{coll}/dup"),
            "application/apply-patch+yaml",
            cm("dup", json!({})),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");
    assert_eq!(body["details"]["kind"], "PatchOptions");
    assert_eq!(body["details"]["group"], "meta.k8s.io");
    let (code, body) = t
        .patch(
            &format!("{coll}/dup?force=true"),
            "application/merge-patch+json",
            json!({}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_status(&body, 422, "Invalid");

    let (code, body) = t.get(&format!("{coll}?fieldSelector=spec.foo%3Dbar")).await;
    assert_eq!(code, 400, "{body}");
    assert_status(&body, 400, "BadRequest");
    assert_eq!(body["message"], "field label not supported: spec.foo");
    t.shutdown().await;
}

#[tokio::test]
async fn system_metadata_is_server_owned() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let mut body = cm("", json!({}));
    body["metadata"] = json!({"generateName": "gen-", "uid": "11111111-1111-1111-1111-111111111111",
        "creationTimestamp": "2000-01-01T00:00:00Z", "resourceVersion": "", "finalizers": []});
    let (code, o) = t.json(Method::POST, &coll, body).await;
    assert_eq!(code, 201, "{o}");
    let name = o["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert!(
        name[4..]
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
        "{name}"
    );
    assert_ne!(o["metadata"]["uid"], "11111111-1111-1111-1111-111111111111");
    assert_ne!(o["metadata"]["creationTimestamp"], "2000-01-01T00:00:00Z");
    let ts = o["metadata"]["creationTimestamp"].as_str().unwrap();
    assert!(
        ts.ends_with('Z') && !ts.contains('.'),
        "second precision: {ts}"
    );
    assert_eq!(o["metadata"]["namespace"], ns.as_str());
    assert!(
        o["metadata"].get("finalizers").is_none(),
        "empty finalizers are not stored: {o}"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn pagination_is_snapshot_consistent() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    for i in 0..7 {
        let (code, _) = t
            .json(Method::POST, &coll, cm(&format!("p{i}"), json!({})))
            .await;
        assert_eq!(code, 201);
    }
    let (code, page1) = t.get(&format!("{coll}?limit=3")).await;
    assert_eq!(code, 200, "{page1}");
    assert_eq!(page1["items"].as_array().unwrap().len(), 3);
    assert_eq!(page1["metadata"]["remainingItemCount"], 4);
    let snapshot = rv(&page1);
    // A write between pages must not show up in later pages (same snapshot).
    t.json(Method::POST, &coll, cm("p3a", json!({}))).await;
    let mut names: Vec<String> = Vec::new();
    let mut page = page1;
    loop {
        assert_eq!(
            rv(&page),
            snapshot,
            "every page repeats the first page's RV"
        );
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap().to_string()),
        );
        let cont = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if cont.is_empty() {
            break;
        }
        let (code, next) = t.get(&format!("{coll}?limit=3&continue={cont}")).await;
        assert_eq!(code, 200, "{next}");
        page = next;
    }
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    let (_, all) = t.get(&coll).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 8);
    // docs/kubernetes-api.md §2.1 RV validation: resourceVersionMatch without resourceVersion is
    // invalid.
    let (code, body) = t
        .get(&format!("{coll}?resourceVersionMatch=NotOlderThan"))
        .await;
    assert_eq!(code, 422, "{body}");
    t.shutdown().await;
}

#[tokio::test]
async fn label_and_field_selectors() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    for (name, labels) in [
        ("a", json!({"env": "prod", "tier": "web"})),
        ("b", json!({"env": "dev"})),
        ("c", json!({"env": "sandbox", "tier": "db"})),
        ("d", json!({})),
    ] {
        let mut o = cm(name, json!({}));
        o["metadata"]["labels"] = labels;
        t.json(Method::POST, &coll, o).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    for (sel, want) in [
        ("env%3Dprod", vec!["a"]),
        ("env%3D%3Dprod", vec!["a"]),
        ("env!%3Dprod", vec!["b", "c", "d"]),
        ("env%20in%20(dev,sandbox)", vec!["b", "c"]),
        ("env%20notin%20(dev,sandbox)", vec!["a", "d"]),
        ("tier", vec!["a", "c"]),
        ("!tier", vec!["b", "d"]),
        ("env,tier%3Ddb", vec!["c"]),
    ] {
        let (code, l) = t.get(&format!("{coll}?labelSelector={sel}")).await;
        assert_eq!(code, 200, "{sel}: {l}");
        assert_eq!(names(&l), want, "labelSelector={sel}");
    }
    let (_, l) = t
        .get(&format!("{coll}?fieldSelector=metadata.name%3Db"))
        .await;
    assert_eq!(names(&l), ["b"]);
    let (_, l) = t
        .get(&format!(
            "{coll}?fieldSelector=metadata.name!%3Db,metadata.namespace%3D{ns}"
        ))
        .await;
    assert_eq!(names(&l), ["a", "c", "d"]);
    // Secrets support `type` (docs/kubernetes-api.md §2.9).
    let secrets = format!("/api/v1/namespaces/{ns}/secrets");
    t.json(Method::POST, &secrets, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "example.com/x"})).await;
    let (code, l) = t
        .get(&format!("{secrets}?fieldSelector=type%3Dexample.com/x"))
        .await;
    assert_eq!(code, 200, "{l}");
    assert_eq!(names(&l), ["s"]);
    t.shutdown().await;
}

#[tokio::test]
async fn dry_run_persists_nothing() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let (code, o) = t
        .json(
            Method::POST,
            &format!("{coll}?dryRun=All"),
            cm("d", json!({"a": "1"})),
        )
        .await;
    assert_eq!(code, 201, "{o}");
    assert_eq!(o["data"]["a"], "1");
    assert_eq!(t.get(&format!("{coll}/d")).await.0, 404);

    let (_, real) = t
        .json(Method::POST, &coll, cm("d", json!({"a": "1"})))
        .await;
    let (code, p) = t
        .patch(
            &format!("{coll}/d?dryRun=All"),
            "application/merge-patch+json",
            json!({"data": {"a": "2"}}),
        )
        .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["data"]["a"], "2");
    let (_, now) = t.get(&format!("{coll}/d")).await;
    assert_eq!(now["data"]["a"], "1");
    assert_eq!(rv(&now), rv(&real));
    let (code, _) = t
        .json(Method::DELETE, &format!("{coll}/d?dryRun=All"), json!({}))
        .await;
    assert_eq!(code, 200);
    assert_eq!(t.get(&format!("{coll}/d")).await.0, 200);
    t.shutdown().await;
}

#[tokio::test]
async fn builtin_unknown_fields_are_dropped_or_strict_400() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let mut body = cm("u", json!({"a": "1"}));
    body["dta"] = json!({"typo": "x"});
    // Built-ins decode into Go structs: unknown fields vanish by default…
    let (code, o) = t.json(Method::POST, &coll, body.clone()).await;
    assert_eq!(code, 201, "{o}");
    assert!(o.get("dta").is_none(), "{o}");
    // …and are a 400 under fieldValidation=Strict (kubectl's default).
    body["metadata"]["name"] = json!("u2");
    let (code, e) = t
        .json(
            Method::POST,
            &format!("{coll}?fieldValidation=Strict"),
            body,
        )
        .await;
    assert_eq!(code, 400, "{e}");
    assert_status(&e, 400, "BadRequest");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"dta\""),
        "{e}"
    );
    t.shutdown().await;
}
