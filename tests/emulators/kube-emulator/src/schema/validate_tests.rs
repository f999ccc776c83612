use super::*;
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                    "size": {"type": "integer", "minimum": 0, "maximum": 10, "format": "int32"},
                    "ratio": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "multipleOf": 0.5},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                    "at": {"type": "string", "format": "date-time"},
                    "xs": {"type": "array", "maxItems": 3, "minItems": 1, "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                    "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                              "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                    "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
                    "port": {"x-kubernetes-int-or-string": true},
                    "opt": {"type": "string", "nullable": true},
                    "choice": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                               "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
                    "anyv": {"type": "integer", "anyOf": [{"minimum": 5}, {"maximum": 1}], "not": {"enum": [0]}}
                }
            }
        }
    })
}

fn errs(spec: Value) -> Vec<String> {
    CrSchema::new(&schema())
        .validate(&json!({"spec": spec}), None)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn valid_object_has_no_errors() {
    let spec = json!({"size": 3, "ratio": 1.5, "mode": "a", "name": "abc", "at": "2024-01-01T00:00:00Z",
        "xs": ["a", "b"], "ports": [{"name": "a", "port": 1}, {"name": "b"}], "labels": {"a": "b"},
        "port": 8080, "opt": null, "choice": {"a": "x"}, "anyv": 7});
    assert_eq!(errs(spec), Vec::<String>::new());
    assert!(errs(json!({"size": 1, "port": "http", "anyv": 1})).is_empty());
}

#[test]
fn schema_error_table() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"size": -1}),
            "spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0",
        ),
        (
            json!({"size": 11}),
            "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10",
        ),
        (
            json!({"size": "x"}),
            "spec.size: Invalid value: \"x\": spec.size in body must be of type integer: \"string\"",
        ),
        (
            json!({"size": 1.5}),
            "spec.size: Invalid value: 1.5: spec.size in body must be of type integer: \"number\"",
        ),
        (json!({}), "spec.size: Required value"),
        (
            json!({"size": 1, "ratio": 0}),
            "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
        ),
        (
            json!({"size": 1, "ratio": 0.7}),
            "spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5",
        ),
        (
            json!({"size": 1, "mode": "x"}),
            "spec.mode: Unsupported value: \"x\": supported values: \"a\", \"b\"",
        ),
        (
            json!({"size": 1, "name": "a"}),
            "spec.name: Invalid value: \"a\": spec.name in body should be at least 2 chars long",
        ),
        (
            json!({"size": 1, "name": "abcdef"}),
            "spec.name: Too long: may not be more than 5 bytes",
        ),
        (
            json!({"size": 1, "name": "AB"}),
            "spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'",
        ),
        (
            json!({"size": 1, "at": "yesterday"}),
            "spec.at: Invalid value: \"yesterday\": spec.at in body must be of type date-time: \"yesterday\"",
        ),
        (
            json!({"size": 1, "xs": []}),
            "spec.xs: Invalid value: []interface {}{}: spec.xs in body should have at least 1 items",
        ),
        (
            json!({"size": 1, "xs": ["a", "b", "c", "d"]}),
            "spec.xs: Too many: 4: must have at most 3 items",
        ),
        (
            json!({"size": 1, "xs": ["a", "a"]}),
            "spec.xs[1]: Duplicate value: \"a\"",
        ),
        (
            json!({"size": 1, "ports": [{"name": "a"}, {"name": "a", "port": 2}]}),
            "spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}",
        ),
        (
            json!({"size": 1, "ports": [{"port": 2}]}),
            "spec.ports[0].name: Required value",
        ),
        (
            json!({"size": 1, "labels": {"a": "1", "b": "2"}}),
            "spec.labels: Too many: 2: must have at most 1 items",
        ),
        (
            json!({"size": 1, "labels": {"a": 1}}),
            "spec.labels.a: Invalid value: 1: spec.labels.a in body must be of type string: \"integer\"",
        ),
        (
            json!({"size": 1, "port": true}),
            "spec.port: Invalid value: true: spec.port in body must be of type integer,string: \"boolean\"",
        ),
        (
            json!({"size": 1, "choice": {"a": "x", "b": "y"}}),
            "spec.choice: Invalid value: map[string]interface {}{\"a\":\"x\", \"b\":\"y\"}: spec.choice in body must validate one and only one schema (oneOf)",
        ),
        (
            json!({"size": 1, "anyv": 3}),
            "spec.anyv: Invalid value: 3: spec.anyv in body must validate at least one schema (anyOf)",
        ),
        (
            json!({"size": 1, "anyv": 0}),
            "spec.anyv: Invalid value: 0: spec.anyv in body must not validate the schema (not)",
        ),
        (
            json!({"size": null}),
            "spec.size: Invalid value: \"null\": spec.size in body must be of type integer: \"null\"",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(errs(spec.clone()), vec![want.to_string()], "{spec}");
    }
}

