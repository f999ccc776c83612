//! Server-side `Table` (meta.k8s.io/v1) rendering for `kubectl get`.
//!
//! docs/kubernetes-api.md §3.3 / §6 Should 4: kubectl asks for
//! `application/json;as=Table;v=v1;g=meta.k8s.io,…`; a real server answers with per-type columns
//! (Secret: Type/Data, ConfigMap: Data, Namespace: Status, CRDs: `additionalPrinterColumns`),
//! so `kubectl get` text only matches a real cluster if we render them too.

mod builtin;
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

pub(crate) fn age(ts: Option<&Value>, now: jiff::Timestamp) -> Value {
    match ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    {
        Some(t) => json!(human_duration(now.as_second() - t.as_second())),
        None => json!("<unknown>"),
    }
}

pub(crate) fn col(
    name: &str,
    type_: &str,
    format: &str,
    description: &str,
    priority: i32,
) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

pub(crate) const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
pub(crate) const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";

/// How a type's rows are computed.
enum Layout<'a> {
    /// CRD `additionalPrinterColumns` (Name is always prepended, as apiextensions does).
    Printer(&'a [PrinterColumn]),
    /// A built-in kind with its own printer (`builtin.rs`).
    Builtin,
    /// A CR without printer columns: Name, Age.
    CustomDefault,
    /// The apiserver's `DefaultTableConvertor`: Name, Created At (RFC3339).
    Default,
}

fn layout(t: &ResourceType) -> Layout<'_> {
    if !t.printer_columns.is_empty() {
        return Layout::Printer(&t.printer_columns);
    }
    if builtin::has_printer(t) {
        return Layout::Builtin;
    }
    if is_builtin(t) {
        Layout::Default
    } else {
        Layout::CustomDefault
    }
}

/// Column definitions for a type.
pub fn columns(t: &ResourceType) -> Vec<Value> {
    let name = col("Name", "string", "name", NAME_DESC, 0);
    match layout(t) {
        Layout::Printer(pc) => std::iter::once(name)
            .chain(
                pc.iter()
                    .map(|c| col(&c.name, &c.type_, &c.format, &c.description, c.priority)),
            )
            .collect(),
        Layout::Builtin => builtin::columns(t),
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

/// The cells of one row.
pub fn cells(t: &ResourceType, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let md = &obj["metadata"];
    let name = json!(md["name"].as_str().unwrap_or_default());
    let created = md.get("creationTimestamp");
    match layout(t) {
        Layout::Printer(pc) => std::iter::once(name)
            .chain(pc.iter().map(|c| printer_cell(c, obj, now)))
            .collect(),
        Layout::Builtin => builtin::cells(t, obj, now),
        Layout::CustomDefault => vec![name, age(created, now)],
        Layout::Default => vec![name, created.cloned().unwrap_or(Value::Null)],
    }
}

/// The `PartialObjectMetadata` form of an object (docs/kubernetes-api.md §2.11).
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
mod tests;
