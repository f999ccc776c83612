//! Printers of the built-in kinds the emulator stores, as kube-apiserver's internal printers
//! lay them out (pkg/printers/internalversion). Priority-1 columns appear with `-o wide` only.
//! Kinds not listed here fall back to the apiserver's default `Name`/`Created At` convertor,
//! which is also what the real server uses for e.g. Roles and CRDs.

use serde_json::{Value, json};

use super::{AGE_DESC, NAME_DESC, age, col};
use crate::registry::ResourceType;

fn key(t: &ResourceType) -> (&str, &str) {
    (t.group.as_str(), t.kind.as_str())
}

pub fn has_printer(t: &ResourceType) -> bool {
    matches!(
        key(t),
        (
            "",
            "Secret" | "ConfigMap" | "Namespace" | "ServiceAccount" | "Event"
        ) | ("events.k8s.io", "Event")
            | ("coordination.k8s.io", "Lease")
            | ("apps", "Deployment")
            | (
                "rbac.authorization.k8s.io",
                "RoleBinding" | "ClusterRoleBinding"
            )
    )
}

fn s(name: &str, desc: &str) -> Value {
    col(name, "string", "", desc, 0)
}

fn wide(name: &str, desc: &str) -> Value {
    col(name, "string", "", desc, 1)
}

