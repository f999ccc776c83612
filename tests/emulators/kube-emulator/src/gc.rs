//! The background controllers a real cluster always runs next to the apiserver: the garbage
//! collector (ownerReferences by uid; background, foreground, orphan —
//! docs/kubernetes-api.md §2.7), the namespace controller (docs/kubernetes-api.md §2.8) and the CRD
//! cleanup finalizer (docs/kubernetes-api.md §2.12).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::delete::{FOREGROUND, ORPHAN, delete_object, has_pending_finalizers};
use crate::meta;
use crate::registry::ResourceType;
use crate::{Shared, State};

/// Periodic pass even without a wake-up, so nothing waits forever on a missed notification.
const RESYNC: Duration = Duration::from_secs(1);

pub async fn run(shared: Arc<Shared>) {
    let shutdown = crate::stopped(shared.shutdown.clone());
    tokio::pin!(shutdown);
    let mut last_rv = 0;
    loop {
        tokio::select! {
            _ = shared.gc_wake.notified() => {}
            _ = tokio::time::sleep(RESYNC) => {}
            _ = &mut shutdown => return,
        }
        let delay = shared.knobs.lock().gc_delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        // Nothing was written since the last pass: nothing can have become collectable.
        if shared.state.lock().store.rv() == last_rv {
            continue;
        }
        // Run to a fixpoint: one deletion can orphan further dependents.
        for _ in 0..100 {
            let changed = {
                let mut st = shared.state.lock();
                let a = crate::namespaces::reconcile(&mut st);
                let b = crate::crd::reconcile_cleanup(&mut st);
                let c = collect(&mut st);
                last_rv = st.store.rv();
                a || b || c
            };
            if !changed {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
}

/// Removes one finalizer; an object being deleted whose last finalizer goes is deleted.
pub fn remove_finalizer(st: &mut State, t: &ResourceType, obj: &Arc<Value>, fin: &str) {
    let mut fins = meta::finalizers(obj);
    fins.retain(|f| f != fin);
    let mut new = (**obj).clone();
    meta::set_finalizers(&mut new, &fins);
    let key = t.store_key();
    if meta::is_deleting(obj) && !has_pending_finalizers(t, &new) {
        let ns = meta::str_at(obj, "/metadata/namespace").to_string();
        let name = meta::str_at(obj, "/metadata/name").to_string();
        st.store.delete(&key, &ns, &name);
        crate::crd::on_deleted(st, t, obj);
    } else {
        st.store.update(&key, obj, new);
    }
}

struct Node {
    t: Arc<ResourceType>,
    obj: Arc<Value>,
}

fn types_by_store_key(st: &State) -> HashMap<String, Arc<ResourceType>> {
    let mut m = HashMap::new();
    for t in st.registry.all() {
        m.entry(t.store_key())
            .or_insert_with(|| Arc::new(t.clone()));
    }
    m
}

fn refs(obj: &Value) -> Vec<Value> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// An owner being deleted in foreground or orphan mode: it waits on its dependents.
fn waits_on_dependents(o: &Value) -> bool {
    meta::is_deleting(o)
        && meta::finalizers(o)
            .iter()
            .any(|f| f == ORPHAN || f == FOREGROUND)
}

/// A namespaced owner in another namespace than its dependent counts as absent
/// (docs/kubernetes-api.md §2.7).
fn owner_in_scope(owner: &Value, dependent_ns: &str) -> bool {
    let ons = meta::str_at(owner, "/metadata/namespace");
    ons.is_empty() || ons == dependent_ns
}

/// Whether a pass could change anything: a dependent with an owner that is absent (or out
/// of scope) or waiting on its dependents, or such an owner itself. It only borrows; the
/// pass allocates per object (uids, reference and finalizer lists) under the state lock,
/// which at tens of thousands of objects, once a second, stalled every request.
fn anything_to_collect(st: &State, types: &HashMap<String, Arc<ResourceType>>) -> bool {
    let known = || {
        st.store
            .all_objects()
            .filter(|(k, _)| types.contains_key(*k))
            .map(|(_, o)| o)
    };
    let mut by_uid: HashMap<&str, &Value> = HashMap::new();
    for obj in known() {
        if waits_on_dependents(obj) {
            return true;
        }
        by_uid.insert(meta::str_at(obj, "/metadata/uid"), obj);
    }
    known().any(|obj| {
        let Some(refs) = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
        else {
            return false;
        };
        let ns = meta::str_at(obj, "/metadata/namespace");
        refs.iter().any(|r| {
            let owner = by_uid
                .get(r["uid"].as_str().unwrap_or(""))
                .filter(|o| owner_in_scope(o, ns));
            owner.is_none_or(|o| waits_on_dependents(o))
        })
    })
}

/// One garbage-collector pass. Returns whether anything changed.
pub fn collect(st: &mut State) -> bool {
    let types = types_by_store_key(st);
    if !anything_to_collect(st, &types) {
        return false;
    }
    let mut by_uid: HashMap<String, Node> = HashMap::new();
    for (key, obj) in st.store.all_objects() {
        if let Some(t) = types.get(key) {
            by_uid.insert(
                meta::str_at(obj, "/metadata/uid").to_string(),
                Node {
                    t: Arc::clone(t),
                    obj: obj.clone(),
                },
            );
        }
    }
    let mut changed = false;
    let mut orphaning: Vec<String> = Vec::new();
    for (uid, n) in &by_uid {
        let fins = meta::finalizers(&n.obj);
        if meta::is_deleting(&n.obj) && fins.iter().any(|f| f == ORPHAN) {
            orphaning.push(uid.clone());
        }
    }
    let dependents: Vec<(Arc<ResourceType>, Arc<Value>)> = by_uid
        .values()
        .filter(|n| !refs(&n.obj).is_empty())
        .map(|n| (n.t.clone(), n.obj.clone()))
        .collect();
    for (t, obj) in dependents {
        let ns = meta::str_at(&obj, "/metadata/namespace");
        let mut solid = Vec::new();
        let mut drop_refs = Vec::new();
        let mut waiting = false;
        for r in refs(&obj) {
            let ruid = r["uid"].as_str().unwrap_or("").to_string();
            let owner = by_uid.get(&ruid).filter(|o| owner_in_scope(&o.obj, ns));
            match owner {
                None => drop_refs.push(ruid),
                Some(o) => {
                    let ofins = meta::finalizers(&o.obj);
                    if meta::is_deleting(&o.obj) && ofins.iter().any(|f| f == FOREGROUND) {
                        waiting = true;
                        drop_refs.push(ruid);
                    } else if meta::is_deleting(&o.obj) && ofins.iter().any(|f| f == ORPHAN) {
                        drop_refs.push(ruid);
                    } else {
                        solid.push(ruid);
                    }
                }
            }
        }
        if drop_refs.is_empty() {
            continue;
        }
        let orphaned_only = drop_refs.iter().all(|u| orphaning.contains(u));
        if solid.is_empty() && !orphaned_only {
            // Every owner is gone (or waiting on its dependents): delete this one.
            if !meta::is_deleting(&obj) {
                let policy = if waiting { Some("Foreground") } else { None };
                delete_object(st, &t, &obj, policy, false);
                changed = true;
            }
            continue;
        }
        // Some owner stays (or the owner orphans): strip only the dropped references.
        let keep: Vec<Value> = refs(&obj)
            .into_iter()
            .filter(|r| !drop_refs.iter().any(|u| r["uid"] == json!(u)))
            .collect();
        let mut new = (*obj).clone();
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            if keep.is_empty() {
                m.remove("ownerReferences");
            } else {
                m.insert("ownerReferences".into(), json!(keep));
            }
        }
        st.store.update(&t.store_key(), &obj, new);
        changed = true;
    }
    // Owners done waiting: orphan finalizers once refs are stripped, foreground ones once no
    // blocking dependent remains.
    for (uid, n) in &by_uid {
        if !meta::is_deleting(&n.obj) {
            continue;
        }
        let fins = meta::finalizers(&n.obj);
        let Some(cur) = st.store.get(
            &n.t.store_key(),
            meta::str_at(&n.obj, "/metadata/namespace"),
            meta::str_at(&n.obj, "/metadata/name"),
        ) else {
            continue;
        };
        if fins.iter().any(|f| f == ORPHAN) && !still_referenced(st, uid, false) {
            remove_finalizer(st, &n.t, &cur, ORPHAN);
            changed = true;
        } else if fins.iter().any(|f| f == FOREGROUND) && !still_referenced(st, uid, true) {
            remove_finalizer(st, &n.t, &cur, FOREGROUND);
            changed = true;
        }
    }
    changed
}

/// Whether any stored object still references `uid` (only blocking references if asked).
fn still_referenced(st: &State, uid: &str, blocking_only: bool) -> bool {
    st.store.all_objects().any(|(_, o)| {
        refs(o).iter().any(|r| {
            r["uid"] == json!(uid) && (!blocking_only || r["blockOwnerDeletion"] == json!(true))
        })
    })
}
