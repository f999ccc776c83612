//! ObjectMeta rules: name/label/annotation/finalizer validation, system fields and timestamps
//! (docs/kubernetes-api.md §2.3; `apimachinery/pkg/api/validation/objectmeta.go`).

use rand::Rng;
use serde_json::{Map, Value, json};

use crate::status::Cause;

/// `Time`: RFC3339, second precision, `Z`.
pub fn now_time() -> String {
    let ts = jiff::Timestamp::now();
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `MicroTime`: six fractional digits.
pub fn now_micro() -> String {
    let ts = jiff::Timestamp::now();
    ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let ok = !s.is_empty()
        && s.chars().all(|c| is_alnum_lower(c) || c == '-')
        && s.starts_with(is_alnum_lower)
        && s.ends_with(is_alnum_lower);
    if ok {
        Ok(())
    } else {
        Err("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into())
    }
}

/// DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    let msg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    if s.len() > 253 {
        return Err("must be no more than 253 characters".into());
    }
    let ok = !s.is_empty()
        && s.chars().all(|c| is_alnum_lower(c) || c == '-' || c == '.')
        && s.starts_with(is_alnum_lower)
        && s.ends_with(is_alnum_lower)
        && s.split('.')
            .all(|p| !p.is_empty() && p.starts_with(is_alnum_lower) && p.ends_with(is_alnum_lower));
    if ok { Ok(()) } else { Err(msg.into()) }
}

/// Qualified name (label keys, finalizers): optional DNS subdomain prefix + `/` + name part.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Err("prefix part must be non-empty".into());
        }
        dns1123_subdomain(p).map_err(|e| format!("prefix part {e}"))?;
    }
    if name.is_empty() || name.len() > 63 {
        return Err("name part must be non-empty and no more than 63 characters".into());
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let ok = name
        .chars()
        .all(|c| alnum(c) || c == '-' || c == '_' || c == '.')
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into())
    }
}

/// Label value: empty or a qualified-name-like token of at most 63 characters.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if s.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let ok = s
        .chars()
        .all(|c| alnum(c) || c == '-' || c == '_' || c == '.')
        && s.starts_with(alnum)
        && s.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into())
    }
}

const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `generateName` + 5 random characters (docs/kubernetes-api.md §2.3), base truncated so the result
/// fits 63.
pub fn generate_name(base: &str) -> String {
    let base = if base.len() > 58 { &base[..58] } else { base };
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| GENERATE_ALPHABET[rng.random_range(0..GENERATE_ALPHABET.len())] as char)
        .collect();
    format!("{base}{suffix}")
}

/// Validates labels, annotations, finalizers and ownerReferences of `meta`.
pub fn validate_object_meta(meta: &Map<String, Value>, causes: &mut Vec<Cause>) {
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Err(e) = qualified_name(k) {
                causes.push(Cause::invalid("metadata.labels", &json!(k), &e));
            }
            match v.as_str() {
                Some(s) => {
                    if let Err(e) = label_value(s) {
                        causes.push(Cause::invalid("metadata.labels", v, &e));
                    }
                }
                None => causes.push(Cause::invalid("metadata.labels", v, "must be a string")),
            }
        }
    }
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        let mut total = 0usize;
        for (k, v) in ann {
            total += k.len() + v.as_str().map(str::len).unwrap_or(0);
            if let Err(e) = qualified_name(&k.to_lowercase()) {
                causes.push(Cause::invalid("metadata.annotations", &json!(k), &e));
            }
        }
        if total > 256 * 1024 {
            causes.push(Cause::new(
                "FieldValueTooLong",
                "metadata.annotations",
                "Too long: must have at most 262144 bytes",
            ));
        }
    }
    if let Some(fins) = meta.get("finalizers").and_then(Value::as_array) {
        for (i, f) in fins.iter().enumerate() {
            let s = f.as_str().unwrap_or("");
            if let Err(e) = qualified_name(s) {
                causes.push(Cause::invalid(&format!("metadata.finalizers[{i}]"), f, &e));
            }
        }
    }
    if let Some(refs) = meta.get("ownerReferences").and_then(Value::as_array) {
        for (i, r) in refs.iter().enumerate() {
            for f in ["apiVersion", "kind", "name", "uid"] {
                if r.get(f).and_then(Value::as_str).unwrap_or("").is_empty() {
                    causes.push(Cause::invalid(
                        &format!("metadata.ownerReferences[{i}].{f}"),
                        &json!(""),
                        &format!("{f} must not be empty"),
                    ));
                }
            }
        }
        let controllers = refs
            .iter()
            .filter(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            .count();
        if controllers > 1 {
            causes.push(Cause::invalid(
                "metadata.ownerReferences",
                &json!(refs),
                "Only one reference can have Controller set to true",
            ));
        }
    }
}

/// Finalizer names that are not domain-qualified get a warning
/// (docs/kubernetes-api.md §6 Should 6).
pub fn finalizer_warnings(meta: &Map<String, Value>) -> Vec<String> {
    let standard = ["kubernetes", "orphan", "foregroundDeletion"];
    meta.get("finalizers")
        .and_then(Value::as_array)
        .map(|fins| {
            fins.iter()
                .filter_map(Value::as_str)
                .filter(|f| !f.contains('/') && !standard.contains(f))
                .map(|f| {
                    format!("metadata.finalizers: \"{f}\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Go's `omitempty`: empty maps/slices in metadata are never stored (docs/kubernetes-api.md §1.5,
/// §2.3).
pub fn drop_empty_meta(meta: &mut Map<String, Value>) {
    for k in [
        "labels",
        "annotations",
        "finalizers",
        "ownerReferences",
        "managedFields",
    ] {
        let empty = match meta.get(k) {
            Some(Value::Null) => true,
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if empty {
            meta.remove(k);
        }
    }
    for k in ["generateName", "namespace", "deletionTimestamp"] {
        if matches!(meta.get(k), Some(Value::Null)) || meta.get(k) == Some(&json!("")) {
            meta.remove(k);
        }
    }
}

/// The finalizer list, empty when absent.
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn set_finalizers(obj: &mut Value, fins: &[String]) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if fins.is_empty() {
            meta.remove("finalizers");
        } else {
            meta.insert("finalizers".into(), json!(fins));
        }
    }
}

pub fn str_at<'a>(obj: &'a Value, ptr: &str) -> &'a str {
    obj.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("a.b-c.d1").is_ok());
        assert!(dns1123_subdomain("W1").is_err());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_subdomain("-a").is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1123_label("kube-system").is_ok());
        assert!(qualified_name("example.com/cleanup").is_ok());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("/x").is_err());
        assert!(qualified_name("a/b/c").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("a b").is_err());
    }

    #[test]
    fn generated_names_use_the_alphabet() {
        let n = generate_name("w-");
        assert_eq!(n.len(), 7);
        assert!(n[2..].bytes().all(|b| GENERATE_ALPHABET.contains(&b)));
    }

    #[test]
    fn empty_meta_is_dropped() {
        let mut m = json!({"name":"a","labels":{},"finalizers":[],"annotations":null})
            .as_object()
            .unwrap()
            .clone();
        drop_empty_meta(&mut m);
        assert_eq!(Value::Object(m), json!({"name":"a"}));
    }

    #[test]
    fn times_have_the_right_precision() {
        assert_eq!(now_time().len(), 20);
        assert_eq!(now_micro().len(), 27);
    }
}
