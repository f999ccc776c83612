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

#[test]
fn atomic_structs_are_owned_and_replaced_whole() {
    let ti = TypeInfo::from_crd_schema(
        &json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "sel": {"type": "object", "x-kubernetes-map-type": "atomic",
                    "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}}}}}),
        false,
    );
    let obj = apply(
        None,
        &w(json!({"sel": {"a": "1", "b": "2"}})),
        "m1",
        false,
        None,
        &ti,
        T0,
    )
    .unwrap();
    assert_eq!(mf(&obj)[0]["fieldsV1"], json!({"f:spec": {"f:sel": {}}}));
    let err = apply(
        Some(&obj),
        &w(json!({"sel": {"a": "1"}})),
        "m2",
        false,
        None,
        &ti,
        T1,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"m1\": .spec.sel"
    );
    let forced = apply(
        Some(&obj),
        &w(json!({"sel": {"a": "1"}})),
        "m2",
        true,
        None,
        &ti,
        T1,
    )
    .unwrap();
    assert_eq!(
        forced["spec"]["sel"],
        json!({"a": "1"}),
        "replaced, not merged"
    );
}
