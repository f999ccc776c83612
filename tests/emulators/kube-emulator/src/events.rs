//! Events: one store in events.k8s.io/v1 form, served through core/v1 too with the field
//! mapping of `pkg/apis/events/v1/conversion.go`, plus the validation of
//! docs/kubernetes-api.md §1.6.

use serde_json::{Map, Value, json};

use crate::meta;
use crate::status::{Cause, render_value};

/// (core/v1 name, events.k8s.io/v1 name) for fields that are renamed.
const RENAMES: [(&str, &str); 6] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename(obj: &Value, from_core: bool, api_version: &str) -> Value {
    let mut out = Map::new();
    let Some(m) = obj.as_object() else {
        return obj.clone();
    };
    for (k, v) in m {
        let mut key = k.clone();
        for (core, ev) in RENAMES {
            if from_core && k == core {
                key = ev.to_string();
            } else if !from_core && k == ev {
                key = core.to_string();
            }
        }
        if from_core && k == "reportingComponent" {
            key = "reportingController".into();
        } else if !from_core && k == "reportingController" {
            key = "reportingComponent".into();
        }
        out.insert(key, v.clone());
    }
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!("Event"));
    Value::Object(out)
}

/// A core/v1 Event body in storage (events.k8s.io/v1) form.
pub fn from_core(obj: &Value) -> Value {
    rename(obj, true, "events.k8s.io/v1")
}

/// A stored Event as core/v1 serves it.
pub fn to_core(obj: &Value) -> Value {
    rename(obj, false, "v1")
}

/// Field-selector lookup on a stored Event, accepting both APIs' field names.
pub fn field(obj: &Value, f: &str) -> String {
    let mapped = if let Some(rest) = f.strip_prefix("involvedObject.") {
        format!("regarding.{rest}")
    } else {
        match f {
            "reportingComponent" => "reportingController".to_string(),
            "source" => "deprecatedSource.component".to_string(),
            other => other.to_string(),
        }
    };
    crate::selectors::field_value(obj, &mapped)
}

fn req_str(obj: &Value, f: &str, max: usize, causes: &mut Vec<Cause>) {
    let v = obj.get(f).and_then(Value::as_str).unwrap_or("");
    if v.is_empty() {
        causes.push(Cause::required(f));
    } else if v.len() > max {
        causes.push(Cause::new(
            "FieldValueTooLong",
            f,
            format!("Too long: may not be more than {max} bytes"),
        ));
    }
}

/// `ValidateEventCreate`/`ValidateEventUpdate` for events.k8s.io/v1 writes; core/v1 writes
/// without `eventTime` get the lenient legacy rules.
pub fn validate(group: &str, obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let strict = group == "events.k8s.io" || obj.get("eventTime").is_some_and(|v| !v.is_null());
    if let Some(t) = obj.get("type").and_then(Value::as_str)
        && !t.is_empty()
        && t != "Normal"
        && t != "Warning"
    {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "type",
            format!("Unsupported value: \"{t}\": supported values: \"Normal\", \"Warning\""),
        ));
    }
    let ns = meta::str_at(obj, "/metadata/namespace");
    let reg_ns = meta::str_at(obj, "/regarding/namespace");
    if !strict {
        if !reg_ns.is_empty() && reg_ns != ns {
            causes.push(Cause::invalid(
                "involvedObject.namespace",
                &json!(reg_ns),
                "does not match event.namespace",
            ));
        }
        return;
    }
    if obj.get("eventTime").is_none_or(Value::is_null) {
        causes.push(Cause::required("eventTime"));
    }
    if obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "type",
            "Unsupported value: \"\": supported values: \"Normal\", \"Warning\"",
        ));
    }
    let rc = obj
        .get("reportingController")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rc.is_empty() {
        causes.push(Cause::required("reportingController"));
    } else if let Err(e) = meta::qualified_name(rc) {
        causes.push(Cause::invalid("reportingController", &json!(rc), &e));
    }
    req_str(obj, "reportingInstance", 128, causes);
    req_str(obj, "action", 128, causes);
    req_str(obj, "reason", 128, causes);
    if obj.get("note").and_then(Value::as_str).unwrap_or("").len() > 1024 {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "note",
            "Too long: may not be more than 1024 bytes",
        ));
    }
    for f in [
        "deprecatedSource",
        "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp",
    ] {
        if obj.get(f).is_some_and(|v| !v.is_null() && v != &json!({})) {
            causes.push(Cause::forbidden(f, "deprecated field must not be set"));
        }
    }
    if obj
        .get("deprecatedCount")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        != 0
    {
        causes.push(Cause::forbidden(
            "deprecatedCount",
            "deprecated field must not be set",
        ));
    }
    if let Some(series) = obj.get("series").filter(|s| !s.is_null()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            causes.push(Cause::invalid(
                "series.count",
                series.get("count").unwrap_or(&json!(0)),
                "should be at least 2",
            ));
        }
        if series.get("lastObservedTime").is_none_or(Value::is_null) {
            causes.push(Cause::required("series.lastObservedTime"));
        }
    }
    // A cluster-scoped `regarding` may only be reported in default or kube-system.
    let ns_ok = if reg_ns.is_empty() {
        ns == "default" || ns == "kube-system"
    } else {
        reg_ns == ns
    };
    if !ns_ok {
        causes.push(Cause::invalid(
            "regarding.namespace",
            &json!(reg_ns),
            "does not match event.namespace",
        ));
    }
    if let Some(old) = old {
        for f in [
            "reason",
            "note",
            "action",
            "type",
            "eventTime",
            "regarding",
            "related",
            "reportingController",
            "reportingInstance",
        ] {
            if old.get(f) != obj.get(f) {
                causes.push(Cause::invalid(
                    f,
                    &json!(render_value(obj.get(f).unwrap_or(&Value::Null))),
                    "field is immutable",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Value {
        json!({"apiVersion":"events.k8s.io/v1","kind":"Event","action":"Reconcile",
          "eventTime":"2026-11-23T06:28:00.343767Z",
          "metadata":{"name":"w1.18ea98af5932d87d","namespace":"default"},"note":"hi","reason":"Reconciled",
          "regarding":{"apiVersion":"example.com/v1","kind":"Widget","name":"w1","namespace":"default","uid":"u"},
          "reportingController":"widget-ctrl","reportingInstance":"vm","type":"Normal"})
    }

    #[test]
    fn recorder_event_is_valid_and_maps_to_core() {
        let mut c = vec![];
        validate("events.k8s.io", &ev(), None, &mut c);
        assert!(c.is_empty(), "{c:?}");
        let core = to_core(&ev());
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "w1");
        assert_eq!(core["message"], "hi");
        assert_eq!(core["reportingComponent"], "widget-ctrl");
        assert_eq!(from_core(&core), ev());
        assert_eq!(field(&ev(), "involvedObject.uid"), "u");
        assert_eq!(field(&ev(), "reportingComponent"), "widget-ctrl");
    }

    #[test]
    fn invalid_events_are_rejected() {
        let mut e = ev();
        e["reportingController"] = json!("");
        e["type"] = json!("Info");
        e["series"] = json!({"count":1});
        let mut c = vec![];
        validate("events.k8s.io", &e, None, &mut c);
        let fields: Vec<_> = c.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"reportingController"));
        assert!(fields.contains(&"type"));
        assert!(fields.contains(&"series.count"));
        assert!(fields.contains(&"series.lastObservedTime"));
        let mut upd = ev();
        upd["note"] = json!("changed");
        let mut c = vec![];
        validate("events.k8s.io", &upd, Some(&ev()), &mut c);
        assert_eq!(c[0].field, "note");
    }
}
