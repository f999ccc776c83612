//! The object store: one global resourceVersion counter, current objects per resource, a
//! bounded event history and the live watcher channels (docs/kubernetes-api.md §2.1, §2.10).
//!
//! Everything sits behind one mutex held by the caller, which gives every write the
//! read-modify-write atomicity of the apiserver's `GuaranteedUpdate`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Objects of one resource, ordered by (namespace, name) like etcd keys.
pub type Objects = BTreeMap<(String, String), Arc<Value>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change. `old` is the previous state (for selector transitions and for
/// rebuilding snapshots of earlier revisions).
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub store_key: String,
    pub etype: EventType,
    pub obj: Arc<Value>,
    pub old: Option<Arc<Value>>,
}

struct Watcher {
    store_key: String,
    tx: mpsc::UnboundedSender<Arc<Event>>,
}

/// Counters for `/__emulator/stats`.
#[derive(Clone, Debug, Default)]
pub struct WriteStats {
    pub changed: u64,
    pub noop: u64,
}

pub struct Store {
    rv: u64,
    objects: HashMap<String, Objects>,
    history: VecDeque<Arc<Event>>,
    history_cap: usize,
    /// Every event with rv <= this has been dropped from history.
    compacted_rv: u64,
    watchers: Vec<Watcher>,
    pub writes: WriteStats,
}

fn key_of(obj: &Value) -> (String, String) {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    (ns.to_string(), name.to_string())
}

fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), json!(rv.to_string()));
    }
}

impl Store {
    pub fn new(history_cap: usize) -> Store {
        Store {
            rv: 1,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_cap: history_cap.max(1),
            compacted_rv: 1,
            watchers: Vec::new(),
            writes: WriteStats::default(),
        }
    }

