//! Server-side `Table` (meta.k8s.io/v1) rendering for `kubectl get`.
//!
//! kube-api-emulator.md §3.3 / §6 Should 4: kubectl asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io,…`; a real server answers with per-type columns
//! (Secret: Type/Data, ConfigMap: Data, Namespace: Status, CRDs: `additionalPrinterColumns`),
//! so `kubectl get` text only matches a real cluster if we render them too.

mod jsonpath;

pub use jsonpath::JsonPath;

use serde_json::{Value, json};

use crate::openapi::is_builtin;
use crate::registry::{PrinterColumn, ResourceType};

/// What each row carries in `object` (`?includeObject=`; default `Metadata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the query value; the error text matches the apiserver's 400 message shape.
    pub fn parse(v: Option<&str>) -> Result<IncludeObject, String> {
        match v {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \"None\", \"Object\""
            )),
        }
    }
}

/// If the Accept header asks for a Table before any other representation, the Table
/// apiVersion to answer with (`meta.k8s.io/v1` or `meta.k8s.io/v1beta1`).
pub fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    for media in accept?.split(',') {
        let mut parts = media.split(';').map(str::trim);
        let base = parts.next().unwrap_or("");
        let (mut g, mut v, mut as_) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                Some(("as", x)) => as_ = x,
                _ => {}
            }
        }
        if as_ == "Table" && g == "meta.k8s.io" && base == "application/json" {
            match v {
                "v1" => return Some("meta.k8s.io/v1"),
                "v1beta1" => return Some("meta.k8s.io/v1beta1"),
                _ => continue,
            }
        }
        if as_.is_empty() {
            return None;
        }
    }
    None
}

/// apimachinery `duration.HumanDuration`: the compact age kubectl shows (`5s`, `3m20s`, `4h`).
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(ts: Option<&Value>, now: jiff::Timestamp) -> Value {
    match ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    {
        Some(t) => json!(human_duration(now.as_second() - t.as_second())),
        None => json!("<unknown>"),
    }
}

fn col(name: &str, type_: &str, format: &str, description: &str, priority: i32) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";

/// How a type's rows are computed.
enum Layout<'a> {
    /// CRD `additionalPrinterColumns` (Name is always prepended, as apiextensions does).
    Printer(&'a [PrinterColumn]),
    Secret,
    ConfigMap,
    Namespace,
    /// A CR without printer columns: Name, Age.
    CustomDefault,
    /// The apiserver's `DefaultTableConvertor`: Name, Created At (RFC3339).
    Default,
}

fn layout(t: &ResourceType) -> Layout<'_> {
    if !t.printer_columns.is_empty() {
        return Layout::Printer(&t.printer_columns);
    }
    match (t.group.as_str(), t.kind.as_str()) {
        ("", "Secret") => Layout::Secret,
        ("", "ConfigMap") => Layout::ConfigMap,
        ("", "Namespace") => Layout::Namespace,
        _ if !is_builtin(t) => Layout::CustomDefault,
        _ => Layout::Default,
    }
}

/// Column definitions for a type.
pub fn columns(t: &ResourceType) -> Vec<Value> {
    let name = col("Name", "string", "name", NAME_DESC, 0);
    let age = col("Age", "string", "", AGE_DESC, 0);
    match layout(t) {
        Layout::Printer(pc) => std::iter::once(name)
            .chain(
                pc.iter()
                    .map(|c| col(&c.name, &c.type_, &c.format, &c.description, c.priority)),
            )
            .collect(),
        Layout::Secret => vec![
            name,
            col("Type", "string", "", "The type of the secret", 0),
            col(
                "Data",
                "string",
                "",
                "The total number of data entries in the secret",
                0,
            ),
            age,
        ],
        Layout::ConfigMap => vec![
            name,
            col(
                "Data",
                "string",
                "",
                "Number of data entries in the configmap",
                0,
            ),
            age,
        ],
        Layout::Namespace => vec![
            name,
            col("Status", "string", "", "The status of the namespace", 0),
            age,
        ],
        Layout::CustomDefault => vec![name, col("Age", "date", "", AGE_DESC, 0)],
        Layout::Default => vec![name, col("Created At", "date", "", AGE_DESC, 0)],
    }
}

