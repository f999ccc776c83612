//! Helm 4 (PyPI `helm-python-sdk`, pinned in tests/requirements.txt) installs, upgrades and
//! uninstalls a chart with a CRD, a Secret, a ConfigMap and a custom resource.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Target, poll, unique};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn helm_available() -> bool {
    Command::new("python3")
        .args(["-c", "import helm_python"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn step(t: &Target, ns: &str, release: &str, action: &str, values: Option<Value>) -> Value {
    let dir = crate_dir().join("tests/helm");
    let mut cmd = Command::new("python3");
    cmd.arg(dir.join("helm_step.py"))
        .arg(&t.kubeconfig)
        .arg(ns)
        .arg(dir.join("conformance-chart"))
        .arg(release)
        .arg(action)
        .env("HOME", &t.dir)
        .env("HELM_CACHE_HOME", t.dir.join("helm-cache"))
        .env("HELM_CONFIG_HOME", t.dir.join("helm-config"))
        .env("HELM_DATA_HOME", t.dir.join("helm-data"));
    if let Some(v) = values {
        cmd.arg(v.to_string());
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "helm {action}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("helm_step prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_upgrade_uninstall() {
    if !helm_available() {
        // tests/install-deps.sh installs it; CI always has it.
        panic!("python module helm_python missing: run tests/install-deps.sh");
    }
    let t = Target::new().await;
    let ns = t.namespace().await;
    t.delete_later(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.helm.conformance.test"
            .into(),
    );
    let rel = unique("rel");
    let installed = tokio::task::block_in_place(|| {
        step(
            &t,
            &ns,
            &rel,
            "install",
            Some(json!({"message": "one", "size": 1})),
        )
    });
    assert_eq!(installed["status"], "deployed", "{installed}");
    assert_eq!(installed["revision"], 1);

    let secret = format!("/api/v1/namespaces/{ns}/secrets/{rel}-secret");
    let (code, s) = t.get(&secret).await;
    assert_eq!(code, 200, "{s}");
    assert_eq!(s["data"]["message"], "b25l", "stringData became data: {s}");
    let (_, g) = t
        .get(&format!(
            "/apis/helm.conformance.test/v1/namespaces/{ns}/gadgets/{rel}-gadget"
        ))
        .await;
    assert_eq!(g["spec"]["size"], 1, "{g}");
    // Helm's own release record lives in a labelled Secret.
    let (_, l) = t
        .get(&format!(
            "/api/v1/namespaces/{ns}/secrets?labelSelector=owner%3Dhelm,name%3D{rel}"
        ))
        .await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1, "{l}");

    let upgraded = tokio::task::block_in_place(|| {
        step(
            &t,
            &ns,
            &rel,
            "upgrade",
            Some(json!({"message": "two", "size": 2})),
        )
    });
    assert_eq!(upgraded["revision"], 2, "{upgraded}");
    let (_, s) = t.get(&secret).await;
    assert_eq!(s["data"]["message"], "dHdv", "{s}");
    let (_, c) = t
        .get(&format!("/api/v1/namespaces/{ns}/configmaps/{rel}-config"))
        .await;
    assert_eq!(c["data"]["message"], "two");
    let (_, g) = t
        .get(&format!(
            "/apis/helm.conformance.test/v1/namespaces/{ns}/gadgets/{rel}-gadget"
        ))
        .await;
    assert_eq!(g["spec"]["size"], 2, "{g}");

    let removed = tokio::task::block_in_place(|| step(&t, &ns, &rel, "uninstall", None));
    assert_eq!(removed["status"], "uninstalled", "{removed}");
    for path in [
        secret.clone(),
        format!("/api/v1/namespaces/{ns}/configmaps/{rel}-config"),
        format!("/apis/helm.conformance.test/v1/namespaces/{ns}/gadgets/{rel}-gadget"),
    ] {
        poll(|| async { (t.get(&path).await.0 == 404).then_some(()) }).await;
    }
    // Helm never deletes CRDs from crds/.
    assert_eq!(
        t.get(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.helm.conformance.test"
        )
        .await
        .0,
        200
    );
    t.shutdown().await;
}
