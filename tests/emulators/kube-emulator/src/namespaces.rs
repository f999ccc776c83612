//! Namespace lifecycle (docs/kubernetes-api.md §2.8): the four pre-created namespaces,
//! NamespaceLifecycle admission, and the namespace controller's deletion cascade.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::State;
use crate::delete::{Outcome, delete_object};
use crate::meta;
use crate::registry::ResourceType;
use crate::status::ApiError;

pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

fn ns_type(st: &State) -> ResourceType {
    st.registry
        .get("", "v1", "namespaces")
        .expect("namespaces are built in")
        .clone()
}

pub fn bootstrap(st: &mut State) {
    let key = ns_type(st).store_key();
    for name in SYSTEM_NAMESPACES {
        let obj = json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": uuid::Uuid::new_v4().to_string(),
                "creationTimestamp": meta::now_time(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        st.store.create(&key, obj);
    }
}

/// NamespaceLifecycle admission for creates: 404 if the namespace is missing, 403 if it is
/// terminating.
pub fn check_writable(st: &State, ns: &str, t: &ResourceType, name: &str) -> Result<(), ApiError> {
    let key = ns_type(st).store_key();
    let Some(nsobj) = st.store.get(&key, "", ns) else {
        return Err(ApiError::namespace_not_found(ns));
    };
    if meta::is_deleting(&nsobj) {
        return Err(ApiError::forbidden(
            t,
            name,
            &format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
        ));
    }
    Ok(())
}

/// The `kubernetes.io/metadata.name` label the apiserver always sets on namespaces.
pub fn label_namespace(obj: &mut Value) {
    let name = meta::str_at(obj, "/metadata/name").to_string();
    let m = crate::write::meta_mut(obj);
    let labels = m.entry("labels").or_insert_with(|| json!({}));
    if labels.is_object() {
        labels["kubernetes.io/metadata.name"] = json!(name);
    }
}

/// One pass of the namespace controller: empties terminating namespaces, then releases
/// them. Returns whether anything changed.
pub fn reconcile(st: &mut State) -> bool {
    let nst = ns_type(st);
    let key = nst.store_key();
    let terminating: Vec<Arc<Value>> = st
        .store
        .objects(&key)
        .into_values()
        .filter(|n| meta::is_deleting(n))
        .collect();
    let mut changed = false;
    let types: Vec<ResourceType> = namespaced_types(st);
    for nsobj in terminating {
        let ns = meta::str_at(&nsobj, "/metadata/name").to_string();
        let mut remaining = 0usize;
        for t in &types {
            let objs: Vec<Arc<Value>> = st
                .store
                .objects(&t.store_key())
                .into_values()
                .filter(|o| meta::str_at(o, "/metadata/namespace") == ns)
                .collect();
            for o in objs {
                remaining += 1;
                if !meta::is_deleting(&o) {
                    changed = true;
                    if let Outcome::Gone(_) = delete_object(st, t, &o, None, false) {
                        remaining -= 1;
                    }
                }
            }
        }
        if remaining == 0 {
            // Release the `kubernetes` spec finalizer; the namespace goes once metadata
            // finalizers are gone too.
            let mut new = (*nsobj).clone();
            new["spec"] = json!({});
            if meta::finalizers(&new).is_empty() {
                st.store.delete(&key, "", &ns);
            } else {
                st.store.update(&key, &nsobj, new);
            }
            changed = true;
        }
    }
    changed
}

/// One representative type per namespaced store (Events are served twice from one store).
fn namespaced_types(st: &State) -> Vec<ResourceType> {
    let mut seen = std::collections::HashSet::new();
    st.registry
        .all()
        .filter(|t| t.namespaced)
        .filter(|t| seen.insert(t.store_key()))
        .cloned()
        .collect()
}
