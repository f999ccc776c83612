//! Server-side apply on built-in kinds, Update entries, and request validation.

use super::*;
use serde_json::json;

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-01T00:01:00Z";

fn mf(obj: &Value) -> &Vec<Value> {
    obj["metadata"]["managedFields"].as_array().unwrap()
}

fn w(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec})
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
