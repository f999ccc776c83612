//! Watching several namespaces with one controller (`--watch-namespaces a,b,c`).
//!
//! RBAC stays namespaced, so each namespace gets its own watch; but the controller gets one
//! store, one queue and one concurrency limit. kube-runtime's reflector cannot take merged
//! watcher streams as they are: every stream's relist (`Init` … `InitDone`) would replace the
//! whole store with that one namespace's objects. [`Merge`] turns each namespace's relist into
//! plain upserts plus deletes of that namespace's vanished objects, and marks the store ready
//! once every namespace has listed.

use std::{collections::HashSet, fmt::Debug, hash::Hash};

use futures::{Stream, StreamExt, stream};
use kube::{
    Api, Resource,
    runtime::{
        WatchStreamExt,
        reflector::{Lookup, ObjectRef, Store, store::Writer},
        watcher,
    },
};
use serde::de::DeserializeOwned;

/// Which namespaces the operator covers: all, or a list (watched one by one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Namespaces(Vec<String>),
}

impl Scope {
    /// One `Api` per watched namespace (one cluster-wide `Api` for [`Scope::All`]).
    pub fn apis<K>(&self, client: &kube::Client) -> Vec<Api<K>>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match self {
            Scope::All => vec![Api::all(client.clone())],
            Scope::Namespaces(ns) => ns
                .iter()
                .map(|n| Api::namespaced(client.clone(), n))
                .collect(),
        }
    }

    /// This scope, plus `namespace` if it is not covered yet.
    pub fn including(&self, namespace: &str) -> Scope {
        match self {
            Scope::All => Scope::All,
            Scope::Namespaces(ns) if ns.iter().any(|n| n == namespace) => self.clone(),
            Scope::Namespaces(ns) => {
                Scope::Namespaces(ns.iter().cloned().chain([namespace.to_string()]).collect())
            }
        }
    }

    /// The namespace of each `Api` from [`Scope::apis`], in order (`None`: all).
    fn namespaces(&self) -> Vec<Option<String>> {
        match self {
            Scope::All => vec![None],
            Scope::Namespaces(ns) => ns.iter().cloned().map(Some).collect(),
        }
    }
}

/// Folds per-namespace watcher events into one store (see the module docs).
pub struct Merge<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    writer: Writer<K>,
    reader: Store<K>,
    /// The namespace each stream covers (`None`: every namespace).
    namespaces: Vec<Option<String>>,
    /// Objects seen so far in each stream's current relist.
    relisting: Vec<Option<HashSet<ObjectRef<K>>>>,
    listed: Vec<bool>,
    ready: bool,
}

