//! Typed walks over JSON values: the field set of an object, the comparison of
//! two objects, the apply merge and path removal (SMD `typed` package roles).

use super::fieldset::{FieldSet, PathElement};
use super::typeinfo::{ListType, TypeNode};
use serde_json::{Map, Value};

/// An associative list item without its key, or a duplicate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError(pub String);

fn item_pe(item: &Value, index: usize, node: &TypeNode) -> Result<PathElement, WalkError> {
    let list = &node.list;
    match list {
        ListType::Atomic => Ok(PathElement::Index(index)),
        ListType::Set => Ok(PathElement::value_of(item)),
        ListType::Map(keys) => PathElement::key_with_defaults(item, keys, &node.element().defaults).ok_or_else(|| {
            let missing = keys.iter().find(|k| item.get(k.as_str()).is_none());
            WalkError(format!(
                "element {index}: associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                missing.map(String::as_str).unwrap_or("")
            ))
        }),
    }
}

fn items_with_pe<'a>(
    items: &'a [Value],
    node: &TypeNode,
    path: &[PathElement],
) -> Result<Vec<(PathElement, &'a Value)>, WalkError> {
    let at = |msg: String| WalkError(format!("{}: {msg}", super::fieldset::path_string(path)));
    let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pe = item_pe(item, i, node).map_err(|e| at(e.0))?;
        if out.iter().any(|(p, _)| *p == pe) {
            let shown = super::fieldset::path_string(std::slice::from_ref(&pe));
            return Err(at(format!("duplicate entries for key {shown}")));
        }
        out.push((pe, item));
    }
    Ok(out)
}

/// SMD `ToFieldSet`: scalars, atomic values and list items are members; a
/// declared struct field is a member only when null or an empty object; an
/// undeclared map key always is.
pub fn to_field_set(v: &Value, node: &TypeNode) -> Result<FieldSet, WalkError> {
    let mut set = FieldSet::new();
    field_set(v, node, &mut Vec::new(), &mut set)?;
    Ok(set)
}

