use super::*;
use serde_json::json;

fn obj() -> Value {
    json!({"metadata": {"name": "w1", "finalizers": ["a", "b"]}, "spec": {"size": 1, "a/b": 2, "m~n": 3}})
}

#[test]
fn successful_operations_table() {
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "finalizer helper adds to absent list (test null on missing key)",
            json!([{"op":"test","path":"/metadata/labels","value":null},
                   {"op":"add","path":"/metadata/labels","value":{"x":"y"}}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "b"], "labels": {"x": "y"}}, "spec": {"size": 1, "a/b": 2, "m~n": 3}}),
        ),
        (
            "append with -",
            json!([{"op":"test","path":"/metadata/finalizers","value":["a","b"]},
                   {"op":"add","path":"/metadata/finalizers/-","value":"c"}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "b", "c"]}, "spec": {"size": 1, "a/b": 2, "m~n": 3}}),
        ),
        (
            "remove by index after test",
            json!([{"op":"test","path":"/metadata/finalizers/0","value":"a"},
                   {"op":"remove","path":"/metadata/finalizers/0"}]),
            json!({"metadata": {"name": "w1", "finalizers": ["b"]}, "spec": {"size": 1, "a/b": 2, "m~n": 3}}),
        ),
        (
            "escaped pointers ~1 and ~0",
            json!([{"op":"replace","path":"/spec/a~1b","value":20},
                   {"op":"remove","path":"/spec/m~0n"}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "b"]}, "spec": {"size": 1, "a/b": 20}}),
        ),
        (
            "insert in the middle and negative index",
            json!([{"op":"add","path":"/metadata/finalizers/1","value":"x"},
                   {"op":"replace","path":"/metadata/finalizers/-1","value":"z"}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "x", "z"]}, "spec": {"size": 1, "a/b": 2, "m~n": 3}}),
        ),
        (
            "move and copy",
            json!([{"op":"move","from":"/spec/size","path":"/spec/replicas"},
                   {"op":"copy","from":"/metadata/name","path":"/spec/name"}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "b"]}, "spec": {"a/b": 2, "m~n": 3, "replicas": 1, "name": "w1"}}),
        ),
        (
            "add replaces an existing key in place",
            json!([{"op":"add","path":"/spec/size","value":5}]),
            json!({"metadata": {"name": "w1", "finalizers": ["a", "b"]}, "spec": {"size": 5, "a/b": 2, "m~n": 3}}),
        ),
        (
            "test compares numbers as Go float64s",
            json!([{"op":"test","path":"/spec","value":{"m~n":3.0,"size":1.0,"a/b":2}}]),
            obj(),
        ),
        (
            "test of a whole object",
            json!([{"op":"test","path":"/spec","value":{"size":1,"a/b":2,"m~n":3}}]),
            obj(),
        ),
    ];
    for (name, patch, want) in cases {
        let mut doc = obj();
        json_patch(&mut doc, &patch).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(doc, want, "{name}");
        // preserve_order: serialised bytes must match too (no-op detection).
        assert_eq!(doc.to_string(), want.to_string(), "{name} (key order)");
    }
}

