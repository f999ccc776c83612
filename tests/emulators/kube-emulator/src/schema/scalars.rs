//! Scalar checks of the OpenAPI validation (numbers, strings, formats) and the
//! shared message helpers, with kube-openapi's wording.

use super::field_error::{FieldError, FieldErrorType};
use serde_json::Value;

pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Go `%v` of a float64 schema bound.
pub(super) fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i64),
        Some(f) => f.to_string(),
        None => v.to_string(),
    }
}

pub(super) fn in_body(path: &str) -> String {
    format!("{path} in body")
}

pub(super) fn type_error(path: &str, v: &Value, expected: &str, errs: &mut Vec<FieldError>) {
    let detail = format!(
        "{} must be of type {expected}: {:?}",
        in_body(path),
        json_type(v)
    );
    errs.push(FieldError::new(
        FieldErrorType::TypeInvalid,
        path,
        Some(v.clone()),
        &detail,
    ));
}

pub(super) fn invalid(path: &str, v: &Value, detail: String, errs: &mut Vec<FieldError>) {
    errs.push(FieldError::invalid(path, v.clone(), &detail));
}

pub(super) fn number(schema: &Value, v: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let x = v.as_f64().unwrap_or(0.0);
    let excl = |k: &str| schema.get(k) == Some(&Value::Bool(true));
    if let Some(min) = schema.get("minimum").filter(|m| m.is_number()) {
        let m = min.as_f64().unwrap_or(0.0);
        if excl("exclusiveMinimum") && x <= m {
            invalid(
                path,
                v,
                format!("{} should be greater than {}", in_body(path), num(min)),
                errs,
            );
        } else if x < m {
            invalid(
                path,
                v,
                format!(
                    "{} should be greater than or equal to {}",
                    in_body(path),
                    num(min)
                ),
                errs,
            );
        }
    }
    if let Some(max) = schema.get("maximum").filter(|m| m.is_number()) {
        let m = max.as_f64().unwrap_or(0.0);
        if excl("exclusiveMaximum") && x >= m {
            invalid(
                path,
                v,
                format!("{} should be less than {}", in_body(path), num(max)),
                errs,
            );
        } else if x > m {
            invalid(
                path,
                v,
                format!(
                    "{} should be less than or equal to {}",
                    in_body(path),
                    num(max)
                ),
                errs,
            );
        }
    }
    if let Some(mult) = schema.get("multipleOf").and_then(Value::as_f64) {
        let q = x / mult;
        if mult != 0.0 && (q - q.round()).abs() > 1e-9 {
            let detail = format!(
                "{} should be a multiple of {}",
                in_body(path),
                num(&schema["multipleOf"])
            );
            invalid(path, v, detail, errs);
        }
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("int32") if !(is_integer(v) && x >= i32::MIN as f64 && x <= i32::MAX as f64) => {
            type_error(path, v, "int32", errs)
        }
        Some("int64") if !is_integer(v) => type_error(path, v, "int64", errs),
        _ => {}
    }
}

pub(super) fn string(schema: &Value, v: &Value, s: &str, path: &str, errs: &mut Vec<FieldError>) {
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        invalid(
            path,
            v,
            format!("{} should be at least {min} chars long", in_body(path)),
            errs,
        );
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        errs.push(FieldError::too_long(path, v.clone(), max as i64));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && let Some(re) = compiled(pattern)
        && !re.is_match(s)
    {
        invalid(
            path,
            v,
            format!("{} should match '{pattern}'", in_body(path)),
            errs,
        );
    }
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let ok = match format {
        "date-time" => s.parse::<jiff::Timestamp>().is_ok(),
        "date" => s.parse::<jiff::civil::Date>().is_ok() && s.len() == 10,
        "byte" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(s).is_ok()
        }
        "uuid" => uuid::Uuid::try_parse(s).is_ok(),
        _ => true,
    };
    if !ok {
        let detail = format!(
            "{} must be of type {format}: {}",
            in_body(path),
            super::field_error::go_quote(s)
        );
        errs.push(FieldError::new(
            FieldErrorType::TypeInvalid,
            path,
            Some(v.clone()),
            &detail,
        ));
    }
}

/// Schema patterns, compiled once: compiling one per validated string was a measurable
/// share of every write at bench sizes. An invalid pattern is `None` (and not enforced).
fn compiled(pattern: &str) -> Option<regex::Regex> {
    static CACHE: std::sync::LazyLock<
        parking_lot::Mutex<std::collections::HashMap<String, Option<regex::Regex>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut cache = CACHE.lock();
    if let Some(re) = cache.get(pattern) {
        return re.clone();
    }
    let re = regex::Regex::new(pattern).ok();
    cache.insert(pattern.to_string(), re.clone());
    re
}