impl<K> Merge<K>
where
    K: Lookup + Clone + 'static,
    K::DynamicType: Default + Eq + Hash + Clone,
{
    pub fn new(namespaces: Vec<Option<String>>) -> Self {
        let writer = Writer::<K>::default();
        let reader = writer.as_reader();
        let n = namespaces.len();
        Merge {
            writer,
            reader,
            namespaces,
            relisting: vec![None; n],
            listed: vec![false; n],
            ready: false,
        }
    }

    pub fn store(&self) -> Store<K> {
        self.reader.clone()
    }

    fn key(o: &K) -> ObjectRef<K> {
        o.to_object_ref(Default::default())
    }

    fn upsert(&mut self, o: K) {
        self.writer.apply_watcher_event(&watcher::Event::Apply(o));
    }

    /// Applies one event of stream `i`; returns the objects to trigger reconciles for.
    pub fn apply(&mut self, i: usize, event: watcher::Event<K>) -> Vec<K> {
        if self.namespaces.len() == 1 {
            return self.pass_through(event);
        }
        match event {
            watcher::Event::Init => {
                self.relisting[i] = Some(HashSet::new());
                vec![]
            }
            watcher::Event::InitApply(o) => {
                if let Some(seen) = &mut self.relisting[i] {
                    seen.insert(Self::key(&o));
                }
                self.upsert(o.clone());
                vec![o]
            }
            watcher::Event::Apply(o) => {
                self.upsert(o.clone());
                vec![o]
            }
            watcher::Event::Delete(o) => {
                self.writer.apply_watcher_event(&watcher::Event::Delete(o));
                vec![]
            }
            watcher::Event::InitDone => {
                let seen = self.relisting[i].take().unwrap_or_default();
                let ns = self.namespaces[i].clone();
                // Gone while this stream was not watching (e.g. after a 410 relist): only
                // this stream's namespace is affected, the others keep their objects.
                let vanished: Vec<_> = self
                    .reader
                    .state()
                    .into_iter()
                    .filter(|o| ns.is_none() || o.namespace().as_deref() == ns.as_deref())
                    .filter(|o| !seen.contains(&Self::key(o)))
                    .collect();
                for o in vanished {
                    self.writer
                        .apply_watcher_event(&watcher::Event::Delete(o.as_ref().clone()));
                }
                self.listed[i] = true;
                if !self.ready && self.listed.iter().all(|l| *l) {
                    self.ready = true;
                    self.mark_ready();
                }
                vec![]
            }
        }
    }

    /// One stream: its relists are the whole store's, so the writer takes them as they are
    /// (into its buffer, swapped in at `InitDone`). Folding them into upserts would make
    /// [`Merge::mark_ready`] copy the whole store once more at start, which at 10,000 users
    /// was the operator's largest peak allocation (docs/operations/performance.md).
    fn pass_through(&mut self, event: watcher::Event<K>) -> Vec<K> {
        self.writer.apply_watcher_event(&event);
        match event {
            watcher::Event::InitApply(o) | watcher::Event::Apply(o) => vec![o],
            watcher::Event::Init | watcher::Event::InitDone | watcher::Event::Delete(_) => vec![],
        }
    }

    /// The store's readiness is released by an `InitDone`, which also swaps in the relist
    /// buffer: relist the store's own content so the swap changes nothing.
    fn mark_ready(&mut self) {
        let all = self.reader.state();
        self.writer.apply_watcher_event(&watcher::Event::Init);
        for o in all {
            self.writer
                .apply_watcher_event(&watcher::Event::InitApply(o.as_ref().clone()));
        }
        self.writer.apply_watcher_event(&watcher::Event::InitDone);
    }
}

/// One store fed by a watch per namespace of `scope`, and the stream of applied objects that
/// triggers the controller (`Controller::for_stream`).
pub fn reflector<K>(
    client: &kube::Client,
    scope: &Scope,
    wc: watcher::Config,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Lookup<DynamicType = <K as Resource>::DynamicType>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
    <K as Resource>::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let mut merge = Merge::<K>::new(scope.namespaces());
    let store = merge.store();
    let streams = scope
        .apis::<K>(client)
        .into_iter()
        .enumerate()
        .map(|(i, api)| {
            watcher(api, wc.clone())
                .default_backoff()
                .modify(slim::<K>)
                .map(move |e| (i, e))
                .boxed()
        });
    let merged = stream::select_all(streams).flat_map(move |(i, e)| {
        let out: Vec<Result<K, watcher::Error>> = match e {
            Ok(e) => merge.apply(i, e).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        stream::iter(out)
    });
    (store, merged)
}

/// kubectl's copy of the whole applied object (client-side apply).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the stores keep of an object: all but `managedFields` and kubectl's last-applied
/// annotation. Reconciles read their object fresh from the API server, so a store only
/// routes events and answers index questions (connection, group, user id); those two
/// fields were about half of a cached DashboardUser, and the annotation repeats its spec
/// (docs/operations/performance.md).
pub fn slim<K: Resource>(o: &mut K) {
    let meta = o.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(LAST_APPLIED);
        if a.is_empty() {
            meta.annotations = None;
        }
    }
}