#[test]
fn failing_operations_table() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "test null on present key",
            json!([{"op":"test","path":"/metadata/finalizers","value":null}]),
            "testing value /metadata/finalizers failed: test failed",
        ),
        (
            "test value mismatch",
            json!([{"op":"test","path":"/spec/size","value":2}]),
            "testing value /spec/size failed: test failed",
        ),
        (
            "test non-null on missing key",
            json!([{"op":"test","path":"/spec/none","value":1}]),
            "testing value /spec/none failed: test failed",
        ),
        (
            "test below a missing parent",
            json!([{"op":"test","path":"/status/x","value":null}]),
            "test operation does not apply: is missing path: /status/x: missing value",
        ),
        (
            "remove missing key",
            json!([{"op":"remove","path":"/spec/none"}]),
            "error in remove for path: '/spec/none': Unable to remove nonexistent key: none: missing value",
        ),
        (
            "remove out of range",
            json!([{"op":"remove","path":"/metadata/finalizers/5"}]),
            "error in remove for path: '/metadata/finalizers/5': Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            "replace below missing parent",
            json!([{"op":"replace","path":"/status/x","value":1}]),
            "replace operation does not apply: doc is missing path: /status/x: missing value",
        ),
        (
            "replace out of range",
            json!([{"op":"replace","path":"/metadata/finalizers/2","value":"c"}]),
            "replace operation does not apply: doc is missing key: /metadata/finalizers/2: missing value",
        ),
        (
            "add below missing parent",
            json!([{"op":"add","path":"/status/x","value":1}]),
            "add operation does not apply: doc is missing path: \"/status/x\": missing value",
        ),
        (
            "add past the end",
            json!([{"op":"add","path":"/metadata/finalizers/3","value":"c"}]),
            "error in add for path: '/metadata/finalizers/3': Unable to access invalid index: 3: invalid index referenced",
        ),
        (
            "unknown op",
            json!([{"op":"frob","path":"/spec"}]),
            "Unexpected kind: frob: unknown object type",
        ),
        (
            "replace of a missing key",
            json!([{"op":"replace","path":"/spec/new","value":true}]),
            "replace operation does not apply: doc is missing key: /spec/new: missing value",
        ),
        (
            "move from a missing key",
            json!([{"op":"move","from":"/spec/none","path":"/spec/x"}]),
            "error in move for path: 'none': unable to get nonexistent key: none: missing value",
        ),
        (
            "copy from a missing key",
            json!([{"op":"copy","from":"/spec/none","path":"/spec/x"}]),
            "error in copy for from: '/spec/none': unable to get nonexistent key: none: missing value",
        ),
        (
            "copy from missing parent",
            json!([{"op":"copy","from":"/nope/none","path":"/spec/x"}]),
            "copy operation does not apply: doc is missing from path: /nope/none: missing value",
        ),
    ];
    for (name, patch, want) in cases {
        let mut doc = obj();
        let err = json_patch(&mut doc, &patch).expect_err(name);
        assert_eq!(err, PatchError::JsonPatchFailed(want.to_string()), "{name}");
        assert_eq!(err.code(), 422, "{name}");
        let status = err.status();
        assert_eq!(status["reason"], "Invalid");
        assert_eq!(
            status["message"],
            "the server rejected our request due to an error in our request"
        );
        assert_eq!(status["details"]["causes"][0]["message"], want);
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "UnexpectedServerResponse"
        );
    }
}

#[test]
fn undecodable_and_too_large() {
    let mut doc = obj();
    let err = json_patch(&mut doc, &json!({"op": "add"})).unwrap_err();
    assert_eq!(err.code(), 400);
    assert_eq!(err.reason(), "BadRequest");
    assert_eq!(
        err.message(),
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    );
    let err = json_patch(&mut doc, &json!(["x"])).unwrap_err();
    assert_eq!(err.code(), 400);

    let ops: Vec<Value> = (0..=MAX_JSON_PATCH_OPS)
        .map(|_| json!({"op":"test","path":"/spec/size","value":1}))
        .collect();
    let err = json_patch(&mut doc, &Value::Array(ops)).unwrap_err();
    assert_eq!(err.code(), 413);
    assert_eq!(err.reason(), "RequestEntityTooLarge");
    assert_eq!(
        err.message(),
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"
    );
    assert!(err.status().get("details").is_none());
    assert_eq!(doc, obj(), "nothing applied");
}

#[test]
fn merge_patch_table() {
    let cases: Vec<(Value, Value, Value)> = vec![
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
        (json!({"a": "b"}), json!(["c"]), json!(["c"])),
    ];
    for (doc, patch, want) in cases {
        let mut got = doc.clone();
        merge_patch(&mut got, &patch);
        assert_eq!(got, want, "{doc} + {patch}");
    }
}