#[test]
fn int32_format() {
    let got = errs(json!({"size": 3000000000i64}));
    assert_eq!(
        got.last().unwrap(),
        "spec.size: Invalid value: 3000000000: spec.size in body must be of type int32: \"integer\""
    );
}

#[test]
fn ratcheting_allows_unchanged_invalid_values() {
    let s = CrSchema::new(&schema());
    let old = json!({"spec": {"size": 20, "name": "A"}});
    let new = json!({"spec": {"size": 20, "name": "bb"}});
    assert!(s.validate(&new, Some(&old)).is_empty());
    let changed = json!({"spec": {"size": 21, "name": "bb"}});
    assert_eq!(s.validate(&changed, Some(&old)).len(), 1);
}

fn cel_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [
                    {"rule": "self.min <= self.max", "message": "min must not exceed max"},
                    {"rule": "self.name == oldSelf.name", "message": "name is immutable", "reason": "FieldValueForbidden"},
                    {"rule": "self.max < 100", "messageExpression": "'max too big: ' + string(self.max)", "fieldPath": ".max"},
                    {"rule": "self.min >= 0"}
                ],
                "properties": {
                    "min": {"type": "integer"},
                    "max": {"type": "integer"},
                    "name": {"type": "string"},
                    "mode": {"type": "string", "enum": ["a"]}
                }
            }
        }
    })
}

#[test]
fn cel_rules_table() {
    let s = CrSchema::new(&cel_schema());
    let render = |obj: Value, old: Option<Value>| -> Vec<String> {
        s.validate(&obj, old.as_ref())
            .iter()
            .map(|e| e.to_string())
            .collect()
    };
    assert!(render(json!({"spec": {"min": 1, "max": 2, "name": "a"}}), None).is_empty());
    assert_eq!(
        render(json!({"spec": {"min": 3, "max": 2, "name": "a"}}), None),
        vec!["spec: Invalid value: \"object\": min must not exceed max"]
    );
    // transition rule only on update, reason overrides the error type
    assert_eq!(
        render(
            json!({"spec": {"min": 1, "max": 2, "name": "b"}}),
            Some(json!({"spec": {"min": 1, "max": 2, "name": "a"}}))
        ),
        vec!["spec: Forbidden: name is immutable"]
    );
    assert_eq!(
        render(json!({"spec": {"min": 1, "max": 200, "name": "a"}}), None),
        vec!["spec.max: Invalid value: \"integer\": max too big: 200"]
    );
    assert_eq!(
        render(json!({"spec": {"min": -1, "max": 2, "name": "a"}}), None),
        vec!["spec: Invalid value: \"object\": failed rule: self.min >= 0"]
    );
    // a blocking schema error skips CEL and says so
    assert_eq!(
        render(json!({"spec": {"min": 3, "max": 2, "name": "a", "mode": "z"}}), None),
        vec![
            "spec.mode: Unsupported value: \"z\": supported values: \"a\"".to_string(),
            "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation".to_string(),
        ]
    );
}

#[test]
fn cel_rules_ratchet_on_unchanged_values() {
    let s = CrSchema::new(&cel_schema());
    let old = json!({"spec": {"min": 3, "max": 2, "name": "a"}});
    // still invalid, but unchanged: allowed on update
    let same = json!({"spec": {"min": 3, "max": 2, "name": "a"}});
    assert!(s.validate(&same, Some(&old)).is_empty());
    // a change under the rule's node re-validates it
    let changed = json!({"spec": {"min": 4, "max": 2, "name": "a"}});
    assert_eq!(s.validate(&changed, Some(&old)).len(), 1);
    // transition rules are never ratcheted
    let renamed = json!({"spec": {"min": 1, "max": 2, "name": "b"}});
    assert_eq!(
        s.validate(
            &renamed,
            Some(&json!({"spec": {"min": 1, "max": 2, "name": "a"}}))
        )
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>(),
        vec!["spec: Forbidden: name is immutable"]
    );
}
