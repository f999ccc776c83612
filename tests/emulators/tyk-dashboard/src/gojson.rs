//! Request bodies decoded, and objects rendered, the way the Dashboard's Go handlers do it
//! with `encoding/json` (https://pkg.go.dev/encoding/json#Unmarshal, `#Marshal`):
//!
//! - keys match struct fields exactly or, failing that, case-insensitively; unknown keys are
//!   dropped (never stored, never served back);
//! - a value of the wrong JSON type for its field fails the whole body (the handler's
//!   "Request body malformed", docs/tyk-dashboard-api.md §10.5); so do an integer field given
//!   `1.5` or `1e2`, a `time.Time` that is not RFC 3339 and an ObjectId that is not 24 hex
//!   (docs/tyk-dashboard-api.md §1.4);
//! - `null` is a no-op for strings, numbers, booleans, times and structs (they keep their zero
//!   or current value) and sets maps, slices and pointers to nil, which Go renders as `null`;
//! - rendering puts struct fields in declaration order, drops empty `omitempty` fields and
//!   sorts map keys; `interface{}` values come back with sorted keys and float64 numbers.

use serde_json::{Map, Number, Value};

use crate::model::{ZERO_TIME, is_object_id};

/// A Go type, as far as `encoding/json` cares.
#[derive(Debug)]
pub enum Ty {
    Str,
    Bool,
    /// `int`/`int64`: an integer literal within int64 (`strconv.ParseInt`).
    Int,
    /// `time.Time`: a quoted RFC 3339 timestamp.
    Time,
    /// An ObjectId (mgo/`TykTechnologies/storage`): 24 hex digits, `""` or `null`.
    ObjectId,
    /// `interface{}`.
    Any,
    Map(&'static Ty),
    Slice(&'static Ty),
    Struct(&'static [Field]),
    /// A pointer (to a struct): `null` makes it nil.
    Ptr(&'static Ty),
}

/// A struct field: its JSON name, type and `omitempty`.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub omitempty: bool,
}

/// `json:"name"`.
pub const fn field(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        omitempty: false,
    }
}

/// `json:"name,omitempty"`.
pub const fn omitempty(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        omitempty: true,
    }
}

/// A body Go's `json.Unmarshal` would refuse for its type (`*json.UnmarshalTypeError`,
/// `*time.ParseError`, the ObjectId's own error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    pub at: String,
}

/// The zero value, as Go renders it.
pub fn zero(ty: &Ty) -> Value {
    match ty {
        Ty::Str | Ty::ObjectId => Value::String(String::new()),
        Ty::Bool => Value::Bool(false),
        Ty::Int => Value::from(0),
        Ty::Time => Value::String(ZERO_TIME.into()),
        Ty::Any | Ty::Map(_) | Ty::Slice(_) | Ty::Ptr(_) => Value::Null,
        Ty::Struct(fields) => Value::Object(
            fields
                .iter()
                .map(|f| (f.name.to_string(), zero(&f.ty)))
                .collect(),
        ),
    }
}

/// Go's field lookup: an exact match first, else a case-insensitive one.
fn lookup<'a>(fields: &'a [Field], key: &str) -> Option<&'a Field> {
    fields
        .iter()
        .find(|f| f.name == key)
        .or_else(|| fields.iter().find(|f| fold_eq(f.name, key)))
}

/// Case-insensitive comparison with Go's special folds (`ſ` = `s`, Kelvin `K` = `k`).
fn fold_eq(a: &str, b: &str) -> bool {
    fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars().flat_map(|c| match c {
            '\u{017F}' => 's'.to_lowercase(),
            c => c.to_lowercase(),
        })
    }
    fold(a).eq(fold(b))
}

/// Whether `null` sets this type to nil (else it is a no-op).
fn null_is_nil(ty: &Ty) -> bool {
    matches!(ty, Ty::Any | Ty::Map(_) | Ty::Slice(_) | Ty::Ptr(_))
}

