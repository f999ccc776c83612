//! GitOps health: the Argo CD Lua checks in `health/argocd/` run by a real Lua 5.1
//! interpreter (Argo CD embeds gopher-lua, a Lua 5.1), against the statuses the operator
//! wrote (fixtures captured from it, in Argo's own `health_test.yaml` layout), plus the
//! `argocd-cm` snippet that ships them.
//!
//! Refresh the snippet after editing a check: `UPDATE_PACKAGING=1 cargo test --test packaging`.

use crate::support::{parse_documents, workspace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const KINDS: [&str; 4] = [
    "DashboardUser",
    "DashboardUserGroup",
    "DashboardConnection",
    "ClusterDashboardConnection",
];

pub fn check_path(kind: &str) -> PathBuf {
    workspace().join(format!("health/argocd/userop.dev/{kind}/health.lua"))
}

/// Argo CD's verdict: `(status, message)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub status: String,
    pub message: String,
}

/// A Lua table constructor equal to the JSON value (null → nil, arrays 1-based).
fn lua_literal(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => lua_string(s, out),
        Value::Array(items) => {
            out.push('{');
            for item in items {
                lua_literal(item, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Object(map) => {
            out.push('{');
            for (k, item) in map {
                out.push('[');
                lua_string(k, out);
                out.push_str("]=");
                lua_literal(item, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

fn lua_string(s: &str, out: &mut String) {
    out.push('"');
    for byte in s.bytes() {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(byte as char);
            }
            0x20..=0x7e => out.push(byte as char),
            // Lua 5.1 decimal escapes keep UTF-8 and control bytes exact.
            _ => out.push_str(&format!("\\{byte}")),
        }
    }
    out.push('"');
}

/// Runs the Argo CD health check of `kind` on `obj` with the `lua5.1` interpreter.
pub fn argo_health(kind: &str, obj: &Value) -> Health {
    let mut program = String::from("obj = ");
    lua_literal(obj, &mut program);
    program.push_str("\nlocal check = assert(loadfile(");
    lua_string(&check_path(kind).to_string_lossy(), &mut program);
    program.push_str("))\nlocal hs = check()\n");
    program.push_str("io.write(tostring(hs.status), \"\\n\", tostring(hs.message))\n");
    let mut child = Command::new("lua5.1")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lua5.1 on PATH (tests/install-deps.sh installs it)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), program.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{kind} health.lua failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (status, message) = text.split_once('\n').expect("status and message");
    Health {
        status: status.to_string(),
        message: message.to_string(),
    }
}

pub fn read_yaml(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_documents(&text).remove(0)
}

/// The `argocd-cm` snippet: one `resource.customizations.health.<group>_<kind>` key per check,
/// holding that check verbatim.
pub fn expected_configmap() -> String {
    let mut out = String::from(
        "# Argo CD health checks for dashboard-user-operator's kinds. Merge `data` into the\n\
         # argocd-cm ConfigMap (see health/README.md). Generated from health/argocd/*/*/health.lua:\n\
         #   UPDATE_PACKAGING=1 cargo test --test packaging\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n  \
         labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n",
    );
    for kind in KINDS {
        let lua = std::fs::read_to_string(check_path(kind)).unwrap();
        out.push_str(&format!(
            "  resource.customizations.health.userop.dev_{kind}: |\n"
        ));
        for line in lua.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

#[test]
fn argocd_cm_snippet_ships_exactly_the_checks() {
    let path = workspace().join("health/argocd/argocd-cm.yaml");
    let expected = expected_configmap();
    if std::env::var_os("UPDATE_PACKAGING").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "health/argocd/argocd-cm.yaml drifted from the health.lua files ({})",
        crate::crds::REFRESH
    );
    // And it is a ConfigMap whose values are the scripts byte for byte.
    let cm = read_yaml(&path);
    for kind in KINDS {
        let key = format!("resource.customizations.health.userop.dev_{kind}");
        let lua = std::fs::read_to_string(check_path(kind)).unwrap();
        assert_eq!(cm["data"][&key].as_str(), Some(lua.as_str()), "{key}");
    }
}

#[test]
fn argo_checks_follow_the_documented_rules_on_edge_cases() {
    use serde_json::json;
    let with = |generation: i64, observed: i64, conds: Value| {
        json!({"kind": "DashboardUser", "metadata": {"name": "u", "generation": generation},
               "status": {"observedGeneration": observed, "conditions": conds}})
    };
    let c =
        |t: &str, s: &str, r: &str| json!({"type": t, "status": s, "reason": r, "message": "m"});
    let cases = [
        (
            json!({"kind": "DashboardUser", "metadata": {"name": "u", "generation": 1}}),
            "Progressing",
        ),
        (with(1, 1, json!([])), "Progressing"),
        (with(1, 1, json!([c("Ready", "True", "Synced")])), "Healthy"),
        (
            with(2, 1, json!([c("Ready", "True", "Synced")])),
            "Progressing",
        ),
        (
            json!({"kind": "DashboardUser", "metadata": {"name": "u", "generation": 2},
                   "status": {"observedGeneration": 2, "conditions": [
                       {"type": "Ready", "status": "True", "reason": "Synced", "observedGeneration": 1}]}}),
            "Progressing",
        ),
        (
            with(
                1,
                1,
                json!([
                    c("Ready", "True", "Synced"),
                    c("Reconciling", "True", "Updating")
                ]),
            ),
            "Progressing",
        ),
        (
            with(1, 1, json!([c("Ready", "False", "Deleting")])),
            "Progressing",
        ),
        (
            with(
                1,
                1,
                json!([
                    c("Ready", "False", "DashboardUnreachable"),
                    c("Reconciling", "True", "DashboardUnreachable")
                ]),
            ),
            "Degraded",
        ),
        (
            with(
                1,
                1,
                json!([
                    c("Ready", "False", "X"),
                    c("Stalled", "True", "PasswordRejected")
                ]),
            ),
            "Degraded",
        ),
        (
            with(
                1,
                1,
                json!([
                    c("Ready", "Unknown", "Pending"),
                    c("Reconciling", "True", "Pending")
                ]),
            ),
            "Progressing",
        ),
    ];
    for (obj, want) in cases {
        for kind in KINDS {
            let got = argo_health(kind, &obj);
            assert_eq!(got.status, want, "{kind}: {obj}");
        }
    }
    // The message carries the operator's reason and message.
    let stalled = with(1, 1, json!([c("Stalled", "True", "PasswordRejected")]));
    assert_eq!(
        argo_health("DashboardUser", &stalled).message,
        "PasswordRejected: m"
    );
    // Text from the object survives the trip into Lua, quotes and non-ASCII included.
    let odd = with(
        1,
        1,
        json!([{"type": "Ready", "status": "True", "reason": "Synced",
                                  "message": "\"q\" \\ ünï\ncode"}]),
    );
    assert_eq!(
        argo_health("DashboardUser", &odd).message,
        "Synced: \"q\" \\ ünï\ncode"
    );
}
