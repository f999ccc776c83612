//! Request validation with FastAPI's answers: `422 {"detail": [...]}` where every entry has
//! pydantic v2's shape — `type`, `loc`, `msg`, `input` and, for constrained types, `ctx` —
//! as FastAPI renders them (without pydantic's `url`). Like FastAPI, every field error of a
//! body is reported at once, and `input` echoes what was sent (a too-short password
//! included: FastAPI does that too, which is why the operator's client never repeats it).

use serde_json::{Map, Value, json};

use crate::model::Role;

/// One entry of `HTTPValidationError.detail`.
pub fn error(kind: &str, loc: &[Value], msg: &str, input: &Value, ctx: Option<Value>) -> Value {
    let mut e = json!({"type": kind, "loc": loc, "msg": msg, "input": input});
    if let Some(ctx) = ctx {
        e["ctx"] = ctx;
    }
    e
}

fn body_loc(field: &str) -> Vec<Value> {
    vec![json!("body"), json!(field)]
}

/// The body as JSON, or FastAPI's `json_invalid` / `model_attributes_type` error.
pub fn json_object(raw: &[u8]) -> Result<Map<String, Value>, Vec<Value>> {
    let v: Value = match serde_json::from_slice(raw) {
        Ok(v) => v,
        Err(e) => {
            let pos = e.column().saturating_sub(1);
            return Err(vec![error(
                "json_invalid",
                &[json!("body"), json!(pos)],
                "JSON decode error",
                &json!({}),
                Some(json!({"error": "Expecting value"})),
            )]);
        }
    };
    match v {
        Value::Object(m) => Ok(m),
        other => Err(vec![error(
            "model_attributes_type",
            &[json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
            &other,
            None,
        )]),
    }
}

/// A `str` field with `min_length`/`max_length`.
pub fn string(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    min: usize,
    max: Option<usize>,
    errors: &mut Vec<Value>,
) -> Option<String> {
    let input = match body.get(field) {
        None if required => {
            errors.push(error(
                "missing",
                &body_loc(field),
                "Field required",
                &Value::Object(body.clone()),
                None,
            ));
            return None;
        }
        None | Some(Value::Null) if !required => return None,
        None => return None,
        Some(v) => v,
    };
    let Some(s) = input.as_str() else {
        errors.push(error(
            "string_type",
            &body_loc(field),
            "Input should be a valid string",
            input,
            None,
        ));
        return None;
    };
    let len = s.chars().count();
    if len < min {
        let plural = if min == 1 { "character" } else { "characters" };
        errors.push(error(
            "string_too_short",
            &body_loc(field),
            &format!("String should have at least {min} {plural}"),
            input,
            Some(json!({"min_length": min})),
        ));
        return None;
    }
    if let Some(max) = max
        && len > max
    {
        errors.push(error(
            "string_too_long",
            &body_loc(field),
            &format!("String should have at most {max} characters"),
            input,
            Some(json!({"max_length": max})),
        ));
        return None;
    }
    Some(s.to_string())
}

/// An `EmailStr` field (email-validator's reasons, wrapped by pydantic in `value_error`).
pub fn email(body: &Map<String, Value>, field: &str, errors: &mut Vec<Value>) -> Option<String> {
    let s = string(body, field, false, 0, None, errors)?;
    let reason = match s.split_once('@') {
        None => Some("An email address must have an @-sign."),
        Some(("", _)) => Some("There must be something before the @-sign."),
        Some((_, d)) if d.contains('@') => {
            Some("The part after the @-sign contains invalid characters: '@'.")
        }
        Some((_, d)) if !d.contains('.') || d.ends_with('.') || d.starts_with('.') => {
            Some("The part after the @-sign is not valid. It should have a period.")
        }
        Some(_) if s.chars().any(char::is_whitespace) => {
            Some("The email address contains invalid characters: ' '.")
        }
        Some(_) => None,
    };
    match reason {
        Some(r) => {
            errors.push(error(
                "value_error",
                &body_loc(field),
                &format!("value is not a valid email address: {r}"),
                &json!(s),
                Some(json!({"reason": r})),
            ));
            None
        }
        None => Some(s),
    }
}

/// The `Role` enum field.
pub fn role(body: &Map<String, Value>, errors: &mut Vec<Value>) -> Option<Role> {
    let input = body.get("role").filter(|v| !v.is_null())?;
    match input.as_str().and_then(Role::parse) {
        Some(r) => Some(r),
        None => {
            let expected = "'admin', 'editor' or 'viewer'";
            errors.push(error(
                "enum",
                &body_loc("role"),
                &format!("Input should be {expected}"),
                input,
                Some(json!({"expected": expected})),
            ));
            None
        }
    }
}

/// A `bool` field (pydantic's lax mode takes a few strings and 0/1 too).
pub fn boolean(body: &Map<String, Value>, field: &str, errors: &mut Vec<Value>) -> Option<bool> {
    let input = body.get(field).filter(|v| !v.is_null())?;
    let parsed = match input {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
            _ => None,
        },
        _ => None,
    };
    if parsed.is_none() {
        let (kind, msg) = if input.is_string() || input.is_number() {
            (
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            )
        } else {
            ("bool_type", "Input should be a valid boolean")
        };
        errors.push(error(kind, &body_loc(field), msg, input, None));
    }
    parsed
}

/// A `user_id: UUID` path parameter.
pub fn uuid(raw: &str) -> Result<uuid::Uuid, Vec<Value>> {
    uuid::Uuid::parse_str(raw).map_err(|e| {
        vec![error(
            "uuid_parsing",
            &[json!("path"), json!("user_id")],
            &format!("Input should be a valid UUID, {e}"),
            &json!(raw),
            Some(json!({"error": e.to_string()})),
        )]
    })
}

/// An `int` query parameter with `ge`/`le` bounds (`skip`, `limit`).
pub fn query_int(
    raw: Option<&str>,
    name: &str,
    default: i64,
    ge: i64,
    le: Option<i64>,
    errors: &mut Vec<Value>,
) -> i64 {
    let Some(raw) = raw else { return default };
    let loc = [json!("query"), json!(name)];
    let Ok(n) = raw.parse::<i64>() else {
        errors.push(error(
            "int_parsing",
            &loc,
            "Input should be a valid integer, unable to parse string as an integer",
            &json!(raw),
            None,
        ));
        return default;
    };
    if n < ge {
        errors.push(error(
            "greater_than_equal",
            &loc,
            &format!("Input should be greater than or equal to {ge}"),
            &json!(raw),
            Some(json!({"ge": ge})),
        ));
    } else if let Some(le) = le
        && n > le
    {
        errors.push(error(
            "less_than_equal",
            &loc,
            &format!("Input should be less than or equal to {le}"),
            &json!(raw),
            Some(json!({"le": le})),
        ));
    }
    n
}
