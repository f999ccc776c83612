//! The real kubectl of every version the machine ships (1.27–1.33), each in its own thread,
//! HOME, cache dir, namespace and CRD group (docs/kubernetes-api.md §3, Appendix A).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use http::Method;
use serde_json::{Value, json};

use crate::common::{Target, unique, widget_crd};

const SDK_BIN: &str = "/usr/lib/google-cloud-sdk/bin";

/// (version, binary) for every kubectl.1.XX present; absent versions are skipped.
fn versions() -> Vec<(String, PathBuf)> {
    (27..=33)
        .map(|m| {
            (
                format!("1.{m}"),
                PathBuf::from(format!("{SDK_BIN}/kubectl.1.{m}")),
            )
        })
        .filter(|(_, p)| p.exists())
        .collect()
}

struct Kubectl {
    bin: PathBuf,
    home: PathBuf,
    kubeconfig: PathBuf,
    ns: String,
    version: String,
}

impl Kubectl {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.home.join("cache"))
            .arg("-n")
            .arg(&self.ns)
            .args(args)
            .env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("kubectl runs");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        let (so, se) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "kubectl {} {args:?} failed:\nstdout: {so}\nstderr: {se}",
            self.version
        );
        so.into_owned()
    }

    /// Runs and requires failure; returns stderr.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "kubectl {} {args:?} unexpectedly succeeded: {}",
            self.version,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a, None)).expect("kubectl -o json")
    }
}

