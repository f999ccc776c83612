//! A minimal OpenAPI v3 surface: the `/openapi/v3` index and one document per group-version.
//!
//! docs/kubernetes-api.md §3.2: kubectl's default `--validate=strict` asks whether the server
//! supports `fieldValidation` for a GVK by finding a PATCH operation carrying
//! `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter; it then relies on
//! the server to reject unknown fields. Client-side apply picks strategic merge patch from the
//! PATCH `requestBody` content types, so only built-in kinds advertise it (CRs take merge patch).
//!
//! Built-in kinds deliberately get no component schema: kubectl then computes strategic merge
//! patches from its compiled-in Go structs (exact patch strategies) instead of from a sparse
//! schema. CRD kinds get their `openAPIV3Schema` as a component, which is cheap and helps
//! `kubectl explain`.
//!
//! `/openapi/v2` is an *empty* document: kubectl 1.27/1.28 `apply` fetch it eagerly (protobuf)
//! and abort on a 404, but then validate through v3 and fall back to compiled-in patch
//! strategies when v2 has no definitions (checked by the conformance suite for every kubectl).

use serde_json::{Map, Value, json};
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::discovery::SERVER_GIT_VERSION;
use crate::registry::ResourceType;

/// The index key / URL segment of a group-version: `api/v1` or `apis/<g>/<v>`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Parses a `gv_path` back into (group, version).
pub fn parse_gv_path(path: &str) -> Option<(String, String)> {
    let path = path.trim_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["api", v] => Some((String::new(), v.to_string())),
        ["apis", g, v] => Some((g.to_string(), v.to_string())),
        _ => None,
    }
}

/// Whether a type is served by kube-apiserver itself (and so speaks strategic merge patch).
/// CRDs may not use `*.k8s.io` groups without an approval annotation, so this is a safe test.
pub fn is_builtin(t: &ResourceType) -> bool {
    matches!(
        t.group.as_str(),
        "" | "apps" | "batch" | "policy" | "autoscaling"
    ) || t.group.ends_with(".k8s.io")
}

/// The protobuf media type client-go asks for; the `@` form it sends in `Accept` is not a
/// valid Content-Type for Go's mime parser, so the apiserver answers with the dotted form.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// `GET /openapi/v2`: (Content-Type, body) of an empty Swagger document. In protobuf an empty
/// `openapi_v2.Document` is zero bytes.
pub fn v2(accept: Option<&str>) -> (&'static str, Vec<u8>) {
    if accept.is_some_and(|a| a.contains("protobuf")) {
        return (V2_PROTOBUF, Vec::new());
    }
    let doc = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": SERVER_GIT_VERSION}, "paths": {}});
    ("application/json", doc.to_string().into_bytes())
}

/// Stable content hash (uppercase hex) so kubectl's cache key changes when a CRD changes.
pub fn hash(doc: &Value) -> String {
    let mut h = DefaultHasher::new();
    doc.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

/// `GET /openapi/v3`.
pub fn index(types: &[ResourceType]) -> Value {
    let mut gvs: Vec<(String, String)> = Vec::new();
    for t in types {
        let gv = (t.group.clone(), t.version.clone());
        if !gvs.contains(&gv) {
            gvs.push(gv);
        }
    }
    let mut paths = Map::new();
    for (g, v) in gvs {
        if let Some(doc) = document(types, &g, &v) {
            let p = gv_path(&g, &v);
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(&doc))}),
            );
        }
    }
    json!({ "paths": paths })
}

/// Component name as the real server spells it: reversed group, version, kind.
fn component_name(t: &ResourceType) -> String {
    let mut g: Vec<&str> = t.group.split('.').filter(|s| !s.is_empty()).collect();
    g.reverse();
    if g.is_empty() {
        format!("io.k8s.api.core.{}.{}", t.version, t.kind)
    } else {
        format!("{}.{}.{}", g.join("."), t.version, t.kind)
    }
}

fn gvk(t: &ResourceType) -> Value {
    json!({"group": t.group, "version": t.version, "kind": t.kind})
}