/// Every object touched (applied or deleted) in any namespace of `scope`: the input of
/// `owns_stream` / `watches_stream`, which need no store.
pub fn touched<K>(
    client: &kube::Client,
    scope: &Scope,
    wc: watcher::Config,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    stream::select_all(scope.apis::<K>(client).into_iter().map(|api| {
        watcher(api, wc.clone())
            .default_backoff()
            .touched_objects()
            .boxed()
    }))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::{ResourceExt, api::ObjectMeta};

    use super::*;

    fn cm(ns: &str, name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn names(s: &Store<ConfigMap>) -> Vec<String> {
        let mut v: Vec<String> = s
            .state()
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    ResourceExt::namespace(o.as_ref()).unwrap_or_default(),
                    o.name_any()
                )
            })
            .collect();
        v.sort();
        v
    }

    fn list(m: &mut Merge<ConfigMap>, i: usize, objs: &[ConfigMap]) -> Vec<ConfigMap> {
        let mut out = m.apply(i, watcher::Event::Init);
        for o in objs {
            out.extend(m.apply(i, watcher::Event::InitApply(o.clone())));
        }
        out.extend(m.apply(i, watcher::Event::InitDone));
        out
    }

    #[test]
    fn stores_keep_no_managed_fields_or_last_applied_copy() {
        let mut o = cm("a", "x");
        o.metadata.managed_fields = Some(vec![Default::default()]);
        o.metadata.labels = Some([("app".to_string(), "x".to_string())].into());
        o.metadata.annotations = Some(
            [
                (LAST_APPLIED.to_string(), "{\"big\":true}".to_string()),
                ("userop.dev/rotate-access-key".to_string(), "1".to_string()),
            ]
            .into(),
        );
        slim(&mut o);
        assert_eq!(o.metadata.managed_fields, None);
        let annotations = o.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(
            annotations.keys().collect::<Vec<_>>(),
            ["userop.dev/rotate-access-key"],
            "other annotations are kept"
        );
        assert_eq!(o.labels().get("app").map(String::as_str), Some("x"));
        // Nothing left: no empty map either.
        let mut only = cm("a", "y");
        only.metadata.annotations = Some([(LAST_APPLIED.to_string(), "{}".to_string())].into());
        slim(&mut only);
        assert_eq!(only.metadata.annotations, None);
    }

    #[tokio::test]
    async fn one_namespace_relisting_keeps_the_others() {
        let mut m = Merge::<ConfigMap>::new(vec![Some("a".into()), Some("b".into())]);
        let store = m.store();
        assert_eq!(list(&mut m, 0, &[cm("a", "x"), cm("a", "y")]).len(), 2);
        // Not ready until every namespace has listed, even an empty one.
        assert!(
            tokio::time::timeout(
                std::time::Duration::from_millis(50),
                store.wait_until_ready()
            )
            .await
            .is_err()
        );
        list(&mut m, 1, &[]);
        store.wait_until_ready().await.unwrap();
        assert_eq!(names(&store), ["a/x", "a/y"], "readiness kept the content");

        // b gets an object; then a relists without y (deleted during a watch gap).
        assert_eq!(m.apply(1, watcher::Event::Apply(cm("b", "z"))).len(), 1);
        list(&mut m, 0, &[cm("a", "x")]);
        assert_eq!(names(&store), ["a/x", "b/z"]);
        // Deletes trigger nothing (finalizers do the cleanup) but leave the store.
        assert!(m.apply(1, watcher::Event::Delete(cm("b", "z"))).is_empty());
        assert_eq!(names(&store), ["a/x"]);
    }

    #[tokio::test]
    async fn all_namespaces_is_one_stream() {
        let mut m = Merge::<ConfigMap>::new(vec![None]);
        let store = m.store();
        assert_eq!(list(&mut m, 0, &[cm("a", "x"), cm("b", "y")]).len(), 2);
        store.wait_until_ready().await.unwrap();
        assert_eq!(names(&store), ["a/x", "b/y"]);
        // A relist keeps the old content until it is done, then replaces it.
        m.apply(0, watcher::Event::Init);
        m.apply(0, watcher::Event::InitApply(cm("b", "y")));
        assert_eq!(names(&store), ["a/x", "b/y"], "readable while relisting");
        m.apply(0, watcher::Event::InitDone);
        assert_eq!(names(&store), ["b/y"]);
        assert_eq!(m.apply(0, watcher::Event::Apply(cm("c", "z"))).len(), 1);
        assert!(m.apply(0, watcher::Event::Delete(cm("b", "y"))).is_empty());
        assert_eq!(names(&store), ["c/z"]);
    }
}