/// Unmarshals `input` onto `target` (a value of type `ty`) as `json.Unmarshal` does onto an
/// existing Go value: struct fields not in `input` keep their value, maps gain entries.
pub fn decode_onto(target: &mut Value, input: &Value, ty: &Ty) -> Result<(), TypeError> {
    decode_at(target, input, ty, "$")
}

fn decode_at(target: &mut Value, input: &Value, ty: &Ty, at: &str) -> Result<(), TypeError> {
    let bad = || Err(TypeError { at: at.to_string() });
    if input.is_null() {
        if null_is_nil(ty) {
            *target = Value::Null;
        } else if matches!(ty, Ty::ObjectId) {
            // The ObjectId's UnmarshalJSON turns `null` into "" (docs/tyk-dashboard-api.md §1.4).
            *target = Value::String(String::new());
        }
        return Ok(());
    }
    match (ty, input) {
        (Ty::Str, Value::String(_)) | (Ty::Bool, Value::Bool(_)) => *target = input.clone(),
        (Ty::Int, Value::Number(n)) if n.as_i64().is_some() => *target = input.clone(),
        (Ty::Time, Value::String(s)) if is_rfc3339(s) => *target = input.clone(),
        (Ty::ObjectId, Value::String(s)) if s.is_empty() || is_object_id(s) => {
            *target = input.clone()
        }
        (Ty::Any, _) => *target = go_any(input),
        (Ty::Map(elem), Value::Object(m)) => {
            let mut out = match std::mem::take(target) {
                Value::Object(existing) => existing,
                _ => Map::new(),
            };
            for (k, v) in m {
                let mut slot = zero(elem);
                decode_at(&mut slot, v, elem, &format!("{at}.{k}"))?;
                out.insert(k.clone(), slot);
            }
            *target = sorted(out);
        }
        (Ty::Slice(elem), Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                let mut slot = zero(elem);
                decode_at(&mut slot, v, elem, &format!("{at}[{i}]"))?;
                out.push(slot);
            }
            *target = Value::Array(out);
        }
        (Ty::Struct(fields), Value::Object(m)) => {
            if !target.is_object() {
                *target = zero(ty);
            }
            let obj = target.as_object_mut().expect("a struct is an object");
            for (k, v) in m {
                let Some(f) = lookup(fields, k) else { continue };
                let slot = obj.entry(f.name.to_string()).or_insert_with(|| zero(&f.ty));
                decode_at(slot, v, &f.ty, &format!("{at}.{}", f.name))?;
            }
        }
        (Ty::Ptr(inner), _) => {
            if target.is_null() {
                *target = zero(inner);
            }
            decode_at(target, input, inner, at)?;
        }
        _ => return bad(),
    }
    Ok(())
}

/// Decodes a top-level struct body and keeps only the fields the body set: canonical field
/// names, in body order; a `null` member is dropped where Go's `null` is a no-op and kept as
/// `null` where it makes a map or slice nil. A `null` body sets nothing (Go: no-op).
pub fn decode_present(input: &Value, ty: &Ty) -> Result<Map<String, Value>, TypeError> {
    let Ty::Struct(fields) = ty else {
        panic!("decode_present needs a struct type, got {ty:?}");
    };
    let m = match input {
        Value::Null => return Ok(Map::new()),
        Value::Object(m) => m,
        _ => return Err(TypeError { at: "$".into() }),
    };
    let mut out = Map::new();
    for (k, v) in m {
        let Some(f) = lookup(fields, k) else { continue };
        if v.is_null() && !null_is_nil(&f.ty) && !matches!(f.ty, Ty::ObjectId) {
            continue;
        }
        let slot = out.entry(f.name.to_string()).or_insert_with(|| zero(&f.ty));
        decode_at(slot, v, &f.ty, &format!("$.{}", f.name))?;
    }
    Ok(out)
}