    /// The current global revision.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn compacted_rv(&self) -> u64 {
        self.compacted_rv
    }

    pub fn get(&self, store_key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(store_key)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .cloned()
    }

    /// All current objects of a resource.
    pub fn objects(&self, store_key: &str) -> Objects {
        self.objects.get(store_key).cloned().unwrap_or_default()
    }

    /// All current objects of a resource, borrowed (lists avoid copying the index).
    pub fn objects_ref(&self, store_key: &str) -> Option<&Objects> {
        self.objects.get(store_key)
    }

    /// Every stored object of every resource (for the garbage collector).
    pub fn all_objects(&self) -> impl Iterator<Item = (&String, &Arc<Value>)> {
        self.objects
            .iter()
            .flat_map(|(k, m)| m.values().map(move |v| (k, v)))
    }

    /// The objects of a resource as they were at revision `at`, rebuilt by undoing later
    /// events; `None` when history no longer reaches back that far (→ 410 Expired).
    pub fn snapshot(&self, store_key: &str, at: u64) -> Option<Objects> {
        if at < self.compacted_rv {
            return None;
        }
        let mut objs = self.objects(store_key);
        for ev in self.history.iter().rev() {
            if ev.rv <= at {
                break;
            }
            if ev.store_key != store_key {
                continue;
            }
            let key = key_of(&ev.obj);
            match (&ev.etype, &ev.old) {
                (EventType::Added, _) => {
                    objs.remove(&key);
                }
                (_, Some(old)) => {
                    objs.insert(key, old.clone());
                }
                (_, None) => {}
            }
        }
        Some(objs)
    }

    /// Stores a new object: assigns the next RV and emits ADDED.
    pub fn create(&mut self, store_key: &str, mut obj: Value) -> Arc<Value> {
        self.rv += 1;
        set_rv(&mut obj, self.rv);
        let obj = Arc::new(obj);
        self.objects
            .entry(store_key.to_string())
            .or_default()
            .insert(key_of(&obj), obj.clone());
        self.writes.changed += 1;
        self.emit(store_key, EventType::Added, obj.clone(), None);
        obj
    }

    /// Replaces an object. A result equal to the stored object (RV aside) is a no-op: nothing
    /// is persisted, the RV does not move and no event is emitted (docs/kubernetes-api.md §2.1,
    /// §7.1).
    pub fn update(&mut self, store_key: &str, old: &Arc<Value>, mut new: Value) -> Arc<Value> {
        let old_rv = old
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), old_rv);
        }
        if new == **old {
            self.writes.noop += 1;
            return old.clone();
        }
        self.rv += 1;
        set_rv(&mut new, self.rv);
        let new = Arc::new(new);
        self.objects
            .entry(store_key.to_string())
            .or_default()
            .insert(key_of(&new), new.clone());
        self.writes.changed += 1;
        self.emit(
            store_key,
            EventType::Modified,
            new.clone(),
            Some(old.clone()),
        );
        new
    }

    /// Removes an object; the DELETED event carries its last state with the deletion RV.
    pub fn delete(&mut self, store_key: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self
            .objects
            .get_mut(store_key)?
            .remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        let mut last = (*old).clone();
        set_rv(&mut last, self.rv);
        let last = Arc::new(last);
        self.writes.changed += 1;
        self.emit(store_key, EventType::Deleted, last.clone(), Some(old));
        Some(last)
    }

    fn emit(
        &mut self,
        store_key: &str,
        etype: EventType,
        obj: Arc<Value>,
        old: Option<Arc<Value>>,
    ) {
        let ev = Arc::new(Event {
            rv: self.rv,
            store_key: store_key.to_string(),
            etype,
            obj,
            old,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_rv = dropped.rv;
            }
        }
        self.watchers.retain(|w| !w.tx.is_closed());
        for w in &self.watchers {
            if w.store_key == store_key {
                let _ = w.tx.send(ev.clone());
            }
        }
    }

    /// Events of a resource after `rv`, or `None` if some of them were compacted away.
    pub fn events_since(&self, store_key: &str, rv: u64) -> Option<Vec<Arc<Event>>> {
        if rv < self.compacted_rv {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|e| e.rv > rv && e.store_key == store_key)
                .cloned()
                .collect(),
        )
    }

    /// Registers a live watcher; events committed after this call reach `rx`.
    pub fn subscribe(&mut self, store_key: &str) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.watchers.push(Watcher {
            store_key: store_key.to_string(),
            tx,
        });
        rx
    }

    /// Drops all watch history: any resume from an older RV then gets 410 (test hook).
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// Closes every live watch stream (test hook).
    pub fn drop_watches(&mut self) {
        self.watchers.clear();
    }

    pub fn watcher_count(&self) -> usize {
        self.watchers.iter().filter(|w| !w.tx.is_closed()).count()
    }

    /// Removes a whole resource (CRD deletion after its objects are gone).
    pub fn drop_resource(&mut self, store_key: &str) {
        self.objects.remove(store_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, v: i64) -> Value {
        json!({"metadata":{"name":name,"namespace":"default"},"spec":{"v":v}})
    }

    #[test]
    fn noop_update_changes_nothing() {
        let mut s = Store::new(100);
        let mut rx = s.subscribe("k");
        let a = s.create("k", obj("a", 1));
        let rv = s.rv();
        let same = s.update("k", &a, obj("a", 1));
        assert_eq!(s.rv(), rv);
        assert!(Arc::ptr_eq(&same, &a));
        assert_eq!(s.writes.noop, 1);
        assert_eq!(rx.try_recv().unwrap().etype, EventType::Added);
        assert!(rx.try_recv().is_err());
        let b = s.update("k", &a, obj("a", 2));
        assert_eq!(s.rv(), rv + 1);
        assert_eq!(
            b["metadata"]["resourceVersion"],
            json!((rv + 1).to_string())
        );
        assert_eq!(rx.try_recv().unwrap().etype, EventType::Modified);
    }

    #[test]
    fn snapshots_rebuild_earlier_revisions() {
        let mut s = Store::new(100);
        let a = s.create("k", obj("a", 1));
        let at = s.rv();
        s.update("k", &a, obj("a", 2));
        s.create("k", obj("b", 1));
        s.delete("k", "default", "a");
        let snap = s.snapshot("k", at).unwrap();
        assert_eq!(snap.len(), 1);
        let a_then = snap.get(&("default".into(), "a".into())).unwrap();
        assert_eq!(a_then["spec"]["v"], 1);
        assert_eq!(s.objects("k").len(), 1);
    }

    #[test]
    fn history_is_bounded_and_compaction_expires_old_rvs() {
        let mut s = Store::new(2);
        let start = s.rv();
        for i in 0..5 {
            s.create("k", obj(&format!("o{i}"), i));
        }
        assert!(s.events_since("k", start).is_none());
        assert_eq!(s.events_since("k", s.rv() - 1).unwrap().len(), 1);
        s.compact();
        assert!(s.events_since("k", s.rv() - 1).is_none());
        assert_eq!(s.events_since("k", s.rv()).unwrap().len(), 0);
    }

    #[test]
    fn delete_carries_a_new_rv() {
        let mut s = Store::new(10);
        s.create("k", obj("a", 1));
        let gone = s.delete("k", "default", "a").unwrap();
        assert_eq!(
            gone["metadata"]["resourceVersion"],
            json!(s.rv().to_string())
        );
        assert!(s.get("k", "default", "a").is_none());
    }
}
