use super::*;
use serde_json::json;

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer", "default": 1, "minimum": 0},
                            "port": {"x-kubernetes-int-or-string": true},
                            "any": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                            "conds": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
                                "items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}}
                        }, "x-kubernetes-validations": [{"rule": "self.size >= 0"}]},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

fn errors_after(edit: impl Fn(&mut Value)) -> Vec<String> {
    let mut c = crd();
    edit(&mut c);
    match validate_crd(&c) {
        Ok(()) => vec![],
        Err(errs) => errs.iter().map(|e| e.to_string()).collect(),
    }
}

const SCHEMA: &str = "/spec/versions/0/schema/openAPIV3Schema";
const P: &str = "spec.versions[0].schema.openAPIV3Schema";

#[test]
fn valid_crd_passes() {
    assert_eq!(validate_crd(&crd()), Ok(()));
}

#[test]
fn crd_error_table() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let set = |ptr: &'static str, v: Value| -> Edit {
        Box::new(move |c: &mut Value| *c.pointer_mut(ptr).unwrap() = v.clone())
    };
    let at = |rel: &'static str, v: Value| -> Edit {
        Box::new(move |c: &mut Value| {
            let p = format!("{SCHEMA}{rel}");
            *c.pointer_mut(&p).unwrap() = v.clone();
        })
    };
    let cases: Vec<(Edit, String)> = vec![
        (set("/metadata/name", json!("widget.example.com")),
            "metadata.name: Invalid value: \"widget.example.com\": must be spec.names.plural+\".\"+spec.group".into()),
        (set("/spec/versions/0/storage", json!(false)),
            "spec.versions: Invalid value: must have exactly one version marked as storage version".into()),
        (set("/spec/names/singular", json!("Widget")),
            format!("spec.names.singular: Invalid value: \"Widget\": {}", super::DNS1123_LABEL_MSG)),
        (set("/spec/scope", json!("Global")),
            "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"".into()),
        (at("/properties/spec/properties/size", json!({"minimum": 0})),
            format!("{P}.properties[spec].properties[size].type: Required value: must not be empty for specified object fields")),
        (at("/properties/spec/properties/size", json!({"type": "integer", "$ref": "#/x"})),
            format!("{P}.properties[spec].properties[size].$ref: Forbidden: $ref is not supported")),
        (at("/properties/spec/properties/any", json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}})),
            format!("{P}.properties[spec].properties[any].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive")),
        (at("/properties/spec/properties/any", json!({"type": "array", "uniqueItems": true, "items": {"type": "string"}})),
            format!("{P}.properties[spec].properties[any].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic")),
        (at("/properties/spec/properties/any", json!({"type": "array"})),
            format!("{P}.properties[spec].properties[any].items: Required value: must be specified")),
        (at("/properties/spec/properties/size", json!({"type": "integer", "minimum": 0, "default": -1})),
            format!("{P}.properties[spec].properties[size].default: Invalid value: -1: {P}.properties[spec].properties[size].default in body should be greater than or equal to 0")),
        (at("/properties/spec/x-kubernetes-validations", json!([{"rule": "self.size >="}])),
            "compilation failed".into()),
        (at("/properties/spec/properties/conds/x-kubernetes-list-map-keys", json!(["name"])),
            format!("{P}.properties[spec].properties[conds].x-kubernetes-list-map-keys: Invalid value: \"name\": entries must all be names of item properties")),
        (at("/type", json!("string")),
            format!("{P}.type: Invalid value: \"string\": must be object at the root")),
    ];
    for (i, (edit, want)) in cases.into_iter().enumerate() {
        let got = errors_after(edit);
        assert!(
            got.iter().any(|g| g.contains(&want)),
            "case {i}: want {want:?} in {got:#?}"
        );
    }
}

#[test]
fn int_or_string_any_of_idiom_is_structural() {
    let mut c = crd();
    *c.pointer_mut(&format!("{SCHEMA}/properties/spec/properties/port"))
        .unwrap() = json!({
        "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "pattern": "^[0-9]+$"
    });
    assert_eq!(validate_crd(&c), Ok(()));
    let mut c = crd();
    *c.pointer_mut(&format!("{SCHEMA}/properties/spec/properties/port"))
        .unwrap() = json!({
        "x-kubernetes-int-or-string": true,
        "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"maxLength": 5}]
    });
    assert_eq!(validate_crd(&c), Ok(()));
}