/// `kubectl get -w` prints rows from Table watch events as objects change
/// (docs/kubernetes-api.md §3.3).
fn watch_table(k: &Kubectl, res: &str, group: &str) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(&k.bin)
        .arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .arg("--cache-dir")
        .arg(k.home.join("cache"))
        .args(["-n", &k.ns, "get", res, "-w"])
        .env("HOME", &k.home)
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + crate::common::WAIT;
    let next = || {
        rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("kubectl get -w output")
    };
    let header = next();
    assert!(
        header
            .split_whitespace()
            .eq(["NAME", "READY", "SIZE", "AGE"]),
        "{}: {header}",
        k.version
    );
    assert!(next().starts_with("w1 "), "{}", k.version);
    let w2 = write(
        &k.home,
        "w2.yaml",
        &json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w2"}, "spec": {"size": 7}}),
    );
    k.ok(&["apply", "-f", &w2], None);
    let row = loop {
        let l = next();
        if l.starts_with("w2 ") {
            break l;
        }
    };
    assert!(
        row.split_whitespace().any(|c| c == "7"),
        "{}: {row}",
        k.version
    );
    child.kill().unwrap();
    child.wait().unwrap();
    k.ok(&["delete", res, "w2"], None);
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_yaml::to_string(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

/// The whole kubectl scenario for one version. `status` sets the widget's Ready condition
/// through the API (what an operator would do) and returns when done.
fn scenario(k: &Kubectl, group: &str, set_status: &dyn Fn()) {
    let dir = &k.home;
    let v = &k.version;
    // Every version runs at once with its own CRD group, so kinds and short names must be
    // qualified: `widget` alone would be ambiguous across groups (as on a real cluster).
    let res = format!("widgets.{group}");
    let short = format!("wdg{}", v.replace('.', ""));
    let mut crd_doc = widget_crd(group);
    crd_doc["spec"]["names"]["shortNames"] = json!([short]);
    let crd = write(dir, "crd.yaml", &crd_doc);
    assert!(k.ok(&["apply", "-f", &crd], None).contains("created"));
    k.ok(
        &[
            "wait",
            "--for=condition=established",
            &format!("crd/widgets.{group}"),
            "--timeout=30s",
        ],
        None,
    );

    let w = |size: i64, extra: Value| {
        let mut spec = json!({"size": size});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"apiVersion": format!("{group}/v1"), "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec})
    };
    // Client-side apply: create, then a three-way merge patch (CRs take merge patch).
    let f = write(dir, "w1.yaml", &w(1, json!({"color": "red"})));
    let out = k.ok(&["apply", "-f", &f], None);
    assert!(
        out.contains(&format!("widget.{group}/w1 created")),
        "{v}: {out}"
    );
    let f = write(dir, "w1.yaml", &w(2, json!({})));
    assert!(
        k.ok(&["apply", "-f", &f], None).contains("configured"),
        "{v}"
    );
    let got = k.json(&["get", &res, "w1"]);
    assert_eq!(got["spec"]["size"], 2, "{v}: {got}");
    assert!(
        got["spec"].get("color").is_none(),
        "{v}: three-way patch removed color: {got}"
    );
    assert!(
        got["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    // Default validation is server-side Strict: a typo is refused, not silently pruned.
    let typo = write(dir, "typo.yaml", &w(2, json!({"colour": "x"})));
    let err = k.fails(&["apply", "-f", &typo], None);
    assert!(err.contains("unknown field \"spec.colour\""), "{v}: {err}");

    // Server-side apply: the client-side applier owns spec.size, so a change conflicts.
    let f = write(dir, "w1.yaml", &w(3, json!({})));
    let err = k.fails(&["apply", "--server-side", "-f", &f], None);
    assert!(err.contains("conflict"), "{v}: {err}");
    let out = k.ok(
        &["apply", "--server-side", "--force-conflicts", "-f", &f],
        None,
    );
    assert!(out.contains("serverside-applied"), "{v}: {out}");
    // kubectl hides managedFields unless asked.
    let got = k.json(&["get", &res, "w1", "--show-managed-fields"]);
    assert_eq!(got["spec"]["size"], 3);
    assert!(
        got["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["manager"] == "kubectl" && m["operation"] == "Apply")
    );

    // wait --for=condition: the status arrives after kubectl starts waiting.
    let mut wait = Command::new(&k.bin);
    wait.arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .arg("--cache-dir")
        .arg(k.home.join("cache"))
        .args([
            "-n",
            &k.ns,
            "wait",
            "--for=condition=Ready",
            &format!("{res}/w1"),
            "--timeout=30s",
        ])
        .env("HOME", &k.home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = wait.spawn().unwrap();
    set_status();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{v}: wait: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Table output comes from the server: printer columns, evaluated JSONPath filter.
    let table = k.ok(&["get", &res], None);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "SIZE", "AGE"], "{v}: {table}");
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["w1", "True", "3"], "{v}: {table}");
    let short = k.ok(&["get", &short, "w1", "-o", "name"], None);
    assert_eq!(short.trim(), format!("widget.{group}/w1"));

    let desc = k.ok(&["describe", &res, "w1"], None);
    assert!(
        desc.contains("Name:") && desc.contains("w1") && desc.contains("Reconciled"),
        "{v}: {desc}"
    );

    watch_table(k, &res, group);

    // Built-in printers: Events start with LAST SEEN, not NAME.
    let table = k.ok(&["get", "events"], None);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{v}: {table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains("Reconciled") && l.contains("widget/w1")),
        "{v}: {table}"
    );

    // Typed-client generators send protobuf (docs/kubernetes-api.md §3.4); the emulator decodes
    // these kinds.
    assert!(
        k.ok(
            &["create", "secret", "generic", "s2", "--from-literal=a=b"],
            None
        )
        .contains("secret/s2 created"),
        "{v}"
    );
    assert_eq!(k.json(&["get", "secret", "s2"])["data"]["a"], "Yg==", "{v}");
    assert!(
        k.ok(&["create", "configmap", "c2", "--from-literal=x=y"], None)
            .contains("configmap/c2 created"),
        "{v}"
    );
    assert_eq!(k.json(&["get", "configmap", "c2"])["data"]["x"], "y", "{v}");

    // Generator + apply (the dynamic client's JSON path, docs/kubernetes-api.md §3.4).
    let yaml = k.ok(
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "--from-literal=k=v",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        None,
    );
    assert!(
        k.ok(&["apply", "-f", "-"], Some(&yaml))
            .contains("secret/s1 created"),
        "{v}"
    );
    assert_eq!(k.json(&["get", "secret", "s1"])["data"]["k"], "dg==");
    let table = k.ok(&["get", "secrets"], None);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "TYPE", "DATA", "AGE"], "{v}: {table}");
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["s1", "Opaque", "1"])),
        "{v}: {table}"
    );

    // Built-ins take strategic merge patch on client-side re-apply.
    let cm = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1"}, "data": data});
    let f = write(dir, "cm.yaml", &cm(json!({"a": "1", "b": "2"})));
    k.ok(&["apply", "-f", &f], None);
    let f = write(dir, "cm.yaml", &cm(json!({"a": "1", "c": "3"})));
    assert!(k.ok(&["apply", "-f", &f], None).contains("configured"));
    assert_eq!(
        k.json(&["get", "configmap", "c1"])["data"],
        json!({"a": "1", "c": "3"}),
        "{v}"
    );
    let table = k.ok(&["get", "configmap", "c1"], None);
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .eq(["NAME", "DATA", "AGE"]),
        "{v}: {table}"
    );

    k.ok(
        &[
            "wait",
            "--for=jsonpath={.spec.size}=3",
            &format!("{res}/w1"),
            "--timeout=30s",
        ],
        None,
    );

    // A finalizer holds the object in Terminating until a JSON patch removes it
    // (docs/kubernetes-api.md §2.6).
    k.ok(
        &[
            "patch",
            &res,
            "w1",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["conformance.test/hold"]}}"#,
        ],
        None,
    );
    k.ok(&["delete", &res, "w1", "--wait=false"], None);
    let held = k.json(&["get", &res, "w1"]);
    assert!(
        held["metadata"]["deletionTimestamp"].is_string(),
        "{v}: {held}"
    );
    k.ok(
        &[
            "patch",
            &res,
            "w1",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ],
        None,
    );
    let err = k.fails(&["get", &res, "w1"], None);
    assert!(err.contains("not found"), "{v}: {err}");

    let again = write(dir, "w1.yaml", &w(3, json!({})));
    k.ok(&["apply", "-f", &again], None);
    assert!(k.ok(&["delete", &res, "w1"], None).contains("deleted"));
    let err = k.fails(&["get", &res, "w1"], None);
    assert!(
        err.contains(&format!("widgets.{group} \"w1\" not found")),
        "{v}: {err}"
    );
    k.ok(&["delete", "crd", &format!("widgets.{group}")], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kubectl_version_round_trips() {
    let vs = versions();
    // Absent versions are skipped, but none at all means the suite proved nothing about
    // kubectl: the machine image ships them (tests/install-deps.sh relies on that).
    assert!(
        !vs.is_empty(),
        "no kubectl.1.27..kubectl.1.33 under {SDK_BIN}: the kubectl conformance cannot run"
    );
    let t = Target::new().await;
    let mut jobs = Vec::new();
    for (version, bin) in vs {
        let ns = t.namespace().await;
        let group = format!(
            "{}.kubectl.test",
            unique(&format!("v{}", version.replace('.', "")))
        );
        t.delete_later(format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}"
        ));
        let home = t.dir.join(format!("home-{version}"));
        std::fs::create_dir_all(&home).unwrap();
        let k = Kubectl {
            bin,
            home,
            kubeconfig: t.kubeconfig.clone(),
            ns: ns.clone(),
            version: version.clone(),
        };
        let client = t.client.clone();
        let rt = tokio::runtime::Handle::current();
        jobs.push((
            version.clone(),
            tokio::task::spawn_blocking(move || {
                let set_status = || rt.block_on(set_ready(&client, &group, &ns));
                scenario(&k, &group, &set_status);
            }),
        ));
    }
    let mut failed = Vec::new();
    for (v, j) in jobs {
        if let Err(e) = j.await {
            failed.push(format!("kubectl {v}: {e}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
    if t.emulator.is_some() {
        // No kubectl request may have hit an unsupported media type or a server error: those
        // would mean a degraded path the assertions above could miss.
        let (_, log) = t.get("/__emulator/requests").await;
        let bad: Vec<&Value> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["userAgent"].as_str().unwrap_or("").starts_with("kubectl"))
            .filter(|e| matches!(e["code"].as_u64(), Some(406 | 415) | Some(500..)))
            .collect();
        assert!(
            bad.is_empty(),
            "kubectl requests the emulator could not serve: {bad:#?}"
        );
    }
    t.shutdown().await;
}

/// What an operator would do: record an event and set Ready with the current generation.
async fn set_ready(client: &kube::Client, group: &str, ns: &str) {
    let t = ApiCaller(client.clone());
    let (_, w) = t
        .call(
            Method::GET,
            &format!("/apis/{group}/v1/namespaces/{ns}/widgets/w1"),
            None,
            None,
        )
        .await;
    let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "w1.1", "namespace": ns},
        "eventTime": "2026-01-01T00:00:00.000000Z", "action": "Reconcile", "reason": "Reconciled", "note": "ok",
        "type": "Normal", "reportingController": "conformance-ctrl", "reportingInstance": "c1",
        "regarding": {"apiVersion": format!("{group}/v1"), "kind": "Widget", "name": "w1", "namespace": ns, "uid": w["metadata"]["uid"]}});
    let (code, body) = t
        .call(
            Method::POST,
            &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events"),
            Some("application/json"),
            Some(event),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let status = json!({"status": {"observedGeneration": w["metadata"]["generation"],
        "conditions": [{"type": "Ready", "status": "True", "reason": "Done", "message": "",
            "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": w["metadata"]["generation"]}]}});
    let (code, body) = t
        .call(
            Method::PATCH,
            &format!("/apis/{group}/v1/namespaces/{ns}/widgets/w1/status"),
            Some("application/merge-patch+json"),
            Some(status),
        )
        .await;
    assert_eq!(code, 200, "{body}");
}

struct ApiCaller(kube::Client);

impl ApiCaller {
    async fn call(
        &self,
        m: Method,
        path: &str,
        ct: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        use http_body_util::BodyExt;
        let mut req = http::Request::builder().method(m).uri(path);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let body = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let resp = self
            .0
            .send(req.body(kube::client::Body::from(body)).unwrap())
            .await
            .unwrap();
        let code = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (code, crate::common::parse(&bytes))
    }
}
