//! Custom resource schemas: CRD validation, and the prune / default / validate
//! pipeline of a CR (docs/kubernetes-api.md §2.12), plus `fieldValidation` and
//! 422 `Status` helpers. I/O free; the server calls these in the order of
//! docs/kubernetes-api.md §2.12.
//!
//! Known gaps vs kube-apiserver (see the crate README "Limitations"): CEL rules
//! are parsed but not type-checked and have no cost budget (kube-cel);
//! ratcheting correlates by object key and list index only; some
//! CRD-validation messages that print Go structs are approximated.

mod cr;
mod crd;
mod field_error;
mod junctors;
mod scalars;
mod structural;
mod validate;

pub use cr::{CrSchema, OBJECT_META_FIELDS};
pub use crd::validate_crd;
pub use field_error::{FieldError, FieldErrorType, aggregate, go_quote, go_value, invalid_status};

use serde_json::{Value, json};

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parse the query value; empty means the server default, `Warn`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "" | "Warn" => Some(Self::Warn),
            "Ignore" => Some(Self::Ignore),
            "Strict" => Some(Self::Strict),
            _ => None,
        }
    }
}

/// What to do with the unknown field paths [`CrSchema::prune`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownFields {
    /// Nothing to report.
    Ok,
    /// `Warning:` header values (`unknown field "spec.foo"`), one per field.
    Warn(Vec<String>),
    /// 400 BadRequest with this message.
    Reject(String),
}

/// Apply a `fieldValidation` mode to the unknown fields found while pruning.
pub fn check_unknown_fields(mode: FieldValidation, unknown: &[String]) -> UnknownFields {
    if unknown.is_empty() || mode == FieldValidation::Ignore {
        return UnknownFields::Ok;
    }
    let each: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field {}", go_quote(p)))
        .collect();
    match mode {
        FieldValidation::Strict => {
            UnknownFields::Reject(format!("strict decoding error: {}", each.join(", ")))
        }
        _ => UnknownFields::Warn(each),
    }
}

/// A 400 `Status` (`errors.NewBadRequest`), e.g. for a strict decoding error.
pub fn bad_request_status(message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "BadRequest",
        "code": 400,
    })
}

/// Why [`process_cr`] refused an object.
#[derive(Debug, Clone, PartialEq)]
pub enum CrError {
    /// 400 BadRequest (a `fieldValidation=Strict` unknown field).
    BadRequest(String),
    /// 422 Invalid; render with [`invalid_status`].
    Invalid(Vec<FieldError>),
}

/// The request-time CR pipeline of docs/kubernetes-api.md §2.12 in order:
/// prune (unknown fields per `fieldValidation`, the query value as sent),
/// drop non-nullable nulls and default, then validate against `old` (which is
/// defaulted first, as reads from storage are) for ratcheting and transition
/// rules. Returns the `Warning:` header values.
pub fn process_cr(
    schema: &CrSchema,
    obj: &mut Value,
    old: Option<&Value>,
    field_validation: &str,
) -> Result<Vec<String>, CrError> {
    let mode = FieldValidation::parse(field_validation).unwrap_or(FieldValidation::Warn);
    let unknown = schema.prune(obj);
    let warnings = match check_unknown_fields(mode, &unknown) {
        UnknownFields::Ok => Vec::new(),
        UnknownFields::Warn(w) => w,
        UnknownFields::Reject(msg) => return Err(CrError::BadRequest(msg)),
    };
    schema.default(obj);
    let old = old.map(|o| {
        let mut o = o.clone();
        schema.default(&mut o);
        o
    });
    let errs = schema.validate(obj, old.as_ref());
    if errs.is_empty() {
        Ok(warnings)
    } else {
        Err(CrError::Invalid(errs))
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "operator_crds_tests.rs"]
mod operator_crds_tests;
