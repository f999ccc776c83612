//! What server-side apply needs from a schema: which objects are structs vs
//! granular maps vs atomic maps, and which lists are atomic, sets or maps
//! (docs/kubernetes-api.md §4.1.3). Built from a CRD `openAPIV3Schema` or from a
//! small hand-written table for the built-ins.

use crate::patch::{ListStrategy, PatchStrategy, strategy_for};
use serde_json::Value;
use std::collections::BTreeMap;

/// List semantics (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole; the default for CRD lists without markers.
    #[default]
    Atomic,
    /// Items are scalars, owned by value.
    Set,
    /// Items are objects, owned by these key fields.
    Map(Vec<String>),
}

/// One schema node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeNode {
    /// Declared fields (struct members).
    pub fields: BTreeMap<String, TypeNode>,
    /// Type of undeclared map values, or of list items.
    pub elements: Option<Box<TypeNode>>,
    /// Undeclared object keys are map entries (each one a member of the field
    /// set), as for `additionalProperties`, labels, or preserved unknown fields.
    pub map: bool,
    /// `x-kubernetes-map-type: atomic`: the object is owned as one value.
    pub atomic: bool,
    /// How a list at this node behaves.
    pub list: ListType,
    /// Scalar defaults of declared fields (used for missing list-map key fields).
    pub defaults: BTreeMap<String, Value>,
}

impl TypeNode {
    /// The node for key `k` of an object at this node.
    pub fn child(&self, k: &str) -> (&TypeNode, bool) {
        match self.fields.get(k) {
            Some(n) => (n, true),
            None => (self.element(), !self.map),
        }
    }

    /// The node for list items / undeclared map values.
    pub fn element(&self) -> &TypeNode {
        match &self.elements {
            Some(e) => e,
            None if self.map => &UNTYPED_MAP,
            None => &UNTYPED_STRUCT,
        }
    }

    fn map_of(elements: TypeNode) -> TypeNode {
        TypeNode {
            map: true,
            elements: Some(Box::new(elements)),
            ..TypeNode::default()
        }
    }
}

static UNTYPED_STRUCT: TypeNode = TypeNode {
    fields: BTreeMap::new(),
    elements: None,
    map: false,
    atomic: false,
    list: ListType::Atomic,
    defaults: BTreeMap::new(),
};

static UNTYPED_MAP: TypeNode = TypeNode {
    fields: BTreeMap::new(),
    elements: None,
    map: true,
    atomic: false,
    list: ListType::Atomic,
    defaults: BTreeMap::new(),
};

/// The type of a whole object plus the reset rules of its endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeInfo {
    pub root: TypeNode,
    /// The kind has a status subresource: the main endpoint ignores `status`
    /// and `/status` ignores everything else (docs/kubernetes-api.md §2.5, §4.1.10).
    pub status_subresource: bool,
}

/// ObjectMeta as SSA sees it (docs/kubernetes-api.md §4.1.3 "ObjectMeta markers").
fn object_meta() -> TypeNode {
    let mut meta = TypeNode::default();
    meta.fields
        .insert("labels".into(), TypeNode::map_of(TypeNode::default()));
    meta.fields
        .insert("annotations".into(), TypeNode::map_of(TypeNode::default()));
    meta.fields.insert(
        "finalizers".into(),
        TypeNode {
            list: ListType::Set,
            ..TypeNode::default()
        },
    );
    meta.fields.insert(
        "ownerReferences".into(),
        TypeNode {
            list: ListType::Map(vec!["uid".into()]),
            ..TypeNode::default()
        },
    );
    meta
}

impl TypeInfo {
    /// From a CRD version's `openAPIV3Schema`.
    pub fn from_crd_schema(schema: &Value, status_subresource: bool) -> TypeInfo {
        let mut root = crd_node(schema);
        root.fields.insert("metadata".into(), object_meta());
        TypeInfo {
            root,
            status_subresource,
        }
    }

    /// For a built-in kind, derived from its strategic-merge-patch tags
    /// (patchMergeKey lists are list-maps, merge-primitive lists are sets).
    pub fn builtin(group: &str, kind: &str) -> TypeInfo {
        let strategy = strategy_for(group, kind);
        let mut root = from_strategy(&strategy);
        root.fields.insert("metadata".into(), object_meta());
        let status_subresource = matches!(
            (group, kind),
            ("", "Service" | "Namespace")
                | ("apps", "Deployment")
                | ("policy", "PodDisruptionBudget")
        );
        TypeInfo {
            root,
            status_subresource,
        }
    }
}

/// Object fields of built-ins whose keys are user data, not struct fields.
const BUILTIN_MAPS: [&str; 7] = [
    "labels",
    "annotations",
    "data",
    "stringData",
    "binaryData",
    "matchLabels",
    "nodeSelector",
];

fn from_strategy(s: &PatchStrategy) -> TypeNode {
    let mut node = TypeNode::default();
    for name in BUILTIN_MAPS {
        node.fields
            .insert(name.into(), TypeNode::map_of(TypeNode::default()));
    }
    for (name, child) in &s.fields {
        let mut c = from_strategy(child);
        match &child.list {
            ListStrategy::MergeKey(key) => {
                // The OpenAPI list-map keys of ports include the defaulted protocol.
                let keys = if key == "containerPort" || (key == "port" && name == "ports") {
                    c.defaults
                        .insert("protocol".into(), Value::String("TCP".into()));
                    vec![key.clone(), "protocol".into()]
                } else {
                    vec![key.clone()]
                };
                c = TypeNode {
                    list: ListType::Map(keys),
                    elements: Some(Box::new(c)),
                    ..TypeNode::default()
                };
            }
            ListStrategy::MergePrimitive => c.list = ListType::Set,
            ListStrategy::Replace => {}
        }
        node.fields.insert(name.clone(), c);
    }
    node
}

fn crd_node(schema: &Value) -> TypeNode {
    let mut node = TypeNode::default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            node.fields.insert(k.clone(), crd_node(v));
            if let Some(d) = v.get("default") {
                node.defaults.insert(k.clone(), d.clone());
            }
        }
    }
    if let Some(ap) = schema.get("additionalProperties") {
        node.map = true;
        if ap.is_object() {
            node.elements = Some(Box::new(crd_node(ap)));
        }
    }
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        node.map = true;
    }
    if let Some(items) = schema.get("items") {
        node.elements = Some(Box::new(crd_node(items)));
    }
    node.atomic = schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
    node.list = match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListType::Set,
        Some("map") => ListType::Map(
            schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => ListType::Atomic,
    };
    if flag(schema, "x-kubernetes-embedded-resource") {
        node.fields.insert("metadata".into(), object_meta());
    }
    node
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool) == Some(true)
}
