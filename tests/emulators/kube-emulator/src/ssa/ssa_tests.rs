use super::*;
use serde_json::json;

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T00:01:00Z";

fn widget_ti() -> TypeInfo {
    TypeInfo::from_crd_schema(
        &json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "size": {"type": "integer"}, "mode": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "extra": {"type": "object", "additionalProperties": {"type": "string"}}
            }},
            "status": {"type": "object", "properties": {
                "ready": {"type": "boolean"},
                "conditions": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
                    "items": {"type": "object", "properties": {"type": {"type": "string"}, "status": {"type": "string"}}}}
            }}
        }}),
        true,
    )
}

fn w(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec})
}

fn mf(obj: &Value) -> &Vec<Value> {
    obj["metadata"]["managedFields"].as_array().unwrap()
}

#[test]
fn create_records_apply_entry() {
    let ti = widget_ti();
    let obj = apply(
        None,
        &w(json!({"size": 1, "tags": ["a"]})),
        "ctl",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    assert_eq!(obj["spec"], json!({"size": 1, "tags": ["a"]}));
    assert_eq!(
        mf(&obj),
        &vec![
            json!({"manager": "ctl", "operation": "Apply", "apiVersion": "example.com/v1", "time": T0,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:size": {}, "f:tags": {"v:\"a\"": {}}}}})
        ]
    );
}

#[test]
fn identical_reapply_is_byte_identical() {
    let ti = widget_ti();
    let cfg = w(json!({"size": 1, "args": ["x"], "extra": {"k": "v"}}));
    let first = apply(None, &cfg, "ctl", false, None, &ti, T0).unwrap();
    let again = apply(Some(&first), &cfg, "ctl", false, None, &ti, T1).unwrap();
    assert_eq!(again.to_string(), first.to_string());
}

#[test]
fn dropped_fields_are_removed_unless_someone_else_owns_them() {
    let ti = widget_ti();
    let obj = apply(
        None,
        &w(json!({"size": 1, "mode": "m", "extra": {"a": "1", "b": "2"}})),
        "a",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    // b shares `mode` with the same value: shared ownership, no conflict.
    let obj = apply(
        Some(&obj),
        &w(json!({"mode": "m"})),
        "b",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    let obj = apply(
        Some(&obj),
        &w(json!({"extra": {"a": "1"}})),
        "a",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(obj["spec"], json!({"mode": "m", "extra": {"a": "1"}}));
    let a = mf(&obj).iter().find(|e| e["manager"] == "a").unwrap();
    assert_eq!(a["time"], T1);
    assert_eq!(a["fieldsV1"], json!({"f:spec": {"f:extra": {"f:a": {}}}}));
}

#[test]
fn conflicts_and_force() {
    let ti = widget_ti();
    let obj = apply(
        None,
        &w(json!({"size": 1, "mode": "x"})),
        "kubectl",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    let err = apply(
        Some(&obj),
        &w(json!({"size": 2})),
        "ctl",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap_err();
    assert_eq!(err.code(), 409);
    assert_eq!(
        err.status(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.size",
            "reason": "Conflict",
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl\"", "field": ".spec.size"}]},
            "code": 409})
    );
    let err = apply(
        Some(&obj),
        &w(json!({"size": 2, "mode": "y"})),
        "ctl",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl\"\n- .spec.mode\n- .spec.size"
    );
    let forced = apply(
        Some(&obj),
        &w(json!({"size": 2})),
        "ctl",
        true,
        None,
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(forced["spec"], json!({"size": 2, "mode": "x"}));
    let entries = mf(&forced);
    assert_eq!(entries[0]["fieldsV1"], json!({"f:spec": {"f:mode": {}}}));
    assert_eq!(entries[1]["manager"], "ctl");
    assert_eq!(entries[1]["fieldsV1"], json!({"f:spec": {"f:size": {}}}));
}

#[test]
fn update_manager_conflict_message_names_version_and_time() {
    let ti = widget_ti();
    let old = apply(None, &w(json!({"size": 1})), "ctl", false, None, &ti, T0).unwrap();
    let mut edited = old.clone();
    edited["spec"]["size"] = json!(5);
    update_managed_fields(Some(&old), &mut edited, "kubectl-edit", None, &ti, T1);
    let entries = mf(&edited);
    assert_eq!(entries.len(), 1, "ctl lost its only field: {entries:?}");
    assert_eq!(entries[0]["operation"], "Update");
    let err = apply(
        Some(&edited),
        &w(json!({"size": 2})),
        "ctl",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using example.com/v1 at {T1}: .spec.size"
        )
    );
}

#[test]
fn list_map_items_are_owned_per_key_and_status_is_separate() {
    let ti = widget_ti();
    let base = apply(None, &w(json!({"size": 1})), "ctl", false, None, &ti, T0).unwrap();
    let st = |conds: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 9}, "status": {"conditions": conds}});
    let obj = apply(
        Some(&base),
        &st(json!([{"type": "Ready", "status": "True"}])),
        "a",
        true,
        Some("status"),
        &ti,
        T0,
    )
    .unwrap();
    assert_eq!(obj["spec"]["size"], 1, "spec is reset on /status");
    let obj = apply(
        Some(&obj),
        &st(json!([{"type": "Synced", "status": "False"}])),
        "b",
        false,
        Some("status"),
        &ti,
        T0,
    )
    .unwrap();
    assert_eq!(obj["status"]["conditions"].as_array().unwrap().len(), 2);
    let obj = apply(
        Some(&obj),
        &st(json!([])),
        "a",
        false,
        Some("status"),
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(
        obj["status"]["conditions"],
        json!([{"type": "Synced", "status": "False"}])
    );
    let a = mf(&obj).iter().find(|e| e["manager"] == "b").unwrap();
    assert_eq!(a["subresource"], "status");
    assert_eq!(
        a["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"Synced\"}": {".": {}, "f:status": {}, "f:type": {}}}}})
    );
    // status sent to the main resource is ignored and not owned
    let main = apply(
        Some(&obj),
        &st(json!([{"type": "X"}])),
        "ctl",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(main["status"], obj["status"]);
    assert_eq!(main["spec"]["size"], 9);
}