/// Renders a value of type `ty` as `json.Marshal` would.
pub fn render(v: &Value, ty: &Ty) -> Value {
    match (ty, v) {
        (Ty::Struct(fields), Value::Object(m)) => {
            let mut out = Map::new();
            for f in fields.iter() {
                let fv = m.get(f.name).cloned().unwrap_or_else(|| zero(&f.ty));
                if f.omitempty && is_empty(&fv, &f.ty) {
                    continue;
                }
                out.insert(f.name.to_string(), render(&fv, &f.ty));
            }
            Value::Object(out)
        }
        (Ty::Map(elem), Value::Object(m)) => sorted(
            m.iter()
                .map(|(k, x)| (k.clone(), render(x, elem)))
                .collect(),
        ),
        (Ty::Slice(elem), Value::Array(items)) => {
            Value::Array(items.iter().map(|x| render(x, elem)).collect())
        }
        (Ty::Ptr(inner), x) if !x.is_null() => render(x, inner),
        _ => v.clone(),
    }
}

/// `omitempty`: false, 0, "", a nil pointer, a nil or empty map or slice. Structs (and
/// `time.Time`) are never empty.
fn is_empty(v: &Value, ty: &Ty) -> bool {
    match ty {
        Ty::Struct(_) | Ty::Time => false,
        _ => match v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty() && !matches!(ty, Ty::Ptr(_)),
            Value::Object(o) => o.is_empty() && matches!(ty, Ty::Map(_) | Ty::Any),
        },
    }
}

fn sorted(m: Map<String, Value>) -> Value {
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}

