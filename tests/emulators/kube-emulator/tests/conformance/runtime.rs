//! kube-runtime against the target: watchers (list+watch, streaming lists, metadata), the 410
//! re-list path, and a Controller with `owns`, `finalizer()`, `Recorder` and SSA that must
//! settle instead of hot-looping (docs/kubernetes-api.md §1.2–§1.6, Appendix A).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, PartialObjectMeta, Patch, PatchParams,
    PostParams,
};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event as KEvent, EventType, Recorder, Reporter};
use kube::runtime::finalizer::{Event as FEvent, finalizer};
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};
use serde_json::json;

use crate::common::{Target, WAIT, poll, widget_crd, widget_group};

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

/// Reads watcher events until `f` returns true (with a deadline). Stream errors are
/// collected, not fatal: kube's watcher reports a 410 ERROR event as an error item and then
/// re-lists by itself (docs/kubernetes-api.md §1.2).
async fn until<S, K>(
    stream: &mut S,
    mut f: impl FnMut(&Event<K>) -> bool,
) -> (Vec<Event<K>>, Vec<watcher::Error>)
where
    S: futures::Stream<Item = Result<Event<K>, watcher::Error>> + Unpin,
{
    let (mut seen, mut errors) = (Vec::new(), Vec::new());
    loop {
        let item = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("watcher event in time")
            .expect("open");
        match item {
            Ok(ev) => {
                let done = f(&ev);
                seen.push(ev);
                if done {
                    return (seen, errors);
                }
            }
            Err(e) => {
                assert!(errors.len() < 20, "watcher keeps failing: {e}");
                errors.push(e);
            }
        }
    }
}

fn name_of<K: ResourceExt>(e: &Event<K>) -> Option<String> {
    match e {
        Event::Apply(o) | Event::InitApply(o) | Event::Delete(o) => Some(o.name_any()),
        _ => None,
    }
}

#[tokio::test]
async fn watchers_list_watch_streaming_and_metadata() {
    let t = Target::new().await;
    let ns = t.namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(t.client.clone(), &ns);
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();

    for cfg in [
        watcher::Config::default(),
        watcher::Config::default().streaming_lists(),
    ] {
        let mut s = watcher::watcher(api.clone(), cfg).boxed();
        let (init, _) = until(&mut s, |e| matches!(e, Event::InitDone)).await;
        let mut names: Vec<String> = init
            .iter()
            .filter(|e| matches!(e, Event::InitApply(_)))
            .filter_map(name_of)
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        let n = format!("live-{}", uuid::Uuid::new_v4().simple());
        api.create(&PostParams::default(), &cm(&n[..13]))
            .await
            .unwrap();
        let (seen, _) = until(&mut s, |e| matches!(e, Event::Apply(_))).await;
        assert_eq!(name_of(seen.last().unwrap()).as_deref(), Some(&n[..13]));
        api.delete(&n[..13], &Default::default()).await.unwrap();
        let (seen, _) = until(&mut s, |e| matches!(e, Event::Delete(_))).await;
        assert_eq!(name_of(seen.last().unwrap()).as_deref(), Some(&n[..13]));
    }

    let secrets: Api<Secret> = Api::namespaced(t.client.clone(), &ns);
    // `Api<PartialObjectMeta<_>>` makes the watcher send the metadata-only Accept headers.
    let meta: Api<PartialObjectMeta<Secret>> = Api::namespaced(t.client.clone(), &ns);
    let mut m = watcher::watcher(meta, watcher::Config::default()).boxed();
    until(&mut m, |e| matches!(e, Event::InitDone)).await;
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "s"}})).unwrap(),
        )
        .await
        .unwrap();
    let (seen, _) = until(&mut m, |e| matches!(e, Event::Apply(_))).await;
    match seen.last().unwrap() {
        Event::Apply(pom) => assert_eq!(
            pom.metadata.namespace.as_deref(),
            Some(ns.as_str()),
            "objects carry their namespace"
        ),
        _ => unreachable!(),
    }
    t.shutdown().await;
}

#[tokio::test]
async fn watcher_relists_after_compaction() {
    let t = Target::new().await;
    if t.emulator.is_none() {
        return t.shutdown().await;
    }
    let ns = t.namespace().await;
    let api: Api<ConfigMap> = Api::namespaced(t.client.clone(), &ns);
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut s = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    until(&mut s, |e| matches!(e, Event::InitDone)).await;
    // Writes elsewhere move the RV on; compaction then makes the watcher's resume RV too old.
    let other: Api<ConfigMap> = Api::namespaced(t.client.clone(), "default");
    let filler = format!("filler-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    other
        .create(&PostParams::default(), &cm(&filler))
        .await
        .unwrap();
    other.delete(&filler, &Default::default()).await.unwrap();
    for path in ["/__emulator/compact", "/__emulator/drop-watches"] {
        let (code, _, _) = t.raw(http::Method::POST, path, None, None, None).await;
        assert!(code.is_success(), "{path}");
    }
    // docs/kubernetes-api.md §1.2: only a 410 delivered as an ERROR event sends kube's watcher back
    // to a full re-list.
    let (seen, _) = until(&mut s, |e| matches!(e, Event::InitDone)).await;
    assert!(
        seen.iter().any(|e| matches!(e, Event::Init)),
        "watcher re-listed"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::InitApply(o) if o.name_any() == "a"))
    );
    t.shutdown().await;
}