#[test]
fn update_on_create_marks_new_maps_with_dot() {
    let ti = TypeInfo::builtin("", "Secret");
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default", "labels": {"a": "b"}, "uid": "u", "resourceVersion": "1"},
        "data": {"k": "dg=="}, "type": "Opaque"});
    update_managed_fields(None, &mut secret, "kubectl-create", None, &ti, T0);
    assert_eq!(
        mf(&secret)[0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}, "f:type": {}})
    );
    // a no-op update keeps the time; a change moves the field and bumps it
    let before = secret.clone();
    let mut same = secret.clone();
    update_managed_fields(Some(&before), &mut same, "kubectl-create", None, &ti, T1);
    assert_eq!(same.to_string(), before.to_string());
    let mut changed = before.clone();
    changed["data"]["k2"] = json!("dw==");
    update_managed_fields(Some(&before), &mut changed, "", None, &ti, T1);
    let entries = mf(&changed);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["manager"], "");
    assert_eq!(entries[1]["fieldsV1"], json!({"f:data": {"f:k2": {}}}));
    assert_eq!(entries[1]["time"], T1);
}

#[test]
fn builtin_finalizers_and_owner_references_merge() {
    let ti = TypeInfo::builtin("", "Secret");
    let cfg = |fins: Value| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "finalizers": fins,
        "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u1"}]}})
    };
    let obj = apply(None, &cfg(json!(["a/x"])), "m1", false, None, &ti, T0).unwrap();
    let obj = apply(Some(&obj), &cfg(json!(["b/y"])), "m2", false, None, &ti, T0).unwrap();
    assert_eq!(obj["metadata"]["finalizers"], json!(["a/x", "b/y"]));
    assert_eq!(
        obj["metadata"]["ownerReferences"].as_array().unwrap().len(),
        1
    );
    let m1 = &mf(&obj)[0];
    assert_eq!(
        m1["fieldsV1"],
        json!({"f:metadata": {"f:finalizers": {"v:\"a/x\"": {}}, "f:ownerReferences": {"k:{\"uid\":\"u1\"}": {".": {}, "f:apiVersion": {}, "f:kind": {}, "f:name": {}, "f:uid": {}}}}})
    );
}