/// An `interface{}` round trip: objects become `map[string]interface{}` (sorted keys when
/// rendered), numbers float64 (an integral value below 1e21 prints without a fraction).
fn go_any(v: &Value) -> Value {
    match v {
        Value::Object(m) => sorted(m.iter().map(|(k, x)| (k.clone(), go_any(x))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(go_any).collect()),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Value::from(f as i64)
            } else {
                Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        _ => v.clone(),
    }
}

/// Go's `time.Time.UnmarshalJSON` (RFC 3339, strict since Go 1.20): `YYYY-MM-DDTHH:MM:SS`,
/// an optional fraction, then `Z` or `±HH:MM`, with valid ranges.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    let zone_ok = match &b[i..] {
        [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2]
            if (*sign == b'+' || *sign == b'-')
                && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            let hours = (h1 - b'0') * 10 + (h2 - b'0');
            let minutes = (m1 - b'0') * 10 + (m2 - b'0');
            hours < 24 && minutes < 60
        }
        _ => false,
    };
    // Calendar and clock ranges: let jiff judge the date-time part.
    zone_ok && format!("{}Z", &s[..19]).parse::<jiff::Timestamp>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static INNER: Ty = Ty::Struct(&[field("b", Ty::Bool), omitempty("n", Ty::Int)]);
    static OUTER: Ty = Ty::Struct(&[
        field("id", Ty::ObjectId),
        field("name", Ty::Str),
        field("count", Ty::Int),
        field("at", Ty::Time),
        field("tags", Ty::Map(&Ty::Str)),
        field("list", Ty::Slice(&Ty::Str)),
        field(
            "inner",
            Ty::Struct(&[field("b", Ty::Bool), omitempty("n", Ty::Int)]),
        ),
        omitempty("ptr", Ty::Ptr(&INNER)),
        field("meta", Ty::Map(&Ty::Any)),
    ]);

    fn decoded(input: Value) -> Result<Value, TypeError> {
        let mut v = zero(&OUTER);
        decode_onto(&mut v, &input, &OUTER)?;
        Ok(render(&v, &OUTER))
    }

    #[test]
    fn zero_struct_renders_every_field_but_empty_omitempty_ones() {
        assert_eq!(
            decoded(json!({})).unwrap().to_string(),
            r#"{"id":"","name":"","count":0,"at":"0001-01-01T00:00:00Z","tags":null,"list":null,"inner":{"b":false},"meta":null}"#
        );
        assert_eq!(decoded(json!(null)).unwrap(), decoded(json!({})).unwrap());
    }

    #[test]
    fn keys_match_case_insensitively_and_unknown_keys_are_dropped() {
        let v =
            decoded(json!({"NAME": "a", "Count": 2, "extra": {"x": 1}, "ſtranger": 1})).unwrap();
        assert_eq!(
            (v["name"].clone(), v["count"].clone()),
            (json!("a"), json!(2))
        );
        assert!(v.get("extra").is_none());
        // Each key sets its field in body order: the last one wins.
        let v = decoded(json!({"name": "exact", "Name": "folded"})).unwrap();
        assert_eq!(v["name"], "folded");
    }

    #[test]
    fn wrong_types_are_refused() {
        for bad in [
            json!({"name": 1}),
            json!({"count": "1"}),
            json!({"count": 1.5}),
            json!({"count": 1e2}),
            json!({"count": 9_223_372_036_854_775_808u64}),
            json!({"at": "yesterday"}),
            json!({"at": 5}),
            json!({"id": "123"}),
            json!({"tags": {"a": 1}}),
            json!({"tags": []}),
            json!({"list": "x"}),
            json!({"inner": {"b": "true"}}),
            json!({"inner": []}),
            json!({"ptr": {"n": "1"}}),
            json!([]),
            json!("body"),
        ] {
            assert!(decoded(bad.clone()).is_err(), "{bad}");
        }
        let e = decoded(json!({"inner": {"b": "x"}})).unwrap_err();
        assert_eq!(e.at, "$.inner.b");
    }

    #[test]
    fn null_is_a_no_op_for_scalars_and_nil_for_maps_slices_and_pointers() {
        let mut v = zero(&OUTER);
        decode_onto(
            &mut v,
            &json!({"name": "n", "tags": {"a": "b"}, "list": [], "ptr": {"b": true}}),
            &OUTER,
        )
        .unwrap();
        decode_onto(
            &mut v,
            &json!({"name": null, "count": null, "inner": null, "list": null, "ptr": null, "tags": {"c": null}}),
            &OUTER,
        )
        .unwrap();
        let r = render(&v, &OUTER);
        assert_eq!(r["name"], "n");
        assert_eq!(r["list"], Value::Null);
        assert!(r.get("ptr").is_none(), "nil pointer, omitempty");
        // Maps gain entries; a null element is the element's zero value.
        assert_eq!(r["tags"], json!({"a": "b", "c": ""}));
    }

    #[test]
    fn maps_render_sorted_and_interface_values_as_go_does() {
        let v = decoded(json!({"tags": {"b": "1", "a": "2"}, "meta": {"z": {"y": 1.0, "x": 2.5}}}))
            .unwrap();
        assert_eq!(
            v["tags"].to_string() + &v["meta"].to_string(),
            r#"{"a":"2","b":"1"}{"z":{"x":2.5,"y":1}}"#
        );
    }

    #[test]
    fn present_fields_only() {
        static T: Ty = Ty::Struct(&[
            field("a", Ty::Str),
            field("m", Ty::Map(&Ty::Str)),
            field("id", Ty::ObjectId),
        ]);
        let m = decode_present(&json!({"A": "x", "b": 1, "m": null}), &T).unwrap();
        assert_eq!(Value::Object(m), json!({"a": "x", "m": null}));
        let m = decode_present(&json!({"a": null}), &T).unwrap();
        assert!(m.is_empty());
        assert!(decode_present(&json!(null), &T).unwrap().is_empty());
        assert!(decode_present(&json!([1]), &T).is_err());
    }

    #[test]
    fn rfc3339_as_go_parses_it() {
        for ok in [
            "2025-03-10T11:10:52.988014+03:00",
            "0001-01-01T00:00:00Z",
            "2024-05-19T08:45:09.53319+03:00",
            "2020-02-29T23:59:59-12:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2025-03-10",
            "2025-03-10 11:10:52Z",
            "2025-03-10T11:10:52",
            "2025-13-10T11:10:52Z",
            "2021-02-29T00:00:00Z",
            "2025-03-10T11:10:52.Z",
            "2025-03-10T11:10:52+3:00",
            "2025-03-10T25:10:52Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