struct Ctx {
    client: kube::Client,
    ar: ApiResource,
    recorder: Recorder,
    reconciles: AtomicUsize,
    cleanups: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
struct ReconcileError(#[from] kube::runtime::finalizer::Error<kube::Error>);

async fn reconcile(w: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    ctx.reconciles.fetch_add(1, Ordering::SeqCst);
    let ns = w.namespace().unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &ctx.ar);
    let c = ctx.clone();
    let status_api = api.clone();
    Ok(finalizer(&api, "conformance.test/cleanup", w, |ev| async move {
        match ev {
            FEvent::Apply(w) => {
                let name = w.name_any();
                let owner = w.controller_owner_ref(&c.ar).unwrap();
                let secret = json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": format!("{name}-secret"), "ownerReferences": [owner]}, "stringData": {"k": "v"}});
                let pp = PatchParams::apply("conformance-ctrl").force();
                Api::<Secret>::namespaced(c.client.clone(), &ns).patch(&format!("{name}-secret"), &pp, &Patch::Apply(&secret)).await?;
                let status = json!({"apiVersion": c.ar.api_version, "kind": "Widget", "status": {
                    "observedGeneration": w.metadata.generation,
                    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}]}});
                status_api.patch_status(&name, &pp, &Patch::Apply(&status)).await?;
                let ev = KEvent { type_: EventType::Normal, reason: "Reconciled".into(), note: Some("ok".into()),
                    action: "Reconcile".into(), secondary: None };
                c.recorder.publish(&ev, &w.object_ref(&c.ar)).await?;
                Ok::<_, kube::Error>(Action::await_change())
            }
            FEvent::Cleanup(_) => {
                c.cleanups.fetch_add(1, Ordering::SeqCst);
                Ok(Action::await_change())
            }
        }
    })
    .await?)
}

#[tokio::test]
async fn controller_with_finalizer_recorder_and_ssa_settles() {
    let t = Target::new().await;
    let group = widget_group();
    t.install_crd(widget_crd(&group)).await;
    let ns = t.namespace().await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&group, "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(t.client.clone(), &ns, &ar);
    let reporter = Reporter {
        controller: "conformance-ctrl".into(),
        instance: Some("conf-1".into()),
    };
    let ctx = Arc::new(Ctx {
        client: t.client.clone(),
        ar: ar.clone(),
        recorder: Recorder::new(t.client.clone(), reporter),
        reconciles: AtomicUsize::new(0),
        cleanups: AtomicUsize::new(0),
    });
    let ctrl = Controller::new_with(widgets.clone(), watcher::Config::default(), ar.clone())
        .owns(
            Api::<Secret>::namespaced(t.client.clone(), &ns),
            watcher::Config::default(),
        )
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(1)),
            ctx.clone(),
        )
        .for_each(|_| async {});
    let handle = tokio::spawn(ctrl);

    let mut w: DynamicObject =
        serde_json::from_value(json!({"apiVersion": ar.api_version, "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 1}}))
        .unwrap();
    w = widgets.create(&PostParams::default(), &w).await.unwrap();
    let ready = poll(|| async {
        let o = widgets.get("w1").await.unwrap();
        let ok =
            o.data["status"]["conditions"][0]["status"] == "True" && !o.finalizers().is_empty();
        ok.then_some(o)
    })
    .await;
    assert_eq!(ready.data["status"]["observedGeneration"], 1);
    let secret = Api::<Secret>::namespaced(t.client.clone(), &ns)
        .get("w1-secret")
        .await
        .unwrap();
    assert_eq!(secret.data.unwrap()["k"].0, b"v");
    assert_eq!(
        secret.metadata.owner_references.unwrap()[0].uid,
        w.uid().unwrap()
    );

    // docs/kubernetes-api.md §1.4: re-applying identical status/Secret must not wake the controller
    // again and again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = ctx.reconciles.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = ctx.reconciles.load(Ordering::SeqCst);
    assert!(
        later - settled <= 1,
        "controller hot-loops: {settled} -> {later} reconciles"
    );

    // kubectl describe's query finds the Recorder's event through core/v1.
    let sel = format!(
        "involvedObject.name%3Dw1,involvedObject.namespace%3D{ns},involvedObject.kind%3DWidget,involvedObject.uid%3D{}",
        w.uid().unwrap()
    );
    let (_, evs) = t
        .get(&format!(
            "/api/v1/namespaces/{ns}/events?fieldSelector={sel}"
        ))
        .await;
    assert!(!evs["items"].as_array().unwrap().is_empty(), "{evs}");

    // Deletion: the finalizer's cleanup runs, the object goes, GC removes the owned Secret.
    let del = widgets.delete("w1", &Default::default()).await.unwrap();
    assert!(
        del.is_left(),
        "object with a finalizer comes back from delete"
    );
    poll(|| async { widgets.get_opt("w1").await.unwrap().is_none().then_some(()) }).await;
    assert!(ctx.cleanups.load(Ordering::SeqCst) >= 1);
    let secrets: Api<Secret> = Api::namespaced(t.client.clone(), &ns);
    poll(|| async {
        secrets
            .get_opt("w1-secret")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    handle.abort();
    t.shutdown().await;
}
