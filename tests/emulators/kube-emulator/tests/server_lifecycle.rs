//! Lifecycle behaviour of the server core through a real kube::Client: namespaces, garbage
//! collection, CRD deletion, watches (resume, 410, selectors, streaming lists), pagination,
//! Events through both APIs, dry-run and no-op writes (docs/kubernetes-api.md §2).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::api::events::v1::Event as EventV1;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use kube_emulator::{Emulator, Options};
use serde_json::json;

async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cm(name: &str, owner: Option<(&str, &str, bool)>) -> ConfigMap {
    let mut v = json!({"metadata": {"name": name}, "data": {"k": "v"}});
    if let Some((oname, uid, block)) = owner {
        v["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": oname, "uid": uid, "blockOwnerDeletion": block}]);
    }
    serde_json::from_value(v).unwrap()
}

async fn start() -> (Emulator, Client) {
    let emu = Emulator::start(Options::default()).await.unwrap();
    let c = emu.client().await;
    (emu, c)
}

#[tokio::test]
async fn namespaces_lifecycle_and_cascade() {
    let (emu, c) = start().await;
    let nss: Api<Namespace> = Api::all(c.clone());
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        nss.get(n).await.unwrap();
    }
    let missing: Api<Secret> = Api::namespaced(c.clone(), "nope");
    let err = missing
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata":{"name":"s"}})).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.is_not_found()),
        "{err:?}"
    );

    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata":{"name":"team-a"}})).unwrap(),
    )
    .await
    .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "team-a");
    cms.create(&PostParams::default(), &cm("plain", None))
        .await
        .unwrap();
    let mut held = cm("held", None);
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &held).await.unwrap();

    let res = nss
        .delete("team-a", &DeleteParams::default())
        .await
        .unwrap();
    let ns = res.left().expect("namespace deletion returns the object");
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    let err = cms
        .create(&PostParams::default(), &cm("late", None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.is_forbidden()),
        "{err:?}"
    );
    eventually("plain configmap removed", || async {
        cms.get_opt("plain").await.unwrap().is_none()
    })
    .await;
    // The finalizer holds both the object and its namespace.
    assert!(
        cms.get("held")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    assert!(nss.get_opt("team-a").await.unwrap().is_some());
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata":{"finalizers":null}})),
    )
    .await
    .unwrap();
    eventually("namespace gone", || async {
        nss.get_opt("team-a").await.unwrap().is_none()
    })
    .await;
    emu.shutdown().await;
}

#[tokio::test]
async fn garbage_collection_background_foreground_orphan() {
    let (emu, c) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let pp = PostParams::default();

    // Background: dependents go after the owner.
    let owner = cms.create(&pp, &cm("bg-owner", None)).await.unwrap();
    cms.create(
        &pp,
        &cm("bg-child", Some(("bg-owner", &owner.uid().unwrap(), false))),
    )
    .await
    .unwrap();
    cms.delete("bg-owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually("bg child collected", || async {
        cms.get_opt("bg-child").await.unwrap().is_none()
    })
    .await;

    // Dangling reference (uid never existed) is collected too.
    cms.create(
        &pp,
        &cm(
            "dangling",
            Some(("ghost", "00000000-0000-0000-0000-000000000000", false)),
        ),
    )
    .await
    .unwrap();
    eventually("dangling collected", || async {
        cms.get_opt("dangling").await.unwrap().is_none()
    })
    .await;

    // Foreground: the owner waits with foregroundDeletion until blocking dependents are gone.
    let owner = cms.create(&pp, &cm("fg-owner", None)).await.unwrap();
    let mut child = cm("fg-child", Some(("fg-owner", &owner.uid().unwrap(), true)));
    child.metadata.finalizers = Some(vec!["example.com/slow".into()]);
    cms.create(&pp, &child).await.unwrap();
    let res = cms
        .delete("fg-owner", &DeleteParams::foreground())
        .await
        .unwrap();
    let o = res.left().expect("foreground deletion returns the object");
    assert!(o.finalizers().contains(&"foregroundDeletion".to_string()));
    eventually("child marked", || async {
        cms.get("fg-child")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    })
    .await;
    assert!(cms.get_opt("fg-owner").await.unwrap().is_some());
    cms.patch(
        "fg-child",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata":{"finalizers":null}})),
    )
    .await
    .unwrap();
    eventually("owner released", || async {
        cms.get_opt("fg-owner").await.unwrap().is_none()
    })
    .await;

    // Orphan: the dependent stays, without the reference.
    let owner = cms.create(&pp, &cm("or-owner", None)).await.unwrap();
    cms.create(
        &pp,
        &cm("or-child", Some(("or-owner", &owner.uid().unwrap(), false))),
    )
    .await
    .unwrap();
    cms.delete("or-owner", &DeleteParams::orphan())
        .await
        .unwrap();
    eventually("owner gone", || async {
        cms.get_opt("or-owner").await.unwrap().is_none()
    })
    .await;
    let child = cms.get("or-child").await.unwrap();
    assert!(child.metadata.owner_references.is_none());
    emu.shutdown().await;
}

