use super::*;
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "default": 1},
                    "mode": {"type": "string", "nullable": true, "default": "fast"},
                    "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}, "w": {"type": "integer", "default": 5}}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}},
                    "nested": {"type": "object", "default": {}, "properties": {"inner": {"type": "object", "default": {}, "properties": {"leaf": {"type": "string", "default": "deep"}}}}},
                    "port": {"x-kubernetes-int-or-string": true}
                }
            },
            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
        }
    })
}

#[test]
fn prune_table() {
    let s = CrSchema::new(&schema());
    let mut obj = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}, "bogus": 1},
        "spec": {
            "size": 2, "foo": 1,
            "tags": [{"k": "a", "x": 1}],
            "labels": {"l": "v"},
            "free": {"anything": {"goes": 1}, "known": {"a": "x", "drop": 2}},
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "junk": 1}, "spec": {"x": "y", "z": 1}, "extra": 1},
            "port": "http"
        },
        "status": {"ready": true, "phase": "x"},
        "top": 1
    });
    let mut unknown = s.prune(&mut obj);
    unknown.sort();
    assert_eq!(
        unknown,
        vec![
            "metadata.bogus",
            "spec.foo",
            "spec.free.known.drop",
            "spec.tags[0].x",
            "spec.template.extra",
            "spec.template.metadata.junk",
            "spec.template.spec.z",
            "status.phase",
            "top",
        ]
    );
    assert_eq!(
        obj,
        json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {
                "size": 2, "tags": [{"k": "a"}], "labels": {"l": "v"},
                "free": {"anything": {"goes": 1}, "known": {"a": "x"}},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": "y"}},
                "port": "http"
            },
            "status": {"ready": true}
        })
    );
}

#[test]
fn object_without_properties_drops_everything() {
    let s = CrSchema::new(&json!({"type": "object", "properties": {"spec": {"type": "object"}}}));
    let mut obj = json!({"spec": {"a": 1}});
    assert_eq!(s.prune(&mut obj), vec!["spec.a"]);
    assert_eq!(obj, json!({"spec": {}}));
}

#[test]
fn default_table() {
    let s = CrSchema::new(&schema());
    let cases: Vec<(Value, Value)> = vec![
        // no spec: defaults only where the parent exists
        (json!({"kind": "W"}), json!({"kind": "W"})),
        // inserted defaults are defaulted recursively (nested -> inner -> leaf)
        (
            json!({"spec": {}}),
            json!({"spec": {"size": 1, "mode": "fast", "nested": {"inner": {"leaf": "deep"}}}}),
        ),
        // non-nullable null takes the default; nullable null is kept
        (
            json!({"spec": {"size": null, "mode": null, "nested": {"inner": null}}}),
            json!({"spec": {"size": 1, "mode": null, "nested": {"inner": {"leaf": "deep"}}}}),
        ),
        // non-nullable null without default is dropped; list items defaulted
        (
            json!({"spec": {"size": 3, "mode": "slow", "nested": {}, "port": null, "tags": [{"k": "a"}], "labels": {"x": null, "y": "z"}}}),
            json!({"spec": {"size": 3, "mode": "slow", "nested": {"inner": {"leaf": "deep"}}, "tags": [{"k": "a", "w": 5}], "labels": {"y": "z"}}}),
        ),
    ];
    for (input, want) in cases {
        let mut got = input.clone();
        s.default(&mut got);
        assert_eq!(got, want, "{input}");
        // idempotent: defaulting on read must not change stored objects again
        let mut again = got.clone();
        s.default(&mut again);
        assert_eq!(again.to_string(), got.to_string());
    }
}

#[test]
fn schema_is_shareable_across_server_tasks() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CrSchema>();
}
