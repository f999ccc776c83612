//! Smoke test of the server core with real kube-runtime machinery: a Controller with the
//! `finalizer()` helper, an owned child, status writes and deletion must settle — the
//! no-op rule (docs/kubernetes-api.md §1.4, §2.1) is what keeps this from hot-looping.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::watcher;
use kube::{CustomResource, CustomResourceExt, Resource, ResourceExt};
use kube_emulator::{Emulator, Options};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "smoke.example.com",
    version = "v1",
    kind = "Widget",
    namespaced
)]
#[kube(status = "WidgetStatus")]
pub struct WidgetSpec {
    size: i32,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct WidgetStatus {
    ready: bool,
    observed_generation: Option<i64>,
}

const FINALIZER: &str = "smoke.example.com/cleanup";
const MANAGER: &str = "smoke-ctrl";

struct Ctx {
    client: kube::Client,
    reconciles: AtomicUsize,
    cleanups: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(String),
}

async fn apply(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, kube::Error> {
    let ns = w.namespace().unwrap_or_default();
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("{}-child", w.name_any())),
            owner_references: Some(vec![w.controller_owner_ref(&()).unwrap()]),
            ..Default::default()
        },
        data: Some([("size".to_string(), w.spec.size.to_string())].into()),
        ..Default::default()
    };
    let pp = PatchParams::apply(MANAGER).force();
    cms.patch(&cm.name_any(), &pp, &Patch::Apply(&cm)).await?;
    let widgets: Api<Widget> = Api::namespaced(ctx.client.clone(), &ns);
    let status = serde_json::json!({
        "apiVersion": "smoke.example.com/v1", "kind": "Widget",
        "status": {"ready": true, "observed_generation": w.metadata.generation},
    });
    widgets
        .patch_status(&w.name_any(), &pp, &Patch::Apply(&status))
        .await?;
    Ok(Action::await_change())
}

async fn reconcile(w: Arc<Widget>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    ctx.reconciles.fetch_add(1, Ordering::SeqCst);
    let widgets: Api<Widget> = Api::namespaced(ctx.client.clone(), &w.namespace().unwrap());
    let c = ctx.clone();
    finalizer(&widgets, FINALIZER, w, |ev| async move {
        match ev {
            FinalizerEvent::Apply(w) => apply(w, c).await,
            FinalizerEvent::Cleanup(_) => {
                c.cleanups.fetch_add(1, Ordering::SeqCst);
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(e.to_string()))
}

fn error_policy(_w: Arc<Widget>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    eprintln!("reconcile failed: {e}");
    Action::requeue(Duration::from_millis(200))
}

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

async fn stats(emu: &Emulator) -> serde_json::Value {
    let shared = emu.shared();
    let st = shared.state.lock();
    serde_json::json!({"rv": st.store.rv(), "changed": st.store.writes.changed})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_with_finalizer_and_ssa_settles() {
    let emu = Emulator::start(Options::default()).await.unwrap();
    let client = emu.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Widget::crd())
        .await
        .unwrap();

    let widgets: Api<Widget> = Api::namespaced(client.clone(), "default");
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        reconciles: AtomicUsize::new(0),
        cleanups: AtomicUsize::new(0),
    });
    let controller = Controller::new(widgets.clone(), watcher::Config::default())
        .owns(
            Api::<ConfigMap>::all(client.clone()),
            watcher::Config::default(),
        )
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);

    let w = Widget::new("w1", WidgetSpec { size: 3 });
    widgets.create(&PostParams::default(), &w).await.unwrap();
    eventually("ready status", || async {
        widgets
            .get("w1")
            .await
            .unwrap()
            .status
            .is_some_and(|s| s.ready)
    })
    .await;
    let got = widgets.get("w1").await.unwrap();
    assert_eq!(got.finalizers(), &[FINALIZER.to_string()]);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let child = cms.get("w1-child").await.unwrap();
    assert_eq!(child.owner_references()[0].uid, got.uid().unwrap());

    // Settled: the store stops changing even though the controller re-applies on every
    // event it sees.
    let mut last = stats(&emu).await;
    let mut quiet_rounds = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while quiet_rounds < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "store never went quiet: {last}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = stats(&emu).await;
        if now == last {
            quiet_rounds += 1;
        } else {
            quiet_rounds = 0;
            last = now;
        }
    }
    let before = ctx.reconciles.load(Ordering::SeqCst);
    assert!(
        before < 20,
        "reconciled {before} times for one object: hot loop"
    );

    // Deletion runs the cleanup, removes the finalizer and garbage-collects the child.
    widgets
        .delete("w1", &DeleteParams::default())
        .await
        .unwrap();
    eventually("widget gone", || async {
        widgets.get_opt("w1").await.unwrap().is_none()
    })
    .await;
    assert!(ctx.cleanups.load(Ordering::SeqCst) >= 1);
    eventually("child collected", || async {
        cms.get_opt("w1-child").await.unwrap().is_none()
    })
    .await;

    handle.abort();
    emu.shutdown().await;
}
