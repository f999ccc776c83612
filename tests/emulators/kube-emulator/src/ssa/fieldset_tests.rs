use super::*;
use serde_json::json;

fn f(n: &str) -> PathElement {
    PathElement::Field(n.to_string())
}

#[test]
fn fields_v1_round_trip_is_exact() {
    let raw = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{".":{},"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:status":{},"f:type":{}}},"f:items":{"i:0":{}},"f:size":{},"f:tags":{"v:\"a\"":{},"v:3":{}}}}"#;
    let parsed: Value = serde_json::from_str(raw).unwrap();
    let set = FieldSet::from_fields_v1(&parsed).unwrap();
    assert_eq!(set.to_fields_v1().to_string(), raw);
    assert!(set.has(&[f("spec"), f("size")]));
    assert!(set.has(&[f("spec")]), "'.' marks the node itself");
    assert!(!set.has(&[f("metadata")]));
    assert!(set.has_at_or_below(&[f("metadata")]));
    let ready = PathElement::key_of(
        &json!({"type": "Ready", "status": "True"}),
        &["type".into()],
    )
    .unwrap();
    assert!(set.has(&[f("spec"), f("conditions"), ready.clone(), f("status")]));
    assert_eq!(
        path_string(&[f("spec"), f("conditions"), ready, f("status")]),
        ".spec.conditions[type=\"Ready\"].status"
    );
    assert_eq!(
        path_string(&[f("spec"), f("tags"), PathElement::value_of(&json!("a"))]),
        ".spec.tags[=\"a\"]"
    );
}

#[test]
fn key_elements_are_canonical() {
    let a = PathElement::key_of(
        &json!({"port": 80, "name": "x", "other": 1}),
        &["port".into(), "name".into()],
    )
    .unwrap();
    assert_eq!(a, PathElement::Key(r#"{"name":"x","port":80}"#.into()));
    assert!(PathElement::key_of(&json!({"port": 80}), &["name".into()]).is_none());
    let parsed = FieldSet::from_fields_v1(&json!({"k:{\"port\":80,\"name\":\"x\"}": {}})).unwrap();
    assert!(parsed.has(&[a]));
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
}

#[test]
fn set_algebra() {
    let mut a = FieldSet::new();
    a.insert(&[f("spec"), f("a")]);
    a.insert(&[f("spec"), f("b")]);
    let mut b = FieldSet::new();
    b.insert(&[f("spec"), f("b")]);
    b.insert(&[f("spec")]);
    assert_eq!(a.difference(&b).paths(), vec![vec![f("spec"), f("a")]]);
    assert_eq!(a.intersection(&b).paths(), vec![vec![f("spec"), f("b")]]);
    assert_eq!(a.union(&b).paths().len(), 3);
    assert_eq!(b.paths(), vec![vec![f("spec")], vec![f("spec"), f("b")]]);
    assert!(a.difference(&a).is_empty());
}
