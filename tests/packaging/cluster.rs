//! A Kubernetes API emulator per test, with a kubeconfig for Helm and the real kubectl.

use crate::support::{StepResult, helm, workspace};
use serde_json::{Value, json};
use std::path::PathBuf;

/// A Kubernetes API emulator of the test's own, with a kubeconfig file for Helm and kubectl.
pub struct Cluster {
    pub emulator: kube_emulator::Emulator,
    pub client: kube::Client,
    pub kubeconfig: PathBuf,
    pub dir: Scratch,
}

impl Cluster {
    pub async fn start(tag: &str) -> Cluster {
        let dir = Scratch::new(tag);
        let emulator = kube_emulator::Emulator::start(kube_emulator::Options::default())
            .await
            .expect("kube emulator starts");
        let kubeconfig = dir.path().join("kubeconfig");
        emulator.write_kubeconfig(&kubeconfig).unwrap();
        let client = emulator.client().await;
        Cluster {
            emulator,
            client,
            kubeconfig,
            dir,
        }
    }

    /// Serves a Prometheus Operator kind (`monitoring.coreos.com/v1`), reduced to a schema
    /// that keeps every field: enough for Helm's capability check and for the chart's objects.
    pub async fn serve_monitoring_kind(&self, kind: &str, plural: &str) {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
        use kube::api::{Api, PostParams};
        let crd: CustomResourceDefinition = serde_json::from_value(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.monitoring.coreos.com")},
            "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural,
                               "singular": kind.to_lowercase(), "listKind": format!("{kind}List")},
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                       "x-kubernetes-preserve-unknown-fields": true}}}]}
        }))
        .unwrap();
        Api::<CustomResourceDefinition>::all(self.client.clone())
            .create(&PostParams::default(), &crd)
            .await
            .unwrap();
    }

    /// Helm steps against this cluster (kubeconfig filled in), off the async runtime.
    pub async fn helm(&self, mut steps: Vec<Value>) -> Vec<StepResult> {
        for step in &mut steps {
            step["kubeconfig"] = json!(self.kubeconfig);
        }
        tokio::task::spawn_blocking(move || helm(steps))
            .await
            .unwrap()
    }

    /// The real kubectl with a HOME of its own (its discovery cache must not be shared).
    pub async fn kubectl(&self, args: &[&str]) -> std::process::Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        tokio::process::Command::new(KUBECTL)
            .args(args)
            .env("HOME", &home)
            .env("KUBECONFIG", &self.kubeconfig)
            .current_dir(workspace())
            .output()
            .await
            .expect("kubectl runs")
    }

    /// kubectl that must succeed; returns stdout.
    pub async fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub async fn stop(self) {
        self.emulator.shutdown().await;
    }
}

/// The kubectl of the Google Cloud SDK on the machine image (the brief's reference client).
pub const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl";

/// A directory under cargo's per-target scratch space, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("packaging-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