fn widget_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.life.example.com"},
        "spec": {"group": "life.example.com", "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0, "default": 1}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}
    })
}

fn gadgets(c: &Client) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("life.example.com", "v1", "Gadget"),
        "gadgets",
    );
    Api::namespaced_with(c.clone(), "default", &ar)
}

#[tokio::test]
async fn crd_pipeline_generation_status_and_deletion() {
    let (emu, c) = start().await;
    let crd_ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "customresourcedefinitions",
    );
    let crds: Api<DynamicObject> = Api::all_with(c.clone(), &crd_ar);
    let crd = crds
        .create(
            &PostParams::default(),
            &serde_json::from_value(widget_crd()).unwrap(),
        )
        .await
        .unwrap();
    let conds = crd.data["status"]["conditions"].as_array().unwrap().clone();
    assert!(
        conds
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    );

    let g = gadgets(&c);
    let obj: DynamicObject = serde_json::from_value(json!({"apiVersion":"life.example.com/v1","kind":"Gadget","metadata":{"name":"g1"},"spec":{"junk":1},"status":{"ready":true}})).unwrap();
    let created = g.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.data["spec"],
        json!({"size": 1}),
        "pruned and defaulted"
    );
    assert!(
        created.data.get("status").is_none(),
        "status dropped on create"
    );

    let bad = g
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":-1}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bad, kube::Error::Api(ref s) if s.is_invalid()),
        "{bad:?}"
    );

    // Status writes do not bump generation; spec writes do; identical writes are no-ops.
    let st = g
        .patch_status(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status":{"ready":true},"spec":{"size":9}})),
        )
        .await
        .unwrap();
    assert_eq!(st.metadata.generation, Some(1));
    assert_eq!(st.data["spec"]["size"], 1);
    let rv = st.resource_version();
    let again = g
        .patch_status(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status":{"ready":true}})),
        )
        .await
        .unwrap();
    assert_eq!(again.resource_version(), rv, "no-op write keeps the RV");
    let sp = g
        .patch(
            "g1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"size":2}})),
        )
        .await
        .unwrap();
    assert_eq!(sp.metadata.generation, Some(2));

    // Deleting the CRD removes its objects, then the type.
    crds.delete("gadgets.life.example.com", &DeleteParams::default())
        .await
        .unwrap();
    eventually("crd gone", || async {
        crds.get_opt("gadgets.life.example.com")
            .await
            .unwrap()
            .is_none()
    })
    .await;
    let err = g.get("g1").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn watches_resume_expire_and_follow_selectors() {
    let (emu, c) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let list = cms.list(&ListParams::default()).await.unwrap();
    let rv0 = list.metadata.resource_version.unwrap();
    cms.create(&PostParams::default(), &cm("w1", None))
        .await
        .unwrap();
    let mut labelled = cm("w2", None);
    labelled.metadata.labels = Some([("app".to_string(), "x".to_string())].into());
    cms.create(&PostParams::default(), &labelled).await.unwrap();

    // Resume from rv0 replays exactly the two creations.
    let wp = WatchParams::default().timeout(2);
    let evs: Vec<_> = cms
        .watch(&wp, &rv0)
        .await
        .unwrap()
        .take(2)
        .try_collect()
        .await
        .unwrap();
    assert!(matches!(&evs[0], WatchEvent::Added(o) if o.name_any() == "w1"));
    assert!(matches!(&evs[1], WatchEvent::Added(o) if o.name_any() == "w2"));

    // Label selector: leaving the selector is a DELETED event.
    let cur = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().labels("app=x").timeout(5), &cur)
        .await
        .unwrap()
        .boxed();
    cms.patch(
        "w2",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata":{"labels":{"app":"y"}}})),
    )
    .await
    .unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Deleted(o) => assert_eq!(o.labels()["app"], "x"),
        other => panic!("expected DELETED, got {other:?}"),
    }

    // A compacted history answers an old RV with an ERROR 410 event in a 200 stream.
    let shared = emu.shared();
    shared.state.lock().store.compact();
    let evs: Vec<_> = cms
        .watch(&wp, &rv0)
        .await
        .unwrap()
        .take(1)
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(&evs[0], WatchEvent::Error(e) if e.code == 410),
        "{evs:?}"
    );

    // Streaming list: ADDED for current objects, then the initial-events-end bookmark.
    let sp = WatchParams::default().initial_events().timeout(2);
    let evs: Vec<_> = cms
        .watch(&sp, "0")
        .await
        .unwrap()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(&evs[2], WatchEvent::Bookmark(b) if b.metadata.annotations.get("k8s.io/initial-events-end").map(String::as_str) == Some("true")),
        "{evs:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn pagination_is_a_consistent_snapshot() {
    let (emu, c) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("p{i}"), None))
            .await
            .unwrap();
    }
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let token = first.metadata.continue_.clone().unwrap();
    // Changes after the first page are invisible to the continuation.
    cms.delete("p4", &DeleteParams::default()).await.unwrap();
    cms.create(&PostParams::default(), &cm("p5", None))
        .await
        .unwrap();
    let mut names: Vec<String> = first.items.iter().map(|o| o.name_any()).collect();
    let mut tok = Some(token);
    while let Some(t) = tok {
        let page = cms
            .list(&ListParams::default().limit(2).continue_token(&t))
            .await
            .unwrap();
        assert_eq!(
            page.metadata.resource_version,
            first.metadata.resource_version
        );
        names.extend(page.items.iter().map(|o| o.name_any()));
        tok = page.metadata.continue_.filter(|s| !s.is_empty());
    }
    assert_eq!(names, ["p0", "p1", "p2", "p3", "p4"]);
    let err = cms
        .list(&ListParams::default().fields("spec.foo=1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn events_are_served_through_both_apis_and_validated() {
    let (emu, c) = start().await;
    let evs: Api<EventV1> = Api::namespaced(c.clone(), "default");
    let ev = json!({"apiVersion":"events.k8s.io/v1","kind":"Event","action":"Reconcile",
        "eventTime":"2026-11-23T06:28:00.343767Z","metadata":{"name":"w1.18ea98af5932d87d"},
        "note":"hi","reason":"Reconciled","type":"Normal",
        "regarding":{"apiVersion":"example.com/v1","kind":"Widget","name":"w1","namespace":"default","uid":"u1"},
        "reportingController":"widget-ctrl","reportingInstance":"vm"});
    evs.create(
        &PostParams::default(),
        &serde_json::from_value(ev.clone()).unwrap(),
    )
    .await
    .unwrap();
    let core: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(c.clone(), "default");
    let lp = ListParams::default()
        .fields("involvedObject.name=w1,involvedObject.kind=Widget,involvedObject.uid=u1");
    let got = core.list(&lp).await.unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].message.as_deref(), Some("hi"));
    assert_eq!(
        got.items[0].reporting_component.as_deref(),
        Some("widget-ctrl")
    );

    let mut bad = ev.clone();
    bad["metadata"]["name"] = json!("W1.x");
    bad["reportingController"] = json!("");
    let err = evs
        .create(
            &PostParams::default(),
            &serde_json::from_value(bad).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.is_invalid()),
        "{err:?}"
    );

    // Dry-run writes validate but persist nothing.
    let secrets: Api<Secret> = Api::namespaced(c.clone(), "default");
    let s: Secret =
        serde_json::from_value(json!({"metadata":{"name":"dry"},"stringData":{"a":"b"}})).unwrap();
    let out = secrets
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &s,
        )
        .await
        .unwrap();
    assert_eq!(out.data.unwrap()["a"].0, b"b");
    assert!(secrets.get_opt("dry").await.unwrap().is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn deployment_scale_subresource() {
    let (emu, c) = start().await;
    let deps: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(c.clone(), "default");
    let d = json!({"metadata":{"name":"d1"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"d1"}},
        "template":{"metadata":{"labels":{"app":"d1"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}});
    let created = deps
        .create(&PostParams::default(), &serde_json::from_value(d).unwrap())
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let scale = deps.get_scale("d1").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(2));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=d1"));
    let patched = deps
        .patch_scale(
            "d1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec":{"replicas":5}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.unwrap().replicas, Some(5));
    let after = deps.get("d1").await.unwrap();
    assert_eq!(after.spec.unwrap().replicas, Some(5));
    assert_eq!(
        after.metadata.generation,
        Some(2),
        "a spec change through /scale bumps generation"
    );
    emu.shutdown().await;
}