fn field_set(
    v: &Value,
    node: &TypeNode,
    path: &mut Vec<PathElement>,
    set: &mut FieldSet,
) -> Result<(), WalkError> {
    match v {
        Value::Object(map) if !node.atomic => {
            for (k, child) in map {
                let (child_node, declared) = node.child(k);
                path.push(PathElement::Field(k.clone()));
                field_set(child, child_node, path, set)?;
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) if node.list != ListType::Atomic => {
            for (pe, item) in items_with_pe(items, node, path)? {
                path.push(pe);
                field_set(item, node.element(), path, set)?;
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
    Ok(())
}

/// What changed between two objects (SMD `Comparison`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub added: FieldSet,
    pub removed: FieldSet,
    pub modified: FieldSet,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }
}

pub fn compare(old: &Value, new: &Value, node: &TypeNode) -> Result<Comparison, WalkError> {
    let mut c = Comparison::default();
    cmp(Some(old), Some(new), node, &mut Vec::new(), &mut c)?;
    Ok(c)
}

fn cmp(
    old: Option<&Value>,
    new: Option<&Value>,
    node: &TypeNode,
    path: &mut Vec<PathElement>,
    c: &mut Comparison,
) -> Result<(), WalkError> {
    let granular_map = |v: Option<&Value>| v.is_none_or(Value::is_object) && !node.atomic;
    let granular_list =
        |v: Option<&Value>| v.is_none_or(Value::is_array) && node.list != ListType::Atomic;
    match (old, new) {
        (None, None) => {}
        (o, n) if granular_map(o) && granular_map(n) => {
            if o.is_none() {
                c.added.insert(path);
            } else if n.is_none() {
                c.removed.insert(path);
            }
            let empty = Map::new();
            let om = o.and_then(Value::as_object).unwrap_or(&empty);
            let nm = n.and_then(Value::as_object).unwrap_or(&empty);
            for k in om.keys().chain(nm.keys().filter(|k| !om.contains_key(*k))) {
                path.push(PathElement::Field(k.clone()));
                cmp(om.get(k), nm.get(k), node.child(k).0, path, c)?;
                path.pop();
            }
        }
        (o, n) if granular_list(o) && granular_list(n) => {
            let none: Vec<Value> = Vec::new();
            let oi = items_with_pe(o.and_then(Value::as_array).unwrap_or(&none), node, path)?;
            let ni = items_with_pe(n.and_then(Value::as_array).unwrap_or(&none), node, path)?;
            for (pe, ov) in &oi {
                let nv = ni.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
                path.push(pe.clone());
                cmp(Some(ov), nv, node.element(), path, c)?;
                path.pop();
            }
            for (pe, nv) in ni.iter().filter(|(p, _)| !oi.iter().any(|(q, _)| q == p)) {
                path.push(pe.clone());
                cmp(None, Some(nv), node.element(), path, c)?;
                path.pop();
            }
        }
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(o), Some(n)) if o != n => c.modified.insert(path),
        _ => {}
    }
    Ok(())
}

/// SMD `Merge`: the applied value wins for scalars and atomic values; objects
/// merge per key (live order kept, new keys appended); set and map lists merge
/// by identity, applied items in applied order with live-only items kept in
/// their relative position.
pub fn merge(live: &Value, applied: &Value, node: &TypeNode) -> Result<Value, WalkError> {
    match (live, applied) {
        (Value::Object(lm), Value::Object(am)) if !node.atomic => {
            let mut out = lm.clone();
            for (k, av) in am {
                let child = node.child(k).0;
                let merged = match lm.get(k) {
                    Some(lv) => merge(lv, av, child)?,
                    None => merge(&Value::Null, av, child)?,
                };
                out.insert(k.clone(), merged);
            }
            Ok(Value::Object(out))
        }
        (Value::Array(li), Value::Array(ai)) if node.list != ListType::Atomic => {
            let lhs = items_with_pe(li, node, &[])?;
            let rhs = items_with_pe(ai, node, &[])?;
            Ok(Value::Array(merge_items(&lhs, &rhs, node.element())?))
        }
        (_, Value::Object(am)) if !node.atomic => {
            merge(&Value::Object(Map::new()), &Value::Object(am.clone()), node)
        }
        (_, applied) => Ok(applied.clone()),
    }
}

/// Two-pointer list merge in SMD's order: live-only items are emitted as soon
/// as they are reached, shared items follow the applied order, applied-only
/// items come where the applied list has them.
fn merge_items(
    lhs: &[(PathElement, &Value)],
    rhs: &[(PathElement, &Value)],
    elem: &TypeNode,
) -> Result<Vec<Value>, WalkError> {
    let in_rhs = |pe: &PathElement| rhs.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
    let in_lhs = |pe: &PathElement| lhs.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
    // Shared items, in applied order: the next one we expect to reach.
    let mut shared = rhs
        .iter()
        .filter(|(p, _)| in_lhs(p).is_some())
        .map(|(p, _)| p);
    let mut next_shared = shared.next();
    let mut done: Vec<&PathElement> = Vec::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut l, mut r) = (0, 0);
    while l < lhs.len() || r < rhs.len() {
        if l < lhs.len() && r < rhs.len() {
            let pe = &lhs[l].0;
            if *pe == rhs[r].0 {
                out.push(merge(lhs[l].1, rhs[r].1, elem)?);
                done.push(pe);
                l += 1;
                r += 1;
                next_shared = shared.next();
                continue;
            }
            if in_rhs(pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                l += 1;
                continue;
            }
        }
        if l < lhs.len() {
            let pe = &lhs[l].0;
            if in_rhs(pe).is_none() {
                out.push(lhs[l].1.clone());
                l += 1;
                continue;
            }
            if done.contains(&pe) {
                l += 1;
                continue;
            }
        }
        if r < rhs.len() {
            let pe = &rhs[r].0;
            done.push(pe);
            out.push(match in_lhs(pe) {
                Some(lv) => merge(lv, rhs[r].1, elem)?,
                None => merge(&Value::Null, rhs[r].1, elem)?,
            });
            r += 1;
            if next_shared == Some(pe) {
                next_shared = shared.next();
            }
        }
    }
    Ok(out)
}

/// Remove one path from an object; `true` if something was removed.
pub fn remove_path(v: &mut Value, path: &[PathElement], node: &TypeNode) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match (v, first) {
        (Value::Object(map), PathElement::Field(k)) => {
            if rest.is_empty() {
                return map.shift_remove(k).is_some();
            }
            let child = node.child(k).0;
            let removed = map.get_mut(k).is_some_and(|c| remove_path(c, rest, child));
            // A struct whose last owned field was removed goes too: leaving `{}` behind
            // would fail its `required` fields (SMD's remove walker keeps no empty map).
            if removed
                && map
                    .get(k)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
            {
                map.shift_remove(k);
            }
            removed
        }
        (Value::Array(items), pe) => {
            let pos = items
                .iter()
                .enumerate()
                .position(|(i, item)| item_pe(item, i, node).is_ok_and(|p| p == *pe));
            let Some(pos) = pos else { return false };
            if rest.is_empty() {
                items.remove(pos);
                true
            } else {
                remove_path(&mut items[pos], rest, node.element())
            }
        }
        _ => false,
    }
}