fn query_param(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn path_params(t: &ResourceType, item: bool) -> Vec<Value> {
    let mut out = Vec::new();
    if item {
        out.push(
            json!({"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    if t.namespaced {
        out.push(
            json!({"name": "namespace", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    out
}

fn operation(
    t: &ResourceType,
    action: &str,
    op_id: String,
    params: Vec<Value>,
    body: Option<Value>,
    resp: &Value,
) -> Value {
    let mut op = json!({
        "operationId": op_id,
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": resp}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(t),
    });
    if let Some(b) = body {
        op["requestBody"] = b;
    }
    op
}

fn patch_body(t: &ResourceType) -> Value {
    let schema = json!({"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"});
    let mut content = Map::new();
    for ct in [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ] {
        content.insert(ct.into(), json!({"schema": schema}));
    }
    if is_builtin(t) {
        content.insert(
            "application/strategic-merge-patch+json".into(),
            json!({"schema": schema}),
        );
    }
    json!({"required": true, "content": content})
}

fn write_params(t: &ResourceType, item: bool, patch: bool) -> Vec<Value> {
    let mut p = path_params(t, item);
    for q in ["dryRun", "fieldManager", "fieldValidation", "pretty"] {
        p.push(query_param(q));
    }
    if patch {
        p.push(json!({"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}));
    }
    p
}

fn paths_for(t: &ResourceType, paths: &mut Map<String, Value>, has_component: bool) {
    let base = format!("/{}", gv_path(&t.group, &t.version));
    let ns = if t.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let coll = format!("{base}{ns}/{}", t.plural);
    let item = format!("{coll}/{{name}}");
    let obj_schema = if has_component {
        json!({"$ref": format!("#/components/schemas/{}", component_name(t))})
    } else {
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
    };
    let any = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
    let id = |verb: &str, sfx: &str| {
        format!(
            "{verb}{}{}{}",
            t.kind,
            if t.namespaced { "Namespaced" } else { "" },
            sfx
        )
    };
    let json_body =
        json!({"required": true, "content": {"application/json": {"schema": obj_schema}}});
    let has = |v: &str| t.verbs.iter().any(|x| x == v);

    let mut c = Map::new();
    if has("list") {
        let mut p = path_params(t, false);
        for q in [
            "labelSelector",
            "fieldSelector",
            "limit",
            "continue",
            "resourceVersion",
            "resourceVersionMatch",
            "watch",
            "timeoutSeconds",
            "allowWatchBookmarks",
            "sendInitialEvents",
        ] {
            p.push(query_param(q));
        }
        c.insert(
            "get".into(),
            operation(t, "list", id("list", ""), p, None, &any),
        );
    }
    if has("create") {
        c.insert(
            "post".into(),
            operation(
                t,
                "post",
                id("create", ""),
                write_params(t, false, false),
                Some(json_body.clone()),
                &obj_schema,
            ),
        );
    }
    if has("deletecollection") {
        c.insert(
            "delete".into(),
            operation(
                t,
                "deletecollection",
                id("deleteCollection", ""),
                path_params(t, false),
                None,
                &any,
            ),
        );
    }
    if !c.is_empty() {
        paths.insert(coll, Value::Object(c));
    }

    let mut i = Map::new();
    if has("get") {
        i.insert(
            "get".into(),
            operation(
                t,
                "get",
                id("read", ""),
                path_params(t, true),
                None,
                &obj_schema,
            ),
        );
    }
    if has("update") {
        i.insert(
            "put".into(),
            operation(
                t,
                "put",
                id("replace", ""),
                write_params(t, true, false),
                Some(json_body.clone()),
                &obj_schema,
            ),
        );
    }
    if has("patch") {
        i.insert(
            "patch".into(),
            operation(
                t,
                "patch",
                id("patch", ""),
                write_params(t, true, true),
                Some(patch_body(t)),
                &obj_schema,
            ),
        );
    }
    if has("delete") {
        i.insert(
            "delete".into(),
            operation(
                t,
                "delete",
                id("delete", ""),
                path_params(t, true),
                None,
                &any,
            ),
        );
    }
    if !i.is_empty() {
        paths.insert(item.clone(), Value::Object(i));
    }

    if t.subresources.iter().any(|s| s == "status") {
        let mut s = Map::new();
        s.insert(
            "get".into(),
            operation(
                t,
                "get",
                id("read", "Status"),
                path_params(t, true),
                None,
                &obj_schema,
            ),
        );
        s.insert(
            "put".into(),
            operation(
                t,
                "put",
                id("replace", "Status"),
                write_params(t, true, false),
                Some(json_body),
                &obj_schema,
            ),
        );
        s.insert(
            "patch".into(),
            operation(
                t,
                "patch",
                id("patch", "Status"),
                write_params(t, true, true),
                Some(patch_body(t)),
                &obj_schema,
            ),
        );
        paths.insert(format!("{item}/status"), Value::Object(s));
    }
}

/// The component schema of a CRD kind: its `openAPIV3Schema` plus the GVK extension kubectl
/// matches on, and the envelope fields every object has.
fn component(t: &ResourceType, schema: &Value) -> Value {
    let mut s = schema.clone();
    if !s.is_object() {
        s = json!({"type": "object"});
    }
    let props = s
        .as_object_mut()
        .map(|o| o.entry("properties").or_insert_with(|| json!({})));
    if let Some(Value::Object(p)) = props {
        p.entry("apiVersion")
            .or_insert_with(|| json!({"type": "string"}));
        p.entry("kind").or_insert_with(|| json!({"type": "string"}));
        p.entry("metadata")
            .or_insert_with(|| json!({"type": "object"}));
    }
    s["x-kubernetes-group-version-kind"] = json!([gvk(t)]);
    s
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/<g>/<v>`; `None` if nothing is served there.
pub fn document(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert(
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch".into(),
        json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}),
    );
    let mut any = false;
    for t in types
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        any = true;
        let has_component = match (&t.schema, is_builtin(t)) {
            (Some(schema), false) => {
                schemas.insert(component_name(t), component(t, schema));
                true
            }
            _ => false,
        };
        paths_for(t, &mut paths, has_component);
    }
    if !any {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas}
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn rt(group: &str, kind: &str, namespaced: bool, schema: Option<Value>) -> ResourceType {
        ResourceType {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            namespaced,
            verbs: [
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
            .map(String::from)
            .to_vec(),
            subresources: vec!["status".into()],
            schema: schema.map(Arc::new),
            ..Default::default()
        }
    }

    #[test]
    fn patch_operations_carry_gvk_and_field_validation() {
        let types = vec![
            rt("", "Secret", true, None),
            rt(
                "example.com",
                "Widget",
                true,
                Some(json!({"type": "object"})),
            ),
        ];
        let idx = index(&types);
        let url = idx["paths"]["apis/example.com/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/example.com/v1?hash="));
        let doc = document(&types, "example.com", "v1").unwrap();
        let p =
            &doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], "Widget");
        assert!(
            p["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == "fieldValidation" && x["in"] == "query")
        );
        let content = p["requestBody"]["content"].as_object().unwrap();
        assert!(!content.contains_key("application/strategic-merge-patch+json"));
        assert!(content.contains_key("application/merge-patch+json"));
        let comp = &doc["components"]["schemas"]["com.example.v1.Widget"];
        assert_eq!(comp["x-kubernetes-group-version-kind"][0]["kind"], "Widget");

        let core = document(&types, "", "v1").unwrap();
        let sp = &core["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"];
        assert!(
            sp["requestBody"]["content"]
                .as_object()
                .unwrap()
                .contains_key("application/strategic-merge-patch+json")
        );
        assert!(document(&types, "nope", "v1").is_none());
    }

    #[test]
    fn hash_follows_content_and_paths_roundtrip() {
        let a = vec![rt(
            "example.com",
            "Widget",
            false,
            Some(json!({"type": "object"})),
        )];
        let mut b = a.clone();
        b[0].schema = Some(Arc::new(
            json!({"type": "object", "properties": {"spec": {"type": "object"}}}),
        ));
        assert_ne!(index(&a), index(&b));
        assert_eq!(index(&a), index(&a));
        assert_eq!(
            parse_gv_path("apis/example.com/v1"),
            Some(("example.com".into(), "v1".into()))
        );
        assert_eq!(parse_gv_path("/api/v1"), Some(("".into(), "v1".into())));
        assert_eq!(parse_gv_path("apis/x"), None);
        let doc = document(&a, "example.com", "v1").unwrap();
        assert!(
            doc["paths"]
                .get("/apis/example.com/v1/widgets/{name}/status")
                .is_some()
        );
    }
}
