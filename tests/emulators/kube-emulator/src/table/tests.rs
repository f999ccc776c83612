//! Unit tests of Table rendering.

use super::*;

fn rt(group: &str, kind: &str) -> ResourceType {
    ResourceType {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
        ..Default::default()
    }
}

fn now() -> jiff::Timestamp {
    "2026-01-01T01:00:00Z".parse().unwrap()
}

#[test]
fn include_object_parsing() {
    assert_eq!(IncludeObject::parse(None), Ok(IncludeObject::Metadata));
    assert!(IncludeObject::parse(Some("All")).is_err());
}

#[test]
fn human_durations() {
    for (s, want) in [
        (5, "5s"),
        (119, "119s"),
        (200, "3m20s"),
        (600, "10m"),
        (3600 * 5 + 60, "5h1m"),
        (3600 * 30, "30h"),
        (3600 * 24 * 3, "3d"),
        (3600 * 24 * 30, "30d"),
        (-5, "<invalid>"),
    ] {
        assert_eq!(human_duration(s), want, "{s}");
    }
}

#[test]
fn secret_and_configmap_rows() {
    let s = json!({"metadata": {"name": "s1", "creationTimestamp": "2026-01-01T00:59:00Z"},
                   "type": "kubernetes.io/tls", "data": {"a": "", "b": ""}});
    let tbl = table(
        &rt("", "Secret"),
        "meta.k8s.io/v1",
        &[s],
        json!({"resourceVersion": "7"}),
        IncludeObject::Metadata,
        now(),
    );
    assert_eq!(
        tbl["rows"][0]["cells"],
        json!(["s1", "kubernetes.io/tls", 2, "60s"])
    );
    assert_eq!(tbl["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(tbl["metadata"]["resourceVersion"], "7");
    let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": ""}});
    assert_eq!(cells(&rt("", "ConfigMap"), &cm, now())[1], json!(2));
    let ns = json!({"metadata": {"name": "n"}, "status": {"phase": "Active"}});
    assert_eq!(cells(&rt("", "Namespace"), &ns, now())[1], json!("Active"));
}

#[test]
fn printer_columns_and_defaults() {
    let mut w = rt("example.com", "Widget");
    w.printer_columns = vec![
        PrinterColumn {
            name: "Ready".into(),
            type_: "string".into(),
            json_path: ".status.conditions[?(@.type==\"Ready\")].status".into(),
            ..Default::default()
        },
        PrinterColumn {
            name: "Size".into(),
            type_: "integer".into(),
            json_path: ".spec.size".into(),
            ..Default::default()
        },
        PrinterColumn {
            name: "Age".into(),
            type_: "date".into(),
            json_path: ".metadata.creationTimestamp".into(),
            ..Default::default()
        },
    ];
    let o = json!({"metadata": {"name": "w1", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"size": 3},
                   "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    assert_eq!(
        cells(&w, &o, now()),
        vec![json!("w1"), json!("True"), json!(3), json!("60m")]
    );
    let bare = json!({"metadata": {"name": "w2"}});
    assert_eq!(cells(&w, &bare, now())[1], Value::Null);
    assert_eq!(columns(&w).len(), 4);
    let plain = rt("example.com", "Gadget");
    assert_eq!(columns(&plain)[1]["name"], "Age");
    let sa = rt("rbac.authorization.k8s.io", "Role");
    assert_eq!(columns(&sa)[1]["name"], "Created At");
    let one = table_for_object(&w, "meta.k8s.io/v1", &o, IncludeObject::None, now());
    assert!(one["rows"][0].get("object").is_none());
    let ev = watch_event_object(
        &w,
        "meta.k8s.io/v1",
        &o,
        IncludeObject::Object,
        false,
        now(),
    );
    assert_eq!(ev["columnDefinitions"], json!([]));
    assert_eq!(ev["rows"][0]["object"]["spec"]["size"], 3);
}

#[test]
fn builtin_printers() {
    let sa = json!({"metadata": {"name": "sa", "creationTimestamp": "2026-01-01T00:59:50Z"}, "secrets": [{"name": "x"}]});
    assert_eq!(
        cells(&rt("", "ServiceAccount"), &sa, now()),
        vec![json!("sa"), json!(1), json!("10s")]
    );
    let mut lease = rt("coordination.k8s.io", "Lease");
    lease.version = "v1".into();
    let l = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
    assert_eq!(cells(&lease, &l, now())[1], json!("me"));
    let d = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
        "template": {"spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}});
    let dep = rt("apps", "Deployment");
    assert_eq!(columns(&dep).len(), cells(&dep, &d, now()).len());
    assert_eq!(
        cells(&dep, &d, now())[1..4],
        [json!("0/2"), json!(0), json!(0)]
    );
    assert_eq!(
        cells(&dep, &d, now())[5..],
        [json!("a,b"), json!("a:1,b:1"), json!("app=d")]
    );
    let rb = json!({"metadata": {"name": "rb"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "ns"}]});
    let c = cells(&rt("rbac.authorization.k8s.io", "RoleBinding"), &rb, now());
    assert_eq!(
        (c[1].clone(), c[3].clone(), c[5].clone()),
        (json!("ClusterRole/view"), json!(""), json!("ns/op"))
    );
}

#[test]
fn event_printer_reads_both_apis() {
    let core = json!({"metadata": {"name": "w1.1"}, "type": "Normal", "reason": "Reconciled", "message": "ok ",
        "involvedObject": {"kind": "Widget", "name": "w1"}, "reportingComponent": "ctrl",
        "eventTime": "2026-01-01T00:59:00.000000Z"});
    let ev = rt("", "Event");
    let cols = columns(&ev);
    assert_eq!(cols[0]["name"], "Last Seen");
    let c = cells(&ev, &core, now());
    assert_eq!(c.len(), cols.len());
    assert_eq!(
        c[..4],
        [
            json!("60s"),
            json!("Normal"),
            json!("Reconciled"),
            json!("widget/w1")
        ]
    );
    assert_eq!(c[6], json!("ok"));
    assert_eq!(c[8], json!(1));
    let v1 = json!({"metadata": {"name": "w1.2"}, "type": "Warning", "reason": "Failed", "note": "bad",
        "regarding": {"kind": "Widget", "name": "w1"}, "reportingController": "ctrl",
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "series": {"count": 3, "lastObservedTime": "2026-01-01T00:59:58.000000Z"}});
    let c = cells(&rt("events.k8s.io", "Event"), &v1, now());
    assert_eq!(
        (c[0].clone(), c[3].clone(), c[6].clone(), c[8].clone()),
        (json!("2s"), json!("widget/w1"), json!("bad"), json!(3))
    );
}
