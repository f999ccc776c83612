//! Shared helpers: paths, the Helm driver, manifest parsing, scratch directories.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn chart_dir() -> PathBuf {
    workspace().join("charts/dashboard-user-operator")
}

/// One Helm step's outcome as the driver reported it.
#[derive(Debug, Clone)]
pub struct StepResult(pub Value);

impl StepResult {
    pub fn ok(&self) -> bool {
        self.0["ok"] == json!(true)
    }

    pub fn error(&self) -> String {
        self.0["error"].as_str().unwrap_or_default().to_string()
    }

    /// The step's payload; panics with Helm's error when the step failed.
    pub fn expect_ok(&self, what: &str) -> &Value {
        assert!(self.ok(), "helm {what} failed: {}", self.error());
        &self.0
    }
}

/// Runs the steps in one Python process (Helm 4 through helm-python-sdk), in order.
pub fn helm(steps: Vec<Value>) -> Vec<StepResult> {
    let driver = workspace().join("tests/packaging/helm_driver.py");
    let mut child = Command::new("python3")
        .arg(&driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (tests/install-deps.sh installs helm-python-sdk)");
    let request = serde_json::to_vec(&json!({ "steps": steps })).unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &request).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "helm driver crashed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("driver prints JSON");
    reply["results"]
        .as_array()
        .expect("results array")
        .iter()
        .cloned()
        .map(StepResult)
        .collect()
}

pub fn render_step(values: Value, namespace: &str) -> Value {
    json!({"op": "render", "chart": chart_dir(), "values": values,
           "name": "duo", "namespace": namespace})
}

/// Renders the chart once; panics on a render error.
pub fn render(values: Value, namespace: &str) -> Rendered {
    let results = helm(vec![render_step(values, namespace)]);
    Rendered::from_step(&results[0])
}

/// A rendered release: every object, in template order.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub objects: Vec<Value>,
    pub notes: String,
}

impl Rendered {
    pub fn from_step(step: &StepResult) -> Rendered {
        let manifests = step.expect_ok("render")["manifests"]
            .as_object()
            .expect("manifests map");
        let mut paths: Vec<&String> = manifests.keys().collect();
        paths.sort();
        let mut objects = Vec::new();
        let mut notes = String::new();
        for path in paths {
            let text = manifests[path].as_str().unwrap();
            if path.ends_with("NOTES.txt") {
                notes = text.to_string();
                continue;
            }
            objects.extend(parse_documents(text));
        }
        Rendered { objects, notes }
    }

    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Value> + 'a {
        let kind = kind.to_string();
        self.objects
            .iter()
            .filter(move |o| o["kind"] == kind.as_str())
    }

    pub fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind).find(|o| o["metadata"]["name"] == name)
    }

    pub fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name)
            .unwrap_or_else(|| panic!("no {kind}/{name} among {:?}", self.names()))
    }

    pub fn names(&self) -> Vec<String> {
        self.objects
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// The operator container of the Deployment.
    pub fn container(&self) -> &Value {
        let dep = self.of_kind("Deployment").next().expect("a Deployment");
        &dep["spec"]["template"]["spec"]["containers"][0]
    }

    pub fn args(&self) -> Vec<String> {
        self.container()["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }
}

/// Splits multi-document YAML into JSON values, skipping empty documents.
pub fn parse_documents(text: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|doc| {
            let v = serde_yaml::Value::deserialize(doc).expect("valid YAML");
            if v.is_null() {
                None
            } else {
                Some(serde_json::to_value(v).expect("YAML maps to JSON"))
            }
        })
        .collect()
}

/// The first path where two JSON values differ, for readable drift failures. Numbers compare
/// by value: Helm re-serialises `256.0` as `256`, which no API server tells apart.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (va, vb) = (x.get(key), y.get(key));
                match (va, vb) {
                    (Some(va), Some(vb)) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}.{key}")) {
                            return Some(d);
                        }
                    }
                    _ => return Some(format!("{path}.{key}: {va:?} vs {vb:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}
