use super::*;
use crate::patch::strategy_for;
use serde_json::json;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"a": "1", "b": "2"}, "finalizers": ["x"],
                     "ownerReferences": [{"uid": "u1", "name": "o1"}]},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {
                "containers": [
                    {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}],
                     "ports": [{"containerPort": 80}], "args": ["--x"]},
                    {"name": "side", "image": "side:1"}
                ],
                "tolerations": [{"key": "t1"}]
            }}
        }
    })
}

fn apply(patch: Value) -> Result<Value, PatchError> {
    let mut doc = deployment();
    strategic_merge_patch(&mut doc, &patch, &strategy_for("apps", "Deployment"))?;
    Ok(doc)
}

#[test]
fn merge_semantics_table() {
    // (name, patch, pointer into result, expected value there)
    let cases: Vec<(&str, Value, &str, Value)> = vec![
        (
            "map merge keeps other labels",
            json!({"metadata": {"labels": {"c": "3"}}}),
            "/metadata/labels",
            json!({"a": "1", "b": "2", "c": "3"}),
        ),
        (
            "null deletes a label",
            json!({"metadata": {"labels": {"a": null}}}),
            "/metadata/labels",
            json!({"b": "2"}),
        ),
        (
            "finalizers merge as a set",
            json!({"metadata": {"finalizers": ["y", "x"]}}),
            "/metadata/finalizers",
            json!(["y", "x"]),
        ),
        (
            "ownerReferences merge by uid",
            json!({"metadata": {"ownerReferences": [{"uid": "u1", "controller": true}, {"uid": "u2"}]}}),
            "/metadata/ownerReferences",
            json!([{"uid": "u1", "name": "o1", "controller": true}, {"uid": "u2"}]),
        ),
        (
            "containers merge by name",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "side:2"}]}}}}),
            "/spec/template/spec/containers/1",
            json!({"name": "side", "image": "side:2"}),
        ),
        (
            "new container appended",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "n"}]}}}}),
            // normalizeElementOrder: patch items not in the live list go first
            // (as in the kubernetes.io "kubectl patch" walkthrough).
            "/spec/template/spec/containers/0",
            json!({"name": "new", "image": "n"}),
        ),
        (
            "env merges by name inside a container",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}}),
            "/spec/template/spec/containers/0/env",
            json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]),
        ),
        (
            "ports merge by containerPort",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80, "name": "http"}]}]}}}}),
            "/spec/template/spec/containers/0/ports",
            json!([{"containerPort": 80, "name": "http"}]),
        ),
        (
            "untagged list replaces (args)",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--y"]}]}}}}),
            "/spec/template/spec/containers/0/args",
            json!(["--y"]),
        ),
        (
            "untagged list replaces (tolerations)",
            json!({"spec": {"template": {"spec": {"tolerations": [{"key": "t2"}]}}}}),
            "/spec/template/spec/tolerations",
            json!([{"key": "t2"}]),
        ),
        (
            "$patch: delete removes a keyed item",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}),
            "/spec/template/spec/containers",
            json!([deployment()["spec"]["template"]["spec"]["containers"][0].clone()]),
        ),
        (
            "$patch: replace on a list",
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only"}]}}}}),
            "/spec/template/spec/containers",
            json!([{"name": "only"}]),
        ),
        (
            "$patch: replace on a map",
            json!({"metadata": {"labels": {"$patch": "replace", "z": "9"}}}),
            "/metadata/labels",
            json!({"z": "9"}),
        ),
        (
            "$patch: delete on a map empties it (Go returns an empty map)",
            json!({"spec": {"strategy": {"$patch": "delete"}}}),
            "/spec/strategy",
            json!({}),
        ),
        (
            "$retainKeys drops other keys (strategy type switch)",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            "/spec/strategy",
            json!({"type": "Recreate"}),
        ),
        (
            "$deleteFromPrimitiveList",
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
            "/metadata",
            json!({"name": "d", "labels": {"a": "1", "b": "2"},
                                "ownerReferences": [{"uid": "u1", "name": "o1"}]}),
        ),
        (
            "$setElementOrder reorders containers",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                "containers": [{"name": "side", "image": "side:3"}]}}}}),
            "/spec/template/spec/containers/0",
            json!({"name": "side", "image": "side:3"}),
        ),
        (
            "nulls inside a new value are dropped",
            json!({"spec": {"paused": null, "minReadySeconds": 5, "selector": {"matchLabels": {"k": "v", "z": null}}}}),
            "/spec/selector",
            json!({"matchLabels": {"k": "v"}}),
        ),
    ];
    for (name, patch, pointer, want) in cases {
        let doc = apply(patch).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(doc.pointer(pointer), Some(&want), "{name}: {doc:#}");
    }
}

