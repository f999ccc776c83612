//! Field sets as structured-merge-diff keeps them: a trie of path elements with
//! "member" leaves, encoded in `managedFields[].fieldsV1` as `f:<name>`,
//! `k:{"type":"Ready"}`, `v:"x"`, `i:3` and `.` (docs/kubernetes-api.md §4.1.7).

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One step of a field path. The derived order (field < key < value < index)
/// is the order structured-merge-diff serialises them in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A struct field or map key: `f:name`.
    Field(String),
    /// A list-map item, its key fields as canonical compact JSON: `k:{"name":"a"}`.
    Key(String),
    /// A set item, as compact JSON: `v:"x"`.
    Value(String),
    /// An item of a list without keys: `i:0`.
    Index(usize),
}

impl PathElement {
    /// A list-map key from an item and the key field names (sorted, like SMD).
    pub fn key_of(item: &Value, keys: &[String]) -> Option<PathElement> {
        Self::key_with_defaults(item, keys, &BTreeMap::new())
    }

    /// Like [`PathElement::key_of`], taking a missing key field's schema default
    /// (SMD does, e.g. `protocol: TCP` of container ports).
    pub fn key_with_defaults(
        item: &Value,
        keys: &[String],
        defaults: &BTreeMap<String, Value>,
    ) -> Option<PathElement> {
        let mut names: Vec<&String> = keys.iter().collect();
        names.sort();
        let mut map = Map::new();
        for k in names {
            let v = item.get(k).or_else(|| defaults.get(k))?;
            map.insert(k.clone(), v.clone());
        }
        Some(PathElement::Key(Value::Object(map).to_string()))
    }

    /// A set item.
    pub fn value_of(item: &Value) -> PathElement {
        PathElement::Value(item.to_string())
    }

    fn encode(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(k) => format!("k:{k}"),
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Result<PathElement, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("unknown path element type in {s:?}"))?;
        let canonical = |raw: &str| -> Result<String, String> {
            serde_json::from_str::<Value>(raw)
                .map(|v| canonical_json(&v).to_string())
                .map_err(|e| format!("invalid path element {s:?}: {e}"))
        };
        Ok(match kind {
            "f" => PathElement::Field(rest.to_string()),
            "k" => PathElement::Key(canonical(rest)?),
            "v" => PathElement::Value(canonical(rest)?),
            "i" => PathElement::Index(
                rest.parse()
                    .map_err(|_| format!("invalid index in {s:?}"))?,
            ),
            _ => return Err(format!("unknown path element type in {s:?}")),
        })
    }

    /// `fieldpath.Path.String()` rendering of this element.
    fn display(&self) -> String {
        match self {
            PathElement::Field(f) => format!(".{f}"),
            PathElement::Key(k) => {
                let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
                let parts: Vec<String> = parsed
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                    .unwrap_or_default();
                format!("[{}]", parts.join(","))
            }
            PathElement::Value(v) => format!("[={v}]"),
            PathElement::Index(i) => format!("[{i}]"),
        }
    }
}

/// Object keys sorted, recursively (SMD compares and prints keys sorted).
fn canonical_json(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, canonical_json(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical_json).collect()),
        other => other.clone(),
    }
}

/// `fieldpath.Path.String()`, e.g. `.spec.containers[name="app"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(PathElement::display).collect()
}

/// A set of field paths (SMD `fieldpath.Set`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Add a path (the empty path is ignored: the root is never a member).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether the path itself is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether the path or anything below it is in the set.
    pub fn has_at_or_below(&self, path: &[PathElement]) -> bool {
        match path {
            [] => !self.is_empty(),
            [first, rest @ ..] => {
                (rest.is_empty() && self.members.contains(first))
                    || self
                        .children
                        .get(first)
                        .is_some_and(|c| c.has_at_or_below(rest))
            }
        }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// Members of `self` that are not members of `other` (SMD `Difference`:
    /// member by member, not whole subtrees).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, child) in &self.children {
            let rest = match other.children.get(pe) {
                Some(o) => child.difference(o),
                None => child.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(pe.clone(), rest);
            }
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (pe, child) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let both = child.intersection(o);
                if !both.is_empty() {
                    out.children.insert(pe.clone(), both);
                }
            }
        }
        out
    }

    /// Every member path, parents before children, in serialisation order.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        let keys: BTreeSet<&PathElement> =
            self.members.iter().chain(self.children.keys()).collect();
        for pe in keys {
            prefix.push(pe.clone());
            if self.members.contains(pe) {
                out.push(prefix.clone());
            }
            if let Some(child) = self.children.get(pe) {
                child.collect(prefix, out);
            }
            prefix.pop();
        }
    }

    /// The `fieldsV1` JSON object.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        let keys: BTreeSet<&PathElement> =
            self.members.iter().chain(self.children.keys()).collect();
        for pe in keys {
            let value = match self.children.get(pe) {
                Some(child) => {
                    let mut inner = Map::new();
                    if self.members.contains(pe) {
                        inner.insert(".".to_string(), Value::Object(Map::new()));
                    }
                    if let Value::Object(c) = child.to_fields_v1() {
                        inner.extend(c);
                    }
                    Value::Object(inner)
                }
                None => Value::Object(Map::new()),
            };
            map.insert(pe.encode(), value);
        }
        Value::Object(map)
    }

    /// Parse a `fieldsV1` object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        let map = v.as_object().ok_or("fieldsV1 must be an object")?;
        let mut out = FieldSet::new();
        for (k, child) in map {
            if k == "." {
                continue;
            }
            let pe = PathElement::decode(k)?;
            let child_map = child
                .as_object()
                .ok_or("fieldsV1 entries must be objects")?;
            if child_map.is_empty() || child_map.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let sub = FieldSet::from_fields_v1(child)?;
            if !sub.is_empty() {
                out.children.insert(pe, sub);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "fieldset_tests.rs"]
mod tests;