#[test]
fn request_validation_table() {
    let body = w(json!({}));
    assert!(validate_apply_body(&body, "example.com/v1", "w1").is_ok());
    let cases: Vec<(Value, &str, &str, u16, &str)> = vec![
        (
            body.clone(),
            "example.com/v2",
            "w1",
            400,
            "Incorrect version specified in apply patch. Specified patch version: example.com/v1, expected: example.com/v2",
        ),
        (
            body.clone(),
            "example.com/v1",
            "w2",
            400,
            "the name of the object (w1) does not match the name on the URL (w2)",
        ),
        (
            json!({"apiVersion": "example.com/v1", "metadata": {"name": "w1", "managedFields": [{}]}, "kind": "Widget"}),
            "example.com/v1",
            "w1",
            400,
            "metadata.managedFields must be nil",
        ),
        (
            json!({"apiVersion": "v1", "metadata": {"name": "w1"}}),
            "v1",
            "w1",
            400,
            "Object 'Kind' is missing in '{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"w1\"}}'",
        ),
    ];
    for (b, gv, name, code, msg) in cases {
        let e = validate_apply_body(&b, gv, name).unwrap_err();
        assert_eq!((e.code(), e.to_string().as_str()), (code, msg));
    }
    let e = validate_patch_options(true, None, Some(false)).unwrap_err();
    assert_eq!(e.code(), 422);
    assert_eq!(
        e.to_string(),
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(
        e.status()["details"],
        json!({"group": "meta.k8s.io", "kind": "PatchOptions",
        "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]})
    );
    let e = validate_patch_options(false, None, Some(true)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
    );
    assert!(validate_patch_options(true, Some("m"), Some(true)).is_ok());
    assert!(validate_patch_options(false, None, None).is_ok());
    assert_eq!(
        manager_name(None, Some("kubectl/v1.32.4 (linux/amd64)")),
        "kubectl"
    );
    assert_eq!(manager_name(Some("op"), Some("x/1")), "op");
    assert_eq!(manager_name(None, None), "");
}

#[test]
fn list_map_item_without_key_is_an_error() {
    let ti = widget_ti();
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "status": {"conditions": [{"status": "x"}]}});
    let e = apply(None, &cfg, "m", false, Some("status"), &ti, T0).unwrap_err();
    assert_eq!(e.code(), 500);
    assert_eq!(
        e.to_string(),
        "failed to create typed patch object (example.com/v1, Kind=Widget): .status.conditions: element 0: associative list with keys has an element that omits key field \"type\" (and doesn't have default value)"
    );
    assert_eq!(e.status()["reason"], "Unknown");
}

#[test]
fn set_merge_follows_smd_order() {
    let node = TypeNode {
        list: ListType::Set,
        ..TypeNode::default()
    };
    let cases = [
        (
            json!(["a", "b", "c"]),
            json!(["c", "a"]),
            json!(["b", "c", "a"]),
        ),
        (json!(["a"]), json!(["b"]), json!(["a", "b"])),
        (
            json!(["a", "b"]),
            json!(["b", "x", "a"]),
            json!(["b", "x", "a"]),
        ),
        (json!([]), json!(["x"]), json!(["x"])),
    ];
    for (live, applied, want) in cases {
        assert_eq!(
            merge(&live, &applied, &node).unwrap(),
            want,
            "{live} + {applied}"
        );
    }
}

#[test]
fn atomic_lists_are_owned_whole() {
    let ti = widget_ti();
    let obj = apply(
        None,
        &w(json!({"args": ["a", "b"]})),
        "m1",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    assert_eq!(mf(&obj)[0]["fieldsV1"], json!({"f:spec": {"f:args": {}}}));
    let err = apply(
        Some(&obj),
        &w(json!({"args": ["a"]})),
        "m2",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"m1\": .spec.args"
    );
}

#[test]
fn builtin_port_keys_include_defaulted_protocol() {
    let ti = TypeInfo::builtin("apps", "Deployment");
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "i",
            "ports": [{"containerPort": 53}, {"containerPort": 53, "protocol": "UDP"}]}]}}}});
    let obj = apply(None, &cfg, "helm", false, None, &ti, T0).unwrap();
    let ports = &mf(&obj)[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]
        ["f:ports"];
    let keys: Vec<&String> = ports.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "k:{\"containerPort\":53,\"protocol\":\"TCP\"}",
            "k:{\"containerPort\":53,\"protocol\":\"UDP\"}"
        ]
    );
    let svc = TypeInfo::builtin("", "Service");
    let cfg = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    let obj = apply(None, &cfg, "helm", false, None, &svc, T0).unwrap();
    assert_eq!(
        mf(&obj)[0]["fieldsV1"],
        json!({"f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}}})
    );
}

#[test]
fn emptied_objects_are_removed_with_their_last_field() {
    let ti = widget_ti();
    let first = apply(
        None,
        &w(json!({"size": 1, "extra": {"k": "v"}})),
        "ctl",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    let second = apply(
        Some(&first),
        &w(json!({"size": 1})),
        "ctl",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(
        second["spec"],
        json!({"size": 1}),
        "no `extra: {{}}` left behind"
    );
}
