//! `metadata.managedFields` bookkeeping for apply and for ordinary writes
//! (apimachinery `managedfields/internal` + structured-merge-diff `merge.Updater`).

use super::ApplyError;
use super::fieldset::{FieldSet, PathElement, path_string};
use super::typeinfo::TypeInfo;
use super::walk::{Comparison, compare, merge, remove_path, to_field_set};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: String,
    set: FieldSet,
}

impl Entry {
    fn same_key(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// `printManager` of conflict.go.
    fn display(&self) -> String {
        let mut s = super::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                super::go_quote(&self.subresource)
            );
        }
        if self.operation == "Update" {
            s = match &self.time {
                Some(t) => format!("{s} using {} at {t}", self.api_version),
                None => format!("{s} using {}", self.api_version),
            };
        }
        s
    }

    fn encode(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }

    fn decode(v: &Value) -> Option<Entry> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Entry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation")?,
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time"),
            subresource: s("subresource").unwrap_or_default(),
            set: FieldSet::from_fields_v1(v.get("fieldsV1").unwrap_or(&json!({}))).ok()?,
        })
    }
}

fn decode_all(obj: Option<&Value>) -> Vec<Entry> {
    obj.and_then(|o| o.pointer("/metadata/managedFields"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Entry::decode).collect())
        .unwrap_or_default()
}

/// `sortEncodedManagedFields`: Apply before Update, then by time, manager,
/// apiVersion, subresource.
fn write_all(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|p, q| {
        (
            &p.operation,
            p.time.as_deref().unwrap_or(""),
            &p.manager,
            &p.api_version,
            &p.subresource,
        )
            .cmp(&(
                &q.operation,
                q.time.as_deref().unwrap_or(""),
                &q.manager,
                &q.api_version,
                &q.subresource,
            ))
    });
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let meta = root.entry("metadata").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        meta.shift_remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(Entry::encode).collect()),
        );
    }
}

/// Fields never tracked (`NewStripMetaManager`).
fn strip_set() -> FieldSet {
    let mut s = FieldSet::new();
    let f = |n: &str| PathElement::Field(n.to_string());
    s.insert(&[f("apiVersion")]);
    s.insert(&[f("kind")]);
    s.insert(&[f("metadata")]);
    for n in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        s.insert(&[f("metadata"), f(n)]);
    }
    s
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove("managedFields");
    }
    v
}

/// Go's `omitempty` on ObjectMeta: empty maps/lists are never stored.
fn drop_empty_metadata(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|k, v| {
            let collection = matches!(
                k.as_str(),
                "labels" | "annotations" | "finalizers" | "ownerReferences"
            );
            let empty =
                v.as_object().is_some_and(Map::is_empty) || v.as_array().is_some_and(Vec::is_empty);
            !(collection && empty)
        });
    }
}

/// The part of an applied config the endpoint honours (reset fields,
/// docs/kubernetes-api.md §4.1.10): `/status` keeps only status (plus identity), the main endpoint
/// drops status when the kind has a status subresource.
fn reset_config(applied: &Value, subresource: Option<&str>, ti: &TypeInfo) -> Value {
    let mut config = without_managed_fields(applied);
    let Some(map) = config.as_object_mut() else {
        return config;
    };
    if subresource == Some("status") {
        map.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"));
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.retain(|k, _| k == "name" || k == "namespace");
        }
    } else if ti.status_subresource {
        map.shift_remove("status");
    }
    config
}

/// `failed to create typed patch object (<group/version>, Kind=<kind>): <path>: <why>`.
fn walk_err(applied: &Value) -> impl Fn(super::walk::WalkError) -> ApplyError + '_ {
    move |e| {
        let s = |k: &str| applied.get(k).and_then(Value::as_str).unwrap_or("");
        let gv = s("apiVersion");
        let gv = if gv.contains('/') {
            gv.to_string()
        } else {
            format!("/{gv}")
        };
        ApplyError::Internal(format!(
            "failed to create typed patch object ({gv}, Kind={}): {}",
            s("kind"),
            e.0
        ))
    }
}

