//! Decoding of Kubernetes protobuf request bodies for the few built-in kinds typed clients
//! write in our tests: Secret, ConfigMap, Namespace, and DeleteOptions.
//!
//! docs/kubernetes-api.md §3.4: client-go's generated clientsets always send
//! `application/vnd.kubernetes.protobuf` for built-in kinds, with no JSON fallback on 415.
//! Helm's release storage (Secrets), `kubectl create secret|configmap|namespace` and any Go
//! operator's typed client hit this. Responses stay JSON (those clients accept it).
//!
//! Format: the 4-byte magic `k8s\0`, then a `runtime.Unknown` message whose `raw` field holds
//! the object's own message (field numbers from k8s.io/api `generated.proto`).

use base64::Engine;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";

/// The request Content-Type of Kubernetes protobuf.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// One decoded protobuf field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err("varint too long".into())
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (num, wire) = (key >> 3, key & 7);
        let f = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            1 | 5 => {
                pos += if wire == 1 { 8 } else { 4 };
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| "length overflow")?;
                let end = pos
                    .checked_add(len)
                    .filter(|e| *e <= buf.len())
                    .ok_or("truncated field")?;
                let b = &buf[pos..end];
                pos = end;
                Field::Bytes(b)
            }
            _ => return Err(format!("unsupported wire type {wire}")),
        };
        out.push((num, f));
    }
    if pos > buf.len() {
        return Err("truncated fixed field".into());
    }
    Ok(out)
}

fn string(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in string field".to_string())
}

/// A `map<string, string>` (`bytes_values`: `map<string, bytes>`, rendered base64 as in JSON)
/// entry, merged into `into`.
fn map_entry(b: &[u8], into: &mut Map<String, Value>, bytes_values: bool) -> Result<(), String> {
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => k = string(x)?,
            (2, Field::Bytes(x)) if bytes_values => {
                v = json!(base64::engine::general_purpose::STANDARD.encode(x));
            }
            (2, Field::Bytes(x)) => v = json!(string(x)?),
            _ => {}
        }
    }
    into.insert(k, v);
    Ok(())
}

/// `metav1.Time` → RFC3339 with second precision.
fn time(b: &[u8]) -> Result<Value, String> {
    let mut secs = 0i64;
    for (n, f) in fields(b)? {
        if let (1, Field::Varint(v)) = (n, f) {
            secs = v as i64;
        }
    }
    let ts = jiff::Timestamp::from_second(secs).map_err(|e| e.to_string())?;
    Ok(json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn owner_reference(b: &[u8]) -> Result<Value, String> {
    let mut o = Map::new();
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => _ = o.insert("kind".into(), json!(string(x)?)),
            (3, Field::Bytes(x)) => _ = o.insert("name".into(), json!(string(x)?)),
            (4, Field::Bytes(x)) => _ = o.insert("uid".into(), json!(string(x)?)),
            (5, Field::Bytes(x)) => _ = o.insert("apiVersion".into(), json!(string(x)?)),
            (6, Field::Varint(v)) => _ = o.insert("controller".into(), json!(v != 0)),
            (7, Field::Varint(v)) => _ = o.insert("blockOwnerDeletion".into(), json!(v != 0)),
            _ => {}
        }
    }
    Ok(Value::Object(o))
}

fn managed_fields_entry(b: &[u8]) -> Result<Value, String> {
    let mut o = Map::new();
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => _ = o.insert("manager".into(), json!(string(x)?)),
            (2, Field::Bytes(x)) => _ = o.insert("operation".into(), json!(string(x)?)),
            (3, Field::Bytes(x)) => _ = o.insert("apiVersion".into(), json!(string(x)?)),
            (4, Field::Bytes(x)) => _ = o.insert("time".into(), time(x)?),
            (6, Field::Bytes(x)) => _ = o.insert("fieldsType".into(), json!(string(x)?)),
            (7, Field::Bytes(x)) => {
                // FieldsV1 { raw = 1 } holds the JSON field set.
                for (m, g) in fields(x)? {
                    if let (1, Field::Bytes(raw)) = (m, g) {
                        let v: Value = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
                        o.insert("fieldsV1".into(), v);
                    }
                }
            }
            (8, Field::Bytes(x)) => _ = o.insert("subresource".into(), json!(string(x)?)),
            _ => {}
        }
    }
    Ok(Value::Object(o))
}