/// apiextensions `cellForJSONValue`: a printer-column value typed by the column's `type`.
fn printer_cell(c: &PrinterColumn, obj: &Value, now: jiff::Timestamp) -> Value {
    let Ok(path) = JsonPath::parse(&c.json_path) else {
        return Value::Null;
    };
    let Some(v) = path.find(obj).into_iter().next() else {
        return Value::Null;
    };
    match c.type_.as_str() {
        "integer" => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map_or(Value::Null, |n| json!(n)),
        "number" => v.as_f64().map_or(Value::Null, |n| json!(n)),
        "boolean" => v.as_bool().map_or(Value::Null, Value::Bool),
        "date" => match v.as_str() {
            Some(s) => match s.parse::<jiff::Timestamp>() {
                Ok(_) => age(Some(v), now),
                Err(_) => json!("<invalid>"),
            },
            None => Value::Null,
        },
        // "string" and anything else print like kubectl's JSONPath text output.
        _ => match v {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
    }
}

fn count(v: Option<&Value>) -> usize {
    v.and_then(Value::as_object).map_or(0, |m| m.len())
}

/// The cells of one row.
pub fn cells(t: &ResourceType, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let md = &obj["metadata"];
    let name = json!(md["name"].as_str().unwrap_or_default());
    let created = md.get("creationTimestamp");
    match layout(t) {
        Layout::Printer(pc) => std::iter::once(name)
            .chain(pc.iter().map(|c| printer_cell(c, obj, now)))
            .collect(),
        Layout::Secret => vec![
            name,
            json!(obj["type"].as_str().unwrap_or("Opaque")),
            json!(count(obj.get("data"))),
            age(created, now),
        ],
        Layout::ConfigMap => vec![
            name,
            json!(count(obj.get("data")) + count(obj.get("binaryData"))),
            age(created, now),
        ],
        Layout::Namespace => vec![
            name,
            json!(obj["status"]["phase"].as_str().unwrap_or_default()),
            age(created, now),
        ],
        Layout::CustomDefault => vec![name, age(created, now)],
        Layout::Default => vec![name, created.cloned().unwrap_or(Value::Null)],
    }
}

/// The `PartialObjectMetadata` form of an object (kube-api-emulator.md §2.11).
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn row(t: &ResourceType, obj: &Value, include: IncludeObject, now: jiff::Timestamp) -> Value {
    let mut r = json!({"cells": cells(t, obj, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => r["object"] = partial_metadata(obj),
        IncludeObject::Object => r["object"] = obj.clone(),
    }
    r
}

/// A Table for a list response. `list_metadata` is the List's `metadata` (resourceVersion,
/// continue, remainingItemCount) and is carried over unchanged.
pub fn table(
    t: &ResourceType,
    api_version: &str,
    items: &[Value],
    list_metadata: Value,
    include: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": list_metadata,
        "columnDefinitions": columns(t),
        "rows": items.iter().map(|o| row(t, o, include, now)).collect::<Vec<_>>(),
    })
}

/// A Table for a single-object GET (one row; metadata carries the object's resourceVersion).
pub fn table_for_object(
    t: &ResourceType,
    api_version: &str,
    obj: &Value,
    include: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let rv = obj["metadata"]["resourceVersion"].clone();
    let md = if rv.is_null() {
        json!({})
    } else {
        json!({"resourceVersion": rv})
    };
    table(t, api_version, std::slice::from_ref(obj), md, include, now)
}

/// The `object` of a watch event when the watch asked for Tables (`kubectl get -w`): a one-row
/// Table. Column definitions are sent only with the first event, as the apiserver does
/// (later events set `NoHeaders`).
pub fn watch_event_object(
    t: &ResourceType,
    api_version: &str,
    obj: &Value,
    include: IncludeObject,
    first: bool,
    now: jiff::Timestamp,
) -> Value {
    let mut tbl = table_for_object(t, api_version, obj, include, now);
    if !first {
        tbl["columnDefinitions"] = json!([]);
    }
    tbl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(group: &str, kind: &str) -> ResourceType {
        ResourceType {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            ..Default::default()
        }
    }

    fn now() -> jiff::Timestamp {
        "2026-01-01T01:00:00Z".parse().unwrap()
    }

    #[test]
    fn accept_negotiation() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl)), Some("meta.k8s.io/v1"));
        assert_eq!(negotiate(Some("application/json")), None);
        assert_eq!(negotiate(None), None);
        assert_eq!(
            negotiate(Some("application/json;as=Table;v=v1beta1;g=meta.k8s.io")),
            Some("meta.k8s.io/v1beta1")
        );
        assert_eq!(IncludeObject::parse(None), Ok(IncludeObject::Metadata));
        assert!(IncludeObject::parse(Some("All")).is_err());
    }

    #[test]
    fn human_durations() {
        for (s, want) in [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (3600 * 5 + 60, "5h1m"),
            (3600 * 30, "30h"),
            (3600 * 24 * 3, "3d"),
            (3600 * 24 * 30, "30d"),
            (-5, "<invalid>"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn secret_and_configmap_rows() {
        let s = json!({"metadata": {"name": "s1", "creationTimestamp": "2026-01-01T00:59:00Z"},
                       "type": "kubernetes.io/tls", "data": {"a": "", "b": ""}});
        let tbl = table(
            &rt("", "Secret"),
            "meta.k8s.io/v1",
            &[s],
            json!({"resourceVersion": "7"}),
            IncludeObject::Metadata,
            now(),
        );
        assert_eq!(
            tbl["rows"][0]["cells"],
            json!(["s1", "kubernetes.io/tls", 2, "60s"])
        );
        assert_eq!(tbl["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(tbl["metadata"]["resourceVersion"], "7");
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": ""}});
        assert_eq!(cells(&rt("", "ConfigMap"), &cm, now())[1], json!(2));
        let ns = json!({"metadata": {"name": "n"}, "status": {"phase": "Active"}});
        assert_eq!(cells(&rt("", "Namespace"), &ns, now())[1], json!("Active"));
    }

    #[test]
    fn printer_columns_and_defaults() {
        let mut w = rt("example.com", "Widget");
        w.printer_columns = vec![
            PrinterColumn {
                name: "Ready".into(),
                type_: "string".into(),
                json_path: ".status.conditions[?(@.type==\"Ready\")].status".into(),
                ..Default::default()
            },
            PrinterColumn {
                name: "Size".into(),
                type_: "integer".into(),
                json_path: ".spec.size".into(),
                ..Default::default()
            },
            PrinterColumn {
                name: "Age".into(),
                type_: "date".into(),
                json_path: ".metadata.creationTimestamp".into(),
                ..Default::default()
            },
        ];
        let o = json!({"metadata": {"name": "w1", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"size": 3},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(
            cells(&w, &o, now()),
            vec![json!("w1"), json!("True"), json!(3), json!("60m")]
        );
        let bare = json!({"metadata": {"name": "w2"}});
        assert_eq!(cells(&w, &bare, now())[1], Value::Null);
        assert_eq!(columns(&w).len(), 4);
        let plain = rt("example.com", "Gadget");
        assert_eq!(columns(&plain)[1]["name"], "Age");
        let sa = rt("", "ServiceAccount");
        assert_eq!(columns(&sa)[1]["name"], "Created At");
        let one = table_for_object(&w, "meta.k8s.io/v1", &o, IncludeObject::None, now());
        assert!(one["rows"][0].get("object").is_none());
        let ev = watch_event_object(
            &w,
            "meta.k8s.io/v1",
            &o,
            IncludeObject::Object,
            false,
            now(),
        );
        assert_eq!(ev["columnDefinitions"], json!([]));
        assert_eq!(ev["rows"][0]["object"]["spec"]["size"], 3);
    }
}