pub fn columns(t: &ResourceType) -> Vec<Value> {
    let name = col("Name", "string", "name", NAME_DESC, 0);
    let age = s("Age", AGE_DESC);
    match key(t) {
        ("", "Secret") => vec![
            name,
            s("Type", "The type of the secret"),
            s("Data", "The total number of data entries in the secret"),
            age,
        ],
        ("", "ConfigMap") => vec![
            name,
            s("Data", "Number of data entries in the configmap"),
            age,
        ],
        ("", "Namespace") => vec![name, s("Status", "The status of the namespace"), age],
        ("", "ServiceAccount") => vec![
            name,
            s(
                "Secrets",
                "Secrets is a list of the secrets in the same namespace",
            ),
            age,
        ],
        ("coordination.k8s.io", "Lease") => vec![name, s("Holder", "The holder of the lease"), age],
        ("apps", "Deployment") => vec![
            name,
            s("Ready", "Number of the pod with ready state"),
            s(
                "Up-to-date",
                "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            ),
            s(
                "Available",
                "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            ),
            age,
            wide("Containers", "Names of each container in the template."),
            wide(
                "Images",
                "Images referenced by each container in the template.",
            ),
            wide("Selector", "Label selector for pods."),
        ],
        (_, "RoleBinding" | "ClusterRoleBinding") => vec![
            name,
            s("Role", "Role referenced by this binding."),
            age,
            wide("Users", "Users in the binding."),
            wide("Groups", "Groups in the binding."),
            wide("ServiceAccounts", "ServiceAccounts in the binding."),
        ],
        // Events (both APIs): no Name column first, as in the apiserver's printer.
        _ => vec![
            s(
                "Last Seen",
                "Time when last event from this group was observed",
            ),
            s(
                "Type",
                "Type of this event (Normal, Warning), new types could be added in the future.",
            ),
            s(
                "Reason",
                "Reason is why the action was taken. It is human-readable. This field can have at most 128 characters.",
            ),
            s("Object", "The object that this event is about."),
            wide("Subobject", "The subobject that this event is about."),
            wide("Source", "The component reporting this event."),
            s(
                "Message",
                "A human-readable description of the status of this operation.",
            ),
            wide(
                "First Seen",
                "Time when first event from this group was observed",
            ),
            col(
                "Count",
                "integer",
                "",
                "The number of times this event has occurred.",
                1,
            ),
            col("Name", "string", "name", NAME_DESC, 1),
        ],
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |acc, k| acc.get(*k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn int_at(v: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(v, |acc, k| acc.get(*k))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn count(v: Option<&Value>) -> usize {
    v.and_then(|x| {
        x.as_object()
            .map(|m| m.len())
            .or_else(|| x.as_array().map(Vec::len))
    })
    .unwrap_or(0)
}

fn joined(items: Option<&Value>, f: impl Fn(&Value) -> Option<String>) -> String {
    let v: Vec<String> = items
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(f).collect())
        .unwrap_or_default();
    if v.is_empty() {
        "<none>".into()
    } else {
        v.join(",")
    }
}

fn selector(sel: &Value) -> String {
    let mut parts: Vec<String> = sel["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let vals: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(format!(
            "{} {} ({})",
            str_at(e, &["key"]),
            str_at(e, &["operator"]).to_lowercase(),
            vals.join(",")
        ));
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

/// First non-empty timestamp among `paths`, as an age.
fn first_age(obj: &Value, paths: &[&[&str]], now: jiff::Timestamp) -> Value {
    for p in paths {
        let v = str_at(obj, p);
        if !v.is_empty() {
            return age(Some(&json!(v)), now);
        }
    }
    json!("<unknown>")
}

fn event_cells(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    // The same printer serves core/v1 and events.k8s.io/v1 field names.
    let (inv, msg) = if obj.get("regarding").is_some() {
        ("regarding", "note")
    } else {
        ("involvedObject", "message")
    };
    let first = first_age(
        obj,
        &[
            &["firstTimestamp"],
            &["deprecatedFirstTimestamp"],
            &["eventTime"],
        ],
        now,
    );
    let last = if obj.get("series").is_some_and(|s| !s.is_null()) {
        first_age(obj, &[&["series", "lastObservedTime"]], now)
    } else {
        let l = first_age(
            obj,
            &[&["lastTimestamp"], &["deprecatedLastTimestamp"]],
            now,
        );
        if l == json!("<unknown>") {
            first.clone()
        } else {
            l
        }
    };
    let count = match int_at(obj, &["series", "count"]) {
        0 => match int_at(obj, &["count"]).max(int_at(obj, &["deprecatedCount"])) {
            0 => 1,
            n => n,
        },
        n => n,
    };
    let kind = str_at(obj, &[inv, "kind"]).to_lowercase();
    let target = match str_at(obj, &[inv, "name"]) {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let source = match str_at(obj, &["reportingComponent"]) {
        "" => str_at(obj, &["reportingController"]),
        c => c,
    };
    vec![
        last,
        json!(str_at(obj, &["type"])),
        json!(str_at(obj, &["reason"])),
        json!(target),
        json!(str_at(obj, &[inv, "fieldPath"])),
        json!(source),
        json!(str_at(obj, &[msg]).trim()),
        first,
        json!(count),
        json!(str_at(obj, &["metadata", "name"])),
    ]
}

pub fn cells(t: &ResourceType, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(str_at(obj, &["metadata", "name"]));
    let created = age(obj["metadata"].get("creationTimestamp"), now);
    match key(t) {
        ("", "Secret") => vec![
            name,
            json!(obj["type"].as_str().unwrap_or("Opaque")),
            json!(count(obj.get("data"))),
            created,
        ],
        ("", "ConfigMap") => vec![
            name,
            json!(count(obj.get("data")) + count(obj.get("binaryData"))),
            created,
        ],
        ("", "Namespace") => vec![name, json!(str_at(obj, &["status", "phase"])), created],
        ("", "ServiceAccount") => vec![name, json!(count(obj.get("secrets"))), created],
        ("coordination.k8s.io", "Lease") => vec![
            name,
            json!(str_at(obj, &["spec", "holderIdentity"])),
            created,
        ],
        ("apps", "Deployment") => {
            let containers = obj.pointer("/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int_at(obj, &["status", "readyReplicas"]),
                    obj["spec"]["replicas"].as_i64().unwrap_or(1)
                )),
                json!(int_at(obj, &["status", "updatedReplicas"])),
                json!(int_at(obj, &["status", "availableReplicas"])),
                created,
                json!(joined(containers, |c| c["name"].as_str().map(String::from))),
                json!(joined(containers, |c| c["image"]
                    .as_str()
                    .map(String::from))),
                json!(selector(&obj["spec"]["selector"])),
            ]
        }
        (_, "RoleBinding" | "ClusterRoleBinding") => {
            let subjects = obj.get("subjects");
            let of = |kind: &'static str| {
                move |s: &Value| {
                    (s["kind"] == kind).then(|| match str_at(s, &["namespace"]) {
                        "" => str_at(s, &["name"]).to_string(),
                        ns => format!("{ns}/{}", str_at(s, &["name"])),
                    })
                }
            };
            let blank = |s: String| if s == "<none>" { String::new() } else { s };
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    str_at(obj, &["roleRef", "kind"]),
                    str_at(obj, &["roleRef", "name"])
                )),
                created,
                json!(blank(joined(subjects, of("User")))),
                json!(blank(joined(subjects, of("Group")))),
                json!(blank(joined(subjects, of("ServiceAccount")))),
            ]
        }
        _ => event_cells(obj, now),
    }
}