fn object_meta(b: &[u8]) -> Result<Value, String> {
    let mut o = Map::new();
    let (mut labels, mut annotations) = (Map::new(), Map::new());
    let (mut owners, mut finalizers, mut managed) = (Vec::new(), Vec::new(), Vec::new());
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => _ = o.insert("name".into(), json!(string(x)?)),
            (2, Field::Bytes(x)) => _ = o.insert("generateName".into(), json!(string(x)?)),
            (3, Field::Bytes(x)) => _ = o.insert("namespace".into(), json!(string(x)?)),
            (5, Field::Bytes(x)) => _ = o.insert("uid".into(), json!(string(x)?)),
            (6, Field::Bytes(x)) => _ = o.insert("resourceVersion".into(), json!(string(x)?)),
            (7, Field::Varint(v)) => _ = o.insert("generation".into(), json!(v as i64)),
            (8, Field::Bytes(x)) => _ = o.insert("creationTimestamp".into(), time(x)?),
            (9, Field::Bytes(x)) => _ = o.insert("deletionTimestamp".into(), time(x)?),
            (10, Field::Varint(v)) => {
                _ = o.insert("deletionGracePeriodSeconds".into(), json!(v as i64))
            }
            (11, Field::Bytes(x)) => map_entry(x, &mut labels, false)?,
            (12, Field::Bytes(x)) => map_entry(x, &mut annotations, false)?,
            (13, Field::Bytes(x)) => owners.push(owner_reference(x)?),
            (14, Field::Bytes(x)) => finalizers.push(json!(string(x)?)),
            (17, Field::Bytes(x)) => managed.push(managed_fields_entry(x)?),
            _ => {}
        }
    }
    // Empty repeated/map fields are absent in protobuf; keep them absent in JSON too.
    for (k, v) in [
        ("labels", Value::Object(labels)),
        ("annotations", Value::Object(annotations)),
    ] {
        if v.as_object().is_some_and(|m| !m.is_empty()) {
            o.insert(k.into(), v);
        }
    }
    for (k, v) in [
        ("ownerReferences", owners),
        ("finalizers", finalizers),
        ("managedFields", managed),
    ] {
        if !v.is_empty() {
            o.insert(k.into(), Value::Array(v));
        }
    }
    Ok(Value::Object(o))
}

fn secret(b: &[u8]) -> Result<Value, String> {
    let mut o = json!({"apiVersion": "v1", "kind": "Secret"});
    let (mut data, mut string_data) = (Map::new(), Map::new());
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => o["metadata"] = object_meta(x)?,
            (2, Field::Bytes(x)) => map_entry(x, &mut data, true)?,
            (3, Field::Bytes(x)) => o["type"] = json!(string(x)?),
            (4, Field::Bytes(x)) => map_entry(x, &mut string_data, false)?,
            (5, Field::Varint(v)) => o["immutable"] = json!(v != 0),
            _ => {}
        }
    }
    if !data.is_empty() {
        o["data"] = Value::Object(data);
    }
    if !string_data.is_empty() {
        o["stringData"] = Value::Object(string_data);
    }
    Ok(o)
}

fn config_map(b: &[u8]) -> Result<Value, String> {
    let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap"});
    let (mut data, mut binary) = (Map::new(), Map::new());
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(x)) => o["metadata"] = object_meta(x)?,
            (2, Field::Bytes(x)) => map_entry(x, &mut data, false)?,
            (3, Field::Bytes(x)) => map_entry(x, &mut binary, true)?,
            (4, Field::Varint(v)) => o["immutable"] = json!(v != 0),
            _ => {}
        }
    }
    if !data.is_empty() {
        o["data"] = Value::Object(data);
    }
    if !binary.is_empty() {
        o["binaryData"] = Value::Object(binary);
    }
    Ok(o)
}

fn namespace(b: &[u8]) -> Result<Value, String> {
    let mut o = json!({"apiVersion": "v1", "kind": "Namespace"});
    for (n, f) in fields(b)? {
        if let (1, Field::Bytes(x)) = (n, f) {
            o["metadata"] = object_meta(x)?;
        }
    }
    Ok(o)
}

fn delete_options(b: &[u8]) -> Result<Value, String> {
    let mut o = json!({"apiVersion": "v1", "kind": "DeleteOptions"});
    let mut dry = Vec::new();
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Varint(v)) => o["gracePeriodSeconds"] = json!(v as i64),
            (2, Field::Bytes(x)) => {
                let mut p = Map::new();
                for (m, g) in fields(x)? {
                    match (m, g) {
                        (1, Field::Bytes(u)) => _ = p.insert("uid".into(), json!(string(u)?)),
                        (2, Field::Bytes(r)) => {
                            _ = p.insert("resourceVersion".into(), json!(string(r)?))
                        }
                        _ => {}
                    }
                }
                o["preconditions"] = Value::Object(p);
            }
            (3, Field::Varint(v)) => o["orphanDependents"] = json!(v != 0),
            (4, Field::Bytes(x)) => o["propagationPolicy"] = json!(string(x)?),
            (5, Field::Bytes(x)) => dry.push(json!(string(x)?)),
            _ => {}
        }
    }
    if !dry.is_empty() {
        o["dryRun"] = Value::Array(dry);
    }
    Ok(o)
}