/// Server-side apply; see [`super::apply`].
pub(super) fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    subresource: Option<&str>,
    ti: &TypeInfo,
    now: &str,
) -> Result<Value, ApplyError> {
    let sub = subresource.unwrap_or("");
    let live_full = live.cloned().unwrap_or_else(|| json!({}));
    let live_obj = without_managed_fields(&live_full);
    let config = reset_config(applied, subresource, ti);
    // Merge into the full live object so managedFields keeps its position and a
    // no-op apply serialises byte-identically.
    let new_set = to_field_set(&config, &ti.root)
        .map_err(walk_err(applied))?
        .difference(&strip_set());
    let mut merged = merge(&live_full, &config, &ti.root).map_err(walk_err(applied))?;
    let mut entries = decode_all(live);
    let api_version = applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mine = entries
        .iter()
        .position(|e| e.same_key(manager, "Apply", sub));
    let last_set = mine.map(|i| entries[i].set.clone()).unwrap_or_default();

    // Drop what this manager applied before and omits now, unless someone
    // (including its new self) still owns it or something below it.
    let owned = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != mine)
        .fold(new_set.clone(), |acc, (_, e)| acc.union(&e.set));
    for path in last_set.difference(&new_set).paths() {
        if !owned.has_at_or_below(&path) {
            remove_path(&mut merged, &path, &ti.root);
        }
    }
    drop_empty_metadata(&mut merged);

    let merged_obj = without_managed_fields(&merged);
    let cmp = compare(&live_obj, &merged_obj, &ti.root).map_err(walk_err(applied))?;
    let changed = cmp.modified.union(&cmp.added);
    let mut conflicts: Vec<(String, Vec<PathElement>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) != mine {
            for p in e.set.intersection(&changed).paths() {
                conflicts.push((e.display(), p));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflict_error(conflicts));
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) != mine {
            e.set = e.set.difference(&changed).difference(&cmp.removed);
        }
    }
    let object_changed = merged_obj != live_obj;
    let time = match mine {
        Some(i) if !object_changed => entries[i].time.clone(),
        _ => Some(now.to_string()),
    };
    let entry = Entry {
        manager: manager.to_string(),
        operation: "Apply".into(),
        api_version,
        time,
        subresource: sub.to_string(),
        set: new_set,
    };
    match mine {
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    write_all(&mut merged, entries);
    Ok(merged)
}

fn conflict_error(mut conflicts: Vec<(String, Vec<PathElement>)>) -> ApplyError {
    conflicts.sort();
    ApplyError::Conflict(
        conflicts
            .into_iter()
            .map(|(m, p)| (m, path_string(&p)))
            .collect(),
    )
}

/// Ownership for PUT and non-apply patches; see [`super::update_managed_fields`].
pub(super) fn update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    ti: &TypeInfo,
    now: &str,
) -> Result<(), ApplyError> {
    let sub = subresource.unwrap_or("");
    // A client may send managedFields (kube-rs echoes them back); an absent or
    // empty list keeps the stored ones.
    let sent = new
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let mut entries = if sent {
        decode_all(Some(new))
    } else {
        decode_all(old)
    };
    let old_obj = old.map(without_managed_fields).unwrap_or_else(|| json!({}));
    let new_obj = without_managed_fields(new);
    let strip = strip_set();
    let cmp = compare(&old_obj, &new_obj, &ti.root).map_err(walk_err(new))?;
    let cmp = Comparison {
        added: cmp.added.difference(&strip),
        removed: cmp.removed.difference(&strip),
        modified: cmp.modified.difference(&strip),
    };
    if !cmp.is_same() {
        let changed = cmp.modified.union(&cmp.added);
        for e in entries.iter_mut() {
            e.set = e.set.difference(&changed).difference(&cmp.removed);
        }
        let api_version = new
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match entries
            .iter()
            .position(|e| e.same_key(manager, "Update", sub))
        {
            Some(i) => {
                let e = &mut entries[i];
                e.set = e.set.union(&changed);
                e.time = Some(now.to_string());
                e.api_version = api_version;
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version,
                time: Some(now.to_string()),
                subresource: sub.to_string(),
                set: changed,
            }),
        }
    }
    write_all(new, entries);
    Ok(())
}
