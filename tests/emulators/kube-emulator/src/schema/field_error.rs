//! `field.Error` of k8s.io/apimachinery and the 422 `Status` built from a list
//! of them (`errors.NewInvalid`), rendered byte-for-byte like the apiserver.

use serde_json::{Value, json};
use std::fmt;

/// `field.ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl FieldErrorType {
    /// The `StatusCause.reason` (Go's `CauseType(err.Type)`).
    pub fn cause_reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
            Self::TooMany => "FieldValueTooMany",
            Self::Internal => "InternalError",
            Self::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// Parse a cause reason (used for CEL rules' `reason`).
    pub fn from_cause_reason(reason: &str) -> Option<Self> {
        [
            Self::NotFound,
            Self::Required,
            Self::Duplicate,
            Self::Invalid,
            Self::NotSupported,
            Self::Forbidden,
            Self::TooLong,
            Self::TooMany,
            Self::Internal,
            Self::TypeInvalid,
        ]
        .into_iter()
        .find(|t| t.cause_reason() == reason)
    }

    /// `ErrorType.String()`.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid | Self::TypeInvalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
            Self::TooMany => "Too many",
            Self::Internal => "Internal error",
        }
    }
}

/// One validation failure (`field.Error`). `value: None` is Go's `omitValue`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub type_: FieldErrorType,
    pub field: String,
    pub value: Option<Value>,
    pub detail: String,
}

impl FieldError {
    pub fn new(type_: FieldErrorType, field: &str, value: Option<Value>, detail: &str) -> Self {
        Self {
            type_,
            field: field.to_string(),
            value,
            detail: detail.to_string(),
        }
    }

    /// `field.Required(path, detail)`.
    pub fn required(field: &str, detail: &str) -> Self {
        Self::new(FieldErrorType::Required, field, None, detail)
    }

    /// `field.Invalid(path, value, detail)`.
    pub fn invalid(field: &str, value: Value, detail: &str) -> Self {
        Self::new(FieldErrorType::Invalid, field, Some(value), detail)
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        Self::new(FieldErrorType::Forbidden, field, None, detail)
    }

    /// `field.NotSupported(path, value, valid)`: the list renders quoted.
    pub fn not_supported(field: &str, value: Value, valid: &[String]) -> Self {
        let quoted: Vec<String> = valid.iter().map(|v| format!("{v:?}")).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(FieldErrorType::NotSupported, field, Some(value), &detail)
    }

    /// `field.Duplicate(path, value)`.
    pub fn duplicate(field: &str, value: Value) -> Self {
        Self::new(FieldErrorType::Duplicate, field, Some(value), "")
    }

    /// `field.TooLong(path, value, max)`.
    pub fn too_long(field: &str, value: Value, max: i64) -> Self {
        let unit = if max == 1 { "byte" } else { "bytes" };
        Self::new(
            FieldErrorType::TooLong,
            field,
            Some(value),
            &format!("may not be more than {max} {unit}"),
        )
    }

    /// `field.TooMany(path, actual, max)`.
    pub fn too_many(field: &str, actual: i64, max: i64) -> Self {
        // Unlike TooLong, Go never singularises "items" here.
        Self::new(
            FieldErrorType::TooMany,
            field,
            Some(json!(actual)),
            &format!("must have at most {max} items"),
        )
    }

    /// `ErrorBody()`: everything after `<field>: `.
    pub fn body(&self) -> String {
        let mut s = match (self.type_, &self.value) {
            (
                FieldErrorType::Required
                | FieldErrorType::Forbidden
                | FieldErrorType::TooLong
                | FieldErrorType::Internal,
                _,
            )
            | (_, None) => self.type_.label().to_string(),
            (t, Some(v)) => format!("{}: {}", t.label(), go_value(v)),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// The `StatusCause` object.
    pub fn cause(&self) -> Value {
        json!({"reason": self.type_.cause_reason(), "message": self.body(), "field": self.field})
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go prints "<field>: <body>" even for an empty field.
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// How Go's `%v`/`%q`/`%#v` print a decoded JSON value inside `ErrorBody`.
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "\"null\"".to_string(),
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_sharp).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Value::Object(map) => {
            // fmt prints map keys sorted.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", go_quote(k), go_sharp(&map[k])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

/// `%#v` of an element nested in a map or slice.
fn go_sharp(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Number(n) if n.is_f64() => format!("{}", n.as_f64().unwrap_or(0.0)),
        other => go_value(other),
    }
}

fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // Go's %v uses %g: exponent form from 1e21 up.
    if f.abs() >= 1e21 {
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e:0>2}"),
            Some((m, e)) => format!("{m}e-{:0>2}", &e[1..]),
            None => s,
        }
    } else {
        f.to_string()
    }
}

/// Go's `%q` for the common (printable) case.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `utilerrors.NewAggregate(..).Error()`: one message alone, several in
/// brackets; duplicates collapse.
pub fn aggregate(errors: &[FieldError]) -> String {
    let mut msgs: Vec<String> = Vec::new();
    for e in errors {
        let m = e.to_string();
        if !msgs.contains(&m) {
            msgs.push(m);
        }
    }
    if msgs.len() == 1 {
        msgs.remove(0)
    } else {
        format!("[{}]", msgs.join(", "))
    }
}

/// The 422 `Status` of `errors.NewInvalid(GroupKind{group, kind}, name, errs)`
/// (docs/kubernetes-api.md §2.2: `details.kind` is the Kind here).
pub fn invalid_status(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Value {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let message = if errors.is_empty() {
        format!("{qualified} {} is invalid", go_quote(name))
    } else {
        format!(
            "{qualified} {} is invalid: {}",
            go_quote(name),
            aggregate(errors)
        )
    };
    let mut details = serde_json::Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        details.insert("kind".into(), json!(kind));
    }
    if !errors.is_empty() {
        details.insert(
            "causes".into(),
            Value::Array(errors.iter().map(FieldError::cause).collect()),
        );
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Invalid",
        "details": details,
        "code": 422,
    })
}