/// Decodes an `application/vnd.kubernetes.protobuf` body into the JSON the handlers expect.
/// Kinds outside the supported set are an error (the caller answers 415).
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("missing k8s protobuf magic")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, f) in fields(rest)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (m, g) in fields(tm)? {
                    match (m, g) {
                        (1, Field::Bytes(x)) => api_version = string(x)?,
                        (2, Field::Bytes(x)) => kind = string(x)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = x,
            (3, Field::Bytes(x)) if !x.is_empty() => {
                return Err("encoded protobuf content is not supported".into());
            }
            _ => {}
        }
    }
    let mut obj = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Secret") => secret(raw)?,
        ("v1", "ConfigMap") => config_map(raw)?,
        ("v1", "Namespace") => namespace(raw)?,
        ("v1" | "meta.k8s.io/v1", "DeleteOptions") => delete_options(raw)?,
        _ => {
            return Err(format!(
                "protobuf bodies of {api_version} {kind} are not supported by the emulator"
            ));
        }
    };
    if obj.get("metadata").is_none() && kind != "DeleteOptions" {
        obj["metadata"] = json!({});
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64, wire: u64, out: &mut Vec<u8>) {
        put_varint((n << 3) | wire, out);
    }
    fn put_varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn bytes(n: u64, b: &[u8], out: &mut Vec<u8>) {
        key(n, 2, out);
        put_varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        bytes(1, k.as_bytes(), &mut e);
        bytes(2, v, &mut e);
        e
    }
    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut tm = Vec::new();
        bytes(1, api_version.as_bytes(), &mut tm);
        bytes(2, kind.as_bytes(), &mut tm);
        let mut out = MAGIC.to_vec();
        bytes(1, &tm, &mut out);
        bytes(2, raw, &mut out);
        out
    }

    #[test]
    fn decodes_a_helm_style_secret() {
        let mut meta = Vec::new();
        bytes(1, b"sh.helm.release.v1.r.v1", &mut meta);
        bytes(11, &entry("owner", b"helm"), &mut meta);
        bytes(11, &entry("status", b"deployed"), &mut meta);
        let mut time = Vec::new();
        key(1, 0, &mut time);
        put_varint(1_767_225_600, &mut time);
        bytes(8, &time, &mut meta);
        let mut s = Vec::new();
        bytes(1, &meta, &mut s);
        bytes(2, &entry("release", b"\x00\xffhi"), &mut s);
        bytes(3, b"helm.sh/release.v1", &mut s);
        key(5, 0, &mut s);
        put_varint(1, &mut s);
        let v = decode(&envelope("v1", "Secret", &s)).unwrap();
        assert_eq!(v["kind"], "Secret");
        assert_eq!(v["metadata"]["name"], "sh.helm.release.v1.r.v1");
        assert_eq!(
            v["metadata"]["labels"],
            json!({"owner": "helm", "status": "deployed"})
        );
        assert_eq!(v["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(v["data"]["release"], "AP9oaQ==");
        assert_eq!(v["type"], "helm.sh/release.v1");
        assert_eq!(v["immutable"], true);
    }

    #[test]
    fn decodes_configmap_namespace_and_delete_options() {
        let mut meta = Vec::new();
        bytes(1, b"c", &mut meta);
        bytes(14, b"a.example/f", &mut meta);
        let mut c = Vec::new();
        bytes(1, &meta, &mut c);
        bytes(2, &entry("k", b"v"), &mut c);
        let v = decode(&envelope("v1", "ConfigMap", &c)).unwrap();
        assert_eq!(v["data"], json!({"k": "v"}));
        assert_eq!(v["metadata"]["finalizers"], json!(["a.example/f"]));

        let mut n = Vec::new();
        bytes(
            1,
            &{
                let mut m = Vec::new();
                bytes(1, b"ns1", &mut m);
                m
            },
            &mut n,
        );
        assert_eq!(
            decode(&envelope("v1", "Namespace", &n)).unwrap()["metadata"]["name"],
            "ns1"
        );

        let mut d = Vec::new();
        bytes(4, b"Background", &mut d);
        let v = decode(&envelope("meta.k8s.io/v1", "DeleteOptions", &d)).unwrap();
        assert_eq!(v["propagationPolicy"], "Background");
    }

    #[test]
    fn rejects_unsupported_and_malformed() {
        assert!(decode(b"{}").is_err());
        assert!(
            decode(&envelope("apps/v1", "Deployment", &[]))
                .unwrap_err()
                .contains("not supported")
        );
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(&[0x12, 0x05, 0x01]);
        assert!(decode(&bad).is_err());
    }
}