#[test]
fn unchanged_patch_keeps_bytes_identical() {
    let doc = apply(json!({"spec": {"replicas": 1}, "metadata": {"labels": {"a": "1"}}})).unwrap();
    assert_eq!(doc.to_string(), deployment().to_string());
}

#[test]
fn errors_table() {
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            500,
            "map: map[image:x] does not contain declared merge key: name",
        ),
        (
            json!({"metadata": {"labels": {"$patch": "explode"}}}),
            500,
            "unknown patch type: explode in map: map[$patch:explode]",
        ),
        (
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
            422,
            "patch content doesn't match retainKeys list",
        ),
    ];
    for (patch, code, msg) in cases {
        let err = apply(patch).unwrap_err();
        assert_eq!((err.code(), err.to_string().as_str()), (code, msg));
    }
    let mut doc = deployment();
    let err = strategic_merge_patch(&mut doc, &json!([1]), &PatchStrategy::new()).unwrap_err();
    assert_eq!(err.code(), 400);
    let err = apply(json!({"metadata": {"labels": {"$patch": "explode"}}})).unwrap_err();
    assert_eq!(err.status()["reason"], "Unknown");
    let err = apply(json!({"spec": {"strategy": {"$retainKeys": ["type"], "x": 1}}})).unwrap_err();
    assert_eq!(
        err.status()["details"]["causes"][0]["reason"],
        "UnexpectedServerResponse"
    );
}

#[test]
fn secret_and_configmap_data_merge_per_key() {
    let mut secret =
        json!({"kind": "Secret", "data": {"a": "YQ==", "b": "Yg=="}, "type": "Opaque"});
    strategic_merge_patch(
        &mut secret,
        &json!({"data": {"b": null, "c": "Yw=="}}),
        &strategy_for("", "Secret"),
    )
    .unwrap();
    assert_eq!(
        secret,
        json!({"kind": "Secret", "data": {"a": "YQ==", "c": "Yw=="}, "type": "Opaque"})
    );

    let mut svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
    strategic_merge_patch(
        &mut svc,
        &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        &strategy_for("", "Service"),
    )
    .unwrap();
    assert_eq!(
        svc,
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}})
    );

    let mut role = json!({"rules": [{"verbs": ["get"]}]});
    strategic_merge_patch(
        &mut role,
        &json!({"rules": [{"verbs": ["list"]}]}),
        &strategy_for("rbac.authorization.k8s.io", "Role"),
    )
    .unwrap();
    assert_eq!(role, json!({"rules": [{"verbs": ["list"]}]}));
}

#[test]
fn element_order_table() {
    // (live finalizers, patch, expected) — Go's normalizeElementOrder
    let cases = vec![
        (
            json!(["a"]),
            json!({"metadata": {"finalizers": ["b"]}}),
            json!(["b", "a"]),
        ),
        (
            json!(["a", "b", "c"]),
            json!({"metadata": {"finalizers": ["b", "d"]}}),
            json!(["a", "b", "d", "c"]),
        ),
        (
            json!(["a", "b"]),
            json!({"metadata": {"$setElementOrder/finalizers": ["b", "a"], "finalizers": ["b"]}}),
            json!(["b", "a"]),
        ),
        (
            json!(["a", "b", "c"]),
            json!({"metadata": {"$setElementOrder/finalizers": ["c", "a"], "finalizers": ["c"]}}),
            json!(["b", "c", "a"]),
        ),
    ];
    for (live, patch, want) in cases {
        let mut doc = json!({"metadata": {"finalizers": live.clone()}});
        strategic_merge_patch(&mut doc, &patch, &strategy_for("", "ConfigMap")).unwrap();
        assert_eq!(doc["metadata"]["finalizers"], want, "{live} + {patch}");
    }
}
